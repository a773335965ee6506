/* el_cli_event.c — `entrelab event add|update|cancel|list|show`: the
 * network's agenda (el.Event records, RFC 5545 VEVENT fields). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "el_cli.h"
#include "el_ics.h"
#include "el_record.h"

#define S_DAY_US          (24LL * 3600 * 1000000)
#define S_EXPAND_WINDOW   (366 * S_DAY_US)  /* recurrences listed without --to, µs */
#define S_OCCURRENCES_MAX 500               /* occurrences of one expansion call */
#define S_OCCURRENCES_ALL 20000             /* occurrences of one event per listing */
#define S_SHRINK_TRIES    6                   /* halvings of a crowded window's end */
#define S_EVENTS_MAX      200000            /* events one listing holds */
#define S_SORT_KEY        "_sort_us"        /* list rows' sort key, removed before printing */

static const char *
s_status_name (El__EventStatus s)
{
    switch (s) {
    case EL__EVENT_STATUS__TENTATIVE: return "tentative";
    case EL__EVENT_STATUS__CONFIRMED: return "confirmed";
    case EL__EVENT_STATUS__CANCELLED: return "cancelled";
    default: return "unspecified";
    }
}

static int64_t s_end_of (int64_t start, int64_t span);

static json_t *
s_event_json (el_cli_t *cli, const El__RecordView *v, const El__Event *e, int64_t start,
              int64_t end)
{
    char name[128];
    const uint8_t *site = e->site.len == EL_KEY_BYTES ? e->site.data : v->origin.data;
    json_t *o = json_object ();
    json_object_set_new (o, "uid", json_string (e->uid && e->uid[0] ? e->uid : v->key));
    json_object_set_new (o, "key", json_string (v->key));
    json_object_set_new (o, "summary", json_string (e->summary ? e->summary : ""));
    if (e->all_day) {
        /* dates (RFC 5545 §3.3.4), the same day in every zone; the end is
         * exclusive (§3.6.1): one day when the event has none */
        char sd[EL_CLI_TIME_TEXT_MAX], ed[EL_CLI_TIME_TEXT_MAX];
        if (end <= start)
            end = s_end_of (start, S_DAY_US);
        el_cli_date_text (start, sd);
        el_cli_date_text (end, ed);
        json_object_set_new (o, "start", json_string (sd));
        json_object_set_new (o, "end", json_string (ed));
        json_object_set_new (o, "start_date", json_string (sd));
        json_object_set_new (o, "end_date", json_string (ed));
    } else {
        json_object_set_new (o, "start", el_cli_time_json (start));
        json_object_set_new (o, "end", el_cli_time_json (end));
    }
    json_object_set_new (o, "start_us", json_integer (start));
    json_object_set_new (o, "end_us", json_integer (end));
    json_object_set_new (o, "all_day", json_boolean (e->all_day));
    json_object_set_new (o, "tzid", json_string (e->tzid ? e->tzid : ""));
    json_object_set_new (o, "rrule", json_string (e->rrule ? e->rrule : ""));
    /* the recurrence as stored: RFC 5545 value texts */
    json_t *rd = json_array (), *xd = json_array ();
    for (size_t i = 0; i < e->n_rdate; i++)
        if (e->rdate[i])
            json_array_append_new (rd, json_string (e->rdate[i]));
    for (size_t i = 0; i < e->n_exdate; i++)
        if (e->exdate[i])
            json_array_append_new (xd, json_string (e->exdate[i]));
    json_object_set_new (o, "rdate", rd);
    json_object_set_new (o, "exdate", xd);
    json_object_set_new (o, "recurrence_id", e->recurrence_id && e->recurrence_id[0]
                                                 ? json_string (e->recurrence_id)
                                                 : json_null ());
    json_object_set_new (o, "site", el_cli_key_json (site));
    json_object_set_new (o, "site_name",
                         json_string (el_cli_site_name (cli, site, name, sizeof name)));
    json_object_set_new (o, "origin", el_cli_key_json (v->origin.data));
    json_object_set_new (o, "origin_name",
                         json_string (el_cli_site_name (cli, v->origin.data, name, sizeof name)));
    json_object_set_new (o, "location", json_string (e->location ? e->location : ""));
    json_object_set_new (o, "category", json_string (e->category ? e->category : ""));
    json_object_set_new (o, "capacity", json_integer (e->capacity));
    json_object_set_new (o, "status", json_string (s_status_name (e->status)));
    json_object_set_new (o, "url", json_string (e->url ? e->url : ""));
    json_object_set_new (o, "description", json_string (e->description ? e->description : ""));
    json_object_set_new (o, "sequence", json_integer (e->sequence));
    json_object_set_new (o, "seq", json_integer ((json_int_t) v->seq));
    return o;
}

