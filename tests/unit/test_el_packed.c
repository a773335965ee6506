/* test_el_packed.c — core/el_packed.h: the stored form of an entry gives back
 * the exact Entry bytes (full entries, tombstones, stubs, unknown and
 * repeated fields), cuts the three known values only when it may, and
 * refuses damaged packed bytes without reading or writing out of bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "el_packed.h"

typedef struct {
    el_keypair_t *kp;
    uint8_t network[EL_KEY_BYTES];
    uint8_t *raw;
    size_t len;
    el_entry_t *e;
} fix_t;

static int
setup (void **state)
{
    fix_t *f = calloc (1, sizeof *f);
    uint8_t seed[32];
    memset (seed, 0x42, sizeof seed);
    assert_int_equal (el_keypair_from_seed (seed, &f->kp), 0);
    memset (f->network, 0x17, sizeof f->network);
    uint8_t payload[512];
    memset (payload, 'p', sizeof payload);
    el_entry_fields_t fl = { .seq = 300, .time_us = 1767225600000000LL,
                             .kind = EL__KIND__EVENT, .key = "ev-1",
                             .payload = payload, .payload_len = sizeof payload };
    memset (fl.prev, 0x33, sizeof fl.prev);
    memcpy (fl.network, f->network, EL_KEY_BYTES);
    assert_int_equal (el_entry_build (f->kp, &fl, &f->raw, &f->len, NULL), 0);
    assert_int_equal (el_entry_parse (f->raw, f->len, &f->e), 0);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fix_t *f = *state;
    el_entry_destroy (&f->e);
    free (f->raw);
    el_keypair_destroy (&f->kp);
    free (f);
    return 0;
}

/* Pack @p raw, check the packed size, unpack and compare. */
static void
s_round_trip (const fix_t *f, const uint8_t *raw, size_t len, const uint8_t *network,
              const uint8_t *hash, size_t cut_values)
{
    uint8_t packed[EL_PACKED_MAX], out[EL_ENTRY_MAX];
    size_t plen = 0, olen = 0;
    assert_int_equal (el_packed_encode (raw, len, f->kp->pk, network, hash, packed,
                                        sizeof packed, &plen), 0);
    if (cut_values == 0) {
        assert_int_equal (packed[0], EL_PACKED_RAW);
        assert_int_equal (plen, len + 1);
    } else {
        assert_int_equal (packed[0], EL_PACKED_CUT);
        assert_int_equal (plen, len + EL_PACKED_HEADER - cut_values * EL_KEY_BYTES);
    }
    assert_int_equal (el_packed_decode (packed, plen, f->kp->pk, network, NULL, out, sizeof out,
                                        &olen, NULL), 0);
    assert_int_equal (olen, len);
    assert_memory_equal (out, raw, len);
    /* the payload_hash given back instead of hashed: the same bytes, and
     * where it sits */
    size_t hash_off = 0;
    memset (out, 0, sizeof out);
    assert_int_equal (el_packed_decode (packed, plen, f->kp->pk, network, hash, out, sizeof out,
                                        &olen, &hash_off), 0);
    assert_memory_equal (out, raw, len);
    if (hash_off)
        assert_memory_equal (out + hash_off, hash, EL_HASH_BYTES);
    if (!hash)
        assert_int_equal (hash_off, 0);
}

static void
test_full_entry (void **state)
{
    fix_t *f = *state;
    const uint8_t *hash = f->e->body->payload_hash.data;
    s_round_trip (f, f->raw, f->len, f->network, hash, 3);
    /* a hash not given, or not the body's: kept */
    s_round_trip (f, f->raw, f->len, f->network, NULL, 2);
    uint8_t other[EL_KEY_BYTES] = { 1 };
    s_round_trip (f, f->raw, f->len, f->network, other, 2);
    /* another network than the body's: kept */
    s_round_trip (f, f->raw, f->len, other, hash, 2);
}

