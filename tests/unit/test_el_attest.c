/* test_el_attest.c — what a network's Site attestation is (core/el_attest.h):
 * which entries are attestations of a network and what they say (parse), the
 * live records of a broker in key order (each), one site's status (status).
 * Entries are built and signed with el_entry_build, records written through
 * the real sync core into a real LMDB store in a temporary folder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "el_admit.h"
#include "el_attest.h"
#include "el_test_support.h"

typedef el_test_network_t fx_t;

EL_TEST_NETWORK_FIXTURE ("el-attest")

/* An entry of @p kp: kind @p kind, record key @p key, payload @p payload. */
static el_entry_t *
s_entry (const el_keypair_t *kp, El__Kind kind, const char *key, bool deleted,
         const uint8_t *payload, size_t len)
{
    el_entry_fields_t f = { .seq = 1, .time_us = 1799762400000000LL, .kind = kind, .key = key,
                            .deleted = deleted, .payload = payload, .payload_len = len };
    memcpy (f.network, kp->pk, EL_KEY_BYTES);
    uint8_t *data = NULL;
    size_t dlen = 0;
    assert_int_equal (el_entry_build (kp, &f, &data, &dlen, NULL), 0);
    el_entry_t *e = NULL;
    assert_int_equal (el_entry_parse (data, dlen, &e), 0);
    free (data);
    return e;
}

/* A packed el.Site for @p site_key with @p status. */
static size_t
s_site (const uint8_t site_key[EL_KEY_BYTES], El__SiteStatus status, uint8_t *buf, size_t cap)
{
    El__Site s = EL__SITE__INIT;
    s.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site_key };
    s.status = status;
    s.name = "Celles";
    size_t len = el__site__get_packed_size (&s);
    assert_true (len <= cap);
    el__site__pack (&s, buf);
    return len;
}

static void
test_parse (void **state)
{
    fx_t *fx = *state;
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (fx->site->pk, key);
    uint8_t buf[256], got[EL_KEY_BYTES];
    El__SiteStatus st = EL__SITE_STATUS__SITE_STATUS_UNSPECIFIED;

    /* the broker's Site record of a site: its key and status */
    size_t len = s_site (fx->site->pk, EL__SITE_STATUS__ACTIVE, buf, sizeof buf);
    el_entry_t *e = s_entry (fx->broker, EL__KIND__SITE, key, false, buf, len);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), 0);
    assert_memory_equal (got, fx->site->pk, EL_KEY_BYTES);
    assert_int_equal (st, EL__SITE_STATUS__ACTIVE);
    /* ... is no attestation of another network */
    assert_int_equal (el_attest_parse (e, fx->other->pk, got, &st), EL_ENOTFOUND);
    el_entry_destroy (&e);

    /* the same record written by a site: not an attestation */
    e = s_entry (fx->other, EL__KIND__SITE, key, false, buf, len);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), EL_ENOTFOUND);
    el_entry_destroy (&e);

    /* another kind: not an attestation */
    e = s_entry (fx->broker, EL__KIND__EVENT, key, false, (const uint8_t *) "", 0);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), EL_ENOTFOUND);
    el_entry_destroy (&e);

    /* a tombstone revokes */
    memset (got, 0, sizeof got);
    e = s_entry (fx->broker, EL__KIND__SITE, key, true, NULL, 0);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), 0);
    assert_memory_equal (got, fx->site->pk, EL_KEY_BYTES);
    assert_int_equal (st, EL__SITE_STATUS__REVOKED);
    el_entry_destroy (&e);

    /* malformed: a record key that is no site key, a payload that does not
     * decode, a payload naming another site than the record key */
    e = s_entry (fx->broker, EL__KIND__SITE, "not-a-key", false, buf, len);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), EL_EPROTO);
    el_entry_destroy (&e);
    const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
    e = s_entry (fx->broker, EL__KIND__SITE, key, false, junk, sizeof junk);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), EL_EPROTO);
    el_entry_destroy (&e);
    len = s_site (fx->other->pk, EL__SITE_STATUS__ACTIVE, buf, sizeof buf);
    e = s_entry (fx->broker, EL__KIND__SITE, key, false, buf, len);
    assert_int_equal (el_attest_parse (e, fx->broker->pk, got, &st), EL_EPROTO);
    el_entry_destroy (&e);
    assert_int_equal (el_attest_parse (NULL, fx->broker->pk, got, &st), EL_ENOTFOUND);
}

typedef struct {
    int n;
    uint8_t sites[4][EL_KEY_BYTES];
    El__SiteStatus status[4];
    char names[4][32];
    int stop_after;
} s_seen_t;

static int
s_each (void *arg, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status, El__SiteKind kind,
        const char *name)
{
    s_seen_t *seen = arg;
    (void) kind;
    assert_true (seen->n < 4);
    memcpy (seen->sites[seen->n], site, EL_KEY_BYTES);
    seen->status[seen->n] = status;
    snprintf (seen->names[seen->n], sizeof seen->names[0], "%s", name);
    seen->n++;
    return seen->n == seen->stop_after;
}

static void
test_each_and_status (void **state)
{
    fx_t *fx = *state;
    El__SiteStatus st;
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->site->pk, &st),
                      EL_ENOTFOUND);
    assert_int_equal (el_admit_write (fx->sync, fx->broker, fx->site->pk, NULL, "Celles",
                                      EL__SITE_KIND__PERIPHERAL, EL__SITE_STATUS__ACTIVE, NULL), 0);
    assert_int_equal (el_admit_write (fx->sync, fx->broker, fx->other->pk, NULL, "Thiers",
                                      EL__SITE_KIND__CENTRAL, EL__SITE_STATUS__ACTIVE, NULL), 0);
    assert_int_equal (el_admit_revoke (fx->sync, fx->store, fx->broker, fx->other->pk, NULL), 0);

    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->site->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__ACTIVE);
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->other->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__REVOKED);
    /* another network's broker attested nothing */
    assert_int_equal (el_attest_status (fx->store, fx->other->pk, fx->site->pk, &st),
                      EL_ENOTFOUND);

    /* both records, in key order (the base64url text of the site key) */
    s_seen_t seen = { 0 };
    assert_int_equal (el_attest_each (fx->store, fx->broker->pk, s_each, &seen), 0);
    assert_int_equal (seen.n, 2);
    char k0[EL_KEY_TEXT_BYTES], k1[EL_KEY_TEXT_BYTES];
    el_key_to_text (seen.sites[0], k0);
    el_key_to_text (seen.sites[1], k1);
    assert_true (strcmp (k0, k1) < 0);
    for (int i = 0; i < 2; i++) {
        bool is_site = !memcmp (seen.sites[i], fx->site->pk, EL_KEY_BYTES);
        assert_int_equal (seen.status[i], is_site ? EL__SITE_STATUS__ACTIVE
                                                  : EL__SITE_STATUS__REVOKED);
        assert_string_equal (seen.names[i], is_site ? "Celles" : "Thiers");
    }
    /* a callback's non-zero result stops the walk */
    s_seen_t one = { .stop_after = 1 };
    assert_int_equal (el_attest_each (fx->store, fx->broker->pk, s_each, &one), 0);
    assert_int_equal (one.n, 1);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_parse, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_each_and_status, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
