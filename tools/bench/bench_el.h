/* bench_el.h — running entrelab daemons for the benchmark programs.
 *
 * A bench_daemon_t is one entrelab-broker or entrelab-node process in a state
 * directory of its own, started with flags only (no config file), its log in
 * <state_dir>/daemon.log. The bench talks to it over its control socket
 * (proto/el_control.proto) with a persistent DEALER (bench_ctl_t), so a poll
 * costs one ipc round trip and no connection set-up.
 *
 * Payloads: every entry the benchmarks write is an EVENT record whose
 * serialized el.Event is exactly BENCH_MSG_BYTES_DEFAULT (512) bytes.
 *
 * Threading: one thread; sockets belong to the thread that made them. */
#ifndef BENCH_EL_H
#define BENCH_EL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "el_control.pb-c.h"
#include "el_entry.h"
#include "bench_util.h"

#define BENCH_CTL_TIMEOUT_MS 30000  /* one control request, ms */
#define BENCH_WRITE_BATCH_MAX 4096  /* records per WriteRequest (EL_SYNC_WRITE_MAX) */

typedef struct bench_ctl bench_ctl_t;

typedef struct {
    pid_t pid;                              /* 0 = not running */
    bool broker;
    char name[32];                          /* for messages: "broker", "origin3" ... */
    char state_dir[BENCH_PATH_MAX];
    char control[BENCH_PATH_MAX + 32];      /* ipc://<state_dir>/control.sock */
    uint8_t id[EL_KEY_BYTES];               /* its site id (public key) */
    char id_text[EL_KEY_TEXT_BYTES];
    char config[BENCH_PATH_MAX];            /* "" or a configuration file (--config) the
                                             * flags apply over, e.g. http_listen */
} bench_daemon_t;

/** Prepare @p d in <parent>/<name>: create the state directory (0700) and,
 * for a node, a fresh key file (so the broker can admit it before it runs).
 * A broker's key is read after its first start (bench_daemon_start).
 * @return 0, -errno (reason printed). */
int bench_daemon_init (bench_daemon_t *d, const char *parent, const char *name, bool broker);

/** Start the daemon from @p bin_dir (entrelab-broker / entrelab-node):
 *   broker: --state-dir D --listen tcp://127.0.0.1:PORT
 *   node:   --state-dir D --connect tcp://127.0.0.1:PORT --broker-key KEY
 * plus --log-level warn (and --config d->config when set), then wait (up to @p timeout_ms) until its control
 * socket answers Status, and fill d->id. The child gets the hard
 * RLIMIT_NOFILE as its soft limit (1,000 sites need more than 1,024 fds).
 * @param broker_key  the broker's id (nodes only)
 * @return 0, -ETIMEDOUT, -errno (reason printed, log shown). */
int bench_daemon_start (void *ctx, bench_daemon_t *d, const char *bin_dir, int port,
                        const uint8_t *broker_key, int timeout_ms);

/** SIGTERM, wait up to 10 s, then SIGKILL. No-op when not running. @return its status. */
int bench_daemon_stop (bench_daemon_t *d);

/** Resident set size of the daemon (VmRSS), KiB; 0 when unknown. */
uint64_t bench_daemon_rss_kib (const bench_daemon_t *d);

/** Private memory of the daemon (RssAnon: heap, stacks, anonymous maps; the
 * store's file-backed map pages are not in it), KiB; 0 when unknown. */
uint64_t bench_daemon_anon_kib (const bench_daemon_t *d);

/** CPU time (user + system, all threads) the daemon used so far, ns; 0 when unknown. */
int64_t bench_daemon_cpu_ns (const bench_daemon_t *d);

/** Bytes the daemon passed to write()-like calls (wchar) and caused to be
 * written to storage (write_bytes), from /proc/<pid>/io. @return 0, -errno. */
int bench_daemon_io (const bench_daemon_t *d, uint64_t *ret_wchar, uint64_t *ret_write_bytes);

