/* test_el_role.c — the role tables (daemon/el_role.h) as the daemons compose
 * them: a broker (site + hub roles) and a node (site + uplink roles), real
 * el_node_t reactors in threads on ipc:// endpoints of a temporary folder,
 * driven through their control sockets.
 *
 * What the hooks must do: network() (hub: its own key; uplink: the broker's
 * key, never its own), start() (hub: the broker is admitted; uplink: the link
 * to the broker), routes (hub: admit, revoke; uplink: says they belong to the
 * broker), status() (hub: attested sites never seen), on_site() (site: its
 * own admission), on_session_end() (site: the broker's ERROR_REVOKED). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "el_control_call.h"
#include "el_duties.h"
#include "el_hub.h"
#include "el_log.h"
#include "el_node.h"
#include "el_uplink.h"

#define S_WAIT_MS 20000

typedef struct {
    el_config_t cfg;
    const char *name;
    const el_role_ops_t *roles[2];
    pthread_t thread;
    volatile int rc;                    /* 1 while running */
} s_daemon_t;

typedef struct {
    char dir[64];
    void *ctx;
    s_daemon_t broker, node;
    el_keypair_t *broker_kp, *node_kp;
} fx_t;

static void *
s_daemon_main (void *arg)
{
    s_daemon_t *d = arg;
    el_node_t *node = NULL;
    int rc = el_node_new (&d->cfg, d->name, d->roles, 2, &node);
    if (rc == 0)
        rc = el_node_run (node);
    el_node_destroy (&node);
    d->rc = rc;
    return NULL;
}

static void
s_set (el_config_t *cfg, const char *name, const char *value)
{
    char err[EL_CONFIG_ERR_MAX];
    assert_int_equal (el_config_set (cfg, name, value, err, sizeof err), 0);
}

/* Start @p d in its thread and wait for its control socket. */
static void
s_daemon_start (s_daemon_t *d, unsigned needs)
{
    char err[EL_CONFIG_ERR_MAX];
    assert_int_equal (el_config_finish (&d->cfg, needs, err, sizeof err), 0);
    d->rc = 1;
    assert_int_equal (pthread_create (&d->thread, NULL, s_daemon_main, d), 0);
    const char *path = d->cfg.control + strlen ("ipc://");
    for (int i = 0; i < S_WAIT_MS / 10 && access (path, F_OK) != 0; i++) {
        assert_int_equal (d->rc, 1);
        usleep (10000);
    }
    assert_int_equal (access (path, F_OK), 0);
}

static void
s_daemon_stop (s_daemon_t *d)
{
    if (d->rc != 1)
        return;
    pthread_kill (d->thread, SIGTERM);  /* it reads SIGTERM from its signalfd */
    pthread_join (d->thread, NULL);
    assert_int_equal (d->rc, 0);
}

static El__ControlReply *
s_call (fx_t *fx, s_daemon_t *d, El__ControlRequest *req)
{
    El__ControlReply *r = NULL;
    assert_int_equal (el_control_call (fx->ctx, d->cfg.control, req, S_WAIT_MS, &r), 0);
    return r;
}

static El__ControlReply *
s_status (fx_t *fx, s_daemon_t *d)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest sr = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &sr;
    El__ControlReply *r = s_call (fx, d, &req);
    assert_int_equal (r->code, 0);
    assert_non_null (r->status);
    return r;
}

static void
s_free (El__ControlReply *r)
{
    el__control_reply__free_unpacked (r, &el_pb_allocator);
}

static El__ControlReply *
s_admit (fx_t *fx, s_daemon_t *d, const uint8_t site[EL_KEY_BYTES], bool revoke)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AdmitRequest ar = EL__ADMIT_REQUEST__INIT;
    El__RevokeRequest rr = EL__REVOKE_REQUEST__INIT;
    if (revoke) {
        rr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
        req.r_case = EL__CONTROL_REQUEST__R_REVOKE;
        req.revoke = &rr;
    } else {
        ar.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
        ar.name = "Celles";
        req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
        req.admit = &ar;
    }
    return s_call (fx, d, &req);
}

