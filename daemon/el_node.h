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
 * (ZMQ_RECONNECT_IVL / _MAX). An inbound connection (a ROUTER routing id)
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
 * Shutdown: SIGINT / SIGTERM (signalfd) stop the loop at once (SIGHUP is
 * ignored and logged); every store
 * commit happens before anything is acknowledged, sockets close with a short
 * linger, the store is closed cleanly.
 *
 * Status memory: what the daemon knows of each peer (last frame seen, since
 * when disconnected, disconnects, sessions) is kept in the store's peers db
 * (33 bytes: version 1, then four 64-bit big-endian integers), written on each
 * disconnect and at shutdown, so `status` still says when a site was last
 * seen after a restart.
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
#include "el_role.h"
#include "el_store.h"
#include "el_sync.h"
#include "el_version.h"

#define EL_NODE_LINKS_MAX       1024    /* connections (inbound + outbound) per daemon */
#define EL_NODE_PENDING_MAX     16384   /* frames held per link while its socket is full */
#define EL_NODE_RECV_BATCH      256     /* frames read per socket per poll cycle */
#define EL_NODE_CYCLE_BUDGET_MS 50      /* a poll cycle stops reading sockets after this, ms,
                                         * so signals and control requests wait no longer */
#define EL_NODE_PROBE_MS        5000    /* idle inbound connections are probed this often, ms */
#define EL_NODE_RETRY_MS        1000    /* a session ended by an error restarts after, ms */
#define EL_NODE_RETRY_FATAL_MS  60000   /* ... after a version, network or revocation error, ms */
#define EL_NODE_LINGER_MS       200     /* ZMQ_LINGER of peer sockets at shutdown, ms */
#define EL_NODE_STATUS_ORIGINS  256     /* origins listed per peer in status */
#define EL_NODE_ROLES_MAX       4       /* roles per daemon */

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

/** A status row for a peer without a connection, allocated in @p ctl's
 * reply arena. @return NULL when out of memory. */
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