static void
test_stub_and_tombstone (void **state)
{
    fix_t *f = *state;
    uint8_t *stub;
    size_t stub_len;
    assert_int_equal (el_entry_stub_pack (f->e, &stub, &stub_len), 0);
    /* a stub has no payload to hash again: its payload_hash stays */
    s_round_trip (f, stub, stub_len, f->network, f->e->body->payload_hash.data, 2);
    free (stub);

    el_entry_fields_t fl = { .seq = 301, .time_us = 1, .kind = EL__KIND__EVENT,
                             .key = "ev-1", .deleted = true };
    memcpy (fl.network, f->network, EL_KEY_BYTES);
    uint8_t *tomb;
    size_t tomb_len;
    assert_int_equal (el_entry_build (f->kp, &fl, &tomb, &tomb_len, NULL), 0);
    s_round_trip (f, tomb, tomb_len, f->network, NULL, 2);
    free (tomb);
}

static void
test_unknown_and_repeated_fields (void **state)
{
    fix_t *f = *state;
    const uint8_t *hash = f->e->body->payload_hash.data;
    uint8_t buf[4096];
    /* an unknown top-level field after the payload: still cut */
    memcpy (buf, f->raw, f->len);
    buf[f->len] = 0x30;         /* field 6, varint */
    buf[f->len + 1] = 0x01;
    s_round_trip (f, buf, f->len + 2, f->network, hash, 3);
    /* the whole entry twice: body and payload repeated, nothing is cut */
    memcpy (buf + f->len, f->raw, f->len);
    s_round_trip (f, buf, 2 * f->len, f->network, hash, 0);
    /* not protobuf at all: kept as it is */
    memset (buf, 0xff, 100);
    s_round_trip (f, buf, 100, f->network, hash, 0);
    s_round_trip (f, buf, 0, f->network, hash, 0);
}

static void
test_damaged_packed (void **state)
{
    fix_t *f = *state;
    uint8_t packed[EL_PACKED_MAX], out[EL_ENTRY_MAX];
    size_t plen, olen;
    assert_int_equal (el_packed_encode (f->raw, f->len, f->kp->pk, f->network,
                                        f->e->body->payload_hash.data, packed, sizeof packed,
                                        &plen), 0);
    /* every truncation: an error or some bytes, never a read past the end */
    for (size_t n = 0; n < plen; n++) {
        uint8_t *copy = malloc (n ? n : 1);
        memcpy (copy, packed, n);
        int rc = el_packed_decode (copy, n, f->kp->pk, f->network, NULL, out, sizeof out,
                                   &olen, NULL);
        assert_true (rc == 0 || rc == EL_ESTORE);
        if (rc == 0)
            assert_true (olen <= sizeof out);
        free (copy);
    }
    /* offsets past the bytes, out of order, or a format we never write */
    uint8_t bad[EL_PACKED_MAX];
    memcpy (bad, packed, plen);
    bad[1] = 0xff;
    assert_int_equal (el_packed_decode (bad, plen, f->kp->pk, f->network, NULL, out, sizeof out,
                                        &olen, NULL), EL_ESTORE);
    memcpy (bad, packed, plen);
    bad[0] = 7;
    assert_int_equal (el_packed_decode (bad, plen, f->kp->pk, f->network, NULL, out, sizeof out,
                                        &olen, NULL), EL_ESTORE);
    memcpy (bad, packed, plen);
    memset (bad + 1, 0, 6);     /* "cut" with nothing cut */
    assert_int_equal (el_packed_decode (bad, plen, f->kp->pk, f->network, NULL, out, sizeof out,
                                        &olen, NULL), EL_ESTORE);
    /* too small an output, on both sides */
    assert_int_equal (el_packed_decode (packed, plen, f->kp->pk, f->network, NULL, out, f->len - 1,
                                        &olen, NULL), EL_ESTORE);
    assert_int_equal (el_packed_encode (f->raw, f->len, f->kp->pk, f->network, NULL, packed,
                                        f->len, &plen), EL_EINVAL);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_full_entry, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stub_and_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unknown_and_repeated_fields, setup, teardown),
        cmocka_unit_test_setup_teardown (test_damaged_packed, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
