/* test_el_booking.c — the owner's auto policy over a real LMDB store. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "el_booking.h"

#define HOUR (3600LL * 1000000)
#define T0 1798761600000000LL       /* 2027-01-01T00:00:00Z, µs */
#define NOW (T0 - 30 * 24 * HOUR)   /* the owner's clock when deciding */

typedef struct {
    char dir[64];
    el_store_t *store;
    el_keypair_t *owner, *village, *other;
    uint8_t network[EL_KEY_BYTES];
    uint64_t seq[3];
    uint8_t prev[3][EL_HASH_BYTES];
} fx_t;

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    strcpy (fx->dir, "/tmp/el-booking-XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    el_store_config_t cfg = { .no_sync = true };
    assert_int_equal (el_store_open (fx->dir, &cfg, &fx->store), 0);
    memset (fx->network, 0x77, sizeof fx->network);
    assert_int_equal (el_store_accept_network (fx->store, fx->network), 0);
    uint8_t seed[32];
    memset (seed, 1, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->owner), 0);
    memset (seed, 2, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->village), 0);
    memset (seed, 3, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->other), 0);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    el_store_destroy (&fx->store);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal (system (cmd), 0);
    el_keypair_destroy (&fx->owner);
    el_keypair_destroy (&fx->village);
    el_keypair_destroy (&fx->other);
    free (fx);
    return 0;
}

/* Write one record as @p who (index into fx's keys) and return its parsed entry. */
static el_entry_t *
s_write (fx_t *fx, int who, El__Kind kind, const char *key, const uint8_t *payload, size_t len)
{
    el_keypair_t *kps[3] = { fx->owner, fx->village, fx->other };
    el_entry_fields_t f = { .seq = ++fx->seq[who], .time_us = T0 + (int64_t) fx->seq[who],
                            .kind = kind, .key = key, .payload = payload, .payload_len = len };
    memcpy (f.prev, fx->prev[who], EL_HASH_BYTES);
    memcpy (f.network, fx->network, EL_KEY_BYTES);
    uint8_t *data;
    size_t dlen;
    assert_int_equal (el_entry_build (kps[who], &f, &data, &dlen, fx->prev[who]), 0);
    const uint8_t *const entries[1] = { data };
    int status = -1;
    assert_int_equal (el_store_apply (fx->store, entries, &dlen, 1, &status, NULL), 0);
    assert_int_equal (status, EL_APPLIED);
    el_entry_t *e = NULL;
    assert_int_equal (el_entry_parse (data, dlen, &e), 0);
    free (data);
    return e;
}

static void
s_equipment (fx_t *fx, const char *key, El__EquipmentStatus status, const char *training)
{
    El__Equipment eq = EL__EQUIPMENT__INIT;
    eq.name = (char *) key;
    eq.category = "lathe";
    eq.status = status;
    eq.required_training = (char *) training;
    uint8_t buf[512];
    size_t len = el__equipment__pack (&eq, buf);
    el_entry_t *e = s_write (fx, 0, EL__KIND__EQUIPMENT, key, buf, len);
    el_entry_destroy (&e);
}

static el_entry_t *
s_request_until (fx_t *fx, int who, const char *key, const char *equipment, int64_t start,
                 int64_t end, const char *training, int64_t member_valid_until_us)
{
    El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
    r.member_valid_until_us = member_valid_until_us;
    r.equipment_owner.data = fx->owner->pk;
    r.equipment_owner.len = EL_KEY_BYTES;
    r.equipment_key = (char *) equipment;
    r.member = "m-12";
    r.start_us = start;
    r.end_us = end;
    char *tr[1] = { (char *) training };
    if (training) {
        r.n_member_trainings = 1;
        r.member_trainings = tr;
    }
    uint8_t buf[512];
    size_t len = el__booking_request__pack (&r, buf);
    return s_write (fx, who, EL__KIND__BOOKING_REQUEST, key, buf, len);
}

static el_entry_t *
s_request (fx_t *fx, int who, const char *key, const char *equipment, int64_t start,
           int64_t end, const char *training)
{
    return s_request_until (fx, who, key, equipment, start, end, training, 0);
}

