/* peer_mqtt_bridge — the peer baseline: two mosquitto brokers on loopback, A
 * bridged to B, QoS 1, S-byte messages, from a libmosquitto publisher on A to a
 * libmosquitto subscriber on B, until all N distinct messages arrived.
 *
 * The broker configs are generated in a fresh directory (removed afterwards):
 * persistence off, max_queued_messages 0 (no maximum: mosquitto's default of
 * 1,000 drops QoS 1 messages beyond it), max_inflight_messages I (default 20, mosquitto's own,
 * set with -i) on both brokers; the bridge carries `bench/#` out at QoS 1.
 * The publisher (this process) keeps at most W QoS 1 messages unacknowledged
 * (default 1,000, -w); the subscriber (a forked process) counts distinct
 * sequence numbers, so QoS 1 duplicates are not counted twice. Before timing,
 * probe messages flow until one crossed the bridge. The rate is N divided by
 * the time from the first publish to the N-th distinct arrival.
 * Prints `peer_mqtt_bridge_msgs_per_s=<n>`. Exits 77 when no mosquitto broker
 * is installed (deploy/install-deps.sh --bench installs it).
 *
 *   peer_mqtt_bridge [-n MESSAGES] [-s BYTES] [-w WINDOW] [-i INFLIGHT]
 *                    [-m MOSQUITTO_BINARY] [-d DIR] [-t TIMEOUT_S] */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define TOPIC_DATA "bench/data"
#define TOPIC_PROBE "bench/probe"
#define KEEPALIVE_S 60

typedef struct {
    uint64_t n;
    size_t size;
    uint64_t window;
    uint64_t inflight;
    int timeout_s;
    int port_a, port_b;
    char dir[BENCH_PATH_MAX];
} cfg_t;

/* ---- brokers ---------------------------------------------------------- */

static const char *
s_find_mosquitto (const char *given)
{
    static char found[BENCH_PATH_MAX];
    if (given)
        return access (given, X_OK) == 0 ? given : NULL;
    const char *env = getenv ("MOSQUITTO");
    if (env && access (env, X_OK) == 0)
        return env;
    const char *path = getenv ("PATH");
    char dirs[BENCH_PATH_MAX * 2];
    snprintf (dirs, sizeof dirs, "%s:/usr/sbin:/usr/local/sbin", path ? path : "");
    for (char *save = NULL, *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save)) {
        snprintf (found, sizeof found, "%s/mosquitto", d);
        if (access (found, X_OK) == 0)
            return found;
    }
    return NULL;
}

static int
s_write_conf (const cfg_t *cfg, const char *name, int port, int bridge_to)
{
    char path[BENCH_PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s.conf", cfg->dir, name);
    FILE *f = fopen (path, "w");
    if (!f) {
        bench_error ("%s: %s", path, strerror (errno));
        return -errno;
    }
    fprintf (f,
             "listener %d 127.0.0.1\n"
             "allow_anonymous true\n"
             "persistence false\n"
             "max_inflight_messages %llu\n"
             "max_queued_messages 0\n"
             "log_dest stderr\n"
             "log_type error\n"
             "log_type warning\n",
             port, (unsigned long long) cfg->inflight);
    if (bridge_to)
        fprintf (f,
                 "connection bench_a_to_b\n"
                 "address 127.0.0.1:%d\n"
                 "topic bench/# out 1\n"
                 "bridge_protocol_version mqttv311\n"
                 "cleansession false\n"
                 "notifications false\n"
                 "try_private true\n"
                 "restart_timeout 1\n",
                 bridge_to);
    int rc = fclose (f) == 0 ? 0 : -errno;
    if (rc < 0)
        bench_error ("%s: %s", path, strerror (-rc));
    return rc;
}

static pid_t
s_start_broker (const cfg_t *cfg, const char *mosquitto, const char *name)
{
    char conf[BENCH_PATH_MAX + 32], log[BENCH_PATH_MAX + 32];
    snprintf (conf, sizeof conf, "%s/%s.conf", cfg->dir, name);
    snprintf (log, sizeof log, "%s/%s.log", cfg->dir, name);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execl (mosquitto, "mosquitto", "-c", conf, (char *) NULL);
        _exit (127);
    }
    return pid;
}

static void
s_stop_broker (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    bench_wait_child (pid, 5000);
}

static void
s_show_log (const cfg_t *cfg, const char *name)
{
    char log[BENCH_PATH_MAX + 32], line[512];
    snprintf (log, sizeof log, "%s/%s.log", cfg->dir, name);
    FILE *f = fopen (log, "r");
    if (!f)
        return;
    while (fgets (line, sizeof line, f))
        fprintf (stderr, "  %s: %s", name, line);
    fclose (f);
}

