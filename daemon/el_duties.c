/* el_duties.c — see el_duties.h. */
#include "el_duties.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "el_booking.h"
#include "el_node.h"
#include "el_log.h"
#include "el_util.h"

#define S_PENDING_PASSES 64     /* start-up passes over waiting requests, at most */

struct el_duties {
    el_duties_env_t env;
    el_booking_policy_t policy;
    bool busy;                  /* inside our own writes: ignore re-entrant callbacks */
    uint64_t answered, declined, compactions;
    int64_t revoked_us;         /* when this site learned it was revoked; 0 = not revoked */
};

/* ------------------------------------------------------------ revocation */

static void
s_revoked_load (el_duties_t *self)
{
    void *val = NULL;
    size_t len = 0;
    self->revoked_us = 0;
    if (el_store_meta_get (self->env.store, EL_DUTIES_META_REVOKED, &val, &len) == 0) {
        if (len == 8)
            self->revoked_us = (int64_t) el_be64_get (val);
        free (val);
    }
}

int
el_duties_set_revoked (el_duties_t *self, bool revoked, int64_t now_us)
{
    if ((self->revoked_us != 0) == revoked)
        return 0;
    int64_t v = revoked ? (now_us > 0 ? now_us : 1) : 0;
    uint8_t buf[8];
    el_be64_put (buf, (uint64_t) v);
    int rc = el_store_meta_put (self->env.store, EL_DUTIES_META_REVOKED, buf, sizeof buf);
    self->revoked_us = v;           /* held in memory even if the store failed */
    return rc;
}

int64_t
el_duties_revoked_since (const el_duties_t *self)
{
    return self ? self->revoked_us : 0;
}

/* ------------------------------------------------------------ policy */

static void
s_policy_load (el_duties_t *self)
{
    void *val = NULL;
    size_t len = 0;
    self->policy = EL_BOOKING_POLICY_AUTO;
    if (el_store_meta_get (self->env.store, EL_DUTIES_META_POLICY, &val, &len) == 0) {
        if (len == 6 && !memcmp (val, "manual", 6))
            self->policy = EL_BOOKING_POLICY_MANUAL;
        free (val);
    }
}

/* ------------------------------------------------------------ bookings */

/* Does @p request name one of our machines? */
static bool
s_names_us (const el_duties_t *self, const el_entry_t *request)
{
    if (request->is_stub || !request->body || request->body->deleted)
        return false;
    El__BookingRequest *r = el__booking_request__unpack (&el_pb_allocator,
                                                         request->payload_len,
                                                         request->payload);
    if (!r)
        return false;
    bool mine = r->equipment_owner.len == EL_KEY_BYTES
                && !memcmp (r->equipment_owner.data, self->env.kp->pk, EL_KEY_BYTES);
    el__booking_request__free_unpacked (r, &el_pb_allocator);
    return mine;
}

static int
s_write_booking (el_duties_t *self, const char *key, const El__Booking *b, uint64_t *ret_seq)
{
    size_t len = el__booking__get_packed_size (b);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__booking__pack (b, buf);
    el_record_t rec = { EL__KIND__BOOKING, key, false, buf, len };
    if (self->revoked_us) {
        free (buf);
        return EL_EREVOKED;     /* every other site would refuse it */
    }
    bool was = self->busy;
    self->busy = true;
    int rc = el_sync_write (self->env.sync, self->env.kp, &rec, 1, ret_seq);
    self->busy = was;
    free (buf);
    return rc;
}

/* Decide @p request under the auto policy and write the answer.
 * @return 1 answered, 0 nothing to do, < 0 error. */
