/* el_cli_equipment.c — `entrelab equipment add|update|status|list|show|remove`:
 * the network's shared machines (el.Equipment records). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el_booking.h"
#include "el_cli.h"
#include "el_import.h"

/* The controlled list of equipment categories (docs/CLI.md), the same the
 * importers map to (el_equipment_category(), tools/formats/el_import.h). */
const char *const el_cli_equipment_categories[] = {
    "3d_printer", "3d_scanner", "laser_cutter", "cnc_mill", "cnc_router", "pcb_mill", "lathe",
    "vinyl_cutter", "electronics_bench", "sewing_machine", "embroidery_machine", "other", NULL,
};

/* The controlled category for @p text (a category, or a synonym the importers
 * know, e.g. "laser", "fraiseuse"); NULL when it is none. */
static const char *
s_category (const char *text)
{
    const char *c = el_equipment_category (text);
    for (size_t i = 0; c && el_cli_equipment_categories[i]; i++)
        if (!strcmp (c, el_cli_equipment_categories[i]))
            return el_cli_equipment_categories[i];
    return NULL;
}

static int
s_category_bad (el_cli_t *cli, const char *opt, const char *text)
{
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; el_cli_equipment_categories[i]; i++)
        len += (size_t) snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                  el_cli_equipment_categories[i]);
    return el_cli_bad (cli, "--%s: '%s' is not one of %s", opt, text, list);
}

static const char *
s_status_name (El__EquipmentStatus s)
{
    switch (s) {
    case EL__EQUIPMENT_STATUS__AVAILABLE: return "available";
    case EL__EQUIPMENT_STATUS__IN_USE: return "in_use";
    case EL__EQUIPMENT_STATUS__MAINTENANCE: return "maintenance";
    case EL__EQUIPMENT_STATUS__OUT_OF_ORDER: return "out_of_order";
    default: return "unknown";
    }
}

static int
s_status_parse (el_cli_t *cli, const char *text, El__EquipmentStatus *ret)
{
    static const El__EquipmentStatus all[] = {
        EL__EQUIPMENT_STATUS__AVAILABLE, EL__EQUIPMENT_STATUS__IN_USE,
        EL__EQUIPMENT_STATUS__MAINTENANCE, EL__EQUIPMENT_STATUS__OUT_OF_ORDER,
    };
    for (size_t i = 0; i < 4; i++)
        if (!strcmp (text, s_status_name (all[i]))) {
            *ret = all[i];
            return 0;
        }
    return el_cli_bad (cli, "bad status '%s': available, in_use, maintenance or out_of_order",
                       text);
}

/* The status as the network should read it: `unknown` once its validity ran out. */
static const char *
s_effective_status (const El__Equipment *e, int64_t now_us)
{
    if (e->status_valid_until_us && now_us > e->status_valid_until_us)
        return "unknown";
    return s_status_name (e->status);
}

static json_t *
s_equipment_json (el_cli_t *cli, const El__RecordView *v, const El__Equipment *e)
{
    char name[128];
    json_t *o = json_object ();
    json_object_set_new (o, "key", json_string (v->key));
    json_object_set_new (o, "owner", el_cli_key_json (v->origin.data));
    json_object_set_new (o, "owner_name",
                         json_string (el_cli_site_name (cli, v->origin.data, name, sizeof name)));
    json_object_set_new (o, "name", json_string (e->name ? e->name : ""));
    json_object_set_new (o, "category", json_string (e->category ? e->category : ""));
    json_object_set_new (o, "category_original",
                         json_string (e->category_original ? e->category_original : ""));
    json_object_set_new (o, "make", json_string (e->make ? e->make : ""));
    json_object_set_new (o, "model", json_string (e->model ? e->model : ""));
    json_object_set_new (o, "description", json_string (e->description ? e->description : ""));
    json_object_set_new (o, "status", json_string (s_effective_status (e, cli->now_us)));
    json_object_set_new (o, "status_recorded", json_string (s_status_name (e->status)));
    json_object_set_new (o, "status_valid_until", el_cli_time_json (e->status_valid_until_us));
    json_object_set_new (o, "status_valid_until_us", json_integer (e->status_valid_until_us));
    json_object_set_new (o, "bookable_by", json_string (el_cli_sharing_name (e->bookable_by)));
    json_object_set_new (o, "required_training",
                         json_string (e->required_training ? e->required_training : ""));
    json_object_set_new (o, "location", json_string (e->location ? e->location : ""));
    json_object_set_new (o, "hourly_rate_cents", json_integer (e->hourly_rate_cents));
    json_object_set_new (o, "currency", json_string (e->currency ? e->currency : ""));
    json_object_set_new (o, "updated", el_cli_time_json (v->time_us));
    json_object_set_new (o, "seq", json_integer ((json_int_t) v->seq));
    return o;
}

