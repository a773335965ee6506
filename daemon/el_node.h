/* el_node.h — the daemon: one zmq_poll reactor around the store and the sync core.
 *
 * Both daemons are an el_node_t running a list of roles (daemon/el_role.h):
 * entrelab-node the site role and the uplink role (it connects a DEALER to
 * its broker, a CURVE client with the broker's key); entrelab-broker the
 * site role and the hub role (its network id is its own key, ZAP admits
 * every site it attested, it answers admit/revoke and invites). Either may
 * bind ROUTERs (--listen; ZAP admits the sites the roles allow plus the
 * configured peers) and connects a DEALER to each configured peer with an
 * endpoint.
 *
 * Sessions: every connection carries one el_sync session. An outbound link
 * opens a fresh session (our Hello) each time its handshake succeeds (socket
 * monitor) and closes it on disconnect; libzmq reconnects by itself
 * (ZMQ_RECONNECT_IVL / _MAX), except after a refused handshake (the peer's
 * ZAP did not admit us, or a CURVE protocol failure), which libzmq never
 * retries: the link then drops its endpoint and connects again after
 * el_node_reknock_ms() (1 s doubling to 60 s, with jitter), so a site
 * admitted later connects at its next knock, without a restart. Status says
 * why each link is down (PeerStatus.down_reason). An inbound connection (a ROUTER routing id)
 * gets a session when its Hello arrives; its peer is the ZAP User-Id of its
 * frames, which the Hello's sender must match. A new Hello restarts the
 * session; a new connection of the same key replaces the old one. Frames
 * before a Hello are dropped and counted (they belong to a dead session).
 * An empty frame is a keepalive: the daemon probes idle inbound connections
 * with it (ZMQ_ROUTER_MANDATORY reports the gone ones) and ignores those it
 * receives.
 *
 * Revocation: when a broker-signed Site entry with status REVOKED is stored
 * (written here or replicated), the site's key leaves the ZAP allow list,
 * its sessions get an Error (ERROR_REVOKED) and end, and frames of its
 * remaining connections are dropped; the store refuses its new entries.
 * The revoked site itself, told by its broker's Error (or by the revoking
 * entry), records it (the site role, daemon/el_duties.h: meta, kept across
 * restarts),
 * reports admitted = false and revoked_us in status, and refuses local
 * writes; a Site entry signed later that admits it again clears it.
 * Members' sharing levels hold on the wire: the sync core runs with
 * el_share_by_level (core/el_share.h).
 *
 * Reload: SIGHUP reads the configuration again (el_node_on_reload(); without
 * it SIGHUP is logged and ignored) and applies what can change live: the log
 * level, and the configured peers (links to removed peers close, their keys
 * leave the ZAP allow list unless admitted otherwise; added peers are
 * allowed and connected). Settings that need a restart (state_dir, listen,
 * connect, broker_key, limits, ...) keep their running values and are named
 * in the log line `config_reloaded changed=... needs_restart=...`. A
 * configuration that does not load changes nothing
 * (`config_reload_failed reason=...`).
 *
 * Shutdown: SIGINT / SIGTERM (signalfd) stop the loop at once; every store
 * commit happens before anything is acknowledged, sockets close with a short
 * linger, the store is closed cleanly.
 *
 * Status memory: what the daemon knows of each peer (last frame seen, since
 * when disconnected, disconnects, sessions) is kept in the store's peers db
 * (33 bytes: version 1, then four 64-bit big-endian integers), written on each
 * disconnect and at shutdown, so `status` still says when a site was last
 * seen after a restart. Version 2 adds what the peer held of each origin when
 * its session ended (its Hello's heads plus what we sent it), so `status`
 * counts the entries that wait for a peer without a session (PeerStatus
 * behind, behind_by_origin); a peer of which nothing is stored says
 * behind_unknown rather than 0.
 *
 * Threading: the reactor is single-threaded; create, run and destroy a node
 * in one thread. el_node_new() blocks SIGINT/SIGTERM/SIGHUP in the calling thread
 * (and so in libzmq's threads) and reads them from a signalfd. */
#ifndef EL_NODE_H
#define EL_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "el_config.h"
#include "el_control.h"
#include "el_entry.h"
#include "el_handshake.h"
#include "el_role.h"
#include "el_store.h"
#include "el_sync.h"
#include "el_version.h"