/* ---- subscriber (child process) --------------------------------------- */

typedef struct {
    const cfg_t *cfg;
    int out_fd;
    uint8_t *seen;          /* bitmap of distinct sequence numbers */
    uint64_t distinct;
    bool subscribed, probed, done, failed;
    int64_t end_ns;
} sub_t;

static void
s_sub_on_connect (struct mosquitto *mosq, void *arg, int rc)
{
    sub_t *sub = arg;
    if (rc != 0 || mosquitto_subscribe (mosq, NULL, "bench/#", 1) != MOSQ_ERR_SUCCESS) {
        bench_error ("subscriber: connect/subscribe failed (%d)", rc);
        sub->failed = true;
    }
}

static void
s_sub_on_subscribe (struct mosquitto *mosq, void *arg, int mid, int n, const int *qos)
{
    (void) mosq;
    (void) mid;
    sub_t *sub = arg;
    if (n != 1 || qos[0] != 1) {
        bench_error ("subscriber: QoS 1 subscription refused");
        sub->failed = true;
        return;
    }
    if (!sub->subscribed) {
        sub->subscribed = true;
        if (bench_write_all (sub->out_fd, "R", 1) < 0)
            sub->failed = true;
    }
}

static void
s_sub_on_message (struct mosquitto *mosq, void *arg, const struct mosquitto_message *m)
{
    (void) mosq;
    sub_t *sub = arg;
    if (strcmp (m->topic, TOPIC_PROBE) == 0) {
        if (!sub->probed) {
            sub->probed = true;
            if (bench_write_all (sub->out_fd, "P", 1) < 0)
                sub->failed = true;
        }
        return;
    }
    if (m->payloadlen != (int) sub->cfg->size) {
        bench_error ("subscriber: message of %d bytes, expected %zu", m->payloadlen,
                     sub->cfg->size);
        sub->failed = true;
        return;
    }
    uint64_t seq;
    memcpy (&seq, m->payload, sizeof seq);
    if (seq >= sub->cfg->n) {
        bench_error ("subscriber: sequence number %llu out of range",
                     (unsigned long long) seq);
        sub->failed = true;
        return;
    }
    if (sub->seen[seq / 8] & (1u << (seq % 8)))
        return;                 /* a QoS 1 duplicate */
    sub->seen[seq / 8] |= (uint8_t) (1u << (seq % 8));
    if (++sub->distinct == sub->cfg->n) {
        sub->end_ns = bench_now_ns ();
        sub->done = true;
    }
}

static int
s_subscriber (const cfg_t *cfg, int out_fd)
{
    int rc = -1;
    sub_t sub = { .cfg = cfg, .out_fd = out_fd };
    sub.seen = calloc (cfg->n / 8 + 1, 1);
    if (!sub.seen)
        return -ENOMEM;
    mosquitto_lib_init ();
    struct mosquitto *mosq = mosquitto_new ("bench-sub", true, &sub);
    if (!mosq)
        goto out;
    mosquitto_connect_callback_set (mosq, s_sub_on_connect);
    mosquitto_subscribe_callback_set (mosq, s_sub_on_subscribe);
    mosquitto_message_callback_set (mosq, s_sub_on_message);
    if (mosquitto_connect (mosq, "127.0.0.1", cfg->port_b, KEEPALIVE_S) != MOSQ_ERR_SUCCESS) {
        bench_error ("subscriber: cannot connect to broker B");
        goto out_mosq;
    }
    int64_t deadline = bench_now_ns () + (int64_t) cfg->timeout_s * 1000000000;
    while (!sub.done && !sub.failed && bench_now_ns () < deadline) {
        int lrc = mosquitto_loop (mosq, 100, 1);
        if (lrc != MOSQ_ERR_SUCCESS) {
            bench_error ("subscriber: %s", mosquitto_strerror (lrc));
            goto out_mosq;
        }
    }
    if (!sub.done) {
        if (!sub.failed)
            bench_error ("subscriber: %llu of %llu messages after %d s",
                         (unsigned long long) sub.distinct, (unsigned long long) cfg->n,
                         cfg->timeout_s);
        goto out_mosq;
    }
    if (bench_write_all (out_fd, "E", 1) < 0
        || bench_write_all (out_fd, &sub.end_ns, sizeof sub.end_ns) < 0)
        goto out_mosq;
    rc = 0;
    mosquitto_disconnect (mosq);
out_mosq:
    mosquitto_destroy (mosq);
out:
    mosquitto_lib_cleanup ();
    free (sub.seen);
    return rc;
}

