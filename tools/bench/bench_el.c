/* bench_el.c — see bench_el.h. */
#include "bench_el.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "el_control_call.h"
#include "el_error.h"

int
bench_el_binary (const char *bin_dir, const char *name, char *ret, size_t size)
{
    int n = snprintf (ret, size, "%s/%s", bin_dir, name);
    if (n < 0 || (size_t) n >= size)
        return -ENAMETOOLONG;
    if (access (ret, X_OK) != 0) {
        bench_error ("%s not found (build entrelab first)", ret);
        return -ENOENT;
    }
    return 0;
}

/* ---- daemons ---------------------------------------------------------- */

int
bench_daemon_init (bench_daemon_t *d, const char *parent, const char *name, bool broker)
{
    memset (d, 0, sizeof *d);
    d->broker = broker;
    snprintf (d->name, sizeof d->name, "%s", name);
    int n = snprintf (d->state_dir, sizeof d->state_dir, "%s/%s", parent, name);
    if (n < 0 || (size_t) n >= sizeof d->state_dir)
        return -ENAMETOOLONG;
    snprintf (d->control, sizeof d->control, "ipc://%s/control.sock", d->state_dir);
    if (mkdir (d->state_dir, 0700) < 0 && errno != EEXIST) {
        int rc = -errno;
        bench_error ("mkdir %s: %s", d->state_dir, strerror (errno));
        return rc;
    }
    if (broker)
        return 0;
    el_keypair_t *kp = NULL;
    char path[BENCH_PATH_MAX + 8];
    snprintf (path, sizeof path, "%s/key", d->state_dir);
    int rc = el_keypair_generate (&kp);
    if (rc == 0)
        rc = el_keypair_save (kp, path, false);
    if (rc < 0) {
        bench_error ("key for %s: %s", name, el_strerror (rc));
        el_keypair_destroy (&kp);
        return rc;
    }
    memcpy (d->id, kp->pk, EL_KEY_BYTES);
    el_key_to_text (d->id, d->id_text);
    el_keypair_destroy (&kp);
    return 0;
}

void
bench_daemon_show_log (const bench_daemon_t *d)
{
    char path[BENCH_PATH_MAX + 16], line[1024];
    snprintf (path, sizeof path, "%s/daemon.log", d->state_dir);
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    int shown = 0;
    while (fgets (line, sizeof line, f) && shown++ < 200)
        fprintf (stderr, "  %s: %s", d->name, line);
    fclose (f);
}

static int
s_status (void *ctx, const char *endpoint, El__ControlReply **ret)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest st = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &st;
    return el_control_call (ctx, endpoint, &req, 1000, ret);
}

int
bench_daemon_start (void *ctx, bench_daemon_t *d, const char *bin_dir, int port,
                    const uint8_t *broker_key, int timeout_ms)
{
    char exe[BENCH_PATH_MAX + 32], endpoint[64], key_text[EL_KEY_TEXT_BYTES];
    char log[BENCH_PATH_MAX + 16];
    int rc = bench_el_binary (bin_dir, d->broker ? "entrelab-broker" : "entrelab-node", exe,
                              sizeof exe);
    if (rc < 0)
        return rc;
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (log, sizeof log, "%s/daemon.log", d->state_dir);
    if (broker_key)
        el_key_to_text (broker_key, key_text);
    const char *argv[16];
    int a = 0;
    argv[a++] = exe;
    argv[a++] = "--state-dir";
    argv[a++] = d->state_dir;
    if (d->broker) {
        argv[a++] = "--listen";
        argv[a++] = endpoint;
    } else {
        argv[a++] = "--connect";
        argv[a++] = endpoint;
        argv[a++] = "--broker-key";
        argv[a++] = key_text;
    }
    argv[a++] = "--log-level";
    argv[a++] = "warn";
    if (d->config[0]) {
        argv[a++] = "--config";
        argv[a++] = d->config;
    }
    argv[a] = NULL;

    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0) {
        rc = -errno;
        bench_error ("fork: %s", strerror (errno));
        return rc;
    }
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        struct rlimit rl;
        if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit (RLIMIT_NOFILE, &rl);
        }
        execv (exe, (char *const *) argv);
        _exit (127);
    }
    d->pid = pid;
    int64_t deadline = bench_now_ns () + (int64_t) timeout_ms * 1000000;
    for (;;) {
        El__ControlReply *reply = NULL;
        rc = s_status (ctx, d->control, &reply);
        if (rc == 0 && reply->code == 0 && reply->r_case == EL__CONTROL_REPLY__R_STATUS
            && reply->status->self_id.len == EL_KEY_BYTES) {
            memcpy (d->id, reply->status->self_id.data, EL_KEY_BYTES);
            el_key_to_text (d->id, d->id_text);
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            return 0;
        }
        if (reply)
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
        int status = 0;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            d->pid = 0;
            bench_error ("%s exited at start (status %d)", d->name, status);
            bench_daemon_show_log (d);
            return -ECHILD;
        }
        if (bench_now_ns () > deadline) {
            bench_error ("%s: control socket did not answer in %d ms", d->name, timeout_ms);
            bench_daemon_stop (d);
            bench_daemon_show_log (d);
            return -ETIMEDOUT;
        }
        usleep (10 * 1000);
    }
}

