/* test_el_invite.c — invite tokens, join signatures, one-time redemption,
 * and the join listener end to end on loopback (its own thread and ZAP
 * handler; redemptions reach a control socket served by this test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "el_admit.h"
#include "el_control.h"
#include "el_control_call.h"
#include "el_join.h"
#include "el_join_call.h"
#include "el_invite.h"
#include "el_test_support.h"

#define DAY (24LL * 3600 * 1000000)

typedef el_test_network_t fx_t;

EL_TEST_NETWORK_FIXTURE ("el-invite")

static void
test_token_round_trip (void **state)
{
    fx_t *fx = *state;
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    memset (secret, 0xA5, sizeof secret);
    El__InviteToken t = EL__INVITE_TOKEN__INIT;
    t.version = 1;
    t.join_endpoint = "tcp://hub.example.org:7401";
    t.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->broker->pk };
    t.secret = (ProtobufCBinaryData) { sizeof secret, secret };
    t.expires_us = 1799762400000000LL;
    t.name = "Tiers-lieu Celles";
    char *text = NULL;
    assert_int_equal (el_token_encode (&t, &text), 0);
    assert_memory_equal (text, EL_INVITE_PREFIX, strlen (EL_INVITE_PREFIX));
    assert_null (strpbrk (text, "+/= \n"));     /* URL- and shell-safe */
    char padded[EL_INVITE_TOKEN_MAX];
    snprintf (padded, sizeof padded, "  %s\n", text);
    El__InviteToken *back = NULL;
    assert_int_equal (el_token_decode (padded, &back), 0);
    assert_string_equal (back->join_endpoint, t.join_endpoint);
    assert_memory_equal (back->broker_key.data, fx->broker->pk, EL_KEY_BYTES);
    assert_memory_equal (back->secret.data, secret, sizeof secret);
    assert_int_equal (back->expires_us, t.expires_us);
    assert_string_equal (back->name, t.name);
    el__invite_token__free_unpacked (back, &el_pb_allocator);
    /* refused: other prefix, broken base64, a cut token, wrong sizes */
    const char *bad[] = { "", "elinv2.AAAA", "elinv1.", "elinv1.***", "hello" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (el_token_decode (bad[i], &back), EL_EINVAL);
    text[strlen (text) - 12] = '\0';
    assert_int_equal (el_token_decode (text, &back), EL_EINVAL);
    free (text);
    t.secret.len = 16;
    assert_int_equal (el_token_encode (&t, &text), 0);
    assert_int_equal (el_token_decode (text, &back), EL_EINVAL);
    free (text);
}

static void
test_join_signature (void **state)
{
    fx_t *fx = *state;
    uint8_t secret[EL_INVITE_SECRET_BYTES], sig[EL_SIG_BYTES];
    memset (secret, 7, sizeof secret);
    assert_int_equal (el_token_join_sign (fx->site, fx->broker->pk, secret, sig), 0);
    assert_int_equal (el_token_join_verify (fx->site->pk, fx->broker->pk, secret, sig), 0);
    assert_int_equal (el_token_join_verify (fx->other->pk, fx->broker->pk, secret, sig),
                      EL_EBADSIG);
    assert_int_equal (el_token_join_verify (fx->site->pk, fx->other->pk, secret, sig),
                      EL_EBADSIG);
    secret[0] ^= 1;
    assert_int_equal (el_token_join_verify (fx->site->pk, fx->broker->pk, secret, sig),
                      EL_EBADSIG);
}

/* The time zone of @p site's Site record, as the broker wrote it. */
static void
s_assert_site_zone (fx_t *fx, const uint8_t site[EL_KEY_BYTES], const char *want)
{
    el_entry_t *e = NULL;
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    assert_int_equal (el_store_record_get (fx->store, EL__KIND__SITE, fx->broker->pk, key, &e), 0);
    El__Site *rec = el__site__unpack (NULL, e->payload_len, e->payload);
    assert_non_null (rec);
    assert_string_equal (rec->timezone, want);
    el__site__free_unpacked (rec, NULL);
    el_entry_destroy (&e);
}

