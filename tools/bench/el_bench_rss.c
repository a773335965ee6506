/* el_bench_rss — memory and store size:
 *   node_rss_idle_kib        VmRSS of an idle node holding E records (default
 *                            10,000), the larger of the origin A and the node C
 *                            that received them
 *   node_anon_kib            RssAnon of the same node (private memory: the
 *                            store's map pages are page cache, not counted)
 *   store_bytes_per_entry    C's store: used LMDB pages × page size / entries held
 *   broker_rss_per_site_kib  (VmRSS of a broker with S connected idle sites −
 *                            VmRSS of the same broker with the S sites admitted
 *                            but none connected) / S, default S = 1,000
 *
 * Real processes, CURVE on, durable commits. Node part: bench_trio_start, A
 * writes E 512-byte EVENT records (1,000 per request), C receives them all,
 * then 2 s of idleness before reading /proc/<pid>/status. Broker part: a fresh
 * broker admits S site keys (control API), idles 1 s (baseline), then this
 * program opens S CURVE DEALER sockets, one per site key, each sending a Hello
 * whose heads equal the broker's (an up-to-date site: nothing to send it), and
 * waits until the broker's status lists S sessions with a Hello; then 2 s of
 * idleness (libzmq heartbeats run) before reading VmRSS again. Every run (-R)
 * builds both systems afresh; each prints the four figures.
 *
 *   fanout_deliveries_per_s  with -f E: then an origin node joins that broker and
 *                            writes E records (1,000 per request); entries ×
 *                            sites / the time from its first write until every
 *                            connected site holds them all (each site credits
 *                            back every Entries frame, as a site does)
 *
 *   el_bench_rss -b BUILD_DIR [-d DIR] [-e RECORDS] [-c SITES] [-f ENTRIES] [-R RUNS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_el.h"
#include "el_error.h"
#include "entrelab.pb-c.h"
#include "el_sync.h"
#include "el_wire.h"

#define IDLE_MS 2000
#define ADMIT_WINDOW 32     /* admit requests in flight */
#define SITES_MAX 1020      /* the broker serves EL_NODE_LINKS_MAX (1,024) links */

static void
s_idle (int ms)
{
    usleep ((useconds_t) ms * 1000);
}

/* ---- node part ---------------------------------------------------------- */

static int
s_node_part (void *ctx, const char *bin_dir, const char *dir, uint64_t records,
             uint64_t *ret_rss, uint64_t *ret_anon, double *ret_bytes_per_entry)
{
    bench_trio_t t;
    int rc = bench_trio_start (ctx, &t, bin_dir, dir);
    if (rc < 0)
        return rc;
    rc = bench_ctl_write_many (t.actl, "rss-", 1, records, 1000, 2);
    if (rc >= 0)
        rc = bench_ctl_wait_seq (t.cctl, t.a.id, records + 1, 5000, 120);
    if (rc < 0)
        goto out_logs;
    s_idle (IDLE_MS);
    uint64_t rss_a = bench_daemon_rss_kib (&t.a), rss_c = bench_daemon_rss_kib (&t.c);
    uint64_t rss_b = bench_daemon_rss_kib (&t.broker);
    if (!rss_a || !rss_c) {
        bench_error ("cannot read the nodes' VmRSS");
        rc = -EIO;
        goto out;
    }
    /* entries C holds: the sum of its head seqs */
    El__ControlReply *heads = NULL;
    rc = bench_ctl_heads (t.cctl, &heads);
    if (rc < 0)
        goto out;
    uint64_t entries = 0;
    for (size_t i = 0; i < heads->heads->n_heads; i++)
        entries += heads->heads->heads[i]->seq;
    el__control_reply__free_unpacked (heads, &el_pb_allocator);
    uint64_t bytes = 0;
    rc = bench_daemon_store_bytes (&t.c, &bytes);
    if (rc < 0)
        goto out;
    fprintf (stderr, "el_bench_rss: %llu records: VmRSS A %llu KiB, C %llu KiB, broker %llu KiB; "
                     "C's store %llu bytes for %llu entries\n",
             (unsigned long long) records, (unsigned long long) rss_a,
             (unsigned long long) rss_c, (unsigned long long) rss_b,
             (unsigned long long) bytes, (unsigned long long) entries);
    bench_daemon_print_memory (&t.a);
    bench_daemon_print_memory (&t.c);
    *ret_rss = rss_a > rss_c ? rss_a : rss_c;
    uint64_t anon_a = bench_daemon_anon_kib (&t.a), anon_c = bench_daemon_anon_kib (&t.c);
    *ret_anon = anon_a > anon_c ? anon_a : anon_c;
    *ret_bytes_per_entry = (double) bytes / (double) entries;
    rc = 0;
    goto out;
out_logs:
    bench_daemon_show_log (&t.broker);
    bench_daemon_show_log (&t.a);
    bench_daemon_show_log (&t.c);
out:
    bench_trio_stop (&t);
    return rc;
}