int
bench_daemon_stop (bench_daemon_t *d)
{
    if (d->pid <= 0)
        return 0;
    kill (d->pid, SIGTERM);
    int status = bench_wait_child (d->pid, 10000);
    d->pid = 0;
    return status;
}

/* A "Name:  N kB" line of /proc/<pid>/status, KiB; 0 when unknown. */
static uint64_t
s_status_kib (const bench_daemon_t *d, const char *name)
{
    char path[64], line[256];
    uint64_t kib = 0;
    size_t len = strlen (name);
    snprintf (path, sizeof path, "/proc/%d/status", (int) d->pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    while (fgets (line, sizeof line, f)) {
        unsigned long long v;
        if (!strncmp (line, name, len) && line[len] == ':'
            && sscanf (line + len + 1, " %llu kB", &v) == 1) {
            kib = v;
            break;
        }
    }
    fclose (f);
    return kib;
}

uint64_t
bench_daemon_rss_kib (const bench_daemon_t *d)
{
    return s_status_kib (d, "VmRSS");
}

uint64_t
bench_daemon_anon_kib (const bench_daemon_t *d)
{
    return s_status_kib (d, "RssAnon");
}

int64_t
bench_daemon_cpu_ns (const bench_daemon_t *d)
{
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) d->pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = 0;
    /* fields after the ")" of comm: state(3) ... utime(14) stime(15) */
    char *p = strrchr (buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    long hz = sysconf (_SC_CLK_TCK);
    return (int64_t) ((ut + st) * (1000000000ull / (unsigned long long) (hz > 0 ? hz : 100)));
}

int
bench_daemon_io (const bench_daemon_t *d, uint64_t *ret_wchar, uint64_t *ret_write_bytes)
{
    char path[64], line[128];
    snprintf (path, sizeof path, "/proc/%d/io", (int) d->pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -errno;
    unsigned long long v, wchar = 0, wbytes = 0;
    while (fgets (line, sizeof line, f)) {
        if (sscanf (line, "wchar: %llu", &v) == 1)
            wchar = v;
        else if (sscanf (line, "write_bytes: %llu", &v) == 1)
            wbytes = v;
    }
    fclose (f);
    *ret_wchar = wchar;
    *ret_write_bytes = wbytes;
    return 0;
}

void
bench_daemon_print_counters (bench_ctl_t *ctl, const char *who)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest st = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &st;
    El__ControlReply *reply = NULL;
    if (bench_ctl_call (ctl, &req, BENCH_CTL_TIMEOUT_MS, &reply) < 0)
        return;
    if (reply->r_case == EL__CONTROL_REPLY__R_STATUS && reply->status->store && reply->status->sync) {
        const El__StoreStatus *s = reply->status->store;
        const El__SyncStatus *y = reply->status->sync;
        fprintf (stderr, "  %s: store commits %llu, applied %llu, duplicates %llu, rejected %llu; "
                         "sync frames in %llu out %llu, entries in %llu out %llu\n",
                 who, (unsigned long long) s->commits, (unsigned long long) s->applied,
                 (unsigned long long) s->duplicates, (unsigned long long) s->rejected,
                 (unsigned long long) y->frames_in, (unsigned long long) y->frames_out,
                 (unsigned long long) y->entries_in, (unsigned long long) y->entries_out);
    }
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
}

/* Find the directory holding data.mdb: the state dir or one level below. */
static int
s_find_env (const char *dir, char *ret, size_t size)
{
    char path[BENCH_PATH_MAX + 300];
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    if (access (path, R_OK) == 0) {
        snprintf (ret, size, "%s", dir);
        return 0;
    }
    DIR *dh = opendir (dir);
    if (!dh)
        return -errno;
    int rc = -ENOENT;
    for (;;) {
        struct dirent *e = readdir (dh);
        if (!e)
            break;
        if (e->d_name[0] == '.')
            continue;
        snprintf (path, sizeof path, "%s/%s/data.mdb", dir, e->d_name);
        if (access (path, R_OK) == 0) {
            snprintf (ret, size, "%s/%s", dir, e->d_name);
            rc = 0;
            break;
        }
    }
    closedir (dh);
    return rc;
}

int
bench_daemon_store_bytes (const bench_daemon_t *d, uint64_t *ret)
{
    char env_dir[BENCH_PATH_MAX + 300];
    int rc = s_find_env (d->state_dir, env_dir, sizeof env_dir);
    if (rc < 0) {
        bench_error ("%s: no LMDB data.mdb under %s", d->name, d->state_dir);
        return rc;
    }
    MDB_env *env = NULL;
    MDB_envinfo info;
    MDB_stat st;
    rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 32);
    if (rc == 0)
        rc = mdb_env_open (env, env_dir, MDB_RDONLY, 0600);
    if (rc == 0)
        rc = mdb_env_info (env, &info);
    if (rc == 0)
        rc = mdb_env_stat (env, &st);
    if (rc != 0) {
        bench_error ("lmdb %s: %s", env_dir, mdb_strerror (rc));
        if (env)
            mdb_env_close (env);
        return rc > 0 ? -rc : rc;
    }
    *ret = (uint64_t) (info.me_last_pgno + 1) * st.ms_psize;
    mdb_env_close (env);
    return 0;
}

