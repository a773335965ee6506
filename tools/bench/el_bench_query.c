/* el_bench_query — event_show_us: how long `entrelab event show UID` waits
 * for its record in a store of N events (default 100,000): the p50 of L
 * (default 1,000) GetRequests with any_origin set (what the CLI sends when
 * no --site is given: one point lookup per origin the store holds), timed
 * at the client from send to reply, keys drawn at random among the N.
 *
 * Real processes on loopback: an entrelab-broker and a node A, admitted; A
 * writes the N events (512-byte EVENT records, 1,000 per request); the
 * lookups go to A's control socket over the persistent DEALER, as the CLI's
 * own request would (the CLI's process start is not counted).
 *
 *   el_bench_query -b BUILD_DIR [-d DIR] [-n EVENTS] [-l LOOKUPS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t n = 100000, lookups = 1000;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:l:h");
        if (opt == -1)
            break;
        int bad = 0;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'n': bad = bench_parse_u64 (optarg, "-n", 1, 10000000, &n); break;
        case 'l': bad = bench_parse_u64 (optarg, "-l", 1, 1000000, &lookups); break;
        default:
            fprintf (stderr, "usage: el_bench_query -b BUILD_DIR [-d DIR] [-n EVENTS] "
                             "[-l LOOKUPS]\n");
            return opt == 'h' ? 0 : 2;
        }
        if (bad < 0)
            return 2;
    }
    char dir[BENCH_PATH_MAX];
    int rc = bench_el_main_init (bin_dir, base, "el_query.", dir);
    if (rc != 0)
        return rc;
    rc = 1;
    void *ctx = zmq_ctx_new ();
    bench_pair_t p;
    memset (&p, 0, sizeof p);
    int64_t *us = calloc (lookups, sizeof *us);
    if (!ctx || !us || bench_pair_start (ctx, &p, bin_dir, dir, NULL) < 0)
        goto out;
    if (bench_ctl_write_many (p.actl, "ev-", 1, n, 1000, 2) < 0)
        goto out_logs;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (uint64_t i = 0; i < lookups; i++) {
        char key[48];
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        snprintf (key, sizeof key, "ev-%llu", (unsigned long long) (1 + seed % n));
        El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
        El__GetRequest gr = EL__GET_REQUEST__INIT;
        gr.kind = EL__KIND__EVENT;
        gr.key = key;
        gr.any_origin = true;
        req.r_case = EL__CONTROL_REQUEST__R_GET;
        req.get = &gr;
        El__ControlReply *reply = NULL;
        int64_t t0 = bench_now_ns ();
        int err = bench_ctl_call (p.actl, &req, BENCH_CTL_TIMEOUT_MS, &reply);
        us[i] = (bench_now_ns () - t0) / 1000;
        bool found = err == 0 && reply->r_case == EL__CONTROL_REPLY__R_GET && reply->get->record
                     && !strcmp (reply->get->record->key, key);
        if (reply)
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (!found) {
            bench_error ("event %s not found (%d)", key, err);
            goto out_logs;
        }
    }
    printf ("event_show_us=%lld\n", (long long) bench_percentile (us, lookups, 50));
    fprintf (stderr, "el_bench_query: %llu lookups in %llu events: p99 %lld us\n",
             (unsigned long long) lookups, (unsigned long long) n,
             (long long) bench_percentile (us, lookups, 99));
    rc = 0;
    goto out;
out_logs:
    bench_pair_show_logs (&p);
out:
    free (us);
    bench_pair_stop (&p);
    if (ctx)
        zmq_ctx_term (ctx);
    bench_rm_rf (dir);
    return rc;
}