/* ---- broker part -------------------------------------------------------- */

/* Serialized Msg{Hello} of @p site, claiming the heads of @p heads. */
static int
s_hello (const uint8_t site[EL_KEY_BYTES], const uint8_t network[EL_KEY_BYTES],
         const El__HeadsReply *heads, uint8_t **ret, size_t *ret_len)
{
    El__Hello hello = EL__HELLO__INIT;
    El__Msg msg = EL__MSG__INIT;
    El__Head *hv = calloc (heads->n_heads + 1, sizeof *hv);
    El__Head **hp = calloc (heads->n_heads + 1, sizeof *hp);
    if (!hv || !hp) {
        free (hv);
        free (hp);
        return -ENOMEM;
    }
    for (size_t i = 0; i < heads->n_heads; i++) {
        el__head__init (&hv[i]);
        hv[i].origin = heads->heads[i]->origin;
        hv[i].seq = heads->heads[i]->seq;
        hv[i].hash = heads->heads[i]->hash;
        hp[i] = &hv[i];
    }
    hello.version = EL_PROTOCOL_VERSION;
    hello.sender.data = (uint8_t *) site;
    hello.sender.len = EL_KEY_BYTES;
    hello.network.data = (uint8_t *) network;
    hello.network.len = EL_KEY_BYTES;
    hello.heads = hp;
    hello.n_heads = heads->n_heads;
    hello.credit = EL_SYNC_CREDIT_DEFAULT;
    msg.m_case = EL__MSG__M_HELLO;
    msg.hello = &hello;
    size_t len = el__msg__get_packed_size (&msg);
    uint8_t *buf = malloc (len);
    if (buf)
        el__msg__pack (&msg, buf);
    free (hv);
    free (hp);
    if (!buf)
        return -ENOMEM;
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* Read and drop whatever the broker sent to the sites. */
static void
s_drain (void **socks, size_t n)
{
    char buf[256];
    for (size_t i = 0; i < n; i++)
        while (zmq_recv (socks[i], buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
            ;
}

/* Sessions with a Hello at the broker. */
static int
s_sessions (bench_ctl_t *bctl, uint64_t *ret)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest st = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &st;
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_call (bctl, &req, BENCH_CTL_TIMEOUT_MS, &reply);
    if (rc < 0)
        return rc;
    uint64_t k = 0;
    if (reply->r_case == EL__CONTROL_REPLY__R_STATUS)
        for (size_t i = 0; i < reply->status->n_peers; i++)
            if (reply->status->peers[i]->connected && reply->status->peers[i]->hello_received)
                k++;
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    *ret = k;
    return 0;
}

/* Read what the broker sent site @p i: count the entries of Entries frames
 * into got[i] and credit each frame back, as a site does. @return 0, -errno. */
static int
s_site_recv (void *sock, uint64_t *got)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            return errno == EAGAIN ? 0 : -errno;
        }
        size_t n = el_wire_entries_peek (zmq_msg_data (&m), zmq_msg_size (&m), EL_BATCH_MAX,
                                         NULL, NULL);
        zmq_msg_close (&m);
        if (!n)
            continue;
        *got += n;
        El__Credit cr = EL__CREDIT__INIT;
        cr.entries = n;
        El__Msg msg = EL__MSG__INIT;
        msg.m_case = EL__MSG__M_CREDIT;
        msg.credit = &cr;
        uint8_t buf[16];
        size_t len = el__msg__pack (&msg, buf);
        if (zmq_send (sock, buf, len, 0) < 0)
            return -errno;
    }
}

/* Until every site holds @p want entries more than at the start (or the
 * deadline): poll the sites' sockets, reading and crediting. */