static const el_cli_col_t s_list_cols[] = {
    { "START", "start_us", EL_CLI_COL_WHEN, 0 },
    { "END", "end_us", EL_CLI_COL_WHEN, 0 },
    { "SITE", "site_name", EL_CLI_COL_TEXT, 24 },
    { "CATEGORY", "category", EL_CLI_COL_TEXT, 0 },
    { "STATUS", "status", EL_CLI_COL_TEXT, 0 },
    { "SUMMARY", "summary", EL_CLI_COL_TEXT, 40 },
    { "UID", "uid", EL_CLI_COL_TEXT, 0 },
};

static const el_cli_col_t s_show_cols[] = {
    { "UID", "uid", EL_CLI_COL_TEXT, 0 },
    { "Summary", "summary", EL_CLI_COL_TEXT, 0 },
    { "Start", "start_us", EL_CLI_COL_WHEN, 0 },
    { "End", "end_us", EL_CLI_COL_WHEN, 0 },
    { "All day", "all_day", EL_CLI_COL_TEXT, 0 },
    { "Repeats", "rrule", EL_CLI_COL_TEXT, 0 },
    { "Also on", "rdate", EL_CLI_COL_TEXT, 0 },
    { "Except on", "exdate", EL_CLI_COL_TEXT, 0 },
    { "Replaces", "recurrence_id", EL_CLI_COL_TEXT, 0 },
    { "Changed on", "override_notes", EL_CLI_COL_TEXT, 0 },
    { "Site", "site_name", EL_CLI_COL_TEXT, 0 },
    { "Site key", "site", EL_CLI_COL_TEXT, 0 },
    { "Written by", "origin_name", EL_CLI_COL_TEXT, 0 },
    { "Location", "location", EL_CLI_COL_TEXT, 0 },
    { "Category", "category", EL_CLI_COL_TEXT, 0 },
    { "Capacity", "capacity", EL_CLI_COL_TEXT, 0 },
    { "Status", "status", EL_CLI_COL_TEXT, 0 },
    { "URL", "url", EL_CLI_COL_TEXT, 0 },
    { "Description", "description", EL_CLI_COL_TEXT, 0 },
    { "Sequence", "sequence", EL_CLI_COL_TEXT, 0 },
};
#define S_N(a) (sizeof (a) / sizeof (a)[0])

/* ------------------------------------------------------------ fields */

#define S_SET(field, v) \
    do { \
        if (el_cli_field_set (&(field), (v), owned) < 0) \
            return el_cli_fail (cli, -ENOMEM, "out of memory"); \
    } while (0)

/* Apply the field options of add/update to @p e (@p owned: e was unpacked). */
static int
s_apply_fields (el_cli_t *cli, const el_cli_args_t *a, El__Event *e, uint8_t site_buf[32],
                bool owned)
{
    const char *v;
    int rc;
    v = el_cli_opt (a, "summary");
    if (v) {
        if (!*v)
            return el_cli_bad (cli, "--summary must not be empty");
        S_SET (e->summary, v);
    }
    v = el_cli_opt (a, "start");
    rc = v ? el_cli_time_opt (cli, "start", v, &e->dtstart_us) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "end");
    rc = v ? el_cli_time_opt (cli, "end", v, &e->dtend_us) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "duration");
    if (v) {
        int64_t d;
        char err[200];
        if (el_cli_duration_parse (v, &d, err, sizeof err) < 0)
            return el_cli_bad (cli, "--duration: %s", err);
        if (el_cli_has (a, "end"))
            return el_cli_bad (cli, "give --end or --duration, not both");
        e->dtend_us = e->dtstart_us + d;
    }
    if (e->dtend_us && e->dtend_us <= e->dtstart_us)
        return el_cli_bad (cli, "end before start: the event must end after it starts");
    v = el_cli_opt (a, "rrule");
    if (v) {
        if (strlen (v) > 1000 || strchr (v, '\n'))
            return el_cli_bad (cli, "--rrule: too long");
        S_SET (e->rrule, v);
    }
    if (e->rrule && e->rrule[0] && (!e->tzid || !e->tzid[0]) && cli->zone[0]
        && strcmp (cli->zone, "UTC") != 0) {
        /* repeat in the zone the times were given in (the site's, unless
         * --tz said otherwise), so 18:00 stays 18:00 across DST */
        S_SET (e->tzid, cli->zone);
    }
    if (e->rrule && e->rrule[0]) {
        /* libical must read it (RFC 5545 §3.3.10) */
        int64_t first;
        size_t n = 0;
        if (el_ics_expand (e, NULL, 0, e->dtstart_us, e->dtstart_us + 1, &first, 1, &n) == EL_EINVAL)
            return el_cli_bad (cli, "--rrule: '%s' is not an RFC 5545 RRULE (e.g. "
                                    "FREQ=WEEKLY;COUNT=10)", e->rrule);
    }
    v = el_cli_opt (a, "location");
    if (v)
        S_SET (e->location, v);
    v = el_cli_opt (a, "category");
    if (v)
        S_SET (e->category, v);
    v = el_cli_opt (a, "description");
    if (v)
        S_SET (e->description, v);
    v = el_cli_opt (a, "url");
    if (v)
        S_SET (e->url, v);
    v = el_cli_opt (a, "capacity");
    if (v) {
        char *end;
        long c = strtol (v, &end, 10);
        if (!*v || *end || c < 0 || c > 1000000)
            return el_cli_bad (cli, "--capacity: a number of places, 0..1000000 (0 = unlimited)");
        e->capacity = (uint32_t) c;
    }
    v = el_cli_opt (a, "status");
    if (v) {
        if (!strcmp (v, "tentative"))
            e->status = EL__EVENT_STATUS__TENTATIVE;
        else if (!strcmp (v, "confirmed"))
            e->status = EL__EVENT_STATUS__CONFIRMED;
        else
            return el_cli_bad (cli, "--status: tentative or confirmed (use event cancel to "
                                    "cancel)");
    }
    v = el_cli_opt (a, "site");
    if (v) {
        rc = el_cli_site_resolve (cli, v, site_buf);
        if (rc < 0)
            return rc;
        uint8_t *data = site_buf;
        if (owned) {
            data = malloc (EL_KEY_BYTES);
            if (!data)
                return el_cli_fail (cli, -ENOMEM, "out of memory");
            memcpy (data, site_buf, EL_KEY_BYTES);
            free (e->site.data);
        }
        e->site = (ProtobufCBinaryData) { EL_KEY_BYTES, data };
    }
    return 0;
}

