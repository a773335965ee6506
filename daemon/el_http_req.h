/* el_http_req.h — the web endpoint's reading of a request (el_http.h): which
 * route a path names, and the headers and arguments it looks at. Pure
 * functions of the texts libmicrohttpd hands over (already unescaped, NUL
 * terminated), so that they can be tested and fuzzed without a socket.
 *
 * Pure functions, no allocation, any thread. */
#ifndef EL_HTTP_REQ_H
#define EL_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "el_entry.h"

typedef enum {
    EL_HTTP_ICS, EL_HTTP_HTML, EL_HTTP_EMBED, EL_HTTP_EQUIP_HTML, EL_HTTP_SITES_HTML,
    EL_HTTP_EVENTS_JSON, EL_HTTP_EQUIP_JSON, EL_HTTP_SITES_JSON, EL_HTTP_METRICS,
    EL_HTTP_MACHINE_HTML
} el_http_route_t;

/* One route: its exact path (the machine page's is a prefix, followed by
 * OWNER/KEY), what it renders and its Content-Type. */
typedef struct {
    const char *path;
    el_http_route_t route;
    const char *type;
} el_http_route_def_t;

extern const el_http_route_def_t el_http_routes[];
extern const size_t el_http_routes_n;   /* the machine page is the last one */

#define EL_HTTP_NOT_FOUND (-1)
#define EL_HTTP_TOO_LONG  (-2)

/** The route @p url names, as an index into el_http_routes. The machine
 * routes (/equipment, /api/equipment, /equipment/OWNER/KEY) exist only when
 * @p equipment. For /equipment/OWNER/KEY, @p owner gets OWNER (the 43
 * characters of a site id, not checked here: the snapshot lookup does) and
 * @p ret_key points into @p url at KEY (possibly empty).
 * @param url  the path as libmicrohttpd unescaped it, without the query
 * @return the index; EL_HTTP_TOO_LONG (over EL_HTTP_URL_MAX bytes, 414);
 *         EL_HTTP_NOT_FOUND (no such route, 404). */
int el_http_route (const char *url, bool equipment, char owner[EL_KEY_TEXT_BYTES],
                   const char **ret_key);

/** French unless @p accept_language (may be NULL) prefers English: the first
 * of fr / en with the higher q wins. Linear in its length. */
bool el_http_french (const char *accept_language);

/** @p host when it is a plain host[:port] (letters, digits, '.', '-', ':',
 * '[', ']'; 1..255 bytes), else NULL. @p host may be NULL. */
const char *el_http_host (const char *host);

/** The weeks= argument (may be NULL): 1..EL_HTTP_WEEKS_MAX, else
 * EL_HTTP_WEEKS_DEFAULT (el_http_page.h). */
int el_http_weeks (const char *weeks);

#endif