void
bench_daemon_print_memory (const bench_daemon_t *d)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) d->pid);
    FILE *f = fopen (path, "r");
    if (f) {
        fprintf (stderr, "  %s memory:", d->name);
        while (fgets (line, sizeof line, f)) {
            unsigned long long v;
            char name[32];
            if (sscanf (line, "%31[^:]: %llu kB", name, &v) == 2
                && (!strcmp (name, "VmRSS") || !strcmp (name, "RssAnon")
                    || !strcmp (name, "RssFile") || !strcmp (name, "RssShmem")
                    || !strcmp (name, "VmHWM")))
                fprintf (stderr, " %s %llu KiB", name, v);
        }
        fclose (f);
        /* resident pages of the LMDB map (data.mdb) vs everything else */
        snprintf (path, sizeof path, "/proc/%d/smaps", (int) d->pid);
        f = fopen (path, "r");
        unsigned long long map_kib = 0, v;
        bool in_map = false;
        char big[BENCH_PATH_MAX + 256];
        while (f && fgets (big, sizeof big, f)) {
            size_t len = strlen (big);
            if (len > 0 && big[len - 1] == '\n')
                big[--len] = 0;
            const char *sp = strchr (big, ' '), *dash = strchr (big, '-');
            if (isxdigit ((unsigned char) big[0]) && dash && sp && dash < sp)
                in_map = len >= 9 && !strcmp (big + len - 9, "/data.mdb");   /* a mapping */
            else if (in_map && sscanf (big, "Rss: %llu kB", &v) == 1)
                map_kib += v;
        }
        if (f)
            fclose (f);
        fprintf (stderr, " (of which the store map data.mdb %llu KiB)\n", map_kib);
    }
    char env_dir[BENCH_PATH_MAX + 300];
    if (s_find_env (d->state_dir, env_dir, sizeof env_dir) < 0)
        return;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi main_dbi;
    MDB_stat st;
    if (mdb_env_create (&env) != 0 || mdb_env_set_maxdbs (env, 64) != 0
        || mdb_env_open (env, env_dir, MDB_RDONLY, 0600) != 0
        || mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) != 0
        || mdb_dbi_open (txn, NULL, 0, &main_dbi) != 0
        || mdb_cursor_open (txn, main_dbi, &cur) != 0)
        goto out;
    MDB_val k, v;
    int rc = mdb_cursor_get (cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        char name[64];
        size_t len = k.mv_size < sizeof name - 1 ? k.mv_size : sizeof name - 1;
        memcpy (name, k.mv_data, len);
        name[len] = 0;
        MDB_dbi dbi;
        if (mdb_dbi_open (txn, name, 0, &dbi) == 0 && mdb_stat (txn, dbi, &st) == 0) {
            size_t pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
            /* mean key and value sizes of the db's records */
            size_t kbytes = 0, vbytes = 0, count = 0;
            MDB_cursor *c2 = NULL;
            MDB_val k2, v2;
            if (mdb_cursor_open (txn, dbi, &c2) == 0) {
                for (int r2 = mdb_cursor_get (c2, &k2, &v2, MDB_FIRST); r2 == 0;
                     r2 = mdb_cursor_get (c2, &k2, &v2, MDB_NEXT)) {
                    kbytes += k2.mv_size;
                    vbytes += v2.mv_size;
                    count++;
                }
                mdb_cursor_close (c2);
            }
            fprintf (stderr, "  %s store db %-10s %8zu records %6zu pages %10zu bytes; "
                             "mean key %.0f + value %.0f bytes\n", d->name, name, st.ms_entries,
                     pages, pages * st.ms_psize, count ? (double) kbytes / (double) count : 0.0,
                     count ? (double) vbytes / (double) count : 0.0);
        }
        rc = mdb_cursor_get (cur, &k, &v, MDB_NEXT);
    }
    MDB_envinfo info;
    if (mdb_stat (txn, main_dbi, &st) == 0 && mdb_env_info (env, &info) == 0) {
        /* freelist (db 0) pages: used by LMDB itself for reusable pages */
        MDB_stat fst;
        if (mdb_stat (txn, 0, &fst) == 0)
            fprintf (stderr, "  %s store free-list db %zu pages; last page %zu (x %u bytes)\n",
                     d->name, fst.ms_branch_pages + fst.ms_leaf_pages + fst.ms_overflow_pages,
                     (size_t) info.me_last_pgno, st.ms_psize);
    }
