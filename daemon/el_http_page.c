/* el_http_page.c — the web endpoint's bodies, rendered from a snapshot
 * (el_http_page.h): RFC 5545, JSON and HTML, each with its own escaping. */
#include "el_http_page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "el_booking.h"
#include "el_http.h"
#include "entrelab.pb-c.h"

/* ------------------------------------------------------------ buffer */

static bool
s_grow (el_sb_t *sb, size_t more)
{
    if (sb->failed)
        return false;
    if (sb->len + more + 1 <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 4096;
    while (cap < sb->len + more + 1)
        cap *= 2;
    char *d = realloc (sb->data, cap);
    if (!d) {
        sb->failed = true;
        return false;
    }
    sb->data = d;
    sb->cap = cap;
    return true;
}

void
el_sb_put (el_sb_t *sb, const char *s, size_t len)
{
    if (!s_grow (sb, len))
        return;
    memcpy (sb->data + sb->len, s, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void
el_sb_puts (el_sb_t *sb, const char *s)
{
    el_sb_put (sb, s, strlen (s));
}

void
el_sb_printf (el_sb_t *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        el_sb_put (sb, small, (size_t) n);
        return;
    }
    if (!s_grow (sb, (size_t) n))
        return;
    va_start (ap, fmt);
    vsnprintf (sb->data + sb->len, (size_t) n + 1, fmt, ap);
    va_end (ap);
    sb->len += (size_t) n;
}

/* ------------------------------------------------------------ escaping */

static void
s_html (el_sb_t *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': el_sb_puts (sb, "&lt;"); break;
        case '>': el_sb_puts (sb, "&gt;"); break;
        case '&': el_sb_puts (sb, "&amp;"); break;
        case '"': el_sb_puts (sb, "&quot;"); break;
        case '\'': el_sb_puts (sb, "&#39;"); break;
        default: el_sb_put (sb, s, 1); break;
        }
    }
}

/* Percent-encode for a query value inside an href (then HTML-safe). */
static void
s_urlq (el_sb_t *sb, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char) *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || c == '.' || c == '~')
            el_sb_put (sb, s, 1);
        else
            el_sb_printf (sb, "%%%02X", c);
    }
}

static void
s_json_str (el_sb_t *sb, const char *s)
{
    el_sb_put (sb, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            el_sb_put (sb, "\\", 1);
            el_sb_put (sb, s, 1);
        } else if (c < 0x20 || c == 0x7f) {
            el_sb_printf (sb, "\\u%04x", c);
        } else if (c == '<') {
            el_sb_puts (sb, "\\u003c");     /* safe inside a <script> of a consumer */
        } else {
            el_sb_put (sb, s, 1);
        }
    }
    el_sb_put (sb, "\"", 1);
}

static void
s_json_field (el_sb_t *sb, const char *name, const char *value, bool last)
{
    s_json_str (sb, name);
    el_sb_put (sb, ":", 1);
    s_json_str (sb, value ? value : "");
    if (!last)
        el_sb_put (sb, ",", 1);
}

/* "name":["a","b"], as the CLI's --json writes a list of value texts. */
static void
s_json_list (el_sb_t *sb, const char *name, char *const *v, size_t n)
{
    s_json_str (sb, name);
    el_sb_puts (sb, ":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            el_sb_put (sb, ",", 1);
        s_json_str (sb, v[i]);
    }
    el_sb_puts (sb, "],");
}

/* "name":"value", or "name":null for an empty value. */
static void
s_json_or_null (el_sb_t *sb, const char *name, const char *value)
{
    if (value && value[0]) {
        s_json_field (sb, name, value, false);
        return;
    }
    s_json_str (sb, name);
    el_sb_puts (sb, ":null,");
}

/* Date of a UTC instant as "2027-09-01": an all-day event's dates (RFC 5545
 * §3.3.4) are stored as midnight UTC of the day. */
static void
s_date (int64_t us, char out[32])
{
    time_t t = (time_t) (us / 1000000);
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r (&t, &tm))
        strftime (out, 32, "%Y-%m-%d", &tm);
}