static int
s_answer_auto (el_duties_t *self, const el_entry_t *request)
{
    if (self->revoked_us || !s_names_us (self, request))
        return 0;
    int rc = el_booking_is_answered (self->env.store, self->env.kp->pk, request);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    El__Booking b;
    char eqkey[EL_RECORD_KEY_MAX + 1], key[EL_BOOKING_KEY_MAX];
    rc = el_booking_decide_at (self->env.store, self->env.kp->pk, request,
                               self->env.now_us ? self->env.now_us () : el_now_us (), &b, eqkey);
    if (rc < 0)
        return rc == EL_EINVAL ? 0 : rc;
    if (el_booking_key (request->origin, request->body->key, key) < 0)
        return 0;
    uint64_t seq = 0;
    rc = s_write_booking (self, key, &b, &seq);
    char f[EL_LOG_FPR_BYTES], qr[256];
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "booking_answer_failed", "request=%s reason=%s",
                el_log_quote (key, qr, sizeof qr), el_strcode (rc));
        return rc;
    }
    self->answered++;
    if (b.status == EL__BOOKING_STATUS__BOOKING_DECLINED)
        self->declined++;
    char qe[128], qreason[128];
    el_log (EL_LOG_INFO, "booking_answered",
            "requester=%s request=%s equipment=%s status=%s reason=%s seq=%" PRIu64,
            el_log_fpr (request->origin, f), el_log_quote (request->body->key, qr, sizeof qr),
            el_log_quote (b.equipment_key, qe, sizeof qe),
            b.status == EL__BOOKING_STATUS__BOOKING_CONFIRMED ? "confirmed" : "declined",
            el_log_quote (b.reason[0] ? b.reason : "-", qreason, sizeof qreason), seq);
    return 1;
}

/* A request was withdrawn (tombstone): cancel our confirmed answer, if any. */
static void
s_withdrawn (el_duties_t *self, const el_entry_t *tomb)
{
    char key[EL_BOOKING_KEY_MAX];
    if (el_booking_key (tomb->origin, tomb->body->key, key) < 0)
        return;
    el_entry_t *ans = NULL;
    if (el_store_record_get (self->env.store, EL__KIND__BOOKING, self->env.kp->pk, key, &ans) < 0)
        return;
    El__Booking *b = el__booking__unpack (&el_pb_allocator, ans->payload_len,
                                          ans->payload);
    el_entry_destroy (&ans);
    if (!b)
        return;
    if (b->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED) {
        b->status = EL__BOOKING_STATUS__BOOKING_CANCELLED;
        char *old = b->reason;
        b->reason = (char *) "request withdrawn";
        uint64_t seq = 0;
        int rc = s_write_booking (self, key, b, &seq);
        b->reason = old;
        char qk[256];
        el_log (rc < 0 ? EL_LOG_ERROR : EL_LOG_INFO, "booking_cancelled",
                "request=%s reason=request_withdrawn%s%s", el_log_quote (key, qk, sizeof qk),
                rc < 0 ? " error=" : "", rc < 0 ? el_strcode (rc) : "");
    }
    el__booking__free_unpacked (b, &el_pb_allocator);
}

static int
s_pending_fn (void *arg, const el_entry_t *request)
{
    el_duties_t *self = arg;
    int rc = s_answer_auto (self, request);
    return rc < 0 ? rc : 0;
}

/* Answer every waiting request (auto policy). @return answered count or < 0. */
static int
s_answer_pending (el_duties_t *self)
{
    uint64_t before = self->answered;
    int rc = 0;
    /* passes of at most EL_DUTIES_PENDING_MAX; stop when a pass answers nothing */
    for (int pass = 0; pass < S_PENDING_PASSES && rc == 0; pass++) {
        uint64_t at = self->answered;
        rc = el_booking_pending (self->env.store, self->env.kp->pk, EL_DUTIES_PENDING_MAX,
                                 s_pending_fn, self);
        if (self->answered - at < EL_DUTIES_PENDING_MAX)
            break;
    }
    if (rc < 0)
        el_log (EL_LOG_ERROR, "booking_pending_failed", "reason=%s", el_strcode (rc));
    uint64_t n = self->answered - before;
    if (n)
        el_log (EL_LOG_INFO, "booking_pending_answered", "count=%" PRIu64, n);
    return rc < 0 ? rc : (int) n;
}

/* ------------------------------------------------------------ erasure */

