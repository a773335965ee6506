/* test_el_ics.c — iCalendar import, export and recurrence expansion.
 *
 * Without arguments: the synthetic cases. With --real: the real files of
 * ../shared/data/real/ics only, or exit 77 (skipped) with a message when that
 * folder is absent; ctest runs both, as unit_test_el_ics and
 * unit_test_el_ics_real. Expected values for the real files were read from
 * the files by hand (see the comments). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libical/ical.h>

#include "el_ics.h"

#define US 1000000LL

/* ------------------------------------------------------------ helpers */

static int64_t
s_utc (int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = s };
    return (int64_t) timegm (&tm) * US;
}

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek (f, 0, SEEK_END) == 0) {
        long n = ftell (f);
        rewind (f);
        buf = malloc ((size_t) n + 1);
        if (buf && fread (buf, 1, (size_t) n, f) == (size_t) n) {
            buf[n] = '\0';
            *len = (size_t) n;
        } else {
            free (buf);
            buf = NULL;
        }
    }
    fclose (f);
    return buf;
}

static el_ics_import_t *
s_import_ok (const char *text)
{
    el_ics_import_t *imp = NULL;
    el_ics_error_t err = { 0 };
    int rc = el_ics_import (text, strlen (text), &imp, &err);
    if (rc != 0)
        fprintf (stderr, "import refused: rc=%d line=%u %s\n", rc, err.line, err.reason);
    assert_int_equal (rc, 0);
    assert_non_null (imp);
    return imp;
}

/* Replace a string field of a record (default strings are static). */
static void
s_replace (char **field, const char *value)
{
    if (*field != protobuf_c_empty_string)
        free (*field);
    *field = strdup (value);
    assert_non_null (*field);
}

static const El__Event *
s_find (const el_ics_import_t *imp, const char *uid, const char *rid)
{
    for (size_t i = 0; i < imp->n_events; i++) {
        const El__Event *e = imp->events[i];
        if (strcmp (e->uid, uid) == 0 && strcmp (e->recurrence_id, rid ? rid : "") == 0)
            return e;
    }
    return NULL;
}

static const El__Event *
s_find_summary (const el_ics_import_t *imp, const char *summary)
{
    for (size_t i = 0; i < imp->n_events; i++)
        if (strcmp (imp->events[i]->summary, summary) == 0)
            return imp->events[i];
    return NULL;
}

static bool
s_has_problem (const el_ics_import_t *imp, uint32_t line, bool skipped, const char *needle)
{
    for (size_t i = 0; i < imp->problems.n; i++) {
        const el_ics_problem_t *p = &imp->problems.items[i];
        if (p->line == line && p->skipped == skipped && strstr (p->reason, needle))
            return true;
    }
    return false;
}

static size_t
s_count_skipped (const el_ics_import_t *imp)
{
    size_t n = 0;
    for (size_t i = 0; i < imp->problems.n; i++)
        n += imp->problems.items[i].skipped;
    return n;
}

/* Independent UTF-8 check of one physical line. */
static bool
s_valid_utf8 (const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (k == 0 || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

/* Every physical line: CRLF-terminated, at most 75 octets, whole UTF-8
 * characters only (so no fold split a character). */
static void
s_check_lines (const char *text, size_t len)
{
    size_t start = 0;
    size_t lines = 0;
    while (start < len) {
        const char *nl = memchr (text + start, '\n', len - start);
        assert_non_null (nl);
        size_t end = (size_t) (nl - text);
        assert_true (end > start && text[end - 1] == '\r');
        size_t octets = end - 1 - start;
        assert_true (octets <= 75);
        const unsigned char *l = (const unsigned char *) text + start;
        size_t skip = (l[0] == ' ') ? 1 : 0;
        assert_true (s_valid_utf8 (l + skip, octets - skip));
        start = end + 1;
        lines++;
    }
    assert_true (lines > 0);
}

/* Event @p i of @p a and of @p b (its round trip) occur at the same
 * instants, overrides applied, over three years from its start. */
static void
s_same_occurrences (const el_ics_import_t *a, const el_ics_import_t *b, size_t i)
{
    enum { MAX = 2048 };
    static int64_t sa[MAX], sb[MAX];
    size_t na = 0, nb = 0;
    int64_t from = a->events[i]->dtstart_us - 86400 * US;
    int64_t to = a->events[i]->dtstart_us + 3 * 366 * 86400 * US;
    int ra = el_ics_expand (a->events[i], (const El__Event *const *) a->events, a->n_events,
                            from, to, sa, MAX, &na);
    int rb = el_ics_expand (b->events[i], (const El__Event *const *) b->events, b->n_events,
                            from, to, sb, MAX, &nb);
    assert_int_equal (ra, rb);
    if (ra < 0)
        return;     /* more than MAX in the window, or a rule libical cannot read: both */
    assert_int_equal (na, nb);
    for (size_t k = 0; k < na; k++)
        assert_int_equal (sa[k], sb[k]);
}

/* Export, check lines, parse back with libical and with us: same events,
 * the same occurrences. */
static void
s_roundtrip (const el_ics_import_t *imp)
{
    char *out = NULL;
    size_t len = 0, degraded = 99;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, imp->n_events,
                                     s_utc (2026, 11, 30, 0, 0, 0), &out, &len, &degraded),
                      0);
    assert_int_equal (degraded, 0);
    assert_int_equal (strlen (out), len);
    s_check_lines (out, len);

    icalcomponent *cal = icalparser_parse_string (out);
    assert_non_null (cal);
    assert_int_equal (icalcomponent_count_components (cal, ICAL_VEVENT_COMPONENT),
                      (int) imp->n_events);
    assert_int_equal (icalcomponent_count_errors (cal), 0);
    icalcomponent_free (cal);

    el_ics_import_t *back = s_import_ok (out);
    assert_int_equal (back->n_events, imp->n_events);
    assert_int_equal (back->problems.n, 0);
    for (size_t i = 0; i < imp->n_events; i++) {
        assert_true (el_ics_event_same (imp->events[i], back->events[i]));
        /* re-importing what we hold is a no-op */
        assert_false (el_ics_event_is_newer (imp->events[i], back->events[i]));
        s_same_occurrences (imp, back, i);
    }
    el_ics_import_destroy (&back);
    free (out);
}

static const char *
s_local_paris (int64_t us, struct tm *tm)
{
    time_t t = (time_t) (us / US);
    setenv ("TZ", "Europe/Paris", 1);
    tzset ();
    localtime_r (&t, tm);
    return "Europe/Paris";
}

/* A zone of the database is written from the year of its earliest event
 * on, not with its history since 1891; the times still read the same. */
static void
test_export_zone_years (void **state)
{
    (void) state;
    const char *text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                       "BEGIN:VEVENT\r\nUID:weekly-1830\r\nSUMMARY:Atelier du jeudi\r\n"
                       "DTSTART;TZID=Europe/Paris:20270304T183000\r\n"
                       "DTEND;TZID=Europe/Paris:20270304T203000\r\n"
                       "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 1);
    char *out = NULL;
    size_t len = 0, degraded = 99;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, 1, 0, &out, &len,
                                     &degraded),
                      0);
    const char *b = strstr (out, "BEGIN:VTIMEZONE\r\n");
    const char *e = b ? strstr (b, "END:VTIMEZONE\r\n") : NULL;
    assert_non_null (e);
    size_t lines = 0;
    for (const char *p = b; p < e; p++) {
        if (*p != '\n')
            continue;
        lines++;
        if (!strncmp (p + 1, "DTSTART:", 8))
            assert_true (strncmp (p + 9, "2027", 4) >= 0);   /* no observance before 2027 */
    }
    assert_true (lines < 40);
    assert_non_null (strstr (b, "TZID:Europe/Paris\r\n"));
    s_roundtrip (imp);
    free (out);
    el_ics_import_destroy (&imp);
}

/* ------------------------------------------------------------ DST */

static const char s_paris_vtz[] =
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Paris-Custom\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n";

static void
s_check_weekly_1830 (const char *tzid, bool with_vtz)
{
    char text[2048];
    snprintf (text, sizeof text,
              "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n%s"
              "BEGIN:VEVENT\r\nUID:weekly-1830\r\nSUMMARY:Atelier du jeudi\r\n"
              "DTSTART;TZID=%s:20270304T183000\r\nDTEND;TZID=%s:20270304T203000\r\n"
              "RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
              with_vtz ? s_paris_vtz : "", tzid, tzid);
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 1);
    assert_int_equal (imp->problems.n, 0);
    const El__Event *ev = imp->events[0];
    assert_string_equal (ev->tzid, tzid);
    /* 2027-03-04 18:30 CET = 17:30 UTC */
    assert_int_equal (ev->dtstart_us, s_utc (2027, 3, 4, 17, 30, 0));
    assert_int_equal (ev->dtend_us - ev->dtstart_us, 2 * 3600 * US);

    int64_t starts[64];
    size_t n = 0;
    /* March 1 to December 1 2027: crosses the last Sunday of March (28th)
     * and the last Sunday of October (31st). */
    assert_int_equal (el_ics_expand (ev, NULL, 0, s_utc (2027, 3, 1, 0, 0, 0),
                                     s_utc (2027, 12, 1, 0, 0, 0), starts, 64, &n),
                      0);
    assert_int_equal (n, 39);   /* Thursdays from March 4 to November 25 */
    for (size_t i = 0; i < n; i++) {
        struct tm tm;
        s_local_paris (starts[i], &tm);   /* glibc's zoneinfo, not libical */
        assert_int_equal (tm.tm_hour, 18);
        assert_int_equal (tm.tm_min, 30);
        assert_int_equal (tm.tm_wday, 4);
        if (i > 0)
            assert_true (starts[i] > starts[i - 1]);
    }
    /* around both changes, in UTC */
    assert_int_equal (starts[3], s_utc (2027, 3, 25, 17, 30, 0));
    assert_int_equal (starts[4], s_utc (2027, 4, 1, 16, 30, 0));
    assert_int_equal (starts[34], s_utc (2027, 10, 28, 16, 30, 0));
    assert_int_equal (starts[35], s_utc (2027, 11, 4, 17, 30, 0));
    s_roundtrip (imp);
    el_ics_import_destroy (&imp);
}

/* A rule no date satisfies (an eighth Thursday of the month) is refused
 * before libical's iterator, which would search for it for centuries. */