/* Time as "2026-12-03T17:30:00Z" (UTC); "" for 0. */
static void
s_iso (int64_t us, char out[32])
{
    out[0] = '\0';
    if (!us)
        return;
    time_t t = (time_t) (us / 1000000);
    struct tm tm;
    if (gmtime_r (&t, &tm))
        strftime (out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------ filters */

bool
el_http_event_match (const el_http_event_t *ev, const el_http_query_t *q)
{
    if (q->site && q->site[0] && strcmp (q->site, ev->site) && strcasecmp (q->site, ev->site_name))
        return false;
    if (q->category && q->category[0] && strcasecmp (q->category, ev->category))
        return false;
    return true;
}

static const char *
s_event_status (int st)
{
    switch (st) {
    case EL__EVENT_STATUS__TENTATIVE: return "tentative";
    case EL__EVENT_STATUS__CANCELLED: return "cancelled";
    case EL__EVENT_STATUS__CONFIRMED: return "confirmed";
    default: return "";
    }
}

/* The STATUS value of RFC 5545 §3.8.1.11 for an event's status; "" = none. */
static const char *
s_event_status_ics (int st)
{
    switch (st) {
    case EL__EVENT_STATUS__TENTATIVE: return "TENTATIVE";
    case EL__EVENT_STATUS__CANCELLED: return "CANCELLED";
    case EL__EVENT_STATUS__CONFIRMED: return "CONFIRMED";
    default: return "";
    }
}

/* ------------------------------------------------------------ RFC 5545 */

/* One content line: name (with parameters), ':', value already escaped;
 * folded at 75 octets (§3.1) without cutting a UTF-8 sequence; CRLF. */
static void
s_ics_line (el_sb_t *sb, const char *name, const char *value)
{
    el_sb_t line = { 0 };
    el_sb_puts (&line, name);
    el_sb_put (&line, ":", 1);
    el_sb_puts (&line, value);
    size_t col = 0;
    for (size_t i = 0; i < line.len; i++) {
        unsigned char c = (unsigned char) line.data[i];
        size_t clen = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (i + clen > line.len)
            clen = line.len - i;
        if (col + clen > 75) {
            el_sb_put (sb, "\r\n ", 3);
            col = 1;
        }
        el_sb_put (sb, line.data + i, clen);
        col += clen;
        i += clen - 1;
    }
    el_sb_put (sb, "\r\n", 2);
    if (line.failed)
        sb->failed = true;
    free (line.data);
}

/* TEXT value (§3.3.11): backslash, ';', ',' escaped, newlines as \n, other
 * control characters dropped. */
static void
s_ics_text (el_sb_t *sb, const char *name, const char *s)
{
    if (!s || !s[0])
        return;
    el_sb_t v = { 0 };
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '\\' || c == ';' || c == ',') {
            el_sb_put (&v, "\\", 1);
            el_sb_put (&v, s, 1);
        } else if (c == '\n') {
            el_sb_put (&v, "\\n", 2);
        } else if (c >= 0x20 && c != 0x7f) {
            el_sb_put (&v, s, 1);
        }
    }
    s_ics_line (sb, name, v.data ? v.data : "");
    if (v.failed)
        sb->failed = true;
    free (v.data);
}

/* A value that is not TEXT (RECUR, URI): control characters dropped so that
 * a record cannot add properties. */
static void
s_ics_raw (el_sb_t *sb, const char *name, const char *s)
{
    if (!s || !s[0])
        return;
    el_sb_t v = { 0 };
    for (; *s; s++)
        if ((unsigned char) *s >= 0x20 && *s != 0x7f)
            el_sb_put (&v, s, 1);
    s_ics_line (sb, name, v.data ? v.data : "");
    if (v.failed)
        sb->failed = true;
    free (v.data);
}

static void
s_ics_time (el_sb_t *sb, const char *name, int64_t us, bool date)
{
    time_t t = (time_t) (us / 1000000);
    struct tm tm;
    char v[32], n[48];
    if (!gmtime_r (&t, &tm))
        return;
    if (date) {
        strftime (v, sizeof v, "%Y%m%d", &tm);
        snprintf (n, sizeof n, "%s;VALUE=DATE", name);
    } else {
        strftime (v, sizeof v, "%Y%m%dT%H%M%SZ", &tm);
        snprintf (n, sizeof n, "%s", name);
    }
    s_ics_line (sb, n, v);
}

