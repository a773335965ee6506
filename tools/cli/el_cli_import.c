/* el_cli_import.c — files coordinators already have, in and out:
 *
 *   entrelab event import FILE.ics [--site SITE]
 *   entrelab event export [--from --to --site --output FILE]
 *   entrelab equipment import FILE [--lab NAME] [--format csv|fablabs] [--defaults]
 *   entrelab member import FILE [--sharing LEVEL] [--training-id ID=NAME ...]
 *
 * Parsing is el_ics / el_import's; this file compares what a file holds with
 * what the daemon holds as this site's records, and writes only what is new
 * or changed:
 *   - events: the record key is el_ics_event_key() (the iCalendar UID); a
 *     record already held is replaced only when el_ics_event_is_newer()
 *     (higher SEQUENCE, or later LAST-MODIFIED) — re-importing a file
 *     changes nothing;
 *   - equipment and members: a record is rewritten when its bytes differ.
 * A file that cannot be read as a whole is refused before the daemon is
 * asked anything (exit 2, "FILE:LINE: reason"); inside a good file the rows
 * or events that cannot be used are reported by line and the others import.
 * The writes of one import go in as few WriteRequests as the limits allow
 * (EL_SYNC_WRITE_MAX records and S_BATCH_BYTES each; each request is one
 * store transaction, so a file of up to EL_SYNC_WRITE_MAX records lands
 * whole or not at all). One thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "el_cli.h"
#include "el_ics.h"
#include "el_import.h"
#include "el_sync.h"      /* EL_SYNC_WRITE_MAX */

#define S_BATCH_BYTES   (24u << 20)   /* payload bytes per WriteRequest (frame cap is 32 MiB) */
#define S_SALT_FILE     "member-salt" /* in the state directory: the member-key salt */
#define S_SALT_BYTES    32
#define S_TRAINING_MAP  EL_CLI_LIST_MAX
#define S_FAR_FUTURE_US 253402300799000000LL  /* 9999-12-31T23:59:59Z */
#define S_N(a) (sizeof (a) / sizeof (a)[0])

/* ------------------------------------------------------------ this site's records */

typedef struct {
    char *key;
    uint8_t *payload;
    size_t len;
} s_held_t;

typedef struct {
    el_cli_t *cli;
    s_held_t *items;
    size_t n, cap;
    int rc;
} s_held_set_t;

static int
s_held_add (void *arg, const El__RecordView *v)
{
    s_held_set_t *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        s_held_t *items = realloc (s->items, cap * sizeof *items);
        if (!items)
            goto nomem;
        s->items = items;
        s->cap = cap;
    }
    s_held_t *h = &s->items[s->n];
    h->key = strdup (v->key);
    h->payload = malloc (v->payload.len ? v->payload.len : 1);
    if (!h->key || !h->payload) {
        free (h->key);
        free (h->payload);
        goto nomem;
    }
    memcpy (h->payload, v->payload.data, v->payload.len);
    h->len = v->payload.len;
    s->n++;
    return 0;
nomem:
    s->rc = el_cli_fail (s->cli, -ENOMEM, "out of memory");
    return 1;
}

static int
s_held_cmp (const void *a, const void *b)
{
    return strcmp (((const s_held_t *) a)->key, ((const s_held_t *) b)->key);
}

static void
s_held_free (s_held_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free (s->items[i].key);
        free (s->items[i].payload);
    }
    free (s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

/* Every live record of @p kind this site wrote, sorted by key. */
static int
s_held_load (el_cli_t *cli, El__Kind kind, s_held_set_t *ret)
{
    memset (ret, 0, sizeof *ret);
    ret->cli = cli;
    int rc = el_cli_self (cli);
    if (rc < 0)
        return rc;
    rc = el_cli_list (cli, kind, cli->self_id, s_held_add, ret);
    if (rc == 0)
        rc = ret->rc;
    if (rc < 0) {
        s_held_free (ret);
        return rc;
    }
    if (ret->n > 1)
        qsort (ret->items, ret->n, sizeof *ret->items, s_held_cmp);
    return 0;
}

static const s_held_t *
s_held_find (const s_held_set_t *s, const char *key)
{
    s_held_t probe = { (char *) key, NULL, 0 };
    return s->n ? bsearch (&probe, s->items, s->n, sizeof *s->items, s_held_cmp) : NULL;
}

/* ------------------------------------------------------------ batched writes */

typedef struct {
    el_cli_t *cli;
    El__Kind kind;
    char **keys;               /* owned */
    ProtobufCBinaryData *payloads; /* owned data */
    size_t n, cap;
    uint64_t first_seq, last_seq;
    size_t requests;
} s_writer_t;

/* Queue one record; takes @p key and @p payload (also on failure). */
static int
s_writer_add (s_writer_t *w, char *key, uint8_t *payload, size_t len)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        char **k = realloc (w->keys, cap * sizeof *k);
        if (k)
            w->keys = k;
        ProtobufCBinaryData *p = realloc (w->payloads, cap * sizeof *p);
        if (p)
            w->payloads = p;
        if (!k || !p) {
            free (key);
            free (payload);
            return el_cli_fail (w->cli, -ENOMEM, "out of memory");
        }
        w->cap = cap;
    }
    w->keys[w->n] = key;
    w->payloads[w->n] = (ProtobufCBinaryData) { len, payload };
    w->n++;
    return 0;
}