out:
    if (cur)
        mdb_cursor_close (cur);
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
}

pid_t
bench_perf_start (const char *name, const bench_daemon_t *const *daemons, size_t n)
{
    const char *dir = getenv ("BENCH_PERF_DIR");
    if (!dir || !*dir || n == 0)
        return 0;
    char out[BENCH_PATH_MAX + 64], pids[256] = "";
    snprintf (out, sizeof out, "%s/%s.perf.data", dir, name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen (pids);
        snprintf (pids + len, sizeof pids - len, "%s%d", i ? "," : "", (int) daemons[i]->pid);
    }
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open ("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execlp ("perf", "perf", "record", "-F", "2000", "-g", "-p", pids, "-o", out,
                (char *) NULL);
        _exit (127);
    }
    if (pid < 0)
        return 0;
    usleep (200 * 1000);        /* let perf attach before the measured phase */
    fprintf (stderr, "  profiling %s (pids %s) into %s\n", name, pids, out);
    return pid;
}

void
bench_perf_stop (pid_t perf)
{
    if (perf <= 0)
        return;
    kill (perf, SIGINT);
    bench_wait_child (perf, 30000);
}

/* ---- control client ----------------------------------------------------- */

struct bench_ctl {
    void *sock;
    uint64_t next_id;
};

int
bench_ctl_new (void *ctx, const char *endpoint, bench_ctl_t **ret)
{
    bench_ctl_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    int rc;
    self->sock = zmq_socket (ctx, ZMQ_DEALER);
    if (!self->sock) {
        rc = -zmq_errno ();
        goto out_free;
    }
    int zero = 0;
    int64_t max = 64 << 20;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    char resolved[EL_CONTROL_ENDPOINT_MAX];
    rc = el_control_endpoint_resolve (endpoint, resolved, sizeof resolved);
    if (rc < 0) {
        bench_error ("connect %s: %s", endpoint, strerror (-rc));
        goto out_close;
    }
    if (zmq_connect (self->sock, resolved) != 0) {
        rc = -zmq_errno ();
        bench_error ("connect %s: %s", endpoint, zmq_strerror (-rc));
        goto out_close;
    }
    self->next_id = 1;
    *ret = self;
    return 0;
out_close:
    zmq_close (self->sock);
out_free:
    free (self);
    return rc;
}

void
bench_ctl_destroy (bench_ctl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zmq_close ((*self_p)->sock);
    free (*self_p);
    *self_p = NULL;
}

int
bench_ctl_send (bench_ctl_t *self, El__ControlRequest *req, uint64_t *ret_id)
{
    req->id = self->next_id++;
    size_t len = el__control_request__get_packed_size (req);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__control_request__pack (req, buf);
    int n = zmq_send (self->sock, buf, len, 0);
    free (buf);
    if (n < 0)
        return -zmq_errno ();
    if (ret_id)
        *ret_id = req->id;
    return 0;
}

