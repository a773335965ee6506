/* test_el_signer.c — the signing actor (daemon/el_signer.h): jobs come back
 * in order, signed by the key given, each continuing the chain of the one
 * before (seqs and prev links, checked by parsing and verifying every
 * entry); a reset job starts from the tip it carries; a job that cannot be
 * signed comes back with its error and leaves the chain where it was; jobs
 * still out when the signer stops are freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "el_signer.h"

typedef struct {
    void *ctx;
    el_keypair_t *kp;
    el_signer_t *signer;
    uint8_t network[EL_KEY_BYTES];
} fix_t;

static int
setup (void **state)
{
    fix_t *f = calloc (1, sizeof *f);
    f->ctx = zmq_ctx_new ();
    uint8_t seed[32];
    memset (seed, 0x5a, sizeof seed);
    assert_int_equal (el_keypair_from_seed (seed, &f->kp), 0);
    memset (f->network, 0x11, sizeof f->network);
    assert_int_equal (el_signer_new (f->ctx, f->kp, &f->signer), 0);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fix_t *f = *state;
    el_signer_destroy (&f->signer);
    el_signer_destroy (&f->signer);     /* harmless twice */
    el_keypair_destroy (&f->kp);
    zmq_ctx_term (f->ctx);
    free (f);
    return 0;
}

/* A job of @p n event records named k<first>.. */
static el_sign_job_t *
s_job (const fix_t *f, size_t n, unsigned first, const char *bad_key)
{
    el_record_t recs[8];
    char keys[8][16];
    static const uint8_t payload[] = { 0x0a, 0x03, 'u', 'i', 'd' };    /* Event.uid */
    for (size_t i = 0; i < n; i++) {
        snprintf (keys[i], sizeof keys[i], "k%u", first + (unsigned) i);
        recs[i] = (el_record_t) { .kind = EL__KIND__EVENT, .key = keys[i], .payload = payload,
                                  .payload_len = sizeof payload };
    }
    if (bad_key)
        recs[n - 1].key = bad_key;
    el_sign_job_t *job = el_sign_job_new (recs, n);
    assert_non_null (job);
    memcpy (job->network, f->network, EL_KEY_BYTES);
    job->time_us = 1767225600000000LL;
    return job;
}

/* Check @p job's entries: signed by @p f's key, seqs from @p first, each
 * linking to @p prev (updated to the last one's hash). */
static void
s_check_chain (const fix_t *f, const el_sign_job_t *job, uint64_t first,
               uint8_t prev[EL_HASH_BYTES])
{
    assert_int_equal (job->rc, 0);
    assert_int_equal (job->first_seq, first);
    for (size_t i = 0; i < job->n; i++) {
        el_entry_t *e = NULL;
        assert_int_equal (el_entry_parse (job->data[i], job->lens[i], &e), 0);
        assert_int_equal (el_entry_verify (e), 0);
        assert_memory_equal (e->origin, f->kp->pk, EL_KEY_BYTES);
        assert_memory_equal (e->network, f->network, EL_KEY_BYTES);
        assert_int_equal (e->seq, first + i);
        assert_memory_equal (e->prev, prev, EL_HASH_BYTES);
        memcpy (prev, e->hash, EL_HASH_BYTES);
        el_entry_destroy (&e);
    }
}

static void
test_jobs_chain_in_order (void **state)
{
    fix_t *f = *state;
    el_sign_job_t *a = s_job (f, 3, 1, NULL), *b = s_job (f, 2, 4, NULL);
    a->reset = true;            /* from an empty log: seq 0, zero hash */
    a->token = 7;
    b->token = 8;
    assert_int_equal (el_signer_submit (f->signer, a), 0);
    assert_int_equal (el_signer_submit (f->signer, b), 0);
    assert_int_equal (el_signer_out (f->signer), 2);
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    el_sign_job_t *got = el_signer_take (f->signer, true);
    assert_ptr_equal (got, a);
    assert_int_equal (got->token, 7);
    s_check_chain (f, got, 1, prev);
    got = el_signer_take (f->signer, true);
    assert_ptr_equal (got, b);
    s_check_chain (f, got, 4, prev);        /* continues a */
    assert_int_equal (el_signer_out (f->signer), 0);
    assert_null (el_signer_take (f->signer, false));
    el_sign_job_destroy (&a);
    el_sign_job_destroy (&b);

    /* a reset job starts from the tip it carries, whatever came before */
    el_sign_job_t *c = s_job (f, 1, 9, NULL);
    c->reset = true;
    c->seq = 41;
    memset (c->hash, 0x77, sizeof c->hash);
    assert_int_equal (el_signer_submit (f->signer, c), 0);
    got = el_signer_take (f->signer, true);
    memset (prev, 0x77, sizeof prev);
    s_check_chain (f, got, 42, prev);
    el_sign_job_destroy (&got);
}

static void
test_failed_job_keeps_the_tip (void **state)
{
    fix_t *f = *state;
    el_sign_job_t *a = s_job (f, 2, 1, NULL);
    a->reset = true;
    assert_int_equal (el_signer_submit (f->signer, a), 0);
    a = el_signer_take (f->signer, true);
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    s_check_chain (f, a, 1, prev);
    /* a record key with a control character cannot be signed */
    el_sign_job_t *bad = s_job (f, 2, 3, "bad\nkey");
    assert_int_equal (el_signer_submit (f->signer, bad), 0);
    bad = el_signer_take (f->signer, true);
    assert_int_equal (bad->rc, EL_EINVAL);
    el_sign_job_t *c = s_job (f, 1, 5, NULL);
    assert_int_equal (el_signer_submit (f->signer, c), 0);
    c = el_signer_take (f->signer, true);
    s_check_chain (f, c, 3, prev);          /* right after a: bad left no trace */
    el_sign_job_destroy (&a);
    el_sign_job_destroy (&bad);
    el_sign_job_destroy (&c);
}

static void
test_stop_with_jobs_out (void **state)
{
    fix_t *f = *state;
    for (unsigned i = 0; i < 5; i++) {
        el_sign_job_t *j = s_job (f, 8, 1 + 8 * i, NULL);
        j->reset = i == 0;
        assert_int_equal (el_signer_submit (f->signer, j), 0);
    }
    assert_int_equal (el_signer_out (f->signer), 5);
    el_signer_destroy (&f->signer);         /* frees them (checked by the sanitizers) */
    assert_null (f->signer);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_jobs_chain_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown (test_failed_job_keeps_the_tip, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stop_with_jobs_out, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