/* Wait until the node's status says admitted == @p admitted and revoked as
 * @p revoked. */
static void
s_wait_admission (fx_t *fx, bool admitted, bool revoked)
{
    for (int i = 0; i < S_WAIT_MS / 20; i++) {
        El__ControlReply *r = s_status (fx, &fx->node);
        bool done = r->status->admitted == admitted && (r->status->revoked_us != 0) == revoked;
        s_free (r);
        if (done)
            return;
        usleep (20000);
    }
    fail_msg ("the node never reported admitted=%d revoked=%d", admitted, revoked);
}

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    strcpy (fx->dir, "/tmp/el-role-XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    fx->ctx = zmq_ctx_new ();
    char path[256], ep[300], key[EL_KEY_TEXT_BYTES];

    /* the broker: site + hub roles */
    el_config_init (&fx->broker.cfg);
    snprintf (path, sizeof path, "%s/broker", fx->dir);
    s_set (&fx->broker.cfg, "state_dir", path);
    snprintf (ep, sizeof ep, "ipc://%s/sync.sock", fx->dir);
    s_set (&fx->broker.cfg, "listen", ep);
    s_set (&fx->broker.cfg, "durable", "false");
    fx->broker.name = "broker";
    fx->broker.roles[0] = &el_site_role;
    fx->broker.roles[1] = &el_hub_role;
    assert_int_equal (mkdir (path, 0700), 0);
    snprintf (path, sizeof path, "%s/broker/key", fx->dir);
    assert_int_equal (el_node_load_key (path, &fx->broker_kp, NULL), 0);

    /* the node: site + uplink roles; its key made now, so the broker can
     * admit it before it first connects */
    el_config_init (&fx->node.cfg);
    snprintf (path, sizeof path, "%s/node", fx->dir);
    s_set (&fx->node.cfg, "state_dir", path);
    s_set (&fx->node.cfg, "connect", ep);
    el_key_to_text (fx->broker_kp->pk, key);
    s_set (&fx->node.cfg, "broker_key", key);
    s_set (&fx->node.cfg, "durable", "false");
    fx->node.name = "node";
    fx->node.roles[0] = &el_site_role;
    fx->node.roles[1] = &el_uplink_role;
    assert_int_equal (mkdir (path, 0700), 0);
    snprintf (path, sizeof path, "%s/node/key", fx->dir);
    assert_int_equal (el_node_load_key (path, &fx->node_kp, NULL), 0);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    s_daemon_stop (&fx->node);
    s_daemon_stop (&fx->broker);
    zmq_ctx_term (fx->ctx);
    el_keypair_destroy (&fx->broker_kp);
    el_keypair_destroy (&fx->node_kp);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal (system (cmd), 0);
    free (fx);
    return 0;
}

/* network(): the hub's network is its own key; the uplink's is the broker's
 * and never its own. */
static void
test_network_hooks (void **state)
{
    fx_t *fx = *state;
    el_config_t cfg;
    el_config_init (&cfg);
    uint8_t net[EL_KEY_BYTES];
    assert_int_equal (el_hub_role.network (&cfg, fx->broker_kp, net), 0);
    assert_memory_equal (net, fx->broker_kp->pk, EL_KEY_BYTES);
    memcpy (cfg.broker_key, fx->broker_kp->pk, EL_KEY_BYTES);
    assert_int_equal (el_uplink_role.network (&cfg, fx->node_kp, net), 0);
    assert_memory_equal (net, fx->broker_kp->pk, EL_KEY_BYTES);
    memset (net, 0, sizeof net);
    memcpy (cfg.broker_key, fx->node_kp->pk, EL_KEY_BYTES);
    assert_int_equal (el_uplink_role.network (&cfg, fx->node_kp, net), EL_EINVAL);
    assert_null (el_site_role.network);             /* the site role names no network */
    assert_null (el_uplink_role.status);
}