static void
test_expand_impossible_rule (void **state)
{
    (void) state;
    static const char *const rules[] = { "FREQ=MONTHLY;BYDAY=8TH", "FREQ=MONTHLY;BYDAY=-6MO",
                                         "FREQ=YEARLY;BYMONTH=3;BYDAY=7SU",
                                         "FREQ=YEARLY;BYDAY=54FR" };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        El__Event ev = EL__EVENT__INIT;
        ev.uid = (char *) "impossible";
        ev.dtstart_us = s_utc (2026, 1, 8, 0, 0, 0);
        ev.rrule = (char *) rules[i];
        int64_t starts[8];
        size_t n = 99;
        assert_int_equal (el_ics_expand (&ev, NULL, 0, 0, INT64_MAX, starts, 8, &n), EL_EINVAL);
    }
    /* the largest ordinals that exist are still expanded */
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) "fifth";
    ev.dtstart_us = s_utc (2027, 1, 29, 10, 0, 0);      /* a fifth Friday */
    ev.rrule = (char *) "FREQ=MONTHLY;BYDAY=5FR;COUNT=3";
    int64_t starts[8];
    size_t n = 0;
    assert_int_equal (el_ics_expand (&ev, NULL, 0, 0, INT64_MAX, starts, 8, &n), 0);
    assert_int_equal (n, 3);
    assert_int_equal (starts[1], s_utc (2027, 4, 30, 10, 0, 0));
}

/* A series begun long ago lists its occurrences in a window years later:
 * the walk does not start at DTSTART (set_start for DAILY and longer, a
 * DTSTART moved by whole intervals for sub-daily rules without BYxxx), and
 * gives what a walk from DTSTART gives (the same rule with a COUNT never
 * reached, which always walks from DTSTART), within EL_ICS_EXPAND_STEPS. */
static void
test_expand_far_from_dtstart (void **state)
{
    (void) state;
    static const struct {
        const char *rule, *tzid;
        int year;               /* DTSTART's year (Jan 1st), 09:30 in tzid */
    } cases[] = {
        { "FREQ=HOURLY", "Europe/Paris", 2011 },
        { "FREQ=MINUTELY;INTERVAL=7", "Europe/Paris", 2025 },
        { "FREQ=HOURLY;INTERVAL=5", "America/New_York", 2005 },
        { "FREQ=SECONDLY;INTERVAL=37", "", 2027 },
        { "FREQ=DAILY;INTERVAL=3", "Europe/Paris", 1990 },
        { "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", "Europe/Paris", 1990 },
        { "FREQ=MONTHLY;BYDAY=-1SU", "Pacific/Kiritimati", 1990 },
        { "FREQ=DAILY;BYHOUR=9,14;BYMINUTE=0,30", "Europe/Paris", 2000 },
        { "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", "", 1990 },
        { "FREQ=HOURLY;BYHOUR=9,17", "Europe/Paris", 2010 },    /* walked from DTSTART */
        /* Lord Howe moves its clocks by 30 minutes: a 15-minute grid survives
         * it, a 20-minute one is walked from DTSTART */
        { "FREQ=MINUTELY;INTERVAL=15", "Australia/Lord_Howe", 2024 },
        { "FREQ=MINUTELY;INTERVAL=20", "Australia/Lord_Howe", 2024 },
    };
    /* a week across the change to summer time in Europe */
    const int64_t from = s_utc (2027, 3, 25, 0, 0, 0), to = s_utc (2027, 4, 1, 0, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        El__Event ev = EL__EVENT__INIT;
        ev.uid = (char *) "far";
        ev.tzid = (char *) cases[i].tzid;
        ev.dtstart_us = s_utc (cases[i].year, 1, 1, 8, 30, 0);
        ev.dtend_us = ev.dtstart_us + 10 * 60 * US;
        ev.rrule = (char *) cases[i].rule;
        enum { MAX = 20000 };
        int64_t *got = calloc (MAX, sizeof *got), *want = calloc (MAX, sizeof *want);
        assert_non_null (got);
        assert_non_null (want);
        size_t n_got = 0, n_want = 0;
        assert_int_equal (el_ics_expand (&ev, NULL, 0, from, to, got, MAX, &n_got), 0);
        char counted[128];
        snprintf (counted, sizeof counted, "%s;COUNT=100000000", cases[i].rule);
        ev.rrule = counted;
        int rc = el_ics_expand (&ev, NULL, 0, from, to, want, MAX, &n_want);
        if (rc == 0) {
            assert_int_equal (n_got, n_want);
            assert_memory_equal (got, want, n_got * sizeof *got);
        } else {
            assert_int_equal (rc, EL_ETOOBIG);  /* too far to walk: the rule alone can */
        }
        assert_true (n_got > 0);
        free (got);
        free (want);
    }
    /* hourly since 2000 (236,000 steps from DTSTART): 24 a day in 2027 */
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) "hourly2000";
    ev.dtstart_us = s_utc (2000, 1, 1, 0, 30, 0);
    ev.dtend_us = ev.dtstart_us + 10 * 60 * US;
    ev.rrule = (char *) "FREQ=HOURLY";
    int64_t starts[64];
    size_t n = 0;
    assert_int_equal (el_ics_expand (&ev, NULL, 0, s_utc (2027, 1, 10, 0, 0, 0),
                                     s_utc (2027, 1, 11, 0, 0, 0), starts, 64, &n), 0);
    assert_int_equal (n, 24);
    assert_int_equal (starts[0], s_utc (2027, 1, 10, 0, 30, 0));
    /* 77 years of hours before the window (over 2^31 seconds) */
    ev.dtstart_us = s_utc (1950, 1, 1, 0, 30, 0);
    ev.dtend_us = ev.dtstart_us + 10 * 60 * US;
    assert_int_equal (el_ics_expand (&ev, NULL, 0, s_utc (2027, 1, 10, 0, 0, 0),
                                     s_utc (2027, 1, 11, 0, 0, 0), starts, 64, &n), 0);
    assert_int_equal (n, 24);
    assert_int_equal (starts[23], s_utc (2027, 1, 10, 23, 30, 0));
}

/* A wall time that occurs twice (clocks set back) is its first occurrence
 * (RFC 5545 §3.3.5), as DTSTART and in a series. */
static void
test_ambiguous_time_is_first (void **state)
{
    (void) state;
    el_ics_import_t *imp = s_import_ok (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        "UID:night@t\r\nDTSTAMP:20270101T000000Z\r\n"
        "DTSTART;TZID=Europe/Paris:20271031T023000\r\n"
        "DTEND;TZID=Europe/Paris:20271031T024500\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:daily@t\r\nDTSTAMP:20270101T000000Z\r\n"
        "DTSTART;TZID=Europe/Paris:20271025T023000\r\nRRULE:FREQ=DAILY;COUNT=10\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n");
    assert_int_equal (imp->n_events, 2);
    /* 02:30 CEST (+02:00), not 02:30 CET (+01:00) */
    assert_int_equal (imp->events[0]->dtstart_us, s_utc (2027, 10, 31, 0, 30, 0));
    int64_t starts[16];
    size_t n = 0;
    assert_int_equal (el_ics_expand (imp->events[1], NULL, 0, s_utc (2027, 10, 30, 12, 0, 0),
                                     s_utc (2027, 11, 1, 12, 0, 0), starts, 16, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (starts[0], s_utc (2027, 10, 31, 0, 30, 0));     /* the first 02:30 */
    assert_int_equal (starts[1], s_utc (2027, 11, 1, 1, 30, 0));      /* CET again */
    el_ics_import_destroy (&imp);
}

static void
test_dst_weekly_builtin_zone (void **state)
{
    (void) state;
    s_check_weekly_1830 ("Europe/Paris", false);   /* no VTIMEZONE: builtin zone */
}

static void
test_dst_weekly_custom_vtimezone (void **state)
{
    (void) state;
    s_check_weekly_1830 ("Paris-Custom", true);    /* only the file's VTIMEZONE */
}

/* ------------------------------------------------------------ times */

static void
test_time_forms (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\nVERSION:2.0\n"
        "BEGIN:VEVENT\nUID:utc\nDTSTART:20261201T100000Z\nDTEND:20261201T120000Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:floating\nDTSTART:20261201T100000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:allday\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261226\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:allday-noend\nDTSTART;VALUE=DATE:20270101\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:dur-dst\nDTSTART;TZID=Europe/Paris:20270327T100000\nDURATION:P1D\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:dur-hours\nDTSTART;TZID=Europe/Paris:20261201T100000\nDURATION:PT1H30M\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:unknown-zone\nDTSTART;TZID=Mars/Olympus:20261201T100000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:end-before\nDTSTART:20261201T100000Z\nDTEND:20261201T090000Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:tzid-utc\nDTSTART;TZID=UTC:20261201T100000\nEND:VEVENT\n"
        "END:VCALENDAR\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 8);

    const El__Event *e = s_find (imp, "utc", NULL);
    assert_int_equal (e->dtstart_us, s_utc (2026, 12, 1, 10, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2026, 12, 1, 12, 0, 0));
    assert_string_equal (e->tzid, "");
    assert_false (e->floating);

    e = s_find (imp, "floating", NULL);
    assert_true (e->floating);
    assert_int_equal (e->dtstart_us, s_utc (2026, 12, 1, 10, 0, 0));
    assert_int_equal (e->dtend_us, 0);

    e = s_find (imp, "allday", NULL);
    assert_true (e->all_day);
    assert_int_equal (e->dtstart_us, s_utc (2026, 12, 24, 0, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2026, 12, 26, 0, 0, 0));   /* exclusive */

    e = s_find (imp, "allday-noend", NULL);
    assert_true (e->all_day);
    assert_int_equal (e->dtend_us, 0);

    /* P1D is a nominal day: 10:00 CET Saturday to 10:00 CEST Sunday = 23 h */
    e = s_find (imp, "dur-dst", NULL);
    assert_int_equal (e->dtstart_us, s_utc (2027, 3, 27, 9, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2027, 3, 28, 8, 0, 0));

    e = s_find (imp, "dur-hours", NULL);
    assert_int_equal (e->dtend_us - e->dtstart_us, 90 * 60 * US);

    e = s_find (imp, "unknown-zone", NULL);
    assert_true (e->floating);
    assert_string_equal (e->tzid, "");
    assert_int_equal (e->dtstart_us, s_utc (2026, 12, 1, 10, 0, 0));
    assert_true (s_has_problem (imp, 33, false, "unknown time zone \"Mars/Olympus\""));

    e = s_find (imp, "tzid-utc", NULL);
    assert_string_equal (e->tzid, "");
    assert_false (e->floating);
    assert_int_equal (e->dtstart_us, s_utc (2026, 12, 1, 10, 0, 0));

    /* an end before the start is refused, not dropped (RFC 5545 §3.8.2.2) */
    assert_null (s_find (imp, "end-before", NULL));
    assert_true (s_has_problem (imp, 38, true, "DTEND before DTSTART"));
    assert_int_equal (imp->problems.n, 2);

    s_roundtrip (imp);
    el_ics_import_destroy (&imp);
}

/* ------------------------------------------------------------ text */

static void
test_text_escapes_bom_folding (void **state)
{
    (void) state;
    /* BOM, CRLF, a fold with a TAB, a fold inside a UTF-8 character (é),
     * escapes \, \; \\ \n \N, emoji. */
    const char *text =
        "\xEF\xBB\xBF" "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:txt-1\r\nDTSTART:20261201T100000Z\r\n"
        "SUMMARY:Caf\xC3\r\n \xA9 r\xC3\xA9parations \xF0\x9F\x94\xA7\r\n"
        "DESCRIPTION:Ligne 1\\nLigne 2\\NLigne 3\\, avec virgule\\; point-virgule\r\n"
        "\t et barre \\\\ fin\r\n"
        "LOCATION:Salle \"Cout\xC3\xA9lerie\"\r\n"
        "CATEGORIES:Atelier,Impression 3D\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 1);
    assert_int_equal (imp->problems.n, 0);
    const El__Event *e = imp->events[0];
    assert_string_equal (e->summary, "Caf\xC3\xA9 r\xC3\xA9parations \xF0\x9F\x94\xA7");
    assert_string_equal (e->description,
                         "Ligne 1\nLigne 2\nLigne 3, avec virgule; point-virgule et barre \\ fin");
    assert_string_equal (e->location, "Salle \"Cout\xC3\xA9lerie\"");
    assert_string_equal (e->category, "Atelier");
    s_roundtrip (imp);
    el_ics_import_destroy (&imp);
}

static const char *
s_ext (const El__Event *e, const char *key)
{
    for (size_t i = 0; i < e->n_extensions; i++)
        if (strcmp (e->extensions[i]->key, key) == 0)
            return e->extensions[i]->value;
    return NULL;
}

/* Every CATEGORIES value, from one line or several, a comma inside a value
 * included, is exported again; the first is the category. */
static void
test_categories_all_values (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:cat-1\r\nDTSTART:20261201T100000Z\r\n"
        "CATEGORIES:Atelier,Impression 3D\r\nCATEGORIES:Soir\\, week-end\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:cat-2\r\nDTSTART:20261202T100000Z\r\n"
        "CATEGORIES:Seul\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 2);
    assert_int_equal (imp->problems.n, 0);
    El__Event *e = imp->events[0];
    assert_string_equal (e->category, "Atelier");
    assert_string_equal (s_ext (e, EL_ICS_EXT_CATEGORIES), "Atelier,Impression 3D,Soir\\, week-end");
    /* one value: nothing more kept */
    assert_string_equal (imp->events[1]->category, "Seul");
    assert_null (s_ext (imp->events[1], EL_ICS_EXT_CATEGORIES));

    char *out = NULL;
    size_t len = 0;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, imp->n_events, 0,
                                     &out, &len, NULL), 0);
    assert_non_null (strstr (out, "\r\nCATEGORIES:Atelier,Impression 3D,Soir\\, week-end\r\n"));
    assert_non_null (strstr (out, "\r\nCATEGORIES:Seul\r\n"));
    free (out);
    s_roundtrip (imp);

    /* the category edited since: the others are not written back */
    s_replace (&e->category, "Autre");
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, 1, 0, &out, &len,
                                     NULL), 0);
    assert_non_null (strstr (out, "\r\nCATEGORIES:Autre\r\n"));
    assert_null (strstr (out, "Impression"));
    free (out);
    el_ics_import_destroy (&imp);
}