int
bench_ctl_recv (bench_ctl_t *self, int timeout_ms, El__ControlReply **ret)
{
    zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
    int n = zmq_poll (&item, 1, timeout_ms);
    if (n < 0)
        return -zmq_errno ();
    if (n == 0)
        return -ETIMEDOUT;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->sock, 0) < 0) {
        int rc = -zmq_errno ();
        zmq_msg_close (&msg);
        return rc;
    }
    /* a delimiter frame, if the daemon mirrors one: skip it */
    if (zmq_msg_size (&msg) == 0 && zmq_msg_more (&msg) && zmq_msg_recv (&msg, self->sock, 0) < 0) {
        int rc = -zmq_errno ();
        zmq_msg_close (&msg);
        return rc;
    }
    El__ControlReply *reply =
        el__control_reply__unpack (&el_pb_allocator, zmq_msg_size (&msg), zmq_msg_data (&msg));
    zmq_msg_close (&msg);
    if (!reply)
        return EL_EPROTO;
    *ret = reply;
    return 0;
}

int
bench_ctl_call (bench_ctl_t *self, El__ControlRequest *req, int timeout_ms,
                El__ControlReply **ret)
{
    uint64_t id = 0;
    int rc = bench_ctl_send (self, req, &id);
    if (rc < 0) {
        bench_error ("control send: %s", el_strerror (rc));
        return rc;
    }
    for (;;) {
        El__ControlReply *reply = NULL;
        rc = bench_ctl_recv (self, timeout_ms, &reply);
        if (rc < 0) {
            bench_error ("control reply: %s", el_strerror (rc));
            return rc;
        }
        if (reply->id != id) {          /* a late reply of an earlier request */
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            continue;
        }
        if (reply->code != 0) {
            rc = reply->code;
            bench_error ("control request failed: %s (%s)", el_strerror (rc),
                         reply->text ? reply->text : "");
            el__control_reply__free_unpacked (reply, &el_pb_allocator);
            return rc;
        }
        *ret = reply;
        return 0;
    }
}

int
bench_ctl_admit (bench_ctl_t *broker, const uint8_t site[EL_KEY_BYTES], const char *name)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AdmitRequest admit = EL__ADMIT_REQUEST__INIT;
    admit.site_key.data = (uint8_t *) site;
    admit.site_key.len = EL_KEY_BYTES;
    admit.name = (char *) name;
    req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
    req.admit = &admit;
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_call (broker, &req, BENCH_CTL_TIMEOUT_MS, &reply);
    if (rc == 0)
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
    return rc;
}

int
bench_ctl_federate (bench_ctl_t *broker, const uint8_t other[EL_KEY_BYTES], int other_port)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", other_port);
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__FederateRequest fr = EL__FEDERATE_REQUEST__INIT;
    fr.broker_key.data = (uint8_t *) other;
    fr.broker_key.len = EL_KEY_BYTES;
    fr.endpoint = endpoint;
    req.r_case = EL__CONTROL_REQUEST__R_FEDERATE;
    req.federate = &fr;
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_call (broker, &req, BENCH_CTL_TIMEOUT_MS, &reply);
    if (rc == 0) {
        rc = reply->code;
        if (rc < 0)
            bench_error ("federate: %s", reply->text ? reply->text : el_strerror (rc));
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
    }
    return rc;
}

int
bench_ctl_wait_admitted (bench_ctl_t *self, int timeout_ms)
{
    int64_t deadline = bench_now_ns () + (int64_t) timeout_ms * 1000000;
    for (;;) {
        El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
        El__StatusRequest st = EL__STATUS_REQUEST__INIT;
        req.r_case = EL__CONTROL_REQUEST__R_STATUS;
        req.status = &st;
        El__ControlReply *reply = NULL;
        int rc = bench_ctl_call (self, &req, BENCH_CTL_TIMEOUT_MS, &reply);
        if (rc < 0)
            return rc;
        bool admitted = reply->r_case == EL__CONTROL_REPLY__R_STATUS && reply->status->admitted;
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (admitted)
            return 0;
        if (bench_now_ns () > deadline) {
            bench_error ("not admitted after %d ms (no Site entry from the broker)", timeout_ms);
            return -ETIMEDOUT;
        }
        usleep (5000);
    }
}

int
bench_ctl_heads (bench_ctl_t *self, El__ControlReply **ret)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__HeadsRequest heads = EL__HEADS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_HEADS;
    req.heads = &heads;
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_call (self, &req, BENCH_CTL_TIMEOUT_MS, &reply);
    if (rc < 0)
        return rc;
    if (reply->r_case != EL__CONTROL_REPLY__R_HEADS || !reply->heads) {
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        bench_error ("heads: reply without heads");
        return EL_EPROTO;
    }
    *ret = reply;
    return 0;
}