static const el_cli_col_t s_list_cols[] = {
    { "OWNER", "owner_name", EL_CLI_COL_TEXT, 24 },
    { "KEY", "key", EL_CLI_COL_TEXT, 0 },
    { "NAME", "name", EL_CLI_COL_TEXT, 32 },
    { "CATEGORY", "category", EL_CLI_COL_TEXT, 0 },
    { "STATUS", "status", EL_CLI_COL_TEXT, 0 },
    { "TRAINING", "required_training", EL_CLI_COL_TEXT, 0 },
    { "BOOKABLE BY", "bookable_by", EL_CLI_COL_TEXT, 0 },
};

static const el_cli_col_t s_show_cols[] = {
    { "Key", "key", EL_CLI_COL_TEXT, 0 },
    { "Name", "name", EL_CLI_COL_TEXT, 0 },
    { "Owner", "owner_name", EL_CLI_COL_TEXT, 0 },
    { "Owner key", "owner", EL_CLI_COL_TEXT, 0 },
    { "Category", "category", EL_CLI_COL_TEXT, 0 },
    { "Make", "make", EL_CLI_COL_TEXT, 0 },
    { "Model", "model", EL_CLI_COL_TEXT, 0 },
    { "Status", "status", EL_CLI_COL_TEXT, 0 },
    { "Status as set", "status_recorded", EL_CLI_COL_TEXT, 0 },
    { "Status valid until", "status_valid_until_us", EL_CLI_COL_TIME, 0 },
    { "Bookable by", "bookable_by", EL_CLI_COL_TEXT, 0 },
    { "Required training", "required_training", EL_CLI_COL_TEXT, 0 },
    { "Location", "location", EL_CLI_COL_TEXT, 0 },
    { "Hourly rate (cents)", "hourly_rate_cents", EL_CLI_COL_TEXT, 0 },
    { "Currency", "currency", EL_CLI_COL_TEXT, 0 },
    { "Description", "description", EL_CLI_COL_TEXT, 0 },
    { "Updated", "updated", EL_CLI_COL_TEXT, 0 },
};
#define S_N(a) (sizeof (a) / sizeof (a)[0])

/* ------------------------------------------------------------ lookups */

typedef struct {
    el_cli_t *cli;
    const char *key;
    const uint8_t *owner;       /* filter, or NULL */
    uint8_t found_owner[EL_KEY_BYTES];
    El__Equipment *found;
    size_t n;
} s_find_t;

static int
s_find (void *arg, const El__RecordView *v)
{
    s_find_t *f = arg;
    if (strcmp (v->key, f->key) || (f->owner && memcmp (v->origin.data, f->owner, EL_KEY_BYTES)))
        return 0;
    El__Equipment *e = el__equipment__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    f->n++;
    if (f->found)
        el__equipment__free_unpacked (f->found, &el_pb_allocator);
    f->found = e;
    memcpy (f->found_owner, v->origin.data, EL_KEY_BYTES);
    return 0;
}

