/* el_bench_catchup — catchup_entries_per_s: a node that was offline while N
 * entries from O origins accumulated at the broker reconnects; entries / time
 * until its heads equal the broker's.
 *
 * Real processes on loopback, CURVE on, durable commits: one entrelab-broker,
 * O origin nodes and the target node T, all admitted by the broker. T starts
 * once, takes the broker's Site entries, and stops. The origins then write
 * N/O 512-byte EVENT records each (control API, 1,000 per request) and the
 * broker stores them all; the origins stop. T's stopped state directory is
 * kept as a snapshot. Each of the R runs restores T from the snapshot, starts
 * it (t0 = just before the process starts: start-up, CURVE handshake and
 * Hello are included) and polls T's heads every 2 ms until every head equals
 * the broker's (t1). Prints `catchup_entries_per_s=<N/(t1-t0)>` once per run.
 *
 * With -F, a second network's broker F (fresh, empty) is then linked with
 * ours (`federate` on both sides, default kinds: the N events cross) and
 * `federation_catchup_entries_per_s=<N/(t1-t0)>` is printed once: t0 just
 * before the two FederateRequests, t1 when F holds the broker's heads.
 *
 *   el_bench_catchup -b BUILD_DIR [-d DIR] [-n ENTRIES] [-o ORIGINS] [-R RUNS] [-F] */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"
#include "el_error.h"

#define ORIGINS_MAX 64
#define START_MS 15000
#define POLL_US 2000

/* Replace @p to by a copy of @p from (cp -a, no shell). */
static int
s_copy_dir (const char *from, const char *to)
{
    int rc = bench_rm_rf (to);
    if (rc < 0 && rc != -ENOENT) {
        bench_error ("remove %s: %s", to, strerror (-rc));
        return rc;
    }
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execlp ("cp", "cp", "-a", from, to, (char *) NULL);
        _exit (127);
    }
    int status = bench_wait_child (pid, 120000);
    if (status != 0) {
        bench_error ("cp -a %s %s failed (%d)", from, to, status);
        return -EIO;
    }
    return 0;
}

/* Poll @p ctl until its heads hold @p want, up to @p timeout_s. */
static int
s_wait_heads (bench_ctl_t *ctl, const El__HeadsReply *want, int timeout_s, const char *who)
{
    int64_t deadline = bench_now_ns () + (int64_t) timeout_s * 1000000000;
    for (;;) {
        int rc = bench_ctl_has_heads (ctl, want);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return 0;
        if (bench_now_ns () > deadline) {
            bench_error ("%s did not reach the broker's heads in %d s", who, timeout_s);
            return -ETIMEDOUT;
        }
        usleep (POLL_US);
    }
}

/* A fresh broker F of another network links with ours; entries per second
 * until F holds the broker's heads. @return 0 or an error (printed). */