/* Queue @p record packed under a copy of @p key. */
static int
s_writer_add_msg (s_writer_t *w, const char *key, const ProtobufCMessage *record)
{
    size_t len = protobuf_c_message_get_packed_size (record);
    if (len > EL_PAYLOAD_MAX)
        return EL_ETOOBIG;
    uint8_t *buf = malloc (len ? len : 1);
    char *k = strdup (key);
    if (!buf || !k) {
        free (buf);
        free (k);
        return el_cli_fail (w->cli, -ENOMEM, "out of memory");
    }
    protobuf_c_message_pack (record, buf);
    return s_writer_add (w, k, buf, len);
}

/* Send records [from, to) in one WriteRequest. */
static int
s_writer_send (s_writer_t *w, size_t from, size_t to)
{
    size_t n = to - from;
    El__RecordWrite *rws = calloc (n, sizeof *rws);
    El__RecordWrite **ptrs = calloc (n, sizeof *ptrs);
    int rc = -ENOMEM;
    if (!rws || !ptrs) {
        rc = el_cli_fail (w->cli, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        el__record_write__init (&rws[i]);
        rws[i].kind = w->kind;
        rws[i].key = w->keys[from + i];
        rws[i].payload = w->payloads[from + i];
        ptrs[i] = &rws[i];
    }
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WriteRequest wr = EL__WRITE_REQUEST__INIT;
    wr.records = ptrs;
    wr.n_records = n;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &wr;
    El__ControlReply *reply = NULL;
    rc = el_cli_call (w->cli, &req, &reply);
    if (rc < 0)
        goto out;
    if (reply->r_case == EL__CONTROL_REPLY__R_WRITE) {
        if (!w->first_seq)
            w->first_seq = reply->write->first_seq;
        w->last_seq = reply->write->last_seq;
    }
    w->requests++;
    el_cli_reply_free (&reply);
out:
    free (rws);
    free (ptrs);
    return rc;
}

/* Send everything queued: as few requests as EL_SYNC_WRITE_MAX and
 * S_BATCH_BYTES allow. */
static int
s_writer_flush (s_writer_t *w)
{
    size_t start = 0, bytes = 0;
    for (size_t i = 0; i < w->n; i++) {
        size_t len = w->payloads[i].len + strlen (w->keys[i]) + 16;
        if (i > start && (i - start == EL_SYNC_WRITE_MAX || bytes + len > S_BATCH_BYTES)) {
            int rc = s_writer_send (w, start, i);
            if (rc < 0)
                return rc;
            start = i;
            bytes = 0;
        }
        bytes += len;
    }
    return start < w->n ? s_writer_send (w, start, w->n) : 0;
}

static void
s_writer_free (s_writer_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free (w->keys[i]);
        free (w->payloads[i].data);
    }
    free (w->keys);
    free (w->payloads);
    memset (w, 0, sizeof *w);
}

/* ------------------------------------------------------------ reports */

typedef struct {
    size_t added, updated, unchanged, skipped;
    json_t *problems;          /* array of {line, skipped, reason} */
} s_tally_t;

static void
s_problem (s_tally_t *t, uint32_t line, bool skipped, const char *reason)
{
    json_array_append_new (t->problems, json_pack ("{s:i, s:b, s:s}", "line", (int) line,
                                                   "skipped", skipped, "reason", reason));
    if (skipped)
        t->skipped++;
}