static void
test_redeem_once (void **state)
{
    fx_t *fx = *state;
    const int64_t now = 1799762400000000LL;
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    int64_t expires = 0;
    assert_int_equal (el_invite_create (fx->store, now, 0, "Celles", EL__SITE_KIND__PERIPHERAL,
                                        "tcp://hub:7400", secret, &expires), 0);
    assert_int_equal (expires, now + EL_INVITE_TTL_DEFAULT_US);
    assert_int_equal (el_invite_create (fx->store, now, EL_INVITE_TTL_MAX_US + 1, "", 0, "",
                                        secret + 0, &expires), EL_EINVAL);
    /* the store holds a hash of the secret, never the secret */
    char path[sizeof fx->dir.path + 16];
    snprintf (path, sizeof path, "%s/data.mdb", fx->dir.path);
    FILE *f = fopen (path, "rb");
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *buf = malloc ((size_t) size);
    assert_int_equal (fread (buf, 1, (size_t) size, f), (size_t) size);
    fclose (f);
    assert_null (memmem (buf, (size_t) size, secret, sizeof secret));
    free (buf);

    char err[200], *ep = NULL, *name = NULL;
    uint64_t seq = 0;
    el_invite_refusal_t why = EL_INVITE_FAILED;
    uint8_t unknown[EL_INVITE_SECRET_BYTES];
    memset (unknown, 0x11, sizeof unknown);
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, unknown,
                                        fx->site->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err),
                      EL_ENOTFOUND);
    assert_int_equal (why, EL_INVITE_UNKNOWN);
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, secret,
                                        fx->broker->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err),
                      EL_EINVAL);
    assert_int_equal (why, EL_INVITE_SELF);
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now + DAY, secret,
                                        fx->site->pk, "", "Europe/Paris", &seq, &ep, &name, &why, err,
                                        sizeof err), 0);
    assert_string_equal (ep, "tcp://hub:7400");
    assert_string_equal (name, "Celles");
    free (ep);
    free (name);
    El__SiteStatus st;
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->site->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__ACTIVE);
    s_assert_site_zone (fx, fx->site->pk, "Europe/Paris");   /* the site's own zone, published */
    err[0] = '\0';
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now + DAY, secret,
                                        fx->other->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err),
                      EL_EINVAL);
    assert_string_equal (err, "invite already used");
    assert_int_equal (why, EL_INVITE_USED);
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->other->pk, &st),
                      EL_ENOTFOUND);
    /* expiry */
    assert_int_equal (el_invite_create (fx->store, now, DAY, "", 0, "tcp://hub:7400", secret,
                                        &expires), 0);
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now + DAY, secret,
                                        fx->other->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err),
                      EL_EINVAL);
    assert_string_equal (err, "invite expired");
    assert_int_equal (why, EL_INVITE_EXPIRED);
    assert_string_equal (el_invite_refusal_name (why), "expired");
}

/* An invite admits new keys only: an admitted site is not renamed, a revoked
 * one is not re-admitted, and the refused invite stays usable. */
