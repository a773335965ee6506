/* fuzz_http_req.c — libFuzzer target for the web endpoint's reading of a
 * request (daemon/el_http_req.h): the bytes, split at NUL bytes, are the
 * path, Accept-Language, Host, weeks=, site= and category= as libmicrohttpd
 * would hand them over. The route must be one of the table's or a refusal;
 * a machine route leaves OWNER as 43 characters and KEY inside the path; a
 * Host accepted is made of the allowed characters; weeks within limits. The
 * query is then rendered against an empty snapshot (every page kind). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_http.h"
#include "el_http_page.h"
#include "el_http_req.h"
#include "fuzz_util.h"

#define S_FIELDS 6
#define S_INPUT_MAX (64u << 10)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > S_INPUT_MAX)
        return 0;
    char *buf = malloc (size + 1);
    FZ_CHECK (buf);
    memcpy (buf, data, size);
    buf[size] = '\0';
    const char *f[S_FIELDS] = { 0 };
    char *p = buf;
    for (size_t i = 0; i < S_FIELDS && p <= buf + size; i++) {
        f[i] = p;
        p += strlen (p) + 1;
    }
    const char *url = f[0];
    for (int equipment = 0; equipment < 2; equipment++) {
        char owner[EL_KEY_TEXT_BYTES];
        const char *key = NULL;
        int r = el_http_route (url, equipment, owner, &key);
        FZ_CHECK (r == EL_HTTP_NOT_FOUND || r == EL_HTTP_TOO_LONG
                  || (r >= 0 && (size_t) r < el_http_routes_n));
        if (r == EL_HTTP_TOO_LONG)
            FZ_CHECK (strlen (url) > EL_HTTP_URL_MAX);
        if (r >= 0 && (size_t) r == el_http_routes_n - 1) {
            FZ_CHECK (equipment && strlen (owner) == EL_KEY_TEXT_BYTES - 1);
            FZ_CHECK (key >= url && key <= url + strlen (url));
        } else if (r >= 0) {
            FZ_CHECK (!strcmp (url, el_http_routes[r].path));
        }
    }
    (void) el_http_french (f[1]);
    const char *host = el_http_host (f[2]);
    if (host)
        FZ_CHECK (host == f[2] && strlen (host) <= 255
                  && strspn (host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.-:[]") == strlen (host));
    int weeks = el_http_weeks (f[3]);
    FZ_CHECK (weeks >= 1 && weeks <= EL_HTTP_WEEKS_MAX);

    el_http_snap_t snap;
    memset (&snap, 0, sizeof snap);
    el_http_query_t q = {
        .site = f[4], .category = f[5], .host = host, .french = el_http_french (f[1]),
        .equipment = true, .now_us = 1700000000000000, .weeks = weeks,
    };
    el_sb_t sb = { 0 };
    el_http_render_ics (&snap, &q, &sb);
    el_http_render_agenda (&snap, &q, false, &sb);
    el_http_render_agenda (&snap, &q, true, &sb);
    el_http_render_equipment (&snap, &q, &sb);
    el_http_render_sites (&snap, &q, &sb);
    FZ_CHECK (el_http_machine (&snap, &q) == NULL);
    free (sb.data);
    free (buf);
    return 0;
}