/* Print the import's report: one line, then one line per problem. Takes nothing. */
static int
s_report (el_cli_t *cli, const char *what, const char *path, s_tally_t *t, size_t dropped,
          const s_writer_t *w)
{
    json_t *doc = json_object ();
    json_object_set_new (doc, "file", json_string (path));
    json_object_set_new (doc, "new", json_integer ((json_int_t) t->added));
    json_object_set_new (doc, "updated", json_integer ((json_int_t) t->updated));
    json_object_set_new (doc, "unchanged", json_integer ((json_int_t) t->unchanged));
    json_object_set_new (doc, "skipped", json_integer ((json_int_t) t->skipped));
    json_object_set_new (doc, "problems", json_incref (t->problems));
    json_object_set_new (doc, "problems_not_shown", json_integer ((json_int_t) dropped));
    json_object_set_new (doc, "first_seq", json_integer ((json_int_t) w->first_seq));
    json_object_set_new (doc, "last_seq", json_integer ((json_int_t) w->last_seq));
    json_object_set_new (doc, "write_requests", json_integer ((json_int_t) w->requests));
    if (cli->json) {
        int rc = el_cli_json_print (stdout, doc);
        json_decref (doc);
        return rc < 0 ? el_cli_fail (cli, rc, "cannot print the result") : 0;
    }
    printf ("%s import %s: %zu new, %zu updated, %zu unchanged, %zu skipped", what, path,
            t->added, t->updated, t->unchanged, t->skipped);
    if (w->first_seq)
        printf (" (entries %llu..%llu)", (unsigned long long) w->first_seq,
                (unsigned long long) w->last_seq);
    printf ("\n");
    size_t i;
    json_t *p;
    json_array_foreach (t->problems, i, p) {
        int line = (int) json_integer_value (json_object_get (p, "line"));
        const char *reason = json_string_value (json_object_get (p, "reason"));
        bool skipped = json_is_true (json_object_get (p, "skipped"));
        if (line > 0)
            printf ("  %s:%d: %s%s\n", path, line, skipped && !strstr (reason, "skipped")
                    ? "skipped: " : "", reason);
        else
            printf ("  %s: %s%s\n", path, skipped && !strstr (reason, "skipped") ? "skipped: "
                    : "", reason);
    }
    if (dropped)
        printf ("  ... and %zu more problems\n", dropped);
    json_decref (doc);
    return 0;
}

/* Read @p path ("-" = standard input) whole. File errors are bad input. */
static int
s_read (el_cli_t *cli, const char *path, size_t max, char **ret, size_t *ret_len)
{
    int rc = el_import_read_file (strcmp (path, "-") ? path : "/dev/stdin", max, ret, ret_len);
    if (rc == EL_ETOOBIG)
        return el_cli_bad (cli, "%s: larger than %zu bytes", path, max);
    if (rc == -ENOMEM)
        return el_cli_fail (cli, rc, "out of memory");
    if (rc < 0)
        return el_cli_bad (cli, "%s: %s", path, strerror (-rc));
    return 0;
}

/* "FILE:LINE: reason" or "FILE: reason": a refused file. */
static int
s_refused (el_cli_t *cli, const char *path, uint32_t line, const char *reason)
{
    if (line)
        return el_cli_bad (cli, "%s:%u: %s (nothing imported)", path, line, reason);
    return el_cli_bad (cli, "%s: %s (nothing imported)", path, reason);
}

/* ------------------------------------------------------------ event import */