int
el_cli_equipment_find (el_cli_t *cli, const char *key, const char *site_text,
                       uint8_t ret_owner[EL_KEY_BYTES], El__Equipment **ret)
{
    uint8_t owner[EL_KEY_BYTES];
    int rc = el_cli_check_key (cli, "equipment key", key, false);
    if (rc < 0)
        return rc;
    rc = site_text ? el_cli_site_resolve (cli, site_text, owner) : 0;
    if (rc < 0)
        return rc;
    s_find_t f = { .cli = cli, .key = key, .owner = site_text ? owner : NULL };
    rc = el_cli_list (cli, EL__KIND__EQUIPMENT, f.owner, s_find, &f);
    if (rc == 0 && f.n == 0)
        rc = el_cli_bad (cli, "unknown equipment '%s'%s%s (see entrelab equipment list)", key,
                         site_text ? " at " : "", site_text ? site_text : "");
    if (rc == 0 && f.n > 1)
        rc = el_cli_bad (cli, "%zu sites have equipment '%s': add --site OWNER", f.n, key);
    if (rc < 0) {
        if (f.found)
            el__equipment__free_unpacked (f.found, &el_pb_allocator);
        return rc;
    }
    memcpy (ret_owner, f.found_owner, EL_KEY_BYTES);
    if (ret)
        *ret = f.found;
    else
        el__equipment__free_unpacked (f.found, &el_pb_allocator);
    return 0;
}

/* ------------------------------------------------------------ fields */

#define S_SET(field, v) \
    do { \
        if (el_cli_field_set (&(field), (v), owned) < 0) \
            return el_cli_fail (cli, -ENOMEM, "out of memory"); \
    } while (0)

static int
s_validity (el_cli_t *cli, const el_cli_args_t *a, El__Equipment *e)
{
    const char *v;
    int rc;
    if (el_cli_has (a, "valid-for") && el_cli_has (a, "valid-until"))
        return el_cli_bad (cli, "give --valid-for or --valid-until, not both");
    v = el_cli_opt (a, "valid-for");
    if (v) {
        int64_t d;
        char err[200];
        if (el_cli_duration_parse (v, &d, err, sizeof err) < 0)
            return el_cli_bad (cli, "--valid-for: %s", err);
        e->status_valid_until_us = cli->now_us + d;
    }
    v = el_cli_opt (a, "valid-until");
    if (v) {
        rc = el_cli_time_opt (cli, "valid-until", v, &e->status_valid_until_us);
        if (rc < 0)
            return rc;
        if (e->status_valid_until_us <= cli->now_us)
            return el_cli_bad (cli, "--valid-until is in the past");
    }
    return 0;
}

static int
s_apply_fields (el_cli_t *cli, const el_cli_args_t *a, El__Equipment *e, bool owned)
{
    const char *v;
    int rc;
    v = el_cli_opt (a, "name");
    if (v) {
        if (!*v)
            return el_cli_bad (cli, "--name must not be empty");
        S_SET (e->name, v);
    }
    v = el_cli_opt (a, "category");
    if (v) {
        const char *c = s_category (v);
        if (!c)
            return s_category_bad (cli, "category", v);
        S_SET (e->category, c);
    }
    v = el_cli_opt (a, "make");
    if (v)
        S_SET (e->make, v);
    v = el_cli_opt (a, "model");
    if (v)
        S_SET (e->model, v);
    v = el_cli_opt (a, "description");
    if (v)
        S_SET (e->description, v);
    v = el_cli_opt (a, "location");
    if (v)
        S_SET (e->location, v);
    v = el_cli_opt (a, "training");
    if (v)
        S_SET (e->required_training, v);
    v = el_cli_opt (a, "status");
    rc = v ? s_status_parse (cli, v, &e->status) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "bookable-by");
    rc = v ? el_cli_sharing_parse (cli, "bookable-by", v, &e->bookable_by) : 0;
    if (rc < 0)
        return rc;
    v = el_cli_opt (a, "rate");
    if (v) {
        char *end;
        double r = strtod (v, &end);
        if (!*v || *end || r < 0 || r > 1e9)
            return el_cli_bad (cli, "--rate: an hourly price such as 12.50");
        e->hourly_rate_cents = (int64_t) (r * 100 + 0.5);
        if (!el_cli_has (a, "currency") && (!e->currency || !e->currency[0]))
            S_SET (e->currency, "EUR");
    }
    v = el_cli_opt (a, "currency");
    if (v) {
        if (strlen (v) != 3 || !isupper ((unsigned char) v[0]) || !isupper ((unsigned char) v[1])
            || !isupper ((unsigned char) v[2]))
            return el_cli_bad (cli, "--currency: an ISO 4217 code such as EUR");
        S_SET (e->currency, v);
    }
    return s_validity (cli, a, e);
}