#define EL_NODE_LINKS_MAX       1024    /* connections (inbound + outbound) per daemon */
#define EL_NODE_PENDING_MAX     16384   /* frames held per link while its socket is full */
#define EL_NODE_ZERO_COPY_MIN   (16u << 10) /* bytes: larger frames go to libzmq without a copy */
#define EL_NODE_RECV_BATCH      256     /* frames read per socket per poll cycle */
#define EL_NODE_CYCLE_BUDGET_MS 50      /* a poll cycle stops reading sockets after this, ms,
                                         * so signals and control requests wait no longer */
#define EL_NODE_PROBE_MS        5000    /* idle inbound connections are probed this often, ms */
#define EL_NODE_TRIM_IDLE_MS    1000    /* after a burst, the heap's free memory goes back to
                                         * the system once the reactor was idle this long, ms */
#define EL_NODE_RETRY_MS        1000    /* a session ended by an error restarts after, ms */
#define EL_NODE_RETRY_FATAL_MS  60000   /* ... after a version, network or revocation error, ms */
#define EL_NODE_REKNOCK_MS      1000    /* a link refused at the handshake connects again
                                         * after this, ms, doubled per refusal in a row ... */
#define EL_NODE_REKNOCK_MAX_MS  60000   /* ... up to this, ms */
#define EL_NODE_LINGER_MS       200     /* ZMQ_LINGER of peer sockets at shutdown, ms */
#define EL_NODE_STATUS_ORIGINS  256     /* origins listed per peer in status */
#define EL_NODE_ROLES_MAX       4       /* roles per daemon */
#define EL_NODE_HANDSHAKE_MS    5000    /* an inbound ZMTP/CURVE handshake must end within, ms */
#define EL_NODE_ROLE_LINKS_MAX  16      /* outbound links the roles open (federation) */

/** Prepare a daemon: state directory (created 0700 if absent), lock file
 * (one daemon per state directory), key (created 0600 when absent; refused
 * when group/world readable), store, sync core, ZAP handler, then the
 * sockets (ZAP first), control socket and signal handling.
 * sockets (ZAP first), control socket and signal handling, then each role's
 * start() and the Site records of the network (on_site, at_start).
 * @param cfg    borrowed; finished with el_config_finish().
 * @param name   "node" or "broker": logs and status; static storage
 * @param roles  at most EL_NODE_ROLES_MAX; the tables are borrowed for the
 *               node's life (static tables)
 * @return 0; EL_EINVAL (too many roles, no role names the network, the
 *         network is our own key on a node); EL_EKEYPERM, EL_EKEYFORMAT (key
 *         file); -EBUSY (another daemon holds the state directory);
 *         -EADDRINUSE and other -errno (binds); store errors; a role's start
 *         error. The reason is also logged. */
int el_node_new (const el_config_t *cfg, const char *name, const el_role_ops_t *const *roles,
                 size_t roles_n, el_node_t **ret);

/** Run the reactor until SIGINT/SIGTERM or el_node_stop().
 * @return 0 on a clean stop, or a fatal error code (logged). */
int el_node_run (el_node_t *self);

/** Ask the reactor to stop after the current cycle (same thread). */
void el_node_stop (el_node_t *self);

/** Close everything; accepts NULL; sets *self_p = NULL. */
void el_node_destroy (el_node_t **self_p);

/** This daemon's site id. */
const uint8_t *el_node_id (const el_node_t *self);

/** Where a daemon gets its configuration again on SIGHUP: fill @p ret (not
 * initialised) with the settings a start would read now, finished
 * (el_config_finish), or return a negative code with the reason in @p err
 * (the running configuration is then kept). Called in the reactor thread. */
typedef int (el_node_reload_fn) (void *arg, el_config_t *ret, char *err, size_t err_size);

/** Reload through @p fn on SIGHUP (NULL: SIGHUP is logged and ignored).
 * Same thread as el_node_run(), before or between runs. */
void el_node_on_reload (el_node_t *self, el_node_reload_fn *fn, void *arg);

/* ------------------------------------------------------------ for the roles
 * Reactor thread only, from a role's start() until its stop(). */

/** The store, sync core, key pair, configuration and network id: borrowed,
 * valid until el_node_destroy(). */
el_store_t *el_node_store (el_node_t *self);
el_sync_t *el_node_sync (el_node_t *self);
const el_keypair_t *el_node_keypair (const el_node_t *self);
const el_config_t *el_node_config (const el_node_t *self);
const uint8_t *el_node_network (const el_node_t *self);

/** What this site knows of its own admission: status shows it, and while
 * @p revoked_us (µs since the Unix epoch; 0 = not revoked) is set, local
 * writes are refused with EL_EREVOKED. */