static int
s_event_import (el_cli_t *cli, const el_cli_args_t *a)
{
    const char *path = a->pos[0];
    char *data = NULL;
    size_t len = 0;
    el_ics_import_t *imp = NULL;
    el_ics_error_t err;
    s_held_set_t held = { 0 };
    s_writer_t w = { .cli = cli, .kind = EL__KIND__EVENT };
    s_tally_t t = { .problems = json_array () };
    uint8_t site[EL_KEY_BYTES];
    const char *site_text = el_cli_opt (a, "site");
    int rc = s_read (cli, path, EL_ICS_MAX_BYTES, &data, &len);
    if (rc < 0)
        goto out;
    memset (&err, 0, sizeof err);
    /* floating times are wall-clock times where the calendar is kept */
    char zone[EL_CLI_ZONE_MAX];
    el_cli_time_zone (zone, sizeof zone);
    rc = el_ics_import_in_zone (data, len, zone, &imp, &err);
    if (rc == EL_EINVAL || rc == EL_ETOOBIG) {
        rc = s_refused (cli, path, err.line, err.reason[0] ? err.reason
                        : "too large (at most 20000 events, 8 MiB)");
        goto out;
    }
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", path, el_strerror (rc));
        goto out;
    }
    for (size_t i = 0; i < imp->problems.n; i++)
        s_problem (&t, imp->problems.items[i].line, imp->problems.items[i].skipped, imp->problems.items[i].reason);
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        goto out;
    rc = s_held_load (cli, EL__KIND__EVENT, &held);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < imp->n_events; i++) {
        El__Event *ev = imp->events[i];
        char key[EL_RECORD_KEY_MAX + 1];
        if (el_ics_event_key (ev, key, sizeof key) < 0) {
            s_problem (&t, imp->lines[i], true, "no usable UID");
            continue;
        }
        if (site_text) {
            uint8_t *copy = malloc (EL_KEY_BYTES);
            if (!copy) {
                rc = el_cli_fail (cli, -ENOMEM, "out of memory");
                goto out;
            }
            memcpy (copy, site, EL_KEY_BYTES);
            free (ev->site.data);
            ev->site = (ProtobufCBinaryData) { EL_KEY_BYTES, copy };
        }
        const s_held_t *h = s_held_find (&held, key);
        if (h) {
            El__Event *cur = el__event__unpack (&el_pb_allocator, h->len, h->payload);
            bool newer = !cur || el_ics_event_is_newer (cur, ev);
            el__event__free_unpacked (cur, &el_pb_allocator);
            if (!newer) {
                t.unchanged++;
                continue;
            }
        }
        rc = s_writer_add_msg (&w, key, &ev->base);
        if (rc == EL_ETOOBIG) {
            s_problem (&t, imp->lines[i], true, "event too large once packed");
            rc = 0;
            continue;
        }
        if (rc < 0)
            goto out;
        if (h)
            t.updated++;
        else
            t.added++;
    }
    rc = s_writer_flush (&w);
    if (rc < 0)
        goto out;
    rc = s_report (cli, "event", path, &t, imp->problems.dropped, &w);
out:
    json_decref (t.problems);
    s_writer_free (&w);
    s_held_free (&held);
    el_ics_import_destroy (&imp);
    free (data);
    return rc;
}

/* ------------------------------------------------------------ event export */

typedef struct {
    el_cli_t *cli;
    El__Event **events;
    uint8_t (*hosts)[EL_KEY_BYTES];   /* hosting site of each event */
    size_t n, cap;
    int rc;
} s_export_t;

static int
s_export_add (void *arg, const El__RecordView *v)
{
    s_export_t *s = arg;
    if (s->n == EL_ICS_MAX_EVENTS) {
        s->rc = el_cli_fail (s->cli, EL_ETOOBIG, "more than %d events: narrow with --from, --to "
                             "or --site", EL_ICS_MAX_EVENTS);
        return 1;
    }
    El__Event *e = el__event__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        El__Event **ev = realloc (s->events, cap * sizeof *ev);
        if (ev)
            s->events = ev;
        uint8_t (*h)[EL_KEY_BYTES] = realloc (s->hosts, cap * sizeof *h);
        if (h)
            s->hosts = h;
        if (!ev || !h) {
            el__event__free_unpacked (e, &el_pb_allocator);
            s->rc = el_cli_fail (s->cli, -ENOMEM, "out of memory");
            return 1;
        }
        s->cap = cap;
    }
    memcpy (s->hosts[s->n], e->site.len == EL_KEY_BYTES ? e->site.data : v->origin.data,
            EL_KEY_BYTES);
    s->events[s->n++] = e;
    return 0;
}

/* Does @p e have an occurrence overlapping [from, to)? An all-day event's
 * dates (RFC 5545 §3.3.4) are compared with the dates of @p from and @p to
 * on the CLI's clock, as event list does. */
static bool
s_in_window (const El__Event *e, int64_t from, int64_t to)
{
    if (e->all_day) {
        from = from ? el_cli_time_wall (from) : 0;
        to = to < S_FAR_FUTURE_US ? el_cli_time_wall (to) : to;
    }
    int64_t start;
    size_t n = 0;
    int rc = el_ics_expand (e, NULL, 0, from, to, &start, 1, &n);
    if (rc == 0)
        return n > 0;
    if (rc == EL_ETOOBIG)
        return true;            /* more than one */
    /* unreadable recurrence: its first occurrence */
    int64_t end = e->dtend_us > e->dtstart_us ? e->dtend_us : e->dtstart_us;
    return end > from ? e->dtstart_us < to : (e->dtstart_us >= from && e->dtstart_us < to);
}

typedef struct {
    char key[EL_RECORD_KEY_MAX + 1];
    size_t i;                   /* position in the selection */
} s_uid_t;