static void
s_compact (el_duties_t *self, const char *why)
{
    /* the flag makes a crash between the tombstone and the copy harmless */
    (void) el_store_meta_put (self->env.store, EL_DUTIES_META_COMPACT, "1", 1);
    int rc = el_store_compact (self->env.store);
    if (rc == 0) {
        self->compactions++;
        (void) el_store_meta_put (self->env.store, EL_DUTIES_META_COMPACT, "0", 1);
    }
    el_log (rc < 0 ? EL_LOG_ERROR : EL_LOG_INFO, rc < 0 ? "compact_failed" : "compacted",
            "why=%s%s%s", why, rc < 0 ? " reason=" : "", rc < 0 ? el_strcode (rc) : "");
}

/* ------------------------------------------------------------ applied */

void
el_duties_on_applied (el_duties_t *self, uint64_t from_peer, const el_entry_t *const *entries,
                      const int *status, size_t n)
{
    (void) from_peer;
    if (!self || self->busy)
        return;
    self->busy = true;
    bool erased = false;
    for (size_t i = 0; i < n; i++) {
        const el_entry_t *e = entries[i];
        if (status[i] != EL_APPLIED || !e || e->is_stub || !e->body)
            continue;
        if (e->body->kind == EL__KIND__MEMBER && e->body->deleted)
            erased = true;
        else if (e->body->kind == EL__KIND__BOOKING_REQUEST) {
            if (e->body->deleted)
                s_withdrawn (self, e);
            else if (self->policy == EL_BOOKING_POLICY_AUTO)
                (void) s_answer_auto (self, e);
        }
    }
    if (erased)
        s_compact (self, "member_erased");
    self->busy = false;
}

/* ------------------------------------------------------------ control */

static void
s_text (el_control_t *ctl, El__ControlReply *reply, const char *text)
{
    reply->text = el_control_strdup (ctl, text);
}

static int
s_ctl_policy (el_duties_t *self, el_control_t *ctl, const El__PolicyRequest *req,
              El__ControlReply *reply)
{
    uint32_t answered = 0;
    if (req->set == EL__BOOKING_POLICY__BOOKING_POLICY_AUTO
        || req->set == EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL) {
        bool manual = req->set == EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL;
        int rc = el_store_meta_put (self->env.store, EL_DUTIES_META_POLICY,
                                    manual ? "manual" : "auto", manual ? 6 : 4);
        if (rc < 0)
            return rc;
        el_booking_policy_t old = self->policy;
        self->policy = manual ? EL_BOOKING_POLICY_MANUAL : EL_BOOKING_POLICY_AUTO;
        el_log (EL_LOG_INFO, "booking_policy", "policy=%s", manual ? "manual" : "auto");
        if (old == EL_BOOKING_POLICY_MANUAL && !manual) {
            self->busy = true;
            rc = s_answer_pending (self);
            self->busy = false;
            if (rc > 0)
                answered = (uint32_t) rc;
        }
    } else if (req->set != EL__BOOKING_POLICY__BOOKING_POLICY_UNSPECIFIED) {
        s_text (ctl, reply, "unknown booking policy");
        return EL_EINVAL;
    }
    El__PolicyReply *pr = el_control_alloc (ctl, sizeof *pr);
    if (!pr)
        return -ENOMEM;
    el__policy_reply__init (pr);
    pr->policy = self->policy == EL_BOOKING_POLICY_MANUAL ? EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL
                                                          : EL__BOOKING_POLICY__BOOKING_POLICY_AUTO;
    pr->answered = answered;
    reply->r_case = EL__CONTROL_REPLY__R_POLICY;
    reply->policy = pr;
    return 0;
}