void el_node_set_admission (el_node_t *self, bool admitted, int64_t revoked_us);
bool el_node_is_admitted (const el_node_t *self);

/** Peers with an open sync session now (inbound and outbound links). */
size_t el_node_peers_connected (const el_node_t *self);

/** Inbound connections refused while in handshake, and those open now
 * (el_handshake.h). Reactor thread. */
void el_node_handshake_stats (const el_node_t *self, el_handshake_stats_t *ret);

/* A peer with an open sync session, as metrics see it. */
typedef struct {
    uint8_t key[EL_KEY_BYTES];
    uint64_t behind;            /* entries it lacks that we hold, all origins */
    int64_t last_seen_us;       /* its last frame, µs since the Unix epoch */
} el_node_peer_t;

/** The peers with an open sync session (a link whose key is known), at most
 * @p max, into @p out. @return how many were written. */
size_t el_node_peers (el_node_t *self, el_node_peer_t *out, size_t max);

/** Let @p key through ZAP (logged on failure). @return 0, -ENOMEM, -ENOSPC. */
int el_node_zap_allow (el_node_t *self, const uint8_t key[EL_KEY_BYTES]);

/** List @p key in status even before it connects, with what the store's
 * peers db remembers of it. */
void el_node_remember_peer (el_node_t *self, const uint8_t key[EL_KEY_BYTES]);

/** Open the link to this site's broker (@p key at @p endpoint): a DEALER,
 * CURVE client, reconnecting by itself. @return 0, EL_EINVAL, -errno (logged). */
int el_node_uplink (el_node_t *self, const uint8_t key[EL_KEY_BYTES], const char *endpoint);

/** Connect to a peer the role trusts (another network's broker) at
 * @p endpoint: a DEALER, CURVE client with @p key, reconnecting by itself;
 * the key must also pass ZAP for its own connections (el_node_zap_allow).
 * Idempotent for the same key and endpoint. @return 0, EL_ETOOBIG (over
 * EL_NODE_ROLE_LINKS_MAX), -errno (logged). */
int el_node_peer_connect (el_node_t *self, const uint8_t key[EL_KEY_BYTES], const char *endpoint);

/** Stop trusting @p key: out of ZAP, its sessions end, our links to it are
 * closed, the frames of its open connections are dropped. */
void el_node_peer_drop (el_node_t *self, const uint8_t key[EL_KEY_BYTES]);

/** What the sessions with @p key say, summed over its links (sent, received,
 * refused, rejected by reason; behind: the largest). @param[out] ret_connected
 * a session is open.
 * @return 0, -ENOENT (no session with it). */
int el_node_peer_info (el_node_t *self, const uint8_t key[EL_KEY_BYTES], el_sync_peer_info_t *ret,
                       bool *ret_connected);

/** How long an outbound link whose handshake was refused @p refusals times
 * in a row before this one (0 for a first refusal) waits before it connects
 * again, ms: EL_NODE_REKNOCK_MS doubled per earlier refusal, at most
 * EL_NODE_REKNOCK_MAX_MS, less a jitter of up to a quarter of it taken from
 * @p rnd (any 32-bit value, e.g. randombytes_random()), so that sites refused
 * together do not knock again together. Pure; any thread. */
uint32_t el_node_reknock_ms (unsigned refusals, uint32_t rnd);

/** How many entries of @p origin the peer @p key lacks that we hold (the
 * largest over its sessions; 0 without one). */
uint64_t el_node_peer_behind (el_node_t *self, const uint8_t key[EL_KEY_BYTES],
                              const uint8_t origin[EL_KEY_BYTES]);

/** A status row for a peer without a connection, allocated in @p ctl's
 * reply arena: down_reason "disconnected" and behind_unknown until the
 * caller knows better. @return NULL when out of memory. */
El__PeerStatus *el_node_status_offline (el_control_t *ctl, const uint8_t key[EL_KEY_BYTES]);

/** Take the state directory's lock (<state_dir>/lock, flock) without
 * starting a daemon, e.g. for offline admission. @param[out] ret_fd close it
 * to release. @return 0, -EBUSY (a daemon runs there), -errno. */
int el_node_lock_state (const char *state_dir, int *ret_fd);

/** Load the key file, creating it (0600) when absent.
 * @param[out] created optional: true when a new key was written.
 * @return as el_keypair_load(), el_keypair_save(). */
int el_node_load_key (const char *path, el_keypair_t **ret, bool *created);

#endif