/** Print on stderr one line of the daemon's store and sync counters (Status):
 * commits, entries applied, frames in/out — for the stage analysis. */
void bench_daemon_print_counters (bench_ctl_t *ctl, const char *who);

/** Bytes of the store's used pages ((last page + 1) × page size), read from
 * the LMDB environment found under the state directory (read-only, safe while
 * the daemon runs). @return 0 and *ret, -ENOENT (no data.mdb found), -errno. */
int bench_daemon_store_bytes (const bench_daemon_t *d, uint64_t *ret);

/** Print on stderr the daemon's VmRSS split (RssAnon, RssFile, RssShmem) and,
 * per named LMDB database of its store, entries and pages used — the stage
 * analysis of node_rss_idle_kib and store_bytes_per_entry. */
void bench_daemon_print_memory (const bench_daemon_t *d);

/** When $BENCH_PERF_DIR is set: start `perf record -g` on the given daemons,
 * writing $BENCH_PERF_DIR/<name>.perf.data (for the stage analysis; see
 * BENCHMARKS.md). @return the perf pid, or 0 when not profiling / perf failed. */
pid_t bench_perf_start (const char *name, const bench_daemon_t *const *daemons, size_t n);

/** Stop a recording started by bench_perf_start (SIGINT, wait). Accepts 0. */
void bench_perf_stop (pid_t perf);

/** Print the daemon's log on stderr (after a failure). */
void bench_daemon_show_log (const bench_daemon_t *d);

/* ---- control client --------------------------------------------------- */

/** Persistent DEALER to a daemon's control endpoint. @return 0, -errno. */
int bench_ctl_new (void *ctx, const char *endpoint, bench_ctl_t **ret);
void bench_ctl_destroy (bench_ctl_t **self_p);

/** Send @p req (its id is set to a fresh one, returned in *ret_id) without
 * waiting. @return 0, -errno. */
int bench_ctl_send (bench_ctl_t *self, El__ControlRequest *req, uint64_t *ret_id);

/** Wait for the next reply (@p timeout_ms). @param[out] ret caller frees with
 * el__control_reply__free_unpacked(r, &el_pb_allocator).
 * @return 0, -ETIMEDOUT, EL_EPROTO, -errno. */
int bench_ctl_recv (bench_ctl_t *self, int timeout_ms, El__ControlReply **ret);

/** send + recv; also fails with the reply's code when it is not 0 (printed). */
int bench_ctl_call (bench_ctl_t *self, El__ControlRequest *req, int timeout_ms,
                    El__ControlReply **ret);

/** Admit @p site at the broker. @return 0 or an error (printed). */
int bench_ctl_admit (bench_ctl_t *broker, const uint8_t site[EL_KEY_BYTES], const char *name);

/** Link @p broker's network with the broker @p other listening on loopback
 * port @p other_port (FederateRequest, default kinds). @return 0 or an error. */
int bench_ctl_federate (bench_ctl_t *broker, const uint8_t other[EL_KEY_BYTES], int other_port);

/** Poll Status until the node holds its own active Site entry (it may write).
 * @return 0, -ETIMEDOUT, errors (printed). */
int bench_ctl_wait_admitted (bench_ctl_t *self, int timeout_ms);

/** Heads of the daemon. @param[out] ret caller frees with el__control_reply__free_unpacked.
 * The heads are in (*ret)->heads->heads. @return 0 or an error. */
int bench_ctl_heads (bench_ctl_t *self, El__ControlReply **ret);

/** Seq of @p origin's head at the daemon (0 = none). @return 0 or an error. */
int bench_ctl_head_seq (bench_ctl_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret);

/** Does the daemon hold every head of @p want (same origin, seq and hash)?
 * @return 1 yes, 0 not yet, negative on error. */
int bench_ctl_has_heads (bench_ctl_t *self, const El__HeadsReply *want);