static int
s_ctl_answer (el_duties_t *self, el_control_t *ctl, const El__AnswerRequest *req,
              El__ControlReply *reply)
{
    if (req->request_origin.len != EL_KEY_BYTES || !req->request_key || !req->request_key[0]
        || strlen (req->request_key) > EL_RECORD_KEY_MAX
        || (req->reason && strlen (req->reason) > 1000))
        return EL_EINVAL;
    if (req->status != EL__BOOKING_STATUS__BOOKING_CONFIRMED
        && req->status != EL__BOOKING_STATUS__BOOKING_DECLINED
        && req->status != EL__BOOKING_STATUS__BOOKING_CANCELLED) {
        s_text (ctl, reply, "an answer confirms, declines or cancels");
        return EL_EINVAL;
    }
    el_entry_t *request = NULL;
    El__BookingRequest *r = NULL;
    El__Booking *prev = NULL;
    char msg[300], key[EL_BOOKING_KEY_MAX];
    int rc = el_store_record_get (self->env.store, EL__KIND__BOOKING_REQUEST,
                                  req->request_origin.data, req->request_key, &request);
    if (rc == EL_ENOTFOUND) {
        s_text (ctl, reply, "unknown booking request (withdrawn, or not received yet)");
        return EL_EINVAL;
    }
    if (rc < 0)
        return rc;
    r = el__booking_request__unpack (&el_pb_allocator, request->payload_len,
                                     request->payload);
    rc = EL_EINVAL;
    if (!r)
        goto out;
    if (r->equipment_owner.len != EL_KEY_BYTES
        || memcmp (r->equipment_owner.data, self->env.kp->pk, EL_KEY_BYTES)) {
        s_text (ctl, reply, "this request is for another site's machine: only its owner answers");
        goto out;
    }
    rc = el_booking_key (request->origin, request->body->key, key);
    if (rc < 0)
        goto out;
    el_entry_t *ans = NULL;
    if (el_store_record_get (self->env.store, EL__KIND__BOOKING, self->env.kp->pk, key, &ans) == 0) {
        prev = el__booking__unpack (&el_pb_allocator, ans->payload_len,
                                    ans->payload);
        el_entry_destroy (&ans);
    }
    if (prev && prev->status == req->status) {
        snprintf (msg, sizeof msg, "already %s",
                  prev->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED ? "confirmed"
                  : prev->status == EL__BOOKING_STATUS__BOOKING_DECLINED ? "declined" : "cancelled");
        s_text (ctl, reply, msg);
        rc = EL_EINVAL;
        goto out;
    }
    if (req->status == EL__BOOKING_STATUS__BOOKING_CANCELLED
        && (!prev || prev->status != EL__BOOKING_STATUS__BOOKING_CONFIRMED)) {
        s_text (ctl, reply, "only a confirmed booking can be cancelled");
        rc = EL_EINVAL;
        goto out;
    }
    /* an answer moves forward only: a confirmed slot is cancelled (never
     * declined after the fact), a decline is reversed only on purpose */
    if (req->status == EL__BOOKING_STATUS__BOOKING_DECLINED && prev
        && prev->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED) {
        s_text (ctl, reply, "this booking is confirmed: withdraw it with entrelab bookings cancel");
        rc = EL_EINVAL;
        goto out;
    }
    if (req->status == EL__BOOKING_STATUS__BOOKING_DECLINED && prev
        && prev->status == EL__BOOKING_STATUS__BOOKING_CANCELLED) {
        s_text (ctl, reply, "this booking was cancelled");
        rc = EL_EINVAL;
        goto out;
    }
    if (req->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED && prev && !req->force
        && prev->status != EL__BOOKING_STATUS__BOOKING_CONFIRMED) {
        s_text (ctl, reply, prev->status == EL__BOOKING_STATUS__BOOKING_DECLINED
                            ? "this request was declined (--force confirms it anyway)"
                            : "this booking was cancelled (--force confirms it again)");
        rc = EL_EINVAL;
        goto out;
    }
    if (req->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED && !req->force) {
        if (r->end_us <= r->start_us) {
            s_text (ctl, reply, "end is not after start");
            rc = EL_EINVAL;
            goto out;
        }
        /* the auto policy would decline it: a coordinator confirms it on purpose */
        char training[128];
        rc = el_booking_lacks_training (self->env.store, self->env.kp->pk, r, training,
                                        sizeof training);
        if (rc < 0)
            goto out;
        if (rc > 0) {
            snprintf (msg, sizeof msg, "member '%s' lacks the required training '%s' "
                      "(--force to confirm anyway)", r->member ? r->member : "", training);
            s_text (ctl, reply, msg);
            rc = EL_EINVAL;
            goto out;
        }
        rc = el_booking_overlaps (self->env.store, self->env.kp->pk, r->equipment_key,
                                  r->start_us, r->end_us);
        if (rc < 0)
            goto out;
        if (rc > 0) {
            s_text (ctl, reply, "slot overlaps a confirmed booking (--force to confirm anyway)");
            rc = EL_EINVAL;
            goto out;
        }
    }
    El__Booking b = EL__BOOKING__INIT;
    b.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) request->origin };
    b.request_key = request->body->key;
    b.equipment_key = r->equipment_key;
    b.start_us = r->start_us;
    b.end_us = r->end_us;
    b.status = req->status;
    b.reason = req->reason ? req->reason : "";
    uint64_t seq = 0;
    rc = s_write_booking (self, key, &b, &seq);
    if (rc < 0) {
        if (rc == EL_EREVOKED)
            s_text (ctl, reply, EL_DUTIES_REVOKED_TEXT);
        goto out;
    }
    El__AnswerReply *ar = el_control_alloc (ctl, sizeof *ar);
    char *k = el_control_strdup (ctl, key);
    rc = -ENOMEM;
    if (!ar || !k)
        goto out;
    el__answer_reply__init (ar);
    ar->seq = seq;
    ar->booking_key = k;
    reply->r_case = EL__CONTROL_REPLY__R_ANSWER;
    reply->answer = ar;
    char qk[256];
    el_log (EL_LOG_INFO, "booking_answered", "request=%s status=%s by=coordinator seq=%" PRIu64,
            el_log_quote (key, qk, sizeof qk),
            b.status == EL__BOOKING_STATUS__BOOKING_CONFIRMED ? "confirmed"
            : b.status == EL__BOOKING_STATUS__BOOKING_DECLINED ? "declined" : "cancelled", seq);
    rc = 0;
