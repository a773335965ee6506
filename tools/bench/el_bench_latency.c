/* el_bench_latency — latency_p50_us, latency_p99_us: at a steady rate (default
 * 200 entries/s), the time from the origin's write call returning to the
 * entry being readable at a second node (clocks of one machine).
 *
 * Real processes on loopback, CURVE on, durable commits: entrelab-broker and
 * two admitted nodes A and C (bench_trio_start). Every 1/rate s the bench
 * writes one 512-byte EVENT record at A through A's control API (one record
 * per request, as the CLI does) and notes when the reply arrives (t_w: A has
 * committed it, as entry seq S). It then sends C a WaitRequest (A, S): C
 * answers once its store holds A's entries up to S (its head reaches S, after
 * C's commit), and the bench notes when that answer arrives (t_r). latency =
 * t_r - t_w; its resolution is one one-way control hop (C's reactor to the
 * bench), and the bench itself sleeps between writes. Each of the R runs
 * takes N samples (after one second of warm-up writes at the same rate) and
 * prints its p50 and p99 (µs).
 *
 * With -M poll the bench asks C instead, between writes, for the oldest entry
 * not yet seen (control Get of that record, every 50 µs) and notes when the
 * reply finding it arrives: the method used before WaitRequest existed, whose
 * resolution is one control round trip plus the pause (printed on stderr) and
 * whose polling loads C and the machine.
 *
 * With -P broker the entry is looked for at the broker instead of C (the
 * first hop alone, for the stage analysis).
 *
 * -D FILE writes every sample as "<ms since the run's first write> <µs>" lines.
 *
 *   el_bench_latency -b BUILD_DIR [-d DIR] [-n ENTRIES] [-r PER_SECOND] [-R RUNS]
 *                    [-P c|broker] [-M wait|poll] [-D FILE] */
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

/* Ask the daemon of @p ctl to answer once it holds @p origin's entries up to
 * @p seq: the WaitRequest of write @p i (its id is *@p id0 + i). */
static int
s_wait_send (bench_ctl_t *ctl, const uint8_t origin[EL_KEY_BYTES], uint64_t seq, uint64_t i,
             uint64_t *id0)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WaitRequest w = EL__WAIT_REQUEST__INIT;
    w.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) origin };
    w.seq = seq;
    w.timeout_ms = SEEN_TIMEOUT_S * 1000;
    req.r_case = EL__CONTROL_REQUEST__R_WAIT;
    req.wait = &w;
    uint64_t id;
    int rc = bench_ctl_send (ctl, &req, &id);
    if (rc == 0 && i == 0)
        *id0 = id;
    if (rc == 0 && id != *id0 + i)
        rc = -EPROTO;           /* another request went out on this socket */
    return rc;
}

/* The next WaitReply, within @p timeout_ms: which write it answers (*@p ret_i,
 * below @p written). @return 0, -ETIMEDOUT, or an error (printed). */
static int
s_wait_recv (bench_ctl_t *ctl, uint64_t id0, uint64_t written, int64_t timeout_ms,
             uint64_t *ret_i)
{
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_recv (ctl, (int) (timeout_ms > 0 ? timeout_ms : 0), &reply);
    if (rc < 0)
        return rc;
    bool ok = reply->code == 0 && reply->r_case == EL__CONTROL_REPLY__R_WAIT
              && reply->wait->reached && reply->id >= id0 && reply->id - id0 < written;
    if (ok)
        *ret_i = reply->id - id0;
    else
        bench_error ("wait reply %llu: code %d, %s", (unsigned long long) reply->id, reply->code,
                     reply->r_case == EL__CONTROL_REPLY__R_WAIT && !reply->wait->reached
                         ? "not reached in time" : "not a WaitReply of this run");
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    return ok ? 0 : -EPROTO;
}

static void
s_key (char *buf, size_t size, uint64_t run, uint64_t i)
{
    snprintf (buf, size, "lat%llu-%llu", (unsigned long long) run, (unsigned long long) i);
}

/* One run: n + WARMUP writes at @p rate/s; fills lat_ns[0..n). */
static int
s_run (bench_trio_t *t, bench_ctl_t *reader, uint64_t run, uint64_t n, uint64_t rate,
       bool by_wait, int64_t *lat_ns, int64_t *ret_poll_ns, FILE *dump)
{
    const uint64_t warmup = rate;      /* one second's worth */
    uint64_t total = n + warmup;
    int64_t *t_w = calloc (total, sizeof *t_w);
    if (!t_w)
        return -ENOMEM;
    uint64_t wait_id0 = 0;      /* by_wait: the WaitRequest of write i has id wait_id0 + i */
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
            uint64_t seq = reply->r_case == EL__CONTROL_REPLY__R_WRITE ? reply->write->last_seq : 0;
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            if (by_wait) {
                rc = s_wait_send (reader, t->a.id, seq, written, &wait_id0);
                if (rc < 0)
                    goto out;
            }
            written++;
            next += period;
            continue;
        }
        if (by_wait && seen < written) {
            int64_t until = written < total ? next : now + (int64_t) SEEN_TIMEOUT_S * 1000000000;
            uint64_t i;
            rc = s_wait_recv (reader, wait_id0, written, (until - now) / 1000000, &i);
            int64_t t_r = bench_now_ns ();
            if (rc == -ETIMEDOUT && written < total)
                continue;       /* time for the next write */
            if (rc < 0)
                goto out;
            if (i >= warmup) {
                lat_ns[i - warmup] = t_r - t_w[i];
                if (dump)
                    fprintf (dump, "%.1f %.1f\n", (double) (t_w[i] - t_w[0]) / 1e6,
                             (double) (t_r - t_w[i]) / 1e3);
            }
            seen++;
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
    bool at_broker = false, by_wait = true;
    const char *dump_path = NULL;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:r:R:P:M:D:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'D':
            dump_path = optarg;
            break;
        case 'M':
            if (strcmp (optarg, "wait") && strcmp (optarg, "poll")) {
                bench_error ("-M: wait or poll");
                return 2;
            }
            by_wait = !strcmp (optarg, "wait");
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
                             "[-r PER_SECOND] [-R RUNS] [-P c|broker] [-M wait|poll] "
                             "[-D FILE]\n");
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
        if (s_run (&t, at_broker ? t.bctl : t.cctl, r, n, rate, by_wait, lat, &poll_ns, dump) < 0)
            goto out_logs;
        double p50 = (double) bench_percentile (lat, n, 50) / 1e3;
        double p99 = (double) bench_percentile (lat, n, 99) / 1e3;
        printf ("latency_p50_us=%.1f\nlatency_p99_us=%.1f\n", p50, p99);
        fflush (stdout);
        fprintf (stderr, "el_bench_latency: run %llu (%s at %s): %llu entries at %llu/s: "
                         "p50 %.1f us, p99 %.1f us, max %.1f us",
                 (unsigned long long) r + 1, by_wait ? "waited for" : "polled",
                 at_broker ? "the broker" : "C", (unsigned long long) n,
                 (unsigned long long) rate, p50, p99, (double) lat[n - 1] / 1e3);
        if (by_wait)
            fprintf (stderr, "\n");
        else
            fprintf (stderr, "; one poll takes %.1f us\n", (double) poll_ns / 1e3);
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