/* Decide and write the owner's answer, as the daemon does. Returns the status. */
static El__BookingStatus
s_answer (fx_t *fx, const el_entry_t *req, const char **reason)
{
    El__Booking b;
    char eqkey[EL_RECORD_KEY_MAX + 1];
    assert_int_equal (el_booking_is_answered (fx->store, fx->owner->pk, req), 0);
    assert_int_equal (el_booking_decide_at (fx->store, fx->owner->pk, req, NOW, &b, eqkey), 0);
    static char reason_copy[128];
    snprintf (reason_copy, sizeof reason_copy, "%s", b.reason);
    *reason = reason_copy;
    char key[EL_BOOKING_KEY_MAX];
    assert_int_equal (el_booking_key (req->origin, req->body->key, key), 0);
    uint8_t buf[1024];
    size_t len = el__booking__pack (&b, buf);
    El__BookingStatus st = b.status;
    el_entry_t *e = s_write (fx, 0, EL__KIND__BOOKING, key, buf, len);
    el_entry_destroy (&e);
    assert_int_equal (el_booking_is_answered (fx->store, fx->owner->pk, req), 1);
    return st;
}

static void
test_first_confirmed_overlap_declined (void **state)
{
    fx_t *fx = *state;
    const char *reason;
    s_equipment (fx, "tour-1", EL__EQUIPMENT_STATUS__AVAILABLE, "");
    el_entry_t *a = s_request (fx, 1, "r-a", "tour-1", T0 + 9 * HOUR, T0 + 12 * HOUR, NULL);
    el_entry_t *b = s_request (fx, 2, "r-b", "tour-1", T0 + 11 * HOUR, T0 + 13 * HOUR, NULL);
    el_entry_t *c = s_request (fx, 2, "r-c", "tour-1", T0 + 12 * HOUR, T0 + 14 * HOUR, NULL);
    assert_int_equal (s_answer (fx, a, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    assert_string_equal (reason, "");
    assert_int_equal (s_answer (fx, b, &reason), EL__BOOKING_STATUS__BOOKING_DECLINED);
    assert_string_equal (reason, "slot overlaps a confirmed booking");
    /* back-to-back is not an overlap: end is exclusive */
    assert_int_equal (s_answer (fx, c, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    assert_int_equal (el_booking_overlaps (fx->store, fx->owner->pk, "tour-1", T0, T0 + 9 * HOUR), 0);
    assert_int_equal (el_booking_overlaps (fx->store, fx->owner->pk, "tour-1", T0, T0 + 10 * HOUR), 1);
    assert_int_equal (el_booking_overlaps (fx->store, fx->owner->pk, "other", T0, T0 + 99 * HOUR), 0);
    el_entry_destroy (&a);
    el_entry_destroy (&b);
    el_entry_destroy (&c);
}

static void
test_declines_with_reasons (void **state)
{
    fx_t *fx = *state;
    const char *reason;
    s_equipment (fx, "fraiseuse", EL__EQUIPMENT_STATUS__MAINTENANCE, "");
    s_equipment (fx, "laser", EL__EQUIPMENT_STATUS__AVAILABLE, "laser_cutter");
    s_equipment (fx, "hs", EL__EQUIPMENT_STATUS__OUT_OF_ORDER, "");
    struct { const char *key, *eq, *training; int64_t s, e; const char *want; } cases[] = {
        { "q1", "fraiseuse", NULL, T0, T0 + HOUR, "equipment in maintenance" },
        { "q2", "laser", NULL, T0, T0 + HOUR, "member lacks the required training" },
        { "q3", "laser", "cnc_mill", T0, T0 + HOUR, "member lacks the required training" },
        { "q4", "hs", NULL, T0, T0 + HOUR, "equipment out of order" },
        { "q5", "nope", NULL, T0, T0 + HOUR, "unknown equipment" },
        { "q6", "laser", "laser_cutter", T0 + HOUR, T0, "end is not after start" },
        { "q7", "laser", "laser_cutter", T0, T0 + 40 * 24 * HOUR, "slot longer than 31 days" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        el_entry_t *r = s_request (fx, 1, cases[i].key, cases[i].eq, cases[i].s, cases[i].e,
                                   cases[i].training);
        assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_DECLINED);
        assert_string_equal (reason, cases[i].want);
        el_entry_destroy (&r);
    }
    el_entry_t *ok = s_request (fx, 1, "q8", "laser", T0, T0 + HOUR, "laser_cutter");
    assert_int_equal (s_answer (fx, ok, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    el_entry_destroy (&ok);
}

/* The training check the CLI and the coordinator share: what is missing is
 * named; nothing is missing when none is required or the member holds it;
 * from the store, an unknown machine lacks nothing. */
static void
test_missing_training (void **state)
{
    fx_t *fx = *state;
    El__Equipment eq = EL__EQUIPMENT__INIT;
    char *held[2] = { "cnc_mill", "laser_cutter" };
    assert_null (el_booking_missing_training (&eq, held, 2));
    eq.required_training = "";
    assert_null (el_booking_missing_training (&eq, held, 2));
    eq.required_training = "laser_cutter";
    assert_null (el_booking_missing_training (&eq, held, 2));
    assert_string_equal (el_booking_missing_training (&eq, held, 1), "laser_cutter");
    assert_string_equal (el_booking_missing_training (&eq, NULL, 0), "laser_cutter");

    s_equipment (fx, "laser", EL__EQUIPMENT_STATUS__AVAILABLE, "laser_cutter");
    s_equipment (fx, "plain", EL__EQUIPMENT_STATUS__AVAILABLE, "");
    struct { const char *eq, *training; int want; } cases[] = {
        { "laser", NULL, 1 }, { "laser", "cnc_mill", 1 }, { "laser", "laser_cutter", 0 },
        { "plain", NULL, 0 }, { "nope", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
        char *tr[1] = { (char *) cases[i].training };
        r.equipment_key = (char *) cases[i].eq;
        r.member_trainings = tr;
        r.n_member_trainings = cases[i].training ? 1 : 0;
        char name[8] = "";
        assert_int_equal (el_booking_lacks_training (fx->store, fx->owner->pk, &r, name,
                                                     sizeof name), cases[i].want);
        /* truncated to the buffer, never past it */
        assert_string_equal (name, cases[i].want ? "laser_c" : "");
    }
}

/* Slots already over when decided, and memberships the requester says have
 * ended, are declined; a membership covering the slot is fine. */
static void
test_past_slot_and_expired_member (void **state)
{
    fx_t *fx = *state;
    const char *reason;
    s_equipment (fx, "tour", EL__EQUIPMENT_STATUS__AVAILABLE, "");
    struct { const char *key; int64_t s, e, until; const char *want; } cases[] = {
        { "p1", NOW - 2 * HOUR, NOW - HOUR, 0, "slot in the past" },
        { "p2", NOW - 2 * HOUR, NOW, 0, "slot in the past" },          /* end is exclusive */
        { "p3", T0, T0 + HOUR, NOW - HOUR, "member's membership has expired" },
        { "p4", T0, T0 + HOUR, T0 + HOUR / 2, "member's membership ends before the slot" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        el_entry_t *r = s_request_until (fx, 1, cases[i].key, "tour", cases[i].s, cases[i].e,
                                         NULL, cases[i].until);
        assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_DECLINED);
        assert_string_equal (reason, cases[i].want);
        el_entry_destroy (&r);
    }
    /* a slot under way is still bookable; a membership to the slot's end is enough */
    el_entry_t *now = s_request (fx, 1, "p5", "tour", NOW - HOUR, NOW + HOUR, NULL);
    assert_int_equal (s_answer (fx, now, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    el_entry_t *ok = s_request_until (fx, 1, "p6", "tour", T0, T0 + HOUR, NULL, T0 + HOUR);
    assert_int_equal (s_answer (fx, ok, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    el_entry_destroy (&now);
    el_entry_destroy (&ok);
}

static void
test_bookable_by (void **state)
{
    fx_t *fx = *state;
    const char *reason;
    El__Equipment eq = EL__EQUIPMENT__INIT;
    eq.name = "scie";
    eq.category = "other";
    eq.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    eq.bookable_by = EL__SHARING__SHARING_SITE;
    uint8_t buf[512];
    size_t len = el__equipment__pack (&eq, buf);
    el_entry_t *e = s_write (fx, 0, EL__KIND__EQUIPMENT, "scie", buf, len);
    el_entry_destroy (&e);
    /* another site may not book a site-only machine; the owner itself may */
    el_entry_t *r = s_request (fx, 1, "s1", "scie", T0, T0 + HOUR, NULL);
    assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_DECLINED);
    assert_string_equal (reason, "equipment not bookable by other sites");
    el_entry_destroy (&r);
    r = s_request (fx, 0, "s2", "scie", T0, T0 + HOUR, NULL);
    assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    el_entry_destroy (&r);
    /* network-wide (the default): a request written in another network is declined */
    eq.name = "presse";
    eq.bookable_by = EL__SHARING__SHARING_NETWORK;
    len = el__equipment__pack (&eq, buf);
    e = s_write (fx, 0, EL__KIND__EQUIPMENT, "presse", buf, len);
    el_entry_destroy (&e);
    uint8_t foreign[EL_KEY_BYTES];
    memset (foreign, 0x55, sizeof foreign);
    assert_int_equal (el_store_accept_network (fx->store, foreign), 0);
    memcpy (fx->network, foreign, EL_KEY_BYTES);
    r = s_request (fx, 2, "s3", "presse", T0, T0 + HOUR, NULL);
    memset (fx->network, 0x77, sizeof fx->network);
    assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_DECLINED);
    assert_string_equal (reason, "equipment not bookable outside its network");
    el_entry_destroy (&r);
    r = s_request (fx, 1, "s4", "presse", T0, T0 + HOUR, NULL);
    assert_int_equal (s_answer (fx, r, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    el_entry_destroy (&r);
}

static void
test_request_for_someone_else_refused (void **state)
{
    fx_t *fx = *state;
    el_entry_t *r = s_request (fx, 1, "x1", "tour-1", T0, T0 + HOUR, NULL);
    El__Booking b;
    char eqkey[EL_RECORD_KEY_MAX + 1];
    assert_int_equal (el_booking_decide (fx->store, fx->village->pk, r, &b, eqkey), EL_EINVAL);
    el_entry_destroy (&r);
}

typedef struct { char keys[8][16]; size_t n; } seen_t;

static int
s_seen (void *arg, const el_entry_t *req)
{
    seen_t *s = arg;
    snprintf (s->keys[s->n++], 16, "%s", req->body->key);
    return 0;
}

static void
test_pending_oldest_first (void **state)
{
    fx_t *fx = *state;
    const char *reason;
    s_equipment (fx, "imprimante", EL__EQUIPMENT_STATUS__AVAILABLE, "");
    el_entry_t *a = s_request (fx, 2, "zz-first", "imprimante", T0, T0 + HOUR, NULL);
    el_entry_t *b = s_request (fx, 1, "aa-second", "imprimante", T0, T0 + HOUR, NULL);
    el_entry_t *c = s_request (fx, 1, "mm-third", "imprimante", T0 + HOUR, T0 + 2 * HOUR, NULL);
    assert_int_equal (s_answer (fx, c, &reason), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    seen_t seen = { .n = 0 };
    assert_int_equal (el_booking_pending (fx->store, fx->owner->pk, 8, s_seen, &seen), 0);
    /* village's (seq 1) and other's (seq 1) requests: time_us ties broken by seq;
     * the answered one is not pending */
    assert_int_equal (seen.n, 2);
    bool first = !strcmp (seen.keys[0], "zz-first") || !strcmp (seen.keys[1], "zz-first");
    bool second = !strcmp (seen.keys[0], "aa-second") || !strcmp (seen.keys[1], "aa-second");
    assert_true (first && second);
    /* a later request comes after both */
    el_entry_t *d = s_request (fx, 1, "00-fourth", "imprimante", T0, T0 + HOUR, NULL);
    seen.n = 0;
    assert_int_equal (el_booking_pending (fx->store, fx->owner->pk, 8, s_seen, &seen), 0);
    assert_int_equal (seen.n, 3);
    assert_string_equal (seen.keys[2], "00-fourth");
    /* max bounds the batch */
    seen.n = 0;
    assert_int_equal (el_booking_pending (fx->store, fx->owner->pk, 1, s_seen, &seen), 0);
    assert_int_equal (seen.n, 1);
    el_entry_destroy (&d);
    el_entry_destroy (&a);
    el_entry_destroy (&b);
    el_entry_destroy (&c);
}

/* The availability view: confirmed bookings of that machine only, times
 * clipped to the window, sorted; maintenance from now to its end; a stale
 * status is no period; a full array is refused. */
static void
test_busy_periods (void **state)
{
    (void) state;
    const int64_t H = 3600LL * 1000000;
    El__Equipment eq = EL__EQUIPMENT__INIT;
    eq.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    El__Booking b[4];
    const char *keys[4] = { "lathe", "lathe", "mill", "lathe" };
    int64_t when[4][2] = { { 30 * H, 32 * H }, { 5 * H, 12 * H }, { 40 * H, 41 * H },
                           { 50 * H, 51 * H } };
    El__BookingStatus st[4] = { EL__BOOKING_STATUS__BOOKING_CONFIRMED,
                                EL__BOOKING_STATUS__BOOKING_CONFIRMED,
                                EL__BOOKING_STATUS__BOOKING_CONFIRMED,
                                EL__BOOKING_STATUS__BOOKING_DECLINED };
    const El__Booking *ptr[4];
    for (int i = 0; i < 4; i++) {
        el__booking__init (&b[i]);
        b[i].equipment_key = (char *) keys[i];
        b[i].start_us = when[i][0];
        b[i].end_us = when[i][1];
        b[i].status = st[i];
        ptr[i] = &b[i];
    }
    el_busy_t out[8];
    size_t n = 99;
    /* window [10 h, 100 h): the 5-12 h booking is clipped, the mill's and the
     * declined one are not there */
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 10 * H, 10 * H, 100 * H, out, 8,
                                       &n), 0);
    assert_int_equal (n, 2);
    assert_true (out[0].start_us == 10 * H && out[0].end_us == 12 * H
                 && out[0].kind == EL_BUSY_BOOKED);
    assert_true (out[1].start_us == 30 * H && out[1].end_us == 32 * H);
    assert_string_equal (el_busy_kind_name (out[1].kind), "booked");

    /* in maintenance until 35 h: from now (20 h) to then */
    eq.status = EL__EQUIPMENT_STATUS__MAINTENANCE;
    eq.status_valid_until_us = 35 * H;
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 20 * H, 10 * H, 100 * H, out, 8,
                                       &n), 0);
    assert_int_equal (n, 3);
    assert_true (out[1].start_us == 20 * H && out[1].end_us == 35 * H
                 && out[1].kind == EL_BUSY_MAINTENANCE);
    /* the same status seen after it lapsed: stale, no period */
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 36 * H, 36 * H, 100 * H, out, 8,
                                       &n), 0);
    assert_int_equal (n, 0);
    /* out of order without end: to the end of the window */
    eq.status = EL__EQUIPMENT_STATUS__OUT_OF_ORDER;
    eq.status_valid_until_us = 0;
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 60 * H, 60 * H, 70 * H, out, 8,
                                       &n), 0);
    assert_true (n == 1 && out[0].end_us == 70 * H && out[0].kind == EL_BUSY_OUT_OF_ORDER);
    /* no room, bad window */
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 0, 0, 100 * H, out, 1, &n),
                      EL_ETOOBIG);
    assert_int_equal (el_booking_busy (&eq, "lathe", ptr, 4, 0, 5 * H, 5 * H, out, 8, &n),
                      EL_EINVAL);
}

int
main (void)
{
    assert_int_equal (el_crypto_init (), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_first_confirmed_overlap_declined, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_declines_with_reasons, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_training, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_past_slot_and_expired_member, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bookable_by, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_request_for_someone_else_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pending_oldest_first, s_setup, s_teardown),
        cmocka_unit_test (test_busy_periods),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