/* ---- publisher (this process) ----------------------------------------- */

typedef struct {
    uint64_t acked;
    bool connected, failed;
} pub_t;

static void
s_pub_on_connect (struct mosquitto *mosq, void *arg, int rc)
{
    (void) mosq;
    pub_t *pub = arg;
    if (rc != 0) {
        bench_error ("publisher: connection refused (%d)", rc);
        pub->failed = true;
    }
    pub->connected = true;
}

static void
s_pub_on_publish (struct mosquitto *mosq, void *arg, int mid)
{
    (void) mosq;
    (void) mid;
    ((pub_t *) arg)->acked++;
}

/* Read one byte from @p fd if one is ready within @p ms; 0 = none yet. */
static int
s_poll_byte (int fd, int ms, char *c)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll (&p, 1, ms);
    if (n <= 0)
        return 0;
    if (read (fd, c, 1) != 1)
        return -EPIPE;
    return 1;
}

static int
s_publisher (const cfg_t *cfg, int in_fd)
{
    int rc = -1;
    pub_t pub = { 0 };
    uint8_t *payload = malloc (cfg->size);
    if (!payload)
        return -ENOMEM;
    bench_fill (payload, cfg->size, 6);
    mosquitto_lib_init ();
    struct mosquitto *mosq = mosquitto_new ("bench-pub", true, &pub);
    if (!mosq)
        goto out;
    mosquitto_connect_callback_set (mosq, s_pub_on_connect);
    mosquitto_publish_callback_set (mosq, s_pub_on_publish);
    mosquitto_max_inflight_messages_set (mosq, (unsigned) cfg->window);
    if (mosquitto_connect (mosq, "127.0.0.1", cfg->port_a, KEEPALIVE_S) != MOSQ_ERR_SUCCESS) {
        bench_error ("publisher: cannot connect to broker A");
        goto out_mosq;
    }
    int64_t deadline = bench_now_ns () + (int64_t) cfg->timeout_s * 1000000000;
    char c = 0;
    /* wait for the subscriber's subscription */
    while (c != 'R') {
        if (bench_now_ns () > deadline || s_poll_byte (in_fd, 0, &c) < 0) {
            bench_error ("subscriber never subscribed");
            goto out_mosq;
        }
        if (mosquitto_loop (mosq, 20, 1) != MOSQ_ERR_SUCCESS || pub.failed)
            goto out_mosq;
    }
    /* probes until one crossed the bridge */
    int64_t next_probe = 0;
    while (c != 'P') {
        if (bench_now_ns () > deadline) {
            bench_error ("no probe crossed the bridge in %d s", cfg->timeout_s);
            goto out_mosq;
        }
        if (bench_now_ns () >= next_probe) {
            mosquitto_publish (mosq, NULL, TOPIC_PROBE, 1, "p", 1, false);
            next_probe = bench_now_ns () + 100000000;
        }
        if (mosquitto_loop (mosq, 20, 1) != MOSQ_ERR_SUCCESS || pub.failed)
            goto out_mosq;
        if (s_poll_byte (in_fd, 0, &c) < 0) {
            bench_error ("subscriber failed");
            goto out_mosq;
        }
    }
    uint64_t acked_before = pub.acked;
    int64_t start_ns = bench_now_ns ();
    uint64_t sent = 0;
    while (sent < cfg->n) {
        while (sent < cfg->n && sent - (pub.acked - acked_before) < cfg->window) {
            memcpy (payload, &sent, sizeof sent);
            int prc = mosquitto_publish (mosq, NULL, TOPIC_DATA, (int) cfg->size, payload, 1, false);
            if (prc != MOSQ_ERR_SUCCESS) {
                bench_error ("mosquitto_publish: %s", mosquitto_strerror (prc));
                goto out_mosq;
            }
            sent++;
        }
        int lrc = mosquitto_loop (mosq, 10, 1);
        if (lrc != MOSQ_ERR_SUCCESS || pub.failed || bench_now_ns () > deadline) {
            bench_error ("publisher: %s after %llu messages", mosquitto_strerror (lrc),
                         (unsigned long long) sent);
            goto out_mosq;
        }
    }
    /* keep the connection serviced until the subscriber has everything */
    int64_t end_ns = 0;
    for (;;) {
        int got = s_poll_byte (in_fd, 0, &c);
        if (got < 0) {
            bench_error ("subscriber failed");
            goto out_mosq;
        }
        if (got == 1 && c == 'E') {
            if (bench_read_all (in_fd, &end_ns, sizeof end_ns) < 0)
                goto out_mosq;
            break;
        }
        if (mosquitto_loop (mosq, 10, 1) != MOSQ_ERR_SUCCESS || bench_now_ns () > deadline) {
            bench_error ("publisher: gave up waiting for the subscriber");
            goto out_mosq;
        }
    }
    printf ("peer_mqtt_bridge_msgs_per_s=%.0f\n",
            (double) cfg->n * 1e9 / (double) (end_ns - start_ns));
    rc = 0;
    mosquitto_disconnect (mosq);
out_mosq:
    mosquitto_destroy (mosq);
out:
    mosquitto_lib_cleanup ();
    free (payload);
    return rc;
}

