/* el_invite.c — see el_invite.h. */
#include "el_invite.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_admit.h"
#include "el_control.h"
#include "el_zap.h"     /* ZMQ_ZAP_ENFORCE_DOMAIN on libzmq without the draft API */

#define S_SIG_CONTEXT       "entrelab-join-v1"
#define S_META_PREFIX       "invite."
#define S_ZAP_ENDPOINT      "inproc://zeromq.zap.01"
#define S_STOP_ENDPOINT     "inproc://el-join-stop"
#define S_CONTROL_TIMEOUT_MS 5000
#define S_ROUTE_MAX         256
#define S_ADDR_MAX          64

/* ------------------------------------------------------------ tokens */

int
el_invite_token_encode (const El__InviteToken *t, char **ret)
{
    size_t len = el__invite_token__get_packed_size (t);
    size_t b64 = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (len > EL_INVITE_TOKEN_MAX || sizeof EL_INVITE_PREFIX + b64 > EL_INVITE_TOKEN_MAX)
        return EL_ETOOBIG;
    uint8_t *buf = malloc (len ? len : 1);
    char *text = malloc (sizeof EL_INVITE_PREFIX + b64);
    if (!buf || !text) {
        free (buf);
        free (text);
        return -ENOMEM;
    }
    el__invite_token__pack (t, buf);
    memcpy (text, EL_INVITE_PREFIX, sizeof EL_INVITE_PREFIX - 1);
    sodium_bin2base64 (text + sizeof EL_INVITE_PREFIX - 1, b64, buf, len,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free (buf);
    *ret = text;
    return 0;
}

int
el_invite_token_decode (const char *text, El__InviteToken **ret)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    size_t len = strlen (text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r'
                   || text[len - 1] == '\t'))
        len--;
    if (len > EL_INVITE_TOKEN_MAX)
        return EL_ETOOBIG;
    size_t plen = sizeof EL_INVITE_PREFIX - 1;
    if (len <= plen || strncmp (text, EL_INVITE_PREFIX, plen))
        return EL_EINVAL;
    uint8_t *bin = malloc (len);
    if (!bin)
        return -ENOMEM;
    size_t bin_len = 0;
    int rc = EL_EINVAL;
    if (sodium_base642bin (bin, len, text + plen, len - plen, NULL, &bin_len, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        goto out;
    El__InviteToken *t = el__invite_token__unpack (&el_pb_allocator, bin_len, bin);
    if (!t)
        goto out;
    if (t->version != 1 || t->broker_key.len != EL_KEY_BYTES
        || t->secret.len != EL_INVITE_SECRET_BYTES || !t->join_endpoint
        || !strstr (t->join_endpoint, "://") || strlen (t->join_endpoint) > 1000) {
        el__invite_token__free_unpacked (t, &el_pb_allocator);
        goto out;
    }
    *ret = t;
    rc = 0;
out:
    free (bin);
    return rc;
}

static void
s_sig_msg (const uint8_t broker[EL_KEY_BYTES], const uint8_t secret[EL_INVITE_SECRET_BYTES],
           uint8_t out[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES])
{
    memcpy (out, S_SIG_CONTEXT, sizeof S_SIG_CONTEXT - 1);
    memcpy (out + sizeof S_SIG_CONTEXT - 1, broker, EL_KEY_BYTES);
    memcpy (out + sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES, secret, EL_INVITE_SECRET_BYTES);
}

int
el_invite_join_sign (const el_keypair_t *site, const uint8_t broker[EL_KEY_BYTES],
                     const uint8_t secret[EL_INVITE_SECRET_BYTES], uint8_t sig[EL_SIG_BYTES])
{
    uint8_t msg[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES];
    s_sig_msg (broker, secret, msg);
    crypto_sign_detached (sig, NULL, msg, sizeof msg, site->sk);
    return 0;
}

int
el_invite_join_verify (const uint8_t site[EL_KEY_BYTES], const uint8_t broker[EL_KEY_BYTES],
                       const uint8_t secret[EL_INVITE_SECRET_BYTES],
                       const uint8_t sig[EL_SIG_BYTES])
{
    uint8_t msg[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES];
    s_sig_msg (broker, secret, msg);
    return crypto_sign_verify_detached (sig, msg, sizeof msg, site) == 0 ? 0 : EL_EBADSIG;
}

/* ------------------------------------------------------------ broker side */

static void
s_meta_name (const uint8_t secret[EL_INVITE_SECRET_BYTES], char out[sizeof S_META_PREFIX + 64])
{
    uint8_t h[32];
    crypto_generichash (h, sizeof h, secret, EL_INVITE_SECRET_BYTES, NULL, 0);
    memcpy (out, S_META_PREFIX, sizeof S_META_PREFIX - 1);
    sodium_bin2hex (out + sizeof S_META_PREFIX - 1, 65, h, sizeof h);
}

static int
s_record_put (el_store_t *store, const char *name, const El__InviteRecord *r)
{
    size_t len = el__invite_record__get_packed_size (r);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__invite_record__pack (r, buf);
    int rc = el_store_meta_put (store, name, buf, len);
    free (buf);
    return rc;
}

int
el_invite_create (el_store_t *store, int64_t now_us, int64_t ttl_us, const char *name,
                  El__SiteKind kind, const char *sync_endpoint,
                  uint8_t secret[EL_INVITE_SECRET_BYTES], int64_t *ret_expires_us)
{
    if (ttl_us == 0)
        ttl_us = EL_INVITE_TTL_DEFAULT_US;
    if (ttl_us < 0 || ttl_us > EL_INVITE_TTL_MAX_US)
        return EL_EINVAL;
    uint8_t s[EL_INVITE_SECRET_BYTES];
    randombytes_buf (s, sizeof s);
    El__InviteRecord r = EL__INVITE_RECORD__INIT;
    r.created_us = now_us;
    r.expires_us = now_us + ttl_us;
    r.name = (char *) (name ? name : "");
    r.kind = kind;
    r.sync_endpoint = (char *) (sync_endpoint ? sync_endpoint : "");
    char meta[sizeof S_META_PREFIX + 64];
    s_meta_name (s, meta);
    int rc = s_record_put (store, meta, &r);
    if (rc < 0)
        return rc;
    memcpy (secret, s, sizeof s);
    sodium_memzero (s, sizeof s);
    *ret_expires_us = r.expires_us;
    return 0;
}

static char *
s_dup (const char *text)
{
    return strdup (text ? text : "");
}

/* EL_EINVAL with the reason in @p err when the broker already holds a Site
 * record for @p site (admitted or revoked); 0 for a key it never admitted. */
static int
s_known_site (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
              const uint8_t site[EL_KEY_BYTES], char *err, size_t err_size)
{
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_entry_t *e = NULL;
    int rc = el_store_record_get (store, EL__KIND__SITE, broker, key, &e);
    if (rc == EL_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    uint8_t got[EL_KEY_BYTES];
    El__SiteStatus status;
    rc = el_admit_parse (e, broker, got, &status);
    if (rc == EL_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    El__Site *rec = e->payload ? el__site__unpack (&el_pb_allocator, e->payload_len, e->payload)
                               : NULL;
    const char *was = rec && rec->name && rec->name[0] ? rec->name : NULL;
    if (status == EL__SITE_STATUS__ACTIVE)
        snprintf (err, err_size, "this site is already admitted%s%.*s%s; an invite is for a "
                  "new site only", was ? " as '" : "", EL_ADMIT_NAME_MAX, was ? was : "",
                  was ? "'" : "");
    else
        snprintf (err, err_size, "this site was revoked; only the broker's coordinator can "
                  "admit it again (entrelab admit)");
    if (rec)
        el__site__free_unpacked (rec, &el_pb_allocator);
    rc = EL_EINVAL;
out:
    el_entry_destroy (&e);
    return rc;
}

int
el_invite_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker,
                  int64_t now_us, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                  const uint8_t site[EL_KEY_BYTES], const char *name, uint64_t *ret_seq,
                  char **ret_sync_endpoint, char **ret_name, char *err, size_t err_size)
{
    char meta[sizeof S_META_PREFIX + 64];
    s_meta_name (secret, meta);
    void *val = NULL;
    size_t len = 0;
    int rc = el_store_meta_get (store, meta, &val, &len);
    if (rc < 0)
        return rc;
    El__InviteRecord *r = el__invite_record__unpack (&el_pb_allocator, len, val);
    free (val);
    if (!r)
        return EL_ESTORE;
    if (r->used_us) {
        snprintf (err, err_size, "invite already used");
        rc = EL_EINVAL;
        goto out;
    }
    if (now_us >= r->expires_us) {
        snprintf (err, err_size, "invite expired");
        rc = EL_EINVAL;
        goto out;
    }
    if (!memcmp (site, broker->pk, EL_KEY_BYTES)) {
        snprintf (err, err_size, "the broker cannot join its own network");
        rc = EL_EINVAL;
        goto out;
    }
    /* an invite admits a new key only: it never re-admits a revoked site
     * nor renames an admitted one (that is `entrelab admit` on the broker) */
    rc = s_known_site (store, broker->pk, site, err, err_size);
    if (rc < 0)
        goto out;
    const char *use_name = name && name[0] ? name : r->name;
    if (strlen (use_name) > EL_ADMIT_NAME_MAX) {
        snprintf (err, err_size, "name longer than %d bytes", EL_ADMIT_NAME_MAX);
        rc = EL_EINVAL;
        goto out;
    }
    r->used_us = now_us;
    r->used_by = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
    rc = s_record_put (store, meta, r);
    r->used_by = (ProtobufCBinaryData) { 0, NULL };
    if (rc < 0)
        goto out;
    *ret_sync_endpoint = s_dup (r->sync_endpoint);
    *ret_name = s_dup (use_name);
    if (!*ret_sync_endpoint || !*ret_name) {
        rc = -ENOMEM;
        goto out_undo;
    }
    rc = el_admit_write (sync, broker, site, NULL, use_name[0] ? use_name : NULL,
                         r->kind ? r->kind : EL__SITE_KIND__PERIPHERAL, EL__SITE_STATUS__ACTIVE,
                         ret_seq);
    if (rc == 0)
        goto out;
out_undo:
    free (*ret_sync_endpoint);
    free (*ret_name);
    *ret_sync_endpoint = *ret_name = NULL;
    r->used_us = 0;
    (void) s_record_put (store, meta, r);
out:
    el__invite_record__free_unpacked (r, &el_pb_allocator);
    return rc;
}

/* ------------------------------------------------------------ join listener */

typedef struct {
    char addr[S_ADDR_MAX];
    int64_t window_us;          /* start of the current minute */
    uint32_t handshakes, redeems;
} s_addr_t;

struct el_join {
    void *ctx;
    void *router, *zap, *stop_in, *stop_out;
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
static void
s_zap_handle (el_join_t *self)
{
    zmq_msg_t f[7];
    int n = 0, more = 1;
    size_t ms = sizeof more;
    while (more && n < 7) {
        zmq_msg_init (&f[n]);
        if (zmq_msg_recv (&f[n], self->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&f[n]);
            break;
        }
        n++;
        zmq_getsockopt (self->zap, ZMQ_RCVMORE, &more, &ms);
    }
    while (more) {              /* more frames than RFC 27 has: drop them */
        zmq_msg_t x;
        zmq_msg_init (&x);
        if (zmq_msg_recv (&x, self->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&x);
            break;
        }
        zmq_msg_close (&x);
        zmq_getsockopt (self->zap, ZMQ_RCVMORE, &more, &ms);
    }
    const char *status = "400", *text = "refused";
    char user[EL_Z85_BYTES] = "";
    if (n == 7 && zmq_msg_size (&f[0]) == 3 && !memcmp (zmq_msg_data (&f[0]), "1.0", 3)
        && zmq_msg_size (&f[2]) == strlen (EL_JOIN_DOMAIN)
        && !memcmp (zmq_msg_data (&f[2]), EL_JOIN_DOMAIN, strlen (EL_JOIN_DOMAIN))
        && zmq_msg_size (&f[5]) == 5 && !memcmp (zmq_msg_data (&f[5]), "CURVE", 5)
        && zmq_msg_size (&f[6]) == 32) {
        char addr[S_ADDR_MAX];
        size_t al = zmq_msg_size (&f[3]) < S_ADDR_MAX - 1 ? zmq_msg_size (&f[3]) : S_ADDR_MAX - 1;
        memcpy (addr, zmq_msg_data (&f[3]), al);
        addr[al] = '\0';
        s_addr_t *a = s_addr (self, addr, el_now_us ());
        if (a->handshakes < EL_JOIN_HANDSHAKES_PER_MIN) {
            a->handshakes++;
            zmq_z85_encode (user, zmq_msg_data (&f[6]), 32);
            status = "200";
            text = "OK";
        } else
            text = "rate limited";
    }
    if (status[0] == '2')
        self->handshakes_allowed++;
    else
        self->handshakes_refused++;
    if (n >= 2) {
        zmq_send (self->zap, "1.0", 3, ZMQ_SNDMORE);
        zmq_send (self->zap, zmq_msg_data (&f[1]), zmq_msg_size (&f[1]), ZMQ_SNDMORE);
        zmq_send (self->zap, status, 3, ZMQ_SNDMORE);
        zmq_send (self->zap, text, strlen (text), ZMQ_SNDMORE);
        zmq_send (self->zap, user, strlen (user), ZMQ_SNDMORE);
        zmq_send (self->zap, "", 0, 0);
    } else if (n == 1) {
        /* a REP must answer: a malformed request still gets a refusal */
        zmq_send (self->zap, "1.0", 3, ZMQ_SNDMORE);
        zmq_send (self->zap, "", 0, ZMQ_SNDMORE);
        zmq_send (self->zap, "400", 3, ZMQ_SNDMORE);
        zmq_send (self->zap, "malformed", 9, ZMQ_SNDMORE);
        zmq_send (self->zap, "", 0, ZMQ_SNDMORE);
        zmq_send (self->zap, "", 0, 0);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close (&f[i]);
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
    if (now - self->burst_window_us >= 1000000) {
        self->burst_window_us = now;
        self->burst = 0;
    }
    if (self->burst >= EL_JOIN_REDEEMS_BURST)
        goto drop;
    a->redeems++;
    self->burst++;
    jr = el__join_request__unpack (&el_pb_allocator, zmq_msg_size (body), zmq_msg_data (body));
    if (!jr || jr->version != 1 || jr->site_key.len != EL_KEY_BYTES
        || jr->secret.len != EL_INVITE_SECRET_BYTES || jr->sig.len != EL_SIG_BYTES
        || (jr->name && strlen (jr->name) > EL_ADMIT_NAME_MAX))
        goto drop;
    /* the CURVE key of the connection is the joining key's */
    uint8_t curve[32], seen[32];
    if (el_key_curve (jr->site_key.data, curve) < 0 || strlen (uid) != 40
        || !zmq_z85_decode (seen, uid) || memcmp (curve, seen, 32))
        goto drop;
    if (el_invite_join_verify (jr->site_key.data, self->broker, jr->secret.data, jr->sig.data) < 0)
        goto drop;
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__RedeemRequest rr = EL__REDEEM_REQUEST__INIT;
    rr.secret = jr->secret;
    rr.site_key = jr->site_key;
    rr.name = jr->name ? jr->name : "";
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
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt (self->router, ZMQ_RCVMORE, &more, &ms);
        if (!more || n > S_ROUTE_MAX) {
            self->dropped++;
            continue;
        }
        zmq_msg_t body;
        zmq_msg_init (&body);
        if (zmq_msg_recv (&body, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&body);
            return;
        }
        zmq_getsockopt (self->router, ZMQ_RCVMORE, &more, &ms);
        if (more) {
            while (more) {
                zmq_msg_t x;
                zmq_msg_init (&x);
                if (zmq_msg_recv (&x, self->router, ZMQ_DONTWAIT) < 0)
                    more = 0;
                else
                    zmq_getsockopt (self->router, ZMQ_RCVMORE, &more, &ms);
                zmq_msg_close (&x);
            }
            self->dropped++;
        } else
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
            { self->zap, 0, ZMQ_POLLIN, 0 },
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
            s_zap_handle (self);
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
    if ((rc = el_keypair_curve_z85 (broker, pub, sec)) < 0)
        goto out_free;
    self->ctx = zmq_ctx_new ();
    if (!self->ctx) {
        rc = -errno;
        goto out_wipe;
    }
    int zero = 0, one = 1;
    int64_t max = EL_JOIN_FRAME_MAX;
    /* ZAP first: the handler must be bound before the CURVE server binds */
    self->zap = zmq_socket (self->ctx, ZMQ_REP);
    self->stop_in = zmq_socket (self->ctx, ZMQ_PAIR);
    self->stop_out = zmq_socket (self->ctx, ZMQ_PAIR);
    self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
    if (!self->zap || !self->stop_in || !self->stop_out || !self->router) {
        rc = -errno;
        goto out_close;
    }
    zmq_setsockopt (self->zap, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->stop_in, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->stop_out, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (self->zap, S_ZAP_ENDPOINT) != 0 || zmq_bind (self->stop_in, S_STOP_ENDPOINT) != 0
        || zmq_connect (self->stop_out, S_STOP_ENDPOINT) != 0) {
        rc = -errno;
        goto out_close;
    }
    zmq_setsockopt (self->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (zmq_setsockopt (self->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt (self->router, ZMQ_CURVE_SECRETKEY, sec, 40) != 0
        || zmq_setsockopt (self->router, ZMQ_ZAP_DOMAIN, EL_JOIN_DOMAIN,
                           strlen (EL_JOIN_DOMAIN)) != 0) {
        rc = -errno;
        goto out_close;
    }
    zmq_setsockopt (self->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one);
    if (zmq_bind (self->router, bind) != 0) {
        rc = -errno;
        goto out_close;
    }
    size_t elen = sizeof self->endpoint;
    if (zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &elen) != 0)
        snprintf (self->endpoint, sizeof self->endpoint, "%s", bind);
    if ((rc = -pthread_create (&self->thread, NULL, s_thread, self)) < 0)
        goto out_close;
    self->running = true;
    sodium_memzero (sec, sizeof sec);
    *ret = self;
    return 0;
out_close:
    s_close (&self->router);
    s_close (&self->zap);
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
    s_close (&self->zap);
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

/* ------------------------------------------------------------ client */

int
el_join_call (void *ctx, const El__InviteToken *token, const el_keypair_t *site,
              const char *name, int timeout_ms, El__JoinReply **ret)
{
    char server[EL_Z85_BYTES], pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
    int rc = el_key_curve_z85 (token->broker_key.data, server);
    if (rc < 0)
        return rc;
    if ((rc = el_keypair_curve_z85 (site, pub, sec)) < 0)
        return rc;
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    if (!s) {
        rc = -errno;
        goto out;
    }
    int zero = 0;
    int64_t max = EL_JOIN_FRAME_MAX;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, server, 40) != 0
        || zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0
        || zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40) != 0
        || zmq_connect (s, token->join_endpoint) != 0) {
        rc = -errno;
        goto out_close;
    }
    El__JoinRequest jr = EL__JOIN_REQUEST__INIT;
    uint8_t sig[EL_SIG_BYTES];
    el_invite_join_sign (site, token->broker_key.data, token->secret.data, sig);
    jr.version = 1;
    jr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site->pk };
    jr.secret = token->secret;
    jr.name = (char *) (name ? name : "");
    jr.sig = (ProtobufCBinaryData) { EL_SIG_BYTES, sig };
    uint8_t buf[EL_JOIN_FRAME_MAX];
    size_t len = el__join_request__get_packed_size (&jr);
    if (len > sizeof buf) {
        rc = EL_ETOOBIG;
        goto out_close;
    }
    el__join_request__pack (&jr, buf);
    /* DEALER queues until the handshake completes */
    int sndtimeo = timeout_ms;
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (zmq_send (s, buf, len, 0) < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        goto out_close;
    }
    zmq_pollitem_t item = { s, 0, ZMQ_POLLIN, 0 };
    int n = zmq_poll (&item, 1, timeout_ms);
    if (n < 0) {
        rc = -errno;
        goto out_close;
    }
    if (n == 0) {
        rc = -ETIMEDOUT;
        goto out_close;
    }
    int got = zmq_recv (s, buf, sizeof buf, 0);
    if (got < 0) {
        rc = -errno;
        goto out_close;
    }
    if ((size_t) got > sizeof buf) {
        rc = EL_ETOOBIG;
        goto out_close;
    }
    El__JoinReply *r = el__join_reply__unpack (&el_pb_allocator, (size_t) got, buf);
    if (!r) {
        rc = EL_EPROTO;
        goto out_close;
    }
    if (r->code == 0 && (!r->sync_endpoint || !strstr (r->sync_endpoint, "://")
                         || r->network.len != EL_KEY_BYTES
                         || memcmp (r->network.data, token->broker_key.data, EL_KEY_BYTES))) {
        el__join_reply__free_unpacked (r, &el_pb_allocator);
        rc = EL_EPROTO;
        goto out_close;
    }
    *ret = r;
    rc = 0;
out_close:
    zmq_close (s);
out:
    sodium_memzero (sec, sizeof sec);
    return rc;
}
