/* el_cli_booking.c — `entrelab book`, `entrelab bookings list|confirm|decline|
 * policy`: requests (el.BookingRequest, written by the requesting site) and
 * the owners' answers (el.Booking, written by the equipment's owner). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "el_booking.h"
#include "el_cli.h"

#define S_SPAN_MAX_US (31LL * 24 * 3600 * 1000000)   /* as EL_BOOKING_SPAN_MAX */
#define S_WAIT_STEP_MS 100

static const char *
s_booking_status (El__BookingStatus s)
{
    switch (s) {
    case EL__BOOKING_STATUS__BOOKING_CONFIRMED: return "confirmed";
    case EL__BOOKING_STATUS__BOOKING_DECLINED: return "declined";
    case EL__BOOKING_STATUS__BOOKING_CANCELLED: return "cancelled";
    default: return "pending";
    }
}

/* "<origin base64url>:<key>" */
static void
s_booking_id (const uint8_t origin[EL_KEY_BYTES], const char *key, char *out, size_t size)
{
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (origin, text);
    snprintf (out, size, "%s:%s", text, key);
}

static const el_cli_col_t s_list_cols[] = {
    { "START", "start_us", EL_CLI_COL_TIME, 0 },
    { "END", "end_us", EL_CLI_COL_TIME, 0 },
    { "EQUIPMENT", "equipment", EL_CLI_COL_TEXT, 0 },
    { "OWNER", "owner_name", EL_CLI_COL_TEXT, 20 },
    { "REQUESTED BY", "requester_name", EL_CLI_COL_TEXT, 20 },
    { "REQUEST", "request_key", EL_CLI_COL_TEXT, 0 },
    { "MEMBER", "member", EL_CLI_COL_TEXT, 0 },
    { "NAME", "member_name", EL_CLI_COL_TEXT, 20 },
    { "TRAININGS", "member_trainings", EL_CLI_COL_TEXT, 30 },
    { "STATUS", "status", EL_CLI_COL_TEXT, 0 },
    { "REASON", "reason", EL_CLI_COL_TEXT, 40 },
};
#define S_N(a) (sizeof (a) / sizeof (a)[0])

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

/* The owner's answer, if any. @return 0 with *ret (caller frees), EL_ENOTFOUND, errors. */
static int
s_answer_get (el_cli_t *cli, const uint8_t owner[EL_KEY_BYTES], const char *booking_key,
              El__Booking **ret)
{
    El__ControlReply *reply = NULL;
    const El__RecordView *v;
    int rc = el_cli_get (cli, EL__KIND__BOOKING, owner, booking_key, &reply, &v);
    if (rc < 0)
        return rc;
    *ret = el__booking__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    el_cli_reply_free (&reply);
    return *ret ? 0 : el_cli_fail (cli, EL_EPROTO, "booking '%s' does not decode", booking_key);
}

/* ------------------------------------------------------------ book */

/* Refuse what the owner would decline for certain, as el_booking_decide
 * judges it: a machine not bookable at this site's level (its own site only,
 * or its own network only), or a member without the training it requires.
 * @p m: the member, or NULL when none is named. @return 0, EL_CLI_BAD, errors. */
