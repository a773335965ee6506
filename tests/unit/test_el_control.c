/* test_el_control.c — control socket transport: file mode, request/reply,
 * malformed and unknown requests, client errors. The server runs in a thread. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "el_control.h"
#include "el_control_call.h"

typedef struct {
    void *ctx;
    el_control_t *ctl;
    atomic_bool stop;
    atomic_int handled;
    int deferred;               /* server thread only: a token to answer, or -1 */
    int defer_busy;             /* server thread only: el_control_defer's refusal seen */
    pthread_t thread;
    char dir[64];
    char endpoint[128];
} s_fix_t;

/* Answers status with a role; heads with an error and a text of its own. */
static int
s_handler (void *arg, el_control_t *ctl, const El__ControlRequest *req, El__ControlReply *reply)
{
    s_fix_t *f = arg;
    atomic_fetch_add (&f->handled, 1);
    if (req->r_case == EL__CONTROL_REQUEST__R_STATUS) {
        /* no cmocka asserts here: this runs in the server thread */
        El__StatusReply *st = el_control_alloc (ctl, sizeof *st);
        uint8_t *id = el_control_alloc (ctl, EL_KEY_BYTES);
        if (!st || !id)
            return -ENOMEM;
        el__status_reply__init (st);
        st->role = el_control_strdup (ctl, "tester");
        memset (id, 0xab, EL_KEY_BYTES);
        st->self_id = (ProtobufCBinaryData) { EL_KEY_BYTES, id };
        reply->r_case = EL__CONTROL_REPLY__R_STATUS;
        reply->status = st;
        return 0;
    }
    if (req->r_case == EL__CONTROL_REQUEST__R_WRITE) {
        /* answered later, by the serving loop; every slot taken once: the
         * next defer is refused, and the extra ones are given up */
        unsigned token, extra[EL_CONTROL_DEFER_MAX];
        if (el_control_defer (ctl, &token) < 0)
            return -EIO;
        size_t n = 0;
        while (n < EL_CONTROL_DEFER_MAX && el_control_defer (ctl, &extra[n]) == 0)
            n++;
        f->defer_busy = n == EL_CONTROL_DEFER_MAX - 1 && el_control_defer (ctl, &extra[0]) == -EBUSY;
        while (n-- > 0)
            el_control_forget (ctl, extra[n]);
        f->deferred = (int) token;
        return EL_CONTROL_DEFERRED;
    }
    if (req->r_case == EL__CONTROL_REQUEST__R_HEADS) {
        reply->text = el_control_strdup (ctl, "no heads today");
        return EL_ENOTFOUND;
    }
    return EL_EINVAL;
}

static void *
s_serve (void *arg)
{
    s_fix_t *f = arg;
    while (!atomic_load (&f->stop)) {
        zmq_pollitem_t it = { el_control_socket (f->ctl), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&it, 1, 20) > 0)
            el_control_handle (f->ctl);
        if (f->deferred >= 0) {
            El__ControlReply reply = EL__CONTROL_REPLY__INIT;
            El__WriteReply *wr = el_control_alloc (f->ctl, sizeof *wr);
            if (wr) {
                el__write_reply__init (wr);
                wr->first_seq = 1;
                wr->last_seq = f->defer_busy ? 2 : 0;
                reply.r_case = EL__CONTROL_REPLY__R_WRITE;
                reply.write = wr;
            }
            (void) el_control_reply (f->ctl, (unsigned) f->deferred, wr ? 0 : -ENOMEM, &reply);
            f->deferred = -1;
        }
    }
    return NULL;
}

