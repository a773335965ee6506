/* el_packed.c — see el_packed.h. */
#include "el_packed.h"
#include "el_wire.h"

#include <sodium.h>
#include <string.h>

#define S_CUTS      3
#define S_OFF_MAX   0xFFFFu     /* offsets are 16-bit; 0 = not cut */

enum { S_ORIGIN, S_NETWORK, S_HASH };

typedef struct {
    size_t off;                 /* where the value starts in the full bytes; 0 = kept */
    int what;                   /* S_ORIGIN, S_NETWORK, S_HASH */
} s_cut_t;

/* The one length-delimited field @p field of [@p p, @p end) when it occurs
 * exactly once and holds EL_KEY_BYTES bytes equal to @p want: its value. */
static const uint8_t *
s_single_key (const uint8_t *p, const uint8_t *end, uint32_t field, const uint8_t *want)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    if (!want || el_wire_count (p, end, field, 2) != 1
        || !el_wire_fields (p, end, field, &data, &len, 0, NULL) || !data
        || len != EL_KEY_BYTES || memcmp (data, want, EL_KEY_BYTES) != 0)
        return NULL;
    return data;
}

/* Offsets of the values to cut from @p raw, 0 for those kept. */
static void
s_find_cuts (const uint8_t *raw, size_t len, const uint8_t *origin, const uint8_t *network,
             const uint8_t *payload_hash, size_t off[S_CUTS])
{
    off[S_ORIGIN] = off[S_NETWORK] = off[S_HASH] = 0;
    const uint8_t *end = raw + len, *body = NULL, *payload = NULL;
    size_t body_len = 0, payload_len = 0;
    if (el_wire_count (raw, end, EL_WIRE_ENTRY_BODY, 2) != 1
        || !el_wire_fields (raw, end, EL_WIRE_ENTRY_BODY, &body, &body_len, 0, NULL) || !body)
        return;
    const uint8_t *bend = body + body_len;
    const uint8_t *v[S_CUTS] = {
        s_single_key (body, bend, EL_WIRE_BODY_ORIGIN, origin),
        s_single_key (body, bend, EL_WIRE_BODY_NETWORK, network),
        NULL,
    };
    /* payload_hash: only beside exactly one payload, which the reader hashes */
    if (payload_hash && el_wire_count (raw, end, EL_WIRE_ENTRY_PAYLOAD, 2) == 1
        && el_wire_fields (raw, end, EL_WIRE_ENTRY_PAYLOAD, &payload, &payload_len, 0, NULL)
        && payload)
        v[S_HASH] = s_single_key (body, bend, EL_WIRE_BODY_PAYLOAD_HASH, payload_hash);
    for (int i = 0; i < S_CUTS; i++)
        if (v[i] && (size_t) (v[i] - raw) <= S_OFF_MAX)
            off[i] = (size_t) (v[i] - raw);
}

int
el_packed_encode (const uint8_t *raw, size_t len, const uint8_t origin[EL_KEY_BYTES],
                  const uint8_t network[EL_KEY_BYTES], const uint8_t *payload_hash,
                  uint8_t *out, size_t cap, size_t *ret_len)
{
    if (len > EL_ENTRY_MAX || cap < len + EL_PACKED_HEADER)
        return EL_EINVAL;
    size_t off[S_CUTS];
    s_find_cuts (raw, len, origin, network, payload_hash, off);
    if (!off[S_ORIGIN] && !off[S_NETWORK] && !off[S_HASH]) {
        out[0] = EL_PACKED_RAW;
        memcpy (out + 1, raw, len);
        *ret_len = len + 1;
        return 0;
    }
    out[0] = EL_PACKED_CUT;
    for (int i = 0; i < S_CUTS; i++) {
        out[1 + 2 * i] = (uint8_t) (off[i] >> 8);
        out[2 + 2 * i] = (uint8_t) off[i];
    }
    /* copy the bytes between the cut values, in the order they occur */
    size_t o = EL_PACKED_HEADER, from = 0;
    for (;;) {
        size_t next = len;
        for (int i = 0; i < S_CUTS; i++)
            if (off[i] >= from && off[i] && off[i] < next)
                next = off[i];
        memcpy (out + o, raw + from, next - from);
        o += next - from;
        if (next == len)
            break;
        from = next + EL_KEY_BYTES;
    }
    *ret_len = o;
    return 0;
}

/* Sort the cuts by offset, kept ones (0) last. @return how many are cut. */
static int
s_cuts_sorted (const uint8_t *packed, s_cut_t cuts[S_CUTS])
{
    int n = 0;
    for (int i = 0; i < S_CUTS; i++) {
        size_t off = (size_t) packed[1 + 2 * i] << 8 | packed[2 + 2 * i];
        if (!off)
            continue;
        int j = n++;
        for (; j > 0 && cuts[j - 1].off > off; j--)
            cuts[j] = cuts[j - 1];
        cuts[j] = (s_cut_t) { off, i };
    }
    return n;
}

int
el_packed_decode (const uint8_t *packed, size_t len, const uint8_t origin[EL_KEY_BYTES],
                  const uint8_t network[EL_KEY_BYTES], const uint8_t *payload_hash,
                  uint8_t *out, size_t cap, size_t *ret_len, size_t *ret_hash_off)
{
    if (ret_hash_off)
        *ret_hash_off = 0;
    if (len < 1)
        return EL_ESTORE;
    if (packed[0] == EL_PACKED_RAW) {
        if (len - 1 > cap)
            return EL_ESTORE;
        memcpy (out, packed + 1, len - 1);
        *ret_len = len - 1;
        return 0;
    }
    if (packed[0] != EL_PACKED_CUT || len < EL_PACKED_HEADER)
        return EL_ESTORE;
    s_cut_t cuts[S_CUTS];
    int n = s_cuts_sorted (packed, cuts);
    size_t total = len - EL_PACKED_HEADER + (size_t) n * EL_KEY_BYTES;
    if (n == 0 || total > cap)
        return EL_ESTORE;
    const uint8_t *src = packed + EL_PACKED_HEADER, *src_end = packed + len;
    size_t o = 0, hash_at = 0;
    for (int i = 0; i < n; i++) {
        size_t gap = cuts[i].off - o;
        if (cuts[i].off < o || gap > (size_t) (src_end - src))
            return EL_ESTORE;
        memcpy (out + o, src, gap);
        src += gap;
        o += gap;
        if (cuts[i].what == S_ORIGIN)
            memcpy (out + o, origin, EL_KEY_BYTES);
        else if (cuts[i].what == S_NETWORK)
            memcpy (out + o, network, EL_KEY_BYTES);
        else
            hash_at = o;        /* filled once the payload is in place */
        o += EL_KEY_BYTES;
    }
    memcpy (out + o, src, (size_t) (src_end - src));
    o += (size_t) (src_end - src);
    if (hash_at && payload_hash)
        memcpy (out + hash_at, payload_hash, EL_HASH_BYTES);
    else if (hash_at) {
        const uint8_t *payload = NULL;
        size_t payload_len = 0;
        if (!el_wire_fields (out, out + o, EL_WIRE_ENTRY_PAYLOAD, &payload, &payload_len, 0,
                             NULL) || !payload)
            return EL_ESTORE;
        crypto_generichash (out + hash_at, EL_HASH_BYTES, payload, payload_len, NULL, 0);
    }
    *ret_len = o;
    if (ret_hash_off)
        *ret_hash_off = hash_at;
    return 0;
}