static int
s_uid_cmp (const void *a, const void *b)
{
    const s_uid_t *x = a, *y = b;
    int c = strcmp (x->key, y->key);
    return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

/* One VEVENT per UID (and RECURRENCE-ID), as RFC 5545 §3.8.4.7 wants: when
 * several sites wrote the same event, keep the newest (el_ics_event_is_newer,
 * else the first listed). Compacts @p sel in place, keeping its order. */
static int
s_unique_uids (el_cli_t *cli, const El__Event **sel, size_t *n, size_t *ret_dropped)
{
    *ret_dropped = 0;
    if (*n < 2)
        return 0;
    s_uid_t *u = calloc (*n, sizeof *u);
    bool *drop = calloc (*n, sizeof *drop);
    if (!u || !drop) {
        free (u);
        free (drop);
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < *n; i++) {
        u[i].i = i;
        if (el_ics_event_key (sel[i], u[i].key, sizeof u[i].key) < 0)
            snprintf (u[i].key, sizeof u[i].key, "#%zu", i);  /* no uid: unique anyway */
    }
    qsort (u, *n, sizeof *u, s_uid_cmp);
    for (size_t i = 0, keep = 0; i < *n; i++) {
        if (i == 0 || strcmp (u[i].key, u[keep].key)) {
            keep = i;
            continue;
        }
        if (el_ics_event_is_newer (sel[u[keep].i], sel[u[i].i])) {
            drop[u[keep].i] = true;
            keep = i;
        } else
            drop[u[i].i] = true;
    }
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!drop[i])
            sel[k++] = sel[i];
    *ret_dropped = *n - k;
    *n = k;
    free (u);
    free (drop);
    return 0;
}

static int
s_event_export (el_cli_t *cli, const el_cli_args_t *a)
{
    int64_t from = 0, to = S_FAR_FUTURE_US;
    uint8_t site[EL_KEY_BYTES];
    const char *v, *site_text = el_cli_opt (a, "site"), *output = el_cli_opt (a, "output");
    int rc;
    v = el_cli_opt (a, "from");
    rc = v ? el_cli_time_opt (cli, "from", v, &from) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "to");
    rc = v ? el_cli_time_opt (cli, "to", v, &to) : 0;
    if (rc < 0)
        return rc;
    if (to <= from)
        return el_cli_bad (cli, "end before start: --to must be after --from");
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        return rc;
    bool window = el_cli_has (a, "from") || el_cli_has (a, "to");

    s_export_t s = { .cli = cli };
    char *text = NULL;
    size_t text_len = 0, degraded = 0, kept = 0;
    const El__Event **sel = NULL;
    rc = window ? el_cli_list_window (cli, EL__KIND__EVENT, from, to, s_export_add, &s)
                : el_cli_list (cli, EL__KIND__EVENT, NULL, s_export_add, &s);
    if (rc == 0)
        rc = s.rc;
    if (rc < 0)
        goto out;
    sel = calloc (s.n ? s.n : 1, sizeof *sel);
    if (!sel) {
        rc = el_cli_fail (cli, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.n; i++) {
        El__Event *e = s.events[i];
        if (site_text && memcmp (s.hosts[i], site, EL_KEY_BYTES))
            continue;
        if (window && !s_in_window (e, from, to))
            continue;
        /* say which site hosts it (X-ENTRELAB-SITE), also when it is the writer */
        if (e->site.len != EL_KEY_BYTES) {
            if (e->site.data)
                el_pb_allocator.free (el_pb_allocator.allocator_data, e->site.data);
            e->site.data = el_pb_allocator.alloc (el_pb_allocator.allocator_data, EL_KEY_BYTES);
            if (!e->site.data) {
                e->site.len = 0;
                rc = el_cli_fail (cli, -ENOMEM, "out of memory");
                goto out;
            }
            memcpy (e->site.data, s.hosts[i], EL_KEY_BYTES);
            e->site.len = EL_KEY_BYTES;
        }
        sel[kept++] = e;
    }
    size_t dups = 0;
    rc = s_unique_uids (cli, sel, &kept, &dups);
    if (rc < 0)
        goto out;
    rc = el_ics_export (sel, kept, cli->now_us, &text, &text_len, &degraded);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "export failed: %s", el_strerror (rc));
        goto out;
    }
    if (output) {
        FILE *f = fopen (output, "wb");
        if (!f) {
            rc = el_cli_bad (cli, "--output %s: %s", output, strerror (errno));
            goto out;
        }
        bool ok = fwrite (text, 1, text_len, f) == text_len;
        if (fclose (f) != 0 || !ok) {
            rc = el_cli_fail (cli, -EIO, "--output %s: write failed", output);
            goto out;
        }
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I, s:I, s:I}", "file", output,
                                                "events", (json_int_t) kept, "degraded",
                                                (json_int_t) degraded, "duplicates",
                                                (json_int_t) dups),
                                "exported %zu events to %s%s", kept, output,
                                degraded ? " (some written with a loss, see --json)" : "");
    } else if (cli->json) {
        json_t *doc = json_pack ("{s:I, s:I, s:I, s:s%}", "events", (json_int_t) kept,
                                 "degraded", (json_int_t) degraded, "duplicates",
                                 (json_int_t) dups, "ics", text, text_len);
        rc = el_cli_json_print (stdout, doc);
        json_decref (doc);
        if (rc < 0)
            rc = el_cli_fail (cli, rc, "cannot print the result");
    } else {
        if (fwrite (text, 1, text_len, stdout) != text_len)
            rc = el_cli_fail (cli, -EIO, "cannot write the calendar");
        if (degraded)
            fprintf (stderr, "entrelab: %zu events written with a loss (unreadable rule or "
                     "zone, or text replaced)\n", degraded);
    }