static void
test_redeem_known_key (void **state)
{
    fx_t *fx = *state;
    const int64_t now = 1799762400000000LL;
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    int64_t expires = 0;
    char err[200], *ep = NULL, *name = NULL;
    uint64_t seq = 0;
    el_invite_refusal_t why = EL_INVITE_FAILED;
    El__SiteStatus st;
    assert_int_equal (el_admit_write (fx->sync, fx->broker, fx->site->pk, NULL, "Celles",
                                      EL__SITE_KIND__PERIPHERAL, EL__SITE_STATUS__ACTIVE, NULL), 0);
    assert_int_equal (el_invite_create (fx->store, now, 0, "Y", EL__SITE_KIND__PERIPHERAL,
                                        "tcp://hub:7400", secret, &expires), 0);
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, secret,
                                        fx->site->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err),
                      EL_EINVAL);
    assert_string_equal (err, "this site is already admitted as 'Celles'; an invite is for a "
                              "new site only");
    assert_int_equal (why, EL_INVITE_ADMITTED);
    el_entry_t *e = NULL;
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (fx->site->pk, key);
    assert_int_equal (el_store_record_get (fx->store, EL__KIND__SITE, fx->broker->pk, key, &e), 0);
    El__Site *rec = el__site__unpack (NULL, e->payload_len, e->payload);
    assert_non_null (rec);
    assert_string_equal (rec->name, "Celles");              /* not renamed */
    el__site__free_unpacked (rec, NULL);
    el_entry_destroy (&e);

    /* revoked: refused, stays revoked */
    assert_int_equal (el_admit_revoke (fx->sync, fx->store, fx->broker, fx->site->pk, NULL), 0);
    err[0] = '\0';
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, secret,
                                        fx->site->pk, "Nouveau", NULL, &seq, &ep, &name, &why, err,
                                        sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "revoked"));
    assert_int_equal (why, EL_INVITE_REVOKED);
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->site->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__REVOKED);

    /* a time zone that is no zone name (a path) is refused */
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, secret,
                                        fx->other->pk, NULL, "../../etc/passwd", &seq, &ep, &name,
                                        &why, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "time zone"));
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->other->pk, &st),
                      EL_ENOTFOUND);

    /* the refusals did not use the invite: a new key redeems it */
    assert_int_equal (el_invite_redeem (fx->store, fx->sync, fx->broker, now, secret,
                                        fx->other->pk, NULL, NULL, &seq, &ep, &name, &why, err, sizeof err), 0);
    assert_string_equal (name, "Y");
    s_assert_site_zone (fx, fx->other->pk, "");             /* not said */
    free (ep);
    free (name);
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->other->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__ACTIVE);
}

/* ------------------------------------------------------------ join listener */

typedef struct {
    fx_t *fx;
    void *ctx;
    El__InviteToken *token;
    const el_keypair_t *kp;
    int timeout_ms;
    int rc;
    El__JoinReply *reply;
    atomic_bool done;
} s_client_t;

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    c->rc = el_join_call (c->ctx, c->token, c->kp, "", "Europe/Paris", c->timeout_ms, &c->reply);
    atomic_store (&c->done, true);
    return NULL;
}

/* The broker's reactor, reduced to its control socket. */
static int
s_redeem_fn (void *arg, el_control_t *ctl, const El__ControlRequest *req, El__ControlReply *reply)
{
    fx_t *fx = arg;
    if (req->r_case != EL__CONTROL_REQUEST__R_REDEEM)
        return EL_EINVAL;
    char err[200] = "", *ep = NULL, *name = NULL;
    uint64_t seq = 0;
    int rc = el_invite_redeem (fx->store, fx->sync, fx->broker, el_now_us (),
                               req->redeem->secret.data, req->redeem->site_key.data,
                               req->redeem->name, req->redeem->timezone, &seq, &ep, &name, NULL, err,
                               sizeof err);
    if (rc < 0) {
        if (err[0])
            reply->text = el_control_strdup (ctl, err);
        return rc;
    }
    El__RedeemReply *rr = el_control_alloc (ctl, sizeof *rr);
    el__redeem_reply__init (rr);
    rr->seq = seq;
    rr->sync_endpoint = el_control_strdup (ctl, ep);
    rr->name = el_control_strdup (ctl, name);
    free (ep);
    free (name);
    reply->r_case = EL__CONTROL_REPLY__R_REDEEM;
    reply->redeem = rr;
    return 0;
}

static void
s_join (el_control_t *ctl, s_client_t *c)
{
    pthread_t th;
    atomic_store (&c->done, false);
    c->reply = NULL;
    assert_int_equal (pthread_create (&th, NULL, s_client, c), 0);
    while (!atomic_load (&c->done)) {
        zmq_pollitem_t it = { el_control_socket (ctl), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&it, 1, 20);
        el_control_handle (ctl);
    }
    pthread_join (th, NULL);
}