static int
s_book_refusal (el_cli_t *cli, const char *equipment, const uint8_t owner[EL_KEY_BYTES],
                const El__Equipment *eq, const char *member, const El__Member *m)
{
    int rc = el_cli_self (cli);
    if (rc < 0)
        return rc;
    bool own = memcmp (owner, cli->self_id, EL_KEY_BYTES) == 0;
    if (eq->bookable_by == EL__SHARING__SHARING_SITE && !own)
        return el_cli_bad (cli, "'%s' is bookable by its owner's own site only: the owner "
                           "would decline the request", equipment);
    if (eq->bookable_by != EL__SHARING__SHARING_FEDERATION && !own) {
        El__ControlReply *reply = NULL;
        const El__RecordView *v;
        rc = el_cli_get (cli, EL__KIND__EQUIPMENT, owner, equipment, &reply, &v);
        if (rc < 0)
            return rc == EL_ENOTFOUND ? el_cli_bad (cli, "unknown equipment '%s'", equipment)
                                      : rc;
        bool other = v->network.len == EL_KEY_BYTES
                     && memcmp (v->network.data, cli->network, EL_KEY_BYTES) != 0;
        el_cli_reply_free (&reply);
        if (other)
            return el_cli_bad (cli, "'%s' is bookable inside its owner's network only: the "
                               "owner would decline the request", equipment);
    }
    const char *missing = el_booking_missing_training (eq, m ? m->trainings : NULL,
                                                       m ? m->n_trainings : 0);
    if (missing && member)
        return el_cli_bad (cli, "member '%s' lacks the training '%s' that '%s' requires: the "
                           "owner would decline the request (a training is recorded with "
                           "entrelab member update)", member, missing, equipment);
    if (missing)
        return el_cli_bad (cli, "'%s' requires the training '%s': name a member who holds it "
                           "(--member KEY)", equipment, missing);
    return 0;
}

static int
s_book (el_cli_t *cli, const el_cli_args_t *a)
{
    int64_t start, end;
    int rc;
    if (!el_cli_has (a, "from") || !el_cli_has (a, "to"))
        return el_cli_bad (cli, "book needs --from and --to");
    rc = el_cli_time_opt (cli, "from", el_cli_opt (a, "from"), &start);
    if (rc < 0)
        return rc;
    rc = el_cli_time_opt (cli, "to", el_cli_opt (a, "to"), &end);
    if (rc < 0)
        return rc;
    if (end <= start)
        return el_cli_bad (cli, "end before start: --to must be after --from");
    if (end - start > S_SPAN_MAX_US)
        return el_cli_bad (cli, "a booking lasts at most 31 days");
    if (end <= cli->now_us) {
        char when[EL_CLI_TIME_TEXT_MAX];
        el_cli_time_table (end, when);
        return el_cli_bad (cli, "the slot is in the past (it ends %s)", when);
    }
    int wait_s = 0;
    const char *w = el_cli_opt (a, "wait");
    if (w) {
        char *endp;
        long v = strtol (w, &endp, 10);
        if (!*w || *endp || v < 0 || v > 3600)
            return el_cli_bad (cli, "--wait: seconds, 0..3600");
        wait_s = (int) v;
    }
    const char *member = el_cli_opt (a, "member");
    rc = member ? el_cli_check_key (cli, "--member", member, false) : 0;
    if (rc < 0)
        return rc;
    uint8_t owner[EL_KEY_BYTES];
    El__Equipment *eq = NULL;
    rc = el_cli_equipment_find (cli, a->pos[0], el_cli_opt (a, "site"), owner, &eq);
    if (rc < 0)
        return rc;
    El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
    El__ControlReply *mreply = NULL;
    El__Member *m = NULL;
    if (member) {
        const El__RecordView *v;
        rc = el_cli_get (cli, EL__KIND__MEMBER, NULL, member, &mreply, &v);
        if (rc == EL_ENOTFOUND)
            rc = el_cli_bad (cli, "unknown member '%s': a site books for the members of its "
                             "own roster (see entrelab member list)", member);
        if (rc < 0)
            goto out;
        m = el__member__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
        if (!m) {
            rc = el_cli_fail (cli, EL_EPROTO, "member '%s' does not decode", member);
            goto out;
        }
        if (m->valid_until_us && m->valid_until_us < end) {
            char when[EL_CLI_TIME_TEXT_MAX];
            el_cli_time_table (m->valid_until_us, when);
            rc = el_cli_bad (cli, "member '%s''s membership %s %s (entrelab member update %s "
                             "--valid-until DATE)", member,
                             m->valid_until_us <= cli->now_us ? "ended" : "ends before the slot, on",
                             when, member);
            goto out;
        }
        r.member = (char *) member;
        r.member_trainings = m->trainings;
        r.n_member_trainings = m->n_trainings;
        r.member_valid_until_us = m->valid_until_us;
    }
    rc = s_book_refusal (cli, a->pos[0], owner, eq, member, m);
    if (rc < 0)
        goto out;
    char key[64], id[EL_KEY_TEXT_BYTES + 80];
    el_cli_random_key ("r-", key, sizeof key);
    r.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, owner };
    r.equipment_key = (char *) a->pos[0];
    r.start_us = start;
    r.end_us = end;
    r.purpose = (char *) (el_cli_opt (a, "purpose") ? el_cli_opt (a, "purpose") : "");
    rc = el_cli_self (cli);
    if (rc < 0)
        goto out;
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__BOOKING_REQUEST, key, &r.base, false, &seq);
    if (rc < 0)
        goto out;
    s_booking_id (cli->self_id, key, id, sizeof id);
    /* the owner answers at once when it is online and its policy is auto */
    El__Booking *b = NULL;
    for (int waited = 0;; waited += S_WAIT_STEP_MS) {
        rc = s_answer_get (cli, owner, id, &b);
        if (rc != EL_ENOTFOUND || waited >= wait_s * 1000)
            break;
        s_sleep_ms (S_WAIT_STEP_MS);
    }
    if (rc < 0 && rc != EL_ENOTFOUND)
        goto out;
    rc = 0;
    const char *status = b ? s_booking_status (b->status) : "pending";
    const char *reason = b && b->reason ? b->reason : "";
    json_t *doc = json_pack ("{s:s, s:s, s:I, s:s, s:s}", "id", id, "request_key", key,
                             "seq", (json_int_t) seq, "status", status, "reason", reason);
    rc = el_cli_print_line (cli, doc, "booking %s: %s%s%s", status, id, reason[0] ? " — " : "",
                            reason);
    if (b)
        el__booking__free_unpacked (b, &el_pb_allocator);
