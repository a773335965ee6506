/* raw_curve — baseline: libzmq DEALER -> ROUTER over tcp loopback with CURVE.
 *
 * Two processes (fork before any libzmq context): the child binds the ROUTER
 * (CURVE server) and counts messages; the parent connects the DEALER (CURVE
 * client), waits for one ping/pong so the handshake is done, then sends N
 * messages of S bytes as fast as libzmq takes them. The rate is N divided by
 * the time from the parent's first send to the child's N-th receive (both
 * CLOCK_MONOTONIC). Prints `raw_curve_msgs_per_s=<n>`.
 *
 *   raw_curve [-n MESSAGES] [-s BYTES] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"
#include "bench_zmq.h"

#define RECV_TIMEOUT_MS 30000

static int
s_receiver (const bench_curve_keys_t *keys, uint64_t n, size_t size, int out_fd)
{
    int rc = -ENOMEM;
    void *sock = NULL;
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        goto out;
    int port = 0;
    rc = bench_curve_router (ctx, keys, &sock, &port);
    if (rc < 0)
        goto out_ctx;
    int timeout = RECV_TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    rc = bench_write_all (out_fd, &port, sizeof port);
    if (rc < 0)
        goto out_sock;

    uint8_t id[256], buf[64];
    /* ping: identity frame + 1-byte frame; answer it so the sender knows the
     * CURVE handshake is done. */
    int idlen = zmq_recv (sock, id, sizeof id, 0);
    int len = idlen > 0 ? zmq_recv (sock, buf, sizeof buf, 0) : -1;
    if (idlen <= 0 || len != 1 || idlen > (int) sizeof id) {
        rc = -EPROTO;
        bench_error ("receiver: no ping (%s)", zmq_strerror (zmq_errno ()));
        goto out_sock;
    }
    if (zmq_send (sock, id, (size_t) idlen, ZMQ_SNDMORE) < 0 || zmq_send (sock, "p", 1, 0) < 0) {
        rc = -zmq_errno ();
        bench_error ("receiver: pong: %s", zmq_strerror (-rc));
        goto out_sock;
    }
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    for (uint64_t got = 0; got < n;) {
        if (zmq_msg_recv (&msg, sock, 0) < 0) {
            rc = -zmq_errno ();
            bench_error ("receiver: after %llu of %llu messages: %s",
                         (unsigned long long) got, (unsigned long long) n, zmq_strerror (-rc));
            zmq_msg_close (&msg);
            goto out_sock;
        }
        if (!zmq_msg_more (&msg)) {       /* the data frame (identity frames have more) */
            if (zmq_msg_size (&msg) != size) {
                rc = -EPROTO;
                bench_error ("receiver: message of %zu bytes, expected %zu",
                             zmq_msg_size (&msg), size);
                zmq_msg_close (&msg);
                goto out_sock;
            }
            got++;
        }
    }
    zmq_msg_close (&msg);
    int64_t end_ns = bench_now_ns ();
    rc = bench_write_all (out_fd, &end_ns, sizeof end_ns);
out_sock:
    zmq_close (sock);
out_ctx:
    zmq_ctx_term (ctx);
out:
    return rc;
}

static int
s_sender (const bench_curve_keys_t *keys, uint64_t n, size_t size, int in_fd)
{
    int rc;
    int port = 0;
    rc = bench_read_all (in_fd, &port, sizeof port);
    if (rc < 0) {
        bench_error ("receiver did not start");
        goto out;
    }
    rc = -ENOMEM;
    uint8_t *payload = malloc (size);
    void *ctx = zmq_ctx_new ();
    void *sock = NULL;
    if (!payload || !ctx)
        goto out_free;
    bench_fill (payload, size, 1);
    rc = bench_curve_dealer (ctx, keys, port, &sock);
    if (rc < 0)
        goto out_free;
    int timeout = RECV_TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    char pong[8];
    if (zmq_send (sock, "p", 1, 0) != 1 || zmq_recv (sock, pong, sizeof pong, 0) != 1) {
        rc = -zmq_errno ();
        bench_error ("sender: ping: %s", zmq_strerror (-rc));
        goto out_sock;
    }
    int64_t start_ns = bench_now_ns ();
    for (uint64_t i = 0; i < n; i++) {
        if (zmq_send (sock, payload, size, 0) < 0) {
            rc = -zmq_errno ();
            bench_error ("sender: zmq_send: %s", zmq_strerror (-rc));
            goto out_sock;
        }
    }
    int64_t end_ns = 0;
    rc = bench_read_all (in_fd, &end_ns, sizeof end_ns);
    if (rc < 0) {
        bench_error ("receiver failed");
        goto out_sock;
    }
    double secs = (double) (end_ns - start_ns) / 1e9;
    printf ("raw_curve_msgs_per_s=%.0f\n", (double) n / secs);
    rc = 0;
out_sock:
    zmq_close (sock);
out_free:
    if (ctx)
        zmq_ctx_term (ctx);
    free (payload);
out:
    return rc;
}

int
main (int argc, char **argv)
{
    uint64_t n = 200000, size = BENCH_MSG_BYTES_DEFAULT;
    for (;;) {
        int opt = getopt (argc, argv, "n:s:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, UINT32_MAX, &n) < 0)
                return 2;
            break;
        case 's':
            if (bench_parse_u64 (optarg, "-s", 2, BENCH_MSG_BYTES_MAX, &size) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: raw_curve [-n MESSAGES] [-s BYTES]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    bench_curve_keys_t keys;
    if (bench_curve_keys_make (&keys) < 0)
        return 1;
    int fds[2];
    if (pipe (fds) < 0) {
        bench_error ("pipe: %s", strerror (errno));
        return 1;
    }
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0) {
        bench_error ("fork: %s", strerror (errno));
        return 1;
    }
    if (pid == 0) {
        close (fds[0]);
        _exit (s_receiver (&keys, n, (size_t) size, fds[1]) < 0 ? 1 : 0);
    }
    close (fds[1]);
    int rc = s_sender (&keys, n, (size_t) size, fds[0]);
    close (fds[0]);
    int status = bench_wait_child (pid, RECV_TIMEOUT_MS + 5000);
    if (rc == 0 && status != 0) {
        bench_error ("receiver exited with status %d", status);
        rc = -1;
    }
    return rc < 0 ? 1 : 0;
}
