/* el_bench_query — event_show_us: how long `entrelab event show UID` waits
 * for its record in a store of N events (default 100,000): the p50 of L
 * (default 1,000) GetRequests with any_origin set (what the CLI sends when
 * no --site is given: one point lookup per origin the store holds), timed
 * at the client from send to reply, keys drawn at random among the N.
 * event_list_page_us: then the whole store is listed as `entrelab event list`
 * reads it, ListRequests of 1,000 events, each page asked after the last
 * record of the one before; the p50 of the pages, timed the same way.
 * event_window_us: then W (default 200) listings of one week each, as
 * `entrelab event list --from --to` asks for them (ListRequest.window, the
 * store's date index), at random weeks inside the events' dates (one event
 * an hour, each an hour long); each must hold the 169 events the index
 * promises (starts in [from - 1 h, to)); the p50 of the listings, in µs,
 * against the time a full listing (every page above) took, which is what the
 * CLI read for a window before the index.
 *
 * Real processes on loopback: an entrelab-broker and a node A, admitted; A
 * writes the N events (512-byte EVENT records, 1,000 per request); the
 * lookups go to A's control socket over the persistent DEALER, as the CLI's
 * own request would (the CLI's process start is not counted).
 *
 *   el_bench_query -b BUILD_DIR [-d DIR] [-n EVENTS] [-l LOOKUPS] [-w WINDOWS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"

#define LIST_PAGE 1000
#define HOUR_US   3600000000LL
#define FIRST_US  (1800000000000000LL + HOUR_US) /* dtstart of event 1 (bench_el.c) */
#define WEEK_H    (7 * 24)

/* One week's window listing at the store behind @p ctl, starting at event
 * @p first's start; @return its time in µs, -1 when it fails or holds
 * other than the events promised. */
static int64_t
s_window_week (bench_ctl_t *ctl, uint64_t first)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__ListRequest lr = EL__LIST_REQUEST__INIT;
    lr.kind = EL__KIND__EVENT;
    lr.limit = LIST_PAGE;
    lr.window = true;
    lr.from_us = FIRST_US + (int64_t) (first - 1) * HOUR_US;
    lr.to_us = lr.from_us + WEEK_H * HOUR_US;
    req.r_case = EL__CONTROL_REQUEST__R_LIST;
    req.list = &lr;
    El__ControlReply *reply = NULL;
    int64_t t0 = bench_now_ns ();
    int err = bench_ctl_call (ctl, &req, BENCH_CTL_TIMEOUT_MS, &reply);
    int64_t us = (bench_now_ns () - t0) / 1000;
    size_t got = err == 0 && reply->r_case == EL__CONTROL_REPLY__R_LIST
                 ? reply->list->n_records : 0;
    bool more = got && reply->list->more;
    if (reply)
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
    if (got != WEEK_H + 1 || more) {
        bench_error ("window from event %llu: %zu events%s (%d), expected %d",
                     (unsigned long long) first, got, more ? " and more" : "", err, WEEK_H + 1);
        return -1;
    }
    return us;
}

/* List every EVENT of the store behind @p ctl, LIST_PAGE per request, the
 * time of each page in @p us (at most @p max pages). @return pages, -1. */