out:
    if (m)
        el__member__free_unpacked (m, &el_pb_allocator);
    el_cli_reply_free (&mreply);
    el__equipment__free_unpacked (eq, &el_pb_allocator);
    return rc;
}

/* ------------------------------------------------------------ list */

typedef struct {
    uint8_t owner[EL_KEY_BYTES];
    char *key;                  /* booking key */
    El__Booking *b;
    bool matched;
} s_answer_t;

typedef struct {
    el_cli_t *cli;
    s_answer_t *answers;
    size_t n, cap;
    json_t *rows;
    int rc;
} s_list_t;

static int
s_collect_answer (void *arg, const El__RecordView *v)
{
    s_list_t *L = arg;
    El__Booking *b = el__booking__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!b)
        return 0;
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 64;
        s_answer_t *na = realloc (L->answers, cap * sizeof *na);
        if (!na) {
            el__booking__free_unpacked (b, &el_pb_allocator);
            L->rc = el_cli_fail (L->cli, -ENOMEM, "out of memory");
            return 1;
        }
        L->answers = na;
        L->cap = cap;
    }
    s_answer_t *ans = &L->answers[L->n++];
    memcpy (ans->owner, v->origin.data, EL_KEY_BYTES);
    ans->key = strdup (v->key);
    ans->b = b;
    ans->matched = false;
    return 0;
}

static int
s_answer_cmp (const void *x, const void *y)
{
    const s_answer_t *a = x, *b = y;
    int c = memcmp (a->owner, b->owner, EL_KEY_BYTES);
    return c ? c : strcmp (a->key ? a->key : "", b->key ? b->key : "");
}