int
bench_ctl_head_seq (bench_ctl_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret)
{
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_heads (self, &reply);
    if (rc < 0)
        return rc;
    uint64_t seq = 0;
    for (size_t i = 0; i < reply->heads->n_heads; i++) {
        const El__HeadView *h = reply->heads->heads[i];
        if (h->origin.len == EL_KEY_BYTES && !memcmp (h->origin.data, origin, EL_KEY_BYTES))
            seq = h->seq;
    }
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    *ret = seq;
    return 0;
}

int
bench_ctl_has_heads (bench_ctl_t *self, const El__HeadsReply *want)
{
    El__ControlReply *reply = NULL;
    int rc = bench_ctl_heads (self, &reply);
    if (rc < 0)
        return rc;
    int all = 1;
    for (size_t i = 0; i < want->n_heads && all; i++) {
        const El__HeadView *w = want->heads[i];
        bool found = false;
        for (size_t j = 0; j < reply->heads->n_heads; j++) {
            const El__HeadView *h = reply->heads->heads[j];
            if (h->origin.len == w->origin.len
                && !memcmp (h->origin.data, w->origin.data, w->origin.len)) {
                found = h->seq == w->seq && h->hash.len == w->hash.len
                        && !memcmp (h->hash.data, w->hash.data, w->hash.len);
                break;
            }
        }
        if (!found)
            all = 0;
    }
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    return all;
}

/* ---- writes ------------------------------------------------------------- */

/* A serialized el.Event of exactly BENCH_MSG_BYTES_DEFAULT bytes. */
static int
s_event_payload (uint64_t index, uint8_t **ret, size_t *ret_len)
{
    char uid[64], desc[BENCH_MSG_BYTES_DEFAULT];
    El__Event ev = EL__EVENT__INIT;
    snprintf (uid, sizeof uid, "bench-%llu@entrelab", (unsigned long long) index);
    ev.uid = uid;
    ev.summary = "Benchmark event";
    ev.dtstart_us = 1800000000000000LL + (int64_t) index * 3600000000LL;
    ev.dtend_us = ev.dtstart_us + 3600000000LL;
    ev.status = EL__EVENT_STATUS__CONFIRMED;
    ev.description = "";
    /* field 3 adds 1 (tag) + 2 (length varint, for 128..16383) + d bytes */
    size_t base = el__event__get_packed_size (&ev);
    if (base + 3 + 128 > BENCH_MSG_BYTES_DEFAULT)
        return -EOVERFLOW;
    size_t d = BENCH_MSG_BYTES_DEFAULT - base - 3;
    for (size_t i = 0; i < d; i++)
        desc[i] = (char) ('a' + (index + i) % 26);
    desc[d] = 0;
    ev.description = desc;
    size_t len = el__event__get_packed_size (&ev);
    if (len != BENCH_MSG_BYTES_DEFAULT)
        return -EOVERFLOW;
    uint8_t *buf = malloc (len);
    if (!buf)
        return -ENOMEM;
    el__event__pack (&ev, buf);
    *ret = buf;
    *ret_len = len;
    return 0;
}

El__ControlRequest *
bench_write_request (const char *prefix, uint64_t first, size_t n)
{
    if (n == 0 || n > BENCH_WRITE_BATCH_MAX)
        return NULL;
    El__ControlRequest *req = calloc (1, sizeof *req);
    El__WriteRequest *w = calloc (1, sizeof *w);
    El__RecordWrite **recs = calloc (n, sizeof *recs);
    if (!req || !w || !recs)
        goto fail;
    el__control_request__init (req);
    el__write_request__init (w);
    req->r_case = EL__CONTROL_REQUEST__R_WRITE;
    req->write = w;
    w->records = recs;
    for (size_t i = 0; i < n; i++) {
        El__RecordWrite *r = calloc (1, sizeof *r);
        size_t key_size = strlen (prefix) + 24;     /* digits of a uint64 and NUL fit */
        char *key = malloc (key_size);
        if (!r || !key) {
            free (r);
            free (key);
            goto fail;
        }
        el__record_write__init (r);
        snprintf (key, key_size, "%s%llu", prefix, (unsigned long long) (first + i));
        r->kind = EL__KIND__EVENT;
        r->key = key;
        recs[i] = r;
        w->n_records = i + 1;
        if (s_event_payload (first + i, &r->payload.data, &r->payload.len) < 0)
            goto fail;
    }
    return req;
fail:
    if (req && w) {
        req->write = w;
        w->records = recs;
        bench_write_request_free (req);
    } else {
        free (req);
        free (w);
        free (recs);
    }
    return NULL;
}