/* A record key from a name: lower-case letters, digits and '-'. */
static void
s_slug (const char *name, char *out, size_t size)
{
    size_t n = 0;
    bool dash = false;
    for (const unsigned char *p = (const unsigned char *) name; *p && n + 1 < size && n < 60; p++) {
        if (isalnum (*p)) {
            if (dash && n)
                out[n++] = '-';
            if (n + 1 < size)
                out[n++] = (char) tolower (*p);
            dash = false;
        } else
            dash = true;
    }
    out[n] = '\0';
}

/* ------------------------------------------------------------ commands */

static int
s_add (el_cli_t *cli, const el_cli_args_t *a)
{
    El__Equipment e = EL__EQUIPMENT__INIT;
    e.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    e.bookable_by = EL__SHARING__SHARING_NETWORK;
    if (!el_cli_has (a, "name") || !el_cli_has (a, "category"))
        return el_cli_bad (cli, "equipment add needs --name and --category");
    int rc = s_apply_fields (cli, a, &e, false);
    if (rc < 0)
        return rc;
    char key[EL_RECORD_KEY_MAX + 1];
    const char *given = el_cli_opt (a, "id");
    if (given) {
        rc = el_cli_check_key (cli, "--id", given, false);
        if (rc < 0)
            return rc;
        snprintf (key, sizeof key, "%s", given);
    } else {
        s_slug (e.name, key, sizeof key);
        if (!key[0])
            el_cli_random_key ("eq-", key, sizeof key);
    }
    El__ControlReply *reply = NULL;
    const El__RecordView *v;
    rc = el_cli_get (cli, EL__KIND__EQUIPMENT, NULL, key, &reply, &v);
    el_cli_reply_free (&reply);
    if (rc == 0)
        return el_cli_bad (cli, "equipment '%s' exists: use entrelab equipment update, or --id",
                           key);
    if (rc != EL_ENOTFOUND)
        return rc;
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__EQUIPMENT, key, &e.base, false, &seq);
    if (rc < 0)
        return rc;
    return el_cli_print_line (cli, json_pack ("{s:s, s:I}", "key", key, "seq", (json_int_t) seq),
                              "equipment added: %s", key);
}

static int
s_own (el_cli_t *cli, const char *key, El__ControlReply **reply, El__Equipment **ret)
{
    return el_cli_own (cli, EL__KIND__EQUIPMENT, &el__equipment__descriptor, "equipment key",
                       "equipment", "a site changes only its own machines", key, reply,
                       (ProtobufCMessage **) ret);
}

/* A tombstone: the machine leaves every site's list; requests still waiting
 * for it are declined as "unknown equipment". */
static int
s_remove (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlReply *reply = NULL;
    El__Equipment *e = NULL;
    const char *key = a->pos[0];
    int rc = s_own (cli, key, &reply, &e);
    if (rc < 0)
        return rc;
    el__equipment__free_unpacked (e, &el_pb_allocator);
    el_cli_reply_free (&reply);
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__EQUIPMENT, key, NULL, true, &seq);
    if (rc < 0)
        return rc;
    return el_cli_print_line (cli, json_pack ("{s:s, s:I, s:b}", "key", key, "seq",
                                              (json_int_t) seq, "removed", 1),
                              "equipment removed: %s", key);
}