/* The broker's status: role, admitted from start, and the attested sites it
 * has never seen; the node refuses the hub's requests with where they belong. */
static void
test_hub_status_and_routes (void **state)
{
    fx_t *fx = *state;
    s_daemon_start (&fx->broker, EL_CONFIG_NEEDS_LISTEN);
    El__ControlReply *r = s_status (fx, &fx->broker);
    assert_string_equal (r->status->role, "broker");
    assert_true (r->status->admitted);
    assert_memory_equal (r->status->network.data, fx->broker_kp->pk, EL_KEY_BYTES);
    assert_int_equal (r->status->n_peers, 0);
    s_free (r);

    r = s_admit (fx, &fx->broker, fx->node_kp->pk, false);
    assert_int_equal (r->code, 0);
    assert_non_null (r->admit);
    assert_int_equal (r->admit->seq, 1);
    s_free (r);
    r = s_status (fx, &fx->broker);         /* never seen, listed by the hub */
    assert_int_equal (r->status->n_peers, 1);
    assert_memory_equal (r->status->peers[0]->key.data, fx->node_kp->pk, EL_KEY_BYTES);
    assert_false (r->status->peers[0]->connected);
    assert_false (r->status->peers[0]->outbound);
    s_free (r);

    s_daemon_start (&fx->node, EL_CONFIG_NEEDS_BROKER);
    r = s_admit (fx, &fx->node, fx->broker_kp->pk, false);
    assert_int_equal (r->code, EL_EINVAL);
    assert_string_equal (r->text, "admit and revoke are done on the broker");
    s_free (r);
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__InviteRequest ir = EL__INVITE_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_INVITE;
    req.invite = &ir;
    r = s_call (fx, &fx->node, &req);
    assert_int_equal (r->code, EL_EINVAL);
    assert_string_equal (r->text, "invites are made on the broker");
    s_free (r);
    r = s_status (fx, &fx->node);
    assert_string_equal (r->status->role, "node");
    assert_memory_equal (r->status->network.data, fx->broker_kp->pk, EL_KEY_BYTES);
    assert_int_equal (r->status->n_peers, 1);       /* the uplink */
    assert_true (r->status->peers[0]->outbound);
    assert_string_equal (r->status->peers[0]->role, "broker");
    s_free (r);
}

/* on_site() and on_session_end() of the site role: the node learns its
 * admission from the replicated Site entry, then its revocation, and from
 * then on refuses local writes. */
static void
test_site_admission (void **state)
{
    fx_t *fx = *state;
    s_daemon_start (&fx->broker, EL_CONFIG_NEEDS_LISTEN);
    El__ControlReply *r = s_admit (fx, &fx->broker, fx->node_kp->pk, false);
    assert_int_equal (r->code, 0);
    s_free (r);
    s_daemon_start (&fx->node, EL_CONFIG_NEEDS_BROKER);
    s_wait_admission (fx, true, false);

    r = s_admit (fx, &fx->broker, fx->node_kp->pk, true);
    assert_int_equal (r->code, 0);
    s_free (r);
    s_wait_admission (fx, false, true);

    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WriteRequest wr = EL__WRITE_REQUEST__INIT;
    El__RecordWrite rec = EL__RECORD_WRITE__INIT;
    El__RecordWrite *recs[1] = { &rec };
    rec.kind = EL__KIND__EVENT;
    rec.key = "after-revocation";
    rec.deleted = true;
    wr.records = recs;
    wr.n_records = 1;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &wr;
    r = s_call (fx, &fx->node, &req);
    assert_int_equal (r->code, EL_EREVOKED);
    assert_string_equal (r->text, EL_REVOKED_TEXT);
    s_free (r);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    el_log_set_level (getenv ("EL_TEST_VERBOSE") ? EL_LOG_DEBUG : EL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_network_hooks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hub_status_and_routes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_site_admission, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