static int64_t
s_list_all (bench_ctl_t *ctl, uint64_t expect, int64_t *us, size_t max)
{
    uint8_t after_origin[EL_KEY_BYTES];
    char after_key[256] = "";
    bool more = true, first = true;
    uint64_t got = 0;
    size_t pages = 0;
    while (more && pages < max) {
        El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
        El__ListRequest lr = EL__LIST_REQUEST__INIT;
        lr.kind = EL__KIND__EVENT;
        lr.limit = LIST_PAGE;
        if (!first) {
            lr.after_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, after_origin };
            lr.after_key = after_key;
        }
        req.r_case = EL__CONTROL_REQUEST__R_LIST;
        req.list = &lr;
        El__ControlReply *reply = NULL;
        int64_t t0 = bench_now_ns ();
        int err = bench_ctl_call (ctl, &req, BENCH_CTL_TIMEOUT_MS, &reply);
        us[pages++] = (bench_now_ns () - t0) / 1000;
        bool ok = err == 0 && reply->r_case == EL__CONTROL_REPLY__R_LIST;
        if (ok && reply->list->n_records) {
            const El__RecordView *last = reply->list->records[reply->list->n_records - 1];
            ok = last->origin.len == EL_KEY_BYTES && strlen (last->key) < sizeof after_key;
            if (ok) {
                memcpy (after_origin, last->origin.data, EL_KEY_BYTES);
                snprintf (after_key, sizeof after_key, "%s", last->key);
            }
            got += reply->list->n_records;
        }
        more = ok && reply->list->more;
        if (reply)
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (!ok) {
            bench_error ("list page %zu failed (%d)", pages, err);
            return -1;
        }
        first = false;
    }
    if (got != expect) {
        bench_error ("listed %llu events of %llu", (unsigned long long) got,
                     (unsigned long long) expect);
        return -1;
    }
    return (int64_t) pages;
}

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t n = 100000, lookups = 1000, windows = 200;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:n:l:w:h");
        if (opt == -1)
            break;
        int bad = 0;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'n': bad = bench_parse_u64 (optarg, "-n", 1, 10000000, &n); break;
        case 'l': bad = bench_parse_u64 (optarg, "-l", 1, 1000000, &lookups); break;
        case 'w': bad = bench_parse_u64 (optarg, "-w", 1, 1000000, &windows); break;
        default:
            fprintf (stderr, "usage: el_bench_query -b BUILD_DIR [-d DIR] [-n EVENTS] "
                             "[-l LOOKUPS] [-w WINDOWS]\n");
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
    size_t max_pages = (size_t) (n / LIST_PAGE + 2);
    int64_t *us = calloc (lookups, sizeof *us), *page_us = calloc (max_pages, sizeof *page_us);
    int64_t *win_us = calloc (windows, sizeof *win_us);
    if (n < 2 * WEEK_H) {
        fprintf (stderr, "el_bench_query: -n must be at least %d (two weeks of events)\n",
                 2 * WEEK_H);
        goto out;
    }
    if (!ctx || !us || !page_us || !win_us || bench_pair_start (ctx, &p, bin_dir, dir, NULL) < 0)
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
    int64_t t_all = bench_now_ns ();
    int64_t pages = s_list_all (p.actl, n, page_us, max_pages);
    t_all = (bench_now_ns () - t_all) / 1000;
    if (pages < 0)
        goto out_logs;
    printf ("event_list_page_us=%lld\n", (long long) bench_percentile (page_us, (size_t) pages, 50));
    fprintf (stderr, "el_bench_query: %lld pages of up to %d events: p99 %lld us\n",
             (long long) pages, LIST_PAGE,
             (long long) bench_percentile (page_us, (size_t) pages, 99));
    for (uint64_t i = 0; i < windows; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        /* a week whose hour before is an event too: 169 events promised */
        win_us[i] = s_window_week (p.actl, 2 + seed % (n - WEEK_H - 1));
        if (win_us[i] < 0)
            goto out_logs;
    }
    int64_t win50 = bench_percentile (win_us, windows, 50);
    printf ("event_window_us=%lld\n", (long long) win50);
    fprintf (stderr, "el_bench_query: %llu one-week windows of %d events: p99 %lld us; the "
                     "full listing a window read before the date index: %lld us (%.0f x)\n",
             (unsigned long long) windows, WEEK_H + 1,
             (long long) bench_percentile (win_us, windows, 99), (long long) t_all,
             win50 > 0 ? (double) t_all / (double) win50 : 0.0);
    rc = 0;
    goto out;
out_logs:
    bench_pair_show_logs (&p);
out:
    free (us);
    free (page_us);
    free (win_us);
    bench_pair_stop (&p);
    if (ctx)
        zmq_ctx_term (ctx);
    bench_rm_rf (dir);
    return rc;
}