/* A time in the event's zone: NAME;TZID=zone:YYYYMMDDTHHMMSS (local). */
static void
s_ics_local (el_sb_t *sb, const char *name, const el_http_event_t *ev, int64_t us,
             int32_t off)
{
    time_t t = (time_t) (us / 1000000 + off);
    struct tm tm;
    char v[32], n[EL_TZ_NAME_MAX + 32];
    if (!gmtime_r (&t, &tm))
        return;
    strftime (v, sizeof v, "%Y%m%dT%H%M%S", &tm);
    snprintf (n, sizeof n, "%s;TZID=%s", name, ev->tzid);
    s_ics_line (sb, n, v);
}

/* A stored date value text: digits, 'T', 'Z', '/', and 'P' durations only,
 * so that it can add neither parameters nor lines. */
static bool
s_value_ok (const char *v)
{
    if (!v[0])
        return false;
    for (; *v; v++)
        if (!strchr ("0123456789TZPHMSDW/", *v))
            return false;
    return true;
}

static void
s_ics_dates (el_sb_t *sb, const char *name, char *const *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = vals[i];
        if (!s_value_ok (v))
            continue;
        char nm[40];
        snprintf (nm, sizeof nm, "%s%s", name, strchr (v, '/') ? ";VALUE=PERIOD"
                                               : strlen (v) == 8 ? ";VALUE=DATE" : "");
        s_ics_line (sb, nm, v);
    }
}

static void
s_ics_event (el_sb_t *sb, const el_http_event_t *ev)
{
    el_sb_puts (sb, "BEGIN:VEVENT\r\n");
    s_ics_text (sb, "UID", ev->uid);
    s_ics_time (sb, "DTSTAMP", ev->modified_us, false);
    if (ev->tz) {
        s_ics_local (sb, "DTSTART", ev, ev->start_us, ev->start_off);
        if (ev->end_us)
            s_ics_local (sb, "DTEND", ev, ev->end_us, ev->end_off);
    } else {
        s_ics_time (sb, "DTSTART", ev->start_us, ev->all_day);
        if (ev->end_us)
            s_ics_time (sb, "DTEND", ev->end_us, ev->all_day);
    }
    if (ev->recurrence_id[0]) {
        char *one[] = { ev->recurrence_id };
        s_ics_dates (sb, "RECURRENCE-ID", one, 1);
    }
    s_ics_raw (sb, "RRULE", ev->rrule);
    s_ics_dates (sb, "RDATE", ev->rdate, ev->rdate_n);
    s_ics_dates (sb, "EXDATE", ev->exdate, ev->exdate_n);
    s_ics_text (sb, "SUMMARY", ev->summary);
    s_ics_text (sb, "DESCRIPTION", ev->description);
    s_ics_text (sb, "LOCATION", ev->location);
    s_ics_text (sb, "CATEGORIES", ev->category);
    const char *st = s_event_status_ics (ev->status);
    if (st[0])
        s_ics_line (sb, "STATUS", st);
    s_ics_raw (sb, "URL", ev->url);
    if (ev->sequence)
        el_sb_printf (sb, "SEQUENCE:%u\r\n", ev->sequence);
    s_ics_text (sb, "X-ENTRELAB-SITE", ev->site_name);
    if (ev->capacity)
        el_sb_printf (sb, "X-ENTRELAB-CAPACITY:%u\r\n", ev->capacity);
    el_sb_puts (sb, "END:VEVENT\r\n");
}

static void
s_ics_offset (el_sb_t *sb, const char *name, int32_t off)
{
    int32_t a = off < 0 ? -off : off;
    el_sb_printf (sb, "%s:%c%02d%02d", name, off < 0 ? '-' : '+', (int) (a / 3600),
                  (int) (a / 60 % 60));
    if (a % 60)
        el_sb_printf (sb, "%02d", (int) (a % 60));
    el_sb_puts (sb, "\r\n");
}

/* One STANDARD or DAYLIGHT part: from @p from to @p to on rule @p c. */
static void
s_ics_onset (el_sb_t *sb, const char *part, const el_tz_change_t *c, int32_t from, int32_t to)
{
    static const char *const days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
    int32_t secs = c->secs < 0 || c->secs >= 86400 ? 7200 : c->secs;
    el_sb_printf (sb, "BEGIN:%s\r\nDTSTART:1970%02d%02dT%02d%02d%02d\r\n", part, c->month,
                  el_tz_change_day (c, 1970), (int) (secs / 3600), (int) (secs / 60 % 60),
                  (int) (secs % 60));
    el_sb_printf (sb, "RRULE:FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s\r\n", c->month,
                  c->week == 5 ? -1 : c->week, days[c->wday]);
    s_ics_offset (sb, "TZOFFSETFROM", from);
    s_ics_offset (sb, "TZOFFSETTO", to);
    el_sb_printf (sb, "END:%s\r\n", part);
}