static int
s_sites_wait (void **socks, size_t n, uint64_t *got, uint64_t want, int64_t deadline_ns)
{
    zmq_pollitem_t *items = calloc (n, sizeof *items);
    if (!items)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        items[i] = (zmq_pollitem_t) { socks[i], 0, ZMQ_POLLIN, 0 };
    int rc = 0;
    size_t done = 0;
    while (rc == 0 && done < n) {
        if (bench_now_ns () > deadline_ns) {
            rc = -ETIMEDOUT;
            break;
        }
        if (zmq_poll (items, (int) n, 100) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        done = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (items[i].revents & ZMQ_POLLIN)
                rc = s_site_recv (socks[i], &got[i]);
            done += got[i] >= want;
        }
    }
    free (items);
    return rc;
}

/* fanout_deliveries_per_s: an origin node A joins the broker that serves
 * the @p n connected sites, writes @p entries records (1,000 per request);
 * deliveries (entries × sites) / the time from the first write until every
 * site holds them all. @return 0, or an error (printed). */
static int
s_fanout (void *ctx, const char *bin_dir, const char *dir, int port, bench_daemon_t *broker,
          bench_ctl_t *bctl, void **socks, size_t n, uint64_t entries, double *ret_per_s)
{
    bench_daemon_t a;
    bench_ctl_t *actl = NULL;
    uint64_t *got = calloc (n, sizeof *got);
    int rc = got ? bench_daemon_init (&a, dir, "origin", false) : -ENOMEM;
    if (rc < 0) {
        free (got);
        return rc;
    }
    rc = bench_ctl_admit (bctl, a.id, "origin");
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &a, bin_dir, port, broker->id, 15000);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, a.control, &actl);
    if (rc >= 0)
        rc = bench_ctl_wait_admitted (actl, 30000);
    /* the sites take A's admission, then nothing is in flight */
    if (rc >= 0)
        rc = s_sites_wait (socks, n, got, 1, bench_now_ns () + 60 * 1000000000LL);
    for (size_t i = 0; rc >= 0 && i < n; i++)
        got[i] = 0;
    int64_t t0 = bench_now_ns ();
    if (rc >= 0)
        rc = bench_ctl_write_many (actl, "fan-", 1, entries, 1000, 2);
    if (rc >= 0)
        rc = s_sites_wait (socks, n, got, entries,
                           t0 + (int64_t) (60 + entries * n / 20000) * 1000000000LL);
    if (rc >= 0) {
        double secs = (double) (bench_now_ns () - t0) / 1e9;
        *ret_per_s = (double) entries * (double) n / secs;
        fprintf (stderr, "el_bench_rss: fan-out of %llu entries to %zu sites in %.2f s\n",
                 (unsigned long long) entries, n, secs);
    } else {
        uint64_t least = UINT64_MAX;
        for (size_t i = 0; i < n; i++)
            least = got[i] < least ? got[i] : least;
        bench_error ("fan-out: %s (the slowest site holds %llu of %llu)", el_strerror (rc),
                     (unsigned long long) least, (unsigned long long) entries);
        bench_daemon_show_log (&a);
    }
    bench_ctl_destroy (&actl);
    bench_daemon_stop (&a);
    free (got);
    return rc;
}