static int
s_write_event (el_cli_t *cli, const char *key, const El__Event *e, uint64_t *seq)
{
    return el_cli_write (cli, EL__KIND__EVENT, key, &e->base, false, seq);
}

/* Our own event @p uid. @return 0, EL_CLI_BAD (unknown), errors. */
static int
s_own_event (el_cli_t *cli, const char *uid, El__ControlReply **reply, El__Event **ret)
{
    return el_cli_own (cli, EL__KIND__EVENT, &el__event__descriptor, "UID", "event",
                       "a site updates only its own events", uid, reply,
                       (ProtobufCMessage **) ret);
}

/* ------------------------------------------------------------ add, update, cancel */

static int
s_add (el_cli_t *cli, const el_cli_args_t *a)
{
    El__Event e = EL__EVENT__INIT;
    uint8_t site[EL_KEY_BYTES];
    char uid[EL_RECORD_KEY_MAX + 1];
    e.status = EL__EVENT_STATUS__CONFIRMED;
    if (!el_cli_has (a, "summary") || !el_cli_has (a, "start"))
        return el_cli_bad (cli, "event add needs --summary and --start");
    int rc = s_apply_fields (cli, a, &e, site, false);
    if (rc < 0)
        return rc;
    const char *given = el_cli_opt (a, "uid");
    if (given) {
        rc = el_cli_check_key (cli, "--uid", given, false);
        if (rc < 0)
            return rc;
        snprintf (uid, sizeof uid, "%s", given);
        El__ControlReply *reply = NULL;
        const El__RecordView *v;
        rc = el_cli_get (cli, EL__KIND__EVENT, NULL, uid, &reply, &v);
        el_cli_reply_free (&reply);
        if (rc == 0)
            return el_cli_bad (cli, "event '%s' exists: use entrelab event update", uid);
        if (rc != EL_ENOTFOUND)
            return rc;
    } else {
        char r[40];
        el_cli_random_key ("", r, sizeof r);
        snprintf (uid, sizeof uid, "%s@entrelab", r);
    }
    e.uid = uid;
    e.last_modified_us = cli->now_us;
    uint64_t seq = 0;
    rc = s_write_event (cli, uid, &e, &seq);
    if (rc < 0)
        return rc;
    json_t *doc = json_pack ("{s:s, s:I}", "uid", uid, "seq", (json_int_t) seq);
    return el_cli_print_line (cli, doc, "event added: %s", uid);
}

static int
s_update (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlReply *reply = NULL;
    El__Event *e = NULL;
    uint8_t site[EL_KEY_BYTES];
    const char *uid = a->pos[0];
    static const char *const fields[] = { "summary", "start", "end", "duration", "location",
                                          "category", "description", "url", "capacity",
                                          "status", "site", "rrule", NULL };
    bool any = false;
    for (size_t i = 0; fields[i]; i++)
        any |= el_cli_has (a, fields[i]);
    if (!any)
        return el_cli_bad (cli, "event update: nothing to change (see --help)");
    int rc = s_own_event (cli, uid, &reply, &e);
    if (rc < 0)
        return rc;
    /* keep the duration when only the start moves */
    if (el_cli_has (a, "start") && !el_cli_has (a, "end") && !el_cli_has (a, "duration")
        && e->dtend_us) {
        int64_t len = e->dtend_us - e->dtstart_us, start;
        rc = el_cli_time_opt (cli, "start", el_cli_opt (a, "start"), &start);
        if (rc < 0)
            goto out;
        e->dtend_us = start + len;
    }
    if (el_cli_has (a, "duration") && !el_cli_has (a, "start"))
        e->dtend_us = 0;
    rc = s_apply_fields (cli, a, e, site, true);
    if (rc < 0)
        goto out;
    e->sequence++;
    e->last_modified_us = cli->now_us;
    uint64_t seq = 0;
    rc = s_write_event (cli, uid, e, &seq);
    if (rc == 0)
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I, s:i}", "uid", uid, "seq",
                                                (json_int_t) seq, "sequence", e->sequence),
                                "event updated: %s", uid);