/* An end given as DURATION is exported as DURATION, a day across the change
 * to summer time included (23 hours, still P1D); once the end is moved,
 * DTEND. */
static void
test_duration_as_written (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:dur-1\r\nDTSTART;TZID=Europe/Paris:20270312T183000\r\n"
        "DURATION:PT1H30M\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:dur-2\r\nDTSTART;TZID=Europe/Paris:20270327T120000\r\n"
        "DURATION:P1D\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:dur-3\r\nDTSTART:20270301T100000Z\r\n"
        "DTEND:20270301T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 3);
    assert_int_equal (imp->problems.n, 0);
    El__Event *e = imp->events[0];
    assert_int_equal (e->dtend_us - e->dtstart_us, INT64_C (5400) * 1000000);
    assert_int_equal (imp->events[1]->dtend_us - imp->events[1]->dtstart_us,
                      INT64_C (23 * 3600) * 1000000);
    assert_null (s_ext (imp->events[2], EL_ICS_EXT_DURATION));

    char *out = NULL;
    size_t len = 0;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, imp->n_events, 0,
                                     &out, &len, NULL), 0);
    assert_non_null (strstr (out, "\r\nDURATION:PT1H30M\r\n"));
    assert_non_null (strstr (out, "\r\nDURATION:P1D\r\n"));
    assert_non_null (strstr (out, "\r\nDTEND:20270301T110000Z\r\n"));
    /* one DTEND only: the event that had one */
    assert_null (strstr (strstr (out, "DTEND") + 1, "DTEND"));
    free (out);
    s_roundtrip (imp);

    /* the end moved since: DTEND, at the new end */
    e->dtend_us += INT64_C (1800) * 1000000;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, 1, 0, &out, &len,
                                     NULL), 0);
    assert_null (strstr (out, "DURATION"));
    assert_non_null (strstr (out, "\r\nDTEND;TZID=Europe/Paris:20270312T203000\r\n"));
    free (out);
    el_ics_import_destroy (&imp);
}

/* ------------------------------------------------------------ refused files */

typedef struct {
    const char *text;
    size_t len;           /* 0 = strlen */
    int rc;
    uint32_t line;
    const char *needle;
} s_bad_t;

static void
test_refused_files (void **state)
{
    (void) state;
    static const char nul[] = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:a\0b\nEND:VEVENT\nEND:VCALENDAR\n";
    char deep[512] = "";
    for (int i = 0; i < 9; i++)
        strcat (deep, "BEGIN:VX\n");
    for (int i = 0; i < 9; i++)
        strcat (deep, "END:VX\n");
    const s_bad_t cases[] = {
        { "", 0, EL_EINVAL, 0, "empty" },
        { "hello\nworld\n", 0, EL_EINVAL, 1, "not iCalendar" },
        { "\n\n", 0, EL_EINVAL, 0, "not iCalendar" },
        { nul, sizeof nul - 1, EL_EINVAL, 3, "NUL" },
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nSUMMARY:a\x07\nEND:VEVENT\nEND:VCALENDAR\n", 0,
          EL_EINVAL, 4, "control character 0x07" },
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:\xC3\x28\nEND:VEVENT\nEND:VCALENDAR\n", 0,
          EL_EINVAL, 3, "not UTF-8" },
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:\xED\xA0\x80\nEND:VEVENT\nEND:VCALENDAR\n", 0,
          EL_EINVAL, 3, "not UTF-8" },   /* a UTF-16 surrogate */
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", 0, EL_EINVAL, 3,
          "END:VTODO does not close BEGIN:VEVENT of line 2" },
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VEVENT\n", 0, EL_EINVAL, 1,
          "BEGIN:VCALENDAR is never closed" },
        { "END:VEVENT\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", 0, EL_EINVAL, 1, "without a matching BEGIN" },
        { deep, 0, EL_EINVAL, 9, "nested deeper" },
        { "BEGIN:VCALENDAR\rEND:VCALENDAR\r", 0, EL_EINVAL, 1, "carriage return" },
        { "X-FOO:1\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", 0, EL_EINVAL, 1, "expected BEGIN:VCALENDAR" },
        { "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VEVENT\n\n BEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n", 0,
          EL_EINVAL, 5, "continuation of an empty line" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        el_ics_import_t *imp = NULL;
        el_ics_error_t err = { 0 };
        size_t len = cases[i].len ? cases[i].len : strlen (cases[i].text);
        int rc = el_ics_import (cases[i].text, len, &imp, &err);
        if (rc != cases[i].rc || err.line != cases[i].line || !strstr (err.reason, cases[i].needle))
            fprintf (stderr, "case %zu: rc=%d line=%u reason=%s\n", i, rc, err.line, err.reason);
        assert_int_equal (rc, cases[i].rc);
        assert_null (imp);
        assert_int_equal (err.line, cases[i].line);
        assert_non_null (strstr (err.reason, cases[i].needle));
    }

    /* over the size cap */
    size_t big = EL_ICS_MAX_BYTES + 1;
    char *buf = malloc (big);
    assert_non_null (buf);
    memset (buf, 'A', big);
    el_ics_import_t *imp = NULL;
    el_ics_error_t err = { 0 };
    assert_int_equal (el_ics_import (buf, big, &imp, &err), EL_ETOOBIG);
    assert_null (imp);
    free (buf);
}

/* ------------------------------------------------------------ broken events */

static void
test_broken_events_skipped (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\n"                     /* 1 */
        "VERSION:2.0\n"                         /* 2 */
        "BEGIN:VEVENT\n"                        /* 3 */
        "UID:good-1\n"                          /* 4 */
        "DTSTART:20261201T100000Z\n"            /* 5 */
        "SUMMARY:Bon\n"                         /* 6 */
        "END:VEVENT\n"                          /* 7 */
        "BEGIN:VEVENT\n"                        /* 8 */
        "UID:bad-dtstart\n"                     /* 9 */
        "SUMMARY:Mauvais\n"                     /* 10 */
        "DTSTART:2026XX01T100000Z\n"            /* 11 */
        "END:VEVENT\n"                          /* 12 */
        "BEGIN:VEVENT\n"                        /* 13 */
        "UID:bad-rrule\n"                       /* 14 */
        "DTSTART:20261201T100000Z\n"            /* 15 */
        "RRULE:FREQ=WEEKLY;BYDAY=XX\n"          /* 16 */
        "END:VEVENT\n"                          /* 17 */
        "BEGIN:VEVENT\n"                        /* 18 */
        "UID:no-start\n"                        /* 19 */
        "SUMMARY:x\n"                           /* 20 */
        "END:VEVENT\n"                          /* 21 */
        "BEGIN:VEVENT\n"                        /* 22 */
        "UID:bad-exdate\n"                      /* 23 */
        "DTSTART:20261201T100000Z\n"            /* 24 */
        "RRULE:FREQ=DAILY;COUNT=3\n"            /* 25 */
        "EXDATE:2026\n"                         /* 26 */
        "END:VEVENT\n"                          /* 27 */
        "BEGIN:VEVENT\n"                        /* 28 */
        "UID:good-2\n"                          /* 29 */
        "DTSTART;VALUE=DATE:20261224\n"         /* 30 */
        "DTSTAMP;VALUE=DATE:20261201\n"         /* 31: not imported, so no problem */
        "DESCRIPTION:\n"                        /* 32: empty text is fine */
        "SEQUENCE:-2\n"                         /* 33 */
        "END:VEVENT\n"                          /* 34 */
        "END:VCALENDAR\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 2);
    assert_string_equal (imp->events[0]->uid, "good-1");
    assert_string_equal (imp->events[1]->uid, "good-2");
    assert_int_equal (imp->lines[0], 3);
    assert_int_equal (imp->lines[1], 28);
    assert_int_equal (imp->events[1]->sequence, 0);
    assert_true (s_has_problem (imp, 11, true, "DTSTART"));
    assert_true (s_has_problem (imp, 16, true, "RRULE"));
    assert_true (s_has_problem (imp, 18, true, "no DTSTART"));
    assert_true (s_has_problem (imp, 26, true, "EXDATE"));
    assert_true (s_has_problem (imp, 33, false, "negative SEQUENCE"));
    assert_int_equal (imp->problems.n, 5);
    assert_int_equal (s_count_skipped (imp), 4);
    el_ics_import_destroy (&imp);
}