static int
s_federation (void *ctx, const char *bin_dir, const char *dir, bench_ctl_t *bctl,
              const bench_daemon_t *broker, int port, uint64_t n)
{
    El__ControlReply *want = NULL;
    bench_daemon_t fed;
    bench_ctl_t *fctl = NULL;
    memset (&fed, 0, sizeof fed);
    int fport = 0;
    int rc = bench_free_tcp_port (&fport);
    if (rc == 0)
        rc = bench_daemon_init (&fed, dir, "federated", true);
    if (rc == 0)
        rc = bench_daemon_start (ctx, &fed, bin_dir, fport, NULL, START_MS);
    if (rc == 0)
        rc = bench_ctl_new (ctx, fed.control, &fctl);
    int64_t t0 = bench_now_ns ();
    if (rc == 0)
        rc = bench_ctl_federate (fctl, broker->id, port);
    if (rc == 0)
        rc = bench_ctl_federate (bctl, fed.id, fport);
    /* the broker's heads now: with the federation record it just wrote */
    if (rc == 0)
        rc = bench_ctl_heads (bctl, &want);
    if (rc == 0)
        rc = s_wait_heads (fctl, want->heads, 60 + (int) (n / 2000), "the federated broker");
    int64_t t1 = bench_now_ns ();
    if (rc == 0) {
        printf ("federation_catchup_entries_per_s=%.0f\n", (double) n * 1e9 / (double) (t1 - t0));
        fflush (stdout);
        fprintf (stderr, "el_bench_catchup: federation: %llu entries in %.3f s\n",
                 (unsigned long long) n, (double) (t1 - t0) / 1e9);
    } else {
        if (fctl)
            bench_daemon_print_counters (fctl, "federated");
        bench_daemon_print_counters (bctl, "broker");
        bench_daemon_show_log (&fed);
        bench_daemon_show_log (broker);
    }
    if (want)
        el__control_reply__free_unpacked (want, &el_pb_allocator);
    bench_ctl_destroy (&fctl);
    bench_daemon_stop (&fed);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t n = 200000, origins = 10, runs = 3;
    bool federation = false;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:o:R:Fh");
        if (opt == -1)
            break;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'F': federation = true; break;
        case 'd': base = optarg; break;
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, 10000000, &n) < 0)
                return 2;
            break;
        case 'o':
            if (bench_parse_u64 (optarg, "-o", 1, ORIGINS_MAX, &origins) < 0)
                return 2;
            break;
        case 'R':
            if (bench_parse_u64 (optarg, "-R", 1, 100, &runs) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: el_bench_catchup -b BUILD_DIR [-d DIR] [-n ENTRIES] "
                             "[-o ORIGINS] [-R RUNS] [-F]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    int err;
    char dir[BENCH_PATH_MAX], snap[BENCH_PATH_MAX + 16];
    int rc = bench_el_main_init (bin_dir, base, "el_catchup.", dir);
    if (rc != 0)
        return rc;
    rc = 1;
    snprintf (snap, sizeof snap, "%s/target.snap", dir);
    void *ctx = zmq_ctx_new ();
    bench_daemon_t broker, target, origin[ORIGINS_MAX];
    bench_ctl_t *bctl = NULL, *tctl = NULL;
    El__ControlReply *want = NULL;
    pid_t perf = 0;
    memset (&broker, 0, sizeof broker);
    memset (&target, 0, sizeof target);
    memset (origin, 0, sizeof origin);
    int port = 0;
    if (!ctx || bench_free_tcp_port (&port) < 0)
        goto out;

    /* broker, then every site admitted */
    if (bench_daemon_init (&broker, dir, "broker", true) < 0
        || bench_daemon_start (ctx, &broker, bin_dir, port, NULL, START_MS) < 0
        || bench_ctl_new (ctx, broker.control, &bctl) < 0)
        goto out;
    if (bench_daemon_init (&target, dir, "target", false) < 0
        || bench_ctl_admit (bctl, target.id, "target") < 0)
        goto out;
    for (uint64_t i = 0; i < origins; i++) {
        char name[32];
        snprintf (name, sizeof name, "origin%llu", (unsigned long long) i);
        if (bench_daemon_init (&origin[i], dir, name, false) < 0
            || bench_ctl_admit (bctl, origin[i].id, name) < 0)
            goto out;
    }

    /* T joins once and takes what the broker has, then goes offline */
    if (bench_ctl_heads (bctl, &want) < 0
        || bench_daemon_start (ctx, &target, bin_dir, port, broker.id, START_MS) < 0
        || bench_ctl_new (ctx, target.control, &tctl) < 0
        || s_wait_heads (tctl, want->heads, 30, "target (first join)") < 0)
        goto out_logs;
    bench_ctl_destroy (&tctl);
    bench_daemon_stop (&target);
    el__control_reply__free_unpacked (want, &el_pb_allocator);
    want = NULL;

    /* entries accumulate at the broker */
    int64_t t_fill = bench_now_ns ();
    uint64_t per = n / origins, extra = n % origins;
    for (uint64_t i = 0; i < origins; i++) {
        bench_ctl_t *octl = NULL;
        uint64_t k = per + (i < extra ? 1 : 0);
        if (bench_daemon_start (ctx, &origin[i], bin_dir, port, broker.id, START_MS) < 0
            || bench_ctl_new (ctx, origin[i].control, &octl) < 0
            || bench_ctl_wait_admitted (octl, START_MS) < 0) {
            bench_ctl_destroy (&octl);
            goto out_logs;
        }
        err = k ? bench_ctl_write_many (octl, "catchup-", 1, k, 1000, 2) : 0;
        bench_ctl_destroy (&octl);
        if (err < 0)
            goto out_logs;
    }
    /* wait until the broker holds every origin's N/O entries */
    int64_t deadline = bench_now_ns () + (int64_t) (120 + n / 2000) * 1000000000;
    for (uint64_t i = 0; i < origins; i++) {
        uint64_t k = per + (i < extra ? 1 : 0), seq = 0;
        while (seq < k) {
            if (bench_ctl_head_seq (bctl, origin[i].id, &seq) < 0)
                goto out_logs;
            if (seq >= k)
                break;
            if (bench_now_ns () > deadline) {
                bench_error ("broker holds %llu of %llu entries of %s",
                             (unsigned long long) seq, (unsigned long long) k, origin[i].name);
                goto out_logs;
            }
            usleep (10000);
        }
    }
    for (uint64_t i = 0; i < origins; i++)
        bench_daemon_stop (&origin[i]);
    fprintf (stderr, "el_bench_catchup: %llu entries from %llu origins at the broker in %.1f s\n",
             (unsigned long long) n, (unsigned long long) origins,
             (double) (bench_now_ns () - t_fill) / 1e9);
    if (bench_ctl_heads (bctl, &want) < 0)
        goto out_logs;
    if (s_copy_dir (target.state_dir, snap) < 0)
        goto out;

    const bench_daemon_t *profiled[2] = { &target, &broker };
    for (uint64_t r = 0; r < runs; r++) {
        if (s_copy_dir (snap, target.state_dir) < 0)
            goto out;
        int64_t t0 = bench_now_ns ();
        int64_t bcpu0 = bench_daemon_cpu_ns (&broker);
        if (bench_daemon_start (ctx, &target, bin_dir, port, broker.id, START_MS) < 0
            || bench_ctl_new (ctx, target.control, &tctl) < 0)
            goto out_logs;
        if (r == 0)
            perf = bench_perf_start ("catchup", profiled, 2);
        if (s_wait_heads (tctl, want->heads, 60 + (int) (n / 5000), "target") < 0)
            goto out_logs;
        int64_t t1 = bench_now_ns ();
        bench_perf_stop (perf);
        perf = 0;
        int64_t tcpu = bench_daemon_cpu_ns (&target), bcpu = bench_daemon_cpu_ns (&broker) - bcpu0;
        bench_daemon_print_counters (tctl, "target");
        uint64_t wchar = 0, wbytes = 0;
        if (bench_daemon_io (&target, &wchar, &wbytes) == 0)
            fprintf (stderr, "  target I/O: %.1f MB through write() (%.0f bytes per entry), "
                             "%.1f MB to storage\n", (double) wchar / 1e6,
                     (double) wchar / (double) n, (double) wbytes / 1e6);
        fprintf (stderr, "  CPU during the run: target %.2f s (%.0f%% of wall), broker %.2f s "
                         "(%.0f%%); all threads\n", (double) tcpu / 1e9,
                 100.0 * (double) tcpu / (double) (t1 - t0), (double) bcpu / 1e9,
                 100.0 * (double) bcpu / (double) (t1 - t0));
        bench_ctl_destroy (&tctl);
        bench_daemon_stop (&target);
        printf ("catchup_entries_per_s=%.0f\n", (double) n * 1e9 / (double) (t1 - t0));
        fflush (stdout);
        fprintf (stderr, "el_bench_catchup: run %llu: %llu entries in %.3f s\n",
                 (unsigned long long) r + 1, (unsigned long long) n, (double) (t1 - t0) / 1e9);
    }
    if (federation && s_federation (ctx, bin_dir, dir, bctl, &broker, port, n) < 0)
        goto out;
    rc = 0;
    goto out;
out_logs:
    bench_daemon_show_log (&broker);
    bench_daemon_show_log (&target);
out:
    bench_perf_stop (perf);
    if (want)
        el__control_reply__free_unpacked (want, &el_pb_allocator);
    bench_ctl_destroy (&tctl);
    bench_ctl_destroy (&bctl);
    bench_daemon_stop (&target);
    for (uint64_t i = 0; i < origins; i++)
        bench_daemon_stop (&origin[i]);
    bench_daemon_stop (&broker);
    if (ctx)
        zmq_ctx_term (ctx);
    bench_rm_rf (dir);
    return rc;
}