out:
    el__event__free_unpacked (e, &el_pb_allocator);
    el_cli_reply_free (&reply);
    return rc;
}

static int
s_cancel (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlReply *reply = NULL;
    El__Event *e = NULL;
    const char *uid = a->pos[0];
    int rc = s_own_event (cli, uid, &reply, &e);
    if (rc < 0)
        return rc;
    if (e->status == EL__EVENT_STATUS__CANCELLED) {
        rc = el_cli_bad (cli, "event '%s' is already cancelled", uid);
        goto out;
    }
    e->status = EL__EVENT_STATUS__CANCELLED;
    e->sequence++;
    e->last_modified_us = cli->now_us;
    uint64_t seq = 0;
    rc = s_write_event (cli, uid, e, &seq);
    if (rc == 0)
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I, s:s}", "uid", uid, "seq",
                                                (json_int_t) seq, "status", "cancelled"),
                                "event cancelled: %s", uid);
out:
    el__event__free_unpacked (e, &el_pb_allocator);
    el_cli_reply_free (&reply);
    return rc;
}

/* A tombstone: the event leaves every site's agenda (cancel keeps it, marked
 * cancelled, which is what attendees should usually see). */
static int
s_remove (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlReply *reply = NULL;
    El__Event *e = NULL;
    const char *uid = a->pos[0];
    int rc = s_own_event (cli, uid, &reply, &e);
    if (rc < 0)
        return rc;
    el__event__free_unpacked (e, &el_pb_allocator);
    el_cli_reply_free (&reply);
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__EVENT, uid, NULL, true, &seq);
    if (rc < 0)
        return rc;
    return el_cli_print_line (cli, json_pack ("{s:s, s:I, s:b}", "uid", uid, "seq",
                                              (json_int_t) seq, "removed", 1),
                              "event removed: %s", uid);
}

/* ------------------------------------------------------------ list, show */

typedef struct {
    el_cli_t *cli;
    El__RecordView **views;     /* copies: origin, key, seq, payload */
    El__Event **events;
    size_t n, cap;
    int rc;
} s_events_t;

static int
s_collect (void *arg, const El__RecordView *v)
{
    s_events_t *s = arg;
    if (s->n == S_EVENTS_MAX) {
        s->rc = el_cli_fail (s->cli, EL_ETOOBIG, "more than %d events", S_EVENTS_MAX);
        return 1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        El__RecordView **nv = realloc (s->views, cap * sizeof *nv);
        if (nv)
            s->views = nv;
        El__Event **ne = realloc (s->events, cap * sizeof *ne);
        if (ne)
            s->events = ne;
        if (!nv || !ne) {
            s->rc = el_cli_fail (s->cli, -ENOMEM, "out of memory");
            return 1;
        }
        s->cap = cap;
    }
    El__Event *e = el__event__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    /* keep what the rows need: a packed copy of the view */
    size_t len = el__record_view__get_packed_size (v);
    uint8_t *buf = malloc (len ? len : 1);
    El__RecordView *copy = NULL;
    if (buf) {
        el__record_view__pack (v, buf);
        copy = el__record_view__unpack (&el_pb_allocator, len, buf);
        free (buf);
    }
    if (!copy) {
        el__event__free_unpacked (e, &el_pb_allocator);
        s->rc = el_cli_fail (s->cli, -ENOMEM, "out of memory");
        return 1;
    }
    s->views[s->n] = copy;
    s->events[s->n++] = e;
    return 0;
}

static void
s_events_free (s_events_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        el__record_view__free_unpacked (s->views[i], &el_pb_allocator);
        el__event__free_unpacked (s->events[i], &el_pb_allocator);
    }
    free (s->views);
    free (s->events);
}

/* Rows by their start on the viewer's clock (an all-day event at the
 * start of its local day), then by uid. */
static int
s_by_start (const void *x, const void *y)
{
    const json_t *a = *(json_t *const *) x, *b = *(json_t *const *) y;
    json_int_t sa = json_integer_value (json_object_get (a, S_SORT_KEY));
    json_int_t sb = json_integer_value (json_object_get (b, S_SORT_KEY));
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return strcmp (el_cli_row_text (a, "uid"), el_cli_row_text (b, "uid"));
}

/* start + span (span >= 0), saturated. */
static int64_t
s_end_of (int64_t start, int64_t span)
{
    return start > INT64_MAX - span ? INT64_MAX : start + span;
}

static bool
s_overlaps (int64_t start, int64_t end, int64_t from, int64_t to)
{
    if (end <= start)
        return start >= from && (!to || start < to);
    return end > from && (!to || start < to);
}