/* Answers are sorted (s_gather) before requests look them up. */
static s_answer_t *
s_find_answer (s_list_t *L, const uint8_t owner[EL_KEY_BYTES], const char *key)
{
    s_answer_t probe;
    memcpy (probe.owner, owner, EL_KEY_BYTES);
    probe.key = (char *) key;
    return L->n ? bsearch (&probe, L->answers, L->n, sizeof probe, s_answer_cmp) : NULL;
}

static json_t *
s_row (el_cli_t *cli, const uint8_t *requester, const char *request_key, const uint8_t *owner,
       const char *equipment, const char *member, int64_t start, int64_t end,
       const char *purpose, const El__Booking *b)
{
    char id[EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 2], name[128];
    s_booking_id (requester, request_key, id, sizeof id);
    json_t *o = json_object ();
    json_object_set_new (o, "id", json_string (id));
    json_object_set_new (o, "request_key", json_string (request_key));
    json_object_set_new (o, "requester", el_cli_key_json (requester));
    json_object_set_new (o, "requester_name",
                         json_string (el_cli_site_name (cli, requester, name, sizeof name)));
    json_object_set_new (o, "owner", el_cli_key_json (owner));
    json_object_set_new (o, "owner_name",
                         json_string (el_cli_site_name (cli, owner, name, sizeof name)));
    json_object_set_new (o, "equipment", json_string (equipment));
    json_object_set_new (o, "member", json_string (member ? member : ""));
    json_object_set_new (o, "member_name", json_string (""));
    json_object_set_new (o, "member_trainings", json_array ());   /* as the requester attests */
    json_object_set_new (o, "start", el_cli_time_json (start));
    json_object_set_new (o, "end", el_cli_time_json (end));
    json_object_set_new (o, "start_us", json_integer (start));
    json_object_set_new (o, "end_us", json_integer (end));
    json_object_set_new (o, "purpose", json_string (purpose ? purpose : ""));
    json_object_set_new (o, "status", json_string (b ? s_booking_status (b->status) : "pending"));
    json_object_set_new (o, "reason", json_string (b && b->reason ? b->reason : ""));
    return o;
}

static int
s_collect_request (void *arg, const El__RecordView *v)
{
    s_list_t *L = arg;
    El__BookingRequest *r = el__booking_request__unpack (&el_pb_allocator, v->payload.len,
                                                         v->payload.data);
    if (!r)
        return 0;
    if (r->equipment_owner.len == EL_KEY_BYTES) {
        char id[EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 2];
        s_booking_id (v->origin.data, v->key, id, sizeof id);
        s_answer_t *ans = s_find_answer (L, r->equipment_owner.data, id);
        if (ans)
            ans->matched = true;
        json_t *row = s_row (L->cli, v->origin.data, v->key, r->equipment_owner.data,
                             r->equipment_key, r->member, r->start_us, r->end_us, r->purpose,
                             ans ? ans->b : NULL);
        json_t *tr = json_object_get (row, "member_trainings");
        for (size_t i = 0; i < r->n_member_trainings; i++)
            json_array_append_new (tr, json_string (r->member_trainings[i]));
        json_array_append_new (L->rows, row);
    }
    el__booking_request__free_unpacked (r, &el_pb_allocator);
    return 0;
}

static int
s_by_start (const void *x, const void *y)
{
    const json_t *a = *(json_t *const *) x, *b = *(json_t *const *) y;
    json_int_t sa = json_integer_value (json_object_get (a, "start_us"));
    json_int_t sb = json_integer_value (json_object_get (b, "start_us"));
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return strcmp (el_cli_row_text (a, "id"), el_cli_row_text (b, "id"));
}

static void
s_list_free (s_list_t *L)
{
    for (size_t i = 0; i < L->n; i++) {
        free (L->answers[i].key);
        el__booking__free_unpacked (L->answers[i].b, &el_pb_allocator);
    }
    free (L->answers);
    json_decref (L->rows);
}

/* Members' names by "<site base64url>:<member key>", as far as their sites
 * share them (a member kept to its site reaches no other one). */