static void
test_join_listener (void **state)
{
    fx_t *fx = *state;
    void *ctx = zmq_ctx_new ();
    char control[sizeof fx->dir.path + 32];
    snprintf (control, sizeof control, "ipc://%s/control.sock", fx->dir.path);
    el_control_t *ctl = NULL;
    assert_int_equal (el_control_new (ctx, control, s_redeem_fn, fx, &ctl), 0);
    el_join_t *join = NULL;
    assert_int_equal (el_join_new ("tcp://127.0.0.1:*", fx->broker, control, &join), 0);
    const char *ep = el_join_endpoint (join);
    assert_non_null (strstr (ep, "tcp://127.0.0.1:"));

    uint8_t secret[EL_INVITE_SECRET_BYTES];
    int64_t expires;
    assert_int_equal (el_invite_create (fx->store, el_now_us (), DAY, "Celles", 0,
                                        "tcp://127.0.0.1:7400", secret, &expires), 0);
    El__InviteToken t = EL__INVITE_TOKEN__INIT;
    t.version = 1;
    t.join_endpoint = (char *) ep;
    t.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->broker->pk };
    t.secret = (ProtobufCBinaryData) { sizeof secret, secret };
    t.expires_us = expires;
    s_client_t c = { .fx = fx, .ctx = ctx, .token = &t, .kp = fx->site, .timeout_ms = 10000 };

    /* a valid redemption admits the site */
    s_join (ctl, &c);
    assert_int_equal (c.rc, 0);
    assert_int_equal (c.reply->code, 0);
    assert_string_equal (c.reply->sync_endpoint, "tcp://127.0.0.1:7400");
    assert_string_equal (c.reply->name, "Celles");
    el__join_reply__free_unpacked (c.reply, &el_pb_allocator);
    El__SiteStatus st;
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->site->pk, &st), 0);
    assert_int_equal (st, EL__SITE_STATUS__ACTIVE);
    s_assert_site_zone (fx, fx->site->pk, "Europe/Paris");   /* sent in the JoinRequest */

    /* the same token again: a refusal with its reason */
    c.kp = fx->other;
    s_join (ctl, &c);
    assert_int_equal (c.rc, 0);
    assert_int_equal (c.reply->code, EL_EINVAL);
    assert_string_equal (c.reply->text, "invite already used");
    el__join_reply__free_unpacked (c.reply, &el_pb_allocator);

    /* an unknown secret: no answer at all */
    uint8_t unknown[EL_INVITE_SECRET_BYTES];
    memset (unknown, 0x5A, sizeof unknown);
    t.secret.data = unknown;
    c.timeout_ms = 500;
    s_join (ctl, &c);
    assert_int_equal (c.rc, -ETIMEDOUT);
    assert_int_equal (el_attest_status (fx->store, fx->broker->pk, fx->other->pk, &st),
                      EL_ENOTFOUND);

    /* a client that does not know the broker's key fails the CURVE handshake */
    t.secret.data = secret;
    t.broker_key.data = fx->other->pk;
    s_join (ctl, &c);
    assert_int_equal (c.rc, -ETIMEDOUT);

    el_join_stats_t js;
    el_join_stats (join, &js);
    assert_int_equal (js.redeemed, 1);
    assert_int_equal (js.refused, 1);
    assert_true (js.dropped >= 1);
    el_join_destroy (&join);
    assert_null (join);
    el_control_destroy (&ctl);
    zmq_ctx_term (ctx);
}

/* A stranger's DEALER to the join endpoint at @p port, from source address
 * @p src (any of 127/8 is this host), with a fresh CURVE key. */
static void *
s_stranger (void *ctx, const uint8_t broker[EL_KEY_BYTES], const char *src, const char *port,
            el_keypair_t **ret_kp)
{
    assert_int_equal (el_keypair_generate (ret_kp), 0);
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES], srv[EL_Z85_BYTES], ep[128];
    assert_int_equal (el_keypair_curve_z85 (*ret_kp, pub, sec), 0);
    assert_int_equal (el_key_curve_z85 (broker, srv), 0);
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    assert_non_null (s);
    int zero = 0;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, srv, 40);
    zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40);
    snprintf (ep, sizeof ep, "tcp://%s:0;127.0.0.1:%s", src, port);
    assert_int_equal (zmq_connect (s, ep), 0);
    return s;
}

