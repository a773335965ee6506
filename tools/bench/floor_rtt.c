/* floor_rtt — the latency floor for latency_p99_vs_floor: one CURVE round trip
 * plus two durable LMDB commits, measured in the same run as the figure.
 *
 * CURVE: two processes (fork before any libzmq context); the child binds a
 * ROUTER (CURVE server) that echoes every message; the parent's DEALER sends
 * one S-byte message and waits for the echo, R times (after 100 warm-up round
 * trips), one at a time. LMDB: R transactions of one put each, each timed, in
 * an environment with default (durable) flags in a fresh directory under DIR.
 * Prints (µs):
 *   floor_curve_rtt_p50_us, floor_curve_rtt_p99_us,
 *   floor_commit_p50_us, floor_commit_p99_us,
 *   floor_us = floor_curve_rtt_p50_us + 2 * floor_commit_p50_us
 *
 *   floor_rtt [-d DIR] [-r ROUND_TRIPS] [-s BYTES] */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"
#include "bench_zmq.h"

#define TIMEOUT_MS 10000
#define WARMUP 100

static int
s_echo (const bench_curve_keys_t *keys, int out_fd)
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
    int timeout = TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    rc = bench_write_all (out_fd, &port, sizeof port);
    if (rc < 0)
        goto out_sock;
    static uint8_t id[256], buf[BENCH_MSG_BYTES_MAX];
    for (;;) {
        int idlen = zmq_recv (sock, id, sizeof id, 0);
        int len = idlen > 0 ? zmq_recv (sock, buf, sizeof buf, 0) : -1;
        if (idlen <= 0 || len < 0 || idlen > (int) sizeof id || len > (int) sizeof buf) {
            rc = -EPROTO;
            bench_error ("echo: recv: %s", zmq_strerror (zmq_errno ()));
            goto out_sock;
        }
        if (len == 0)           /* the parent is done */
            break;
        if (zmq_send (sock, id, (size_t) idlen, ZMQ_SNDMORE) < 0
            || zmq_send (sock, buf, (size_t) len, 0) < 0) {
            rc = -zmq_errno ();
            bench_error ("echo: send: %s", zmq_strerror (-rc));
            goto out_sock;
        }
    }
    rc = 0;
out_sock:
    zmq_close (sock);
out_ctx:
    zmq_ctx_term (ctx);
out:
    return rc;
}

/* Fill rtt_ns[0..r) with round-trip times. */
static int
s_curve_rtts (const bench_curve_keys_t *keys, int in_fd, uint64_t r, size_t size,
              int64_t *rtt_ns)
{
    int rc;
    int port = 0;
    rc = bench_read_all (in_fd, &port, sizeof port);
    if (rc < 0) {
        bench_error ("echo process did not start");
        return rc;
    }
    rc = -ENOMEM;
    uint8_t *out = malloc (size), *in = malloc (size);
    void *ctx = zmq_ctx_new ();
    void *sock = NULL;
    if (!out || !in || !ctx)
        goto out_free;
    bench_fill (out, size, 4);
    rc = bench_curve_dealer (ctx, keys, port, &sock);
    if (rc < 0)
        goto out_free;
    int timeout = TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    for (uint64_t i = 0; i < WARMUP + r; i++) {
        int64_t t0 = bench_now_ns ();
        if (zmq_send (sock, out, size, 0) < 0 || zmq_recv (sock, in, size, 0) != (int) size) {
            rc = -EPROTO;
            bench_error ("round trip %llu: %s", (unsigned long long) i,
                         zmq_strerror (zmq_errno ()));
            goto out_sock;
        }
        if (i >= WARMUP)
            rtt_ns[i - WARMUP] = bench_now_ns () - t0;
    }
    zmq_send (sock, "", 0, 0);  /* tell the echo process to stop */
    rc = 0;
out_sock:
    zmq_close (sock);
out_free:
    if (ctx)
        zmq_ctx_term (ctx);
    free (in);
    free (out);
    return rc;
}

