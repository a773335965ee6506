/* fuzz_control.c — libFuzzer target for the daemon's control API: a real
 * broker (el_node_t, role broker, its own store, sync socket and control
 * socket in a temporary directory) runs in a thread for the whole process;
 * each input is sent as one control request frame, exactly as a local
 * client could send it, and the daemon must answer with a ControlReply that
 * unpacks and echoes the request's id, within S_REPLY_MS. Requests that do
 * not decode must be answered EL_EPROTO.
 *
 * The daemon keeps its state from one input to the next (as a running
 * daemon does): a crash may need the inputs before it; the replay driver
 * runs them in a fixed order.
 * An InviteRequest's join_listen is pointed at an ipc:// path in the
 * temporary directory, so that fuzzing never binds TCP ports; a
 * WaitRequest's timeout is cut to at most S_WAIT_MS (the daemon answers a
 * wait at its timeout at the latest). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "el_control.h"
#include "el_duties.h"
#include "el_hub.h"
#include "el_log.h"
#include "el_node.h"
#include "fuzz_util.h"

#define S_REPLY_MS 20000
#define S_WAIT_MS  200          /* longest WaitRequest timeout sent, ms */

static pthread_t s_thread;
static bool s_started;
static void *s_ctx, *s_sock;
static char s_state[300], s_join[400];
static el_config_t s_cfg;
static volatile int s_node_rc = 1;      /* 1 while running */

static void *
s_node_main (void *arg)
{
    (void) arg;
    el_node_t *node = NULL;
    static const el_role_ops_t *const roles[] = { &el_site_role, &el_hub_role };
    int rc = el_node_new (&s_cfg, "broker", roles, sizeof roles / sizeof roles[0], &node);
    if (rc == 0)
        rc = el_node_run (node);
    el_node_destroy (&node);
    s_node_rc = rc;
    return NULL;
}

static void
s_stop (void)
{
    if (!s_started)
        return;
    if (s_sock)
        zmq_close (s_sock);
    if (s_ctx)
        zmq_ctx_term (s_ctx);
    /* SIGTERM to the daemon's thread: it blocks it and reads its signalfd */
    pthread_kill (s_thread, SIGTERM);
    pthread_join (s_thread, NULL);
    FZ_CHECK (s_node_rc == 0);
}

static void
s_start (void)
{
    fz_keys_init ();
    fz_dir_init ();
    el_config_init (&s_cfg);
    char err[EL_CONFIG_ERR_MAX];
    snprintf (s_state, sizeof s_state, "%s/broker", fz_dir);
    snprintf (s_join, sizeof s_join, "ipc://%s/join.sock", fz_dir);
    char listen[400];
    snprintf (listen, sizeof listen, "ipc://%s/sync.sock", fz_dir);
    FZ_CHECK (el_config_set (&s_cfg, "state_dir", s_state, err, sizeof err) == 0);
    FZ_CHECK (el_config_set (&s_cfg, "listen", listen, err, sizeof err) == 0);
    FZ_CHECK (el_config_set (&s_cfg, "durable", "false", err, sizeof err) == 0);
    FZ_CHECK (el_config_set (&s_cfg, "log_level", getenv ("FUZZ_VERBOSE") ? "debug" : "error",
                             err, sizeof err) == 0);
    FZ_CHECK (el_config_finish (&s_cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err) == 0);
    FZ_CHECK (pthread_create (&s_thread, NULL, s_node_main, NULL) == 0);
    s_started = true;
    atexit (s_stop);
    /* wait for the control socket file */
    char path[400];
    snprintf (path, sizeof path, "%s/control.sock", s_state);
    for (int i = 0; i < 2000 && access (path, F_OK) != 0; i++) {
        FZ_CHECK (s_node_rc == 1);
        usleep (10000);
    }
    FZ_CHECK (access (path, F_OK) == 0);
    s_ctx = zmq_ctx_new ();
    FZ_CHECK (s_ctx);
    s_sock = zmq_socket (s_ctx, ZMQ_DEALER);
    FZ_CHECK (s_sock);
    int zero = 0, timeout = S_REPLY_MS;
    zmq_setsockopt (s_sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s_sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (s_sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    FZ_CHECK (zmq_connect (s_sock, s_cfg.control) == 0);
}

/* Send @p data as one request (REQ framing: empty delimiter, body) and wait
 * for the reply. */
static El__ControlReply *
s_call (const uint8_t *data, size_t size)
{
    FZ_CHECK (zmq_send (s_sock, "", 0, ZMQ_SNDMORE) == 0);
    FZ_CHECK (zmq_send (s_sock, data, size, 0) == (int) size);
    zmq_msg_t m;
    zmq_msg_init (&m);
    int rc;
    while ((rc = zmq_msg_recv (&m, s_sock, 0)) < 0 && errno == EINTR)
        ;                               /* libFuzzer's SIGALRM */
    FZ_CHECK (rc == 0);                 /* the delimiter, mirrored */
    int more = 0;
    size_t more_size = sizeof more;
    zmq_getsockopt (s_sock, ZMQ_RCVMORE, &more, &more_size);
    FZ_CHECK (more);
    FZ_CHECK (zmq_msg_recv (&m, s_sock, 0) >= 0);   /* no reply in time: a hang */
    El__ControlReply *r = el__control_reply__unpack (&el_pb_allocator, zmq_msg_size (&m),
                                                     zmq_msg_data (&m));
    zmq_msg_close (&m);
    FZ_CHECK (r);
    return r;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_started)
        s_start ();
    FZ_CHECK (s_node_rc == 1);          /* the daemon still runs */
    if (size > (1u << 20))
        return 0;
    El__ControlRequest *req = el__control_request__unpack (&el_pb_allocator, size, data);
    uint8_t *repacked = NULL;
    if (req && req->r_case == EL__CONTROL_REQUEST__R_INVITE) {
        char *asked = req->invite->join_listen;
        req->invite->join_listen = s_join;
        size_t len;
        repacked = fz_pack (&req->base, &len);
        req->invite->join_listen = asked;       /* free_unpacked frees it */
        data = repacked;
        size = len;
    } else if (req && req->r_case == EL__CONTROL_REQUEST__R_WAIT
               && (req->wait->timeout_ms == 0 || req->wait->timeout_ms > S_WAIT_MS)) {
        /* a wait is answered at its timeout at the latest: keep it short;
         * above EL_CONTROL_WAIT_MAX_MS it stays a refusal to check */
        uint32_t asked = req->wait->timeout_ms;
        if (asked <= EL_CONTROL_WAIT_MAX_MS)
            req->wait->timeout_ms = 1 + asked % S_WAIT_MS;
        size_t len;
        repacked = fz_pack (&req->base, &len);
        data = repacked;
        size = len;
    }
    El__ControlReply *r = s_call (data, size);
    if (req) {
        FZ_CHECK (r->id == req->id);
        FZ_CHECK (r->code <= 0);
        if (r->code < 0)
            FZ_CHECK (r->text && r->text[0]);
    } else {
        FZ_CHECK (r->code == EL_EPROTO);
    }
    el__control_reply__free_unpacked (r, &el_pb_allocator);
    if (req)
        el__control_request__free_unpacked (req, &el_pb_allocator);
    free (repacked);
    return 0;
}