out:
    if (prev)
        el__booking__free_unpacked (prev, &el_pb_allocator);
    if (r)
        el__booking_request__free_unpacked (r, &el_pb_allocator);
    el_entry_destroy (&request);
    return rc;
}

int
el_duties_control (el_duties_t *self, el_control_t *ctl, const El__ControlRequest *req,
                   El__ControlReply *reply)
{
    switch (req->r_case) {
    case EL__CONTROL_REQUEST__R_POLICY:
        return s_ctl_policy (self, ctl, req->policy, reply);
    case EL__CONTROL_REQUEST__R_ANSWER:
        return s_ctl_answer (self, ctl, req->answer, reply);
    default:
        s_text (ctl, reply, "unknown request");
        return EL_EINVAL;
    }
}

/* ------------------------------------------------------------ life */

int
el_duties_new (const el_duties_env_t *env, el_duties_t **ret)
{
    el_duties_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->env = *env;
    s_policy_load (self);
    s_revoked_load (self);
    void *val = NULL;
    size_t len = 0;
    if (el_store_meta_get (env->store, EL_DUTIES_META_COMPACT, &val, &len) == 0) {
        bool due = len == 1 && ((char *) val)[0] == '1';
        free (val);
        if (due)
            s_compact (self, "interrupted");
    }
    if (self->policy == EL_BOOKING_POLICY_AUTO) {
        self->busy = true;
        (void) s_answer_pending (self);
        self->busy = false;
    }
    *ret = self;
    return 0;
}

void
el_duties_destroy (el_duties_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/* ------------------------------------------------------------ the site role */

typedef struct {
    el_node_t *node;
    el_duties_t *duties;
} s_site_t;

/* Tell the reactor what we hold of our own admission. */
static void
s_admission (s_site_t *self, bool admitted)
{
    int64_t revoked = el_duties_revoked_since (self->duties);
    el_node_set_admission (self->node, admitted && !revoked, revoked);
}

static int
s_site_start (el_node_t *node, void **ret_state)
{
    s_site_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->node = node;
    el_duties_env_t env = {
        .store = el_node_store (node),
        .sync = el_node_sync (node),
        .kp = el_node_keypair (node),
        .cfg = el_node_config (node),
    };
    int rc = el_duties_new (&env, &self->duties);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "duties_failed", "reason=%s", el_strcode (rc));
        free (self);
        return rc;
    }
    if (el_duties_revoked_since (self->duties))
        s_admission (self, false);      /* the broker told us earlier */
    *ret_state = self;
    return 0;
}

