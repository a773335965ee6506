/* el_bench_latency — latency_p50_us, latency_p99_us: at a steady rate (default
 * 200 entries/s), the time from the origin's write call returning to the
 * entry being readable at a second node (clocks of one machine).
 *
 * Real processes on loopback, CURVE on, durable commits: entrelab-broker and
 * two admitted nodes A and C (bench_trio_start). Every 1/rate s the bench
 * writes one 512-byte EVENT record at A through A's control API (one record
 * per request, as the CLI does) and notes when the reply arrives (t_w: A has
 * committed it). Between writes it asks C for the oldest entry not yet seen
 * (control Get of that record, every 50 µs) and notes when the reply finding
 * it arrives (t_r). latency = t_r - t_w; its resolution is one control round
 * trip plus the 50 µs pause (printed on stderr). Entries of one origin arrive
 * in order, so one poll can retire several. Each of the R runs takes N
 * samples (after one second of warm-up writes at the same rate) and prints its p50 and p99 (µs).
 *
 * With -P broker the entry is looked for at the broker instead of C (the
 * first hop alone, for the stage analysis).
 *
 * -D FILE writes every sample as "<ms since the run's first write> <µs>" lines.
 *
 *   el_bench_latency -b BUILD_DIR [-d DIR] [-n ENTRIES] [-r PER_SECOND] [-R RUNS]
 *                    [-P c|broker] [-D FILE] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"
#include "el_error.h"

#define POLL_PAUSE_US 50
#define SEEN_TIMEOUT_S 30

/* Is record (EVENT, origin, key) readable at the daemon of @p ctl?
 * @return 1 yes, 0 not found, negative on error. */
static int
s_readable (bench_ctl_t *ctl, const uint8_t origin[EL_KEY_BYTES], const char *key)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__GetRequest get = EL__GET_REQUEST__INIT;
    get.kind = EL__KIND__EVENT;
    get.origin.data = (uint8_t *) origin;
    get.origin.len = EL_KEY_BYTES;
    get.key = (char *) key;
    req.r_case = EL__CONTROL_REQUEST__R_GET;
    req.get = &get;
    uint64_t id = 0;
    int rc = bench_ctl_send (ctl, &req, &id);
    if (rc < 0)
        return rc;
    for (;;) {
        El__ControlReply *reply = NULL;
        rc = bench_ctl_recv (ctl, BENCH_CTL_TIMEOUT_MS, &reply);
        if (rc < 0) {
            bench_error ("get: %s", el_strerror (rc));
            return rc;
        }
        if (reply->id != id) {
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            continue;
        }
        int code = reply->code;
        bool found = code == 0 && reply->r_case == EL__CONTROL_REPLY__R_GET && reply->get->record;
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (code == EL_ENOTFOUND)
            return 0;
        if (code != 0) {
            bench_error ("get: %s", el_strerror (code));
            return code;
        }
        return found ? 1 : 0;
    }
}

static void
s_key (char *buf, size_t size, uint64_t run, uint64_t i)
{
    snprintf (buf, size, "lat%llu-%llu", (unsigned long long) run, (unsigned long long) i);
}