void
bench_write_request_free (El__ControlRequest *req)
{
    if (!req)
        return;
    El__WriteRequest *w = req->write;
    if (w) {
        for (size_t i = 0; i < w->n_records; i++) {
            if (!w->records[i])
                continue;
            free (w->records[i]->key);
            free (w->records[i]->payload.data);
            free (w->records[i]);
        }
        free (w->records);
        free (w);
    }
    free (req);
}

int
bench_ctl_write_reqs (bench_ctl_t *self, El__ControlRequest *const *reqs, size_t n_reqs,
                      int window)
{
    int rc = 0;
    size_t sent = 0;
    int in_flight = 0;
    if (window < 1)
        window = 1;
    while (sent < n_reqs || in_flight > 0) {
        while (sent < n_reqs && in_flight < window) {
            rc = bench_ctl_send (self, reqs[sent], NULL);
            if (rc < 0) {
                bench_error ("write send: %s", el_strerror (rc));
                return rc;
            }
            sent++;
            in_flight++;
        }
        El__ControlReply *reply = NULL;
        rc = bench_ctl_recv (self, BENCH_CTL_TIMEOUT_MS, &reply);
        if (rc < 0) {
            bench_error ("write reply: %s", el_strerror (rc));
            return rc;
        }
        in_flight--;
        rc = reply->code;
        if (rc != 0)
            bench_error ("write refused: %s (%s)", el_strerror (rc), reply->text ? reply->text : "");
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
bench_write_reqs_build (const char *prefix, uint64_t first, uint64_t n, size_t batch,
                        El__ControlRequest ***ret, size_t *ret_n)
{
    if (batch == 0 || batch > BENCH_WRITE_BATCH_MAX)
        batch = BENCH_WRITE_BATCH_MAX;
    size_t n_reqs = (size_t) ((n + batch - 1) / batch);
    El__ControlRequest **reqs = calloc (n_reqs ? n_reqs : 1, sizeof *reqs);
    if (!reqs)
        goto fail;
    for (size_t i = 0; i < n_reqs; i++) {
        uint64_t at = (uint64_t) i * batch;
        size_t k = (size_t) ((n - at) < batch ? (n - at) : batch);
        reqs[i] = bench_write_request (prefix, first + at, k);
        if (!reqs[i]) {
            bench_write_reqs_free (&reqs, n_reqs);
            goto fail;
        }
    }
    *ret = reqs;
    *ret_n = n_reqs;
    return 0;
fail:
    bench_error ("out of memory building write requests");
    return -ENOMEM;
}

void
bench_write_reqs_free (El__ControlRequest ***reqs_p, size_t n)
{
    if (!reqs_p || !*reqs_p)
        return;
    for (size_t i = 0; i < n; i++)
        bench_write_request_free ((*reqs_p)[i]);
    free (*reqs_p);
    *reqs_p = NULL;
}

int
bench_ctl_write_many (bench_ctl_t *self, const char *prefix, uint64_t first, uint64_t n,
                      size_t batch, int window)
{
    El__ControlRequest **reqs = NULL;
    size_t n_reqs = 0;
    int rc = bench_write_reqs_build (prefix, first, n, batch, &reqs, &n_reqs);
    if (rc < 0)
        return rc;
    rc = bench_ctl_write_reqs (self, reqs, n_reqs, window);
    bench_write_reqs_free (&reqs, n_reqs);
    return rc;
}

/* ---- trio ------------------------------------------------------------------ */

int
bench_ctl_wait_seq (bench_ctl_t *ctl, const uint8_t origin[EL_KEY_BYTES], uint64_t seq,
                    int poll_us, int timeout_s)
{
    int64_t deadline = bench_now_ns () + (int64_t) timeout_s * 1000000000;
    for (;;) {
        uint64_t have = 0;
        int rc = bench_ctl_head_seq (ctl, origin, &have);
        if (rc < 0)
            return rc;
        if (have >= seq)
            return 0;
        if (bench_now_ns () > deadline) {
            bench_error ("head seq %llu after %d s, waiting for %llu", (unsigned long long) have,
                         timeout_s, (unsigned long long) seq);
            return -ETIMEDOUT;
        }
        if (poll_us > 0)
            usleep ((useconds_t) poll_us);
    }
}

#define TRIO_START_MS 15000

int
bench_trio_start (void *ctx, bench_trio_t *t, const char *bin_dir, const char *dir)
{
    memset (t, 0, sizeof *t);
    int rc = bench_free_tcp_port (&t->port);
    if (rc < 0) {
        bench_error ("no free TCP port");
        return rc;
    }
    rc = bench_daemon_init (&t->broker, dir, "broker", true);
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &t->broker, bin_dir, t->port, NULL, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, t->broker.control, &t->bctl);
    if (rc >= 0)
        rc = bench_daemon_init (&t->a, dir, "a", false);
    if (rc >= 0)
        rc = bench_daemon_init (&t->c, dir, "c", false);
    if (rc >= 0)
        rc = bench_ctl_admit (t->bctl, t->a.id, "a");
    if (rc >= 0)
        rc = bench_ctl_admit (t->bctl, t->c.id, "c");
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &t->a, bin_dir, t->port, t->broker.id, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &t->c, bin_dir, t->port, t->broker.id, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, t->a.control, &t->actl);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, t->c.control, &t->cctl);
    if (rc >= 0)
        rc = bench_ctl_wait_admitted (t->actl, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_wait_admitted (t->cctl, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_write_many (t->actl, "warmup-", 1, 1, 1, 1);
    if (rc >= 0)
        rc = bench_ctl_wait_seq (t->cctl, t->a.id, 1, 1000, 30);
    if (rc < 0)
        goto fail;
    return 0;
fail:
    bench_daemon_show_log (&t->broker);
    bench_daemon_show_log (&t->a);
    bench_daemon_show_log (&t->c);
    bench_trio_stop (t);
    return rc;
}

void
bench_trio_stop (bench_trio_t *t)
{
    bench_ctl_destroy (&t->actl);
    bench_ctl_destroy (&t->cctl);
    bench_ctl_destroy (&t->bctl);
    bench_daemon_stop (&t->a);
    bench_daemon_stop (&t->c);
    bench_daemon_stop (&t->broker);
}

int
bench_pair_start (void *ctx, bench_pair_t *p, const char *bin_dir, const char *dir,
                  const char *broker_config)
{
    memset (p, 0, sizeof *p);
    int rc = bench_free_tcp_port (&p->port);
    if (rc < 0) {
        bench_error ("no free TCP port");
        return rc;
    }
    rc = bench_daemon_init (&p->broker, dir, "broker", true);
    if (rc >= 0 && broker_config
        && snprintf (p->broker.config, sizeof p->broker.config, "%s", broker_config)
               >= (int) sizeof p->broker.config)
        rc = -ENAMETOOLONG;
    if (rc >= 0)
        rc = bench_daemon_init (&p->a, dir, "a", false);
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &p->broker, bin_dir, p->port, NULL, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, p->broker.control, &p->bctl);
    if (rc >= 0)
        rc = bench_ctl_admit (p->bctl, p->a.id, "a");
    if (rc >= 0)
        rc = bench_daemon_start (ctx, &p->a, bin_dir, p->port, p->broker.id, TRIO_START_MS);
    if (rc >= 0)
        rc = bench_ctl_new (ctx, p->a.control, &p->actl);
    if (rc >= 0)
        rc = bench_ctl_wait_admitted (p->actl, TRIO_START_MS);
    if (rc < 0) {
        bench_pair_show_logs (p);
        bench_pair_stop (p);
    }
    return rc;
}

void
bench_pair_stop (bench_pair_t *p)
{
    bench_ctl_destroy (&p->actl);
    bench_ctl_destroy (&p->bctl);
    bench_daemon_stop (&p->a);
    bench_daemon_stop (&p->broker);
}

void
bench_pair_show_logs (const bench_pair_t *p)
{
    bench_daemon_show_log (&p->broker);
    bench_daemon_show_log (&p->a);
}

int
bench_el_main_init (const char *bin_dir, const char *base, const char *prefix, char *dir)
{
    if (!bin_dir) {
        bench_error ("-b BUILD_DIR is required");
        return 2;
    }
    if (el_crypto_init () < 0) {
        bench_error ("sodium_init failed");
        return 1;
    }
    if (prefix) {
        int err = bench_mkdtemp (base, prefix, dir);
        if (err < 0) {
            bench_error ("mkdtemp: %s", strerror (-err));
            return 1;
        }
    }
    return 0;
}