static void
s_site_stop (void **state_p)
{
    s_site_t *self = *state_p;
    if (!self)
        return;
    el_duties_destroy (&self->duties);
    free (self);
    *state_p = NULL;
}

static void
s_site_on_applied (void *state, uint64_t from_peer, const el_entry_t *const *entries,
                   const int *status, size_t n)
{
    s_site_t *self = state;
    el_duties_on_applied (self->duties, from_peer, entries, status, n);
}

/* Our own Site record: admitted, or revoked. */
static void
s_site_on_site (void *state, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status,
                bool at_start, int64_t signed_us)
{
    s_site_t *self = state;
    char f[EL_LOG_FPR_BYTES];
    const el_keypair_t *kp = el_node_keypair (self->node);
    if (memcmp (site, kp->pk, EL_KEY_BYTES))
        return;
    char id[EL_KEY_TEXT_BYTES];
    el_key_to_text (kp->pk, id);
    const uint8_t *network = el_node_network (self->node);
    if (status == EL__SITE_STATUS__ACTIVE) {
        if (!el_node_is_admitted (self->node) && !at_start)
            el_log (EL_LOG_INFO, "admitted", "site=%s network=%s", id, el_log_fpr (network, f));
        /* a revocation learned from the broker's Error stands until an
         * entry the broker signed after it admits us again (an older one
         * relayed late does not count) */
        if (!at_start && signed_us >= el_duties_revoked_since (self->duties))
            (void) el_duties_set_revoked (self->duties, false, 0);
        s_admission (self, true);
    } else if (status == EL__SITE_STATUS__REVOKED) {
        (void) el_duties_set_revoked (self->duties, true, el_now_us ());
        s_admission (self, false);
        el_log (EL_LOG_ERROR, "self_revoked", "site=%s network=%s", id, el_log_fpr (network, f));
    }
}

/* Our broker ended our session with ERROR_REVOKED: remember it, refuse local
 * writes. */
static void
s_site_on_session_end (void *state, const uint8_t peer[EL_KEY_BYTES], bool uplink, int reason,
                       bool by_peer)
{
    s_site_t *self = state;
    (void) peer;
    if (!uplink || reason != EL_EREVOKED || !by_peer || el_duties_revoked_since (self->duties))
        return;
    char f[EL_LOG_FPR_BYTES], id[EL_KEY_TEXT_BYTES];
    el_key_to_text (el_node_keypair (self->node)->pk, id);
    (void) el_duties_set_revoked (self->duties, true, el_now_us ());
    s_admission (self, false);
    el_log (EL_LOG_ERROR, "self_revoked", "site=%s network=%s source=broker_error", id,
            el_log_fpr (el_node_network (self->node), f));
}

static int
s_site_policy (void *state, el_control_t *ctl, const El__ControlRequest *req,
               El__ControlReply *reply)
{
    return s_ctl_policy (((s_site_t *) state)->duties, ctl, req->policy, reply);
}

static int
s_site_answer (void *state, el_control_t *ctl, const El__ControlRequest *req,
               El__ControlReply *reply)
{
    return s_ctl_answer (((s_site_t *) state)->duties, ctl, req->answer, reply);
}

static const el_route_t s_site_routes[] = {
    { EL__CONTROL_REQUEST__R_POLICY, s_site_policy },
    { EL__CONTROL_REQUEST__R_ANSWER, s_site_answer },
};

const el_role_ops_t el_site_role = {
    .name = "site",
    .start = s_site_start,
    .stop = s_site_stop,
    .on_applied = s_site_on_applied,
    .on_site = s_site_on_site,
    .on_session_end = s_site_on_session_end,
    .routes = s_site_routes,
    .routes_n = sizeof s_site_routes / sizeof s_site_routes[0],
};
