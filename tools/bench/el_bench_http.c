/* el_bench_http — http_agenda_req_per_s: GET /agenda.ics of a network of E
 * events (default 1,000) from the broker's web endpoint, HTTP/1.1 keep-alive,
 * C concurrent clients (default 16) for S seconds (default 5), after a one
 * second warm-up; the requests/s of R runs, printed once per run.
 *
 * Real processes on loopback: an entrelab-broker with http_listen set (its
 * configuration file) and one node A, admitted, that writes the E events
 * (512-byte EVENT records, one hour apart, through the control API). The
 * figure starts once the broker's feed holds every event. Every response
 * must be 200 with the feed's length (bench_http.h). With -o FILE the feed's
 * bytes are written to FILE: peer_http_static serves the same bytes from
 * nginx, the peer figure measured in the same run.
 *
 *   el_bench_http -b BUILD_DIR [-d DIR] [-e EVENTS] [-c CLIENTS] [-s SECONDS]
 *                 [-R RUNS] [-o FILE] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"
#include "bench_http.h"

#define FEED_WAIT_S 60

/* How many VEVENTs the feed holds now; 0 on any error. */
static size_t
s_feed_events (int port, char **ret_body, size_t *ret_len)
{
    char *body = NULL;
    size_t len = 0, n = 0;
    if (bench_http_get (port, "/agenda.ics", &body, &len) < 0)
        return 0;
    for (const char *p = strstr (body, "BEGIN:VEVENT"); p; p = strstr (p + 12, "BEGIN:VEVENT"))
        n++;
    *ret_body = body;
    *ret_len = len;
    return n;
}

static int
s_write_file (const char *path, const char *data, size_t len)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    int rc = bench_write_all (fd, data, len);
    if (close (fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* The broker's configuration file, @p path (@p size bytes) in @p dir:
 * http_listen on @p port. */
static int
s_config (char *path, size_t size, const char *dir, int port)
{
    char text[128];
    int n = snprintf (path, size, "%s/broker.conf", dir);
    if (n < 0 || (size_t) n >= size)
        return -ENAMETOOLONG;
    snprintf (text, sizeof text, "http_listen = 127.0.0.1:%d\n", port);
    int rc = s_write_file (path, text, strlen (text));
    if (rc == 0 && chmod (path, 0600) < 0)
        rc = -errno;
    if (rc < 0)
        bench_error ("write %s: %s", path, strerror (-rc));
    return rc;
}

static int
s_usage (int rc)
{
    fprintf (stderr, "usage: el_bench_http -b BUILD_DIR [-d DIR] [-e EVENTS] [-c CLIENTS] "
                     "[-s SECONDS] [-R RUNS] [-o FILE]\n");
    return rc;
}

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL, *out = NULL;
    uint64_t events = 1000, clients = 16, millis = 5000, runs = 3;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:e:c:s:R:o:h");
        if (opt == -1)
            break;
        int bad = 0;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'o': out = optarg; break;
        case 'e': bad = bench_parse_u64 (optarg, "-e", 1, 100000, &events); break;
        case 'c': bad = bench_parse_u64 (optarg, "-c", 1, BENCH_HTTP_CLIENTS_MAX, &clients); break;
        case 's': bad = bench_parse_seconds (optarg, "-s", 600, &millis); break;
        case 'R': bad = bench_parse_u64 (optarg, "-R", 1, 100, &runs); break;
        default: return s_usage (opt == 'h' ? 0 : 2);
        }
        if (bad < 0)
            return 2;
    }
    char dir[BENCH_PATH_MAX];
    int rc = bench_el_main_init (bin_dir, base, "el_http.", dir);
    if (rc != 0)
        return rc;
    rc = 1;
    void *ctx = zmq_ctx_new ();
    bench_pair_t p;
    memset (&p, 0, sizeof p);
    int http = 0;
    char *feed = NULL, conf[BENCH_PATH_MAX + 16];
    size_t feed_len = 0;
    if (!ctx || bench_free_tcp_port (&http) < 0 || s_config (conf, sizeof conf, dir, http) < 0
        || bench_pair_start (ctx, &p, bin_dir, dir, conf) < 0)
        goto out;
    if (bench_ctl_write_many (p.actl, "agenda-", 1, events, 1000, 2) < 0)
        goto out_logs;
    /* the broker's snapshot follows its store within EL_HTTP_REFRESH_MS */
    int64_t deadline = bench_now_ns () + (int64_t) FEED_WAIT_S * 1000000000;
    for (;;) {
        size_t held = s_feed_events (http, &feed, &feed_len);
        if (held >= events)
            break;
        free (feed);
        feed = NULL;
        if (bench_now_ns () > deadline) {
            bench_error ("the broker's feed holds %zu of %llu events after %d s", held,
                         (unsigned long long) events, FEED_WAIT_S);
            goto out_logs;
        }
        usleep (100000);
    }
    if (out && s_write_file (out, feed, feed_len) < 0) {
        bench_error ("write %s: %s", out, strerror (errno));
        goto out_logs;
    }
    fprintf (stderr, "el_bench_http: /agenda.ics holds %llu events, %zu bytes\n",
             (unsigned long long) events, feed_len);
    double per_s = 0;
    uint64_t n = 0;
    if (bench_http_load (http, "/agenda.ics", (int) clients, 1.0, feed_len, &per_s, &n) < 0)
        goto out_logs;
    for (uint64_t r = 0; r < runs; r++) {
        int64_t cpu0 = bench_daemon_cpu_ns (&p.broker), t0 = bench_now_ns ();
        if (bench_http_load (http, "/agenda.ics", (int) clients, (double) millis / 1000.0,
                             feed_len, &per_s, &n) < 0)
            goto out_logs;
        double wall = (double) (bench_now_ns () - t0);
        printf ("http_agenda_req_per_s=%.0f\n", per_s);
        fflush (stdout);
        fprintf (stderr, "el_bench_http: run %llu: %llu requests by %llu clients, broker CPU "
                         "%.0f%% of wall\n", (unsigned long long) r + 1, (unsigned long long) n,
                 (unsigned long long) clients,
                 100.0 * (double) (bench_daemon_cpu_ns (&p.broker) - cpu0) / wall);
    }
    rc = 0;
    goto out;
out_logs:
    bench_pair_show_logs (&p);
out:
    free (feed);
    bench_pair_stop (&p);
    if (ctx)
        zmq_ctx_term (ctx);
    bench_rm_rf (dir);
    return rc;
}