static int
s_collect_member (void *arg, const El__RecordView *v)
{
    json_t *names = arg;
    El__Member *m = el__member__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!m)
        return 0;
    if (m->display_name && m->display_name[0] && v->origin.len == EL_KEY_BYTES) {
        char id[EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 2];
        s_booking_id (v->origin.data, v->key, id, sizeof id);
        json_object_set_new (names, id, json_string (m->display_name));
    }
    el__member__free_unpacked (m, &el_pb_allocator);
    return 0;
}

/* Each request's member_name, from the members this site holds. */
static int
s_member_names (el_cli_t *cli, json_t *rows)
{
    json_t *names = json_object ();
    int rc = el_cli_list (cli, EL__KIND__MEMBER, NULL, s_collect_member, names);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        const char *member = el_cli_row_text (row, "member");
        json_t *requester = json_object_get (row, "requester");
        if (rc < 0 || !member[0] || !json_is_string (requester))
            continue;
        char id[EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 2];
        snprintf (id, sizeof id, "%s:%s", json_string_value (requester), member);
        json_t *name = json_object_get (names, id);
        if (name)
            json_object_set (row, "member_name", name);
    }
    json_decref (names);
    return rc;
}

/* Every request with its answer (and answers whose request is not held). */
static int
s_gather (el_cli_t *cli, s_list_t *L)
{
    memset (L, 0, sizeof *L);
    L->cli = cli;
    L->rows = json_array ();
    int rc = el_cli_list (cli, EL__KIND__BOOKING, NULL, s_collect_answer, L);
    if (rc == 0)
        rc = L->rc;
    for (size_t i = 0; rc == 0 && i < L->n; i++)
        if (!L->answers[i].key)
            rc = el_cli_fail (cli, -ENOMEM, "out of memory");
    if (rc == 0 && L->n)
        qsort (L->answers, L->n, sizeof *L->answers, s_answer_cmp);
    if (rc == 0)
        rc = el_cli_list (cli, EL__KIND__BOOKING_REQUEST, NULL, s_collect_request, L);
    for (size_t i = 0; rc == 0 && i < L->n; i++) {
        s_answer_t *ans = &L->answers[i];
        const El__Booking *b = ans->b;
        if (ans->matched || b->request_origin.len != EL_KEY_BYTES)
            continue;
        json_array_append_new (L->rows, s_row (cli, b->request_origin.data, b->request_key,
                                               ans->owner, b->equipment_key, "", b->start_us,
                                               b->end_us, "", b));
    }
    if (rc == 0)
        rc = s_member_names (cli, L->rows);
    return rc;
}

static int
s_list (el_cli_t *cli, const el_cli_args_t *a)
{
    int64_t from = 0, to = 0;
    uint8_t site[EL_KEY_BYTES];
    const char *v;
    int rc;
    v = el_cli_opt (a, "from");
    rc = v ? el_cli_time_opt (cli, "from", v, &from) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "to");
    rc = v ? el_cli_time_opt (cli, "to", v, &to) : 0;
    if (rc < 0)
        return rc;
    if (to && to <= from)
        return el_cli_bad (cli, "end before start: --to must be after --from");
    const char *status = el_cli_opt (a, "status");
    if (status && strcmp (status, "pending") && strcmp (status, "confirmed")
        && strcmp (status, "declined") && strcmp (status, "cancelled"))
        return el_cli_bad (cli, "--status: pending, confirmed, declined or cancelled");
    const char *site_text = el_cli_opt (a, "site");
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        return rc;
    const char *equipment = el_cli_opt (a, "equipment");
    s_list_t L;
    rc = s_gather (cli, &L);
    if (rc < 0) {
        s_list_free (&L);
        return rc;
    }
    char site_key[EL_KEY_TEXT_BYTES];
    if (site_text)
        el_key_to_text (site, site_key);
    json_t *rows = json_array ();
    size_t n = json_array_size (L.rows);
    json_t **items = malloc ((n ? n : 1) * sizeof *items);
    size_t k = 0;
    for (size_t i = 0; items && i < n; i++) {
        json_t *r = json_array_get (L.rows, i);
        json_int_t s = json_integer_value (json_object_get (r, "start_us"));
        json_int_t e = json_integer_value (json_object_get (r, "end_us"));
        if ((from && e <= from) || (to && s >= to))
            continue;
        if (status && strcmp (status, el_cli_row_text (r, "status")))
            continue;
        if (equipment && strcmp (equipment, el_cli_row_text (r, "equipment")))
            continue;
        if (site_text && strcmp (site_key, el_cli_row_text (r, "owner"))
            && strcmp (site_key, el_cli_row_text (r, "requester")))
            continue;
        items[k++] = json_incref (r);
    }
    if (items) {
        qsort (items, k, sizeof *items, s_by_start);
        for (size_t i = 0; i < k; i++)
            json_array_append_new (rows, items[i]);
    }
    free (items);
    s_list_free (&L);
    return el_cli_print_table (cli, json_pack ("{s:o}", "bookings", rows), "bookings",
                               s_list_cols, S_N (s_list_cols));
}