/* ------------------------------------------------------------ uid, duplicates */

static void
test_uid_derived_and_duplicates (void **state)
{
    (void) state;
    const char *a = "BEGIN:VEVENT\nDTSTART:20261201T100000Z\nSUMMARY:Sans UID\nEND:VEVENT\n";
    const char *b = "BEGIN:VEVENT\nDTSTART:20261201T100000Z\nSUMMARY:Sans UID!\nEND:VEVENT\n";
    el_ics_import_t *i1 = s_import_ok (a), *i2 = s_import_ok (a), *i3 = s_import_ok (b);
    assert_int_equal (i1->n_events, 1);
    assert_string_equal (i1->events[0]->uid, i2->events[0]->uid);   /* stable */
    assert_string_not_equal (i1->events[0]->uid, i3->events[0]->uid);
    assert_int_equal (strncmp (i1->events[0]->uid, "el-", 3), 0);
    assert_non_null (strstr (i1->events[0]->uid, "@entrelab"));
    el_ics_import_destroy (&i1);
    el_ics_import_destroy (&i2);
    el_ics_import_destroy (&i3);

    const char *dup =
        "BEGIN:VCALENDAR\n"                                     /* 1 */
        "BEGIN:VEVENT\nUID:dup\nSEQUENCE:2\nDTSTART:20261201T100000Z\nSUMMARY:v2\nEND:VEVENT\n" /* 2..7 */
        "BEGIN:VEVENT\nUID:dup\nSEQUENCE:1\nDTSTART:20261201T100000Z\nSUMMARY:v1\nEND:VEVENT\n" /* 8..13 */
        "BEGIN:VEVENT\nUID:dup\nSEQUENCE:2\nLAST-MODIFIED:20261202T000000Z\n"
        "DTSTART:20261201T110000Z\nSUMMARY:v2b\nEND:VEVENT\n"  /* 14..20 */
        "BEGIN:VEVENT\nUID:dup\nRECURRENCE-ID:20261208T100000Z\nDTSTART:20261208T120000Z\n"
        "SUMMARY:override\nEND:VEVENT\n"                       /* 21..26 */
        "END:VCALENDAR\n";
    el_ics_import_t *imp = s_import_ok (dup);
    assert_int_equal (imp->n_events, 2);
    assert_string_equal (s_find (imp, "dup", NULL)->summary, "v2b");
    assert_string_equal (s_find (imp, "dup", "20261208T100000Z")->summary, "override");
    assert_true (s_has_problem (imp, 2, true, "also at line 14"));
    assert_true (s_has_problem (imp, 8, true, "also at line 14"));
    assert_int_equal (imp->problems.n, 2);

    char key[EL_RECORD_KEY_MAX + 1];
    assert_int_equal (el_ics_event_key (s_find (imp, "dup", NULL), key, sizeof key), 0);
    assert_string_equal (key, "dup");
    assert_int_equal (el_ics_event_key (s_find (imp, "dup", "20261208T100000Z"), key, sizeof key), 0);
    assert_string_equal (key, "dup#20261208T100000Z");
    El__Event *big = el_ics_event_dup (imp->events[0]);
    assert_non_null (big);
    char longuid[251];
    memset (longuid, 'u', 250);
    longuid[250] = '\0';
    s_replace (&big->uid, longuid);
    assert_int_equal (el_ics_event_key (big, key, sizeof key), 0);
    assert_int_equal (strncmp (key, "uid-b2:", 7), 0);
    assert_int_equal (strlen (key), 7 + 32);
    el_ics_event_destroy (&big);
    el_ics_event_destroy (&big);   /* harmless twice */
    el_ics_import_destroy (&imp);
    el_ics_import_destroy (&imp);
}

static void
test_is_newer (void **state)
{
    (void) state;
    El__Event a = EL__EVENT__INIT, b = EL__EVENT__INIT;
    a.sequence = 1;
    b.sequence = 1;
    assert_false (el_ics_event_is_newer (&a, &b));        /* same: no-op */
    b.last_modified_us = 5;
    assert_true (el_ics_event_is_newer (&a, &b));         /* edited later */
    assert_false (el_ics_event_is_newer (&b, &a));
    a.sequence = 2;
    assert_false (el_ics_event_is_newer (&a, &b));        /* sequence wins over time */
    b.sequence = 3;
    b.last_modified_us = 0;
    a.last_modified_us = 99;
    assert_true (el_ics_event_is_newer (&a, &b));
}

/* ------------------------------------------------------------ export */

static void
test_export_form_and_folding (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\nVERSION:2.0\n"
        "BEGIN:VEVENT\nUID:exp-1\nDTSTART;TZID=Europe/Paris:20261209T183000\n"
        "DTEND;TZID=Europe/Paris:20261209T203000\nRRULE:FREQ=WEEKLY;COUNT=10\n"
        "EXDATE;TZID=Europe/Paris:20261230T183000\nSUMMARY:Initiation impression 3D\n"
        "STATUS:CANCELLED\nSEQUENCE:4\nLAST-MODIFIED:20261120T101500Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:exp-2\nDTSTART;TZID=America/New_York:20261210T090000\nSUMMARY:NY\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:exp-3\nDTSTART;VALUE=DATE:20270115\nDTEND;VALUE=DATE:20270116\n"
        "SUMMARY:Journ\xC3\xA9" "e coutellerie\nEND:VEVENT\n"
        "END:VCALENDAR\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 3);
    El__Event *e = imp->events[0];
    /* a long UTF-8 description, a category with a comma, capacity, site */
    char desc[2048] = "";
    for (int i = 0; i < 6; i++)
        strcat (desc, "D\xC3\xA9" "coupe laser, fraiseuse num\xC3\xA9rique ; venez d\xC3\xA9"
                      "couvrir l'atelier \xF0\x9F\x94\xA7\xF0\x9F\xAA\x9A\xE2\x9C\xA8 \xE2\x80\x94 ");
    strcat (desc, "fin");   /* libical trims trailing white space of a value */
    s_replace (&e->description, desc);
    s_replace (&e->category, "Atelier, formation");
    e->capacity = 12;
    e->site.data = malloc (32);
    memset (e->site.data, 0xAB, 32);
    e->site.len = 32;

    char *out = NULL;
    size_t len = 0, degraded = 0;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, imp->n_events,
                                     s_utc (2026, 11, 30, 0, 0, 0), &out, &len, &degraded),
                      0);
    assert_int_equal (degraded, 0);
    s_check_lines (out, len);
    assert_non_null (strstr (out, "\r\nSTATUS:CANCELLED\r\n"));
    assert_non_null (strstr (out, "\r\nSEQUENCE:4\r\n"));
    assert_non_null (strstr (out, "\r\nDTSTART;TZID=Europe/Paris:20261209T183000\r\n"));
    assert_non_null (strstr (out, "\r\nDTSTART;VALUE=DATE:20270115\r\n"));
    assert_non_null (strstr (out, "\r\nTZID:Europe/Paris\r\n"));
    assert_non_null (strstr (out, "\r\nTZID:America/New_York\r\n"));
    assert_non_null (strstr (out, "\r\nCATEGORIES:Atelier\\, formation\r\n"));
    assert_non_null (strstr (out, "\r\nX-ENTRELAB-CAPACITY:12\r\n"));
    /* two zones used: two VTIMEZONEs */
    size_t vtz = 0;
    for (const char *p = out; (p = strstr (p, "BEGIN:VTIMEZONE")); p++)
        vtz++;
    assert_int_equal (vtz, 2);
    free (out);
    s_roundtrip (imp);

    el_ics_import_t *back = NULL;
    el_ics_error_t err;
    assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, 1, 0, &out, &len, NULL), 0);
    assert_int_equal (el_ics_import (out, len, &back, &err), 0);
    assert_string_equal (back->events[0]->category, "Atelier, formation");
    assert_int_equal (back->events[0]->capacity, 12);
    assert_int_equal (back->events[0]->status, EL__EVENT_STATUS__CANCELLED);
    assert_int_equal (back->events[0]->site.len, 32);
    el_ics_import_destroy (&back);
    free (out);
    el_ics_import_destroy (&imp);
}

static void
test_export_sanitizes_foreign_records (void **state)
{
    (void) state;
    /* records from peers are validated here: control bytes, bad UTF-8, a
     * zone nobody knows, an unreadable rrule */
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) "foreign-1";
    ev.summary = (char *) "bad\x01text\xC3";
    ev.dtstart_us = s_utc (2026, 12, 5, 9, 0, 0);
    ev.tzid = (char *) "Nowhere/Atlantis";
    ev.rrule = (char *) "FREQ=SOMETIMES";
    const El__Event *list[] = { &ev };
    char *out = NULL;
    size_t len = 0, degraded = 0;
    assert_int_equal (el_ics_export (list, 1, s_utc (2026, 11, 30, 0, 0, 0), &out, &len, &degraded), 0);
    assert_int_equal (degraded, 1);
    s_check_lines (out, len);
    assert_non_null (strstr (out, "DTSTART:20261205T090000Z"));   /* written in UTC */
    assert_null (strstr (out, "RRULE"));
    el_ics_import_t *imp = s_import_ok (out);
    assert_int_equal (imp->n_events, 1);
    assert_string_equal (imp->events[0]->summary, "bad\xEF\xBF\xBDtext\xEF\xBF\xBD");
    assert_int_equal (imp->events[0]->dtstart_us, ev.dtstart_us);
    el_ics_import_destroy (&imp);
    free (out);

    /* a date no calendar can write */
    ev.dtstart_us = INT64_MAX;
    ev.tzid = (char *) "";
    ev.rrule = (char *) "";
    assert_int_equal (el_ics_export (list, 1, 0, &out, &len, &degraded), 0);
    assert_int_equal (degraded, 1);
    assert_null (strstr (out, "BEGIN:VEVENT"));
    free (out);
}

/* ------------------------------------------------------------ expansion */