static int
s_setup (void **state)
{
    s_fix_t *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/el-control-XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/control.sock", f->dir);
    f->ctx = zmq_ctx_new ();
    f->deferred = -1;
    assert_int_equal (el_control_new (f->ctx, f->endpoint, s_handler, f, &f->ctl), 0);
    assert_int_equal (pthread_create (&f->thread, NULL, s_serve, f), 0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fix_t *f = *state;
    atomic_store (&f->stop, true);
    pthread_join (f->thread, NULL);
    char path[160];
    snprintf (path, sizeof path, "%s/control.sock", f->dir);
    el_control_destroy (&f->ctl);
    el_control_destroy (&f->ctl);
    assert_int_not_equal (access (path, F_OK), 0);  /* socket file removed */
    zmq_ctx_term (f->ctx);
    rmdir (f->dir);
    free (f);
    return 0;
}

/* A state folder whose socket path is longer than the kernel binds: the
 * server binds in a short folder and leaves a symbolic link, the client
 * follows it, and both are gone after destroy. */
static void
test_long_path (void **state)
{
    s_fix_t *f = *state;
    char deep[400], endpoint[480], path[460];
    snprintf (deep, sizeof deep, "%s/%0100d", f->dir, 0);
    assert_int_equal (mkdir (deep, 0700), 0);
    snprintf (path, sizeof path, "%s/control.sock", deep);
    snprintf (endpoint, sizeof endpoint, "ipc://%s", path);
    assert_true (strlen (path) > EL_IPC_PATH_MAX);
    s_fix_t g = { .ctx = f->ctx };
    assert_int_equal (el_control_new (f->ctx, endpoint, s_handler, &g, &g.ctl), 0);
    struct stat st;
    assert_int_equal (lstat (path, &st), 0);
    assert_true (S_ISLNK (st.st_mode));
    char target[EL_IPC_PATH_MAX + 2];
    ssize_t n = readlink (path, target, sizeof target);
    assert_true (n > 0 && n <= EL_IPC_PATH_MAX);
    target[n] = '\0';
    assert_int_equal (stat (target, &st), 0);
    assert_true (S_ISSOCK (st.st_mode));
    assert_int_equal (st.st_mode & 0777, EL_CONTROL_FILE_MODE);
    assert_int_equal (pthread_create (&g.thread, NULL, s_serve, &g), 0);
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest sr = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &sr;
    El__ControlReply *r = NULL;
    assert_int_equal (el_control_call (f->ctx, endpoint, &req, 5000, &r), 0);
    assert_non_null (r->status);
    assert_string_equal (r->status->role, "tester");
    el__control_reply__free_unpacked (r, &el_pb_allocator);
    atomic_store (&g.stop, true);
    pthread_join (g.thread, NULL);
    el_control_destroy (&g.ctl);
    assert_int_not_equal (lstat (path, &st), 0);            /* link removed */
    assert_int_not_equal (lstat (target, &st), 0);          /* socket removed */
    char *slash = strrchr (target, '/');
    *slash = '\0';
    assert_int_not_equal (lstat (target, &st), 0);          /* short folder removed */
    /* no daemon: refused, not a name error */
    assert_int_equal (el_control_call (f->ctx, endpoint, &req, 1000, &r), -ECONNREFUSED);
    rmdir (deep);
}

static void
test_socket_file_mode (void **state)
{
    s_fix_t *f = *state;
    char path[160];
    snprintf (path, sizeof path, "%s/control.sock", f->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, EL_CONTROL_FILE_MODE);
}

static void
test_request_reply (void **state)
{
    s_fix_t *f = *state;
    void *ctx = zmq_ctx_new ();
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest s = EL__STATUS_REQUEST__INIT;
    req.id = 42;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &s;
    El__ControlReply *reply = NULL;
    assert_int_equal (el_control_call (ctx, f->endpoint, &req, 10000, &reply), 0);
    assert_int_equal (reply->id, 42);
    assert_int_equal (reply->code, 0);
    assert_int_equal (reply->r_case, EL__CONTROL_REPLY__R_STATUS);
    assert_string_equal (reply->status->role, "tester");
    assert_int_equal (reply->status->self_id.len, EL_KEY_BYTES);
    assert_int_equal (reply->status->self_id.data[31], 0xab);
    el__control_reply__free_unpacked (reply, &el_pb_allocator);

    /* an error code with the handler's own text */
    El__HeadsRequest h = EL__HEADS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_HEADS;
    req.heads = &h;
    assert_int_equal (el_control_call (ctx, f->endpoint, &req, 10000, &reply), 0);
    assert_int_equal (reply->code, EL_ENOTFOUND);
    assert_string_equal (reply->text, "no heads today");
    el__control_reply__free_unpacked (reply, &el_pb_allocator);

    /* a deferred request: answered after its handler returned, to its id */
    El__WriteRequest w = EL__WRITE_REQUEST__INIT;
    req.id = 5;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &w;
    assert_int_equal (el_control_call (ctx, f->endpoint, &req, 10000, &reply), 0);
    assert_int_equal (reply->id, 5);
    assert_int_equal (reply->code, 0);
    assert_int_equal (reply->r_case, EL__CONTROL_REPLY__R_WRITE);
    assert_int_equal (reply->write->last_seq, 2);   /* the 65th defer was refused */
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    /* the slots given up are free again: the next deferral works too */
    req.id = 6;
    assert_int_equal (el_control_call (ctx, f->endpoint, &req, 10000, &reply), 0);
    assert_int_equal (reply->id, 6);
    assert_int_equal (reply->write->last_seq, 2);
    el__control_reply__free_unpacked (reply, &el_pb_allocator);

    /* no request set: refused without bothering the handler */
    int before = atomic_load (&f->handled);
    El__ControlRequest empty = EL__CONTROL_REQUEST__INIT;
    empty.id = 7;
    assert_int_equal (el_control_call (ctx, f->endpoint, &empty, 10000, &reply), 0);
    assert_int_equal (reply->code, EL_EINVAL);
    assert_int_equal (reply->id, 7);
    assert_string_equal (reply->text, "unknown request");
    assert_int_equal (atomic_load (&f->handled), before);
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    zmq_ctx_term (ctx);
}

static void
test_malformed_request (void **state)
{
    s_fix_t *f = *state;
    void *ctx = zmq_ctx_new ();
    void *req = zmq_socket (ctx, ZMQ_REQ);
    int zero = 0, timeout = 10000;
    zmq_setsockopt (req, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal (zmq_connect (req, f->endpoint), 0);
    const uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01, 0x02 };
    assert_int_equal (zmq_send (req, junk, sizeof junk, 0), (int) sizeof junk);
    zmq_msg_t m;
    zmq_msg_init (&m);
    assert_true (zmq_msg_recv (&m, req, 0) >= 0);
    El__ControlReply *reply = el__control_reply__unpack (&el_pb_allocator, zmq_msg_size (&m),
                                                         zmq_msg_data (&m));
    zmq_msg_close (&m);
    assert_non_null (reply);
    assert_int_equal (reply->code, EL_EPROTO);
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    zmq_close (req);
    el_control_stats_t st;
    el_control_stats (f->ctl, &st);     /* read after the reply: the thread is idle */
    assert_true (st.malformed >= 1);
    zmq_ctx_term (ctx);
}

static void
test_client_errors (void **state)
{
    s_fix_t *f = *state;
    void *ctx = zmq_ctx_new ();
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest s = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &s;
    El__ControlReply *reply = NULL;
    char absent[160];
    snprintf (absent, sizeof absent, "ipc://%s/absent.sock", f->dir);
    assert_int_equal (el_control_call (ctx, absent, &req, 100, &reply), -ECONNREFUSED);
    assert_null (reply);
    /* a bound socket that never answers: the call gives up */
    char quiet[160];
    snprintf (quiet, sizeof quiet, "ipc://%s/quiet.sock", f->dir);
    void *mute = zmq_socket (ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt (mute, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal (zmq_bind (mute, quiet), 0);
    assert_int_equal (el_control_call (ctx, quiet, &req, 200, &reply), -ETIMEDOUT);
    assert_null (reply);
    zmq_close (mute);
    char path[160];
    snprintf (path, sizeof path, "%s/quiet.sock", f->dir);
    unlink (path);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_socket_file_mode, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_long_path, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_request_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
