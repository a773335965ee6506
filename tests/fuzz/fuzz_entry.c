/* fuzz_entry.c — libFuzzer target for entry decoding (core/el_entry.h):
 * any bytes must parse or be refused without a crash, leak or undefined
 * behaviour. What parses must verify or not, pack to its stub, and the stub
 * must parse again as the same entry (same origin, seq and hash: the chain
 * survives compaction). The same bytes are also read as a key text, a Site
 * record (el_attest_parse) and the sync frame around entries (el.Msg).
 * Any bytes packed for the store (core/el_packed.h) unpack to themselves, and
 * any bytes read as a packed form unpack or are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_attest.h"
#include "el_packed.h"
#include "fuzz_util.h"

/* The store's packed form of @p data round-trips; @p data as a packed form
 * decodes or is refused. */
static void
s_packed (const uint8_t *data, size_t size, const el_entry_t *e)
{
    static uint8_t packed[EL_PACKED_MAX], out[EL_ENTRY_MAX];
    uint8_t zeros[EL_KEY_BYTES] = { 0 };
    const uint8_t *origin = e ? e->origin : zeros, *network = e ? e->network : zeros;
    const uint8_t *hash = e ? el_entry_payload_hash (e) : NULL;
    size_t plen, olen;
    if (size <= EL_ENTRY_MAX) {
        FZ_CHECK (el_packed_encode (data, size, origin, network, hash, packed, sizeof packed,
                                    &plen) == 0);
        FZ_CHECK (el_packed_decode (packed, plen, origin, network, NULL, out, sizeof out, &olen,
                                    NULL) == 0);
        FZ_CHECK (olen == size && memcmp (out, data, size) == 0);
    }
    int rc = el_packed_decode (data, size, origin, network, NULL, out, sizeof out, &olen, NULL);
    FZ_CHECK (rc == 0 || rc == EL_ESTORE);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fz_keys_init ();
    el_entry_t *e = NULL;
    if (el_entry_parse (data, size, &e) == 0) {
        FZ_CHECK (e->seq >= 1 && e->origin && e->prev && e->network && e->body);
        FZ_CHECK (e->body->key && e->body->key[0]
                  && strlen (e->body->key) <= EL_RECORD_KEY_MAX);
        FZ_CHECK (e->payload_len <= EL_PAYLOAD_MAX);
        FZ_CHECK (!e->is_stub || !e->payload);
        int verified = el_entry_verify (e);
        FZ_CHECK (verified == 0 || verified == EL_EBADSIG);
        uint8_t *stub = NULL;
        size_t stub_len = 0;
        FZ_CHECK (el_entry_stub_pack (e, &stub, &stub_len) == 0);
        el_entry_t *s = NULL;
        FZ_CHECK (el_entry_parse (stub, stub_len, &s) == 0);
        FZ_CHECK (s->seq == e->seq && memcmp (s->hash, e->hash, EL_HASH_BYTES) == 0);
        FZ_CHECK (memcmp (s->origin, e->origin, EL_KEY_BYTES) == 0);
        FZ_CHECK (!s->payload && s->is_stub == !e->body->deleted);
        FZ_CHECK (el_entry_verify (s) == el_entry_verify (e));
        uint8_t site[EL_KEY_BYTES];
        El__SiteStatus st;
        (void) el_attest_parse (e, e->network, site, &st);
        (void) el_attest_parse (e, e->origin, site, &st);
        el_entry_destroy (&s);
        free (stub);
        s_packed (data, size, e);
        el_entry_destroy (&e);
    } else
        s_packed (data, size, NULL);
    FZ_CHECK (e == NULL);

    /* the same bytes as a key's text form */
    char text[160];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy (text, data, n);
    text[n] = '\0';
    uint8_t key[EL_KEY_BYTES];
    if (el_key_from_text (text, key) == 0) {
        char back[EL_KEY_TEXT_BYTES];
        el_key_to_text (key, back);
        uint8_t again[EL_KEY_BYTES];
        FZ_CHECK (el_key_from_text (back, again) == 0 && !memcmp (key, again, EL_KEY_BYTES));
    }

    /* and as a sync frame: every entry inside it too */
    El__Msg *msg = size <= EL_FRAME_MAX ? el__msg__unpack (&el_pb_allocator, size, data) : NULL;
    if (msg && msg->m_case == EL__MSG__M_ENTRIES) {
        for (size_t i = 0; i < msg->entries->n_entries && i < 64; i++) {
            el_entry_t *x = NULL;
            if (el_entry_parse (msg->entries->entries[i].data, msg->entries->entries[i].len,
                                &x) == 0) {
                int verified = el_entry_verify (x);
                FZ_CHECK (verified == 0 || verified == EL_EBADSIG);
            }
            el_entry_destroy (&x);
        }
    }
    if (msg)
        el__msg__free_unpacked (msg, &el_pb_allocator);
    return 0;
}