int
main (int argc, char **argv)
{
    cfg_t cfg = { .n = 50000, .size = BENCH_MSG_BYTES_DEFAULT, .window = 1000,
                  .inflight = 20, .timeout_s = 120 };
    const char *mosquitto_arg = NULL, *base = NULL;
    uint64_t v;
    for (;;) {
        int opt = getopt (argc, argv, "n:s:w:i:m:d:t:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, 100000000, &cfg.n) < 0)
                return 2;
            break;
        case 's':
            if (bench_parse_u64 (optarg, "-s", 8, 256 * 1024, &v) < 0)
                return 2;
            cfg.size = (size_t) v;
            break;
        case 'w':
            if (bench_parse_u64 (optarg, "-w", 1, 65535, &cfg.window) < 0)
                return 2;
            break;
        case 'i':
            if (bench_parse_u64 (optarg, "-i", 1, 65535, &cfg.inflight) < 0)
                return 2;
            break;
        case 'm':
            mosquitto_arg = optarg;
            break;
        case 'd':
            base = optarg;
            break;
        case 't':
            if (bench_parse_u64 (optarg, "-t", 1, 3600, &v) < 0)
                return 2;
            cfg.timeout_s = (int) v;
            break;
        default:
            fprintf (stderr, "usage: peer_mqtt_bridge [-n MESSAGES] [-s BYTES] [-w WINDOW] "
                             "[-i INFLIGHT] [-m MOSQUITTO] [-d DIR] [-t TIMEOUT_S]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    const char *mosquitto = s_find_mosquitto (mosquitto_arg);
    if (!mosquitto) {
        bench_error ("mosquitto broker not installed (deploy/install-deps.sh --bench)");
        return BENCH_EXIT_UNAVAILABLE;
    }
    int rc = 1, err;
    pid_t broker_a = -1, broker_b = -1, sub = -1;
    err = bench_mkdtemp (base, "peer_mqtt.", cfg.dir);
    if (err < 0) {
        bench_error ("mkdtemp: %s", strerror (-err));
        return 1;
    }
    /* mosquitto run as root drops to the user "mosquitto": let it read its files */
    chmod (cfg.dir, 0755);
    if (bench_free_tcp_port (&cfg.port_b) < 0 || bench_free_tcp_port (&cfg.port_a) < 0
        || cfg.port_a == cfg.port_b) {
        bench_error ("no free TCP port on 127.0.0.1");
        goto out_rm;
    }
    if (s_write_conf (&cfg, "b", cfg.port_b, 0) < 0
        || s_write_conf (&cfg, "a", cfg.port_a, cfg.port_b) < 0)
        goto out_rm;
    broker_b = s_start_broker (&cfg, mosquitto, "b");
    if (broker_b < 0 || bench_wait_tcp (cfg.port_b, 5000) < 0) {
        bench_error ("broker B did not start");
        s_show_log (&cfg, "b");
        goto out_brokers;
    }
    broker_a = s_start_broker (&cfg, mosquitto, "a");
    if (broker_a < 0 || bench_wait_tcp (cfg.port_a, 5000) < 0) {
        bench_error ("broker A did not start");
        s_show_log (&cfg, "a");
        goto out_brokers;
    }
    int fds[2];
    if (pipe (fds) < 0) {
        bench_error ("pipe: %s", strerror (errno));
        goto out_brokers;
    }
    fflush (stdout);
    sub = fork ();
    if (sub == 0) {
        close (fds[0]);
        _exit (s_subscriber (&cfg, fds[1]) < 0 ? 1 : 0);
    }
    close (fds[1]);
    if (sub > 0 && s_publisher (&cfg, fds[0]) == 0)
        rc = 0;
    close (fds[0]);
    if (sub > 0 && bench_wait_child (sub, 10000) != 0)
        rc = 1;
    if (rc != 0) {
        s_show_log (&cfg, "a");
        s_show_log (&cfg, "b");
    }
out_brokers:
    s_stop_broker (broker_a);
    s_stop_broker (broker_b);
out_rm:
    bench_rm_rf (cfg.dir);
    return rc;
}
