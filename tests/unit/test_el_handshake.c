/* test_el_handshake.c — the caps on connections in handshake: which one is
 * refused, per address and in total; fds that ended are never picked. The
 * socket side (shutdown of a real fd) is covered by the integration test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "el_error.h"
#include "el_handshake.h"

#define S_EXPIRE_US 6000000

/* Add a connection that already sent much (counts against the caps). */
static int
s_add_heavy (el_handshake_t *hs, int fd, const el_handshake_peer_t *p, int64_t now)
{
    int rc = el_handshake_add (hs, fd, p, now);
    if (rc == 0)
        el_handshake_set_heavy (hs, fd, true);
    return rc;
}

static el_handshake_peer_t
s_peer (uint8_t last, uint16_t port)
{
    el_handshake_peer_t p = { .family = AF_INET, .port = port };
    p.addr[0] = 127;
    p.addr[3] = last;
    return p;
}

static void
test_per_address_cap_evicts_oldest_of_that_address (void **state)
{
    (void) state;
    el_handshake_t *hs = el_handshake_new (8, 2, S_EXPIRE_US);
    assert_non_null (hs);
    el_handshake_peer_t honest = s_peer (1, 1000);
    assert_int_equal (s_add_heavy (hs, 10, &honest, 0), 0);
    for (int i = 0; i < 3; i++) {
        el_handshake_peer_t p = s_peer (2, (uint16_t) (2000 + i));
        assert_int_equal (s_add_heavy (hs, 20 + i, &p, 1 + i), 0);
    }
    el_handshake_victim_t v[4];
    assert_int_equal (el_handshake_pick (hs, 10, v, 4), 1);
    assert_int_equal (v[0].fd, 20);                     /* the oldest of 127.0.0.2 */
    assert_int_equal (v[0].reason, EL_HANDSHAKE_PER_ADDRESS);
    assert_int_equal (v[0].peer.port, 2000);
    assert_int_equal (el_handshake_pick (hs, 10, v, 4), 0);
    el_handshake_stats_t st;
    el_handshake_stats (hs, &st);
    assert_int_equal (st.open, 3);
    assert_int_equal (st.accepted, 4);
    el_handshake_destroy (&hs);
    el_handshake_destroy (&hs);                         /* twice: harmless */
}

/* Over the total, the most crowded address loses its oldest, not an
 * honest connection that is older than all of them. */
static void
test_total_cap_evicts_from_the_most_crowded_address (void **state)
{
    (void) state;
    el_handshake_t *hs = el_handshake_new (4, 3, S_EXPIRE_US);
    el_handshake_peer_t honest = s_peer (1, 1000);
    assert_int_equal (s_add_heavy (hs, 10, &honest, 0), 0);
    int fds[] = { 30, 31, 40, 41, 32 };
    uint8_t addr[] = { 3, 3, 4, 4, 3 };
    for (int i = 0; i < 5; i++) {
        el_handshake_peer_t p = s_peer (addr[i], (uint16_t) (3000 + i));
        assert_int_equal (s_add_heavy (hs, fds[i], &p, 1 + i), 0);
    }
    el_handshake_victim_t v[8];
    size_t n = el_handshake_pick (hs, 10, v, 8);
    assert_int_equal (n, 2);                            /* 6 held, 4 allowed */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (v[i].reason, EL_HANDSHAKE_TOTAL);
        assert_int_not_equal (v[i].fd, 10);
    }
    assert_int_equal (v[0].fd, 30);                     /* 127.0.0.3 held 3 */
    assert_int_equal (v[1].fd, 31);                     /* then 2 and 2: the older */
    assert_int_equal (el_handshake_pick (hs, 10, v, 8), 0);
    el_handshake_destroy (&hs);
}

