/* test_el_waits — the table of control requests waiting for a head
 * (daemon/el_waits.h): answered once reached or due, the rest kept with the
 * earliest deadline, a full table refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "el_error.h"
#include "el_waits.h"

typedef struct {
    uint64_t head[3];           /* head seq of origins 0..2 (origin[0] names it) */
    int fail;                   /* head() of origin 2 fails with this */
    size_t heads;               /* head() calls */
    unsigned tokens[EL_WAITS_MAX + 1];
    int rcs[EL_WAITS_MAX + 1];
    uint64_t seqs[EL_WAITS_MAX + 1];
    bool reached[EL_WAITS_MAX + 1];
    size_t n;
} world_t;

static int
s_head (void *arg, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret_seq)
{
    world_t *w = arg;
    w->heads++;
    if (origin[0] == 2 && w->fail)
        return w->fail;
    *ret_seq = w->head[origin[0]];
    return 0;
}

static void
s_answer (void *arg, unsigned token, int rc, uint64_t head_seq, bool reached)
{
    world_t *w = arg;
    w->tokens[w->n] = token;
    w->rcs[w->n] = rc;
    w->seqs[w->n] = head_seq;
    w->reached[w->n++] = reached;
}

static void
s_origin (uint8_t o[EL_KEY_BYTES], uint8_t which)
{
    memset (o, 0, EL_KEY_BYTES);
    o[0] = which;
}

static void
test_reached_due_failed (void **state)
{
    (void) state;
    el_waits_t ws = { 0 };
    world_t w = { .head = { 5, 0, 0 } };
    uint64_t stamp = 0;
    uint8_t o0[EL_KEY_BYTES], o1[EL_KEY_BYTES], o2[EL_KEY_BYTES];
    s_origin (o0, 0);
    s_origin (o1, 1);
    s_origin (o2, 2);
    assert_int_equal (el_waits_add (&ws, 10, o0, 7, 1000), 0);   /* not yet: head 5 */
    assert_int_equal (el_waits_add (&ws, 11, o1, 1, 500), 0);    /* due at 500 */
    assert_int_equal (el_waits_add (&ws, 12, o0, 6, 2000), 0);

    int64_t next = 1000000;
    assert_int_equal (el_waits_run (&ws, 100, ++stamp, &next, s_head, s_answer, &w), 0);
    assert_int_equal (next, 500);                       /* the earliest deadline */
    assert_int_equal (ws.n, 3);

    /* nothing committed since, nothing due: no head is looked at */
    size_t heads = w.heads;
    next = 1000000;
    assert_int_equal (el_waits_run (&ws, 150, stamp, &next, s_head, s_answer, &w), 0);
    assert_int_equal (w.heads, heads);
    assert_int_equal (next, 500);

    w.head[0] = 6;                                      /* reaches token 12 only */
    next = 1000000;
    assert_int_equal (el_waits_run (&ws, 200, ++stamp, &next, s_head, s_answer, &w), 1);
    assert_int_equal (w.tokens[0], 12);
    assert_int_equal (w.rcs[0], 0);
    assert_int_equal (w.seqs[0], 6);
    assert_true (w.reached[0]);
    assert_int_equal (next, 500);

    next = 1000000;                   /* token 11 is due, though nothing was committed */
    assert_int_equal (el_waits_run (&ws, 500, stamp, &next, s_head, s_answer, &w), 1);
    assert_int_equal (w.tokens[1], 11);
    assert_int_equal (w.rcs[1], 0);
    assert_int_equal (w.seqs[1], 0);
    assert_false (w.reached[1]);
    assert_int_equal (next, 1000);

    /* a failing head answers with its error */
    w.fail = EL_ESTORE;
    assert_int_equal (el_waits_add (&ws, 13, o2, 1, 9000), 0);
    next = 1000000;
    assert_int_equal (el_waits_run (&ws, 600, ++stamp, &next, s_head, s_answer, &w), 1);
    assert_int_equal (w.tokens[2], 13);
    assert_int_equal (w.rcs[2], EL_ESTORE);
    assert_int_equal (ws.n, 1);
    assert_int_equal (next, 1000);
}

static void
test_full_table_refused (void **state)
{
    (void) state;
    el_waits_t ws = { 0 };
    world_t w = { 0 };
    uint64_t stamp = 0;
    uint8_t o[EL_KEY_BYTES];
    s_origin (o, 1);
    for (unsigned i = 0; i < EL_WAITS_MAX; i++)
        assert_int_equal (el_waits_add (&ws, i, o, 1, 100), 0);
    assert_int_equal (el_waits_add (&ws, 99, o, 1, 100), -EBUSY);
    int64_t next = 1000;
    assert_int_equal (el_waits_run (&ws, 100, ++stamp, &next, s_head, s_answer, &w), EL_WAITS_MAX);
    assert_int_equal (ws.n, 0);
    assert_int_equal (next, 1000);                      /* nothing left to wake for */
    assert_int_equal (el_waits_add (&ws, 99, o, 1, 100), 0);
}

/* A daemon that stops answers every wait with the code it is given. */
static void
test_cancel_answers_all (void **state)
{
    (void) state;
    el_waits_t ws = { 0 };
    world_t w = { 0 };
    uint8_t o[EL_KEY_BYTES];
    s_origin (o, 1);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal (el_waits_add (&ws, 20 + i, o, 5, 1000), 0);
    el_waits_cancel (&ws, -ECANCELED, s_answer, &w);
    assert_int_equal (ws.n, 0);
    assert_int_equal (w.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal (w.rcs[i], -ECANCELED);
        assert_false (w.reached[i]);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reached_due_failed),
        cmocka_unit_test (test_full_table_refused),
        cmocka_unit_test (test_cancel_answers_all),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