/* One run: n + WARMUP writes at @p rate/s; fills lat_ns[0..n). */
static int
s_run (bench_trio_t *t, bench_ctl_t *reader, uint64_t run, uint64_t n, uint64_t rate,
       int64_t *lat_ns, int64_t *ret_poll_ns, FILE *dump)
{
    const uint64_t warmup = rate;      /* one second's worth */
    uint64_t total = n + warmup;
    int64_t *t_w = calloc (total, sizeof *t_w);
    if (!t_w)
        return -ENOMEM;
    int rc = 0;
    int64_t period = 1000000000 / (int64_t) rate;
    int64_t next = bench_now_ns ();
    uint64_t written = 0, seen = 0;
    int64_t poll_sum = 0, polls = 0;
    char key[64];
    while (seen < total) {
        int64_t now = bench_now_ns ();
        if (written < total && now >= next) {
            s_key (key, sizeof key, run, written);
            El__ControlRequest *req = bench_write_request ("", 0, 1);
            if (!req) {
                rc = -ENOMEM;
                goto out;
            }
            free (req->write->records[0]->key);
            req->write->records[0]->key = strdup (key);
            if (!req->write->records[0]->key) {
                bench_write_request_free (req);
                rc = -ENOMEM;
                goto out;
            }
            El__ControlReply *reply = NULL;
            rc = bench_ctl_call (t->actl, req, BENCH_CTL_TIMEOUT_MS, &reply);
            t_w[written] = bench_now_ns ();
            bench_write_request_free (req);
            if (rc < 0)
                goto out;
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            written++;
            next += period;
            continue;
        }
        if (seen < written) {
            s_key (key, sizeof key, run, seen);
            int64_t p0 = bench_now_ns ();
            rc = s_readable (reader, t->a.id, key);
            int64_t p1 = bench_now_ns ();
            poll_sum += p1 - p0;
            polls++;
            if (rc < 0)
                goto out;
            if (rc == 1) {
                if (seen >= warmup) {
                    lat_ns[seen - warmup] = p1 - t_w[seen];
                    if (dump)
                        fprintf (dump, "%.1f %.1f\n", (double) (t_w[seen] - t_w[0]) / 1e6,
                                 (double) (p1 - t_w[seen]) / 1e3);
                }
                seen++;
                continue;       /* the next may be there too */
            }
            if (p1 - t_w[seen] > (int64_t) SEEN_TIMEOUT_S * 1000000000) {
                bench_error ("entry %s not readable after %d s", key, SEEN_TIMEOUT_S);
                rc = -ETIMEDOUT;
                goto out;
            }
            usleep (POLL_PAUSE_US);
            continue;
        }
        int64_t wait = next - bench_now_ns ();
        if (wait > 0)
            usleep ((useconds_t) (wait / 1000));
    }
    *ret_poll_ns = polls ? poll_sum / polls : 0;
    rc = 0;
out:
    free (t_w);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t n = 2000, rate = 200, runs = 3;
    bool at_broker = false;
    const char *dump_path = NULL;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:r:R:P:D:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'D':
            dump_path = optarg;
            break;
        case 'P':
            if (strcmp (optarg, "c") && strcmp (optarg, "broker")) {
                bench_error ("-P: c or broker");
                return 2;
            }
            at_broker = !strcmp (optarg, "broker");
            break;
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, 1000000, &n) < 0)
                return 2;
            break;
        case 'r':
            if (bench_parse_u64 (optarg, "-r", 1, 100000, &rate) < 0)
                return 2;
            break;
        case 'R':
            if (bench_parse_u64 (optarg, "-R", 1, 100, &runs) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: el_bench_latency -b BUILD_DIR [-d DIR] [-n ENTRIES] "
                             "[-r PER_SECOND] [-R RUNS] [-P c|broker] [-D FILE]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    char dir[BENCH_PATH_MAX];
    int rc = bench_el_main_init (bin_dir, base, "el_latency.", dir);
    if (rc != 0)
        return rc;
    rc = 1;
    FILE *dump = dump_path ? fopen (dump_path, "w") : NULL;
    if (dump_path && !dump) {
        bench_error ("%s: %s", dump_path, strerror (errno));
        bench_rm_rf (dir);
        return 1;
    }
    void *ctx = zmq_ctx_new ();
    int64_t *lat = calloc (n, sizeof *lat);
    bench_trio_t t;
    memset (&t, 0, sizeof t);
    if (!ctx || !lat || bench_trio_start (ctx, &t, bin_dir, dir) < 0)
        goto out;
    /* the resolution: control Get round trips on C while idle */
    {
        int64_t rtt[200];
        for (int i = 0; i < 200; i++) {
            int64_t p0 = bench_now_ns ();
            if (s_readable (t.cctl, t.a.id, "warmup-1") != 1) {
                bench_error ("warm-up entry not readable at C");
                goto out_logs;
            }
            rtt[i] = bench_now_ns () - p0;
        }
        fprintf (stderr, "el_bench_latency: control Get round trip on idle C: p50 %.1f us, "
                         "p99 %.1f us\n", (double) bench_percentile (rtt, 200, 50) / 1e3,
                 (double) bench_percentile (rtt, 200, 99) / 1e3);
    }
    for (uint64_t r = 0; r < runs; r++) {
        int64_t poll_ns = 0;
        if (s_run (&t, at_broker ? t.bctl : t.cctl, r, n, rate, lat, &poll_ns, dump) < 0)
            goto out_logs;
        double p50 = (double) bench_percentile (lat, n, 50) / 1e3;
        double p99 = (double) bench_percentile (lat, n, 99) / 1e3;
        printf ("latency_p50_us=%.1f\nlatency_p99_us=%.1f\n", p50, p99);
        fflush (stdout);
        fprintf (stderr, "el_bench_latency: run %llu (read at %s): %llu entries at %llu/s: "
                         "p50 %.1f us, p99 %.1f us, max %.1f us; one poll takes %.1f us\n",
                 (unsigned long long) r + 1, at_broker ? "the broker" : "C", (unsigned long long) n, (unsigned long long) rate,
                 p50, p99, (double) lat[n - 1] / 1e3, (double) poll_ns / 1e3);
        bench_daemon_print_counters (t.bctl, "broker");
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
    free (lat);
    if (dump)
        fclose (dump);
    bench_rm_rf (dir);
    return rc;
}