static int
s_broker_part (void *ctx, const char *bin_dir, const char *dir, uint64_t sites,
               uint64_t fanout, double *ret_per_site, double *ret_fanout)
{
    int rc;
    int port = 0;
    bench_daemon_t broker;
    bench_ctl_t *bctl = NULL;
    El__ControlReply *heads = NULL;
    el_keypair_t **kps = calloc (sites, sizeof *kps);
    void **socks = calloc (sites, sizeof *socks);
    size_t opened = 0;
    memset (&broker, 0, sizeof broker);
    if (!kps || !socks) {
        rc = -ENOMEM;
        goto out;
    }
    rc = bench_free_tcp_port (&port);
    if (rc >= 0)
        rc = bench_daemon_init (&broker, dir, "broker", true);
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &broker, bin_dir, port, NULL, 15000);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, broker.control, &bctl);
    if (rc < 0)
        goto out_logs;
    int64_t t_admit = bench_now_ns ();
    for (uint64_t i = 0; i < sites; i++) {
        rc = el_keypair_generate (&kps[i]);
        if (rc < 0) {
            bench_error ("keypair: %s", el_strerror (rc));
            goto out;
        }
    }
    /* admissions pipelined: up to ADMIT_WINDOW requests in flight */
    uint64_t sent = 0, answered = 0;
    while (answered < sites) {
        while (sent < sites && sent - answered < ADMIT_WINDOW) {
            char name[32];
            snprintf (name, sizeof name, "site%llu", (unsigned long long) sent);
            El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
            El__AdmitRequest admit = EL__ADMIT_REQUEST__INIT;
            admit.site_key.data = kps[sent]->pk;
            admit.site_key.len = EL_KEY_BYTES;
            admit.name = name;
            req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
            req.admit = &admit;
            rc = bench_ctl_send (bctl, &req, NULL);
            if (rc < 0) {
                bench_error ("admit send: %s", el_strerror (rc));
                goto out_logs;
            }
            sent++;
        }
        El__ControlReply *reply = NULL;
        rc = bench_ctl_recv (bctl, BENCH_CTL_TIMEOUT_MS, &reply);
        if (rc < 0) {
            bench_error ("admit reply: %s", el_strerror (rc));
            goto out_logs;
        }
        rc = reply->code;
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (rc != 0) {
            bench_error ("admit refused: %s", el_strerror (rc));
            goto out_logs;
        }
        answered++;
    }
    fprintf (stderr, "el_bench_rss: %llu sites admitted in %.1f s\n", (unsigned long long) sites,
             (double) (bench_now_ns () - t_admit) / 1e9);
    rc = bench_ctl_heads (bctl, &heads);
    if (rc < 0)
        goto out_logs;
    s_idle (1000);
    uint64_t rss0 = bench_daemon_rss_kib (&broker);

    char server_z85[EL_Z85_BYTES];
    rc = el_key_curve_z85 (broker.id, server_z85);
    if (rc < 0) {
        bench_error ("broker key has no CURVE form");
        goto out;
    }
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    for (uint64_t i = 0; i < sites; i++) {
        char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
        int zero = 0;
        uint8_t *hello = NULL;
        size_t hello_len = 0;
        void *s = zmq_socket (ctx, ZMQ_DEALER);
        if (!s) {
            rc = -zmq_errno ();
            bench_error ("socket %llu: %s", (unsigned long long) i, zmq_strerror (-rc));
            goto out;
        }
        socks[opened++] = s;
        rc = el_keypair_curve_z85 (kps[i], pub, sec);
        if (rc < 0
            || zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero) != 0
            || zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, server_z85, 40) != 0
            || zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0
            || zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40) != 0
            || zmq_connect (s, endpoint) != 0) {
            rc = rc < 0 ? rc : -zmq_errno ();
            bench_error ("site %llu: %s", (unsigned long long) i, zmq_strerror (zmq_errno ()));
            goto out;
        }
        rc = s_hello (kps[i]->pk, broker.id, heads->heads, &hello, &hello_len);
        if (rc < 0)
            goto out;
        rc = zmq_send (s, hello, hello_len, 0) < 0 ? -zmq_errno () : 0;
        free (hello);
        if (rc < 0) {
            bench_error ("hello %llu: %s", (unsigned long long) i, zmq_strerror (-rc));
            goto out;
        }
    }
    int64_t deadline = bench_now_ns () + (int64_t) (30 + sites / 20) * 1000000000;
    uint64_t sessions = 0;
    for (;;) {
        s_drain (socks, opened);
        rc = s_sessions (bctl, &sessions);
        if (rc < 0)
            goto out_logs;
        if (sessions >= sites)
            break;
        if (bench_now_ns () > deadline) {
            bench_error ("broker has %llu of %llu site sessions", (unsigned long long) sessions,
                         (unsigned long long) sites);
            rc = -ETIMEDOUT;
            goto out_logs;
        }
        usleep (100000);
    }
    for (int i = 0; i < IDLE_MS / 100; i++) {
        s_drain (socks, opened);
        usleep (100000);
    }
    uint64_t rss1 = bench_daemon_rss_kib (&broker);
    rc = s_sessions (bctl, &sessions);
    if (rc < 0)
        goto out_logs;
    if (sessions < sites) {
        bench_error ("only %llu of %llu sites still connected after idling",
                     (unsigned long long) sessions, (unsigned long long) sites);
        rc = -ECONNRESET;
        goto out_logs;
    }
    fprintf (stderr, "el_bench_rss: broker VmRSS %llu KiB with %llu sites admitted, "
                     "%llu KiB with them connected\n", (unsigned long long) rss0,
             (unsigned long long) sites, (unsigned long long) rss1);
    *ret_per_site = ((double) rss1 - (double) rss0) / (double) sites;
    rc = fanout ? s_fanout (ctx, bin_dir, dir, port, &broker, bctl, socks, opened, fanout,
                            ret_fanout)
                : 0;
    goto out;