static int
s_change (el_cli_t *cli, const el_cli_args_t *a, const char *key, const char *status_text,
          const char *verb)
{
    El__ControlReply *reply = NULL;
    El__Equipment *e = NULL;
    int rc = s_own (cli, key, &reply, &e);
    if (rc < 0)
        return rc;
    if (status_text) {
        /* a new status starts a new validity: the given one, or none */
        e->status_valid_until_us = 0;
        rc = s_status_parse (cli, status_text, &e->status);
        if (rc < 0)
            goto out;
        rc = s_validity (cli, a, e);
    } else
        rc = s_apply_fields (cli, a, e, true);
    if (rc < 0)
        goto out;
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__EQUIPMENT, key, &e->base, false, &seq);
    if (rc == 0)
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I, s:s}", "key", key, "seq",
                                                (json_int_t) seq, "status",
                                                s_effective_status (e, cli->now_us)),
                                "equipment %s: %s (%s)", verb, key,
                                s_effective_status (e, cli->now_us));
out:
    el__equipment__free_unpacked (e, &el_pb_allocator);
    el_cli_reply_free (&reply);
    return rc;
}

static int
s_update (el_cli_t *cli, const el_cli_args_t *a)
{
    static const char *const fields[] = { "name", "category", "make", "model", "description",
                                          "location", "training", "status", "bookable-by",
                                          "rate", "currency", "valid-for", "valid-until", NULL };
    bool any = false;
    for (size_t i = 0; fields[i]; i++)
        any |= el_cli_has (a, fields[i]);
    if (!any)
        return el_cli_bad (cli, "equipment update: nothing to change (see --help)");
    return s_change (cli, a, a->pos[0], NULL, "updated");
}

static int
s_status (el_cli_t *cli, const el_cli_args_t *a)
{
    return s_change (cli, a, a->pos[0], a->pos[1], "status set");
}

typedef struct {
    el_cli_t *cli;
    json_t *rows;
    const char *category, *status;
} s_list_t;

static int
s_list_one (void *arg, const El__RecordView *v)
{
    s_list_t *L = arg;
    El__Equipment *e = el__equipment__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    if ((!L->category || !strcmp (L->category, e->category ? e->category : ""))
        && (!L->status || !strcmp (L->status, s_effective_status (e, L->cli->now_us))))
        json_array_append_new (L->rows, s_equipment_json (L->cli, v, e));
    el__equipment__free_unpacked (e, &el_pb_allocator);
    return 0;
}

static int
s_list (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t owner[EL_KEY_BYTES];
    const char *site = el_cli_opt (a, "site");
    int rc;
    rc = site ? el_cli_site_resolve (cli, site, owner) : 0;
    if (rc < 0)
        return rc;
    const char *cat = el_cli_opt (a, "category");
    if (cat && s_category (cat))
        cat = s_category (cat);         /* a synonym lists its category */
    s_list_t L = { cli, json_array (), cat, el_cli_opt (a, "status") };
    if (L.status && strcmp (L.status, "unknown")) {
        El__EquipmentStatus st;
        if (s_status_parse (cli, L.status, &st) < 0) {
            json_decref (L.rows);
            return el_cli_bad (cli, "bad status '%s': available, in_use, maintenance, "
                               "out_of_order or unknown (expired)", L.status);
        }
    }
    rc = el_cli_list (cli, EL__KIND__EQUIPMENT, site ? owner : NULL, s_list_one, &L);
    if (rc < 0) {
        json_decref (L.rows);
        return rc;
    }
    return el_cli_print_table (cli, json_pack ("{s:o}", "equipment", L.rows), "equipment",
                               s_list_cols, S_N (s_list_cols));
}