/* ------------------------------------------------------------ confirm, decline */

typedef struct {
    const char *key;
    uint8_t origin[EL_KEY_BYTES];
    size_t n;
} s_req_find_t;

static int
s_req_find (void *arg, const El__RecordView *v)
{
    s_req_find_t *f = arg;
    if (!strcmp (v->key, f->key)) {
        memcpy (f->origin, v->origin.data, EL_KEY_BYTES);
        f->n++;
    }
    return 0;
}

static int
s_answer (el_cli_t *cli, const el_cli_args_t *a, El__BookingStatus status)
{
    const char *id = a->pos[0];
    uint8_t origin[EL_KEY_BYTES];
    char key[EL_RECORD_KEY_MAX + 1];
    const char *colon = strchr (id, ':');
    int rc;
    if (colon) {
        char text[EL_KEY_TEXT_BYTES + 8];
        size_t len = (size_t) (colon - id);
        if (len >= sizeof text)
            return el_cli_bad (cli, "bad booking id '%s': expected SITEKEY:REQUEST or REQUEST",
                               id);
        memcpy (text, id, len);
        text[len] = '\0';
        if (el_key_from_text (text, origin) < 0)
            return el_cli_bad (cli, "bad booking id '%s': expected SITEKEY:REQUEST or REQUEST",
                               id);
        rc = el_cli_check_key (cli, "request key", colon + 1, false);
        if (rc < 0)
            return rc;
        snprintf (key, sizeof key, "%s", colon + 1);
    } else {
        rc = el_cli_check_key (cli, "request key", id, false);
        if (rc < 0)
            return rc;
        s_req_find_t f = { .key = id };
        rc = el_cli_list (cli, EL__KIND__BOOKING_REQUEST, NULL, s_req_find, &f);
        if (rc < 0)
            return rc;
        if (f.n == 0)
            return el_cli_bad (cli, "unknown booking request '%s' (see entrelab bookings list)",
                               id);
        if (f.n > 1)
            return el_cli_bad (cli, "%zu sites made a request '%s': give SITEKEY:%s", f.n, id,
                               id);
        memcpy (origin, f.origin, EL_KEY_BYTES);
        snprintf (key, sizeof key, "%s", id);
    }
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AnswerRequest ar = EL__ANSWER_REQUEST__INIT;
    ar.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, origin };
    ar.request_key = key;
    ar.status = status;
    ar.reason = (char *) (el_cli_opt (a, "reason") ? el_cli_opt (a, "reason") : "");
    ar.force = el_cli_has (a, "force");
    req.r_case = EL__CONTROL_REQUEST__R_ANSWER;
    req.answer = &ar;
    El__ControlReply *reply = NULL;
    rc = el_cli_call (cli, &req, &reply);
    if (rc < 0)
        return rc;
    const char *bkey = reply->r_case == EL__CONTROL_REPLY__R_ANSWER && reply->answer->booking_key
                       ? reply->answer->booking_key : "";
    json_t *doc = json_pack ("{s:s, s:s, s:I}", "id", bkey, "status", s_booking_status (status),
                             "seq", (json_int_t) (reply->r_case == EL__CONTROL_REPLY__R_ANSWER
                                                  ? reply->answer->seq : 0));
    rc = el_cli_print_line (cli, doc, "booking %s: %s", s_booking_status (status), bkey);
    el_cli_reply_free (&reply);
    return rc;
}

