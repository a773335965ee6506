/* el_ics.c — iCalendar import/export of el.Event records (see el_ics.h).
 *
 * Parsing, recurrence iteration and zone arithmetic are libical's. Our own
 * code does four things libical does not: it checks the raw bytes (UTF-8, no
 * control characters) and the BEGIN/END nesting, with line numbers, before
 * libical sees the text (libical silently repairs broken nesting and stops
 * at a NUL); it finds which physical line an event or a faulty property sits
 * on (libical keeps no line numbers); it folds the output at 75 octets on
 * UTF-8 boundaries (libical folds at about 75 bytes but may cut a character);
 * and it drives libical's recurrence iterator inside a bounded loop. */
#include "el_ics.h"
#include "el_text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>
#include <sodium.h>

#include "el_entry.h"

#define S_US_PER_S     INT64_C(1000000)
#define S_US_PER_DAY   (INT64_C(86400) * S_US_PER_S)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in µs: what iCalendar can write. */
#define S_MIN_US       (INT64_C(-62135596800) * S_US_PER_S)
#define S_MAX_US       (INT64_C(253402300799) * S_US_PER_S)
#define S_TZID_MAX     128     /* bytes of a TZID we resolve */
#define S_PRODID       "-//entrelab//entrelab " "0.1" "//EN"
/* Placeholder for "\," inside a CATEGORIES value: libical 3.0 writes a comma
 * in a category unescaped, which would split it on re-import. Control bytes
 * never reach libical from us (s_clean_text replaces them), so this byte is
 * unambiguous; s_fold turns it into "\,". */
#define S_COMMA_MARK   '\x1f'
#define S_LIBICAL_PREFIX "/freeassociation.sourceforge.net/"

/* ================================================================ small helpers */

