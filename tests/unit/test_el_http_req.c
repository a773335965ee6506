/* test_el_http_req.c — the web endpoint's reading of a request: routes
 * (exact paths only, the machine routes only when machines are listed, the
 * machine page's OWNER and KEY, too-long paths), Accept-Language, Host and
 * weeks=. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "el_http.h"
#include "el_http_page.h"
#include "el_http_req.h"

static int
s_route (const char *url, bool equipment)
{
    char owner[EL_KEY_TEXT_BYTES];
    const char *key = NULL;
    int r = el_http_route (url, equipment, owner, &key);
    return r < 0 ? r : (int) el_http_routes[r].route;
}

static void
test_routes (void **state)
{
    (void) state;
    assert_int_equal (s_route ("/", false), EL_HTTP_HTML);
    assert_int_equal (s_route ("/agenda.ics", false), EL_HTTP_ICS);
    assert_int_equal (s_route ("/api/events", true), EL_HTTP_EVENTS_JSON);
    assert_int_equal (s_route ("/metrics", false), EL_HTTP_METRICS);
    assert_int_equal (s_route ("/equipment", true), EL_HTTP_EQUIP_HTML);
    assert_int_equal (s_route ("/equipment", false), EL_HTTP_NOT_FOUND);
    assert_int_equal (s_route ("/api/equipment", false), EL_HTTP_NOT_FOUND);
    assert_int_equal (s_route ("/api/equipment", true), EL_HTTP_EQUIP_JSON);
    /* exact paths: no prefix, suffix, dot segment or case games */
    const char *nf[] = { "", "//", "/metrics/", "/Metrics", "/api/events/../sites",
                         "/./", "/agenda.ics?x", "/equipment/", "/equipment/short/key", "x" };
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++)
        assert_int_equal (s_route (nf[i], true), EL_HTTP_NOT_FOUND);
}

static void
test_machine (void **state)
{
    (void) state;
    char url[128], owner[EL_KEY_TEXT_BYTES];
    const char *key = NULL;
    char id[EL_KEY_TEXT_BYTES];
    memset (id, 'Q', EL_KEY_TEXT_BYTES - 1);
    id[EL_KEY_TEXT_BYTES - 1] = '\0';
    snprintf (url, sizeof url, "/equipment/%s/laser/1", id);
    int r = el_http_route (url, true, owner, &key);
    assert_true (r >= 0);
    assert_int_equal (el_http_routes[r].route, EL_HTTP_MACHINE_HTML);
    assert_string_equal (owner, id);
    assert_string_equal (key, "laser/1");
    assert_int_equal (el_http_route (url, false, owner, &key), EL_HTTP_NOT_FOUND);
    snprintf (url, sizeof url, "/equipment/%s/", id);          /* empty KEY: the lookup's 404 */
    assert_true (el_http_route (url, true, owner, &key) >= 0);
    assert_string_equal (key, "");
    snprintf (url, sizeof url, "/equipment/%s", id);           /* no '/' after OWNER */
    assert_int_equal (el_http_route (url, true, owner, &key), EL_HTTP_NOT_FOUND);
}

static void
test_too_long (void **state)
{
    (void) state;
    static char url[EL_HTTP_URL_MAX + 2];
    char owner[EL_KEY_TEXT_BYTES];
    const char *key = NULL;
    memset (url, 'a', sizeof url - 1);
    url[0] = '/';
    url[EL_HTTP_URL_MAX + 1] = '\0';
    assert_int_equal (el_http_route (url, true, owner, &key), EL_HTTP_TOO_LONG);
    url[EL_HTTP_URL_MAX] = '\0';
    assert_int_equal (el_http_route (url, true, owner, &key), EL_HTTP_NOT_FOUND);
}

static void
test_headers (void **state)
{
    (void) state;
    assert_true (el_http_french (NULL));
    assert_true (el_http_french (""));
    assert_true (el_http_french ("fr-FR,fr;q=0.9,en;q=0.8"));
    assert_false (el_http_french ("en-GB,en;q=0.9"));
    assert_false (el_http_french ("fr;q=0.4, en;q=0.5"));
    assert_true (el_http_french ("de, it"));
    assert_true (el_http_french (",,,;q=,"));
    assert_string_equal (el_http_host ("example.org:8080"), "example.org:8080");
    assert_string_equal (el_http_host ("[::1]:80"), "[::1]:80");
    assert_null (el_http_host (NULL));
    assert_null (el_http_host (""));
    assert_null (el_http_host ("evil.org/\"><script>"));
    assert_null (el_http_host ("a b"));
    char big[300];
    memset (big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_null (el_http_host (big));
    big[255] = '\0';
    assert_non_null (el_http_host (big));
    assert_int_equal (el_http_weeks (NULL), EL_HTTP_WEEKS_DEFAULT);
    assert_int_equal (el_http_weeks (""), EL_HTTP_WEEKS_DEFAULT);
    assert_int_equal (el_http_weeks ("1"), 1);
    assert_int_equal (el_http_weeks ("12"), EL_HTTP_WEEKS_MAX);
    assert_int_equal (el_http_weeks ("13"), EL_HTTP_WEEKS_DEFAULT);
    assert_int_equal (el_http_weeks ("0"), EL_HTTP_WEEKS_DEFAULT);
    assert_int_equal (el_http_weeks ("3x"), EL_HTTP_WEEKS_DEFAULT);
    assert_int_equal (el_http_weeks ("99999999999999999999999"), EL_HTTP_WEEKS_DEFAULT);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_routes),
        cmocka_unit_test (test_machine),
        cmocka_unit_test (test_too_long),
        cmocka_unit_test (test_headers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
