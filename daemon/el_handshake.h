/* el_handshake.h — caps on inbound connections still in their ZMTP/CURVE
 * handshake, per source address and in total.
 *
 * Before a connection is authenticated, libzmq buffers whatever command
 * frame a stranger declares (up to ZMQ_MAXMSGSIZE = EL_FRAME_MAX bytes)
 * until the handshake ends or ZMQ_HANDSHAKE_IVL runs out; neither ZAP nor
 * the link limit applies yet. So a daemon holds at most
 * EL_HANDSHAKE_OPEN_MAX such connections (EL_HANDSHAKE_PER_ADDR_MAX from one
 * address): pre-authentication memory is bounded by about
 * EL_HANDSHAKE_OPEN_MAX x EL_FRAME_MAX bytes, whatever the number of
 * connections.
 *
 * The table is fed from a listen socket's monitor (ZeroMQ RFC 29 events,
 * zmq_socket_monitor): ZMQ_EVENT_ACCEPTED (value = the connection's fd)
 * opens an entry; ZMQ_EVENT_DISCONNECTED and ZMQ_EVENT_CLOSED (value = fd)
 * and the first frame received on that fd (ZMQ_SRCFD) close it. libzmq
 * reports HANDSHAKE_SUCCEEDED and HANDSHAKE_FAILED_* without the fd, so an
 * entry older than the handshake timeout plus a margin is forgotten without
 * acting (libzmq has ended that handshake one way or the other).
 *
 * Only heavy connections count against the caps: those that sent more than
 * EL_HANDSHAKE_HEAVY_BYTES (TCP_INFO), which is what holds memory. So honest
 * sites reconnecting together from one address (a NAT, a restart of many)
 * are never cut for their number, and what the rest can hold is bounded by
 * that size times the daemon's connections.
 *
 * Over a cap, el_handshake_enforce() shuts the socket down (shutdown(2),
 * SHUT_RDWR), which makes libzmq's I/O thread drop the connection: first the
 * oldest connection of an address over its own cap, then, while the total is
 * over, the oldest connection of the address holding the most (so a flood
 * from some addresses evicts itself, not an honest handshake from another).
 * The caller drains every pending monitor event before calling it, and it
 * acts only on an fd in the accepted-not-ended state whose peer (address and
 * port, getpeername) is still the one recorded at accept, so an fd that
 * libzmq closed and reused meanwhile is left alone.
 *
 * One thread: the daemon's reactor. */
#ifndef EL_HANDSHAKE_H
#define EL_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_HANDSHAKE_OPEN_MAX     16    /* connections in handshake, all addresses */
#define EL_HANDSHAKE_PER_ADDR_MAX 4     /* ... from one source address */
#define EL_HANDSHAKE_SLOTS        1024  /* table slots: accepts seen in one poll cycle
                                           beyond this are refused at once */
#define EL_HANDSHAKE_ADDR_BYTES   16    /* an IPv6 address; IPv4 uses the first 4 */
#define EL_HANDSHAKE_LOG_S        10    /* one refusal line per reason per window, s */
#define EL_HANDSHAKE_CHECK_MS     5     /* connections over a cap are looked at this often, ms */
#define EL_HANDSHAKE_HEAVY_BYTES  (16u << 10) /* a connection that sent more than this
                                                 (TCP_INFO bytes received) counts against
                                                 the caps; an honest CURVE handshake and a
                                                 Hello of ~150 heads send less */

/** Why a connection in handshake was shut down. */
typedef enum {
    EL_HANDSHAKE_PER_ADDRESS = 0,   /* its address held more than per_addr_max */
    EL_HANDSHAKE_TOTAL,             /* the daemon held more than open_max */
    EL_HANDSHAKE_TABLE_FULL,        /* more accepts in one cycle than EL_HANDSHAKE_SLOTS */
    EL_HANDSHAKE_REASONS
} el_handshake_reason_t;

/** One connection's source, as recorded at accept. */
typedef struct {
    int family;                             /* AF_INET, AF_INET6; 0 = unknown */
    uint8_t addr[EL_HANDSHAKE_ADDR_BYTES];
    uint16_t port;                          /* host order */
} el_handshake_peer_t;

typedef struct {
    uint64_t accepted;                          /* connections seen accepted */
    uint64_t refused[EL_HANDSHAKE_REASONS];     /* connections shut down, by reason */
    uint64_t refused_total;
    size_t open;                                /* in handshake now */
} el_handshake_stats_t;

typedef struct el_handshake el_handshake_t;

/** @param open_max      connections in handshake in total (>= 1)
 * @param per_addr_max  ... from one address (>= 1)
 * @param expire_us     an entry older than this, µs, is forgotten unacted
 * @return NULL on ENOMEM. */
el_handshake_t *el_handshake_new (size_t open_max, size_t per_addr_max, int64_t expire_us);
void el_handshake_destroy (el_handshake_t **self_p);

/** Record an accepted connection (the pure table: the caller says its peer).
 * An entry already held for @p fd is replaced (its end was missed).
 * @param now_us  a monotonic clock, µs
 * @return 0; EL_ETOOBIG when the table is full (the caller refuses @p fd). */
int el_handshake_add (el_handshake_t *self, int fd, const el_handshake_peer_t *peer,
                      int64_t now_us);

/** Does the connection on @p fd count against the caps (heavy)? New
 * entries do not; el_handshake_enforce() sets it from TCP_INFO. */
void el_handshake_set_heavy (el_handshake_t *self, int fd, bool heavy);

/** The connection on @p fd ended its handshake, or closed: forget it.
 * @return true if it was held. */
bool el_handshake_ended (el_handshake_t *self, int fd);

/** A connection el_handshake_pick() chose to refuse. */
typedef struct {
    int fd;
    el_handshake_peer_t peer;
    el_handshake_reason_t reason;
} el_handshake_victim_t;

/** Forget expired entries, then pick every heavy connection to refuse so
 * that each address holds at most per_addr_max heavy ones and all at most
 * open_max, and forget those too. O(n log n + groups x refusals) for n entries.
 * @param[out] ret  room for @p cap victims (EL_HANDSHAKE_SLOTS is always
 *                  enough); oldest first within each address
 * @return victims written. */
size_t el_handshake_pick (el_handshake_t *self, int64_t now_us, el_handshake_victim_t *ret,
                          size_t cap);

/** Count a refusal (el_handshake_enforce does; for tests of the table). */
void el_handshake_count (el_handshake_t *self, el_handshake_reason_t reason);

/** Socket side: ZMQ_EVENT_ACCEPTED on @p fd. Reads its peer (getpeername),
 * records it; a full table shuts @p fd down at once (counted, logged). */
void el_handshake_on_accepted (el_handshake_t *self, int fd, int64_t now_us);

/** Socket side: shut down every connection el_handshake_pick() names whose
 * peer is still the recorded one; count and log (rate-limited: one line per
 * reason per EL_HANDSHAKE_LOG_S, with the number left unlogged).
 * Call after draining all pending monitor events.
 * @return connections shut down. */
size_t el_handshake_enforce (el_handshake_t *self, int64_t now_us);

void el_handshake_stats (const el_handshake_t *self, el_handshake_stats_t *ret);

/** ms the reactor may sleep before el_handshake_enforce() must look again:
 * EL_HANDSHAKE_CHECK_MS while more connections are in handshake than a cap
 * allows (one of them may be filling up), else -1 (no limit). */
long el_handshake_wait_ms (const el_handshake_t *self);

/** "per_address", "total", "table_full". */
const char *el_handshake_reason_name (el_handshake_reason_t reason);

#endif