static int64_t
s_days_from_civil (int64_t y, int m, int d)
{
    /* H. Hinnant, "chrono-Compatible Low-Level Date Algorithms". */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days (int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = (int) (yoe + era * 400 + (*m <= 2));
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* The fields of @p t read as a UTC wall clock, in µs. */
static int64_t
s_fields_to_us (struct icaltimetype t)
{
    int64_t days = s_days_from_civil (t.year, t.month, t.day);
    int64_t secs = days * 86400;
    if (!t.is_date)
        secs += (int64_t) t.hour * 3600 + (int64_t) t.minute * 60 + t.second;
    return secs * S_US_PER_S;
}

/* A UTC wall clock from µs (sub-second part dropped). */
static struct icaltimetype
s_us_to_fields (int64_t us, bool is_date)
{
    struct icaltimetype t = icaltime_null_time ();
    int64_t secs = s_floor_div (us, S_US_PER_S);
    int64_t days = s_floor_div (secs, 86400);
    int64_t rem = secs - days * 86400;
    s_civil_from_days (days, &t.year, &t.month, &t.day);
    if (is_date) {
        t.is_date = 1;
    } else {
        t.hour = (int) (rem / 3600);
        t.minute = (int) (rem % 3600 / 60);
        t.second = (int) (rem % 60);
    }
    return t;
}

static bool
s_us_in_range (int64_t us)
{
    return us >= S_MIN_US && us <= S_MAX_US;
}

/* malloc'd copy of @p s with every control character (but LF and HTAB) and
 * every invalid UTF-8 byte replaced by U+FFFD. *changed set when it did. */
static char *
s_clean_text (const char *s, bool *changed)
{
    size_t len = s ? strlen (s) : 0;
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        const uint8_t *p = (const uint8_t *) s + i;
        size_t n = el_text_utf8_seq (p, len - i);
        if (n == 0 || (n == 1 && ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F))) {
            memcpy (out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += 1;
            *changed = true;
            continue;
        }
        memcpy (out + o, p, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return out;
}

static bool
s_is_blank (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* ================================================================ raw scan
 *
 * One pass over the bytes: UTF-8 and control characters, then the nesting
 * of BEGIN/END content lines (RFC 5545 §3.4, §3.6), recording where each
 * VEVENT that libical will hand us (top level, or a child of a top-level
 * VCALENDAR) begins and ends. */

typedef struct {
    uint32_t line;       /* BEGIN:VEVENT line */
    size_t begin_off;    /* offset of that line */
    size_t end_off;      /* offset just past END:VEVENT's line */
} s_span_t;

typedef struct {
    s_span_t *spans;
    size_t n, cap;
    uint32_t trailing_line;  /* first non-blank line after the last component, 0 = none */
} s_scan_t;

typedef struct {
    char name[64];
    uint32_t line;
} s_open_t;

/* Unfold the logical line starting at @p off into @p out (truncated to
 * out_size - 1 bytes). Sets *next_off past it and *n_phys to its physical lines. */
static void
s_logical_line (const char *buf, size_t len, size_t off, char *out, size_t out_size,
                size_t *next_off, uint32_t *n_phys)
{
    size_t o = 0;
    uint32_t phys = 0;
    bool first = true;
    while (off < len) {
        if (!first && buf[off] != ' ' && buf[off] != '\t')
            break;
        size_t start = first ? off : off + 1;
        const char *nl = memchr (buf + off, '\n', len - off);
        size_t end = nl ? (size_t) (nl - buf) : len;
        size_t stop = end;
        if (stop > start && buf[stop - 1] == '\r')
            stop--;
        for (size_t i = start; i < stop && o + 1 < out_size; i++)
            out[o++] = buf[i];
        phys++;
        off = nl ? end + 1 : len;
        first = false;
    }
    out[o] = '\0';
    *next_off = off;
    *n_phys = phys;
}

/* "BEGIN:X" / "END:X" (names case-insensitive) -> 1 / 2 with X in @p what; else 0. */
static int
s_begin_end (const char *line, char *what, size_t what_size)
{
    int kind = 0;
    const char *v = NULL;
    if (strncasecmp (line, "BEGIN:", 6) == 0) {
        kind = 1;
        v = line + 6;
    } else if (strncasecmp (line, "END:", 4) == 0) {
        kind = 2;
        v = line + 4;
    } else {
        return 0;
    }
    size_t n = strlen (v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= what_size)
        n = what_size - 1;
    for (size_t i = 0; i < n; i++)
        what[i] = (char) toupper ((unsigned char) v[i]);
    what[n] = '\0';
    return kind;
}

static int
s_scan (const char *buf, size_t len, s_scan_t *scan, el_ics_error_t *err)
{
    /* Bytes first: the whole text must be UTF-8 without control characters. */
    uint32_t line = 1;
    for (size_t i = 0; i < len;) {
        const uint8_t *p = (const uint8_t *) buf + i;
        if (*p == '\n') {
            line++;
            i++;
            continue;
        }
        if (*p == '\r') {
            if (i + 1 < len && p[1] == '\n') {
                i++;
                continue;
            }
            el_file_error_set (err, line, "carriage return not followed by a line feed");
            return EL_EINVAL;
        }
        if (*p == 0) {
            el_file_error_set (err, line, "NUL byte in the text");
            return EL_EINVAL;
        }
        if ((*p < 0x20 && *p != '\t') || *p == 0x7F) {
            el_file_error_set (err, line, "control character 0x%02X in the text (RFC 5545 §3.1)", *p);
            return EL_EINVAL;
        }
        if (*p < 0x80) {
            i++;
            continue;
        }
        /* A multi-byte character; some writers fold inside one, which
         * unfolding repairs, so gather its bytes across a fold. */
        uint8_t seq[4];
        size_t want = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        size_t got = 0, j = i;
        uint32_t folds = 0;
        while (got < want && j < len) {
            if (got > 0 && buf[j] == '\r' && j + 2 < len && buf[j + 1] == '\n'
                && (buf[j + 2] == ' ' || buf[j + 2] == '\t')) {
                j += 3;
                folds++;
                continue;
            }
            if (got > 0 && buf[j] == '\n' && j + 1 < len && (buf[j + 1] == ' ' || buf[j + 1] == '\t')) {
                j += 2;
                folds++;
                continue;
            }
            seq[got++] = (uint8_t) buf[j++];
        }
        if (el_text_utf8_seq (seq, got) != want) {
            el_file_error_set (err, line, "bytes that are not UTF-8 (RFC 5545 §3.1.4)");
            return EL_EINVAL;
        }
        line += folds;
        i = j;
    }

    s_open_t stack[EL_ICS_MAX_DEPTH];
    size_t depth = 0;
    size_t n_components = 0;
    size_t ev_begin_off = 0;
    uint32_t ev_line = 0;
    bool ev_open = false;
    line = 1;
    char lbuf[160];
    char what[64];
    for (size_t off = 0; off < len;) {
        size_t next;
        uint32_t phys;
        /* libical and we would disagree on what a fold of an empty line means */
        size_t eol = off < len && buf[off] == '\r' ? off + 1 : off;
        if (eol < len && buf[eol] == '\n' && eol + 1 < len
            && (buf[eol + 1] == ' ' || buf[eol + 1] == '\t')) {
            el_file_error_set (err, line + 1, "folded continuation of an empty line");
            return EL_EINVAL;
        }
        s_logical_line (buf, len, off, lbuf, sizeof lbuf, &next, &phys);
        int kind = s_begin_end (lbuf, what, sizeof what);
        if (kind == 1) {
            if (depth == EL_ICS_MAX_DEPTH) {
                el_file_error_set (err, line, "components nested deeper than %d", EL_ICS_MAX_DEPTH);
                return EL_EINVAL;
            }
            if (what[0] == '\0') {
                el_file_error_set (err, line, "BEGIN without a component name");
                return EL_EINVAL;
            }
            if (strcmp (what, "VEVENT") == 0
                && (depth == 0 || (depth == 1 && strcmp (stack[0].name, "VCALENDAR") == 0))) {
                ev_open = true;
                ev_begin_off = off;
                ev_line = line;
            }
            el_text_copy (stack[depth].name, sizeof stack[depth].name, what);
            stack[depth].line = line;
            depth++;
            n_components++;
        } else if (kind == 2) {
            if (depth == 0) {
                el_file_error_set (err, line, "END:%s without a matching BEGIN", what);
                return EL_EINVAL;
            }
            if (strcmp (stack[depth - 1].name, what) != 0) {
                el_file_error_set (err, line, "END:%s does not close BEGIN:%s of line %u", what,
                             stack[depth - 1].name, stack[depth - 1].line);
                return EL_EINVAL;
            }
            depth--;
            if (ev_open && strcmp (what, "VEVENT") == 0
                && (depth == 0 || (depth == 1 && strcmp (stack[0].name, "VCALENDAR") == 0))) {
                if (scan->n == EL_ICS_MAX_EVENTS) {
                    el_file_error_set (err, line, "more than %d events", EL_ICS_MAX_EVENTS);
                    return EL_ETOOBIG;
                }
                if (scan->n == scan->cap) {
                    size_t cap = scan->cap ? scan->cap * 2 : 32;
                    s_span_t *spans = realloc (scan->spans, cap * sizeof *spans);
                    if (!spans)
                        return -ENOMEM;
                    scan->spans = spans;
                    scan->cap = cap;
                }
                scan->spans[scan->n++] = (s_span_t) {
                    .line = ev_line, .begin_off = ev_begin_off, .end_off = next };
                ev_open = false;
            }
        } else if (depth == 0 && !s_is_blank (lbuf, strlen (lbuf))) {
            if (n_components == 0) {
                el_file_error_set (err, line, "not iCalendar: expected BEGIN:VCALENDAR");
                return EL_EINVAL;
            }
            if (scan->trailing_line == 0)
                scan->trailing_line = line;
        }
        line += phys;
        off = next;
    }
    if (depth > 0) {
        el_file_error_set (err, stack[depth - 1].line, "BEGIN:%s is never closed",
                     stack[depth - 1].name);
        return EL_EINVAL;
    }
    if (n_components == 0) {
        el_file_error_set (err, 0, len ? "not iCalendar: no BEGIN line" : "empty file");
        return EL_EINVAL;
    }
    return 0;
}

/* Physical line of the first content line named @p name inside @p span. */
static uint32_t
s_prop_line (const char *buf, const s_span_t *span, const char *name)
{
    size_t nlen = strlen (name);
    uint32_t line = span->line;
    char lbuf[96];
    for (size_t off = span->begin_off; off < span->end_off;) {
        size_t next;
        uint32_t phys;
        s_logical_line (buf, span->end_off, off, lbuf, sizeof lbuf, &next, &phys);
        if (strncasecmp (lbuf, name, nlen) == 0
            && (lbuf[nlen] == ':' || lbuf[nlen] == ';' || lbuf[nlen] == '\0'))
            return line;
        line += phys;
        off = next;
    }
    return span->line;
}

/* ================================================================ zones */

/* libical's builtin zone named @p tzid (IANA name, or libical's own
 * "/freeassociation.sourceforge.net/..." form), or NULL. Only plain zone
 * names are looked up: libical reads <zoneinfo>/<name> from disk. */
static icaltimezone *
s_builtin_zone (const char *tzid)
{
    if (!tzid)
        return NULL;
    if (strncmp (tzid, S_LIBICAL_PREFIX, strlen (S_LIBICAL_PREFIX)) == 0) {
        tzid += strlen (S_LIBICAL_PREFIX);
        if (strncmp (tzid, "Tzfile/", 7) == 0)
            tzid += 7;
    }
    size_t len = strlen (tzid);
    if (len == 0 || len > 64 || tzid[0] == '/' || tzid[0] == '.' || strstr (tzid, ".."))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) tzid[i];
        if (!(isalnum (c) || c == '/' || c == '_' || c == '-' || c == '+'))
            return NULL;
    }
    return icaltimezone_get_builtin_timezone (tzid);
}

/* Windows zone names as Outlook and Exchange write them in TZID, and the
 * zone CLDR maps each to for the whole world (territory "001" of
 * common/supplemental/windowsZones.xml): the common ones. */
static const struct {
    const char *windows, *iana;
} s_windows_zones[] = {
    { "Romance Standard Time", "Europe/Paris" },
    { "W. Europe Standard Time", "Europe/Berlin" },
    { "Central Europe Standard Time", "Europe/Budapest" },
    { "Central European Standard Time", "Europe/Warsaw" },
    { "GMT Standard Time", "Europe/London" },
    { "Greenwich Standard Time", "Atlantic/Reykjavik" },
    { "E. Europe Standard Time", "Europe/Chisinau" },
    { "FLE Standard Time", "Europe/Kiev" },
    { "GTB Standard Time", "Europe/Bucharest" },
    { "Turkey Standard Time", "Europe/Istanbul" },
    { "Russian Standard Time", "Europe/Moscow" },
    { "Morocco Standard Time", "Africa/Casablanca" },
    { "W. Central Africa Standard Time", "Africa/Lagos" },
    { "South Africa Standard Time", "Africa/Johannesburg" },
    { "Egypt Standard Time", "Africa/Cairo" },
    { "Israel Standard Time", "Asia/Jerusalem" },
    { "Arabian Standard Time", "Asia/Dubai" },
    { "India Standard Time", "Asia/Calcutta" },
    { "China Standard Time", "Asia/Shanghai" },
    { "Singapore Standard Time", "Asia/Singapore" },
    { "Tokyo Standard Time", "Asia/Tokyo" },
    { "Korea Standard Time", "Asia/Seoul" },
    { "AUS Eastern Standard Time", "Australia/Sydney" },
    { "New Zealand Standard Time", "Pacific/Auckland" },
    { "Eastern Standard Time", "America/New_York" },
    { "Central Standard Time", "America/Chicago" },
    { "Mountain Standard Time", "America/Denver" },
    { "US Mountain Standard Time", "America/Phoenix" },
    { "Pacific Standard Time", "America/Los_Angeles" },
    { "Alaskan Standard Time", "America/Anchorage" },
    { "Hawaiian Standard Time", "Pacific/Honolulu" },
    { "Atlantic Standard Time", "America/Halifax" },
    { "Canada Central Standard Time", "America/Regina" },
    { "SA Pacific Standard Time", "America/Bogota" },
    { "SA Western Standard Time", "America/La_Paz" },
    { "E. South America Standard Time", "America/Sao_Paulo" },
    { "Argentina Standard Time", "America/Buenos_Aires" },
    { "Mauritius Standard Time", "Indian/Mauritius" },
    { "UTC", "UTC" },
};

const char *
el_ics_windows_zone (const char *tzid)
{
    if (!tzid)
        return NULL;
    for (size_t i = 0; i < sizeof s_windows_zones / sizeof s_windows_zones[0]; i++)
        if (strcasecmp (tzid, s_windows_zones[i].windows) == 0)
            return s_windows_zones[i].iana;
    return NULL;
}

/* Display name of a builtin zone (its location, "Europe/Paris"). */
static const char *
s_zone_name (icaltimezone *z, const char *tzid)
{
    if (z == icaltimezone_get_utc_timezone ())
        return "UTC";
    const char *loc = icaltimezone_get_location (z);
    return loc && loc[0] ? loc : tzid;
}

/* The VTIMEZONE component for @p tzid in the VCALENDAR holding @p comp. */
static icaltimezone *
s_file_zone (icalcomponent *comp, const char *tzid)
{
    for (icalcomponent *c = comp; c; c = icalcomponent_get_parent (c)) {
        if (icalcomponent_isa (c) == ICAL_VCALENDAR_COMPONENT)
            return icalcomponent_get_timezone (c, tzid);
    }
    return NULL;
}

/* A zone rebuilt from VTIMEZONE text; caller frees with icaltimezone_free(z, 1). */
static icaltimezone *
s_zone_from_text (const char *text, const char *tzid)
{
    if (!text || !text[0])
        return NULL;
    icalcomponent *c = icalparser_parse_string (text);
    if (!c)
        return NULL;
    if (icalcomponent_isa (c) != ICAL_VTIMEZONE_COMPONENT) {
        icalcomponent_free (c);
        return NULL;
    }
    icalproperty *p = icalcomponent_get_first_property (c, ICAL_TZID_PROPERTY);
    if (!p || !icalproperty_get_tzid (p) || strcmp (icalproperty_get_tzid (p), tzid) != 0) {
        icalcomponent_free (c);
        return NULL;
    }
    icaltimezone *z = icaltimezone_new ();
    if (!z) {
        icalcomponent_free (c);
        return NULL;
    }
    if (!icaltimezone_set_component (z, c)) {   /* takes c on success */
        icalcomponent_free (c);
        icaltimezone_free (z, 1);
        return NULL;
    }
    return z;
}

static const char *
s_ext_get (const El__Event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_extensions; i++)
        if (ev->extensions[i] && ev->extensions[i]->key
            && strcmp (ev->extensions[i]->key, key) == 0)
            return ev->extensions[i]->value;
    return NULL;
}

/* How an event's times are read back. */
typedef struct {
    enum { S_Z_UTC, S_Z_FLOATING, S_Z_DATE, S_Z_ZONE } kind;
    icaltimezone *zone;     /* S_Z_ZONE */
    bool owned;             /* zone built from extension text: free it */
} s_zone_t;

static int
s_event_zone (const El__Event *ev, s_zone_t *z)
{
    *z = (s_zone_t) { .kind = S_Z_UTC };
    if (ev->all_day) {
        z->kind = S_Z_DATE;
        return 0;
    }
    if (ev->floating) {
        z->kind = S_Z_FLOATING;
        return 0;
    }
    if (!ev->tzid || !ev->tzid[0])
        return 0;
    icaltimezone *b = s_builtin_zone (ev->tzid);
    if (b) {
        z->kind = b == icaltimezone_get_utc_timezone () ? S_Z_UTC : S_Z_ZONE;
        z->zone = b;
        return 0;
    }
    icaltimezone *c = s_zone_from_text (s_ext_get (ev, EL_ICS_EXT_VTIMEZONE), ev->tzid);
    if (!c)
        return EL_EINVAL;
    z->kind = S_Z_ZONE;
    z->zone = c;
    z->owned = true;
    return 0;
}

static void
s_zone_release (s_zone_t *z)
{
    if (z->owned && z->zone)
        icaltimezone_free (z->zone, 1);
    z->zone = NULL;
    z->owned = false;
}

/* Local wall clock of @p us in zone @p z. */
static struct icaltimetype
s_local (const s_zone_t *z, int64_t us)
{
    if (z->kind == S_Z_ZONE) {
        time_t secs = (time_t) s_floor_div (us, S_US_PER_S);
        struct icaltimetype t = icaltime_from_timet_with_zone (secs, 0, z->zone);
        t.zone = z->zone;
        return t;
    }
    struct icaltimetype t = s_us_to_fields (us, z->kind == S_Z_DATE);
    if (z->kind == S_Z_UTC)
        t.zone = icaltimezone_get_utc_timezone ();
    return t;
}

/* UTC µs of local wall clock @p t in zone @p z. A wall time that occurs
 * twice (clocks set back) is its first occurrence (RFC 5545 §3.3.5);
 * libical gives the second. */
static int64_t
s_local_to_us (const s_zone_t *z, struct icaltimetype t)
{
    if (z->kind == S_Z_ZONE && !t.is_date) {
        t.zone = NULL;
        time_t u = icaltime_as_timet_with_zone (t, z->zone);
        static const int backs[] = { 3600, 1800 };  /* what zones set their clocks back by */
        for (size_t i = 0; i < sizeof backs / sizeof backs[0]; i++) {
            struct icaltimetype e = icaltime_from_timet_with_zone (u - backs[i], 0, z->zone);
            if (e.year == t.year && e.month == t.month && e.day == t.day && e.hour == t.hour
                && e.minute == t.minute && e.second == t.second)
                return (int64_t) (u - backs[i]) * S_US_PER_S;
        }
        return (int64_t) u * S_US_PER_S;
    }
    return s_fields_to_us (t);
}

/* ================================================================ import */

typedef struct {
    const char *buf;
    const s_span_t *span;       /* NULL when lines are unknown */
    el_problems_t *pr;
    uint32_t line;              /* the event's BEGIN line */
    const char *skip_reason;    /* set once the event is to be skipped */
    char skip_buf[EL_ICS_REASON_BYTES];
    uint32_t skip_line;
    icaltimezone *site_zone;    /* floating times are wall clocks here; NULL: keep floating */
    const char *site_tzid;      /* its name */
    char floating_as[96];       /* s_floating_as() text */
} s_ctx_t;

static uint32_t
s_line_of (s_ctx_t *ctx, const char *prop)
{
    return ctx->span ? s_prop_line (ctx->buf, ctx->span, prop) : ctx->line;
}

static void
s_skip (s_ctx_t *ctx, uint32_t line, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
s_skip (s_ctx_t *ctx, uint32_t line, const char *fmt, ...)
{
    if (ctx->skip_reason)
        return;
    va_list ap;
    va_start (ap, fmt);
    el_text_vformat (ctx->skip_buf, sizeof ctx->skip_buf, fmt, ap);
    va_end (ap);
    ctx->skip_reason = ctx->skip_buf;
    ctx->skip_line = line;
}

/* A time read from a property, with how to read it again. */
typedef struct {
    struct icaltimetype local;  /* wall clock as written, no zone attached */
    s_zone_t zone;
    const char *tzid;           /* as written; NULL when none */
    const char *zone_name;      /* S_Z_ZONE of the zone database: the name to store
                                   (a Windows name mapped, or the site's zone) */
    bool unknown_zone;          /* had a TZID nobody knows: floating, or the site's zone */
} s_ptime_t;

/* A floating time (RFC 5545 §3.3.5 form #1): a wall clock in the importing
 * site's zone when the import has one, else kept floating. */
static void
s_ptime_floating (const s_ctx_t *ctx, s_ptime_t *out)
{
    if (ctx && ctx->site_zone) {
        out->zone.kind = S_Z_ZONE;
        out->zone.zone = ctx->site_zone;
        out->zone_name = ctx->site_tzid;
    } else {
        out->zone.kind = S_Z_FLOATING;
    }
}

/* Resolve @p t (read from a property with TZID @p tzid) inside @p comp:
 * the zone database, the file's VTIMEZONE, a Windows zone name (§3.2.19
 * leaves TZID text to the writer; Outlook writes Windows names), else
 * unknown and floating. */
static void
s_ptime_resolve (const s_ctx_t *ctx, icalcomponent *comp, struct icaltimetype t,
                 const char *tzid, s_ptime_t *out)
{
    *out = (s_ptime_t) { .local = t, .tzid = tzid };
    out->local.zone = NULL;
    if (t.is_date) {
        out->zone.kind = S_Z_DATE;
    } else if (icaltime_is_utc (t)) {
        out->zone.kind = S_Z_UTC;
    } else if (tzid && tzid[0]) {
        icaltimezone *z = s_builtin_zone (tzid);
        if (!z)
            z = s_file_zone (comp, tzid);
        const char *windows = z ? NULL : el_ics_windows_zone (tzid);
        if (windows) {
            z = s_builtin_zone (windows);
            out->zone_name = windows;
        }
        if (z == icaltimezone_get_utc_timezone ()) {
            out->zone.kind = S_Z_UTC;     /* TZID=UTC: stored as UTC, tzid "" */
        } else if (z) {
            out->zone.kind = S_Z_ZONE;
            out->zone.zone = z;
        } else {
            out->zone_name = NULL;
            out->unknown_zone = true;
            s_ptime_floating (ctx, out);
        }
    } else {
        s_ptime_floating (ctx, out);
    }
}

/* How a floating time is read, for problem reports. */
static const char *
s_floating_as (s_ctx_t *ctx)
{
    if (!ctx->site_zone)
        return "as floating";
    snprintf (ctx->floating_as, sizeof ctx->floating_as, "in the site's zone %s",
              ctx->site_tzid);
    return ctx->floating_as;
}

static int64_t
s_ptime_us (const s_ptime_t *pt)
{
    return s_local_to_us (&pt->zone, pt->local);
}

static const char *
s_param_tzid (icalproperty *p)
{
    icalparameter *tp = icalproperty_get_first_parameter (p, ICAL_TZID_PARAMETER);
    return tp ? icalparameter_get_tzid (tp) : NULL;
}

/* Normalised text of a DATE / DATE-TIME value (see el_ics.h). */
static void
s_time_text (const s_ctx_t *ctx, icalcomponent *comp, struct icaltimetype t, const char *tzid,
             char out[32], bool *unknown_zone)
{
    s_ptime_t pt;
    s_ptime_resolve (ctx, comp, t, tzid, &pt);
    struct icaltimetype w = pt.local;
    bool z = false;
    if (pt.zone.kind == S_Z_ZONE || pt.zone.kind == S_Z_UTC) {
        w = s_us_to_fields (s_ptime_us (&pt), false);
        z = true;
    }
    if (pt.unknown_zone)
        *unknown_zone = true;
    if (w.is_date)
        snprintf (out, 32, "%04d%02d%02d", w.year, w.month, w.day);
    else
        snprintf (out, 32, "%04d%02d%02dT%02d%02d%02d%s", w.year, w.month, w.day, w.hour,
                  w.minute, w.second, z ? "Z" : "");
}

static char *
s_strdup0 (const char *s)
{
    return strdup (s ? s : "");
}

static int
s_set_str (char **field, const char *s)
{
    char *c = s_strdup0 (s);
    if (!c)
        return -ENOMEM;
    if (*field && *field != protobuf_c_empty_string)
        free (*field);
    *field = c;
    return 0;
}

static int
s_push_str (char ***arr, size_t *n, const char *s)
{
    char **a = realloc (*arr, (*n + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    *arr = a;
    a[*n] = strdup (s);
    if (!a[*n])
        return -ENOMEM;
    (*n)++;
    return 0;
}

static int
s_ext_set (El__Event *ev, const char *key, const char *value)
{
    El__Event__ExtensionsEntry **a =
        realloc (ev->extensions, (ev->n_extensions + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    ev->extensions = a;
    El__Event__ExtensionsEntry *e = malloc (sizeof *e);
    if (!e)
        return -ENOMEM;
    el__event__extensions_entry__init (e);
    e->key = strdup (key);
    e->value = strdup (value);
    if (!e->key || !e->value) {
        free (e->key);
        free (e->value);
        free (e);
        return -ENOMEM;
    }
    a[ev->n_extensions++] = e;
    return 0;
}

void
el_ics_event_destroy (El__Event **ev_p)
{
    if (!ev_p || !*ev_p)
        return;
    el__event__free_unpacked (*ev_p, NULL);
    *ev_p = NULL;
}

static El__Event *
s_event_new (void)
{
    El__Event *ev = malloc (sizeof *ev);
    if (ev)
        el__event__init (ev);
    return ev;
}

/* Which property a libical X-LIC-ERROR text is about ("" when none). */
static void
s_error_prop (const char *text, char *out, size_t size)
{
    static const char *const marks[] = { "value in ", "No value for ", "for property ",
                                         "parameter in ", NULL };
    out[0] = '\0';
    for (size_t i = 0; marks[i]; i++) {
        const char *m = strstr (text, marks[i]);
        if (!m)
            continue;
        m += strlen (marks[i]);
        size_t n = 0;
        while (m[n] && (isalnum ((unsigned char) m[n]) || m[n] == '-') && n + 1 < size) {
            out[n] = m[n];
            n++;
        }
        out[n] = '\0';
        return;
    }
}

static bool
s_name_in (const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcasecmp (name, list[i]) == 0)
            return true;
    return false;
}

/* Look at libical's X-LIC-ERROR notes on the VEVENT's own properties. */
static int
s_event_errors (icalcomponent *c, s_ctx_t *ctx)
{
    static const char *const timing[] = { "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE",
                                          "EXDATE", "RECURRENCE-ID", "UID", NULL };
    static const char *const mapped[] = { "SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES",
                                          "URL", "STATUS", "SEQUENCE", "LAST-MODIFIED", NULL };
    for (icalproperty *p = icalcomponent_get_first_property (c, ICAL_XLICERROR_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_XLICERROR_PROPERTY)) {
        const char *text = icalproperty_get_xlicerror (p);
        if (!text)
            text = "";
        icalparameter *tp = icalproperty_get_first_parameter (p, ICAL_XLICERRORTYPE_PARAMETER);
        icalparameter_xlicerrortype type =
            tp ? icalparameter_get_xlicerrortype (tp) : ICAL_XLICERRORTYPE_NONE;
        char prop[40];
        s_error_prop (text, prop, sizeof prop);
        if (prop[0] && s_name_in (prop, timing)) {
            uint32_t line = s_line_of (ctx, prop);
            if (type == ICAL_XLICERRORTYPE_VALUEPARSEERROR)
                s_skip (ctx, line, "%s: %s", prop, text);
            else if (el_problems_add (ctx->pr, line, false, "%s: %s (parameter ignored)", prop, text) < 0)
                return -ENOMEM;
        } else if (prop[0] && s_name_in (prop, mapped)) {
            if (strncmp (text, "No value for", 12) == 0)
                continue;   /* an empty text property: "" is what we store */
            if (el_problems_add (ctx->pr, s_line_of (ctx, prop), false, "%s: %s", prop, text) < 0)
                return -ENOMEM;
        } else if (type == ICAL_XLICERRORTYPE_COMPONENTPARSEERROR) {
            if (el_problems_add (ctx->pr, ctx->line, false, "line ignored: %s", text) < 0)
                return -ENOMEM;
        }
        /* other properties are not imported: their faults lose nothing */
    }
    return 0;
}

/* Why the fields of @p t name no date or time, into @p buf; NULL when they
 * do. A DATE is a day of its month (RFC 5545 §3.3.4), a TIME an hour 0-23,
 * a minute 0-59 and a second 0-60 (§3.3.12, 60 for a leap second). libical
 * keeps impossible fields as written and moves them later (31 February
 * becomes 3 March): refused here instead. */
static const char *
s_impossible (struct icaltimetype t, char *buf, size_t size)
{
    if (icaltime_is_null_time (t))
        return NULL;
    if (t.month < 1 || t.month > 12)
        snprintf (buf, size, "no month %d", t.month);
    else if (t.day < 1 || t.day > icaltime_days_in_month (t.month, t.year))
        snprintf (buf, size, "no day %d in %04d-%02d", t.day, t.year, t.month);
    else if (!t.is_date && (t.hour < 0 || t.hour > 23))
        snprintf (buf, size, "no hour %d", t.hour);
    else if (!t.is_date && (t.minute < 0 || t.minute > 59))
        snprintf (buf, size, "no minute %d", t.minute);
    else if (!t.is_date && (t.second < 0 || t.second > 60))
        snprintf (buf, size, "no second %d", t.second);
    else
        return NULL;
    return buf;
}

/* Skip the event when the value of @p prop (at its line) is impossible.
 * @return true when skipped. */
static bool
s_refuse_impossible (s_ctx_t *ctx, const char *prop, struct icaltimetype t)
{
    char why[64];
    if (!s_impossible (t, why, sizeof why))
        return false;
    s_skip (ctx, s_line_of (ctx, prop), "%s: %s (RFC 5545 §3.3.4, §3.3.12)", prop, why);
    return true;
}

/* End of @p start + @p dur, days counted on the wall clock (RFC 5545 §3.3.6). */
static int64_t
s_add_duration (const s_ptime_t *start, struct icaldurationtype dur)
{
    struct icaltimetype t = start->local;
    int days = (int) (dur.days + 7 * dur.weeks);
    int secs = (int) (dur.hours * 3600 + dur.minutes * 60 + dur.seconds);
    if (dur.is_neg) {
        days = -days;
        secs = -secs;
    }
    t.day += days;
    if (!t.is_date)
        t.second += secs;
    t = icaltime_normalize (t);
    return s_local_to_us (&start->zone, t);
}

static int
s_rdate_text (const s_ctx_t *ctx, icalcomponent *comp, icalproperty *p, char *out, size_t size,
              bool *unknown)
{
    struct icaldatetimeperiodtype dp = icalproperty_get_rdate (p);
    const char *tzid = s_param_tzid (p);
    char a[32], b[64];
    if (!icaltime_is_null_time (dp.time)) {
        s_time_text (ctx, comp, dp.time, tzid, a, unknown);
        snprintf (out, size, "%s", a);
        return 0;
    }
    if (icaltime_is_null_time (dp.period.start))
        return EL_EINVAL;
    s_time_text (ctx, comp, dp.period.start, tzid, a, unknown);
    if (!icaltime_is_null_time (dp.period.end)) {
        s_time_text (ctx, comp, dp.period.end, tzid, b, unknown);
    } else {
        char *d = icaldurationtype_as_ical_string_r (dp.period.duration);
        if (!d)
            return -ENOMEM;
        snprintf (b, sizeof b, "%s", d);
        icalmemory_free_buffer (d);
    }
    snprintf (out, size, "%s/%s", a, b);
    return 0;
}

/* CATEGORIES (§3.8.1.2): libical gives one property per value, from one
 * line or several. When there is more than one value, keep them all in
 * extensions[EL_ICS_EXT_CATEGORIES] as one value text, "\\" and "\,"
 * escaped inside a value. */
static int
s_categories_keep (icalcomponent *c, El__Event *ev)
{
    size_t n = 0, len = 0;
    icalproperty *p;
    for (p = icalcomponent_get_first_property (c, ICAL_CATEGORIES_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_CATEGORIES_PROPERTY)) {
        const char *v = icalproperty_get_categories (p);
        n++;
        len += 2 * strlen (v ? v : "") + 1;
    }
    if (n < 2)
        return 0;
    char *all = malloc (len + 1), *o = all;
    if (!all)
        return -ENOMEM;
    for (p = icalcomponent_get_first_property (c, ICAL_CATEGORIES_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_CATEGORIES_PROPERTY)) {
        const char *v = icalproperty_get_categories (p);
        if (o != all)
            *o++ = ',';
        for (; v && *v; v++) {
            if (*v == ',' || *v == '\\')
                *o++ = '\\';
            *o++ = *v;
        }
    }
    *o = 0;
    int rc = s_ext_set (ev, EL_ICS_EXT_CATEGORIES, all);
    free (all);
    return rc;
}

/* Map one VEVENT. On success *ret is the event, or NULL when skipped
 * (the reason was reported). */
static int
s_event_from (icalcomponent *c, s_ctx_t *ctx, El__Event **ret)
{
    int rc = -ENOMEM;
    *ret = NULL;
    El__Event *ev = s_event_new ();
    if (!ev)
        goto out;

    rc = s_event_errors (c, ctx);
    if (rc < 0)
        goto out_free;
    rc = -ENOMEM;

    /* UID (§3.8.4.7) */
    icalproperty *p = icalcomponent_get_first_property (c, ICAL_UID_PROPERTY);
    if (p && s_set_str (&ev->uid, icalproperty_get_uid (p)) < 0)
        goto out_free;
    if (p && icalcomponent_get_next_property (c, ICAL_UID_PROPERTY)
        && el_problems_add (ctx->pr, s_line_of (ctx, "UID"), false, "several UIDs: the first is kept") < 0)
        goto out_free;

    /* DTSTART (§3.8.2.4) */
    s_ptime_t start;
    p = icalcomponent_get_first_property (c, ICAL_DTSTART_PROPERTY);
    if (!p) {
        s_skip (ctx, ctx->line, "no DTSTART");
        goto skipped;
    }
    struct icaltimetype t = icalproperty_get_dtstart (p);
    if (icaltime_is_null_time (t) || !icaltime_is_valid_time (t) || t.year < 1) {
        s_skip (ctx, s_line_of (ctx, "DTSTART"), "DTSTART: not a valid date or time");
        goto skipped;
    }
    if (s_refuse_impossible (ctx, "DTSTART", t))
        goto skipped;
    s_ptime_resolve (ctx, c, t, s_param_tzid (p), &start);
    if (start.unknown_zone
        && el_problems_add (ctx->pr, s_line_of (ctx, "DTSTART"), false,
                          "DTSTART: unknown time zone \"%s\" (no VTIMEZONE, not in the zone "
                          "database): time taken %s", start.tzid, s_floating_as (ctx)) < 0)
        goto out_free;
    ev->dtstart_us = s_ptime_us (&start);
    if (!s_us_in_range (ev->dtstart_us)) {
        s_skip (ctx, s_line_of (ctx, "DTSTART"), "DTSTART out of range");
        goto skipped;
    }
    ev->all_day = start.zone.kind == S_Z_DATE;
    ev->floating = start.zone.kind == S_Z_FLOATING;
    if (start.zone.kind == S_Z_ZONE) {
        const char *name = start.zone_name ? start.zone_name : start.tzid;
        icaltimezone *b = s_builtin_zone (name);
        if (b) {
            if (s_set_str (&ev->tzid, s_zone_name (b, name)) < 0)
                goto out_free;
        } else {
            if (s_set_str (&ev->tzid, start.tzid) < 0)
                goto out_free;
            icalcomponent *vtz = icaltimezone_get_component (start.zone.zone);
            char *text = vtz ? icalcomponent_as_ical_string_r (vtz) : NULL;
            if (!text)
                goto out_free;
            int erc = s_ext_set (ev, EL_ICS_EXT_VTIMEZONE, text);
            icalmemory_free_buffer (text);
            if (erc < 0)
                goto out_free;
        }
    }

    /* DTEND (§3.8.2.2) or DURATION (§3.8.2.5) */
    icalproperty *pe = icalcomponent_get_first_property (c, ICAL_DTEND_PROPERTY);
    icalproperty *pd = icalcomponent_get_first_property (c, ICAL_DURATION_PROPERTY);
    if (pe && pd
        && el_problems_add (ctx->pr, s_line_of (ctx, "DURATION"), false,
                          "both DTEND and DURATION: DURATION ignored") < 0)
        goto out_free;
    if (pe) {
        struct icaltimetype te = icalproperty_get_dtend (pe);
        s_ptime_t end;
        if (icaltime_is_null_time (te) || !icaltime_is_valid_time (te)) {
            s_skip (ctx, s_line_of (ctx, "DTEND"), "DTEND: not a valid date or time");
            goto skipped;
        }
        if (s_refuse_impossible (ctx, "DTEND", te))
            goto skipped;
        s_ptime_resolve (ctx, c, te, s_param_tzid (pe), &end);
        if (te.is_date != t.is_date) {
            if (el_problems_add (ctx->pr, s_line_of (ctx, "DTEND"), false,
                               "DTEND is a %s but DTSTART a %s (RFC 5545 §3.8.2.2): end dropped",
                               te.is_date ? "DATE" : "DATE-TIME",
                               t.is_date ? "DATE" : "DATE-TIME") < 0)
                goto out_free;
        } else {
            if (end.unknown_zone
                && el_problems_add (ctx->pr, s_line_of (ctx, "DTEND"), false,
                                  "DTEND: unknown time zone \"%s\": time taken %s",
                                  end.tzid, s_floating_as (ctx)) < 0)
                goto out_free;
            int64_t us = s_ptime_us (&end);
            if (us < ev->dtstart_us) {
                /* RFC 5545 §3.8.2.2: DTEND is later than DTSTART */
                s_skip (ctx, s_line_of (ctx, "DTEND"), "DTEND before DTSTART (RFC 5545 §3.8.2.2)");
                goto skipped;
            } else if (!s_us_in_range (us)) {
                if (el_problems_add (ctx->pr, s_line_of (ctx, "DTEND"), false,
                                   "DTEND out of range: end dropped") < 0)
                    goto out_free;
            } else {
                ev->dtend_us = us;
            }
        }
    } else if (pd) {
        struct icaldurationtype d = icalproperty_get_duration (pd);
        if (d.is_neg) {
            if (el_problems_add (ctx->pr, s_line_of (ctx, "DURATION"), false,
                               "negative DURATION: end dropped") < 0)
                goto out_free;
        } else {
            if (t.is_date && (d.hours || d.minutes || d.seconds)
                && el_problems_add (ctx->pr, s_line_of (ctx, "DURATION"), false,
                                  "DURATION with hours on an all-day event: only days kept") < 0)
                goto out_free;
            if (t.is_date)
                d.hours = d.minutes = d.seconds = 0;
            int64_t us = s_add_duration (&start, d);
            if (s_us_in_range (us) && us >= ev->dtstart_us) {
                ev->dtend_us = us;
                /* as written, for export */
                char *dt = icaldurationtype_as_ical_string_r (d);
                if (!dt)
                    goto out_free;
                char kept[96];
                snprintf (kept, sizeof kept, "%s %" PRId64, dt, us - ev->dtstart_us);
                icalmemory_free_buffer (dt);
                if (s_ext_set (ev, EL_ICS_EXT_DURATION, kept) < 0)
                    goto out_free;
            }
        }
    }

    /* RRULE (§3.8.5.3) */
    p = icalcomponent_get_first_property (c, ICAL_RRULE_PROPERTY);
    if (p) {
        struct icalrecurrencetype r = icalproperty_get_rrule (p);
        if (r.freq == ICAL_NO_RECURRENCE) {
            s_skip (ctx, s_line_of (ctx, "RRULE"), "RRULE: no FREQ libical can read");
            goto skipped;
        }
        struct icaltimetype it_start = start.local;
        icalrecur_iterator *it = icalrecur_iterator_new (r, it_start);
        if (!it) {
            s_skip (ctx, s_line_of (ctx, "RRULE"), "RRULE: libical cannot expand it");
            goto skipped;
        }
        icalrecur_iterator_free (it);
        char *text = icalrecurrencetype_as_string_r (&r);
        if (!text)
            goto out_free;
        int src = s_set_str (&ev->rrule, text);
        icalmemory_free_buffer (text);
        if (src < 0)
            goto out_free;
        if (icalcomponent_get_next_property (c, ICAL_RRULE_PROPERTY)
            && el_problems_add (ctx->pr, s_line_of (ctx, "RRULE"), false,
                              "several RRULEs: only the first is kept") < 0)
            goto out_free;
    }
    if (icalcomponent_get_first_property (c, ICAL_EXRULE_PROPERTY)
        && el_problems_add (ctx->pr, s_line_of (ctx, "EXRULE"), false,
                          "EXRULE (deprecated by RFC 5545) ignored") < 0)
        goto out_free;

    /* RDATE (§3.8.5.2), EXDATE (§3.8.5.1), RECURRENCE-ID (§3.8.4.4) */
    bool unknown = false;
    for (p = icalcomponent_get_first_property (c, ICAL_RDATE_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_RDATE_PROPERTY)) {
        char text[128];
        struct icaldatetimeperiodtype dp = icalproperty_get_rdate (p);
        if (s_refuse_impossible (ctx, "RDATE", dp.time)
            || s_refuse_impossible (ctx, "RDATE", dp.period.start)
            || s_refuse_impossible (ctx, "RDATE", dp.period.end))
            goto skipped;
        int trc = s_rdate_text (ctx, c, p, text, sizeof text, &unknown);
        if (trc == -ENOMEM)
            goto out_free;
        if (trc < 0) {
            s_skip (ctx, s_line_of (ctx, "RDATE"), "RDATE: not a date, time or period");
            goto skipped;
        }
        if (s_push_str (&ev->rdate, &ev->n_rdate, text) < 0)
            goto out_free;
    }
    for (p = icalcomponent_get_first_property (c, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_EXDATE_PROPERTY)) {
        struct icaltimetype x = icalproperty_get_exdate (p);
        if (icaltime_is_null_time (x)) {
            s_skip (ctx, s_line_of (ctx, "EXDATE"), "EXDATE: not a date or time");
            goto skipped;
        }
        if (s_refuse_impossible (ctx, "EXDATE", x))
            goto skipped;
        char text[32];
        s_time_text (ctx, c, x, s_param_tzid (p), text, &unknown);
        if (s_push_str (&ev->exdate, &ev->n_exdate, text) < 0)
            goto out_free;
    }
    p = icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY);
    if (p) {
        struct icaltimetype x = icalproperty_get_recurrenceid (p);
        if (icaltime_is_null_time (x)) {
            s_skip (ctx, s_line_of (ctx, "RECURRENCE-ID"), "RECURRENCE-ID: not a date or time");
            goto skipped;
        }
        if (s_refuse_impossible (ctx, "RECURRENCE-ID", x))
            goto skipped;
        char text[32];
        s_time_text (ctx, c, x, s_param_tzid (p), text, &unknown);
        if (s_set_str (&ev->recurrence_id, text) < 0)
            goto out_free;
        if (icalproperty_get_first_parameter (p, ICAL_RANGE_PARAMETER)
            && el_problems_add (ctx->pr, s_line_of (ctx, "RECURRENCE-ID"), false,
                              "RECURRENCE-ID;RANGE=THISANDFUTURE: only this instance is changed") < 0)
            goto out_free;
    }
    if (unknown
        && el_problems_add (ctx->pr, ctx->line, false,
                          "RDATE, EXDATE or RECURRENCE-ID in an unknown time zone: taken %s",
                          s_floating_as (ctx)) < 0)
        goto out_free;

    /* Text and the rest */
    p = icalcomponent_get_first_property (c, ICAL_SUMMARY_PROPERTY);
    if (p && s_set_str (&ev->summary, icalproperty_get_summary (p)) < 0)
        goto out_free;
    p = icalcomponent_get_first_property (c, ICAL_DESCRIPTION_PROPERTY);
    if (p && s_set_str (&ev->description, icalproperty_get_description (p)) < 0)
        goto out_free;
    p = icalcomponent_get_first_property (c, ICAL_LOCATION_PROPERTY);
    if (p && s_set_str (&ev->location, icalproperty_get_location (p)) < 0)
        goto out_free;
    p = icalcomponent_get_first_property (c, ICAL_CATEGORIES_PROPERTY);
    if (p && s_set_str (&ev->category, icalproperty_get_categories (p)) < 0)
        goto out_free;
    if (s_categories_keep (c, ev) < 0)
        goto out_free;
    p = icalcomponent_get_first_property (c, ICAL_URL_PROPERTY);
    if (p && s_set_str (&ev->url, icalproperty_get_url (p)) < 0)
        goto out_free;
    p = icalcomponent_get_first_property (c, ICAL_STATUS_PROPERTY);
    if (p) {
        switch (icalproperty_get_status (p)) {
        case ICAL_STATUS_TENTATIVE: ev->status = EL__EVENT_STATUS__TENTATIVE; break;
        case ICAL_STATUS_CONFIRMED: ev->status = EL__EVENT_STATUS__CONFIRMED; break;
        case ICAL_STATUS_CANCELLED: ev->status = EL__EVENT_STATUS__CANCELLED; break;
        default: break;
        }
    }
    p = icalcomponent_get_first_property (c, ICAL_SEQUENCE_PROPERTY);
    if (p) {
        int seq = icalproperty_get_sequence (p);
        if (seq < 0) {
            if (el_problems_add (ctx->pr, s_line_of (ctx, "SEQUENCE"), false,
                               "negative SEQUENCE taken as 0") < 0)
                goto out_free;
            seq = 0;
        }
        ev->sequence = (uint32_t) seq;
    }
    p = icalcomponent_get_first_property (c, ICAL_LASTMODIFIED_PROPERTY);
    if (p) {
        struct icaltimetype lm = icalproperty_get_lastmodified (p);
        if (!icaltime_is_null_time (lm) && icaltime_is_valid_time (lm)) {
            int64_t us = s_fields_to_us (lm);   /* UTC by §3.8.7.3 */
            if (s_us_in_range (us))
                ev->last_modified_us = us;
        }
    }
    for (p = icalcomponent_get_first_property (c, ICAL_X_PROPERTY); p;
         p = icalcomponent_get_next_property (c, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name (p);
        const char *value = icalproperty_get_x (p);
        if (!name || !value)
            continue;
        if (strcasecmp (name, "X-ENTRELAB-CAPACITY") == 0) {
            char *end;
            errno = 0;
            unsigned long cap = strtoul (value, &end, 10);
            if (errno || end == value || *end || cap > UINT32_MAX || value[0] == '-') {
                if (el_problems_add (ctx->pr, s_line_of (ctx, name), false,
                                   "X-ENTRELAB-CAPACITY: not a number of places") < 0)
                    goto out_free;
            } else {
                ev->capacity = (uint32_t) cap;
            }
        } else if (strcasecmp (name, "X-ENTRELAB-SITE") == 0) {
            uint8_t key[EL_KEY_BYTES];
            size_t klen = 0;
            if (sodium_base642bin (key, sizeof key, value, strlen (value), NULL, &klen, NULL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
                || klen != EL_KEY_BYTES) {
                if (el_problems_add (ctx->pr, s_line_of (ctx, name), false,
                                   "X-ENTRELAB-SITE: not a site id") < 0)
                    goto out_free;
            } else {
                ev->site.data = malloc (EL_KEY_BYTES);
                if (!ev->site.data)
                    goto out_free;
                memcpy (ev->site.data, key, EL_KEY_BYTES);
                ev->site.len = EL_KEY_BYTES;
            }
        }
    }

    if (!ev->uid[0]) {
        char uid[64];
        if (el_ics_event_derive_uid (ev, uid, sizeof uid) < 0) {
            rc = -EIO;
            goto out_free;
        }
        if (s_set_str (&ev->uid, uid) < 0)
            goto out_free;
    }
    size_t packed = el__event__get_packed_size (ev);
    if (packed > EL_PAYLOAD_MAX) {
        s_skip (ctx, ctx->line, "event is %zu bytes once packed, over the %u-byte record cap",
                packed, EL_PAYLOAD_MAX);
        goto skipped;
    }
    if (ctx->skip_reason)
        goto skipped;
    *ret = ev;
    return 0;

skipped:
    el_ics_event_destroy (&ev);
    if (el_problems_add (ctx->pr, ctx->skip_line, true, "event skipped: %s", ctx->skip_reason) < 0)
        return -ENOMEM;
    return 0;
out_free:
    el_ics_event_destroy (&ev);
out:
    return rc;
}

typedef struct {
    icalcomponent **v;
    size_t n, cap;
} s_comps_t;

static int
s_comps_push (s_comps_t *cs, icalcomponent *c)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 32;
        icalcomponent **v = realloc (cs->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        cs->v = v;
        cs->cap = cap;
    }
    cs->v[cs->n++] = c;
    return 0;
}

/* The VEVENTs of one top-level component: itself, or a VCALENDAR's children. */
static int
s_collect_top (icalcomponent *top, s_comps_t *cs)
{
    icalcomponent_kind k = icalcomponent_isa (top);
    if (k == ICAL_VEVENT_COMPONENT)
        return s_comps_push (cs, top);
    if (k != ICAL_VCALENDAR_COMPONENT)
        return 0;
    for (icalcomponent *e = icalcomponent_get_first_component (top, ICAL_VEVENT_COMPONENT); e;
         e = icalcomponent_get_next_component (top, ICAL_VEVENT_COMPONENT))
        if (s_comps_push (cs, e) < 0)
            return -ENOMEM;
    return 0;
}

/* VEVENTs that libical built, in document order (the rule s_scan follows):
 * several top-level components come wrapped in an XROOT. */
static int
s_collect (icalcomponent *root, s_comps_t *cs)
{
    if (icalcomponent_isa (root) != ICAL_XROOT_COMPONENT)
        return s_collect_top (root, cs);
    for (icalcomponent *top = icalcomponent_get_first_component (root, ICAL_ANY_COMPONENT); top;
         top = icalcomponent_get_next_component (root, ICAL_ANY_COMPONENT))
        if (s_collect_top (top, cs) < 0)
            return -ENOMEM;
    return 0;
}

static int
s_cmp_str (const char *a, const char *b)
{
    return strcmp (a ? a : "", b ? b : "");
}

typedef struct {
    El__Event *ev;
    uint32_t line;
    size_t order;
} s_item_t;

static int
s_item_cmp (const void *x, const void *y)
{
    const s_item_t *a = x, *b = y;
    int c = s_cmp_str (a->ev->uid, b->ev->uid);
    if (c == 0)
        c = s_cmp_str (a->ev->recurrence_id, b->ev->recurrence_id);
    if (c == 0)
        c = a->order < b->order ? -1 : a->order > b->order;
    return c;
}

static int
s_order_cmp (const void *x, const void *y)
{
    const s_item_t *a = x, *b = y;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int
s_problem_cmp (const void *x, const void *y)
{
    const el_ics_problem_t *a = x, *b = y;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Keep one event per (uid, recurrence_id): the newer, else the first. */
static int
s_dedupe (s_item_t *items, size_t *n, el_problems_t *pr)
{
    if (*n > 1)
        qsort (items, *n, sizeof *items, s_item_cmp);
    size_t out = 0;
    for (size_t i = 0; i < *n;) {
        size_t j = i + 1;
        size_t best = i;
        while (j < *n && s_cmp_str (items[j].ev->uid, items[i].ev->uid) == 0
               && s_cmp_str (items[j].ev->recurrence_id, items[i].ev->recurrence_id) == 0) {
            if (el_ics_event_is_newer (items[best].ev, items[j].ev))
                best = j;
            j++;
        }
        for (size_t k = i; k < j; k++) {
            if (k == best)
                continue;
            if (el_problems_add (pr, items[k].line, true,
                               "event skipped: UID \"%s\" also at line %u, which is kept",
                               items[k].ev->uid, items[best].line) < 0)
                return -ENOMEM;
            el_ics_event_destroy (&items[k].ev);
        }
        items[out++] = items[best];
        i = j;
    }
    *n = out;
    if (out > 1)
        qsort (items, out, sizeof *items, s_order_cmp);
    return 0;
}

static void
s_import_free (el_ics_import_t *self)
{
    if (!self)
        return;
    for (size_t i = 0; i < self->n_events; i++)
        el_ics_event_destroy (&self->events[i]);
    free (self->events);
    free (self->lines);
    el_problems_free (&self->problems);
    free (self);
}

void
el_ics_import_destroy (el_ics_import_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_import_free (*self_p);
    *self_p = NULL;
}

El__Event *
el_ics_import_take (el_ics_import_t *self, size_t i)
{
    if (!self || i >= self->n_events)
        return NULL;
    El__Event *ev = self->events[i];
    self->events[i] = NULL;
    return ev;
}

int
el_ics_import (const char *data, size_t len, el_ics_import_t **ret, el_ics_error_t *err)
{
    return el_ics_import_in_zone (data, len, NULL, ret, err);
}

int
el_ics_import_in_zone (const char *data, size_t len, const char *site_tzid,
                       el_ics_import_t **ret, el_ics_error_t *err)
{
    icaltimezone *site_zone = NULL;
    char site_name[S_TZID_MAX] = "";
    if (site_tzid && site_tzid[0]) {
        site_zone = s_builtin_zone (site_tzid);
        if (!site_zone) {
            el_file_error_set (err, 0, "unknown time zone \"%s\" for floating times", site_tzid);
            return EL_EINVAL;
        }
        if (site_zone == icaltimezone_get_utc_timezone ())
            site_zone = NULL;   /* a site on UTC: floating times stay floating */
        /* a copy: libical replaces a builtin zone's location text when it
         * loads the zone's data */
        snprintf (site_name, sizeof site_name, "%s", s_zone_name (site_zone, site_tzid));
    }
    int rc = -EIO;
    if (sodium_init () < 0)
        goto out;
    rc = EL_ETOOBIG;
    if (len > EL_ICS_MAX_BYTES) {
        el_file_error_set (err, 0, "file is %zu bytes, over the %u-byte cap", len, EL_ICS_MAX_BYTES);
        goto out;
    }
    if (!data)
        len = 0;
    if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    s_scan_t scan = { 0 };
    el_problems_t pr = { 0 };
    icalcomponent *root = NULL;
    s_comps_t comps = { 0 };
    s_item_t *items = NULL;
    size_t n_items = 0;
    el_ics_import_t *self = NULL;
    char *text = NULL;

    rc = s_scan (data, len, &scan, err);
    if (rc < 0)
        goto out_free;
    rc = -ENOMEM;
    text = malloc (len + 1);
    if (!text)
        goto out_free;
    memcpy (text, data, len);
    text[len] = '\0';

    if (icalerror_get_errors_are_fatal ())
        icalerror_set_errors_are_fatal (0);   /* never abort on what a file holds */
    icalerror_clear_errno ();
    root = icalparser_parse_string (text);
    if (!root) {
        rc = EL_EINVAL;
        el_file_error_set (err, 0, "libical could not parse the file");
        goto out_free;
    }
    rc = s_collect (root, &comps);
    if (rc < 0)
        goto out_free;
    size_t n_comps = comps.n;
    bool lines_known = n_comps == scan.n;
    if (scan.trailing_line) {
        rc = el_problems_add (&pr, scan.trailing_line, false, "text outside any component ignored");
        if (rc < 0)
            goto out_free;
    }

    rc = -ENOMEM;
    items = calloc (n_comps ? n_comps : 1, sizeof *items);
    if (!items)
        goto out_free;
    for (size_t i = 0; i < n_comps; i++) {
        s_ctx_t ctx = { .buf = data, .pr = &pr, .span = lines_known ? &scan.spans[i] : NULL,
                        .line = lines_known ? scan.spans[i].line : 0, .site_zone = site_zone,
                        .site_tzid = site_zone ? site_name : NULL };
        El__Event *ev = NULL;
        rc = s_event_from (comps.v[i], &ctx, &ev);
        if (rc < 0)
            goto out_free;
        if (ev)
            items[n_items++] = (s_item_t) { .ev = ev, .line = ctx.line, .order = i };
    }
    rc = s_dedupe (items, &n_items, &pr);
    if (rc < 0)
        goto out_free;

    rc = -ENOMEM;
    self = calloc (1, sizeof *self);
    if (!self)
        goto out_free;
    self->events = calloc (n_items ? n_items : 1, sizeof *self->events);
    self->lines = calloc (n_items ? n_items : 1, sizeof *self->lines);
    if (!self->events || !self->lines)
        goto out_free;
    for (size_t i = 0; i < n_items; i++) {
        self->events[i] = items[i].ev;
        self->lines[i] = items[i].line;
        items[i].ev = NULL;
    }
    self->n_events = n_items;
    n_items = 0;
    if (pr.n > 1)
        qsort (pr.items, pr.n, sizeof *pr.items, s_problem_cmp);  /* not stable: equal lines are rare */
    self->problems = pr;
    pr.items = NULL;
    *ret = self;
    self = NULL;
    rc = 0;

out_free:
    s_import_free (self);
    for (size_t i = 0; i < n_items; i++)
        el_ics_event_destroy (&items[i].ev);
    free (items);
    free (comps.v);
    if (root)
        icalcomponent_free (root);
    free (text);
    free (scan.spans);
    free (pr.items);
out:
    return rc;
}

/* ================================================================ comparisons, keys */

bool
el_ics_event_is_newer (const El__Event *current, const El__Event *incoming)
{
    if (incoming->sequence != current->sequence)
        return incoming->sequence > current->sequence;
    return incoming->last_modified_us > current->last_modified_us;
}

static bool
s_strv_same (char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (s_cmp_str (a[i], b[i]) != 0)
            return false;
    return true;
}

static bool
s_ext_subset (const El__Event *a, const El__Event *b)
{
    for (size_t i = 0; i < a->n_extensions; i++) {
        const char *v = s_ext_get (b, a->extensions[i]->key);
        if (!v || s_cmp_str (v, a->extensions[i]->value) != 0)
            return false;
    }
    return true;
}

bool
el_ics_event_same (const El__Event *a, const El__Event *b)
{
    return s_cmp_str (a->uid, b->uid) == 0 && s_cmp_str (a->summary, b->summary) == 0
           && s_cmp_str (a->description, b->description) == 0
           && a->dtstart_us == b->dtstart_us && a->dtend_us == b->dtend_us
           && s_cmp_str (a->tzid, b->tzid) == 0 && a->all_day == b->all_day
           && s_cmp_str (a->rrule, b->rrule) == 0
           && s_strv_same (a->rdate, a->n_rdate, b->rdate, b->n_rdate)
           && s_strv_same (a->exdate, a->n_exdate, b->exdate, b->n_exdate)
           && s_cmp_str (a->recurrence_id, b->recurrence_id) == 0
           && a->site.len == b->site.len
           && (a->site.len == 0 || memcmp (a->site.data, b->site.data, a->site.len) == 0)
           && s_cmp_str (a->location, b->location) == 0
           && s_cmp_str (a->category, b->category) == 0 && a->capacity == b->capacity
           && a->status == b->status && s_cmp_str (a->url, b->url) == 0
           && a->sequence == b->sequence && a->last_modified_us == b->last_modified_us
           && a->floating == b->floating && a->n_extensions == b->n_extensions
           && s_ext_subset (a, b) && s_ext_subset (b, a);
}

static void
s_hex (const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int
el_ics_event_key (const El__Event *ev, char *out, size_t out_size)
{
    if (!ev->uid || !ev->uid[0] || out_size < EL_RECORD_KEY_MAX + 1)
        return EL_EINVAL;
    if (sodium_init () < 0)
        return -EIO;
    size_t ul = strlen (ev->uid);
    size_t rl = ev->recurrence_id ? strlen (ev->recurrence_id) : 0;
    size_t total = ul + (rl ? rl + 1 : 0);
    if (total <= EL_RECORD_KEY_MAX) {
        memcpy (out, ev->uid, ul);
        if (rl) {
            out[ul] = '#';
            memcpy (out + ul + 1, ev->recurrence_id, rl);
        }
        out[total] = '\0';
        return 0;
    }
    crypto_generichash_state st;
    uint8_t h[16];
    crypto_generichash_init (&st, NULL, 0, sizeof h);
    crypto_generichash_update (&st, (const uint8_t *) ev->uid, ul);
    if (rl) {
        crypto_generichash_update (&st, (const uint8_t *) "#", 1);
        crypto_generichash_update (&st, (const uint8_t *) ev->recurrence_id, rl);
    }
    crypto_generichash_final (&st, h, sizeof h);
    memcpy (out, "uid-b2:", 7);
    s_hex (h, sizeof h, out + 7);
    return 0;
}

static void
s_hash_str (crypto_generichash_state *st, const char *s)
{
    s = s ? s : "";
    crypto_generichash_update (st, (const uint8_t *) s, strlen (s) + 1);  /* with the NUL */
}

int
el_ics_event_derive_uid (const El__Event *ev, char *out, size_t out_size)
{
    if (out_size < 48)
        return EL_EINVAL;
    if (sodium_init () < 0)
        return -EIO;
    crypto_generichash_state st;
    uint8_t h[16];
    char num[64];
    crypto_generichash_init (&st, NULL, 0, sizeof h);
    s_hash_str (&st, ev->summary);
    snprintf (num, sizeof num, "%lld/%lld/%d", (long long) ev->dtstart_us,
              (long long) ev->dtend_us, ev->all_day ? 1 : 0);
    s_hash_str (&st, num);
    s_hash_str (&st, ev->tzid);
    s_hash_str (&st, ev->rrule);
    s_hash_str (&st, ev->recurrence_id);
    s_hash_str (&st, ev->location);
    s_hash_str (&st, ev->description);
    crypto_generichash_final (&st, h, sizeof h);
    char hex[33];
    s_hex (h, sizeof h, hex);
    snprintf (out, out_size, "el-%s@entrelab", hex);
    return 0;
}

El__Event *
el_ics_event_dup (const El__Event *ev)
{
    size_t len = el__event__get_packed_size (ev);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return NULL;
    el__event__pack (ev, buf);
    El__Event *copy = el__event__unpack (NULL, len, buf);
    free (buf);
    return copy;
}

/* ================================================================ export */

typedef struct {
    char *tzid;
    icalcomponent *vtz;       /* owned clone, TZID = tzid */
    int64_t first_us;         /* earliest DTSTART written in this zone, UTC µs */
    bool builtin;             /* from the zone database, not a file's VTIMEZONE */
} s_used_zone_t;

typedef struct {
    s_used_zone_t *zones;
    size_t n;
} s_zones_t;

/* Another site's VTIMEZONE text is copied into our file: UTF-8 without
 * control characters (line ends and HTAB aside), or the zone is not used. */
static bool
s_zone_text_ok (const char *text)
{
    const uint8_t *p = (const uint8_t *) text;
    size_t left = strlen (text);
    while (left) {
        size_t n = el_text_utf8_seq (p, left);
        if (!n || *p == 0x7f || (*p < 0x20 && *p != '\r' && *p != '\n' && *p != '\t'))
            return false;
        p += n;
        left -= n;
    }
    return true;
}

static int
s_zones_note (s_zones_t *zs, const char *tzid, const El__Event *ev)
{
    for (size_t i = 0; i < zs->n; i++)
        if (strcmp (zs->zones[i].tzid, tzid) == 0) {
            if (ev->dtstart_us < zs->zones[i].first_us)
                zs->zones[i].first_us = ev->dtstart_us;
            return 0;
        }
    icalcomponent *vtz = NULL;
    icaltimezone *b = s_builtin_zone (tzid);
    if (b) {
        icalcomponent *src = icaltimezone_get_component (b);
        if (!src)
            return EL_EINVAL;
        vtz = icalcomponent_new_clone (src);
    } else {
        const char *text = s_ext_get (ev, EL_ICS_EXT_VTIMEZONE);
        if (!text || !s_zone_text_ok (text))
            return EL_EINVAL;
        vtz = icalparser_parse_string (text);
        if (vtz && icalcomponent_isa (vtz) != ICAL_VTIMEZONE_COMPONENT) {
            icalcomponent_free (vtz);
            return EL_EINVAL;
        }
    }
    if (!vtz)
        return -ENOMEM;
    icalproperty *p = icalcomponent_get_first_property (vtz, ICAL_TZID_PROPERTY);
    if (p)
        icalproperty_set_tzid (p, tzid);
    else
        icalcomponent_add_property (vtz, icalproperty_new_tzid (tzid));
    s_used_zone_t *a = realloc (zs->zones, (zs->n + 1) * sizeof *a);
    if (!a) {
        icalcomponent_free (vtz);
        return -ENOMEM;
    }
    zs->zones = a;
    a[zs->n].tzid = strdup (tzid);
    if (!a[zs->n].tzid) {
        icalcomponent_free (vtz);
        return -ENOMEM;
    }
    a[zs->n].vtz = vtz;
    a[zs->n].first_us = ev->dtstart_us;
    a[zs->n].builtin = b != NULL;
    zs->n++;
    return 0;
}

static struct icaltimetype
s_utc_time (int64_t us)
{
    struct icaltimetype t = s_us_to_fields (us, false);
    t.zone = icaltimezone_get_utc_timezone ();
    return t;
}

/* Keep only the observances from 1 January of the year of the zone's
 * earliest event on, as calendar servers write zones: the zone database's
 * history back to 1891 is ~190 lines per zone that no exported time needs
 * (every time of an event, RECURRENCE-ID and EXDATE included, follows its
 * DTSTART). Later years stay whole: a rule repeating for ever needs them.
 * A file's own VTIMEZONE is written as it came: import keeps its text, and
 * a re-import of our export must find the event unchanged. */
static void
s_zone_truncate (s_used_zone_t *z)
{
    if (!z->builtin)
        return;
    struct icaltimetype from = s_utc_time (z->first_us);
    from.month = 1;
    from.day = 1;
    from.hour = from.minute = from.second = 0;
    icaltimezone_truncate_vtimezone (z->vtz, from, icaltime_null_time (), 0);
}

static void
s_zones_free (s_zones_t *zs)
{
    for (size_t i = 0; i < zs->n; i++) {
        free (zs->zones[i].tzid);
        if (zs->zones[i].vtz)
            icalcomponent_free (zs->zones[i].vtz);
    }
    free (zs->zones);
    zs->zones = NULL;
    zs->n = 0;
}

/* A DTSTART/DTEND-like property for @p us in the event's form. */
static icalproperty *
s_time_prop (icalproperty *(*make) (struct icaltimetype), int64_t us, const s_zone_t *z,
             const char *tzid)
{
    struct icaltimetype t = s_local (z, us);
    if (z->kind == S_Z_ZONE)
        t.zone = NULL;   /* written with its TZID parameter below */
    icalproperty *p = make (t);
    if (!p)
        return NULL;
    if (z->kind == S_Z_ZONE)
        icalproperty_add_parameter (p, icalparameter_new_tzid (tzid));
    if (z->kind == S_Z_DATE)
        icalproperty_add_parameter (p, icalparameter_new_value (ICAL_VALUE_DATE));
    return p;
}

/* Parse one of our value texts (DATE, DATE-TIME, optional trailing Z). */
static bool
s_parse_time_text (const char *s, struct icaltimetype *ret)
{
    size_t n = strlen (s);
    if (n != 8 && n != 15 && n != 16)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (i == 8 && n > 8) ? c == 'T' : (i == 15) ? c == 'Z' : isdigit ((unsigned char) c);
        if (!ok)
            return false;
    }
    struct icaltimetype t = icaltime_from_string (s);
    if (icaltime_is_null_time (t) || !icaltime_is_valid_time (t))
        return false;
    *ret = t;
    return true;
}

static int
s_add_text_prop (icalcomponent *ve, icalproperty *(*make) (const char *), const char *text,
                 bool *degraded)
{
    if (!text || !text[0])
        return 0;
    char *clean = s_clean_text (text, degraded);
    if (!clean)
        return -ENOMEM;
    icalproperty *p = make (clean);
    free (clean);
    if (!p)
        return -ENOMEM;
    icalcomponent_add_property (ve, p);
    return 0;
}

static icalproperty *
s_new_summary (const char *s) { return icalproperty_new_summary (s); }
static icalproperty *
s_new_description (const char *s) { return icalproperty_new_description (s); }
static icalproperty *
s_new_location (const char *s) { return icalproperty_new_location (s); }
static icalproperty *
s_new_url (const char *s) { return icalproperty_new_url (s); }
static icalproperty *
s_new_uid (const char *s) { return icalproperty_new_uid (s); }

static icalproperty *
s_new_categories (const char *s)
{
    char *m = strdup (s);
    if (!m)
        return NULL;
    for (char *c = m; *c; c++)
        if (*c == ',')
            *c = S_COMMA_MARK;
    icalproperty *p = icalproperty_new_categories (m);
    free (m);
    return p;
}

/* One CATEGORIES property with every value of
 * extensions[EL_ICS_EXT_CATEGORIES] while its first value is still the
 * record's category (an edit of the category drops the others), else with
 * the category alone. */
static int
s_add_categories (icalcomponent *ve, const El__Event *ev, bool *degraded)
{
    const char *all = s_ext_get (ev, EL_ICS_EXT_CATEGORIES);
    if (!ev->category || !ev->category[0] || !all)
        return s_add_text_prop (ve, s_new_categories, ev->category, degraded);
    /* clean first (a peer's record may hold any bytes), then split on the
     * unescaped commas; a comma inside a value becomes the mark */
    char *vals = s_clean_text (all, degraded);
    if (!vals)
        return -ENOMEM;
    char *o = vals;
    for (const char *a = vals; *a; a++) {
        if (*a == '\\' && a[1]) {
            a++;
            *o++ = *a == ',' ? S_COMMA_MARK : *a;
        } else
            *o++ = *a;
    }
    *o = 0;
    size_t first = strcspn (vals, ",");
    char *cat = strdup (ev->category);
    if (!cat) {
        free (vals);
        return -ENOMEM;
    }
    for (char *m = cat; *m; m++)
        if (*m == ',')
            *m = S_COMMA_MARK;
    bool same = strlen (cat) == first && strncmp (vals, cat, first) == 0;
    free (cat);
    if (!same) {
        free (vals);
        return s_add_text_prop (ve, s_new_categories, ev->category, degraded);
    }
    /* the commas left separate values: libical writes them as they are */
    icalproperty *p = icalproperty_new_categories (vals);
    free (vals);
    if (!p)
        return -ENOMEM;
    icalcomponent_add_property (ve, p);
    return 0;
}

/* DURATION as imported (extensions[EL_ICS_EXT_DURATION]) while the event
 * still spans what it gave; NULL otherwise, and the caller writes DTEND. */
static icalproperty *
s_duration_prop (const El__Event *ev)
{
    const char *kept = s_ext_get (ev, EL_ICS_EXT_DURATION);
    char text[64];
    long long span;
    if (!kept || sscanf (kept, "%63s %lld", text, &span) != 2
        || span != ev->dtend_us - ev->dtstart_us || text[0] != 'P')
        return NULL;
    struct icaldurationtype d = icaldurationtype_from_string (text);
    icalerror_clear_errno ();
    if (icaldurationtype_is_bad_duration (d) || d.is_neg)
        return NULL;
    return icalproperty_new_duration (d);
}

/* RDATE / EXDATE / RECURRENCE-ID from one of our value texts. */
static icalproperty *
s_recur_prop (icalproperty_kind kind, const char *text)
{
    struct icaltimetype t;
    if (kind == ICAL_RDATE_PROPERTY && strchr (text, '/')) {
        char start[32];
        const char *slash = strchr (text, '/');
        size_t sl = (size_t) (slash - text);
        if (sl >= sizeof start)
            return NULL;
        memcpy (start, text, sl);
        start[sl] = '\0';
        if (!s_parse_time_text (start, &t) || t.is_date)
            return NULL;
        struct icalperiodtype per = icalperiodtype_from_string (text);
        icalerror_clear_errno ();
        if (icalperiodtype_is_null_period (per))
            return NULL;
        struct icaldatetimeperiodtype dp = { .time = icaltime_null_time (), .period = per };
        icalproperty *p = icalproperty_new_rdate (dp);
        if (p)
            icalproperty_add_parameter (p, icalparameter_new_value (ICAL_VALUE_PERIOD));
        return p;
    }
    if (!s_parse_time_text (text, &t))
        return NULL;
    icalproperty *p = NULL;
    if (kind == ICAL_RDATE_PROPERTY) {
        struct icaldatetimeperiodtype dp = { .time = t };
        dp.period = icalperiodtype_null_period ();
        p = icalproperty_new_rdate (dp);
    } else if (kind == ICAL_EXDATE_PROPERTY) {
        p = icalproperty_new_exdate (t);
    } else {
        p = icalproperty_new_recurrenceid (t);
    }
    if (p && t.is_date)
        icalproperty_add_parameter (p, icalparameter_new_value (ICAL_VALUE_DATE));
    return p;
}

static bool
s_tzid_writable (const char *tzid)
{
    /* a parameter value may hold anything but control characters and DQUOTE */
    bool changed = false;
    if (strchr (tzid, '"'))
        return false;
    char *c = s_clean_text (tzid, &changed);
    free (c);
    return !changed;
}

static int
s_event_to (const El__Event *ev, int64_t now_us, s_zones_t *zs, icalcomponent **ret,
            bool *degraded)
{
    int rc = -ENOMEM;
    *ret = NULL;
    if (!s_us_in_range (ev->dtstart_us)) {
        *degraded = true;
        return EL_EINVAL;
    }
    icalcomponent *ve = icalcomponent_new_vevent ();
    if (!ve)
        return -ENOMEM;

    s_zone_t z = { .kind = S_Z_UTC };
    const char *tzid = ev->tzid && ev->tzid[0] ? ev->tzid : NULL;
    if (ev->all_day) {
        z.kind = S_Z_DATE;
    } else if (ev->floating) {
        z.kind = S_Z_FLOATING;
    } else if (tzid) {
        s_zone_t ez;
        if (!s_tzid_writable (tzid) || s_event_zone (ev, &ez) < 0) {
            *degraded = true;          /* written in UTC */
        } else if (ez.kind == S_Z_UTC) {
            s_zone_release (&ez);
        } else {
            int zrc = s_zones_note (zs, tzid, ev);
            if (zrc == -ENOMEM) {
                s_zone_release (&ez);
                goto out_free;
            }
            if (zrc < 0) {
                *degraded = true;
                s_zone_release (&ez);
            } else {
                z = ez;
            }
        }
    }

    char uid[64];
    const char *u = ev->uid;
    if (!u || !u[0]) {
        if (el_ics_event_derive_uid (ev, uid, sizeof uid) < 0) {
            rc = -EIO;
            goto out_zone;
        }
        u = uid;
    }
    if (s_add_text_prop (ve, s_new_uid, u, degraded) < 0)
        goto out_zone;
    int64_t stamp = ev->last_modified_us ? ev->last_modified_us : now_us;
    if (!s_us_in_range (stamp))
        stamp = 0;
    icalcomponent_add_property (ve, icalproperty_new_dtstamp (s_utc_time (stamp)));
    icalproperty *p = s_time_prop (icalproperty_new_dtstart, ev->dtstart_us, &z, tzid);
    if (!p)
        goto out_zone;
    icalcomponent_add_property (ve, p);
    if (ev->dtend_us) {
        if (s_us_in_range (ev->dtend_us) && ev->dtend_us >= ev->dtstart_us) {
            p = s_duration_prop (ev);
            if (!p)
                p = s_time_prop (icalproperty_new_dtend, ev->dtend_us, &z, tzid);
            if (!p)
                goto out_zone;
            icalcomponent_add_property (ve, p);
        } else {
            *degraded = true;
        }
    }
    if (ev->rrule && ev->rrule[0]) {
        struct icalrecurrencetype r = icalrecurrencetype_from_string (ev->rrule);
        icalerror_clear_errno ();
        if (r.freq == ICAL_NO_RECURRENCE)
            *degraded = true;
        else
            icalcomponent_add_property (ve, icalproperty_new_rrule (r));
    }
    for (size_t i = 0; i < ev->n_rdate; i++) {
        p = ev->rdate[i] ? s_recur_prop (ICAL_RDATE_PROPERTY, ev->rdate[i]) : NULL;
        if (p)
            icalcomponent_add_property (ve, p);
        else
            *degraded = true;
    }
    for (size_t i = 0; i < ev->n_exdate; i++) {
        p = ev->exdate[i] ? s_recur_prop (ICAL_EXDATE_PROPERTY, ev->exdate[i]) : NULL;
        if (p)
            icalcomponent_add_property (ve, p);
        else
            *degraded = true;
    }
    if (ev->recurrence_id && ev->recurrence_id[0]) {
        p = s_recur_prop (ICAL_RECURRENCEID_PROPERTY, ev->recurrence_id);
        if (p)
            icalcomponent_add_property (ve, p);
        else
            *degraded = true;
    }
    if (s_add_text_prop (ve, s_new_summary, ev->summary, degraded) < 0
        || s_add_text_prop (ve, s_new_description, ev->description, degraded) < 0
        || s_add_text_prop (ve, s_new_location, ev->location, degraded) < 0
        || s_add_categories (ve, ev, degraded) < 0
        || s_add_text_prop (ve, s_new_url, ev->url, degraded) < 0)
        goto out_zone;
    switch (ev->status) {
    case EL__EVENT_STATUS__TENTATIVE:
        icalcomponent_add_property (ve, icalproperty_new_status (ICAL_STATUS_TENTATIVE));
        break;
    case EL__EVENT_STATUS__CONFIRMED:
        icalcomponent_add_property (ve, icalproperty_new_status (ICAL_STATUS_CONFIRMED));
        break;
    case EL__EVENT_STATUS__CANCELLED:
        icalcomponent_add_property (ve, icalproperty_new_status (ICAL_STATUS_CANCELLED));
        break;
    default:
        break;
    }
    icalcomponent_add_property (ve, icalproperty_new_sequence ((int) (ev->sequence > INT32_MAX
                                                                          ? INT32_MAX
                                                                          : ev->sequence)));
    if (ev->last_modified_us && s_us_in_range (ev->last_modified_us))
        icalcomponent_add_property (ve, icalproperty_new_lastmodified (
                                            s_utc_time (ev->last_modified_us)));
    if (ev->capacity) {
        char num[16];
        snprintf (num, sizeof num, "%u", ev->capacity);
        p = icalproperty_new_x (num);
        if (!p)
            goto out_zone;
        icalproperty_set_x_name (p, "X-ENTRELAB-CAPACITY");
        icalcomponent_add_property (ve, p);
    }
    if (ev->site.len == EL_KEY_BYTES) {
        char b64[EL_KEY_TEXT_BYTES + 4];
        sodium_bin2base64 (b64, sizeof b64, ev->site.data, ev->site.len,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        p = icalproperty_new_x (b64);
        if (!p)
            goto out_zone;
        icalproperty_set_x_name (p, "X-ENTRELAB-SITE");
        icalcomponent_add_property (ve, p);
    } else if (ev->site.len) {
        *degraded = true;
    }
    s_zone_release (&z);
    *ret = ve;
    return 0;

out_zone:
    s_zone_release (&z);
out_free:
    icalcomponent_free (ve);
    return rc;
}

typedef struct {
    char *buf;
    size_t len, cap;
} s_out_t;

static int
s_out_put (s_out_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc (o->buf, cap);
        if (!b)
            return -ENOMEM;
        o->buf = b;
        o->cap = cap;
    }
    memcpy (o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
    return 0;
}

/* Write one logical line folded at EL_ICS_LINE_OCTETS octets (RFC 5545
 * §3.1), never inside a UTF-8 sequence, with the comma marks escaped. */
static int
s_fold_line (s_out_t *o, const char *line, size_t len)
{
    /* expand the marks first */
    char *tmp = malloc (len * 2 + 1);
    if (!tmp)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == S_COMMA_MARK) {
            tmp[n++] = '\\';
            tmp[n++] = ',';
        } else {
            tmp[n++] = line[i];
        }
    }
    int rc = 0;
    size_t pos = 0;
    bool first = true;
    while (rc == 0) {
        size_t room = first ? EL_ICS_LINE_OCTETS : EL_ICS_LINE_OCTETS - 1;
        size_t take = n - pos;
        if (take > room) {
            take = room;
            while (take > 0 && ((uint8_t) tmp[pos + take] & 0xC0) == 0x80)
                take--;
        }
        if (!first)
            rc = s_out_put (o, " ", 1);
        if (rc == 0)
            rc = s_out_put (o, tmp + pos, take);
        if (rc == 0)
            rc = s_out_put (o, "\r\n", 2);
        pos += take;
        first = false;
        if (pos >= n)
            break;
    }
    free (tmp);
    return rc;
}

/* Unfold libical's output and fold it again our way. */
static int
s_refold (const char *in, s_out_t *o)
{
    int rc = 0;
    size_t cap = 256, len = 0;
    char *line = malloc (cap);
    if (!line)
        return -ENOMEM;
    bool have = false;
    for (const char *p = in; *p && rc == 0;) {
        const char *nl = strchr (p, '\n');
        size_t seg = nl ? (size_t) (nl - p) : strlen (p);
        size_t stop = seg;
        /* libical 3.0 may fold between a line's CR and its LF ("...\r" "\r\n "
         * "\n"): drop every CR at a segment's end, or one is left in the line */
        while (stop > 0 && p[stop - 1] == '\r')
            stop--;
        bool cont = have && (p[0] == ' ' || p[0] == '\t');
        if (!cont && have) {
            rc = s_fold_line (o, line, len);
            len = 0;
        }
        const char *src = cont ? p + 1 : p;
        size_t sl = cont ? stop - 1 : stop;
        if (cont && stop == 0)
            sl = 0;
        if (rc == 0 && len + sl + 1 > cap) {
            while (len + sl + 1 > cap)
                cap *= 2;
            char *b = realloc (line, cap);
            if (!b)
                rc = -ENOMEM;
            else
                line = b;
        }
        if (rc == 0) {
            memcpy (line + len, src, sl);
            len += sl;
            have = true;
        }
        p = nl ? nl + 1 : p + seg;
    }
    if (rc == 0 && have && len)
        rc = s_fold_line (o, line, len);
    free (line);
    return rc;
}

int
el_ics_export (const El__Event *const *events, size_t n, int64_t now_us, char **ret_text,
               size_t *ret_len, size_t *ret_degraded)
{
    if (n > EL_ICS_MAX_EVENTS)
        return EL_ETOOBIG;
    if (sodium_init () < 0)
        return -EIO;
    int rc = -ENOMEM;
    s_zones_t zs = { 0 };
    s_out_t out = { 0 };
    size_t degraded = 0;
    char *text = NULL;
    icalcomponent **ves = calloc (n ? n : 1, sizeof *ves);
    icalcomponent *cal = icalcomponent_new_vcalendar ();
    if (!ves || !cal)
        goto out_free;
    icalcomponent_add_property (cal, icalproperty_new_prodid (S_PRODID));
    icalcomponent_add_property (cal, icalproperty_new_version ("2.0"));
    icalcomponent_add_property (cal, icalproperty_new_calscale ("GREGORIAN"));
    for (size_t i = 0; i < n; i++) {
        bool d = false;
        if (!events[i]) {
            degraded++;
            continue;
        }
        rc = s_event_to (events[i], now_us, &zs, &ves[i], &d);
        if (rc == -ENOMEM || rc == -EIO)
            goto out_free;
        if (d || rc < 0)
            degraded++;
    }
    for (size_t i = 0; i < zs.n; i++) {
        s_zone_truncate (&zs.zones[i]);
        icalcomponent_add_component (cal, zs.zones[i].vtz);
        zs.zones[i].vtz = NULL;   /* cal owns it now */
    }
    for (size_t i = 0; i < n; i++) {
        if (ves[i]) {
            icalcomponent_add_component (cal, ves[i]);
            ves[i] = NULL;
        }
    }
    rc = -ENOMEM;
    text = icalcomponent_as_ical_string_r (cal);
    if (!text)
        goto out_free;
    rc = s_refold (text, &out);
    if (rc < 0)
        goto out_free;
    *ret_text = out.buf;
    *ret_len = out.len;
    out.buf = NULL;
    if (ret_degraded)
        *ret_degraded = degraded;
    rc = 0;

out_free:
    if (text)
        icalmemory_free_buffer (text);
    free (out.buf);
    if (ves)
        for (size_t i = 0; i < n; i++)
            if (ves[i])
                icalcomponent_free (ves[i]);
    free (ves);
    if (cal)
        icalcomponent_free (cal);
    s_zones_free (&zs);
    return rc;
}

/* ================================================================ expansion */

typedef struct {
    int64_t *v;
    size_t n, cap;
} s_vec_t;

static int
s_vec_push (s_vec_t *v, int64_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int64_t *a = realloc (v->v, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        v->v = a;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

static int
s_i64_cmp (const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;
    return a < b ? -1 : a > b;
}

/* An excluded instant (EXDATE or an override's RECURRENCE-ID). */
typedef struct {
    bool is_date;
    int64_t us;          /* DATE-TIME: UTC µs */
    int y, m, d;         /* DATE: local date */
} s_excl_t;

static int
s_excl_parse (const char *text, const s_zone_t *z, s_excl_t *out)
{
    struct icaltimetype t;
    if (!s_parse_time_text (text, &t))
        return EL_EINVAL;
    *out = (s_excl_t) { .is_date = t.is_date != 0 };
    if (t.is_date) {
        out->y = t.year;
        out->m = t.month;
        out->d = t.day;
    } else if (icaltime_is_utc (t)) {
        out->us = s_fields_to_us (t);
    } else {
        out->us = s_local_to_us (z, t);   /* floating: the event's own zone */
    }
    return 0;
}

static bool
s_excluded (const s_excl_t *ex, size_t n, const s_zone_t *z, int64_t us)
{
    bool have_local = false;
    struct icaltimetype local = icaltime_null_time ();
    for (size_t i = 0; i < n; i++) {
        if (!ex[i].is_date) {
            if (ex[i].us == us)
                return true;
            continue;
        }
        if (!have_local) {
            local = s_local (z, us);
            have_local = true;
        }
        if (local.year == ex[i].y && local.month == ex[i].m && local.day == ex[i].d)
            return true;
    }
    return false;
}

/* The start of an occurrence named by the DATE or DATE-TIME value @p text
 * (RDATE, RECURRENCE-ID) of an event read in zone @p z whose DTSTART is
 * @p start_local: a date in a timed event is at DTSTART's time of day, a
 * UTC time is that instant, any other time is local to the event's zone. */
static int
s_value_start (const char *text, const s_zone_t *z, struct icaltimetype start_local,
               int64_t *ret_us)
{
    struct icaltimetype t;
    if (!s_parse_time_text (text, &t))
        return EL_EINVAL;
    if (t.is_date && z->kind != S_Z_DATE) {
        t.is_date = 0;
        t.hour = start_local.hour;
        t.minute = start_local.minute;
        t.second = start_local.second;
        *ret_us = s_local_to_us (z, t);
    } else if (!t.is_date && icaltime_is_utc (t)) {
        *ret_us = s_fields_to_us (t);
    } else {
        *ret_us = s_local_to_us (z, t);
    }
    return 0;
}

int
el_ics_occurrence_start (const El__Event *ev, const char *text, int64_t *ret_us)
{
    if (!ev || !text || !ret_us)
        return EL_EINVAL;
    s_zone_t z;
    int rc = s_event_zone (ev, &z);
    if (rc < 0)
        return rc;
    rc = s_value_start (text, &z, s_local (&z, ev->dtstart_us), ret_us);
    s_zone_release (&z);
    return rc;
}

/* start + dur (dur >= 0), saturated. */
static int64_t
s_end_of (int64_t start, int64_t dur)
{
    return start > INT64_MAX - dur ? INT64_MAX : start + dur;
}

static bool
s_overlaps (int64_t s, int64_t dur, int64_t from, int64_t to)
{
    if (s >= to)
        return false;
    return dur > 0 ? s_end_of (s, dur) > from : s >= from;
}

/* A rule no date satisfies, for which libical's iterator would search
 * forward for centuries before giving up (a second or more each time):
 * a BYDAY ordinal beyond the weeks of its period (RFC 5545 §3.3.10: at most
 * 5 in a month, 53 in a year), e.g. FREQ=MONTHLY;BYDAY=8TH. */
static bool
s_rule_impossible (const struct icalrecurrencetype *r)
{
    bool in_month = r->freq == ICAL_MONTHLY_RECURRENCE
                    || (r->freq == ICAL_YEARLY_RECURRENCE
                        && r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX);
    int max = in_month ? 5 : 53;
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        int pos = icalrecurrencetype_day_position (r->by_day[i]);
        if (pos > max || pos < -max)
            return true;
    }
    return false;
}

/* Does rule @p r have any BYxxx part? */
static bool
s_rule_has_by (const struct icalrecurrencetype *r)
{
    return r->by_second[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_minute[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_hour[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX
           || r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/* Does every change of zone @p z's UTC offset between @p from_us and
 * @p to_us move the wall clock by a multiple of @p step_s seconds? (Read
 * month by month: a daylight-saving change or a new standard offset.)
 * libical's sub-daily walk moves later instances by what a change skips, so
 * a DTSTART moved by whole intervals keeps its grid only then. */
static bool
s_zone_shifts_whole (const s_zone_t *z, int64_t from_us, int64_t to_us, int64_t step_s)
{
    if (z->kind != S_Z_ZONE)
        return true;
    const int64_t month = (int64_t) 30 * S_US_PER_DAY;
    int prev = 0;
    for (int64_t t = from_us, i = 0; t <= to_us + month; t += month, i++) {
        if (i > 12 * 400)
            return false;       /* centuries apart: walked from DTSTART instead */
        struct icaltimetype u = icaltime_from_timet_with_zone ((time_t) (t / S_US_PER_S), 0,
                                                              icaltimezone_get_utc_timezone ());
        int dst = 0;
        int off = icaltimezone_get_utc_offset_of_utc_time (z->zone, &u, &dst);
        if (i > 0 && (off - prev) % step_s != 0)
            return false;
        prev = off;
    }
    return true;
}

/* An iterator of rule @p r from DTSTART @p start (local; @p start_us UTC)
 * that does not walk the years before the window: it yields every
 * occurrence that may overlap [@p from_us, ...) for occurrences lasting
 * @p dur_us, and may yield earlier ones. Without COUNT (which counts from
 * DTSTART), the walk starts a day before from_us - dur_us:
 *   - DAILY and longer: libical's icalrecur_iterator_set_start();
 *   - SECONDLY, MINUTELY, HOURLY without BYxxx parts: DTSTART moved by whole
 *     intervals on its wall clock (the same grid; set_start() does not keep
 *     it for INTERVAL > 1 in libical 3.0), when the zone's offset changes in
 *     between are whole intervals (s_zone_shifts_whole: libical's own walk
 *     moves later instances by what a spring-forward skips);
 *   - otherwise (sub-daily rules with BYxxx parts, where set_start() skips
 *     occurrences, and the intervals above) from DTSTART, as with COUNT.
 * @return the iterator (icalrecur_iterator_free), NULL on failure. */
static icalrecur_iterator *
s_iterator_near (struct icalrecurrencetype *r, const s_zone_t *z, struct icaltimetype start,
                 int64_t start_us, int64_t from_us, int64_t dur_us)
{
    const int64_t margin = dur_us < INT64_MAX - S_US_PER_DAY ? dur_us + S_US_PER_DAY : INT64_MAX;
    bool far = r->count == 0 && margin < INT64_MAX && from_us > INT64_MIN + margin
               && from_us - margin > start_us && s_us_in_range (from_us - margin);
    bool sub_daily = r->freq == ICAL_SECONDLY_RECURRENCE || r->freq == ICAL_MINUTELY_RECURRENCE
                     || r->freq == ICAL_HOURLY_RECURRENCE;
    int64_t unit = r->freq == ICAL_SECONDLY_RECURRENCE ? 1
                   : r->freq == ICAL_MINUTELY_RECURRENCE ? 60 : 3600;
    int64_t step = unit * (r->interval > 1 ? r->interval : 1);
    if (far && sub_daily && !s_rule_has_by (r)
        && s_zone_shifts_whole (z, start_us, from_us - margin, step)) {
        struct icaltimetype target = s_local (z, from_us - margin);
        /* wall-clock seconds between the two, both read as UTC fields */
        int64_t wall = (s_fields_to_us (target) - s_fields_to_us (start)) / S_US_PER_S;
        int64_t k = wall / step, by = k * step;    /* < 2^42 s: dates libical reads */
        if (k > 0) {
            struct icaltimetype moved = start;
            icaltime_adjust (&moved, (int) (by / 86400), 0, 0, (int) (by % 86400));
            return icalrecur_iterator_new (*r, moved);
        }
    }
    icalrecur_iterator *it = icalrecur_iterator_new (*r, start);
    if (it && far && !sub_daily)
        (void) icalrecur_iterator_set_start (it, s_local (z, from_us - margin));
    return it;
}

int
el_ics_expand (const El__Event *ev, const El__Event *const *overrides, size_t n_overrides,
               int64_t from_us, int64_t to_us, int64_t *ret_starts, size_t max, size_t *ret_n)
{
    if (from_us >= to_us || !s_us_in_range (ev->dtstart_us))
        return EL_EINVAL;
    int rc = 0;
    s_zone_t z;
    s_vec_t got = { 0 };
    s_excl_t *ex = NULL;
    size_t n_ex = 0;
    icalrecur_iterator *it = NULL;

    rc = s_event_zone (ev, &z);
    if (rc < 0)
        return rc;
    int64_t dur = el_span_us (ev->dtstart_us, ev->dtend_us);
    if (ev->all_day && ev->dtend_us == 0)
        dur = S_US_PER_DAY;
    bool single = ev->recurrence_id && ev->recurrence_id[0];
    size_t cap = max + ev->n_rdate + 1;   /* duplicates removed below */

    rc = -ENOMEM;
    ex = calloc (ev->n_exdate + n_overrides + 1, sizeof *ex);
    if (!ex)
        goto out;
    rc = EL_EINVAL;
    if (!single) {
        for (size_t i = 0; i < ev->n_exdate; i++)
            if (!ev->exdate[i] || s_excl_parse (ev->exdate[i], &z, &ex[n_ex++]) < 0)
                goto out;
        for (size_t i = 0; i < n_overrides; i++) {
            const El__Event *o = overrides[i];
            if (!o || !o->recurrence_id || !o->recurrence_id[0]
                || s_cmp_str (o->uid, ev->uid) != 0)
                continue;
            if (s_excl_parse (o->recurrence_id, &z, &ex[n_ex]) == 0)
                n_ex++;
        }
    }

#define S_CONSIDER(us_)                                                                   \
    do {                                                                                  \
        int64_t s_ = (us_);                                                               \
        if (s_overlaps (s_, dur, from_us, to_us) && !s_excluded (ex, n_ex, &z, s_)) {     \
            if (got.n >= cap) {                                                           \
                rc = EL_ETOOBIG;                                                          \
                goto out;                                                                 \
            }                                                                             \
            if (s_vec_push (&got, s_) < 0) {                                              \
                rc = -ENOMEM;                                                             \
                goto out;                                                                 \
            }                                                                             \
        }                                                                                 \
    } while (0)

    S_CONSIDER (ev->dtstart_us);
    if (!single && ev->rrule && ev->rrule[0]) {
        struct icalrecurrencetype r = icalrecurrencetype_from_string (ev->rrule);
        icalerror_clear_errno ();
        rc = EL_EINVAL;
        if (r.freq == ICAL_NO_RECURRENCE || s_rule_impossible (&r))
            goto out;
        struct icaltimetype start = s_local (&z, ev->dtstart_us);
        it = s_iterator_near (&r, &z, start, ev->dtstart_us, from_us, dur);
        if (!it)
            goto out;
        for (size_t steps = 0;; steps++) {
            if (steps >= EL_ICS_EXPAND_STEPS) {
                rc = EL_ETOOBIG;
                goto out;
            }
            struct icaltimetype t = icalrecur_iterator_next (it);
            if (icaltime_is_null_time (t))
                break;
            int64_t s = s_local_to_us (&z, t);
            /* local times come in order; a day of margin covers DST folds
             * (the difference taken unsigned: to_us may be near INT64_MIN) */
            if (s >= to_us && (uint64_t) s - (uint64_t) to_us > (uint64_t) S_US_PER_DAY)
                break;
            if (s != ev->dtstart_us)
                S_CONSIDER (s);
        }
    }
    if (!single) {
        struct icaltimetype start_local = s_local (&z, ev->dtstart_us);
        for (size_t i = 0; i < ev->n_rdate; i++) {
            const char *text = ev->rdate[i];
            char first[32];
            rc = EL_EINVAL;
            if (!text)
                goto out;
            size_t fl = strcspn (text, "/");
            if (fl >= sizeof first)
                goto out;
            memcpy (first, text, fl);
            first[fl] = '\0';
            int64_t s;
            if (s_value_start (first, &z, start_local, &s) < 0)
                goto out;
            S_CONSIDER (s);
        }
    }
#undef S_CONSIDER

    if (got.n > 1)
        qsort (got.v, got.n, sizeof *got.v, s_i64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < got.n; i++)
        if (u == 0 || got.v[u - 1] != got.v[i])
            got.v[u++] = got.v[i];
    rc = EL_ETOOBIG;
    if (u > max)
        goto out;
    if (u)
        memcpy (ret_starts, got.v, u * sizeof *got.v);
    *ret_n = u;
    rc = 0;
out:
    if (it)
        icalrecur_iterator_free (it);
    free (got.v);
    free (ex);
    s_zone_release (&z);
    return rc;
}

/* ================================================================ agenda */

typedef struct {
    const El__Event *ev;
    size_t index;
} s_ref_t;

static int
s_ref_cmp (const void *x, const void *y)
{
    const s_ref_t *a = x, *b = y;
    int c = s_cmp_str (a->ev->uid, b->ev->uid);
    if (c == 0)
        c = a->index < b->index ? -1 : a->index > b->index;
    return c;
}

static int
s_occ_cmp (const void *x, const void *y)
{
    const el_ics_occurrence_t *a = x, *b = y;
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    return a->event < b->event ? -1 : a->event > b->event;
}

static int64_t
s_duration (const El__Event *ev)
{
    if (ev->dtend_us > ev->dtstart_us)
        return el_span_us (ev->dtstart_us, ev->dtend_us);
    return ev->all_day && ev->dtend_us == 0 ? S_US_PER_DAY : 0;
}

int
el_ics_agenda (const El__Event *const *events, size_t n, int64_t from_us, int64_t to_us,
               el_ics_occurrence_t *ret, size_t max, size_t *ret_n)
{
    if (from_us >= to_us)
        return EL_EINVAL;
    int rc = -ENOMEM;
    size_t n_refs = 0, got = 0;
    s_ref_t *refs = calloc (n ? n : 1, sizeof *refs);
    const El__Event **ovs = calloc (n ? n : 1, sizeof *ovs);
    el_ics_occurrence_t *occ = calloc (max + 1, sizeof *occ);
    int64_t *starts = calloc (max + 1, sizeof *starts);
    if (!refs || !ovs || !occ || !starts)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (events[i])
            refs[n_refs++] = (s_ref_t) { .ev = events[i], .index = i };
    if (n_refs > 1)
        qsort (refs, n_refs, sizeof *refs, s_ref_cmp);

    for (size_t i = 0; i < n_refs;) {
        size_t j = i;
        size_t n_ovs = 0;
        while (j < n_refs && s_cmp_str (refs[j].ev->uid, refs[i].ev->uid) == 0) {
            if (refs[j].ev->recurrence_id && refs[j].ev->recurrence_id[0])
                ovs[n_ovs++] = refs[j].ev;
            j++;
        }
        for (size_t k = i; k < j; k++) {
            const El__Event *ev = refs[k].ev;
            bool is_override = ev->recurrence_id && ev->recurrence_id[0];
            size_t cnt = 0;
            int erc = el_ics_expand (ev, is_override ? NULL : ovs, is_override ? 0 : n_ovs,
                                     from_us, to_us, starts, max + 1 - got, &cnt);
            if (erc == EL_EINVAL) {
                /* unreadable recurrence: the first occurrence alone */
                int64_t d = s_duration (ev);
                cnt = 0;
                if (s_us_in_range (ev->dtstart_us) && s_overlaps (ev->dtstart_us, d, from_us, to_us)) {
                    starts[0] = ev->dtstart_us;
                    cnt = 1;
                }
            } else if (erc == -ENOMEM) {
                rc = -ENOMEM;
                goto out;
            } else if (erc < 0) {
                rc = EL_ETOOBIG;
                goto out;
            }
            if (got + cnt > max) {
                rc = EL_ETOOBIG;
                goto out;
            }
            int64_t d = s_duration (ev);
            for (size_t m = 0; m < cnt; m++)
                occ[got++] = (el_ics_occurrence_t) {
                    .event = refs[k].index, .start_us = starts[m],
                    .end_us = s_end_of (starts[m], d) };
        }
        i = j;
    }
    if (got > 1)
        qsort (occ, got, sizeof *occ, s_occ_cmp);
    if (got)
        memcpy (ret, occ, got * sizeof *occ);
    *ret_n = got;
    rc = 0;
out:
    free (refs);
    free (ovs);
    free (occ);
    free (starts);
    return rc;
}
