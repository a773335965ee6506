/* el_join.c — see el_join.h. */
#include "el_join.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_control_call.h"
#include "el_zap.h"
#include "el_zmq.h"
#include "el_config.h"   /* el_config_timezone_ok */

#define S_STOP_ENDPOINT     "inproc://el-join-stop"
#define S_CONTROL_TIMEOUT_MS 5000
#define S_ROUTE_MAX         256
#define S_ADDR_MAX          64

/* ------------------------------------------------------------ join listener */

typedef struct {
    char addr[S_ADDR_MAX];
    int64_t window_us;          /* start of the current minute */
    uint32_t handshakes, redeems;
} s_addr_t;

struct el_join {
    void *ctx;
    void *router, *stop_in, *stop_out;
    el_zap_t *zap;              /* RFC 27 handler of the join domain */
    pthread_t thread;
    bool running;
    char endpoint[1024];
    char control[1024];
    uint8_t broker[EL_KEY_BYTES];
    s_addr_t *addrs;            /* EL_JOIN_ADDRESSES_MAX */
    int64_t burst_window_us;
    uint32_t burst;
    _Atomic uint64_t handshakes_allowed, handshakes_refused, redeemed, refused, dropped;
};

/* The rate-limit slot of @p addr (the oldest one is reused when full). */
static s_addr_t *
s_addr (el_join_t *self, const char *addr, int64_t now)
{
    s_addr_t *oldest = &self->addrs[0];
    for (size_t i = 0; i < EL_JOIN_ADDRESSES_MAX; i++) {
        s_addr_t *a = &self->addrs[i];
        if (!strncmp (a->addr, addr, S_ADDR_MAX - 1))
            goto found;
        if (a->window_us < oldest->window_us)
            oldest = a;
        continue;
found:
        if (now - a->window_us >= 60000000) {
            a->window_us = now;
            a->handshakes = a->redeems = 0;
        }
        return a;
    }
    memset (oldest, 0, sizeof *oldest);
    snprintf (oldest->addr, S_ADDR_MAX, "%s", addr);
    oldest->window_us = now;
    return oldest;
}

/* ZAP (ZeroMQ RFC 27): any CURVE key for our domain, rate-limited by address. */
/* The join endpoint's ZAP policy: any key, at most EL_JOIN_HANDSHAKES_PER_MIN
 * handshakes per minute from one address; User-Id = the client's CURVE key. */
static bool
s_zap_policy (void *arg, const uint8_t curve_pk[32], const char *address,
              char user_id[EL_ZAP_USER_MAX], const uint8_t **ret_site, const char **ret_reason)
{
    el_join_t *self = arg;
    (void) ret_site;
    s_addr_t *a = s_addr (self, address, el_now_us ());
    if (a->handshakes >= EL_JOIN_HANDSHAKES_PER_MIN) {
        *ret_reason = "rate limited";
        return false;
    }
    a->handshakes++;
    zmq_z85_encode (user_id, curve_pk, 32);
    *ret_reason = "OK";
    return true;
}

/* Every decision, counted for el_join_stats() (read from other threads). */
static void
s_zap_decision (void *arg, bool allowed, const uint8_t curve_pk[32], const uint8_t *site,
                const char *address, const char *reason)
{
    el_join_t *self = arg;
    (void) curve_pk, (void) site, (void) address, (void) reason;
    if (allowed)
        self->handshakes_allowed++;
    else
        self->handshakes_refused++;
}