/* The listing window [*wfrom, *wto) (0 = open) in the time space of @p e:
 * instants for a timed event; for an all-day event, whose dates are stored
 * as 00:00 UTC, the viewer's wall clock read as UTC (el_cli_time_wall), so
 * that a date is compared with the dates of --from and --to in the
 * viewer's zone, never with instants. */
static void
s_window (const El__Event *e, int64_t from, int64_t to, int64_t *wfrom, int64_t *wto)
{
    *wfrom = from;
    *wto = to;
    if (!e->all_day)
        return;
    *wfrom = from ? el_cli_time_wall (from) : 0;
    *wto = to ? el_cli_time_wall (to) : 0;
}

/* Append the row of one occurrence, with its sort key. */
static void
s_row_add (el_cli_t *cli, json_t *rows, const El__RecordView *v, const El__Event *e,
           int64_t start, int64_t end)
{
    json_t *row = s_event_json (cli, v, e, start, end);
    int64_t key = e->all_day ? el_cli_time_of_wall (start) : start;
    json_object_set_new (row, S_SORT_KEY, json_integer (key));
    json_array_append_new (rows, row);
}

/* The starts of @p e's occurrences overlapping [@p from, @p to), ascending,
 * into @p occ (initialised here; the caller frees it), up to
 * S_OCCURRENCES_ALL: one expansion of the whole window (libical walks the
 * series once from DTSTART); when it holds more, or takes more steps than
 * el_ics_expand allows, the window's end is halved, at most S_SHRINK_TRIES
 * times, and what fits is listed.
 * @return 0; -ENOBUFS (only the occurrences before *@p ret_end are in @p occ);
 *         EL_ETOOBIG (too many even in the shortest window tried); EL_EINVAL
 *         (a rule, zone or date el_ics_expand cannot read); -ENOMEM. */
static int
s_occurrences (const El__Event *e, const El__Event *const *ovr, size_t n_ovr, int64_t from,
               int64_t to, el_vec_t *occ, int64_t *ret_end)
{
    el_vec_init (occ, sizeof (int64_t), S_OCCURRENCES_ALL);
    int64_t *starts = malloc (S_OCCURRENCES_ALL * sizeof *starts);
    if (!starts)
        return -ENOMEM;
    size_t n = 0;
    int64_t end = to;
    int rc = EL_ETOOBIG;
    for (int tries = 0; rc == EL_ETOOBIG && tries < S_SHRINK_TRIES && end > from; tries++) {
        rc = el_ics_expand (e, ovr, n_ovr, from, end, starts, S_OCCURRENCES_ALL, &n);
        if (rc == EL_ETOOBIG)
            end = from + (end - from) / 2;
    }
    for (size_t k = 0; rc == 0 && k < n; k++)
        rc = el_vec_push (occ, &starts[k], NULL);
    free (starts);
    *ret_end = end;
    return rc == 0 && end < to ? -ENOBUFS : rc;
}