out:
    free (text);
    free (sel);
    for (size_t i = 0; i < s.n; i++)
        el__event__free_unpacked (s.events[i], &el_pb_allocator);
    free (s.events);
    free (s.hosts);
    return rc;
}

/* ------------------------------------------------------------ equipment and members */

/* Queue the records of @p imp that differ from what this site holds. */
static int
s_queue_changed (el_cli_t *cli, el_import_t *imp, const s_held_set_t *held, s_writer_t *w,
                 s_tally_t *t)
{
    for (size_t i = 0; i < imp->n; i++) {
        const ProtobufCMessage *rec = imp->equipment ? &imp->equipment[i]->base
                                                     : &imp->members[i]->base;
        size_t len = protobuf_c_message_get_packed_size (rec);
        if (len > EL_PAYLOAD_MAX) {
            s_problem (t, imp->lines[i], true, "record too large once packed");
            continue;
        }
        uint8_t *buf = malloc (len ? len : 1);
        char *key = strdup (imp->keys[i]);
        if (!buf || !key) {
            free (buf);
            free (key);
            return el_cli_fail (cli, -ENOMEM, "out of memory");
        }
        protobuf_c_message_pack (rec, buf);
        const s_held_t *h = s_held_find (held, key);
        if (h && h->len == len && !memcmp (h->payload, buf, len)) {
            t->unchanged++;
            free (buf);
            free (key);
            continue;
        }
        int rc = s_writer_add (w, key, buf, len);
        if (rc < 0)
            return rc;
        if (h)
            t->updated++;
        else
            t->added++;
    }
    return 0;
}

/* Does @p data look like JSON (after a byte-order mark and blanks)? */
static bool
s_is_json (const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp (data, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && (data[i] == '[' || data[i] == '{');
}

static int
s_equipment_import (el_cli_t *cli, const el_cli_args_t *a)
{
    const char *path = a->pos[0], *format = el_cli_opt (a, "format"), *lab = el_cli_opt (a, "lab");
    char *data = NULL;
    size_t len = 0;
    el_import_t *imp = NULL;
    el_import_error_t err;
    s_held_set_t held = { 0 };
    s_writer_t w = { .cli = cli, .kind = EL__KIND__EQUIPMENT };
    s_tally_t t = { .problems = json_array () };
    int rc;
    if (format && strcmp (format, "csv") && strcmp (format, "fablabs")) {
        rc = el_cli_bad (cli, "--format: csv or fablabs, not '%s'", format);
        goto out;
    }
    rc = s_read (cli, path, EL_IMPORT_MAX_BYTES, &data, &len);
    if (rc < 0)
        goto out;
    bool fablabs = format ? !strcmp (format, "fablabs") : s_is_json (data, len);
    if (lab && !fablabs) {
        rc = el_cli_bad (cli, "--lab is for a fablabs.io JSON export; %s reads as CSV", path);
        goto out;
    }
    if (el_cli_has (a, "defaults") && fablabs) {
        rc = el_cli_bad (cli, "--defaults is for an equipment CSV; %s reads as a fablabs.io "
                         "export", path);
        goto out;
    }
    memset (&err, 0, sizeof err);
    el_equipment_import_opts_t opts = { .defaults = el_cli_has (a, "defaults") };
    rc = fablabs ? el_import_fablabs_json (data, len, lab, &imp, &err)
                 : el_import_equipment_csv_opts (data, len, &opts, &imp, &err);
    if (rc == EL_ENOTFOUND) {
        rc = el_cli_bad (cli, "%s: no lab '%s' (give its fablabs.io slug or its name)", path, lab);
        goto out;
    }
    if (rc == EL_EINVAL || rc == EL_ETOOBIG) {
        rc = s_refused (cli, path, err.line, err.reason[0] ? err.reason : "too large");
        goto out;
    }
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", path, el_strerror (rc));
        goto out;
    }
    for (size_t i = 0; i < imp->problems.n; i++)
        s_problem (&t, imp->problems.items[i].line, imp->problems.items[i].skipped, imp->problems.items[i].reason);
    rc = s_held_load (cli, EL__KIND__EQUIPMENT, &held);
    if (rc < 0)
        goto out;
    rc = s_queue_changed (cli, imp, &held, &w, &t);
    if (rc < 0)
        goto out;
    rc = s_writer_flush (&w);
    if (rc < 0)
        goto out;
    rc = s_report (cli, "equipment", path, &t, imp->problems.dropped, &w);
out:
    json_decref (t.problems);
    s_writer_free (&w);
    s_held_free (&held);
    el_import_destroy (&imp);
    free (data);
    return rc;
}