static int
s_confirm (el_cli_t *cli, const el_cli_args_t *a)
{
    return s_answer (cli, a, EL__BOOKING_STATUS__BOOKING_CONFIRMED);
}

static int
s_decline (el_cli_t *cli, const el_cli_args_t *a)
{
    return s_answer (cli, a, EL__BOOKING_STATUS__BOOKING_DECLINED);
}

static int
s_cancel (el_cli_t *cli, const el_cli_args_t *a)
{
    return s_answer (cli, a, EL__BOOKING_STATUS__BOOKING_CANCELLED);
}

/* Requester: withdraw one of this site's requests (a tombstone); the owner
 * cancels its confirmed answer when the tombstone reaches it. */
static int
s_withdraw (el_cli_t *cli, const el_cli_args_t *a)
{
    const char *key = a->pos[0];
    const char *colon = strchr (key, ':');
    int rc = el_cli_self (cli);
    if (rc < 0)
        return rc;
    if (colon) {
        char self[EL_KEY_TEXT_BYTES];
        el_key_to_text (cli->self_id, self);
        if ((size_t) (colon - key) != strlen (self) || strncmp (key, self, strlen (self)))
            return el_cli_bad (cli, "'%s' was requested by another site: only it can withdraw it",
                               key);
        key = colon + 1;
    }
    rc = el_cli_check_key (cli, "request key", key, false);
    if (rc < 0)
        return rc;
    El__ControlReply *reply = NULL;
    const El__RecordView *v;
    rc = el_cli_get (cli, EL__KIND__BOOKING_REQUEST, NULL, key, &reply, &v);
    el_cli_reply_free (&reply);
    if (rc == EL_ENOTFOUND)
        return el_cli_bad (cli, "unknown booking request '%s' of this site", key);
    if (rc < 0)
        return rc;
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__BOOKING_REQUEST, key, NULL, true, &seq);
    if (rc < 0)
        return rc;
    char id[EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 2];
    s_booking_id (cli->self_id, key, id, sizeof id);
    return el_cli_print_line (cli, json_pack ("{s:s, s:I, s:s}", "id", id, "seq", (json_int_t) seq,
                                              "status", "withdrawn"),
                              "request withdrawn: %s (the owner cancels its booking)", id);
}

/* ------------------------------------------------------------ policy */

static const char *
s_policy_name (El__BookingPolicy p)
{
    return p == EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL ? "manual" : "auto";
}

static int
s_policy (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__PolicyRequest pr = EL__POLICY_REQUEST__INIT;
    if (a->n_pos) {
        if (!strcmp (a->pos[0], "auto"))
            pr.set = EL__BOOKING_POLICY__BOOKING_POLICY_AUTO;
        else if (!strcmp (a->pos[0], "manual"))
            pr.set = EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL;
        else
            return el_cli_bad (cli, "bookings policy: auto or manual, not '%s'", a->pos[0]);
    }
    req.r_case = EL__CONTROL_REQUEST__R_POLICY;
    req.policy = &pr;
    El__ControlReply *reply = NULL;
    int rc = el_cli_call_as (cli, &req, EL__CONTROL_REPLY__R_POLICY, "policy", &reply);
    if (rc < 0)
        return rc;
    const char *name = s_policy_name (reply->policy->policy);
    unsigned answered = reply->policy->answered;
    el_cli_reply_free (&reply);
    json_t *doc = json_pack ("{s:s, s:i}", "policy", name, "answered", (int) answered);
    if (answered)
        return el_cli_print_line (cli, doc, "booking policy: %s (%u waiting request%s answered)",
                                  name, answered, answered == 1 ? "" : "s");
    return el_cli_print_line (cli, doc, "booking policy: %s", name);
}

