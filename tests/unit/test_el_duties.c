/* test_el_duties.c — the daemon's coordinator duties over a real store and
 * sync core (no sockets): auto answers decided one at a time, manual policy,
 * coordinator answers, withdrawn requests, answers at start-up, erasure
 * compaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "el_booking.h"
#include "el_duties.h"
#include "el_log.h"

#define HOUR (3600LL * 1000000)
#define T0 1798761600000000LL       /* 2027-01-01T00:00:00Z, µs */

typedef struct {
    char dir[64];
    el_store_t *store;
    el_sync_t *sync;
    el_duties_t *duties;
    el_config_t cfg;
    void *ctx;
    el_control_t *ctl;
    el_keypair_t *owner, *v1, *v2;
    uint8_t network[EL_KEY_BYTES];
    uint64_t seq[3];
    uint8_t prev[3][EL_HASH_BYTES];
} fx_t;

static void
s_applied (void *arg, uint64_t from, const el_entry_t *const *e, const int *st, size_t n)
{
    fx_t *fx = arg;
    el_duties_on_applied (fx->duties, from, e, st, n);
}

/* The owner's clock: a month before the slots the tests book. */
static int64_t
s_now (void)
{
    return T0 - 30 * 24 * HOUR;
}

static void
s_duties_start (fx_t *fx)
{
    el_duties_env_t env = { fx->store, fx->sync, fx->owner, &fx->cfg, s_now };
    assert_int_equal (el_duties_new (&env, &fx->duties), 0);
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    strcpy (fx->dir, "/tmp/el-duties-XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    el_store_config_t scfg = { .no_sync = true };
    assert_int_equal (el_store_open (fx->dir, &scfg, &fx->store), 0);
    memset (fx->network, 0x77, sizeof fx->network);
    uint8_t seed[32];
    memset (seed, 1, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->owner), 0);
    memset (seed, 2, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->v1), 0);
    memset (seed, 3, 32);
    assert_int_equal (el_keypair_from_seed (seed, &fx->v2), 0);
    el_sync_config_t sc = { .credit = 0, .now_us = el_clock_wall };
    memcpy (sc.self_id, fx->owner->pk, EL_KEY_BYTES);
    memcpy (sc.network, fx->network, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (fx->store, &sc, &fx->sync), 0);
    el_sync_on_applied (fx->sync, s_applied, fx);
    el_config_init (&fx->cfg);
    snprintf (fx->cfg.state_dir, sizeof fx->cfg.state_dir, "%s", fx->dir);
    snprintf (fx->cfg.control, sizeof fx->cfg.control, "ipc://%s/control.sock", fx->dir);
    fx->ctx = zmq_ctx_new ();
    assert_int_equal (el_control_new (fx->ctx, fx->cfg.control, NULL, NULL, &fx->ctl), 0);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    el_duties_destroy (&fx->duties);
    el_control_destroy (&fx->ctl);
    zmq_ctx_term (fx->ctx);
    el_sync_destroy (&fx->sync);
    el_store_destroy (&fx->store);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal (system (cmd), 0);
    el_keypair_destroy (&fx->owner);
    el_keypair_destroy (&fx->v1);
    el_keypair_destroy (&fx->v2);
    free (fx);
    return 0;
}

/* One entry of another site (1 = v1, 2 = v2), serialized. */
static uint8_t *
s_entry (fx_t *fx, int who, El__Kind kind, const char *key, bool deleted,
         const ProtobufCMessage *rec, size_t *ret_len)
{
    el_keypair_t *kps[3] = { fx->owner, fx->v1, fx->v2 };
    uint8_t buf[1024];
    size_t len = rec ? protobuf_c_message_pack (rec, buf) : 0;
    el_entry_fields_t f = { .seq = ++fx->seq[who], .time_us = T0 + (int64_t) fx->seq[who],
                            .kind = kind, .key = key, .deleted = deleted,
                            .payload = rec ? buf : NULL, .payload_len = len };
    memcpy (f.prev, fx->prev[who], EL_HASH_BYTES);
    memcpy (f.network, fx->network, EL_KEY_BYTES);
    uint8_t *data;
    assert_int_equal (el_entry_build (kps[who], &f, &data, ret_len, fx->prev[who]), 0);
    return data;
}

