/* test_el_wire.c — core/el_wire.h against protobuf-c: every peek reads what
 * protobuf-c packed (Msg.entries, Hello.sender, Hello.heads, Entry body
 * fields), and refuses what protobuf-c would refuse (truncated, unterminated
 * varint, length past the end), leaving unusual forms to protobuf-c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "el_wire.h"

/* A Msg with a Hello from @p sender holding @p n_heads heads. */
static uint8_t *
s_hello (const uint8_t sender[EL_KEY_BYTES], size_t n_heads, size_t *ret_len)
{
    El__Hello h = EL__HELLO__INIT;
    h.version = EL_PROTOCOL_VERSION;
    h.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) sender };
    h.network = h.sender;
    El__Head *heads = calloc (n_heads ? n_heads : 1, sizeof *heads);
    El__Head **hp = calloc (n_heads ? n_heads : 1, sizeof *hp);
    uint8_t origin[EL_KEY_BYTES] = { 7 };
    for (size_t i = 0; i < n_heads; i++) {
        el__head__init (&heads[i]);
        heads[i].origin = (ProtobufCBinaryData) { EL_KEY_BYTES, origin };
        heads[i].seq = i + 1;
        hp[i] = &heads[i];
    }
    h.heads = hp;
    h.n_heads = n_heads;
    h.credit = 64;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    *ret_len = el__msg__get_packed_size (&m);
    uint8_t *buf = malloc (*ret_len);
    el__msg__pack (&m, buf);
    free (heads);
    free (hp);
    return buf;
}

static void
test_hello (void **state)
{
    (void) state;
    uint8_t sender[EL_KEY_BYTES], got[EL_KEY_BYTES];
    randombytes_buf (sender, sizeof sender);
    size_t len;
    uint8_t *buf = s_hello (sender, 3, &len);
    assert_true (el_wire_is_hello (buf, len));
    assert_int_equal (el_wire_hello_sender (buf, len, got), 0);
    assert_memory_equal (got, sender, EL_KEY_BYTES);
    /* the heads, counted without unpacking, and the stop */
    const uint8_t *hello = NULL;
    size_t hello_len = 0;
    assert_true (el_wire_fields (buf, buf + len, EL_WIRE_MSG_HELLO, &hello, &hello_len, 0, NULL));
    assert_int_equal (el_wire_count (hello, hello + hello_len, EL_WIRE_HELLO_HEADS, 100), 3);
    assert_int_equal (el_wire_count (hello, hello + hello_len, EL_WIRE_HELLO_HEADS, 2), 2);
    /* every cut is refused: the Msg's length prefix covers the whole Hello */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *c = malloc (cut ? cut : 1);
        memcpy (c, buf, cut);
        assert_int_equal (el_wire_hello_sender (c, cut, got), EL_EPROTO);
        free (c);
    }
    free (buf);
    /* not a hello */
    const uint8_t credit[] = { EL_WIRE_TAG (EL_WIRE_MSG_CREDIT, EL_WIRE_LEN), 2, 0x08, 5 };
    assert_false (el_wire_is_hello (credit, sizeof credit));
    assert_int_equal (el_wire_hello_sender (credit, sizeof credit, got), EL_EPROTO);
    /* a hello without a sender */
    const uint8_t empty_hello[] = { EL_WIRE_TAG (EL_WIRE_MSG_HELLO, EL_WIRE_LEN), 2, 0x08, 1 };
    assert_int_equal (el_wire_hello_sender (empty_hello, sizeof empty_hello, got), EL_EPROTO);
}

static void
test_entries_and_entry (void **state)
{
    (void) state;
    el_keypair_t *kp = NULL;
    assert_int_equal (el_keypair_generate (&kp), 0);
    uint8_t *data[3];
    size_t dlen[3];
    for (int i = 0; i < 3; i++) {
        el_entry_fields_t f = { .seq = (uint64_t) i + 1, .time_us = 1, .kind = EL__KIND__EVENT,
                                .key = "ev", .deleted = true };
        memcpy (f.network, kp->pk, EL_KEY_BYTES);
        assert_int_equal (el_entry_build (kp, &f, &data[i], &dlen[i], NULL), 0);
        const uint8_t *origin = NULL;
        uint64_t seq = 0;
        assert_true (el_wire_entry_peek (data[i], dlen[i], &origin, &seq));
        assert_memory_equal (origin, kp->pk, EL_KEY_BYTES);
        assert_int_equal (seq, i + 1);
        El__Kind kind = 0;
        bool stub = true;
        assert_int_equal (el_wire_entry_kind (data[i], dlen[i], &kind, &stub), 0);
        assert_int_equal (kind, EL__KIND__EVENT);
        assert_false (stub);
        assert_false (el_wire_entry_peek (data[i], dlen[i] / 2, &origin, &seq));
    }
    El__Entries es = EL__ENTRIES__INIT;
    ProtobufCBinaryData bins[3];
    for (int i = 0; i < 3; i++)
        bins[i] = (ProtobufCBinaryData) { dlen[i], data[i] };
    es.entries = bins;
    es.n_entries = 3;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    size_t len = el__msg__get_packed_size (&m);
    uint8_t *buf = malloc (len);
    el__msg__pack (&m, buf);
    const uint8_t *ptrs[8];
    size_t lens[8];
    assert_int_equal (el_wire_entries_peek (buf, len, 8, ptrs, lens), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (lens[i], dlen[i]);
        assert_memory_equal (ptrs[i], data[i], dlen[i]);
    }
    assert_int_equal (el_wire_entries_peek (buf, len, 2, NULL, NULL), 0);   /* over max */
    assert_int_equal (el_wire_entries_peek (buf, len - 1, 8, NULL, NULL), 0); /* truncated */
    /* a length prefix declaring 2^32: refused */
    const uint8_t huge[] = { EL_WIRE_TAG (EL_WIRE_MSG_ENTRIES, EL_WIRE_LEN), 0x80, 0x80, 0x80,
                             0x80, 0x10, 0x0a };
    assert_int_equal (el_wire_entries_peek (huge, sizeof huge, 8, NULL, NULL), 0);
    /* an unterminated varint */
    const uint8_t unterminated[] = { 0x08, 0xff, 0xff, 0xff };
    uint64_t v = 0;
    const uint8_t *p = unterminated + 1;
    assert_false (el_wire_varint (&p, unterminated + sizeof unterminated, &v));
    assert_false (el_wire_fields (unterminated, unterminated + sizeof unterminated, 0, NULL, NULL,
                                  1, &v));
    free (buf);
    for (int i = 0; i < 3; i++)
        free (data[i]);
    el_keypair_destroy (&kp);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hello),
        cmocka_unit_test (test_entries_and_entry),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
