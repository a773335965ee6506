/* el_http_req.c — reading a request's path, headers and arguments
 * (el_http_req.h). */
#include "el_http_req.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "el_http.h"
#include "el_http_page.h"

const el_http_route_def_t el_http_routes[] = {
    { "/", EL_HTTP_HTML, "text/html; charset=utf-8" },
    { "/embed", EL_HTTP_EMBED, "text/html; charset=utf-8" },
    { "/equipment", EL_HTTP_EQUIP_HTML, "text/html; charset=utf-8" },
    { "/sites", EL_HTTP_SITES_HTML, "text/html; charset=utf-8" },
    { "/agenda.ics", EL_HTTP_ICS, "text/calendar; charset=utf-8" },
    { "/api/events", EL_HTTP_EVENTS_JSON, "application/json" },
    { "/api/equipment", EL_HTTP_EQUIP_JSON, "application/json" },
    { "/api/sites", EL_HTTP_SITES_JSON, "application/json" },
    { "/metrics", EL_HTTP_METRICS, "text/plain; version=0.0.4; charset=utf-8" },
    { "/equipment/", EL_HTTP_MACHINE_HTML, "text/html; charset=utf-8" },   /* + OWNER/KEY */
};
const size_t el_http_routes_n = sizeof el_http_routes / sizeof el_http_routes[0];

int
el_http_route (const char *url, bool equipment, char owner[EL_KEY_TEXT_BYTES],
               const char **ret_key)
{
    size_t ulen = strnlen (url, EL_HTTP_URL_MAX + 1);
    if (ulen > EL_HTTP_URL_MAX)
        return EL_HTTP_TOO_LONG;
    size_t machine = el_http_routes_n - 1;
    for (size_t i = 0; i < machine; i++) {
        if (strcmp (url, el_http_routes[i].path))
            continue;
        bool hidden = !equipment && (el_http_routes[i].route == EL_HTTP_EQUIP_HTML
                                     || el_http_routes[i].route == EL_HTTP_EQUIP_JSON);
        return hidden ? EL_HTTP_NOT_FOUND : (int) i;
    }
    /* /equipment/OWNER/KEY: OWNER a site id, KEY the rest */
    const char *prefix = el_http_routes[machine].path;
    size_t plen = strlen (prefix);
    if (equipment && !strncmp (url, prefix, plen)
        && ulen - plen > EL_KEY_TEXT_BYTES - 1
        && url[plen + EL_KEY_TEXT_BYTES - 1] == '/') {
        memcpy (owner, url + plen, EL_KEY_TEXT_BYTES - 1);
        owner[EL_KEY_TEXT_BYTES - 1] = '\0';
        *ret_key = url + plen + EL_KEY_TEXT_BYTES;
        return (int) machine;
    }
    return EL_HTTP_NOT_FOUND;
}

bool
el_http_french (const char *al)
{
    if (!al)
        return true;
    double best_fr = -1, best_en = -1;
    const char *p = al;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        bool fr = !strncasecmp (p, "fr", 2), en = !strncasecmp (p, "en", 2);
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        const char *q = memmem (p, len, ";q=", 3);     /* within this item only: linear */
        double v = 1.0;
        if (q)
            v = strtod (q + 3, NULL);
        if (fr && v > best_fr)
            best_fr = v;
        if (en && v > best_en)
            best_en = v;
        if (!end)
            break;
        p = end + 1;
    }
    return !(best_en > best_fr);
}

const char *
el_http_host (const char *h)
{
    if (!h || !h[0] || strnlen (h, 256) > 255)
        return NULL;
    for (const char *p = h; *p; p++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *p))
            return NULL;
    return h;
}

int
el_http_weeks (const char *w)
{
    char *end;
    long n = w ? strtol (w, &end, 10) : 0;
    if (!w || !w[0] || *end || n < 1 || n > EL_HTTP_WEEKS_MAX)
        return EL_HTTP_WEEKS_DEFAULT;
    return (int) n;
}