/* VTIMEZONE of @p ev's zone, from the zone's current rule (or, without
 * one, its offset at the event's start): RFC 5545 wants one per TZID. */
static void
s_ics_vtimezone (el_sb_t *sb, const el_http_event_t *ev)
{
    el_tz_rule_t r;
    el_sb_puts (sb, "BEGIN:VTIMEZONE\r\n");
    s_ics_line (sb, "TZID", ev->tzid);
    if (el_tz_rule (ev->tz, &r) == 0 && r.has_dst) {
        s_ics_onset (sb, "DAYLIGHT", &r.start, r.std_off, r.dst_off);
        s_ics_onset (sb, "STANDARD", &r.end, r.dst_off, r.std_off);
    } else {
        int32_t off = el_tz_rule (ev->tz, &r) == 0 ? r.std_off : ev->start_off;
        el_sb_puts (sb, "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n");
        s_ics_offset (sb, "TZOFFSETFROM", off);
        s_ics_offset (sb, "TZOFFSETTO", off);
        el_sb_puts (sb, "END:STANDARD\r\n");
    }
    el_sb_puts (sb, "END:VTIMEZONE\r\n");
}

void
el_http_render_ics (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb)
{
    el_sb_puts (sb, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                    "PRODID:-//entrelab//entrelab web endpoint//EN\r\n"
                    "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    s_ics_text (sb, "X-WR-CALNAME", q->french ? "Agenda du réseau" : "The network's agenda");
    /* one VTIMEZONE per zone used, before the events */
    for (size_t i = 0; i < s->events_n; i++) {
        const el_http_event_t *e = &s->events[i];
        if (!e->tz || !el_http_event_match (e, q))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = s->events[j].tz == e->tz && el_http_event_match (&s->events[j], q);
        if (!seen)
            s_ics_vtimezone (sb, e);
    }
    for (size_t i = 0; i < s->events_n; i++)
        if (el_http_event_match (&s->events[i], q))
            s_ics_event (sb, &s->events[i]);
    el_sb_puts (sb, "END:VCALENDAR\r\n");
}

/* ------------------------------------------------------------ JSON */

void
el_http_render_events_json (const el_http_snap_t *s, el_sb_t *sb)
{
    el_sb_put (sb, "[", 1);
    for (size_t i = 0; i < s->events_n; i++) {
        const el_http_event_t *e = &s->events[i];
        char start[32], end[32];
        el_sb_puts (sb, i ? ",\n{" : "\n{");
        s_json_field (sb, "uid", e->uid, false);
        s_json_field (sb, "summary", e->summary, false);
        if (e->all_day) {
            /* dates, the end exclusive (§3.6.1): one day when none is stored */
            int64_t day = (int64_t) 86400 * 1000000;
            s_date (e->start_us, start);
            s_date (e->end_us > e->start_us ? e->end_us : e->start_us + day, end);
            s_json_field (sb, "start_date", start, false);
            s_json_field (sb, "end_date", end, false);
        } else {
            s_iso (e->start_us, start);
            s_iso (e->end_us, end);
        }
        s_json_field (sb, "start", start, false);
        s_json_field (sb, "end", end, false);
        el_sb_printf (sb, "\"start_us\":%lld,\"end_us\":%lld,\"all_day\":%s,",
                      (long long) e->start_us, (long long) e->end_us,
                      e->all_day ? "true" : "false");
        s_json_field (sb, "tzid", e->tzid, false);
        s_json_field (sb, "rrule", e->rrule, false);
        s_json_list (sb, "rdate", e->rdate, e->rdate_n);
        s_json_list (sb, "exdate", e->exdate, e->exdate_n);
        s_json_field (sb, "site", e->site, false);
        s_json_field (sb, "site_name", e->site_name, false);
        s_json_field (sb, "location", e->location, false);
        s_json_field (sb, "category", e->category, false);
        el_sb_printf (sb, "\"capacity\":%u,", e->capacity);
        s_json_field (sb, "status", s_event_status (e->status), false);
        s_json_field (sb, "url", e->url, false);
        s_json_field (sb, "description", e->description, false);
        s_json_or_null (sb, "recurrence_id", e->recurrence_id);
        el_sb_printf (sb, "\"sequence\":%u", e->sequence);
        el_sb_put (sb, "}", 1);
    }
    el_sb_puts (sb, "\n]\n");
}

void
el_http_render_equipment_json (const el_http_snap_t *s, el_sb_t *sb)
{
    el_sb_put (sb, "[", 1);
    for (size_t i = 0; i < s->equipment_n; i++) {
        const el_http_equipment_t *e = &s->equipment[i];
        el_sb_puts (sb, i ? ",\n{" : "\n{");
        s_json_field (sb, "owner", e->owner, false);
        s_json_field (sb, "owner_name", e->owner_name, false);
        s_json_field (sb, "key", e->key, false);
        s_json_field (sb, "name", e->name, false);
        s_json_field (sb, "category", e->category, false);
        s_json_field (sb, "make", e->make, false);
        s_json_field (sb, "model", e->model, false);
        s_json_field (sb, "status", e->status, false);
        s_json_field (sb, "required_training", e->training, false);
        s_json_field (sb, "bookable_by", e->bookable_by, false);
        s_json_field (sb, "location", e->location, true);
        el_sb_put (sb, "}", 1);
    }
    el_sb_puts (sb, "\n]\n");
}

void
el_http_render_sites_json (const el_http_snap_t *s, el_sb_t *sb)
{
    el_sb_put (sb, "[", 1);
    for (size_t i = 0; i < s->sites_n; i++) {
        const el_http_site_t *e = &s->sites[i];
        el_sb_puts (sb, i ? ",\n{" : "\n{");
        s_json_field (sb, "id", e->id, false);
        s_json_field (sb, "name", e->name, false);
        s_json_field (sb, "kind", e->kind, false);
        s_json_field (sb, "town", e->town, false);
        s_json_field (sb, "url", e->url, false);
        s_json_field (sb, "services", e->services, false);
        s_json_field (sb, "opening_hours", e->opening_hours, false);
        s_json_field (sb, "status", e->active ? "active" : "revoked", true);
        el_sb_put (sb, "}", 1);
    }
    el_sb_puts (sb, "\n]\n");
}

/* ------------------------------------------------------------ HTML */

static const char *const s_days_fr[] = { "dimanche", "lundi", "mardi", "mercredi", "jeudi",
                                         "vendredi", "samedi" };
static const char *const s_days_en[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday" };

static void
s_head (el_sb_t *sb, const el_http_query_t *q, const char *title, bool nav)
{
    el_sb_printf (sb, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>", q->french ? "fr" : "en");
    s_html (sb, title);
    el_sb_puts (sb, "</title><style>body{font-family:sans-serif;max-width:48em;margin:auto;"
                    "padding:0 .5em}table{border-collapse:collapse;width:100%}td,th{text-align:"
                    "left;padding:.2em .4em;border-bottom:1px solid #ddd;vertical-align:top}"
                    "table{table-layout:fixed}td:first-child{width:7em}td:last-child{width:12em}"
                    ".cancelled{text-decoration:line-through;color:#888}</style></head><body>\n");
    if (nav) {
        el_sb_puts (sb, "<nav><a href=\"/\">Agenda</a> · ");
        if (q->equipment)
            el_sb_puts (sb, "<a href=\"/equipment\">Machines</a> · ");
        el_sb_printf (sb, "<a href=\"/sites\">%s</a> · <a href=\"/agenda.ics\">%s</a></nav>\n",
                      q->french ? "Lieux" : "Sites",
                      q->french ? "S'abonner (iCalendar)" : "Subscribe (iCalendar)");
    }
    el_sb_puts (sb, "<h1>");
    s_html (sb, title);
    el_sb_puts (sb, "</h1>\n");
}

static void
s_filters (el_sb_t *sb, const el_http_snap_t *s, const el_http_query_t *q)
{
    el_sb_printf (sb, "<p>%s <a href=\"/\">%s</a>", q->french ? "Lieu :" : "Site:",
                  q->french ? "tous" : "all");
    for (size_t i = 0; i < s->sites_n; i++) {
        el_sb_puts (sb, " · <a href=\"/?site=");
        s_urlq (sb, s->sites[i].id);
        el_sb_puts (sb, "\">");
        s_html (sb, s->sites[i].name);
        el_sb_puts (sb, "</a>");
    }
    el_sb_printf (sb, "<br>%s", q->french ? "Catégorie :" : "Category:");
    for (size_t i = 0; i < s->events_n; i++) {
        const char *c = s->events[i].category;
        bool seen = !c[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp (s->events[j].category, c);
        if (seen)
            continue;
        el_sb_puts (sb, " <a href=\"/?category=");
        s_urlq (sb, c);
        el_sb_puts (sb, "\">");
        s_html (sb, c);
        el_sb_puts (sb, "</a>");
    }
    el_sb_puts (sb, "</p>\n");
}

static void
s_agenda_row (el_sb_t *sb, const el_http_occ_t *o, const el_http_query_t *q)
{
    const el_http_event_t *e = o->ev;
    time_t t = (time_t) (o->start_us / 1000000 + o->start_off);
    time_t te = (time_t) (o->end_us / 1000000 + o->end_off);
    struct tm tm, tme;
    char hs[16] = "", he[16] = "";
    if (!e->all_day && gmtime_r (&t, &tm))
        strftime (hs, sizeof hs, "%H:%M", &tm);
    if (!e->all_day && o->end_us && gmtime_r (&te, &tme))
        strftime (he, sizeof he, "%H:%M", &tme);
    bool cancelled = e->status == EL__EVENT_STATUS__CANCELLED;
    el_sb_printf (sb, "<tr class=\"event%s\"><td>%s%s%s</td><td><b>", cancelled ? " cancelled" : "",
                  e->all_day ? (q->french ? "journée" : "all day") : hs, he[0] ? "–" : "", he);
    s_html (sb, e->summary);
    el_sb_puts (sb, "</b>");
    if (cancelled)
        el_sb_printf (sb, " (%s)", q->french ? "annulé" : "cancelled");
    else if (e->status == EL__EVENT_STATUS__TENTATIVE)
        el_sb_printf (sb, " (%s)", q->french ? "à confirmer" : "tentative");
    if (e->rrule[0])
        el_sb_printf (sb, " (%s)", q->french ? "récurrent" : "recurring");
    el_sb_puts (sb, "<br><small>");
    s_html (sb, e->category);
    if (e->capacity)
        el_sb_printf (sb, " · %u %s", e->capacity, q->french ? "places" : "places");
    if (e->location[0]) {
        el_sb_puts (sb, " · ");
        s_html (sb, e->location);
    }
    el_sb_puts (sb, "</small></td><td>");
    s_html (sb, e->site_name);
    el_sb_puts (sb, "</td></tr>\n");
}

void
el_http_render_agenda (const el_http_snap_t *s, const el_http_query_t *q, bool embed,
                       el_sb_t *sb)
{
    const char *title = q->french ? "Agenda du réseau" : "The network's agenda";
    s_head (sb, q, title, !embed);
    if (!embed) {
        el_sb_printf (sb, "<p>%s <a href=\"/agenda.ics\">agenda.ics</a>",
                      q->french ? "Pour votre agenda :" : "For your calendar:");
        if (q->host) {
            el_sb_puts (sb, " · <a href=\"webcal://");
            s_html (sb, q->host);
            el_sb_printf (sb, "/agenda.ics\">%s</a>", q->french ? "s'abonner" : "subscribe");
        }
        el_sb_printf (sb, " — %s</p>\n", q->french ? "heures locales de chaque événement"
                                                   : "times are each event's local time");
        s_filters (sb, s, q);
    }
    int64_t from = q->now_us - q->now_us % (86400LL * 1000000);
    int64_t to = from + (int64_t) EL_HTTP_AGENDA_DAYS * 86400 * 1000000;
    int64_t day = -1;
    size_t shown = 0;
    for (size_t i = 0; i < s->occ_n; i++) {
        const el_http_occ_t *o = &s->occ[i];
        if (o->start_us < from || o->start_us >= to || !el_http_event_match (o->ev, q))
            continue;
        int64_t local_s = o->start_us / 1000000 + o->start_off;
        int64_t d = (local_s >= 0 ? local_s : local_s - 86399) / 86400;
        if (d != day) {
            time_t t = (time_t) local_s;
            struct tm tm;
            char date[32] = "";
            if (gmtime_r (&t, &tm))
                strftime (date, sizeof date, "%Y-%m-%d", &tm);
            el_sb_printf (sb, "%s<h2>%s %s</h2>\n<table>\n", day < 0 ? "" : "</table>\n",
                          (q->french ? s_days_fr : s_days_en)[tm.tm_wday], date);
            day = d;
        }
        s_agenda_row (sb, o, q);
        shown++;
    }
    if (day >= 0)
        el_sb_puts (sb, "</table>\n");
    if (!shown)
        el_sb_printf (sb, "<p>%s</p>\n", q->french ? "Aucun événement dans les semaines à venir."
                                                   : "No event in the coming weeks.");
    el_sb_puts (sb, "</body></html>\n");
}

void
el_http_render_equipment (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb)
{
    s_head (sb, q, q->french ? "Les machines du réseau" : "The network's machines", true);
    el_sb_printf (sb, "<table>\n<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                  "<th>%s</th></tr>\n", q->french ? "Machine" : "Machine",
                  q->french ? "Lieu" : "Owner", q->french ? "Catégorie" : "Category",
                  q->french ? "État" : "Status", q->french ? "Formation" : "Training",
                  q->french ? "Réservable par" : "Bookable by");
    for (size_t i = 0; i < s->equipment_n; i++) {
        const el_http_equipment_t *e = &s->equipment[i];
        el_sb_puts (sb, "<tr class=\"machine\"><td><a href=\"/equipment/");
        el_sb_puts (sb, e->owner);
        el_sb_puts (sb, "/");
        s_urlq (sb, e->key);
        el_sb_puts (sb, "\">");
        s_html (sb, e->name[0] ? e->name : e->key);
        el_sb_puts (sb, "</a></td><td>");
        s_html (sb, e->owner_name);
        el_sb_puts (sb, "</td><td>");
        s_html (sb, e->category);
        el_sb_printf (sb, "</td><td>%s</td><td>", e->status);
        s_html (sb, e->training);
        el_sb_printf (sb, "</td><td>%s</td></tr>\n", e->bookable_by);
    }
    el_sb_puts (sb, "</table>\n</body></html>\n");
}

void
el_http_render_sites (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb)
{
    s_head (sb, q, q->french ? "Les lieux du réseau" : "The network's sites", true);
    for (size_t i = 0; i < s->sites_n; i++) {
        const el_http_site_t *e = &s->sites[i];
        if (!e->active)
            continue;
        el_sb_puts (sb, "<section class=\"site\"><h2>");
        s_html (sb, e->name);
        el_sb_puts (sb, "</h2><p>");
        s_html (sb, e->town);
        if (e->services[0]) {
            el_sb_printf (sb, "<br>%s ", q->french ? "Services :" : "Services:");
            s_html (sb, e->services);
        }
        if (e->opening_hours[0]) {
            el_sb_printf (sb, "<br>%s ", q->french ? "Horaires :" : "Opening hours:");
            s_html (sb, e->opening_hours);
        }
        el_sb_puts (sb, "<br><a href=\"/?site=");
        s_urlq (sb, e->id);
        el_sb_printf (sb, "\">%s</a></p></section>\n", q->french ? "Son agenda" : "Its agenda");
    }
    el_sb_puts (sb, "</body></html>\n");
}

/* ------------------------------------------------------------ one machine */

const el_http_equipment_t *
el_http_machine (const el_http_snap_t *s, const el_http_query_t *q)
{
    if (!q->owner || !q->key)
        return NULL;
    for (size_t i = 0; i < s->equipment_n; i++)
        if (!strcmp (s->equipment[i].owner, q->owner) && !strcmp (s->equipment[i].key, q->key))
            return &s->equipment[i];
    return NULL;
}

const el_http_site_t *
el_http_site_find (const el_http_snap_t *s, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < s->sites_n; i++)
        if (!memcmp (s->sites[i].key, key, EL_KEY_BYTES))
            return &s->sites[i];
    return NULL;
}

/* "Mon 2027-03-01 14:00" of @p us in zone @p tz (NULL: UTC). */
static void
s_when_in (const el_tz_t *tz, int64_t us, bool french, char out[40])
{
    static const char *const fr[] = { "dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam." };
    static const char *const en[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    int64_t secs = us / 1000000;
    time_t t = (time_t) (secs + (tz ? el_tz_offset (tz, secs) : 0));
    struct tm tm;
    out[0] = '\0';
    if (!gmtime_r (&t, &tm))
        return;
    snprintf (out, 40, "%s %04d-%02d-%02d %02d:%02d", (french ? fr : en)[tm.tm_wday],
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static const char *
s_busy_text (el_busy_kind_t k, bool french)
{
    switch (k) {
    case EL_BUSY_BOOKED: return french ? "Réservée" : "Booked";
    case EL_BUSY_MAINTENANCE: return french ? "Maintenance" : "Maintenance";
    case EL_BUSY_OUT_OF_ORDER: return french ? "Hors service" : "Out of order";
    default: return "";
    }
}

/* The owner's confirmed bookings, as el_booking_busy reads them. */
static size_t
s_owner_bookings (const el_http_snap_t *s, const uint8_t owner[EL_KEY_BYTES],
                  const El__Booking **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->bookings_n; i++)
        if (!memcmp (s->bookings[i].owner, owner, EL_KEY_BYTES))
            out[n++] = s->bookings[i].record;
    return n;
}

void
el_http_render_machine (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb)
{
    const el_http_equipment_t *e = el_http_machine (s, q);
    uint8_t owner[EL_KEY_BYTES];
    const El__Booking **mine = malloc ((s->bookings_n ? s->bookings_n : 1) * sizeof *mine);
    el_busy_t *busy = calloc (EL_BOOKING_BUSY_MAX, sizeof *busy);
    if (!e || !mine || !busy || el_key_from_text (e->owner, owner) < 0) {
        sb->failed = true;
        free (mine);
        free (busy);
        return;
    }
    const el_http_site_t *site = el_http_site_find (s, owner);
    size_t nb = s_owner_bookings (s, owner, mine), n = 0;
    int64_t to = q->now_us + (int64_t) q->weeks * 7 * 24 * 3600 * 1000000;
    int rc = el_booking_busy (e->record, e->key, mine, nb, q->now_us, q->now_us, to, busy,
                              EL_BOOKING_BUSY_MAX, &n);
    const el_tz_t *tz = site ? site->tz : NULL;
    s_head (sb, q, e->name[0] ? e->name : e->key, true);
    el_sb_printf (sb, "<p class=\"owner\">%s ", q->french ? "Chez" : "At");
    s_html (sb, e->owner_name);
    el_sb_printf (sb, " · %s <span class=\"status\">%s</span>", q->french ? "état :" : "status:",
                  e->status);
    if (e->training[0]) {
        el_sb_printf (sb, " · %s ", q->french ? "formation requise :" : "training needed:");
        s_html (sb, e->training);
    }
    el_sb_printf (sb, " · %s %s</p>\n", q->french ? "réservable par" : "bookable by",
                  e->bookable_by);
    el_sb_printf (sb, "<p class=\"hours\">%s ", q->french ? "Horaires du lieu :"
                                                         : "Opening hours of the site:");
    s_html (sb, site && site->opening_hours[0] ? site->opening_hours
                                               : q->french ? "non publiés" : "not published");
    el_sb_puts (sb, "</p>\n");
    if (rc < 0) {
        el_sb_printf (sb, "<p>%s</p>\n", q->french ? "Trop de réservations à afficher."
                                                   : "Too many bookings to show.");
    } else if (n == 0) {
        el_sb_printf (sb, "<p class=\"free\">%s %d %s.</p>\n",
                      q->french ? "Libre (aux heures d'ouverture) pendant les" :
                                  "Free (within opening hours) for the next",
                      q->weeks, q->french ? "prochaines semaines" : "weeks");
    } else {
        el_sb_printf (sb, "<h2>%s</h2>\n<table>\n<tr><th>%s (%s)</th><th>%s</th><th></th>"
                      "</tr>\n", q->french ? "Déjà prise" : "Taken",
                      q->french ? "De" : "From", site ? site->zone : "UTC",
                      q->french ? "À" : "To");
        for (size_t i = 0; i < n; i++) {
            char from[40], until[40];
            s_when_in (tz, busy[i].start_us, q->french, from);
            s_when_in (tz, busy[i].end_us, q->french, until);
            el_sb_printf (sb, "<tr class=\"busy\"><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                          from, until, s_busy_text (busy[i].kind, q->french));
        }
        el_sb_puts (sb, "</table>\n");
    }
    el_sb_puts (sb, "</body></html>\n");
    free (mine);
    free (busy);
}