static void
test_ended_and_expired_are_never_picked (void **state)
{
    (void) state;
    el_handshake_t *hs = el_handshake_new (1, 1, S_EXPIRE_US);
    el_handshake_peer_t p = s_peer (5, 5000), q = s_peer (5, 5001);
    assert_int_equal (s_add_heavy (hs, 50, &p, 0), 0);
    assert_int_equal (s_add_heavy (hs, 51, &q, 1), 0);
    assert_true (el_handshake_ended (hs, 50));
    assert_false (el_handshake_ended (hs, 50));
    el_handshake_victim_t v[4];
    assert_int_equal (el_handshake_pick (hs, 2, v, 4), 0);
    /* fd 51 reused by a new accept: the old entry is replaced, not doubled */
    el_handshake_peer_t r = s_peer (6, 6000);
    assert_int_equal (el_handshake_add (hs, 51, &r, 3), 0);
    el_handshake_stats_t st;
    el_handshake_stats (hs, &st);
    assert_int_equal (st.open, 1);
    assert_int_equal (el_handshake_add (hs, 52, &q, 4), 0);
    /* past the handshake time both are forgotten, unacted */
    assert_int_equal (el_handshake_pick (hs, 4 + S_EXPIRE_US + 1, v, 4), 0);
    el_handshake_stats (hs, &st);
    assert_int_equal (st.open, 0);
    assert_int_equal (st.refused_total, 0);
    el_handshake_destroy (&hs);
}

static void
test_table_full_and_counts (void **state)
{
    (void) state;
    el_handshake_t *hs = el_handshake_new (EL_HANDSHAKE_OPEN_MAX, EL_HANDSHAKE_PER_ADDR_MAX,
                                           S_EXPIRE_US);
    for (int i = 0; i < EL_HANDSHAKE_SLOTS; i++) {
        el_handshake_peer_t p = s_peer ((uint8_t) (i % 200), (uint16_t) i);
        p.addr[2] = (uint8_t) (i / 200);
        assert_int_equal (s_add_heavy (hs, 100 + i, &p, i), 0);
    }
    el_handshake_peer_t p = s_peer (9, 9);
    assert_int_equal (el_handshake_add (hs, 99, &p, 0), EL_ETOOBIG);
    static el_handshake_victim_t v[EL_HANDSHAKE_SLOTS];
    size_t n = el_handshake_pick (hs, EL_HANDSHAKE_SLOTS, v, EL_HANDSHAKE_SLOTS);
    assert_int_equal (n, EL_HANDSHAKE_SLOTS - EL_HANDSHAKE_OPEN_MAX);
    for (size_t i = 0; i < n; i++)
        el_handshake_count (hs, v[i].reason);
    el_handshake_stats_t st;
    el_handshake_stats (hs, &st);
    assert_int_equal (st.open, EL_HANDSHAKE_OPEN_MAX);
    assert_int_equal (st.refused_total, (uint64_t) n);
    assert_int_equal (st.refused[EL_HANDSHAKE_PER_ADDRESS] + st.refused[EL_HANDSHAKE_TOTAL],
                      (uint64_t) n);
    assert_string_equal (el_handshake_reason_name (EL_HANDSHAKE_TABLE_FULL), "table_full");
    el_handshake_destroy (&hs);
}

/* Connections that sent little (honest handshakes, many from one NAT) are
 * never cut for their number; heavy ones from the same address are. */
static void
test_light_connections_do_not_count (void **state)
{
    (void) state;
    el_handshake_t *hs = el_handshake_new (4, 2, S_EXPIRE_US);
    for (int i = 0; i < 20; i++) {
        el_handshake_peer_t p = s_peer (1, (uint16_t) (1000 + i));
        assert_int_equal (el_handshake_add (hs, 10 + i, &p, i), 0);
    }
    el_handshake_victim_t v[32];
    assert_int_equal (el_handshake_pick (hs, 30, v, 32), 0);
    for (int i = 0; i < 3; i++) {
        el_handshake_peer_t p = s_peer (1, (uint16_t) (2000 + i));
        assert_int_equal (s_add_heavy (hs, 40 + i, &p, 30 + i), 0);
    }
    assert_int_equal (el_handshake_pick (hs, 40, v, 32), 1);
    assert_int_equal (v[0].fd, 40);
    el_handshake_stats_t st;
    el_handshake_stats (hs, &st);
    assert_int_equal (st.open, 22);
    el_handshake_destroy (&hs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_per_address_cap_evicts_oldest_of_that_address),
        cmocka_unit_test (test_total_cap_evicts_from_the_most_crowded_address),
        cmocka_unit_test (test_ended_and_expired_are_never_picked),
        cmocka_unit_test (test_table_full_and_counts),
        cmocka_unit_test (test_light_connections_do_not_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