static void
test_expand_rdate_exdate_overrides (void **state)
{
    (void) state;
    const char *text =
        "BEGIN:VCALENDAR\n"
        "BEGIN:VEVENT\nUID:r\nDTSTART;TZID=Europe/Paris:20261201T100000\nDTEND;TZID=Europe/Paris:20261201T110000\n"
        "RRULE:FREQ=DAILY;COUNT=5\nEXDATE;TZID=Europe/Paris:20261203T100000\n"
        "RDATE;TZID=Europe/Paris:20261210T150000\nRDATE:20261201T090000Z\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:r\nRECURRENCE-ID;TZID=Europe/Paris:20261204T100000\n"
        "DTSTART;TZID=Europe/Paris:20261204T140000\nDTEND;TZID=Europe/Paris:20261204T150000\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20261201\nRRULE:FREQ=WEEKLY;COUNT=4\n"
        "EXDATE;VALUE=DATE:20261208\nEND:VEVENT\n"
        "END:VCALENDAR\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 3);
    const El__Event *master = s_find (imp, "r", NULL);
    const El__Event *ov = s_find (imp, "r", "20261204T090000Z");
    assert_non_null (master);
    assert_non_null (ov);
    assert_string_equal (master->exdate[0], "20261203T090000Z");
    assert_string_equal (master->rdate[0], "20261210T140000Z");
    assert_string_equal (master->rdate[1], "20261201T090000Z");   /* = DTSTART: once */

    int64_t s[16];
    size_t n = 0;
    int64_t from = s_utc (2026, 11, 1, 0, 0, 0), to = s_utc (2027, 1, 1, 0, 0, 0);
    const El__Event *ovs[] = { ov };
    assert_int_equal (el_ics_expand (master, ovs, 1, from, to, s, 16, &n), 0);
    assert_int_equal (n, 4);
    assert_int_equal (s[0], s_utc (2026, 12, 1, 9, 0, 0));
    assert_int_equal (s[1], s_utc (2026, 12, 2, 9, 0, 0));
    assert_int_equal (s[2], s_utc (2026, 12, 5, 9, 0, 0));   /* 3rd excluded, 4th overridden */
    assert_int_equal (s[3], s_utc (2026, 12, 10, 14, 0, 0));
    assert_int_equal (el_ics_expand (master, NULL, 0, from, to, s, 16, &n), 0);
    assert_int_equal (n, 5);                                  /* the 4th comes back */
    assert_int_equal (el_ics_expand (ov, NULL, 0, from, to, s, 16, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (s[0], s_utc (2026, 12, 4, 13, 0, 0));

    /* the window cuts: overlap, not just start */
    assert_int_equal (el_ics_expand (master, NULL, 0, s_utc (2026, 12, 2, 9, 30, 0),
                                     s_utc (2026, 12, 4, 9, 0, 0), s, 16, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (s[0], s_utc (2026, 12, 2, 9, 0, 0));

    /* too many for the caller's array; bad window */
    assert_int_equal (el_ics_expand (master, NULL, 0, from, to, s, 2, &n), EL_ETOOBIG);
    assert_int_equal (el_ics_expand (master, NULL, 0, to, from, s, 16, &n), EL_EINVAL);

    /* all-day weekly with a DATE exdate */
    const El__Event *d = s_find (imp, "d", NULL);
    assert_int_equal (el_ics_expand (d, NULL, 0, from, to, s, 16, &n), 0);
    assert_int_equal (n, 3);
    assert_int_equal (s[0], s_utc (2026, 12, 1, 0, 0, 0));
    assert_int_equal (s[1], s_utc (2026, 12, 15, 0, 0, 0));
    assert_int_equal (s[2], s_utc (2026, 12, 22, 0, 0, 0));
    s_roundtrip (imp);
    el_ics_import_destroy (&imp);
}

static void
test_expand_is_bounded (void **state)
{
    (void) state;
    const char *text = "BEGIN:VEVENT\nUID:fast\nDTSTART:19900101T000000Z\nRRULE:FREQ=MINUTELY\nEND:VEVENT\n";
    el_ics_import_t *imp = s_import_ok (text);
    int64_t s[8];
    size_t n = 0;
    assert_int_equal (el_ics_expand (imp->events[0], NULL, 0, s_utc (2026, 12, 1, 0, 0, 0),
                                     s_utc (2026, 12, 2, 0, 0, 0), s, 8, &n),
                      EL_ETOOBIG);
    el_ics_import_destroy (&imp);
}

/* ------------------------------------------------------------ mutations */

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint32_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t) (s_rng >> 11);
}

static void
s_mutate_and_import (const char *seed, size_t rounds)
{
    static const char *const bits[] = { ":", ";", "\r\n", "\n ", ",", "\\", "\"", "=",
                                        "BEGIN:VEVENT\n", "END:VEVENT\n", "TZID=Europe/Paris",
                                        "VALUE=DATE", "RRULE:FREQ=DAILY;COUNT=3\n", "\xC3\xA9",
                                        "\xF0\x9F\x94\xA7", "99999999T999999Z", "\x01", "P1D" };
    size_t seed_len = strlen (seed);
    char *buf = malloc (seed_len + 512);
    assert_non_null (buf);
    for (size_t r = 0; r < rounds; r++) {
        memcpy (buf, seed, seed_len);
        size_t len = seed_len;
        int edits = 1 + (int) (s_rand () % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = len ? s_rand () % len : 0;
            switch (s_rand () % 4) {
            case 0:
                buf[at] = (char) (s_rand () & 0xFF);
                break;
            case 1: {
                const char *b = bits[s_rand () % (sizeof bits / sizeof bits[0])];
                size_t bl = strlen (b);
                if (len + bl < seed_len + 500) {
                    memmove (buf + at + bl, buf + at, len - at);
                    memcpy (buf + at, b, bl);
                    len += bl;
                }
                break;
            }
            case 2:
                len = at;
                break;
            default:
                if (len > at + 4) {
                    memmove (buf + at, buf + at + 4, len - at - 4);
                    len -= 4;
                }
            }
        }
        el_ics_import_t *imp = NULL;
        el_ics_error_t err;
        int rc = el_ics_import (buf, len, &imp, &err);
        if (rc != 0) {
            assert_null (imp);
            assert_true (err.reason[0] != '\0');
            continue;
        }
        for (size_t i = 0; i < imp->n_events; i++) {
            int64_t s[32];
            size_t n;
            (void) el_ics_expand (imp->events[i], NULL, 0, s_utc (2026, 1, 1, 0, 0, 0),
                                  s_utc (2027, 1, 1, 0, 0, 0), s, 32, &n);
        }
        char *out = NULL;
        size_t ol = 0;
        assert_int_equal (el_ics_export ((const El__Event *const *) imp->events, imp->n_events,
                                         0, &out, &ol, NULL), 0);
        el_ics_import_t *back = NULL;
        assert_int_equal (el_ics_import (out, ol, &back, &err), 0);   /* our output always imports */
        el_ics_import_destroy (&back);
        free (out);
        el_ics_import_destroy (&imp);
    }
    free (buf);
}

static void
test_mutated_input_never_crashes (void **state)
{
    (void) state;
    const char *seed =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:m1\r\nDTSTART;TZID=Europe/Paris:20261209T183000\r\n"
        "DURATION:PT2H\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Paris:20261216T183000\r\n"
        "RDATE;VALUE=PERIOD:20261224T100000Z/PT1H\r\nSUMMARY:Atelier \xC3\xA9t\xC3\xA9\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:m1\r\nRECURRENCE-ID:20261223T173000Z\r\nDTSTART;VALUE=DATE:20261223\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n";
    s_mutate_and_import (seed, 3000);
}

/* ------------------------------------------------------------ demo data */

static void
s_demo_file (const char *site, size_t expected_events, const char *a_summary)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/deploy/demo/%s/events.ics", EL_SOURCE_DIR, site);
    size_t len = 0;
    char *text = s_read (path, &len);
    if (!text)
        fprintf (stderr, "missing %s\n", path);
    assert_non_null (text);
    el_ics_import_t *imp = NULL;
    el_ics_error_t err = { 0 };
    assert_int_equal (el_ics_import (text, len, &imp, &err), 0);
    for (size_t i = 0; i < imp->problems.n; i++)
        fprintf (stderr, "%s:%u: %s\n", path, imp->problems.items[i].line, imp->problems.items[i].reason);
    assert_int_equal (imp->problems.n, 0);
    assert_int_equal (imp->n_events, expected_events);
    s_check_lines (text, len);   /* we write what we ask of others */
    const El__Event *e = s_find_summary (imp, a_summary);
    assert_non_null (e);
    for (size_t i = 0; i < imp->n_events; i++) {
        const El__Event *x = imp->events[i];
        assert_true (x->all_day || strcmp (x->tzid, "Europe/Paris") == 0);
        assert_true (x->dtstart_us >= s_utc (2026, 12, 1, 0, 0, 0));
        assert_true (x->dtstart_us < s_utc (2027, 7, 1, 0, 0, 0));
        int64_t s[128];
        size_t n = 0;
        assert_int_equal (el_ics_expand (x, NULL, 0, s_utc (2026, 12, 1, 0, 0, 0),
                                         s_utc (2027, 7, 1, 0, 0, 0), s, 128, &n), 0);
        assert_true (n >= 1);
    }
    s_roundtrip (imp);
    el_ics_import_destroy (&imp);
    free (text);
}

static void
test_demo_agenda_december (void **state)
{
    (void) state;
    char path[1024];
    snprintf (path, sizeof path, "%s/deploy/demo/thiers-centre/events.ics", EL_SOURCE_DIR);
    size_t len = 0;
    char *text = s_read (path, &len);
    assert_non_null (text);
    el_ics_import_t *imp = NULL;
    el_ics_error_t err;
    assert_int_equal (el_ics_import (text, len, &imp, &err), 0);
    el_ics_occurrence_t occ[32];
    size_t n = 0;
    /* December 2026 in Thiers: the meeting on the 3rd, the Thursday open lab
     * on the 10th and 17th (24th, 31st excluded), the Wednesday initiation on
     * the 9th and 16th (23rd, 30th excluded) */
    assert_int_equal (el_ics_agenda ((const El__Event *const *) imp->events, imp->n_events,
                                     s_utc (2026, 12, 1, 0, 0, 0), s_utc (2027, 1, 1, 0, 0, 0),
                                     occ, 32, &n), 0);
    assert_int_equal (n, 5);
    const int days[5] = { 3, 9, 10, 16, 17 };
    for (size_t i = 0; i < n; i++) {
        struct tm tm;
        s_local_paris (occ[i].start_us, &tm);
        assert_int_equal (tm.tm_mday, days[i]);
        assert_true (occ[i].end_us > occ[i].start_us);
    }
    assert_string_equal (imp->events[occ[0].event]->summary, "R\xC3\xA9union publique d'information");
    assert_int_equal (el_ics_agenda ((const El__Event *const *) imp->events, imp->n_events,
                                     s_utc (2026, 12, 1, 0, 0, 0), s_utc (2027, 1, 1, 0, 0, 0),
                                     occ, 4, &n), EL_ETOOBIG);
    el_ics_import_destroy (&imp);
    free (text);
}

static void
test_demo_events_import_cleanly (void **state)
{
    (void) state;
    s_demo_file ("thiers-centre", 9, "Journée prototypage des couteliers");
    s_demo_file ("celles-sur-durolle", 5, "Initiation impression 3D");
    s_demo_file ("saint-remy-sur-durolle", 5, "Réunion publique d'information");
}

/* ------------------------------------------------------------ real files */

static char s_real_dir[1024];

typedef struct {
    const char *name;
    bool refused;
    uint32_t refused_line;
    size_t events;
    size_t skipped;
    size_t warnings;
} s_real_t;

/* Counts read from the files: VEVENT blocks minus those without DTSTART. */
static const s_real_t s_real[] = {
    { "community_hackerspace_gent_0x20.ics", false, 0, 36, 0, 0 },
    { "community_toulouse_tech_hub_trimmed.ics", false, 0, 134, 0, 0 },
    { "icaljs_duration_instead_of_dtend.ics", false, 0, 1, 0, 0 },
    { "icaljs_only_dtstart_date_no_dtend.ics", false, 0, 1, 0, 0 },
    { "icaljs_rdate_exdate_date_vs_datetime.ics", false, 0, 1, 0, 0 },
    { "icaljs_recur_instances_override.ics", false, 0, 3, 0, 0 },
    { "libical_fuzz_zday_malformed.ics", true, 10, 0, 0, 0 },   /* "a:\x01" on line 10 */
    { "libical_recur_folded_properties.ics", false, 0, 4, 0, 4 }, /* TZID=US-Eastern unknown */
    { "libical_vtimezone_europe_paris.ics", false, 0, 0, 0, 0 },
    { "pyicalendar_bom_crlf.ics", false, 0, 0, 0, 0 },
    { "pyicalendar_dst_transition_ambiguity_issue722.ics", false, 0, 4, 0, 0 },
    { "pyicalendar_exchange_tzid_rrule_spaces_issue165.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_exdate_tzid_issue112.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_meetup_folded_description_issue53.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_missing_vtimezone_issue722.ics", false, 0, 1, 2, 0 },
    { "pyicalendar_non_ascii_tzid_issue237.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_rrule_exdates_multiple_lines.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_tab_folding_altrep_issue350.ics", false, 0, 1, 0, 1 }, /* text after END */
    { "pyicalendar_timezoned_vienna.ics", false, 0, 1, 0, 0 },
    { "pyicalendar_unicode_fields_crlf.ics", false, 0, 2, 1, 0 },
};

static el_ics_import_t *
s_real_import (const char *name)
{
    char path[1400];
    snprintf (path, sizeof path, "%s/ics/%s", s_real_dir, name);
    size_t len = 0;
    char *text = s_read (path, &len);
    assert_non_null (text);
    el_ics_import_t *imp = NULL;
    el_ics_error_t err = { 0 };
    int rc = el_ics_import (text, len, &imp, &err);
    free (text);
    if (rc != 0)
        fprintf (stderr, "%s refused: %d line %u %s\n", name, rc, err.line, err.reason);
    assert_int_equal (rc, 0);
    return imp;
}

static void
test_real_every_file (void **state)
{
    (void) state;
    char dir[1100];
    snprintf (dir, sizeof dir, "%s/ics", s_real_dir);
    DIR *d = opendir (dir);
    assert_non_null (d);
    size_t seen = 0;
    struct dirent *de;
    while ((de = readdir (d))) {
        if (!strstr (de->d_name, ".ics"))
            continue;
        const s_real_t *want = NULL;
        for (size_t i = 0; i < sizeof s_real / sizeof s_real[0]; i++)
            if (strcmp (s_real[i].name, de->d_name) == 0)
                want = &s_real[i];
        if (!want)
            fprintf (stderr, "no expectation written for %s\n", de->d_name);
        assert_non_null (want);
        seen++;
        char path[1400];
        snprintf (path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *text = s_read (path, &len);
        assert_non_null (text);
        el_ics_import_t *imp = NULL;
        el_ics_error_t err = { 0 };
        int rc = el_ics_import (text, len, &imp, &err);
        free (text);
        if (want->refused) {
            assert_int_equal (rc, EL_EINVAL);
            assert_null (imp);
            assert_int_equal (err.line, want->refused_line);
            assert_true (err.reason[0] != '\0');
            continue;
        }
        if (rc != 0)
            fprintf (stderr, "%s: rc %d line %u %s\n", de->d_name, rc, err.line, err.reason);
        assert_int_equal (rc, 0);
        if (imp->n_events != want->events || s_count_skipped (imp) != want->skipped
            || imp->problems.n != want->skipped + want->warnings)
            for (size_t i = 0; i < imp->problems.n; i++)
                fprintf (stderr, "%s:%u: %s\n", de->d_name, imp->problems.items[i].line,
                         imp->problems.items[i].reason);
        assert_int_equal (imp->n_events, want->events);
        assert_int_equal (s_count_skipped (imp), want->skipped);
        assert_int_equal (imp->problems.n, want->skipped + want->warnings);
        s_roundtrip (imp);
        el_ics_import_destroy (&imp);
    }
    closedir (d);
    assert_int_equal (seen, sizeof s_real / sizeof s_real[0]);
}

static void
test_real_values (void **state)
{
    (void) state;
    int64_t s[64];
    size_t n = 0;

    /* Ghent: Google export, VTIMEZONE Europe/Brussels */
    el_ics_import_t *imp = s_real_import ("community_hackerspace_gent_0x20.ics");
    const El__Event *e = s_find (imp, "q4uurhn43tdtu15b37ms0nhak0@google.com", NULL);
    assert_string_equal (e->summary, "Weekly Social");
    assert_int_equal (e->dtstart_us, s_utc (2026, 1, 8, 21, 0, 0));
    assert_false (e->all_day);
    e = s_find (imp, "2tkbtqk3db28r2bqfbfls4g67u@google.com", NULL);
    assert_string_equal (e->summary, "Newline 2025");
    assert_true (e->all_day);
    assert_int_equal (e->dtstart_us, s_utc (2025, 5, 23, 0, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2025, 5, 26, 0, 0, 0));
    assert_int_equal (e->sequence, 1);
    e = s_find (imp, "afivsustmjbqcr59ica6tttmtc@google.com", NULL);
    assert_string_equal (e->summary, "Bring Your Own Meat BBQ \xF0\x9F\x94\xA5");
    assert_int_equal (e->dtstart_us, s_utc (2026, 3, 7, 13, 0, 0));
    /* the weekly social: Thursdays 21:00 Brussels, across 2026-03-29 */
    e = s_find (imp, "1t42cj4pfs3ikm7jkjjojfsnog@google.com", NULL);
    assert_string_equal (e->tzid, "Europe/Brussels");
    assert_int_equal (e->dtstart_us, s_utc (2025, 5, 29, 19, 0, 0));
    assert_int_equal (el_ics_expand (e, NULL, 0, s_utc (2026, 3, 1, 0, 0, 0),
                                     s_utc (2026, 4, 8, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 5);
    assert_int_equal (s[0], s_utc (2026, 3, 5, 20, 0, 0));    /* 21:00 CET */
    assert_int_equal (s[3], s_utc (2026, 3, 26, 20, 0, 0));
    assert_int_equal (s[4], s_utc (2026, 4, 2, 19, 0, 0));    /* 21:00 CEST */
    assert_int_equal (imp->lines[0], 26);
    el_ics_import_destroy (&imp);

    /* Toulouse: BOM, floating times, VTIMEZONE after the events */
    imp = s_real_import ("community_toulouse_tech_hub_trimmed.ics");
    e = s_find (imp, "meetup-251544549", NULL);
    assert_string_equal (e->summary, "Toulouse DevOps : Un peu de craft dans l'Infra as Code");
    assert_true (e->floating);
    assert_int_equal (e->dtstart_us, s_utc (2018, 6, 28, 19, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2018, 6, 28, 21, 0, 0));
    e = s_find (imp, "meetup-261314071", NULL);
    assert_string_equal (e->summary, "Toulouse DevOps : Mise en place de l'observabilit\xC3\xA9"
                                     " sur une architecture serverless AWS");
    e = s_find (imp, "meetup-305840851", NULL);
    assert_string_equal (e->location, "Artilect FabLab Toulouse, 10 Rue Tripi\xC3\xA8re Toulouse");
    assert_string_equal (e->summary, "C++ Toulouse : Introduction \xC3\xA0 CMake");
    el_ics_import_destroy (&imp);

    imp = s_real_import ("icaljs_duration_instead_of_dtend.ics");
    e = imp->events[0];
    assert_string_equal (e->tzid, "America/Los_Angeles");
    assert_int_equal (e->dtstart_us, s_utc (2012, 6, 30, 13, 0, 0));   /* 06:00 PDT */
    assert_int_equal (e->dtend_us, s_utc (2012, 7, 1, 13, 0, 0));
    assert_string_equal (e->summary, "Really long event name thing");
    el_ics_import_destroy (&imp);

    imp = s_real_import ("icaljs_only_dtstart_date_no_dtend.ics");
    assert_true (imp->events[0]->all_day);
    assert_int_equal (imp->events[0]->dtstart_us, s_utc (2012, 6, 30, 0, 0, 0));
    assert_int_equal (imp->events[0]->dtend_us, 0);
    el_ics_import_destroy (&imp);

    /* DAILY COUNT=4 from June 9 with EXDATE;VALUE=DATE June 11 */
    imp = s_real_import ("icaljs_rdate_exdate_date_vs_datetime.ics");
    assert_int_equal (el_ics_expand (imp->events[0], NULL, 0, s_utc (2024, 1, 1, 0, 0, 0),
                                     s_utc (2025, 1, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 3);
    assert_int_equal (s[0], s_utc (2024, 6, 9, 3, 0, 0));
    assert_int_equal (s[1], s_utc (2024, 6, 10, 3, 0, 0));
    assert_int_equal (s[2], s_utc (2024, 6, 12, 3, 0, 0));
    el_ics_import_destroy (&imp);

    /* master + two overrides, RDATE/EXDATE in America/Los_Angeles */
    imp = s_real_import ("icaljs_recur_instances_override.ics");
    const El__Event *m = s_find (imp, "623c13c0-6c2b-45d6-a12b-c33ad61c4868", NULL);
    const El__Event *o1 = s_find (imp, "623c13c0-6c2b-45d6-a12b-c33ad61c4868", "20121002T170000Z");
    const El__Event *o2 = s_find (imp, "623c13c0-6c2b-45d6-a12b-c33ad61c4868", "20121105T180000Z");
    assert_non_null (m);
    assert_non_null (o1);
    assert_non_null (o2);
    assert_string_equal (o1->description, "I HAZ CHANGED!");
    assert_int_equal (o2->dtstart_us, s_utc (2012, 11, 7, 4, 0, 0));   /* 20:00 PST */
    assert_int_equal (m->n_rdate, 5);
    assert_int_equal (m->n_exdate, 3);
    const El__Event *ovs[] = { o1, o2 };
    assert_int_equal (el_ics_expand (m, ovs, 2, s_utc (2012, 10, 1, 0, 0, 0),
                                     s_utc (2013, 3, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 4);
    assert_int_equal (s[0], s_utc (2012, 11, 6, 18, 0, 0));    /* 1st Tuesday, 10:00 PST */
    assert_int_equal (s[1], s_utc (2012, 11, 10, 18, 0, 0));   /* RDATE */
    assert_int_equal (s[2], s_utc (2012, 11, 30, 18, 0, 0));   /* RDATE */
    assert_int_equal (s[3], s_utc (2013, 1, 1, 18, 0, 0));     /* Dec 4, Feb 5: EXDATE */
    assert_int_equal (el_ics_expand (m, NULL, 0, s_utc (2012, 10, 1, 0, 0, 0),
                                     s_utc (2013, 3, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 6);
    /* the agenda pairs the overrides with their master by itself */
    el_ics_occurrence_t occ[16];
    assert_int_equal (el_ics_agenda ((const El__Event *const *) imp->events, imp->n_events,
                                     s_utc (2012, 10, 1, 0, 0, 0), s_utc (2013, 3, 1, 0, 0, 0),
                                     occ, 16, &n), 0);
    assert_int_equal (n, 6);
    assert_int_equal (occ[0].start_us, s_utc (2012, 10, 2, 22, 0, 0));   /* moved to 15:00 PDT */
    assert_true (imp->events[occ[0].event] == o1);
    assert_int_equal (occ[0].end_us, s_utc (2012, 10, 2, 22, 30, 0));
    assert_int_equal (occ[1].start_us, s_utc (2012, 11, 6, 18, 0, 0));
    assert_int_equal (occ[2].start_us, s_utc (2012, 11, 7, 4, 0, 0));    /* moved from the 5th */
    assert_true (imp->events[occ[2].event] == o2);
    assert_int_equal (occ[5].start_us, s_utc (2013, 1, 1, 18, 0, 0));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("libical_recur_folded_properties.ics");
    assert_true (s_has_problem (imp, 5, false, "US-Eastern"));
    assert_true (s_has_problem (imp, 16, false, "US-Eastern"));
    assert_true (s_has_problem (imp, 27, false, "US-Eastern"));
    assert_true (s_has_problem (imp, 37, false, "US-Eastern"));
    assert_true (imp->events[0]->floating);
    assert_string_equal (imp->events[0]->rrule, "FREQ=WEEKLY;COUNT=4;INTERVAL=2;BYDAY=TU,SU");
    assert_string_equal (imp->events[2]->description,
                         "The 3rd instance into the month of one of Tuesday, Wednesday or"
                         "Thursday, for the next 6 months:");
    el_ics_import_destroy (&imp);

    /* custom zone: +12 until 2024-05-05 08:00, then +10 */
    imp = s_real_import ("pyicalendar_dst_transition_ambiguity_issue722.ics");
    assert_string_equal (imp->events[0]->tzid, "MyTimezone");
    assert_int_equal (s_find (imp, "0", NULL)->dtstart_us, s_utc (2024, 3, 2, 20, 0, 0));
    assert_int_equal (s_find (imp, "1", NULL)->dtstart_us, s_utc (2024, 8, 2, 22, 0, 0));
    assert_int_equal (s_find (imp, "2", NULL)->dtstart_us, s_utc (2024, 5, 4, 22, 0, 1));
    assert_int_equal (s_find (imp, "3", NULL)->dtstart_us, s_utc (2024, 5, 4, 19, 0, 1));
    assert_string_equal (s_find (imp, "3", NULL)->summary,
                         "Transition is from 8am -> 6am, so 7:00:01 is winter RFC5545 does not "
                         "allow us to be at the later TZ.");
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_exchange_tzid_rrule_spaces_issue165.ics");
    e = imp->events[0];
    assert_string_equal (e->tzid, "GMT +0100 (Standard) / GMT +0200 (Daylight)");
    assert_int_equal (e->dtstart_us, s_utc (2015, 7, 3, 8, 0, 0));
    assert_non_null (strstr (e->rrule, "BYDAY=MO,TU,WE,TH,FR"));
    assert_string_equal (e->summary, "Sprint 25 Daily Standup");
    /* weekdays from Fri July 3 until July 22 08:00Z: 3, 6-10, 13-17, 20-22 */
    assert_int_equal (el_ics_expand (e, NULL, 0, s_utc (2015, 7, 1, 0, 0, 0),
                                     s_utc (2015, 8, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 14);
    el_ics_import_destroy (&imp);

    /* FR,SA weekly from Sat Sept 7 until Oct 25 03:59:59Z, minus Oct 11 and 12 */
    imp = s_real_import ("pyicalendar_exdate_tzid_issue112.ics");
    e = imp->events[0];
    assert_int_equal (e->dtstart_us, s_utc (2013, 9, 7, 16, 0, 0));
    assert_string_equal (e->summary, "Market East Live!");
    assert_int_equal (el_ics_expand (e, NULL, 0, s_utc (2013, 1, 1, 0, 0, 0),
                                     s_utc (2014, 1, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 11);
    assert_int_equal (s[n - 1], s_utc (2013, 10, 19, 16, 0, 0));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_meetup_folded_description_issue53.ics");
    e = imp->events[0];
    assert_int_equal (e->dtstart_us, s_utc (2012, 7, 12, 22, 30, 0));
    assert_int_equal (strncmp (e->description,
                               "DevOpsDC\nThursday, July 12 at 6:30 PM\n\nThis will be a joint meetup", 66),
                      0);
    assert_string_equal (e->location,
                         "Fathom Creative, Inc. (1333 14th Street Northwest, WashingtonD.C., DC 20005)");
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_missing_vtimezone_issue722.ics");
    e = imp->events[0];
    assert_string_equal (e->tzid, "America/New_York");
    assert_int_equal (e->dtstart_us, s_utc (2014, 8, 29, 12, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2014, 8, 29, 15, 0, 0));     /* LA end */
    assert_string_equal (e->rdate[0], "20240913T100000Z/PT2H");
    assert_true (s_has_problem (imp, 9, true, "no DTSTART"));
    assert_true (s_has_problem (imp, 15, true, "no DTSTART"));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_non_ascii_tzid_issue237.ics");
    assert_string_equal (imp->events[0]->tzid, "(UTC-03:00) Bras\xC3\xADlia");
    assert_int_equal (imp->events[0]->dtstart_us, s_utc (2017, 5, 11, 16, 30, 0));
    el_ics_import_destroy (&imp);

    /* Tuesdays March 27 to July 3 2012 (UNTIL inclusive), minus 5 EXDATEs */
    imp = s_real_import ("pyicalendar_rrule_exdates_multiple_lines.ics");
    e = imp->events[0];
    assert_int_equal (e->dtstart_us, s_utc (2012, 3, 27, 8, 0, 0));
    assert_int_equal (el_ics_expand (e, NULL, 0, s_utc (2012, 1, 1, 0, 0, 0),
                                     s_utc (2013, 1, 1, 0, 0, 0), s, 64, &n), 0);
    assert_int_equal (n, 10);
    assert_int_equal (s[n - 1], s_utc (2012, 7, 3, 8, 0, 0));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_tab_folding_altrep_issue350.ics");
    e = imp->events[0];
    assert_string_equal (e->summary, "Termin 4353 und\"so\"");
    assert_string_equal (e->description, "Toller Termin f\xC3\xBCrmal zu\"gucken\"und so");
    assert_string_equal (e->url, "https://podio.com/xxxxxxyyyyyy/zpodio-testgelande/apps/calendar/items/5");
    assert_int_equal (e->dtstart_us, s_utc (2022, 2, 22, 18, 30, 0));
    assert_true (s_has_problem (imp, 36, false, "outside any component"));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_timezoned_vienna.ics");
    e = imp->events[0];
    assert_string_equal (e->summary, "artsprint 2012");
    assert_int_equal (e->dtstart_us, s_utc (2012, 2, 13, 9, 0, 0));
    assert_int_equal (e->dtend_us, s_utc (2012, 2, 17, 17, 0, 0));
    el_ics_import_destroy (&imp);

    imp = s_real_import ("pyicalendar_unicode_fields_crlf.ics");
    e = s_find (imp, "123456", NULL);
    assert_string_equal (e->summary, "Non-ASCII Test: \xC3\x84\xC3\x96\xC3\x9C \xC3\xA4\xC3\xB6\xC3\xBC \xE2\x82\xAC");
    assert_string_equal (e->location, "Tribstr\xC3\xBCl");
    assert_true (s_has_problem (imp, 20, true, "no DTSTART"));
    assert_non_null (s_find_summary (imp, "\xC3\xA5\xC3\xA4\xC3\xB6"));
    el_ics_import_destroy (&imp);
}

static void
test_real_mutations (void **state)
{
    (void) state;
    char path[1400];
    snprintf (path, sizeof path, "%s/ics/icaljs_recur_instances_override.ics", s_real_dir);
    size_t len = 0;
    char *text = s_read (path, &len);
    assert_non_null (text);
    s_mutate_and_import (text, 1500);
    free (text);
}

static el_ics_import_t *
s_import_in (const char *text, const char *zone)
{
    el_ics_import_t *imp = NULL;
    el_ics_error_t err = { 0 };
    int rc = el_ics_import_in_zone (text, strlen (text), zone, &imp, &err);
    if (rc != 0)
        fprintf (stderr, "import refused: rc=%d line=%u %s\n", rc, err.line, err.reason);
    assert_int_equal (rc, 0);
    return imp;
}

/* Floating times (RFC 5545 §3.3.5 form #1) are wall clocks in the importing
 * site's zone: a weekly 19:00 stays 19:00 across the DST change, in Paris
 * (28 March 2027) as in New York (14 March 2027). */
static void
test_floating_in_site_zone (void **state)
{
    (void) state;
    static const char text[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART:20270301T190000\r\nDTEND:20270301T210000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=6\r\nEXDATE:20270315T190000\r\nSUMMARY:Soirée\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:20270901\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:utc\r\nDTSTART:20270301T190000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    static const struct {
        const char *zone;
        int64_t starts[5];   /* 19:00 local on 1, 8, 22, 29 March and 5 April (15 excluded) */
    } cases[] = {
        { "Europe/Paris", { 1803924000, 1804528800, 1805738400, 1806339600, 1806944400 } },
        { "America/New_York", { 1803945600, 1804550400, 1805756400, 1806361200, 1806966000 } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        el_ics_import_t *imp = s_import_in (text, cases[c].zone);
        assert_int_equal (imp->n_events, 3);
        assert_int_equal (imp->problems.n, 0);
        const El__Event *e = s_find (imp, "weekly", NULL);
        assert_non_null (e);
        assert_false (e->floating);
        assert_string_equal (e->tzid, cases[c].zone);
        assert_int_equal (e->dtstart_us, cases[c].starts[0] * US);
        assert_int_equal (e->dtend_us - e->dtstart_us, 7200 * US);
        int64_t got[8];
        size_t n = 0;
        assert_int_equal (el_ics_expand (e, NULL, 0, s_utc (2027, 2, 1, 0, 0, 0),
                                         s_utc (2027, 6, 1, 0, 0, 0), got, 8, &n), 0);
        assert_int_equal (n, 5);
        for (size_t i = 0; i < 5; i++)
            assert_int_equal (got[i], cases[c].starts[i] * US);
        /* dates and UTC times are not floating: untouched */
        e = s_find (imp, "day", NULL);
        assert_true (e->all_day);
        assert_string_equal (e->tzid, "");
        assert_int_equal (e->dtstart_us, s_utc (2027, 9, 1, 0, 0, 0));
        e = s_find (imp, "utc", NULL);
        assert_string_equal (e->tzid, "");
        assert_int_equal (e->dtstart_us, s_utc (2027, 3, 1, 19, 0, 0));
        /* the export names the zone, and imports back to the same event */
        const El__Event *const evs[] = { s_find (imp, "weekly", NULL) };
        char *out = NULL;
        size_t len = 0;
        assert_int_equal (el_ics_export (evs, 1, 0, &out, &len, NULL), 0);
        char want[80];
        snprintf (want, sizeof want, "DTSTART;TZID=%s:20270301T190000", cases[c].zone);
        assert_non_null (strstr (out, want));
        el_ics_import_t *back = s_import_ok (out);
        assert_int_equal (back->n_events, 1);
        assert_true (el_ics_event_same (back->events[0], evs[0]));
        el_ics_import_destroy (&back);
        free (out);
        el_ics_import_destroy (&imp);
    }
    /* without a site zone (or on a UTC site) floating stays floating */
    el_ics_import_t *imp = s_import_in (text, NULL);
    assert_true (s_find (imp, "weekly", NULL)->floating);
    el_ics_import_destroy (&imp);
    imp = s_import_in (text, "UTC");
    assert_true (s_find (imp, "weekly", NULL)->floating);
    el_ics_import_destroy (&imp);
    /* a site zone nobody knows refuses the file */
    el_ics_error_t err = { 0 };
    assert_int_equal (el_ics_import_in_zone (text, strlen (text), "Nowhere/Land", &imp, &err),
                      EL_EINVAL);
    assert_non_null (strstr (err.reason, "Nowhere/Land"));
}

/* A TZID that is a Windows zone name, without its VTIMEZONE, is its IANA
 * zone (CLDR windowsZones); any other unknown TZID is a floating time, in the
 * site's zone, and reported on its line. */
static void
test_windows_and_unknown_zones (void **state)
{
    (void) state;
    assert_string_equal (el_ics_windows_zone ("Romance Standard Time"), "Europe/Paris");
    assert_string_equal (el_ics_windows_zone ("w. europe standard time"), "Europe/Berlin");
    assert_string_equal (el_ics_windows_zone ("GMT Standard Time"), "Europe/London");
    assert_string_equal (el_ics_windows_zone ("Eastern Standard Time"), "America/New_York");
    assert_null (el_ics_windows_zone ("Mars/Olympus"));
    assert_null (el_ics_windows_zone (NULL));
    static const char text[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:outlook\r\n"                                       /* line 4 */
        "DTSTART;TZID=Romance Standard Time:20270707T183000\r\n"
        "DTEND;TZID=Romance Standard Time:20270707T200000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:berlin\r\n"                                        /* line 9 */
        "DTSTART;TZID=W. Europe Standard Time:20270107T183000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:ny\r\n"                                            /* line 13 */
        "DTSTART;TZID=Eastern Standard Time:20270107T183000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:mars\r\n"                          /* DTSTART on line 19 */
        "DTSTART;TZID=Mars/Olympus:20270107T183000\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_in (text, "America/New_York");
    assert_int_equal (imp->n_events, 4);
    const El__Event *e = s_find (imp, "outlook", NULL);
    assert_string_equal (e->tzid, "Europe/Paris");
    assert_false (e->floating);
    assert_int_equal (e->dtstart_us, s_utc (2027, 7, 7, 16, 30, 0));
    assert_int_equal (e->dtend_us, s_utc (2027, 7, 7, 18, 0, 0));
    e = s_find (imp, "berlin", NULL);
    assert_string_equal (e->tzid, "Europe/Berlin");
    assert_int_equal (e->dtstart_us, s_utc (2027, 1, 7, 17, 30, 0));
    e = s_find (imp, "ny", NULL);
    assert_string_equal (e->tzid, "America/New_York");
    assert_int_equal (e->dtstart_us, s_utc (2027, 1, 7, 23, 30, 0));
    e = s_find (imp, "mars", NULL);
    assert_string_equal (e->tzid, "America/New_York");
    assert_int_equal (e->dtstart_us, s_utc (2027, 1, 7, 23, 30, 0));
    assert_int_equal (imp->problems.n, 1);
    assert_true (s_has_problem (imp, 19, false, "unknown time zone \"Mars/Olympus\""));
    assert_true (s_has_problem (imp, 19, false, "in the site's zone America/New_York"));
    el_ics_import_destroy (&imp);
    /* without a site zone: floating, and said so */
    imp = s_import_in (text, NULL);
    assert_true (s_find (imp, "mars", NULL)->floating);
    assert_true (s_has_problem (imp, 19, false, "taken as floating"));
    assert_string_equal (s_find (imp, "outlook", NULL)->tzid, "Europe/Paris");
    el_ics_import_destroy (&imp);
}

/* Impossible values are refused with their line, never moved (libical
 * would take 31 February as 3 March); the rest of the file imports. */
static void
test_impossible_values (void **state)
{
    (void) state;
    static const char text[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:feb31\r\nDTSTART:20270231T180000\r\nEND:VEVENT\r\n"       /* 6 */
        "BEGIN:VEVENT\r\nUID:h25\r\nDTSTART:20270101T250000Z\r\nEND:VEVENT\r\n"        /* 10 */
        "BEGIN:VEVENT\r\nUID:m13\r\nDTSTART;TZID=Europe/Paris:20271301T100000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:min61\r\nDTSTART:20270101T106100\r\nEND:VEVENT\r\n"       /* 18 */
        "BEGIN:VEVENT\r\nUID:before\r\nDTSTART:20270101T100000Z\r\n"
        "DTEND:20270101T090000Z\r\nEND:VEVENT\r\n"                                     /* 23 */
        "BEGIN:VEVENT\r\nUID:rrule\r\nDTSTART:20270101T100000Z\r\n"
        "RRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\n"                                       /* 28 */
        "BEGIN:VEVENT\r\nUID:exdate\r\nDTSTART:20270101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        "EXDATE:20270230T100000Z\r\nEND:VEVENT\r\n"                                    /* 34 */
        "BEGIN:VEVENT\r\nUID:no-leap\r\nDTSTART;VALUE=DATE:20270229\r\nEND:VEVENT\r\n" /* 38 */
        "BEGIN:VEVENT\r\nUID:end-feb30\r\nDTSTART:20270201T100000Z\r\n"
        "DTEND:20270230T100000Z\r\nEND:VEVENT\r\n"                                     /* 43 */
        "BEGIN:VEVENT\r\nUID:leap\r\nDTSTART;VALUE=DATE:20280229\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:good\r\nDTSTART:20270228T235960Z\r\n"
        "DTEND:20270301T000000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    el_ics_import_t *imp = s_import_ok (text);
    assert_int_equal (imp->n_events, 2);
    assert_non_null (s_find (imp, "leap", NULL));
    assert_int_equal (s_find (imp, "leap", NULL)->dtstart_us, s_utc (2028, 2, 29, 0, 0, 0));
    assert_non_null (s_find (imp, "good", NULL));   /* second 60: a leap second is a time */
    static const struct {
        uint32_t line;
        const char *reason;
    } want[] = {
        { 6, "DTSTART: no day 31 in 2027-02" },
        { 10, "DTSTART: no hour 25" },
        { 14, "DTSTART: no month 13" },
        { 18, "DTSTART: no minute 61" },
        { 23, "DTEND before DTSTART" },
        { 28, "RRULE" },
        { 34, "EXDATE: no day 30 in 2027-02" },
        { 38, "DTSTART: no day 29 in 2027-02" },
        { 43, "DTEND: no day 30 in 2027-02" },
    };
    assert_int_equal (imp->problems.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!s_has_problem (imp, want[i].line, true, want[i].reason))
            fail_msg ("no skipped problem '%s' on line %u", want[i].reason, want[i].line);
    el_ics_import_destroy (&imp);
}

int
main (int argc, char **argv)
{
    bool real_only = argc == 2 && !strcmp (argv[1], "--real");
    if (argc != 1 && !real_only) {
        fprintf (stderr, "usage: test_el_ics [--real]\n");
        return 2;
    }
    const struct CMUnitTest synthetic[] = {
        cmocka_unit_test (test_floating_in_site_zone),    /* first: libical's zone cache empty */
        cmocka_unit_test (test_dst_weekly_builtin_zone),
        cmocka_unit_test (test_expand_impossible_rule),
        cmocka_unit_test (test_expand_far_from_dtstart),
        cmocka_unit_test (test_ambiguous_time_is_first),
        cmocka_unit_test (test_dst_weekly_custom_vtimezone),
        cmocka_unit_test (test_export_zone_years),
        cmocka_unit_test (test_time_forms),
        cmocka_unit_test (test_text_escapes_bom_folding),
        cmocka_unit_test (test_categories_all_values),
        cmocka_unit_test (test_duration_as_written),
        cmocka_unit_test (test_refused_files),
        cmocka_unit_test (test_broken_events_skipped),
        cmocka_unit_test (test_uid_derived_and_duplicates),
        cmocka_unit_test (test_is_newer),
        cmocka_unit_test (test_export_form_and_folding),
        cmocka_unit_test (test_export_sanitizes_foreign_records),
        cmocka_unit_test (test_expand_rdate_exdate_overrides),
        cmocka_unit_test (test_expand_is_bounded),
        cmocka_unit_test (test_mutated_input_never_crashes),
        cmocka_unit_test (test_demo_events_import_cleanly),
        cmocka_unit_test (test_demo_agenda_december),
        cmocka_unit_test (test_windows_and_unknown_zones),
        cmocka_unit_test (test_impossible_values),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test (test_real_every_file),
        cmocka_unit_test (test_real_values),
        cmocka_unit_test (test_real_mutations),
    };
    if (!real_only)
        return cmocka_run_group_tests_name ("el_ics", synthetic, NULL, NULL) ? 1 : 0;
    snprintf (s_real_dir, sizeof s_real_dir, "%s", EL_SHARED_DATA);
    struct stat st;
    char ics_dir[1100];
    snprintf (ics_dir, sizeof ics_dir, "%s/ics", s_real_dir);
    if (stat (ics_dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        printf ("SKIP: %s is absent (real test data): the real-file cases did not run\n", ics_dir);
        return 77;
    }
    return cmocka_run_group_tests_name ("el_ics_real", real, NULL, NULL) ? 1 : 0;
}