static int
s_list (el_cli_t *cli, const el_cli_args_t *a)
{
    int64_t from = cli->now_us, to = 0;
    uint8_t site[EL_KEY_BYTES];
    const char *v;
    int rc;
    v = el_cli_opt (a, "from");
    rc = v ? el_cli_time_opt (cli, "from", v, &from) : 0;
    if (rc < 0)
        return rc;
    if (el_cli_has (a, "all") && !el_cli_has (a, "from"))
        from = 0;
    v = el_cli_opt (a, "to");
    rc = v ? el_cli_time_opt (cli, "to", v, &to) : 0;
    if (rc < 0)
        return rc;
    if (to && to <= from)
        return el_cli_bad (cli, "end before start: --to must be after --from");
    const char *site_text = el_cli_opt (a, "site");
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        return rc;
    const char *category = el_cli_opt (a, "category");

    s_events_t s = { .cli = cli };
    rc = el_cli_list_window (cli, EL__KIND__EVENT, from ? from : INT64_MIN, to ? to : INT64_MAX,
                             s_collect, &s);
    if (rc == 0)
        rc = s.rc;
    json_t *rows = json_array ();
    for (size_t i = 0; rc == 0 && i < s.n; i++) {
        const El__Event *e = s.events[i];
        const El__RecordView *rv = s.views[i];
        const uint8_t *host = e->site.len == EL_KEY_BYTES ? e->site.data : rv->origin.data;
        if (site_text && memcmp (host, site, EL_KEY_BYTES))
            continue;
        if (category && strcasecmp (category, e->category ? e->category : ""))
            continue;
        int64_t len = el_event_span_us (e);
        int64_t efrom, eto;
        s_window (e, from, to, &efrom, &eto);
        if (((e->rrule && e->rrule[0]) || e->n_rdate)
            && !(e->recurrence_id && e->recurrence_id[0])) {
            /* one row per occurrence in the window, overrides listed on their own */
            const El__Event *ovr[64];
            size_t n_ovr = 0;
            for (size_t j = 0; j < s.n && n_ovr < 64; j++)
                if (j != i && s.events[j]->recurrence_id && s.events[j]->recurrence_id[0]
                    && !strcmp (s.events[j]->uid ? s.events[j]->uid : "", e->uid ? e->uid : "")
                    && !memcmp (s.views[j]->origin.data, rv->origin.data, EL_KEY_BYTES))
                    ovr[n_ovr++] = s.events[j];
            int64_t wfrom = efrom, wto = eto;
            if (!wto) {
                int64_t base, open_end;
                s_window (e, from ? from : cli->now_us, 0, &base, &open_end);
                wto = base + S_EXPAND_WINDOW;
            }
            el_vec_t occ;
            int64_t listed_end = wto;
            int erc = s_occurrences (e, ovr, n_ovr, wfrom, wto, &occ, &listed_end);
            if (erc == 0 || erc == -ENOBUFS) {
                for (size_t k = 0; k < occ.n; k++) {
                    int64_t at = *(const int64_t *) el_vec_at (&occ, k);
                    s_row_add (cli, rows, rv, e, at, len ? s_end_of (at, len) : 0);
                }
                if (erc == -ENOBUFS)
                    fprintf (stderr, "entrelab: event %s: more than %d occurrences in this "
                                     "window; only those in its first %lld days are listed "
                                     "(narrow it with --from and --to)\n",
                             e->uid ? e->uid : "", S_OCCURRENCES_ALL,
                             (long long) ((listed_end - wfrom) / S_DAY_US));
                el_vec_free (&occ);
                continue;
            }
            el_vec_free (&occ);
            /* its rule cannot be expanded here: its first occurrence only, said */
            fprintf (stderr, "entrelab: event %s: its repetitions cannot be listed (%s); "
                             "only its first occurrence is considered\n",
                     e->uid ? e->uid : "", erc == EL_ETOOBIG ? "too many steps from its "
                                                               "start to this window"
                                                             : el_strerror (erc));
        }
        if (!s_overlaps (e->dtstart_us, len ? s_end_of (e->dtstart_us, len) : 0, efrom, eto))
            continue;
        s_row_add (cli, rows, rv, e, e->dtstart_us, e->dtend_us);
    }
    s_events_free (&s);
    if (rc < 0) {
        json_decref (rows);
        return rc;
    }
    /* by date */
    size_t n = json_array_size (rows);
    json_t **items = malloc ((n ? n : 1) * sizeof *items);
    if (!items) {
        json_decref (rows);
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref (json_array_get (rows, i));
    qsort (items, n, sizeof *items, s_by_start);
    json_array_clear (rows);
    for (size_t i = 0; i < n; i++) {
        json_object_del (items[i], S_SORT_KEY);
        json_array_append_new (rows, items[i]);
    }
    free (items);
    json_t *doc = json_object ();
    json_object_set_new (doc, "from", el_cli_time_json (from));
    json_object_set_new (doc, "to", el_cli_time_json (to));
    json_object_set_new (doc, "zone", json_string (cli->zone));
    json_object_set_new (doc, "events", rows);
    return el_cli_print_table (cli, doc, "events", s_list_cols, S_N (s_list_cols));
}

typedef struct {
    const char *key;
    const uint8_t *origin;
    s_events_t *events;
} s_find_t;

static int
s_find (void *arg, const El__RecordView *v)
{
    s_find_t *f = arg;
    if (strcmp (v->key, f->key))
        return 0;
    if (f->origin && memcmp (v->origin.data, f->origin, EL_KEY_BYTES))
        return 0;
    return s_collect (f->events, v);
}

/* ------------------------------------------------------------ overrides */

#define S_NOTE_MAX 1024                     /* bytes of one override's note */

/* An override (RFC 5545 RECURRENCE-ID, §3.8.4.4) of the event with uid
 * f->key, written by the same origin. */
static int
s_find_override (void *arg, const El__RecordView *v)
{
    s_find_t *f = arg;
    if (memcmp (v->origin.data, f->origin, EL_KEY_BYTES))
        return 0;
    El__Event *e = el__event__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    bool match = e->recurrence_id && e->recurrence_id[0] && e->uid && !strcmp (e->uid, f->key);
    el__event__free_unpacked (e, &el_pb_allocator);
    return match ? s_collect (f->events, v) : 0;
}

static bool
s_same_text (const char *a, const char *b)
{
    return strcmp (a ? a : "", b ? b : "") == 0;
}

static void
s_when_text (const El__Event *e, int64_t us, char out[EL_CLI_TIME_TEXT_MAX])
{
    if (e->all_day)
        el_cli_date_text (us, out);
    else
        el_cli_time_table (us, out);
}

/* One change of an override: into @p changes (JSON) and the note's text. */
static void
s_change (json_t *changes, char *note, size_t *len, const char *field, json_t *value,
          const char *text)
{
    json_object_set_new (changes, field, value);
    int n = snprintf (note + *len, S_NOTE_MAX - *len, "%s%s %s", *len ? "; " : "", field, text);
    if (n > 0)
        *len = *len + (size_t) n < S_NOTE_MAX ? *len + (size_t) n : S_NOTE_MAX - 1;
}

static void
s_change_text (json_t *changes, char *note, size_t *len, const char *field, const char *was,
               const char *now)
{
    char text[S_NOTE_MAX / 2];
    if (s_same_text (was, now))
        return;
    snprintf (text, sizeof text, "\"%s\"", now ? now : "");
    s_change (changes, note, len, field, json_string (now ? now : ""), text);
}

/* What override @p o changes of its master @p m's occurrence at @p orig. */
static json_t *
s_override_json (const El__Event *m, const El__Event *o, const char *key, int64_t orig,
                 char note[S_NOTE_MAX])
{
    json_t *changes = json_object ();
    size_t len = 0;
    char t[EL_CLI_TIME_TEXT_MAX];
    note[0] = '\0';
    int64_t span = el_span_us (m->dtstart_us, m->dtend_us);
    if (o->dtstart_us != orig) {
        s_when_text (o, o->dtstart_us, t);
        s_change (changes, note, &len, "start", el_cli_time_json (o->dtstart_us), t);
    }
    if (el_span_us (o->dtstart_us, o->dtend_us) != span) {
        s_when_text (o, o->dtend_us, t);
        s_change (changes, note, &len, "end", el_cli_time_json (o->dtend_us), t);
    }
    if (o->status != m->status)
        s_change (changes, note, &len, "status", json_string (s_status_name (o->status)),
                  s_status_name (o->status));
    if (o->capacity != m->capacity) {
        snprintf (t, sizeof t, "%u", o->capacity);
        s_change (changes, note, &len, "capacity", json_integer (o->capacity), t);
    }
    s_change_text (changes, note, &len, "summary", m->summary, o->summary);
    s_change_text (changes, note, &len, "location", m->location, o->location);
    s_change_text (changes, note, &len, "category", m->category, o->category);
    s_change_text (changes, note, &len, "description", m->description, o->description);
    s_change_text (changes, note, &len, "url", m->url, o->url);
    if (!len)
        snprintf (note, S_NOTE_MAX, "nothing");
    json_t *r = json_object ();
    json_object_set_new (r, "recurrence_id", json_string (o->recurrence_id));
    json_object_set_new (r, "key", json_string (key));
    json_object_set_new (r, "original_start", el_cli_time_json (orig));
    json_object_set_new (r, "changes", changes);
    return r;
}

/* The master's overrides as "overrides" (JSON) and, for the table,
 * "override_notes": "<original start>: start <new>, summary \"...\"". */
static int
s_show_overrides (el_cli_t *cli, json_t *ev, const El__RecordView *mv, const El__Event *m)
{
    s_events_t o = { .cli = cli };
    s_find_t f = { m->uid && m->uid[0] ? m->uid : mv->key, mv->origin.data, &o };
    int rc = el_cli_list (cli, EL__KIND__EVENT, mv->origin.data, s_find_override, &f);
    if (rc == 0)
        rc = o.rc;
    json_t *list = json_array (), *notes = json_array ();
    for (size_t i = 0; rc == 0 && i < o.n; i++) {
        int64_t orig = 0;
        char note[S_NOTE_MAX], when[EL_CLI_TIME_TEXT_MAX];
        char line[EL_CLI_TIME_TEXT_MAX + 2 + S_NOTE_MAX];     /* "when: note" */
        if (el_ics_occurrence_start (m, o.events[i]->recurrence_id, &orig) < 0)
            orig = o.events[i]->dtstart_us;    /* a value we cannot read: say it as is */
        json_array_append_new (list, s_override_json (m, o.events[i], o.views[i]->key, orig,
                                                      note));
        s_when_text (m, orig, when);
        snprintf (line, sizeof line, "%s: %s", when, note);
        json_array_append_new (notes, json_string (line));
    }
    s_events_free (&o);
    json_object_set_new (ev, "overrides", list);
    if (!cli->json)
        json_object_set_new (ev, "override_notes", notes);
    else
        json_decref (notes);
    return rc;
}

/* The event with key f->key (at f->origin when set, else at any origin):
 * point lookups, no scan of the agenda. */
static int
s_find_by_key (el_cli_t *cli, s_find_t *f)
{
    El__ControlReply *reply = NULL;
    const El__RecordView *v = NULL;
    int rc = f->origin ? el_cli_get (cli, EL__KIND__EVENT, f->origin, f->key, &reply, &v)
                       : el_cli_get_any (cli, EL__KIND__EVENT, f->key, &reply, &v);
    if (rc == EL_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    rc = s_find (f, v);
    for (size_t i = 0; rc == 0 && !f->origin && i < reply->get->n_others; i++)
        rc = s_find (f, reply->get->others[i]);
    el_cli_reply_free (&reply);
    return rc ? rc : f->events->rc;
}

static int
s_show (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t site[EL_KEY_BYTES];
    const char *site_text = el_cli_opt (a, "site");
    int rc;
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        return rc;
    rc = el_cli_check_key (cli, "UID", a->pos[0], false);
    if (rc < 0)
        return rc;
    s_events_t s = { .cli = cli };
    s_find_t f = { a->pos[0], site_text ? site : NULL, &s };
    rc = s_find_by_key (cli, &f);
    if (rc == 0 && s.n == 0)
        rc = el_cli_bad (cli, "unknown event '%s'", a->pos[0]);
    if (rc == 0 && s.n > 1)
        rc = el_cli_bad (cli, "%zu sites hold an event '%s': add --site", s.n, a->pos[0]);
    json_t *doc = NULL;
    if (rc == 0) {
        json_t *ev = s_event_json (cli, s.views[0], s.events[0], s.events[0]->dtstart_us,
                                   s.events[0]->dtend_us);
        doc = json_pack ("{s:o}", "event", ev);
        if (!(s.events[0]->recurrence_id && s.events[0]->recurrence_id[0]))
            rc = s_show_overrides (cli, ev, s.views[0], s.events[0]);
    }
    s_events_free (&s);
    if (rc < 0)
        json_decref (doc);
    if (rc < 0)
        return rc;
    return el_cli_print_record (cli, doc, "event", s_show_cols, S_N (s_show_cols));
}

/* ------------------------------------------------------------ table */

#define S_FIELD_OPTS \
    { "summary", EL_CLI_OPT_VALUE, "TEXT", "title (RFC 5545 SUMMARY)" }, \
    { "start", EL_CLI_OPT_VALUE, "DATE", "start, e.g. \"2027-01-12 14:00\" (local) or ...Z" }, \
    { "end", EL_CLI_OPT_VALUE, "DATE", "end (exclusive), after --start" }, \
    { "duration", EL_CLI_OPT_VALUE, "DURATION", "instead of --end: 90m, 2h, 1d" }, \
    { "location", EL_CLI_OPT_VALUE, "TEXT", "room or place" }, \
    { "category", EL_CLI_OPT_VALUE, "NAME", "workshop, training, meeting, open_day ..." }, \
    { "description", EL_CLI_OPT_VALUE, "TEXT", "longer text" }, \
    { "url", EL_CLI_OPT_VALUE, "URL", "web page" }, \
    { "capacity", EL_CLI_OPT_VALUE, "N", "places (0 = unlimited)" }, \
    { "status", EL_CLI_OPT_VALUE, "STATUS", "tentative or confirmed (default)" }, \
    { "site", EL_CLI_OPT_VALUE, "SITE", "hosting site (name or key; default: this site)" }, \
    { "rrule", EL_CLI_OPT_VALUE, "RULE", "repeat (RFC 5545 RRULE), e.g. FREQ=WEEKLY;COUNT=10" }

static const el_cli_optspec_t s_add_opts[] = {
    S_FIELD_OPTS,
    { "uid", EL_CLI_OPT_VALUE, "UID", "event id (default: generated)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_update_opts[] = { S_FIELD_OPTS, { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_list_opts[] = {
    { "from", EL_CLI_OPT_VALUE, "DATE", "events ending after this (default: now)" },
    { "to", EL_CLI_OPT_VALUE, "DATE", "events starting before this" },
    { "all", EL_CLI_OPT_SWITCH, NULL, "include past events (--from, when given, still bounds)" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "only events hosted by this site (name or key)" },
    { "category", EL_CLI_OPT_VALUE, "NAME", "only this category" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_show_opts[] = {
    { "site", EL_CLI_OPT_VALUE, "SITE", "the site that wrote it, when several did" },
    { NULL, 0, NULL, NULL },
};

const el_cli_cmd_t el_cli_event_cmds[] = {
    { "event add", NULL, 0, 0, "Publish an event on the network's agenda.", s_add_opts, s_add,
      "entrelab event add --summary \"Initiation tour\" --start \"2027-01-12 14:00\" "
      "--end \"2027-01-12 17:00\" --category training --location \"Atelier bois\" --capacity 6" },
    { "event update", "UID", 1, 1, "Change one of this site's events (the other fields stay).",
      s_update_opts, s_update,
      "entrelab event update 5f2c9a1e0b7d4c3a@entrelab --start \"2027-01-19 14:00\"" },
    { "event cancel", "UID", 1, 1, "Mark one of this site's events cancelled.", s_no_opts,
      s_cancel, "entrelab event cancel 5f2c9a1e0b7d4c3a@entrelab" },
    { "event remove", "UID", 1, 1, "Delete one of this site's events from every agenda (an "
      "event added by mistake; to call one off, cancel it).", s_no_opts, s_remove,
      "entrelab event remove 5f2c9a1e0b7d4c3a@entrelab" },
    { "event list", NULL, 0, 0, "The whole network's agenda by date.", s_list_opts, s_list,
      "entrelab event list --from 2027-01-01 --to 2027-02-01 --category training" },
    { "event show", "UID", 1, 1, "One event with all its fields.", s_show_opts, s_show,
      "entrelab event show 5f2c9a1e0b7d4c3a@entrelab" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