typedef struct {
    el_cli_t *cli;
    const char *key;
    json_t *found;
    size_t n;
} s_show_t;

static int
s_show_one (void *arg, const El__RecordView *v)
{
    s_show_t *S = arg;
    if (strcmp (v->key, S->key))
        return 0;
    El__Equipment *e = el__equipment__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!e)
        return 0;
    S->n++;
    json_decref (S->found);
    S->found = s_equipment_json (S->cli, v, e);
    el__equipment__free_unpacked (e, &el_pb_allocator);
    return 0;
}

static int
s_show (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t owner[EL_KEY_BYTES];
    const char *site = el_cli_opt (a, "site");
    int rc = el_cli_check_key (cli, "equipment key", a->pos[0], false);
    if (rc < 0)
        return rc;
    rc = site ? el_cli_site_resolve (cli, site, owner) : 0;
    if (rc < 0)
        return rc;
    s_show_t S = { cli, a->pos[0], NULL, 0 };
    rc = el_cli_list (cli, EL__KIND__EQUIPMENT, site ? owner : NULL, s_show_one, &S);
    if (rc == 0 && S.n == 0)
        rc = el_cli_bad (cli, "unknown equipment '%s'", a->pos[0]);
    if (rc == 0 && S.n > 1)
        rc = el_cli_bad (cli, "%zu sites have equipment '%s': add --site OWNER", S.n, a->pos[0]);
    if (rc < 0) {
        json_decref (S.found);
        return rc;
    }
    return el_cli_print_record (cli, json_pack ("{s:o}", "equipment", S.found), "equipment",
                                s_show_cols, S_N (s_show_cols));
}

/* ------------------------------------------------------------ availability */

#define S_WEEK_US        (7LL * 24 * 3600 * 1000000)
#define S_WEEKS_DEFAULT  4
#define S_WEEKS_MAX      52

typedef struct {
    el_cli_t *cli;
    el_vec_t v;                 /* El__Booking *, at most S_BOOKINGS_MAX */
    int rc;
} s_bookings_t;

#define S_BOOKINGS_MAX (4 * EL_BOOKING_BUSY_MAX)  /* the owner's answers one view reads */

static int
s_booking_one (void *arg, const El__RecordView *v)
{
    s_bookings_t *b = arg;
    El__Booking *x = el__booking__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!x)
        return 0;
    int rc = el_vec_push (&b->v, &x, NULL);
    if (rc < 0) {
        el__booking__free_unpacked (x, &el_pb_allocator);
        b->rc = rc == -ENOBUFS ? el_cli_fail (b->cli, EL_ETOOBIG, "more than %d bookings",
                                               S_BOOKINGS_MAX)
                               : el_cli_fail (b->cli, -ENOMEM, "out of memory");
        return 1;
    }
    return 0;
}

static const el_cli_col_t s_busy_cols[] = {
    { "FROM", "start_us", EL_CLI_COL_WHEN, 0 },
    { "TO", "end_us", EL_CLI_COL_WHEN, 0 },
    { "WHY", "why", EL_CLI_COL_TEXT, 0 },
};