/* ------------------------------------------------------------ table */

static const el_cli_optspec_t s_book_opts[] = {
    { "from", EL_CLI_OPT_VALUE, "DATE", "start of the slot" },
    { "to", EL_CLI_OPT_VALUE, "DATE", "end of the slot (exclusive), after --from" },
    { "member", EL_CLI_OPT_VALUE, "KEY", "the member who will use it (their trainings are sent)" },
    { "purpose", EL_CLI_OPT_VALUE, "TEXT", "what for" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "the owner, when several sites use the key" },
    { "wait", EL_CLI_OPT_VALUE, "SECONDS", "wait this long for the owner's answer (default 0)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_list_opts[] = {
    { "from", EL_CLI_OPT_VALUE, "DATE", "slots ending after this (default: every slot, past "
      "ones too)" },
    { "to", EL_CLI_OPT_VALUE, "DATE", "slots starting before this" },
    { "equipment", EL_CLI_OPT_VALUE, "KEY", "only this machine" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "only requests made by or to this site" },
    { "status", EL_CLI_OPT_VALUE, "STATUS", "pending, confirmed, declined or cancelled" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_confirm_opts[] = {
    { "reason", EL_CLI_OPT_VALUE, "TEXT", "told to the requester" },
    { "force", EL_CLI_OPT_SWITCH, NULL, "confirm even when the member lacks the required "
      "training, the slot overlaps a confirmed booking, or the request was declined before" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_answer_opts[] = {
    { "reason", EL_CLI_OPT_VALUE, "TEXT", "told to the requester" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };

const el_cli_cmd_t el_cli_booking_cmds[] = {
    { "book", "EQUIPMENT", 1, 1,
      "Request a slot on a machine of any site; its owner confirms or declines.", s_book_opts,
      s_book, "entrelab book tour-cazeneuve-hb-500 --from \"2027-01-12 14:00\" "
      "--to \"2027-01-12 17:00\" --member m-claire --wait 10" },
    { "bookings list", NULL, 0, 0, "Requests and their answers, by date.", s_list_opts, s_list,
      "entrelab bookings list --equipment tour-cazeneuve-hb-500 --status confirmed" },
    { "bookings confirm", "ID", 1, 1, "Owner: confirm a request (ID = SITEKEY:REQUEST or REQUEST).",
      s_confirm_opts, s_confirm, "entrelab bookings confirm r-3b6f0c2d9e8a7b1c" },
    { "bookings decline", "ID", 1, 1, "Owner: decline a request that is not confirmed (a "
      "confirmed one is cancelled instead), with a reason.", s_answer_opts,
      s_decline, "entrelab bookings decline r-3b6f0c2d9e8a7b1c --reason \"closed that week\"" },
    { "bookings cancel", "ID", 1, 1, "Owner: cancel a confirmed booking.", s_answer_opts, s_cancel,
      "entrelab bookings cancel r-3b6f0c2d9e8a7b1c --reason \"machine broken\"" },
    { "bookings withdraw", "ID", 1, 1, "Requester: withdraw one of this site's requests.",
      s_no_opts, s_withdraw, "entrelab bookings withdraw r-3b6f0c2d9e8a7b1c" },
    { "bookings policy", "[auto|manual]", 0, 1,
      "Show or set how this site answers requests for its machines.", s_no_opts, s_policy,
      "entrelab bookings policy manual" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