/** Build (not send) a WriteRequest of @p n EVENT records with keys
 * "<prefix><first+i>", each payload a 512-byte el.Event. Free with
 * bench_write_request_free(). @return NULL on ENOMEM or n > BENCH_WRITE_BATCH_MAX. */
El__ControlRequest *bench_write_request (const char *prefix, uint64_t first, size_t n);
void bench_write_request_free (El__ControlRequest *req);

/** Write @p n records (keys prefix+first..) to the daemon in requests of
 * @p batch records, keeping up to @p window requests in flight.
 * @return 0 or an error (printed). */
int bench_ctl_write_many (bench_ctl_t *self, const char *prefix, uint64_t first, uint64_t n,
                          size_t batch, int window);

/** Prebuild the WriteRequests of @p n records (keys prefix+first..) in
 * requests of @p batch records. Free with bench_write_reqs_free().
 * @return 0, -ENOMEM (printed). */
int bench_write_reqs_build (const char *prefix, uint64_t first, uint64_t n, size_t batch,
                            El__ControlRequest ***ret, size_t *ret_n);
void bench_write_reqs_free (El__ControlRequest ***reqs_p, size_t n);

/** Send prebuilt requests, up to @p window in flight, until all are answered.
 * @return 0 or the first error (printed). */
int bench_ctl_write_reqs (bench_ctl_t *self, El__ControlRequest *const *reqs, size_t n_reqs,
                          int window);

/** The smallest network for live figures: a broker, an origin node A and a
 * second node C, both admitted, connected, and past one warm-up entry of A
 * that C holds. */
typedef struct {
    bench_daemon_t broker, a, c;
    bench_ctl_t *bctl, *actl, *cctl;
    int port;
} bench_trio_t;

/** Start the trio with state directories under @p dir. On failure everything
 * started is stopped (logs shown). @return 0 or an error (printed). */
int bench_trio_start (void *ctx, bench_trio_t *t, const char *bin_dir, const char *dir);
void bench_trio_stop (bench_trio_t *t);

/** The smallest network that writes: a broker and one node A, admitted and
 * connected (A may write). */
typedef struct {
    bench_daemon_t broker, a;
    bench_ctl_t *bctl, *actl;
    int port;
} bench_pair_t;

/** Start the pair with state directories under @p dir; @p broker_config: a
 * configuration file the broker reads under its flags (bench_daemon_t.config),
 * or NULL. On failure everything started is stopped (logs shown).
 * @return 0 or an error (printed). */
int bench_pair_start (void *ctx, bench_pair_t *p, const char *bin_dir, const char *dir,
                      const char *broker_config);
void bench_pair_stop (bench_pair_t *p);
/** Print both daemons' logs on stderr (after a failure). */
void bench_pair_show_logs (const bench_pair_t *p);

/** Poll @p ctl every @p poll_us until @p origin's head seq is >= @p seq.
 * @return 0, -ETIMEDOUT after @p timeout_s, errors (printed). */
int bench_ctl_wait_seq (bench_ctl_t *ctl, const uint8_t origin[EL_KEY_BYTES], uint64_t seq,
                        int poll_us, int timeout_s);

/** What each el_bench_* main() does once its options are read: -b BUILD_DIR
 * must have been given (@p bin_dir not NULL), libsodium is initialised and,
 * when @p prefix is not NULL, the run's directory is made (bench_mkdtemp
 * under @p base, NULL = $TMPDIR or /tmp). Every failure is printed.
 * @param[out] dir  BENCH_PATH_MAX bytes; written when @p prefix is not NULL
 * @return 0; else the exit status for main(): 2 (no -b), 1 (libsodium, mkdtemp). */
int bench_el_main_init (const char *bin_dir, const char *base, const char *prefix, char *dir);

/** Path of a daemon binary: <bin_dir>/<name>. @return 0, -ENOENT (printed). */
int bench_el_binary (const char *bin_dir, const char *name, char *ret, size_t size);

#endif