static int
s_availability (el_cli_t *cli, const el_cli_args_t *a)
{
    long weeks = S_WEEKS_DEFAULT;
    const char *w = el_cli_opt (a, "weeks");
    if (w) {
        char *end;
        errno = 0;
        weeks = strtol (w, &end, 10);
        if (errno || *end || end == w || weeks < 1 || weeks > S_WEEKS_MAX)
            return el_cli_bad (cli, "--weeks: a number of weeks from 1 to %d, not '%s'",
                               S_WEEKS_MAX, w);
    }
    uint8_t owner[EL_KEY_BYTES];
    El__Equipment *eq = NULL;
    int rc = el_cli_equipment_find (cli, a->pos[0], el_cli_opt (a, "site"), owner, &eq);
    if (rc < 0)
        return rc;
    s_bookings_t b = { .cli = cli };
    el_vec_init (&b.v, sizeof (El__Booking *), S_BOOKINGS_MAX);
    rc = el_cli_list (cli, EL__KIND__BOOKING, owner, s_booking_one, &b);
    if (rc == 0)
        rc = b.rc;
    int64_t from = cli->now_us, to = from + weeks * S_WEEK_US;
    el_busy_t *busy = rc == 0 ? calloc (EL_BOOKING_BUSY_MAX, sizeof *busy) : NULL;
    size_t n = 0;
    if (rc == 0 && !busy)
        rc = el_cli_fail (cli, -ENOMEM, "out of memory");
    if (rc == 0) {
        rc = el_booking_busy (eq, a->pos[0], (const El__Booking *const *) b.v.items, b.v.n,
                              cli->now_us,
                              from, to, busy, EL_BOOKING_BUSY_MAX, &n);
        if (rc < 0)
            rc = el_cli_fail (cli, rc, "more than %d periods in %ld weeks: ask for fewer",
                              EL_BOOKING_BUSY_MAX, weeks);
    }
    json_t *doc = NULL;
    if (rc == 0) {
        char name[128];
        const json_t *row = el_cli_site_row (cli, owner);
        json_t *rows = json_array ();
        for (size_t i = 0; i < n; i++)
            json_array_append_new (rows, json_pack ("{s:o, s:o, s:I, s:I, s:s}", "start",
                                                    el_cli_time_json (busy[i].start_us), "end",
                                                    el_cli_time_json (busy[i].end_us),
                                                    "start_us", (json_int_t) busy[i].start_us,
                                                    "end_us", (json_int_t) busy[i].end_us,
                                                    "why", el_busy_kind_name (busy[i].kind)));
        doc = json_pack ("{s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "equipment",
                         a->pos[0], "name", eq->name ? eq->name : "", "owner",
                         el_cli_key_json (owner), "owner_name",
                         el_cli_site_name (cli, owner, name, sizeof name), "status",
                         s_effective_status (eq, cli->now_us), "opening_hours",
                         row ? el_cli_row_text (row, "opening_hours") : "", "from",
                         el_cli_time_json (from), "to", el_cli_time_json (to), "zone", cli->zone,
                         "busy", rows);
    }
    for (size_t i = 0; i < b.v.n; i++)
        el__booking__free_unpacked (*(El__Booking **) el_vec_at (&b.v, i), &el_pb_allocator);
    el_vec_free (&b.v);
    free (busy);
    el__equipment__free_unpacked (eq, &el_pb_allocator);
    if (rc < 0)
        return rc;
    if (!cli->json) {
        const char *hours = json_string_value (json_object_get (doc, "opening_hours"));
        printf ("%s (%s), %s; opening hours: %s\n",
                json_string_value (json_object_get (doc, "name")),
                json_string_value (json_object_get (doc, "owner_name")),
                json_string_value (json_object_get (doc, "status")),
                hours && hours[0] ? hours : "not published");
        if (n == 0) {
            printf ("Free for the next %ld week%s (within opening hours).\n", weeks,
                    weeks > 1 ? "s" : "");
            json_decref (doc);
            return 0;
        }
    }
    return el_cli_print_table (cli, doc, "busy", s_busy_cols, S_N (s_busy_cols));
}

/* ------------------------------------------------------------ table */

