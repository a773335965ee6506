/* el_wire.c — see el_wire.h. */
#include "el_wire.h"

#include <limits.h>
#include <string.h>

bool
el_wire_varint (const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            return true;
        }
    }
    return false;
}

bool
el_wire_len_prefix (const uint8_t **p, const uint8_t *end, size_t *ret)
{
    uint64_t v = 0;
    for (int i = 0; i < 5 && *p < end; i++) {
        uint8_t b = *(*p)++;
        v |= (uint64_t) (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > INT_MAX || v > (uint64_t) (end - *p))
                return false;
            *ret = (size_t) v;
            return true;
        }
    }
    return false;
}

/* Skip the value of a field of wire type @p type at *@p p; the bytes of a
 * length-delimited one in @p ret_data / @p ret_len, its value in @p ret_v. */
static bool
s_skip (const uint8_t **p, const uint8_t *end, unsigned type, const uint8_t **ret_data,
        uint64_t *ret_v)
{
    switch (type) {
    case EL_WIRE_VARINT:
        return el_wire_varint (p, end, ret_v);
    case EL_WIRE_I64:
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case EL_WIRE_LEN:
        if (!el_wire_varint (p, end, ret_v) || *ret_v > (uint64_t) (end - *p))
            return false;
        *ret_data = *p;
        *p += *ret_v;
        return true;
    case EL_WIRE_I32:
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    default:
        return false;
    }
}

bool
el_wire_next (const uint8_t **p, const uint8_t *end, uint32_t *ret_field, unsigned *ret_type,
              const uint8_t **ret_data, uint64_t *ret_v)
{
    uint64_t tag;
    *ret_data = NULL;
    *ret_v = 0;
    if (!el_wire_varint (p, end, &tag) || tag >> 3 > UINT32_MAX
        || !s_skip (p, end, tag & 7, ret_data, ret_v))
        return false;
    *ret_field = (uint32_t) (tag >> 3);
    *ret_type = tag & 7;
    return true;
}

bool
el_wire_fields (const uint8_t *p, const uint8_t *end, uint32_t want_len,
                const uint8_t **ret_data, size_t *ret_len, uint32_t want_varint,
                uint64_t *ret_varint)
{
    while (p < end) {
        uint64_t tag, v = 0;
        const uint8_t *data = NULL;
        if (!el_wire_varint (&p, end, &tag) || !s_skip (&p, end, tag & 7, &data, &v))
            return false;
        uint64_t field = tag >> 3;
        if ((tag & 7) == EL_WIRE_VARINT && field == want_varint && want_varint && ret_varint)
            *ret_varint = v;
        if ((tag & 7) == EL_WIRE_LEN && field == want_len && want_len && ret_data) {
            *ret_data = data;
            *ret_len = (size_t) v;
        }
    }
    return true;
}

size_t
el_wire_count (const uint8_t *p, const uint8_t *end, uint32_t field, size_t stop_at)
{
    size_t n = 0;
    while (p < end && n < stop_at) {
        uint64_t tag, v = 0;
        const uint8_t *data = NULL;
        if (!el_wire_varint (&p, end, &tag) || !s_skip (&p, end, tag & 7, &data, &v))
            return SIZE_MAX;
        if (tag >> 3 == field)
            n++;
    }
    return n;
}

size_t
el_wire_entries_peek (const uint8_t *frame, size_t len, size_t max, const uint8_t **entries,
                      size_t *lens)
{
    const uint8_t *p = frame, *end = frame + len;
    size_t body_len, n = 0;
    if (len < 2 || *p++ != EL_WIRE_TAG (EL_WIRE_MSG_ENTRIES, EL_WIRE_LEN)
        || !el_wire_len_prefix (&p, end, &body_len) || body_len != (size_t) (end - p))
        return 0;
    while (p < end) {
        size_t elen;
        if (*p++ != EL_WIRE_TAG (EL_WIRE_ENTRIES_ENTRY, EL_WIRE_LEN)
            || !el_wire_len_prefix (&p, end, &elen) || n >= max)
            return 0;
        if (entries) {
            entries[n] = p;
            lens[n] = elen;
        }
        n++;
        p += elen;
    }
    return n;
}

bool
el_wire_entry_peek (const uint8_t *data, size_t len, const uint8_t **ret_origin,
                    uint64_t *ret_seq)
{
    const uint8_t *body = NULL;
    size_t body_len = 0;
    if (!el_wire_fields (data, data + len, EL_WIRE_ENTRY_BODY, &body, &body_len, 0, NULL)
        || !body)
        return false;
    const uint8_t *origin = NULL;
    size_t origin_len = 0;
    uint64_t seq = 0;
    if (!el_wire_fields (body, body + body_len, EL_WIRE_BODY_ORIGIN, &origin, &origin_len,
                         EL_WIRE_BODY_SEQ, &seq))
        return false;
    if (!origin || origin_len != EL_KEY_BYTES || seq == 0)
        return false;
    *ret_origin = origin;
    *ret_seq = seq;
    return true;
}

int
el_wire_entry_network (const uint8_t *data, size_t len, const uint8_t **ret_network)
{
    const uint8_t *body = NULL, *net = NULL;
    size_t body_len = 0, net_len = 0;
    if (!el_wire_fields (data, data + len, EL_WIRE_ENTRY_BODY, &body, &body_len, 0, NULL) || !body
        || !el_wire_fields (body, body + body_len, EL_WIRE_BODY_NETWORK, &net, &net_len, 0, NULL)
        || !net || net_len != EL_KEY_BYTES)
        return EL_EPROTO;
    *ret_network = net;
    return 0;
}

int
el_wire_entry_kind (const uint8_t *data, size_t len, El__Kind *ret_kind, bool *ret_stub)
{
    const uint8_t *body = NULL;
    size_t body_len = 0;
    uint64_t stub = 0, kind = 0;
    if (!el_wire_fields (data, data + len, EL_WIRE_ENTRY_BODY, &body, &body_len,
                         EL_WIRE_ENTRY_STUB, &stub) || !body
        || !el_wire_fields (body, body + body_len, 0, NULL, NULL, EL_WIRE_BODY_KIND, &kind)
        || kind > 255)
        return EL_EPROTO;
    *ret_kind = (El__Kind) kind;
    *ret_stub = stub != 0;
    return 0;
}

bool
el_wire_is_hello (const uint8_t *data, size_t len)
{
    return len > 0 && data[0] == EL_WIRE_TAG (EL_WIRE_MSG_HELLO, EL_WIRE_LEN);
}

int
el_wire_hello_sender (const uint8_t *data, size_t len, uint8_t ret[EL_KEY_BYTES])
{
    const uint8_t *hello = NULL, *sender = NULL;
    size_t hello_len = 0, sender_len = 0;
    if (!el_wire_is_hello (data, len)
        || !el_wire_fields (data, data + len, EL_WIRE_MSG_HELLO, &hello, &hello_len, 0, NULL)
        || !hello
        || !el_wire_fields (hello, hello + hello_len, EL_WIRE_HELLO_SENDER, &sender,
                            &sender_len, 0, NULL)
        || !sender || sender_len != EL_KEY_BYTES)
        return EL_EPROTO;
    memcpy (ret, sender, EL_KEY_BYTES);
    return 0;
}