out_logs:
    bench_daemon_show_log (&broker);
out:
    for (size_t i = 0; i < opened; i++)
        zmq_close (socks[i]);
    if (heads)
        el__control_reply__free_unpacked (heads, &el_pb_allocator);
    bench_ctl_destroy (&bctl);
    bench_daemon_stop (&broker);
    if (kps)
        for (uint64_t i = 0; i < sites; i++)
            el_keypair_destroy (&kps[i]);
    free (kps);
    free (socks);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *bin_dir = NULL, *base = NULL;
    uint64_t records = 10000, sites = 1000, runs = 3, fanout = 0;
    for (;;) {
        int opt = getopt (argc, argv, "b:d:e:c:f:R:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'b': bin_dir = optarg; break;
        case 'd': base = optarg; break;
        case 'e':
            if (bench_parse_u64 (optarg, "-e", 1, 10000000, &records) < 0)
                return 2;
            break;
        case 'c':
            if (bench_parse_u64 (optarg, "-c", 1, SITES_MAX, &sites) < 0)
                return 2;
            break;
        case 'f':
            if (bench_parse_u64 (optarg, "-f", 0, 1000000, &fanout) < 0)
                return 2;
            break;
        case 'R':
            if (bench_parse_u64 (optarg, "-R", 1, 100, &runs) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: el_bench_rss -b BUILD_DIR [-d DIR] [-e RECORDS] "
                             "[-c SITES] [-f ENTRIES] [-R RUNS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    int rc = bench_el_main_init (bin_dir, base, NULL, NULL);
    if (rc != 0)
        return rc;
    /* one DEALER per site: fds and libzmq sockets beyond the defaults */
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < 3 * sites + 256) {
            bench_error ("RLIMIT_NOFILE hard limit %llu is too low for %llu sites",
                         (unsigned long long) rl.rlim_cur, (unsigned long long) sites);
            return 1;
        }
    }
    rc = 1;
    void *ctx = zmq_ctx_new ();
    if (!ctx || zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, (int) sites + 64) != 0) {
        bench_error ("zmq context: %s", zmq_strerror (zmq_errno ()));
        goto out;
    }
    for (uint64_t r = 0; r < runs; r++) {
        char dir[BENCH_PATH_MAX];
        int err = bench_mkdtemp (base, "el_rss.", dir);
        if (err < 0) {
            bench_error ("mkdtemp: %s", strerror (-err));
            goto out;
        }
        char node_dir[BENCH_PATH_MAX + 8], broker_dir[BENCH_PATH_MAX + 8];
        snprintf (node_dir, sizeof node_dir, "%s/n", dir);
        snprintf (broker_dir, sizeof broker_dir, "%s/b", dir);
        uint64_t node_rss = 0, node_anon = 0;
        double per_entry = 0, per_site = 0, fanout_per_s = 0;
        err = (mkdir (node_dir, 0700) < 0 || mkdir (broker_dir, 0700) < 0) ? -errno : 0;
        if (err == 0)
            err = s_node_part (ctx, bin_dir, node_dir, records, &node_rss, &node_anon,
                               &per_entry);
        if (err == 0)
            err = s_broker_part (ctx, bin_dir, broker_dir, sites, fanout, &per_site,
                                 &fanout_per_s);
        bench_rm_rf (dir);
        if (err < 0)
            goto out;
        printf ("node_rss_idle_kib=%llu\nnode_anon_kib=%llu\nstore_bytes_per_entry=%.1f\n"
                "broker_rss_per_site_kib=%.2f\n", (unsigned long long) node_rss,
                (unsigned long long) node_anon, per_entry, per_site);
        if (fanout)
            printf ("fanout_deliveries_per_s=%.0f\n", fanout_per_s);
        fflush (stdout);
    }
    rc = 0;
out:
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