static uint8_t *
s_request (fx_t *fx, int who, const char *key, const char *equipment, int64_t start, int64_t end,
           size_t *len)
{
    El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
    r.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->owner->pk };
    r.equipment_key = (char *) equipment;
    r.start_us = start;
    r.end_us = end;
    return s_entry (fx, who, EL__KIND__BOOKING_REQUEST, key, false, &r.base, len);
}

static void
s_apply (fx_t *fx, uint8_t **entries, size_t *lens, size_t n)
{
    int status[8];
    assert_true (n <= 8);
    assert_int_equal (el_sync_apply (fx->sync, (const uint8_t *const *) entries, lens, n, status,
                                     NULL), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (status[i], EL_APPLIED);
        free (entries[i]);
    }
}

static void
s_own_write (fx_t *fx, El__Kind kind, const char *key, bool deleted, const ProtobufCMessage *rec)
{
    uint8_t buf[1024];
    size_t len = rec ? protobuf_c_message_pack (rec, buf) : 0;
    el_record_t r = { kind, key, deleted, rec ? buf : NULL, len };
    assert_int_equal (el_sync_write (fx->sync, fx->owner, &r, 1, NULL), 0);
}

static void
s_lathe (fx_t *fx)
{
    El__Equipment eq = EL__EQUIPMENT__INIT;
    eq.name = "Tour";
    eq.category = "lathe";
    eq.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    s_own_write (fx, EL__KIND__EQUIPMENT, "tour", false, &eq.base);
}

/* The owner's answer to (who, key): status, or -1 when none; reason copied. */
static int
s_answer_of (fx_t *fx, int who, const char *key, char *reason, size_t size)
{
    el_keypair_t *kps[3] = { fx->owner, fx->v1, fx->v2 };
    char bkey[EL_BOOKING_KEY_MAX];
    assert_int_equal (el_booking_key (kps[who]->pk, key, bkey), 0);
    el_entry_t *e = NULL;
    if (el_store_record_get (fx->store, EL__KIND__BOOKING, fx->owner->pk, bkey, &e) < 0)
        return -1;
    El__Booking *b = el__booking__unpack (&el_pb_allocator, e->payload_len, e->payload);
    assert_non_null (b);
    int st = b->status;
    if (reason)
        snprintf (reason, size, "%s", b->reason);
    el__booking__free_unpacked (b, &el_pb_allocator);
    el_entry_destroy (&e);
    return st;
}

static El__ControlReply *
s_control (fx_t *fx, El__ControlRequest *req, int want_rc)
{
    static El__ControlReply reply;
    el__control_reply__init (&reply);
    assert_int_equal (el_duties_control (fx->duties, fx->ctl, req, &reply), want_rc);
    return &reply;
}

static void
s_policy (fx_t *fx, El__BookingPolicy p, uint32_t want_answered)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__PolicyRequest pr = EL__POLICY_REQUEST__INIT;
    pr.set = p;
    req.r_case = EL__CONTROL_REQUEST__R_POLICY;
    req.policy = &pr;
    El__ControlReply *r = s_control (fx, &req, 0);
    assert_int_equal (r->r_case, EL__CONTROL_REPLY__R_POLICY);
    assert_int_equal (r->policy->policy, p);
    assert_int_equal (r->policy->answered, want_answered);
}

/* ------------------------------------------------------------ tests */