/* Junk from many addresses (more than the budget of all addresses, each
 * within its own) does not keep a real redemption out. */
static void
test_join_junk_flood (void **state)
{
    fx_t *fx = *state;
    void *ctx = zmq_ctx_new ();
    char control[sizeof fx->dir.path + 32];
    snprintf (control, sizeof control, "ipc://%s/control.sock", fx->dir.path);
    el_control_t *ctl = NULL;
    assert_int_equal (el_control_new (ctx, control, s_redeem_fn, fx, &ctl), 0);
    el_join_t *join = NULL;
    assert_int_equal (el_join_new ("tcp://127.0.0.1:*", fx->broker, control, &join), 0);
    const char *ep = el_join_endpoint (join);
    const char *port = strrchr (ep, ':') + 1;
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    int64_t expires;
    assert_int_equal (el_invite_create (fx->store, el_now_us (), DAY, "Celles", 0,
                                        "tcp://127.0.0.1:7400", secret, &expires), 0);

    enum { ADDRS = 4, PER_ADDR = EL_JOIN_REDEEMS_PER_MIN };
    _Static_assert (ADDRS * PER_ADDR > EL_JOIN_REDEEMS_BURST, "the junk must exceed the budget");
    void *socks[ADDRS];
    el_keypair_t *kps[ADDRS];
    for (int i = 0; i < ADDRS; i++) {
        char src[32];
        snprintf (src, sizeof src, "127.0.0.%d", 2 + i);
        socks[i] = s_stranger (ctx, fx->broker->pk, src, port, &kps[i]);
        /* half junk bytes, half well-formed requests with a signature of nothing */
        for (int k = 0; k < PER_ADDR; k++) {
            uint8_t buf[512];
            size_t len = 64;
            randombytes_buf (buf, len);
            if (k % 2) {
                uint8_t sig[EL_SIG_BYTES];
                randombytes_buf (sig, sizeof sig);
                El__JoinRequest jr = EL__JOIN_REQUEST__INIT;
                jr.version = 1;
                jr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, kps[i]->pk };
                jr.secret = (ProtobufCBinaryData) { sizeof secret, secret };
                jr.sig = (ProtobufCBinaryData) { sizeof sig, sig };
                len = el__join_request__get_packed_size (&jr);
                assert_true (len <= sizeof buf);
                el__join_request__pack (&jr, buf);
            }
            assert_int_equal (zmq_send (socks[i], buf, len, 0), (int) len);
        }
    }
    /* every junk request seen and dropped, then at once the real one */
    el_join_stats_t js = { 0 };
    for (int t = 0; t < 500 && js.dropped < ADDRS * PER_ADDR; t++) {
        usleep (2000);
        el_join_stats (join, &js);
    }
    assert_int_equal (js.dropped, ADDRS * PER_ADDR);
    El__InviteToken t = EL__INVITE_TOKEN__INIT;
    t.version = 1;
    t.join_endpoint = (char *) ep;
    t.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fx->broker->pk };
    t.secret = (ProtobufCBinaryData) { sizeof secret, secret };
    t.expires_us = expires;
    s_client_t c = { .fx = fx, .ctx = ctx, .token = &t, .kp = fx->site, .timeout_ms = 3000 };
    s_join (ctl, &c);
    assert_int_equal (c.rc, 0);
    assert_int_equal (c.reply->code, 0);
    el__join_reply__free_unpacked (c.reply, &el_pb_allocator);
    el_join_stats (join, &js);
    assert_int_equal (js.redeemed, 1);
    assert_int_equal (js.dropped, ADDRS * PER_ADDR);

    for (int i = 0; i < ADDRS; i++) {
        zmq_close (socks[i]);
        el_keypair_destroy (&kps[i]);
    }
    el_join_destroy (&join);
    el_control_destroy (&ctl);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    assert_int_equal (el_crypto_init (), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_token_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_join_signature, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redeem_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redeem_known_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_join_listener, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_join_junk_flood, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