/* The member-key salt: S_SALT_BYTES random bytes kept in the state
 * directory (made on first use, 0600), so that keys cannot be matched
 * against a list of e-mails and stay the same from one import to the next.
 * Without access to the state directory: the site id (keys stay stable,
 * but are not secret). @return true when the salt is the secret file's. */
static bool
s_member_salt (el_cli_t *cli, uint8_t salt[S_SALT_BYTES])
{
    memcpy (salt, cli->self_id, S_SALT_BYTES);
    struct stat st;
    if (!cli->node || strstr (cli->node, "://") || stat (cli->node, &st) != 0
        || !S_ISDIR (st.st_mode))
        return false;
    char path[1200];
    if ((size_t) snprintf (path, sizeof path, "%s/%s", cli->node, S_SALT_FILE) >= sizeof path)
        return false;
    uint8_t buf[S_SALT_BYTES];
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read (fd, buf, sizeof buf);
        close (fd);
        if (n != (ssize_t) sizeof buf)
            return false;
        memcpy (salt, buf, sizeof buf);
        return true;
    }
    randombytes_buf (buf, sizeof buf);
    fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    bool ok = write (fd, buf, sizeof buf) == (ssize_t) sizeof buf && fsync (fd) == 0;
    close (fd);
    if (!ok) {
        unlink (path);
        return false;
    }
    memcpy (salt, buf, sizeof buf);
    sodium_memzero (buf, sizeof buf);
    return true;
}

static int
s_member_import (el_cli_t *cli, const el_cli_args_t *a)
{
    const char *path = a->pos[0], *sharing_text = el_cli_opt (a, "sharing");
    const char *const *maps;
    size_t n_maps = el_cli_opt_list (a, "training-id", &maps);
    const char *trainings[S_TRAINING_MAP + 1];
    char *data = NULL;
    size_t len = 0;
    el_import_t *imp = NULL;
    el_import_error_t err;
    s_held_set_t held = { 0 };
    s_writer_t w = { .cli = cli, .kind = EL__KIND__MEMBER };
    s_tally_t t = { .problems = json_array () };
    El__Sharing sharing = EL__SHARING__SHARING_SITE;
    uint8_t salt[S_SALT_BYTES];
    int rc;
    rc = sharing_text ? el_cli_sharing_parse (cli, "sharing", sharing_text, &sharing) : 0;
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < n_maps; i++) {
        const char *eq = strchr (maps[i], '=');
        if (!eq || eq == maps[i] || !eq[1]) {
            rc = el_cli_bad (cli, "--training-id: expected ID=NAME (e.g. 3=laser_cutter), not "
                                  "'%s'", maps[i]);
            goto out;
        }
        trainings[i] = maps[i];
    }
    trainings[n_maps] = NULL;
    rc = s_read (cli, path, EL_IMPORT_MAX_BYTES, &data, &len);
    if (rc < 0)
        goto out;
    /* refuse a file that is not a roster before asking the daemon anything */
    memset (&err, 0, sizeof err);
    rc = el_import_fabmanager_members (data, len, NULL, &imp, &err);
    if (rc == EL_EINVAL || rc == EL_ETOOBIG) {
        rc = s_refused (cli, path, err.line, err.reason[0] ? err.reason : "too large");
        goto out;
    }
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", path, el_strerror (rc));
        goto out;
    }
    el_import_destroy (&imp);
    rc = el_cli_self (cli);
    if (rc < 0)
        goto out;
    bool secret = s_member_salt (cli, salt);
    el_member_import_opts_t opts = { salt, sizeof salt, trainings };
    rc = el_import_fabmanager_members (data, len, &opts, &imp, &err);
    sodium_memzero (salt, sizeof salt);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", path, el_strerror (rc));
        goto out;
    }
    for (size_t i = 0; i < imp->problems.n; i++)
        s_problem (&t, imp->problems.items[i].line, imp->problems.items[i].skipped, imp->problems.items[i].reason);
    for (size_t i = 0; i < imp->n; i++) {
        El__Member *m = imp->members[i];
        uint8_t *home = malloc (EL_KEY_BYTES);
        if (!home) {
            rc = el_cli_fail (cli, -ENOMEM, "out of memory");
            goto out;
        }
        memcpy (home, cli->self_id, EL_KEY_BYTES);
        free (m->home_site.data);
        m->home_site = (ProtobufCBinaryData) { EL_KEY_BYTES, home };
        m->sharing = sharing;
    }
    if (!secret)
        s_problem (&t, 0, false, "no access to the state directory: member keys are derived "
                                 "with the site id, not a secret salt");
    rc = s_held_load (cli, EL__KIND__MEMBER, &held);
    if (rc < 0)
        goto out;
    rc = s_queue_changed (cli, imp, &held, &w, &t);
    if (rc < 0)
        goto out;
    rc = s_writer_flush (&w);
    if (rc < 0)
        goto out;
    rc = s_report (cli, "member", path, &t, imp->problems.dropped, &w);