static void
test_overlap_in_one_batch (void **state)
{
    fx_t *fx = *state;
    s_duties_start (fx);
    s_lathe (fx);
    /* both requests arrive in the same apply: decided one at a time */
    uint8_t *e[2];
    size_t l[2];
    e[0] = s_request (fx, 1, "a", "tour", T0 + 9 * HOUR, T0 + 12 * HOUR, &l[0]);
    e[1] = s_request (fx, 2, "b", "tour", T0 + 11 * HOUR, T0 + 13 * HOUR, &l[1]);
    s_apply (fx, e, l, 2);
    char ra[128], rb[128];
    int sa = s_answer_of (fx, 1, "a", ra, sizeof ra), sb = s_answer_of (fx, 2, "b", rb, sizeof rb);
    assert_true ((sa == EL__BOOKING_STATUS__BOOKING_CONFIRMED
                  && sb == EL__BOOKING_STATUS__BOOKING_DECLINED)
                 || (sb == EL__BOOKING_STATUS__BOOKING_CONFIRMED
                     && sa == EL__BOOKING_STATUS__BOOKING_DECLINED));
    assert_string_equal (sa == EL__BOOKING_STATUS__BOOKING_DECLINED ? ra : rb,
                         "slot overlaps a confirmed booking");
    /* requests for another owner's machine are left alone */
    El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
    r.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->v2->pk };
    r.equipment_key = "tour";
    r.start_us = T0;
    r.end_us = T0 + HOUR;
    e[0] = s_entry (fx, 1, EL__KIND__BOOKING_REQUEST, "elsewhere", false, &r.base, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 1, "elsewhere", NULL, 0), -1);
}

