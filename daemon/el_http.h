/* el_http.h — the read-only web endpoint: the network's agenda, machines and
 * sites as pages, a calendar feed, open data and metrics.
 *
 * Off unless the configuration sets http_listen = ADDR:PORT (core/el_config.h).
 * Both daemons run it as their last role (el_http_role): entrelab-node and
 * entrelab-broker serve the same pages.
 *
 *   GET /              the agenda of the coming weeks (HTML, no JavaScript),
 *                      French or English by Accept-Language; ?site= ?category=;
 *                      recurring events expanded (daemon/el_recur.h) in their zone
 *   GET /equipment     the network's machines (HTML)
 *   GET /sites         the directory of sites (HTML)
 *   GET /embed         a compact agenda for an iframe (HTML); ?site= ?category=
 *   GET /agenda.ics    RFC 5545 calendar of every event; ?site= ?category=
 *   GET /api/events, /api/equipment, /api/sites   JSON arrays (docs/CLI.md)
 *   GET /metrics       Prometheus text format 0.0.4
 * HEAD is answered as GET without the body. Pages, feed and JSON carry a
 * strong ETag (BLAKE2b of the body) and Last-Modified (the latest entry
 * time of what they show); If-None-Match, else If-Modified-Since, gives 304.
 *
 * Threads. libmicrohttpd runs in its own thread
 * (MHD_USE_INTERNAL_POLLING_THREAD) and never touches the store: LMDB forbids
 * opening one environment twice in a process, el_store_t is one thread's, a
 * map resize (mdb_env_set_mapsize) needs no read transaction open anywhere
 * in the process, and el_store_compact() swaps the environment under any
 * reader. So the reactor renders a *snapshot* — the events, equipment and
 * sites, decoded and copied out of one pass of read transactions — in the
 * role's tick(), at most every EL_HTTP_REFRESH_MS after an applied entry of
 * those kinds changed something, and publishes it under a mutex with a
 * reference count. The HTTP thread takes a reference, renders the response
 * from that immutable snapshot and drops it. The bodies that depend on the
 * snapshot alone (the unfiltered feed in each language, the JSON) are
 * rendered once and kept with it, with their ETag; a response sending one
 * holds the snapshot's reference until libmicrohttpd frees the response. Replication never waits for a
 * client: the reactor's cost is one snapshot per refresh, whatever the
 * request rate; a slow client holds only an HTTP connection.
 *
 * Privacy: a snapshot holds EVENT, EQUIPMENT and SITE records only (never
 * MEMBER, BOOKING_REQUEST or BOOKING), and of sites not their contact or
 * address; nothing a response says comes from a member record.
 *
 * Hostile requests: methods other than GET and HEAD get 405 (with Allow);
 * any path that is not one of the routes above exactly, encoded dot
 * segments included, 404; a path over EL_HTTP_URL_MAX bytes 414; a request
 * whose line or headers do not fit EL_HTTP_CONN_MEMORY libmicrohttpd answers
 * 414 or 431; a connection idle EL_HTTP_TIMEOUT_S is closed; at most
 * EL_HTTP_PER_IP connections per client address and EL_HTTP_CONNS in all. */
#ifndef EL_HTTP_H
#define EL_HTTP_H

#include "el_role.h"

#define EL_HTTP_REFRESH_MS   500       /* snapshot at most this often after a change, ms */
#define EL_HTTP_METRICS_MS   1000      /* store and sync counters re-read this often, ms */
#define EL_HTTP_WINDOW_S     3600      /* the agenda's occurrences are recomputed this often,
                                        * s, so that its window follows the days */
#define EL_HTTP_URL_MAX      2048      /* bytes of a request path (without the query) */
#define EL_HTTP_CONN_MEMORY  (16u << 10) /* bytes per connection: request line + headers */
#define EL_HTTP_TIMEOUT_S    10        /* idle connection timeout, s */
#define EL_HTTP_PER_IP       64        /* connections per client address */
#define EL_HTTP_CONNS        512       /* connections in all */
#define EL_HTTP_AGENDA_DAYS  42        /* days shown by / and /embed */

/** The web endpoint as a role. start(): nothing when http_listen and
 * metrics_listen are both empty; else the first snapshot, then the server
 * (and a second one serving /metrics alone on metrics_listen) (bind errors: -EADDRINUSE and
 * other -errno, logged: the daemon does not start). on_applied() marks the
 * snapshot stale when an EVENT, EQUIPMENT or SITE entry was stored; tick()
 * renders it again; stop() stops the server (waits for its thread) and
 * frees every snapshot. */
extern const el_role_ops_t el_http_role;

#endif
