/* test_el_node.c — the reactor's pure helpers (daemon/el_node.h).
 *
 * el_node_reknock_ms(): how long a link refused at the handshake waits
 * before it connects again: 1 s for a first refusal, doubling per refusal in
 * a row, never over 60 s, less a jitter of at most a quarter that follows
 * the random value (so sites refused together spread out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "el_node.h"

static void
test_reknock_doubles_to_cap (void **state)
{
    (void) state;
    /* rnd = 0: no jitter, the plain schedule */
    const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal (el_node_reknock_ms (i, 0), want[i]);
    assert_int_equal (el_node_reknock_ms (1000, 0), EL_NODE_REKNOCK_MAX_MS);
    assert_int_equal (el_node_reknock_ms (UINT32_MAX, 0), EL_NODE_REKNOCK_MAX_MS);
}

static void
test_reknock_jitter_bounded (void **state)
{
    (void) state;
    for (unsigned refusals = 0; refusals < 12; refusals++) {
        uint32_t full = el_node_reknock_ms (refusals, 0);
        uint32_t lo = full, hi = 0;
        /* every random value stays within [3/4, 1] of the plain wait */
        for (uint32_t r = 0; r < 5000; r++) {
            uint32_t rnd = r * 2654435761u;
            uint32_t ms = el_node_reknock_ms (refusals, rnd);
            assert_true (ms <= full);
            assert_true (ms >= full - full / 4);
            assert_true (ms <= EL_NODE_REKNOCK_MAX_MS);
            lo = ms < lo ? ms : lo;
            hi = ms > hi ? ms : hi;
        }
        /* and the values do spread over that range */
        assert_true (hi - lo > full / 8);
    }
    /* the first knock comes within a second, never at once */
    assert_true (el_node_reknock_ms (0, UINT32_MAX) >= 750);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reknock_doubles_to_cap),
        cmocka_unit_test (test_reknock_jitter_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