/* Fill commit_ns[0..r) with the times of durable one-put transactions. */
static int
s_commits (const char *base, uint64_t r, size_t size, int64_t *commit_ns)
{
    int rc = -1, err;
    char dir[BENCH_PATH_MAX];
    err = bench_mkdtemp (base, "floor_rtt.", dir);
    if (err < 0) {
        bench_error ("mkdtemp: %s", strerror (-err));
        return err;
    }
    uint8_t *value = malloc (size);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    if (!value)
        goto out_rm;
    bench_fill (value, size, 5);
    err = mdb_env_create (&env);
    if (err == 0)
        err = mdb_env_set_mapsize (env, (size_t) (r * (size + 128) * 2) + (64u << 20));
    if (err == 0)
        err = mdb_env_set_maxdbs (env, 4);
    if (err == 0)
        err = mdb_env_open (env, dir, 0, 0600);
    if (err == 0)
        err = mdb_txn_begin (env, NULL, 0, &txn);
    if (err == 0)
        err = mdb_dbi_open (txn, "entries", MDB_CREATE, &dbi);
    if (err == 0)
        err = mdb_txn_commit (txn);
    if (err != 0) {
        bench_error ("lmdb open %s: %s", dir, mdb_strerror (err));
        goto out_env;
    }
    for (uint64_t i = 0; i < r; i++) {
        uint8_t key[8];
        for (int b = 0; b < 8; b++)
            key[b] = (uint8_t) (i >> (56 - 8 * b));
        MDB_val k = { sizeof key, key }, v = { size, value };
        int64_t t0 = bench_now_ns ();
        err = mdb_txn_begin (env, NULL, 0, &txn);
        if (err == 0)
            err = mdb_put (txn, dbi, &k, &v, MDB_APPEND);
        if (err == 0)
            err = mdb_txn_commit (txn);
        if (err != 0) {
            bench_error ("lmdb commit: %s", mdb_strerror (err));
            goto out_env;
        }
        commit_ns[i] = bench_now_ns () - t0;
    }
    rc = 0;
out_env:
    if (env)
        mdb_env_close (env);
out_rm:
    free (value);
    bench_rm_rf (dir);
    return rc;
}

int
main (int argc, char **argv)
{
    uint64_t r = 2000, size = BENCH_MSG_BYTES_DEFAULT;
    const char *base = NULL;
    for (;;) {
        int opt = getopt (argc, argv, "d:r:s:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'd':
            base = optarg;
            break;
        case 'r':
            if (bench_parse_u64 (optarg, "-r", 1, 1000000, &r) < 0)
                return 2;
            break;
        case 's':
            if (bench_parse_u64 (optarg, "-s", 1, BENCH_MSG_BYTES_MAX, &size) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: floor_rtt [-d DIR] [-r ROUND_TRIPS] [-s BYTES]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    int rc = 1;
    int64_t *rtt = calloc (r, sizeof *rtt), *commit = calloc (r, sizeof *commit);
    if (!rtt || !commit) {
        bench_error ("out of memory");
        goto out;
    }
    bench_curve_keys_t keys;
    if (bench_curve_keys_make (&keys) < 0)
        goto out;
    int fds[2];
    if (pipe (fds) < 0) {
        bench_error ("pipe: %s", strerror (errno));
        goto out;
    }
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0) {
        bench_error ("fork: %s", strerror (errno));
        goto out;
    }
    if (pid == 0) {
        close (fds[0]);
        _exit (s_echo (&keys, fds[1]) < 0 ? 1 : 0);
    }
    close (fds[1]);
    int err = s_curve_rtts (&keys, fds[0], r, (size_t) size, rtt);
    close (fds[0]);
    int status = bench_wait_child (pid, TIMEOUT_MS + 5000);
    if (err < 0 || status != 0) {
        if (err == 0)
            bench_error ("echo process exited with status %d", status);
        goto out;
    }
    if (s_commits (base, r, (size_t) size, commit) < 0)
        goto out;
    double rtt50 = (double) bench_percentile (rtt, r, 50) / 1e3;
    double rtt99 = (double) bench_percentile (rtt, r, 99) / 1e3;
    double c50 = (double) bench_percentile (commit, r, 50) / 1e3;
    double c99 = (double) bench_percentile (commit, r, 99) / 1e3;
    printf ("floor_curve_rtt_p50_us=%.1f\n", rtt50);
    printf ("floor_curve_rtt_p99_us=%.1f\n", rtt99);
    printf ("floor_commit_p50_us=%.1f\n", c50);
    printf ("floor_commit_p99_us=%.1f\n", c99);
    printf ("floor_us=%.1f\n", rtt50 + 2 * c50);
    rc = 0;
out:
    free (commit);
    free (rtt);
    return rc;
}
