/* test_el_zap.c — the ZAP handler (RFC 27) with real CURVE sockets in one process. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "el_zap.h"

#define S_ROUNDS 400            /* poll rounds of 50 ms: an upper bound, never asserted as time */

typedef struct {
    int allowed, denied;
    char reason[32];
} s_seen_t;

static void
s_decision (void *arg, bool allowed, const uint8_t curve_pk[32], const uint8_t *site,
            const char *address, const char *reason)
{
    s_seen_t *seen = arg;
    (void) curve_pk;
    (void) address;
    if (allowed) {
        assert_non_null (site);
        seen->allowed++;
    } else {
        seen->denied++;
    }
    snprintf (seen->reason, sizeof seen->reason, "%s", reason);
}

static el_keypair_t *
s_key (uint8_t fill)
{
    uint8_t seed[32];
    memset (seed, fill, sizeof seed);
    el_keypair_t *kp = NULL;
    assert_int_equal (el_keypair_from_seed (seed, &kp), 0);
    return kp;
}

typedef struct {
    void *ctx, *server, *mon;
    el_zap_t *zap;
    el_keypair_t *server_kp;
    char endpoint[128];
    s_seen_t seen;
} s_fix_t;

static void
s_server (s_fix_t *f, bool with_zap)
{
    f->ctx = zmq_ctx_new ();
    assert_non_null (f->ctx);
    if (with_zap)
        assert_int_equal (el_zap_new (f->ctx, s_decision, &f->seen, &f->zap), 0);
    f->server_kp = s_key (0x01);
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
    assert_int_equal (el_keypair_curve_z85 (f->server_kp, pub, sec), 0);
    f->server = zmq_socket (f->ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt (f->server, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (el_zap_server_setup (f->server, sec, EL_ZAP_DOMAIN), 0);
    assert_int_equal (zmq_socket_monitor (f->server, "inproc://test-mon",
                                          ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                          | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                          | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                          | ZMQ_EVENT_HANDSHAKE_SUCCEEDED), 0);
    f->mon = zmq_socket (f->ctx, ZMQ_PAIR);
    zmq_setsockopt (f->mon, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_connect (f->mon, "inproc://test-mon"), 0);
    assert_int_equal (zmq_bind (f->server, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof f->endpoint;
    assert_int_equal (zmq_getsockopt (f->server, ZMQ_LAST_ENDPOINT, f->endpoint, &len), 0);
}

static void
s_server_close (s_fix_t *f)
{
    zmq_socket_monitor (f->server, NULL, 0);
    zmq_close (f->mon);
    zmq_close (f->server);
    el_zap_destroy (&f->zap);
    el_zap_destroy (&f->zap);   /* twice is harmless */
    zmq_ctx_term (f->ctx);
    el_keypair_destroy (&f->server_kp);
}

static void *
s_client (s_fix_t *f, const el_keypair_t *kp)
{
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES], srv[EL_Z85_BYTES];
    assert_int_equal (el_keypair_curve_z85 (kp, pub, sec), 0);
    assert_int_equal (el_key_curve_z85 (f->server_kp->pk, srv), 0);
    void *c = zmq_socket (f->ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (c, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (c, ZMQ_CURVE_SERVERKEY, srv, 40);
    zmq_setsockopt (c, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt (c, ZMQ_CURVE_SECRETKEY, sec, 40);
    assert_int_equal (zmq_connect (c, f->endpoint), 0);
    assert_int_equal (zmq_send (c, "hello", 5, 0), 5);
    return c;
}

/* Serve ZAP until the server gets a message (returns its User-Id, malloc'd)
 * or its monitor reports a failed handshake (returns NULL). */
static char *
s_serve (s_fix_t *f)
{
    for (int round = 0; round < S_ROUNDS; round++) {
        zmq_pollitem_t items[3] = {
            { f->server, 0, ZMQ_POLLIN, 0 },
            { f->mon, 0, ZMQ_POLLIN, 0 },
            { f->zap ? el_zap_socket (f->zap) : NULL, 0, ZMQ_POLLIN, 0 },
        };
        assert_true (zmq_poll (items, f->zap ? 3 : 2, 50) >= 0);
        if (f->zap && (items[2].revents & ZMQ_POLLIN))
            assert_true (el_zap_handle (f->zap) >= 1);
        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t id, m;
            zmq_msg_init (&id);
            zmq_msg_init (&m);
            assert_true (zmq_msg_recv (&id, f->server, 0) >= 0);
            assert_int_equal (zmq_msg_recv (&m, f->server, 0), 5);
            const char *uid = zmq_msg_gets (&m, "User-Id");
            char *copy = strdup (uid ? uid : "");
            zmq_msg_close (&id);
            zmq_msg_close (&m);
            return copy;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            zmq_msg_t ev;
            zmq_msg_init (&ev);
            assert_true (zmq_msg_recv (&ev, f->mon, 0) >= 6);
            uint16_t event;
            memcpy (&event, zmq_msg_data (&ev), 2);
            zmq_msg_close (&ev);
            zmq_msg_init (&ev);
            zmq_msg_recv (&ev, f->mon, 0);
            zmq_msg_close (&ev);
            if (event != ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                return NULL;
        }
    }
    fail_msg ("neither a message nor a failed handshake");
    return NULL;
}

static void
test_known_key_admitted_with_user_id (void **state)
{
    (void) state;
    s_fix_t f = { 0 };
    s_server (&f, true);
    el_keypair_t *site = s_key (0x22);
    assert_int_equal (el_zap_allow (f.zap, site->pk), 0);
    assert_int_equal (el_zap_allow (f.zap, site->pk), 0);     /* idempotent */
    assert_int_equal (el_zap_count (f.zap), 1);
    void *c = s_client (&f, site);
    char *uid = s_serve (&f);
    assert_non_null (uid);
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (site->pk, text);
    assert_string_equal (uid, text);
    assert_int_equal (f.seen.allowed, 1);
    el_zap_stats_t st;
    el_zap_stats (f.zap, &st);
    assert_int_equal (st.allowed, 1);
    assert_int_equal (st.denied, 0);
    free (uid);
    zmq_close (c);
    el_keypair_destroy (&site);
    s_server_close (&f);
}

static void
test_unknown_and_denied_keys_refused (void **state)
{
    (void) state;
    s_fix_t f = { 0 };
    s_server (&f, true);
    el_keypair_t *known = s_key (0x22), *stranger = s_key (0x33);
    assert_int_equal (el_zap_allow (f.zap, known->pk), 0);
    void *c = s_client (&f, stranger);
    assert_null (s_serve (&f));
    assert_int_equal (f.seen.denied, 1);
    assert_string_equal (f.seen.reason, "unknown_key");
    zmq_close (c);
    /* allowed, then denied: refused too */
    el_zap_deny (f.zap, known->pk);
    assert_false (el_zap_is_allowed (f.zap, known->pk));
    c = s_client (&f, known);
    assert_null (s_serve (&f));
    assert_int_equal (f.seen.denied, 2);
    assert_int_equal (f.seen.allowed, 0);
    zmq_close (c);
    el_keypair_destroy (&known);
    el_keypair_destroy (&stranger);
    s_server_close (&f);
}

static void
test_no_handler_serves_nobody (void **state)
{
    (void) state;
    s_fix_t f = { 0 };
    s_server (&f, false);       /* ZAP enforced, no handler bound */
    el_keypair_t *site = s_key (0x22);
    void *c = s_client (&f, site);
    assert_null (s_serve (&f));
    zmq_close (c);
    el_keypair_destroy (&site);
    s_server_close (&f);
}

static void
s_zap_ask (void *req, const char *version, const char *domain, const char *mechanism,
           const uint8_t *cred, size_t cred_len)
{
    zmq_send (req, version, strlen (version), ZMQ_SNDMORE);
    zmq_send (req, "id1", 3, ZMQ_SNDMORE);
    zmq_send (req, domain, strlen (domain), ZMQ_SNDMORE);
    zmq_send (req, "127.0.0.1", 9, ZMQ_SNDMORE);
    zmq_send (req, "", 0, ZMQ_SNDMORE);
    zmq_send (req, mechanism, strlen (mechanism), cred ? ZMQ_SNDMORE : 0);
    if (cred)
        zmq_send (req, cred, cred_len, 0);
}

static void
test_malformed_requests_answered (void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new ();
    s_seen_t seen = { 0 };
    el_zap_t *zap = NULL;
    assert_int_equal (el_zap_new (ctx, s_decision, &seen, &zap), 0);
    el_zap_t *second = NULL;
    assert_int_equal (el_zap_new (ctx, NULL, NULL, &second), -EADDRINUSE);
    struct { const char *v, *d, *m; size_t cred; const char *code; } cases[] = {
        { "2.0", EL_ZAP_DOMAIN, "CURVE", 32, "500" },
        { "1.0", "other", "CURVE", 32, "400" },
        { "1.0", EL_ZAP_DOMAIN, "PLAIN", 32, "400" },
        { "1.0", EL_ZAP_DOMAIN, "CURVE", 31, "400" },
        { "1.0", EL_ZAP_DOMAIN, "CURVE", 0, "500" },
    };
    uint8_t cred[32] = { 7 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *req = zmq_socket (ctx, ZMQ_REQ);
        int zero = 0;
        zmq_setsockopt (req, ZMQ_LINGER, &zero, sizeof zero);
        assert_int_equal (zmq_connect (req, EL_ZAP_ENDPOINT), 0);
        s_zap_ask (req, cases[i].v, cases[i].d, cases[i].m, cases[i].cred ? cred : NULL,
                   cases[i].cred);
        zmq_pollitem_t it = { el_zap_socket (zap), 0, ZMQ_POLLIN, 0 };
        assert_int_equal (zmq_poll (&it, 1, 10000), 1);
        assert_int_equal (el_zap_handle (zap), 1);
        char frames[6][64];
        for (int fr = 0; fr < 6; fr++) {
            int n = zmq_recv (req, frames[fr], sizeof frames[fr] - 1, 0);
            assert_true (n >= 0);
            frames[fr][n] = '\0';
        }
        assert_string_equal (frames[0], "1.0");
        assert_string_equal (frames[2], cases[i].code);
        assert_string_equal (frames[4], "");     /* no User-Id */
        zmq_close (req);
    }
    el_zap_stats_t st;
    el_zap_stats (zap, &st);
    assert_int_equal (st.denied, 5);
    assert_int_equal (st.allowed, 0);
    el_zap_destroy (&zap);
    zmq_ctx_term (ctx);
}

static void
test_allow_list (void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new ();
    el_zap_t *zap = NULL;
    assert_int_equal (el_zap_new (ctx, NULL, NULL, &zap), 0);
    enum { N = 300 };
    el_keypair_t *keys[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal (el_keypair_generate (&keys[i]), 0);
        assert_int_equal (el_zap_allow (zap, keys[i]->pk), 0);
    }
    assert_int_equal (el_zap_count (zap), N);
    for (int i = 0; i < N; i += 2)
        el_zap_deny (zap, keys[i]->pk);
    assert_int_equal (el_zap_count (zap), N / 2);
    for (int i = 0; i < N; i++)
        assert_int_equal (el_zap_is_allowed (zap, keys[i]->pk), i % 2 == 1);
    for (int i = 0; i < N; i++)
        el_keypair_destroy (&keys[i]);
    el_zap_destroy (&zap);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_known_key_admitted_with_user_id),
        cmocka_unit_test (test_unknown_and_denied_keys_refused),
        cmocka_unit_test (test_no_handler_serves_nobody),
        cmocka_unit_test (test_malformed_requests_answered),
        cmocka_unit_test (test_allow_list),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