static void
s_reply (el_join_t *self, const uint8_t *route, size_t route_len, const El__JoinReply *r)
{
    uint8_t buf[EL_JOIN_FRAME_MAX];
    size_t len = el__join_reply__get_packed_size (r);
    if (len > sizeof buf)
        return;
    el__join_reply__pack (r, buf);
    if (zmq_send (self->router, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send (self->router, buf, len, ZMQ_DONTWAIT);
}

/* One JoinRequest; anything but a well-formed, signed, in-limit request for
 * a known invite is dropped unanswered. */
static void
s_request (el_join_t *self, const uint8_t *route, size_t route_len, zmq_msg_t *body)
{
    const char *uid = zmq_msg_gets (body, "User-Id");
    const char *addr = zmq_msg_gets (body, "Peer-Address");
    El__JoinRequest *jr = NULL;
    El__ControlReply *creply = NULL;
    int64_t now = el_now_us ();
    if (!uid || zmq_msg_size (body) > EL_JOIN_FRAME_MAX)
        goto drop;
    s_addr_t *a = s_addr (self, addr ? addr : "?", now);
    if (a->redeems >= EL_JOIN_REDEEMS_PER_MIN)
        goto drop;
    a->redeems++;               /* every attempt counts for its address: guessing stays slow */
    jr = el__join_request__unpack (&el_pb_allocator, zmq_msg_size (body), zmq_msg_data (body));
    if (!jr || jr->version != 1 || jr->site_key.len != EL_KEY_BYTES
        || jr->secret.len != EL_INVITE_SECRET_BYTES || jr->sig.len != EL_SIG_BYTES
        || (jr->name && strlen (jr->name) > EL_SITE_NAME_MAX)
        || (jr->timezone && jr->timezone[0] && !el_config_timezone_ok (jr->timezone)))
        goto drop;
    /* the CURVE key of the connection is the joining key's */
    uint8_t curve[32], seen[32];
    if (el_key_curve (jr->site_key.data, curve) < 0 || strlen (uid) != 40
        || !zmq_z85_decode (seen, uid) || memcmp (curve, seen, 32))
        goto drop;
    if (el_token_join_verify (jr->site_key.data, self->broker, jr->secret.data, jr->sig.data) < 0)
        goto drop;
    /* only a well-formed request signed by the connection's key spends the
     * budget of all addresses: junk from many addresses cannot lock a real
     * redemption out */
    if (now - self->burst_window_us >= 1000000) {
        self->burst_window_us = now;
        self->burst = 0;
    }
    if (self->burst >= EL_JOIN_REDEEMS_BURST)
        goto drop;
    self->burst++;
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__RedeemRequest rr = EL__REDEEM_REQUEST__INIT;
    rr.secret = jr->secret;
    rr.site_key = jr->site_key;
    rr.name = jr->name ? jr->name : "";
    rr.timezone = jr->timezone ? jr->timezone : "";
    req.r_case = EL__CONTROL_REQUEST__R_REDEEM;
    req.redeem = &rr;
    req.id = (uint64_t) now;
    if (el_control_call (self->ctx, self->control, &req, S_CONTROL_TIMEOUT_MS, &creply) < 0)
        goto drop;
    if (creply->code == EL_ENOTFOUND)
        goto drop;              /* unknown secret: say nothing */
    El__JoinReply out = EL__JOIN_REPLY__INIT;
    out.code = creply->code;
    out.text = creply->text ? creply->text : "";
    out.network = (ProtobufCBinaryData) { EL_KEY_BYTES, self->broker };
    if (creply->code == 0 && creply->r_case == EL__CONTROL_REPLY__R_REDEEM) {
        out.sync_endpoint = creply->redeem->sync_endpoint;
        out.seq = creply->redeem->seq;
        out.name = creply->redeem->name;
        self->redeemed++;
    } else
        self->refused++;
    s_reply (self, route, route_len, &out);
    goto out;
drop:
    self->dropped++;
out:
    if (creply)
        el__control_reply__free_unpacked (creply, &el_pb_allocator);
    if (jr)
        el__join_request__free_unpacked (jr, &el_pb_allocator);
}

static void
s_router_handle (el_join_t *self)
{
    for (int i = 0; i < 64; i++) {
        uint8_t route[S_ROUTE_MAX];
        int n = zmq_recv (self->router, route, sizeof route, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        if (!el_zmq_more (self->router) || n > S_ROUTE_MAX) {
            el_zmq_drain (self->router);
            self->dropped++;
            continue;
        }
        zmq_msg_t body;
        zmq_msg_init (&body);
        if (zmq_msg_recv (&body, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&body);
            return;
        }
        if (el_zmq_drain (self->router) > 0)
            self->dropped++;            /* one frame per request */
        else
            s_request (self, route, (size_t) n, &body);
        zmq_msg_close (&body);
    }
}

static void *
s_thread (void *arg)
{
    el_join_t *self = arg;
    for (;;) {
        zmq_pollitem_t items[3] = {
            { self->stop_in, 0, ZMQ_POLLIN, 0 },
            { el_zap_socket (self->zap), 0, ZMQ_POLLIN, 0 },
            { self->router, 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            break;
        if (items[1].revents & ZMQ_POLLIN)
            (void) el_zap_handle (self->zap);
        if (items[2].revents & ZMQ_POLLIN)
            s_router_handle (self);
    }
    return NULL;
}

static void
s_close (void **s)
{
    if (*s) {
        zmq_close (*s);
        *s = NULL;
    }
}

int
el_join_new (const char *bind, const el_keypair_t *broker, const char *control,
             el_join_t **ret)
{
    int rc = -ENOMEM;
    el_join_t *self = calloc (1, sizeof *self);
    if (!self)
        return rc;
    self->addrs = calloc (EL_JOIN_ADDRESSES_MAX, sizeof *self->addrs);
    if (!self->addrs)
        goto out_free;
    memcpy (self->broker, broker->pk, EL_KEY_BYTES);
    snprintf (self->control, sizeof self->control, "%s", control);
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
    rc = el_keypair_curve_z85 (broker, pub, sec);
    if (rc < 0)
        goto out_free;
    self->ctx = zmq_ctx_new ();
    if (!self->ctx) {
        rc = -errno;
        goto out_wipe;
    }
    int zero = 0;
    int64_t max = EL_JOIN_FRAME_MAX;
    /* ZAP first: the handler must be bound before the CURVE server binds */
    rc = el_zap_new_policy (self->ctx, EL_JOIN_DOMAIN, s_zap_policy, self, s_zap_decision, self,
                            &self->zap);
    if (rc < 0)
        goto out_close;
    self->stop_in = zmq_socket (self->ctx, ZMQ_PAIR);
    self->stop_out = zmq_socket (self->ctx, ZMQ_PAIR);
    self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
    if (!self->stop_in || !self->stop_out || !self->router) {
        rc = -errno;
        goto out_close;
    }
    zmq_setsockopt (self->stop_in, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->stop_out, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (self->stop_in, S_STOP_ENDPOINT) != 0
        || zmq_connect (self->stop_out, S_STOP_ENDPOINT) != 0) {
        rc = -errno;
        goto out_close;
    }
    zmq_setsockopt (self->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &max, sizeof max);
    rc = el_zap_server_setup (self->router, sec, EL_JOIN_DOMAIN);
    if (rc < 0)
        goto out_close;
    if (zmq_bind (self->router, bind) != 0) {
        rc = -errno;
        goto out_close;
    }
    size_t elen = sizeof self->endpoint;
    if (zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &elen) != 0)
        snprintf (self->endpoint, sizeof self->endpoint, "%s", bind);
    rc = -pthread_create (&self->thread, NULL, s_thread, self);
    if (rc < 0)
        goto out_close;
    self->running = true;
    sodium_memzero (sec, sizeof sec);
    *ret = self;
    return 0;
out_close:
    s_close (&self->router);
    el_zap_destroy (&self->zap);
    s_close (&self->stop_in);
    s_close (&self->stop_out);
    zmq_ctx_term (self->ctx);
out_wipe:
    sodium_memzero (sec, sizeof sec);
out_free:
    free (self->addrs);
    free (self);
    return rc;
}

void
el_join_destroy (el_join_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_join_t *self = *self_p;
    if (self->running) {
        zmq_send (self->stop_out, "", 0, 0);
        pthread_join (self->thread, NULL);
    }
    s_close (&self->router);
    el_zap_destroy (&self->zap);
    s_close (&self->stop_in);
    s_close (&self->stop_out);
    zmq_ctx_term (self->ctx);
    free (self->addrs);
    free (self);
    *self_p = NULL;
}

const char *
el_join_endpoint (const el_join_t *self)
{
    return self->endpoint;
}

void
el_join_stats (el_join_t *self, el_join_stats_t *ret)
{
    ret->handshakes_allowed = self->handshakes_allowed;
    ret->handshakes_refused = self->handshakes_refused;
    ret->redeemed = self->redeemed;
    ret->refused = self->refused;
    ret->dropped = self->dropped;
}