out:
    json_decref (t.problems);
    s_writer_free (&w);
    s_held_free (&held);
    el_import_destroy (&imp);
    free (data);
    return rc;
}

/* ------------------------------------------------------------ tables */

static const el_cli_optspec_t s_event_import_opts[] = {
    { "site", EL_CLI_OPT_VALUE, "SITE", "hosting site of every event (name or key; default: "
      "the file's X-ENTRELAB-SITE, else this site)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_event_export_opts[] = {
    { "from", EL_CLI_OPT_VALUE, "DATE", "only events with an occurrence ending after this" },
    { "to", EL_CLI_OPT_VALUE, "DATE", "only events with an occurrence starting before this" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "only events hosted by this site (name or key)" },
    { "output", EL_CLI_OPT_VALUE, "FILE", "write the calendar here (default: standard output)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_equipment_import_opts[] = {
    { "lab", EL_CLI_OPT_VALUE, "NAME", "fablabs.io export: only this lab (slug or name)" },
    { "format", EL_CLI_OPT_VALUE, "FORMAT", "csv or fablabs (default: fablabs when the file "
      "is JSON)" },
    { "defaults", EL_CLI_OPT_SWITCH, NULL, "CSV without a required_training or bookable_by "
      "column: import with the defaults (no training; bookable by the network) instead of "
      "refusing it" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_member_import_opts[] = {
    { "sharing", EL_CLI_OPT_VALUE, "LEVEL", "who may see the records: site (default), network, "
      "federation" },
    { "training-id", EL_CLI_OPT_LIST, "ID=NAME", "name of a Fab Manager training id, e.g. "
      "3=laser_cutter" },
    { NULL, 0, NULL, NULL },
};

const el_cli_cmd_t el_cli_event_import_cmds[] = {
    { "event import", "FILE.ics", 1, 1, "Import an iCalendar file as this site's events (the "
      "UID is the key).", s_event_import_opts, s_event_import,
      "entrelab event import saison-2027.ics" },
    { "event export", NULL, 0, 0, "The network's agenda as one iCalendar (RFC 5545) file.",
      s_event_export_opts, s_event_export,
      "entrelab event export --from 2027-01-01 --to 2027-07-01 > network.ics" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};

const el_cli_cmd_t el_cli_equipment_import_cmds[] = {
    { "equipment import", "FILE", 1, 1, "Import this site's machines from an equipment CSV or "
      "a fablabs.io labs export (JSON).", s_equipment_import_opts, s_equipment_import,
      "entrelab equipment import machines.csv" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};

const el_cli_cmd_t el_cli_member_import_cmds[] = {
    { "member import", "FILE", 1, 1, "Import this site's roster from a Fab Manager member "
      "CSV (names, group, trainings only).", s_member_import_opts, s_member_import,
      "entrelab member import members.csv --training-id 1=laser_cutter" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