#define S_FIELD_OPTS \
    { "name", EL_CLI_OPT_VALUE, "TEXT", "display name" }, \
    { "category", EL_CLI_OPT_VALUE, "NAME", "one of 3d_printer, 3d_scanner, laser_cutter, " \
      "cnc_mill, cnc_router, pcb_mill, lathe, vinyl_cutter, electronics_bench, " \
      "sewing_machine, embroidery_machine, other (common synonyms such as laser, " \
      "fraiseuse, imprimante 3d are accepted)" }, \
    { "make", EL_CLI_OPT_VALUE, "TEXT", "manufacturer" }, \
    { "model", EL_CLI_OPT_VALUE, "TEXT", "model" }, \
    { "description", EL_CLI_OPT_VALUE, "TEXT", "longer text" }, \
    { "location", EL_CLI_OPT_VALUE, "TEXT", "room" }, \
    { "training", EL_CLI_OPT_VALUE, "NAME", "training a member needs to book it" }, \
    { "status", EL_CLI_OPT_VALUE, "STATUS", "available (default), in_use, maintenance, " \
      "out_of_order" }, \
    { "valid-for", EL_CLI_OPT_VALUE, "DURATION", "the status expires after (e.g. 7d)" }, \
    { "valid-until", EL_CLI_OPT_VALUE, "DATE", "the status expires at" }, \
    { "bookable-by", EL_CLI_OPT_VALUE, "LEVEL", "site, network (default) or federation" }, \
    { "rate", EL_CLI_OPT_VALUE, "PRICE", "hourly rate, e.g. 12.50" }, \
    { "currency", EL_CLI_OPT_VALUE, "CODE", "ISO 4217 (default EUR)" }

static const el_cli_optspec_t s_add_opts[] = {
    S_FIELD_OPTS,
    { "id", EL_CLI_OPT_VALUE, "KEY", "equipment key (default: from the name)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_update_opts[] = { S_FIELD_OPTS, { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_status_opts[] = {
    { "valid-for", EL_CLI_OPT_VALUE, "DURATION", "the status expires after (e.g. 7d)" },
    { "valid-until", EL_CLI_OPT_VALUE, "DATE", "the status expires at" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_list_opts[] = {
    { "category", EL_CLI_OPT_VALUE, "NAME", "only this category" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "only this owner (name or key)" },
    { "status", EL_CLI_OPT_VALUE, "STATUS", "only this status (unknown = expired)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_show_opts[] = {
    { "site", EL_CLI_OPT_VALUE, "SITE", "the owner, when several sites use the key" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_availability_opts[] = {
    { "weeks", EL_CLI_OPT_VALUE, "N", "how far ahead, in weeks (default 4, at most 52)" },
    { "site", EL_CLI_OPT_VALUE, "SITE", "the owner, when several sites use the key" },
    { NULL, 0, NULL, NULL },
};

const el_cli_cmd_t el_cli_equipment_cmds[] = {
    { "equipment add", NULL, 0, 0, "Publish one of this site's machines.", s_add_opts, s_add,
      "entrelab equipment add --name \"Tour Cazeneuve HB 500\" --category lathe "
      "--training lathe --location \"Atelier métal\" --rate 15" },
    { "equipment update", "KEY", 1, 1, "Change one of this site's machines.", s_update_opts,
      s_update, "entrelab equipment update tour-cazeneuve-hb-500 --location \"Atelier 2\"" },
    { "equipment status", "KEY STATUS", 2, 2,
      "Set a machine's status: available, in_use, maintenance, out_of_order.", s_status_opts,
      s_status, "entrelab equipment status tour-cazeneuve-hb-500 maintenance --valid-for 3d" },
    { "equipment list", NULL, 0, 0,
      "Machines across the network with status and owner (expired status shows unknown).",
      s_list_opts, s_list, "entrelab equipment list --category lathe" },
    { "equipment show", "KEY", 1, 1, "One machine with all its fields.", s_show_opts, s_show,
      "entrelab equipment show tour-cazeneuve-hb-500" },
    { "equipment availability", "KEY", 1, 1,
      "When a machine is taken in the coming weeks: its confirmed bookings (times only), "
      "maintenance, and its owner's opening hours.", s_availability_opts, s_availability,
      "entrelab equipment availability tour-cazeneuve-hb-500 --weeks 2" },
    { "equipment remove", "KEY", 1, 1, "Withdraw one of this site's machines from the network "
      "(waiting requests for it are declined).", s_no_opts, s_remove,
      "entrelab equipment remove imprimante-test" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