static void
test_manual_then_auto (void **state)
{
    fx_t *fx = *state;
    s_duties_start (fx);
    s_lathe (fx);
    s_policy (fx, EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL, 0);
    uint8_t *e[1];
    size_t l[1];
    e[0] = s_request (fx, 1, "m1", "tour", T0, T0 + HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 1, "m1", NULL, 0), -1);
    /* the coordinator declines it */
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AnswerRequest ar = EL__ANSWER_REQUEST__INIT;
    ar.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->v1->pk };
    ar.request_key = "m1";
    ar.status = EL__BOOKING_STATUS__BOOKING_DECLINED;
    ar.reason = "closed that day";
    req.r_case = EL__CONTROL_REQUEST__R_ANSWER;
    req.answer = &ar;
    El__ControlReply *rep = s_control (fx, &req, 0);
    assert_int_equal (rep->r_case, EL__CONTROL_REPLY__R_ANSWER);
    char reason[128];
    assert_int_equal (s_answer_of (fx, 1, "m1", reason, sizeof reason),
                      EL__BOOKING_STATUS__BOOKING_DECLINED);
    assert_string_equal (reason, "closed that day");
    s_control (fx, &req, EL_EINVAL);            /* already declined */
    ar.request_key = "nope";
    s_control (fx, &req, EL_EINVAL);            /* unknown request */
    /* a waiting request is answered when the policy goes back to auto */
    e[0] = s_request (fx, 2, "m2", "tour", T0, T0 + HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 2, "m2", NULL, 0), -1);
    s_policy (fx, EL__BOOKING_POLICY__BOOKING_POLICY_AUTO, 1);
    assert_int_equal (s_answer_of (fx, 2, "m2", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    /* confirming an overlapping one by hand is refused, unless forced */
    s_policy (fx, EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL, 0);
    e[0] = s_request (fx, 1, "m3", "tour", T0, T0 + HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    ar.request_key = "m3";
    ar.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    s_control (fx, &req, EL_EINVAL);
    ar.force = true;
    s_control (fx, &req, 0);
    assert_int_equal (s_answer_of (fx, 1, "m3", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    /* the owner cancels a confirmed booking, once */
    ar.status = EL__BOOKING_STATUS__BOOKING_CANCELLED;
    ar.reason = "machine broken";
    s_control (fx, &req, 0);
    assert_int_equal (s_answer_of (fx, 1, "m3", reason, sizeof reason),
                      EL__BOOKING_STATUS__BOOKING_CANCELLED);
    assert_string_equal (reason, "machine broken");
    assert_string_equal (s_control (fx, &req, EL_EINVAL)->text, "already cancelled");
    ar.request_key = "m1";      /* declined, never confirmed */
    assert_string_equal (s_control (fx, &req, EL_EINVAL)->text,
                         "only a confirmed booking can be cancelled");
    /* answers move forward: a confirmed booking is cancelled, not declined;
     * a decline is reversed only with force */
    ar.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->v2->pk };
    ar.request_key = "m2";      /* confirmed by the auto policy */
    ar.status = EL__BOOKING_STATUS__BOOKING_DECLINED;
    assert_string_equal (s_control (fx, &req, EL_EINVAL)->text,
                         "this booking is confirmed: withdraw it with entrelab bookings cancel");
    assert_int_equal (s_answer_of (fx, 2, "m2", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    ar.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->v1->pk };
    ar.request_key = "m3";      /* cancelled */
    assert_string_equal (s_control (fx, &req, EL_EINVAL)->text, "this booking was cancelled");
    ar.request_key = "m1";      /* declined */
    ar.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    ar.force = false;
    assert_string_equal (s_control (fx, &req, EL_EINVAL)->text,
                         "this request was declined (--force confirms it anyway)");
    ar.force = true;
    s_control (fx, &req, 0);
    assert_int_equal (s_answer_of (fx, 1, "m1", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    /* the policy is kept in the store */
    el_duties_destroy (&fx->duties);
    s_duties_start (fx);
    e[0] = s_request (fx, 1, "m4", "tour", T0 + 5 * HOUR, T0 + 6 * HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 1, "m4", NULL, 0), -1);
}

static void
test_withdrawn_and_start_up (void **state)
{
    fx_t *fx = *state;
    s_lathe (fx);
    /* requests stored while no duties ran (the owner was offline) */
    uint8_t *e[2];
    size_t l[2];
    e[0] = s_request (fx, 1, "w1", "tour", T0, T0 + HOUR, &l[0]);
    e[1] = s_request (fx, 2, "w2", "tour", T0, T0 + HOUR, &l[1]);
    s_apply (fx, e, l, 2);
    assert_int_equal (s_answer_of (fx, 1, "w1", NULL, 0), -1);
    s_duties_start (fx);        /* answers them, oldest first */
    assert_int_equal (s_answer_of (fx, 1, "w1", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
    assert_int_equal (s_answer_of (fx, 2, "w2", NULL, 0), EL__BOOKING_STATUS__BOOKING_DECLINED);
    /* the requester withdraws: the confirmed slot is cancelled */
    e[0] = s_entry (fx, 1, EL__KIND__BOOKING_REQUEST, "w1", true, NULL, &l[0]);
    s_apply (fx, e, l, 1);
    char reason[128];
    assert_int_equal (s_answer_of (fx, 1, "w1", reason, sizeof reason),
                      EL__BOOKING_STATUS__BOOKING_CANCELLED);
    assert_string_equal (reason, "request withdrawn");
    /* and the slot is free again */
    e[0] = s_request (fx, 2, "w3", "tour", T0, T0 + HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 2, "w3", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
}

static bool
s_file_has (const char *path, const char *needle)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) size + 1);
    assert_int_equal (fread (buf, 1, (size_t) size, f), (size_t) size);
    fclose (f);
    bool found = memmem (buf, (size_t) size, needle, strlen (needle)) != NULL;
    free (buf);
    return found;
}

static void
test_erasure_compacts (void **state)
{
    fx_t *fx = *state;
    s_duties_start (fx);
    const char *name = "Hortense Vandeputte-Zyx";
    El__Member m = EL__MEMBER__INIT;
    m.display_name = (char *) name;
    /* a member of another site, then its tombstone, as replicated */
    uint8_t *e[1];
    size_t l[1];
    e[0] = s_entry (fx, 1, EL__KIND__MEMBER, "m-h", false, &m.base, &l[0]);
    s_apply (fx, e, l, 1);
    /* bulk so the page holding the name is not simply reused */
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf (key, sizeof key, "ev%d", i);
        El__Event ev = EL__EVENT__INIT;
        ev.summary = "filler";
        s_own_write (fx, EL__KIND__EVENT, key, false, &ev.base);
    }
    char path[128];
    snprintf (path, sizeof path, "%s/data.mdb", fx->dir);
    assert_true (s_file_has (path, name));
    e[0] = s_entry (fx, 1, EL__KIND__MEMBER, "m-h", true, NULL, &l[0]);
    s_apply (fx, e, l, 1);
    assert_false (s_file_has (path, name));
    /* our own member too */
    m.display_name = "Anatole Quermorvan";
    s_own_write (fx, EL__KIND__MEMBER, "m-a", false, &m.base);
    assert_true (s_file_has (path, "Anatole Quermorvan"));
    s_own_write (fx, EL__KIND__MEMBER, "m-a", true, NULL);
    assert_false (s_file_has (path, "Anatole Quermorvan"));
    /* the store still serves everything else */
    el_entry_t *ev = NULL;
    assert_int_equal (el_store_record_get (fx->store, EL__KIND__EVENT, fx->owner->pk, "ev49", &ev), 0);
    el_entry_destroy (&ev);
}

/* A revoked site neither decides nor writes booking answers, and remembers
 * that it was revoked across restarts until an admission clears it. */
static void
test_revoked_site_writes_no_answer (void **state)
{
    fx_t *fx = *state;
    s_duties_start (fx);
    s_lathe (fx);
    assert_int_equal (el_duties_revoked_since (fx->duties), 0);
    assert_int_equal (el_duties_set_revoked (fx->duties, true, T0), 0);
    assert_int_equal (el_duties_revoked_since (fx->duties), T0);
    uint8_t *e[1];
    size_t l[1];
    e[0] = s_request (fx, 1, "a", "tour", T0 + 9 * HOUR, T0 + 10 * HOUR, &l[0]);
    s_apply (fx, e, l, 1);
    assert_int_equal (s_answer_of (fx, 1, "a", NULL, 0), -1);       /* not answered */
    /* a coordinator's answer is refused with the reason */
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AnswerRequest ar = EL__ANSWER_REQUEST__INIT;
    ar.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->v1->pk };
    ar.request_key = "a";
    ar.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    req.r_case = EL__CONTROL_REQUEST__R_ANSWER;
    req.answer = &ar;
    El__ControlReply *r = s_control (fx, &req, EL_EREVOKED);
    assert_string_equal (r->text, EL_DUTIES_REVOKED_TEXT);
    /* kept in the store */
    el_duties_destroy (&fx->duties);
    s_duties_start (fx);
    assert_int_equal (el_duties_revoked_since (fx->duties), T0);
    /* admitted again: answers resume */
    assert_int_equal (el_duties_set_revoked (fx->duties, false, 0), 0);
    el_duties_destroy (&fx->duties);
    s_duties_start (fx);                    /* start-up answers what waits */
    assert_int_equal (el_duties_revoked_since (fx->duties), 0);
    assert_int_equal (s_answer_of (fx, 1, "a", NULL, 0), EL__BOOKING_STATUS__BOOKING_CONFIRMED);
}

static void
test_invites_are_not_the_site_roles (void **state)
{
    fx_t *fx = *state;
    s_duties_start (fx);
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__InviteRequest ir = EL__INVITE_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_INVITE;
    req.invite = &ir;
    El__ControlReply *r = s_control (fx, &req, EL_EINVAL);
    assert_string_equal (r->text, "unknown request");
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    s_control (fx, &req, EL_EINVAL);
}

int
main (void)
{
    assert_int_equal (el_crypto_init (), 0);
    el_log_set_level (EL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_overlap_in_one_batch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_manual_then_auto, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_withdrawn_and_start_up, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_erasure_compacts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_revoked_site_writes_no_answer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_invites_are_not_the_site_roles, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
