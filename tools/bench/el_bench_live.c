/* el_bench_live — live_entries_per_s: an origin writes as fast as it can;
 * entries / time until a second node has them all.
 *
 * Real processes on loopback, CURVE on, durable commits: entrelab-broker and
 * two admitted nodes A and C (bench_trio_start). A bench client of A's control
 * API writes N 512-byte EVENT records (requests of B records, default 1,000,
 * up to W requests in flight, default 2; the requests are built before the
 * clock starts). t0 = first request sent; t1 = the first poll (every 1 ms)
 * that finds A's head at C covering all N (the broker is polled too, for
 * the stage split printed on stderr). Each of the R runs writes N more
 * records into the same system. Prints `live_entries_per_s=<N/(t1-t0)>` once
 * per run, and on stderr the rate at which A accepted the writes.
 *
 *   el_bench_live -b BUILD_DIR [-d DIR] [-n ENTRIES] [-B BATCH] [-W WINDOW] [-R RUNS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"
#include "el_error.h"

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t n = 100000, batch = 1000, window = 2, runs = 3;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:B:W:R:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, 10000000, &n) < 0)
                return 2;
            break;
        case 'B':
            if (bench_parse_u64 (optarg, "-B", 1, BENCH_WRITE_BATCH_MAX, &batch) < 0)
                return 2;
            break;
        case 'W':
            if (bench_parse_u64 (optarg, "-W", 1, 64, &window) < 0)
                return 2;
            break;
        case 'R':
            if (bench_parse_u64 (optarg, "-R", 1, 100, &runs) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: el_bench_live -b BUILD_DIR [-d DIR] [-n ENTRIES] [-B BATCH] "
                             "[-W WINDOW] [-R RUNS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    int err;
    char dir[BENCH_PATH_MAX];
    int rc = bench_el_main_init (bin_dir, base, "el_live.", dir);
    if (rc != 0)
        return rc;
    rc = 1;
    void *ctx = zmq_ctx_new ();
    bench_trio_t t;
    memset (&t, 0, sizeof t);
    if (!ctx || bench_trio_start (ctx, &t, bin_dir, dir) < 0)
        goto out;
    uint64_t written = 1;       /* the warm-up entry */
    for (uint64_t r = 0; r < runs; r++) {
        El__ControlRequest **reqs = NULL;
        size_t n_reqs = 0;
        char prefix[32];
        snprintf (prefix, sizeof prefix, "live%llu-", (unsigned long long) r);
        if (bench_write_reqs_build (prefix, 1, n, (size_t) batch, &reqs, &n_reqs) < 0)
            goto out_logs;
        int64_t cpu0[3] = { bench_daemon_cpu_ns (&t.a), bench_daemon_cpu_ns (&t.broker),
                            bench_daemon_cpu_ns (&t.c) };
        const bench_daemon_t *profiled[3] = { &t.a, &t.broker, &t.c };
        pid_t perf = r == 0 ? bench_perf_start ("live", profiled, 3) : 0;
        int64_t t0 = bench_now_ns ();
        err = bench_ctl_write_reqs (t.actl, reqs, n_reqs, (int) window);
        int64_t tw = bench_now_ns ();
        bench_write_reqs_free (&reqs, n_reqs);
        if (err < 0) {
            bench_perf_stop (perf);
            goto out_logs;
        }
        written += n;
        /* when did the broker have them all (stage 1), and C (stage 2)? */
        int64_t tb = 0, deadline = bench_now_ns () + (int64_t) (60 + n / 2000) * 1000000000;
        uint64_t at_b = 0, at_c = 0;
        while (err == 0 && at_c < written) {
            if (!tb) {
                err = bench_ctl_head_seq (t.bctl, t.a.id, &at_b);
                if (err == 0 && at_b >= written)
                    tb = bench_now_ns ();
            }
            if (err == 0)
                err = bench_ctl_head_seq (t.cctl, t.a.id, &at_c);
            if (err == 0 && at_c < written) {
                if (bench_now_ns () > deadline) {
                    bench_error ("C holds %llu of %llu entries of A", (unsigned long long) at_c,
                                 (unsigned long long) written);
                    err = -ETIMEDOUT;
                }
                usleep (1000);
            }
        }
        int64_t t1 = bench_now_ns ();
        if (!tb)
            tb = t1;
        bench_perf_stop (perf);
        if (err < 0)
            goto out_logs;
        printf ("live_entries_per_s=%.0f\n", (double) n * 1e9 / (double) (t1 - t0));
        fflush (stdout);
        fprintf (stderr, "el_bench_live: run %llu: %llu entries written at A in %.3f s "
                         "(%.0f/s), all at the broker after %.3f s, all at C after %.3f s\n",
                 (unsigned long long) r + 1, (unsigned long long) n, (double) (tw - t0) / 1e9,
                 (double) n * 1e9 / (double) (tw - t0), (double) (tb - t0) / 1e9,
                 (double) (t1 - t0) / 1e9);
        double wall = (double) (t1 - t0);
        fprintf (stderr, "  CPU during the run (all threads): A %.0f%%, broker %.0f%%, C %.0f%% of wall\n",
                 100.0 * (double) (bench_daemon_cpu_ns (&t.a) - cpu0[0]) / wall,
                 100.0 * (double) (bench_daemon_cpu_ns (&t.broker) - cpu0[1]) / wall,
                 100.0 * (double) (bench_daemon_cpu_ns (&t.c) - cpu0[2]) / wall);
        uint64_t wc[2] = { 0 }, wb[2] = { 0 };
        if (bench_daemon_io (&t.a, &wc[0], &wb[0]) == 0 && bench_daemon_io (&t.c, &wc[1], &wb[1]) == 0)
            fprintf (stderr, "  I/O since start: A %.1f MB through write(), C %.1f MB\n",
                     (double) wc[0] / 1e6, (double) wc[1] / 1e6);
        bench_daemon_print_counters (t.actl, "A");
        bench_daemon_print_counters (t.cctl, "C");
    }
    rc = 0;
    goto out;
out_logs:
    bench_daemon_show_log (&t.broker);
    bench_daemon_show_log (&t.a);
    bench_daemon_show_log (&t.c);
out:
    bench_trio_stop (&t);
    if (ctx)
        zmq_ctx_term (ctx);
    bench_rm_rf (dir);
    return rc;
}
