/* el_cli_member.c — `entrelab member add|update|list|remove`: the site's
 * roster (el.Member records; personal data, docs/ARCHITECTURE.md "Privacy"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "el_cli.h"

static json_t *
s_strings (char **v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (a, json_string (v[i] ? v[i] : ""));
    return a;
}

static json_t *
s_member_json (el_cli_t *cli, const El__RecordView *v, const El__Member *m)
{
    char name[128];
    const uint8_t *home = m->home_site.len == EL_KEY_BYTES ? m->home_site.data : v->origin.data;
    json_t *o = json_object ();
    json_object_set_new (o, "key", json_string (v->key));
    json_object_set_new (o, "name", json_string (m->display_name ? m->display_name : ""));
    json_object_set_new (o, "site", el_cli_key_json (home));
    json_object_set_new (o, "site_name",
                         json_string (el_cli_site_name (cli, home, name, sizeof name)));
    json_object_set_new (o, "origin", el_cli_key_json (v->origin.data));
    json_object_set_new (o, "roles", s_strings (m->roles, m->n_roles));
    json_object_set_new (o, "trainings", s_strings (m->trainings, m->n_trainings));
    json_object_set_new (o, "valid_until", el_cli_time_json (m->valid_until_us));
    json_object_set_new (o, "valid_until_us", json_integer (m->valid_until_us));
    json_object_set_new (o, "contact", json_string (m->contact ? m->contact : ""));
    json_object_set_new (o, "sharing", json_string (el_cli_sharing_name (m->sharing)));
    json_object_set_new (o, "seq", json_integer ((json_int_t) v->seq));
    return o;
}

static const el_cli_col_t s_list_cols[] = {
    { "SITE", "site_name", EL_CLI_COL_TEXT, 24 },
    { "KEY", "key", EL_CLI_COL_TEXT, 0 },
    { "NAME", "name", EL_CLI_COL_TEXT, 32 },
    { "ROLES", "roles", EL_CLI_COL_TEXT, 30 },
    { "TRAININGS", "trainings", EL_CLI_COL_TEXT, 40 },
    { "VALID UNTIL", "valid_until_us", EL_CLI_COL_TIME, 0 },
    { "SHARING", "sharing", EL_CLI_COL_TEXT, 0 },
};
#define S_N(a) (sizeof (a) / sizeof (a)[0])

/* Copy of the list option @p name into *field (malloc'd array of borrowed or
 * owned strings). */
static int
s_list_opt (el_cli_t *cli, const el_cli_args_t *a, const char *name, char ***field, size_t *n,
            bool owned)
{
    const char *const *vals;
    size_t k = el_cli_opt_list (a, name, &vals);
    if (!k)
        return 0;
    char **arr = calloc (k, sizeof *arr);
    if (!arr)
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
        if (!vals[i][0]) {
            free (arr);
            return el_cli_bad (cli, "--%s must not be empty", name);
        }
        arr[i] = owned ? strdup (vals[i]) : (char *) vals[i];
    }
    if (owned) {
        for (size_t i = 0; i < *n; i++)
            free ((*field)[i]);
        free (*field);
    } else
        free (*field);
    *field = arr;
    *n = k;
    return 0;
}

static int
s_apply_fields (el_cli_t *cli, const el_cli_args_t *a, El__Member *m, bool owned)
{
    const char *v;
    int rc;
    v = el_cli_opt (a, "name");
    if (v) {
        if (!*v)
            return el_cli_bad (cli, "--name must not be empty");
        if (el_cli_field_set (&m->display_name, v, owned) < 0)
            return el_cli_fail (cli, -ENOMEM, "out of memory");
    }
    v = el_cli_opt (a, "contact");
    if (v && el_cli_field_set (&m->contact, v, owned) < 0)
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    v = el_cli_opt (a, "valid-until");
    if (v) {
        if (!strcmp (v, "none")) {
            m->valid_until_us = 0;
        } else {
            rc = el_cli_time_opt (cli, "valid-until", v, &m->valid_until_us);
            if (rc < 0)
                return rc;
        }
    }
    v = el_cli_opt (a, "sharing");
    rc = v ? el_cli_sharing_parse (cli, "sharing", v, &m->sharing) : 0;
    if (rc < 0)
        return rc;
    rc = s_list_opt (cli, a, "role", &m->roles, &m->n_roles, owned);
    if (rc < 0)
        return rc;
    rc = s_list_opt (cli, a, "training", &m->trainings, &m->n_trainings, owned);
    if (rc < 0)
        return rc;
    return 0;
}

static int
s_add (el_cli_t *cli, const el_cli_args_t *a)
{
    El__Member m = EL__MEMBER__INIT;
    m.sharing = EL__SHARING__SHARING_SITE;
    if (!el_cli_has (a, "name"))
        return el_cli_bad (cli, "member add needs --name");
    int rc = s_apply_fields (cli, a, &m, false);
    if (rc < 0)
        goto out;
    char key[EL_RECORD_KEY_MAX + 1];
    const char *given = el_cli_opt (a, "id");
    if (given) {
        rc = el_cli_check_key (cli, "--id", given, false);
        if (rc < 0)
            goto out;
        snprintf (key, sizeof key, "%s", given);
    } else
        el_cli_random_key ("m-", key, sizeof key);
    rc = el_cli_self (cli);
    if (rc < 0)
        goto out;
    m.home_site = (ProtobufCBinaryData) { EL_KEY_BYTES, cli->self_id };
    El__ControlReply *reply = NULL;
    const El__RecordView *v;
    rc = el_cli_get (cli, EL__KIND__MEMBER, NULL, key, &reply, &v);
    el_cli_reply_free (&reply);
    if (rc == 0) {
        rc = el_cli_bad (cli, "member '%s' exists: use entrelab member update", key);
        goto out;
    }
    if (rc != EL_ENOTFOUND)
        goto out;
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__MEMBER, key, &m.base, false, &seq);
    if (rc == 0)
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I}", "key", key, "seq", (json_int_t) seq),
                                "member added: %s", key);
out:
    free (m.roles);
    free (m.trainings);
    return rc;
}

static int
s_own (el_cli_t *cli, const char *key, El__ControlReply **reply, El__Member **ret)
{
    return el_cli_own (cli, EL__KIND__MEMBER, &el__member__descriptor, "member key", "member",
                       "a site changes only its own roster", key, reply,
                       (ProtobufCMessage **) ret);
}

/* Sharing levels in widening order (unspecified is `site`). */
static int
s_level (El__Sharing s)
{
    return s == EL__SHARING__SHARING_FEDERATION ? 3 : s == EL__SHARING__SHARING_NETWORK ? 2 : 1;
}

/* Lowering a member's sharing level: the sites that held the wider copies
 * must drop them, so one write request holds the record's tombstone (every
 * replica stubs the earlier entries and compacts, as for `member remove`)
 * followed by the record again, which the sync then keeps within its new
 * level (el_share_by_level). */
static int
s_write_narrowed (el_cli_t *cli, const char *key, const El__Member *m, uint64_t *ret_seq)
{
    size_t len = el__member__get_packed_size (m);
    if (len > EL_PAYLOAD_MAX)
        return el_cli_bad (cli, "record too large (%zu bytes, at most %u)", len, EL_PAYLOAD_MAX);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    el__member__pack (m, buf);
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WriteRequest wr = EL__WRITE_REQUEST__INIT;
    El__RecordWrite del = EL__RECORD_WRITE__INIT, rec = EL__RECORD_WRITE__INIT;
    El__RecordWrite *rws[2] = { &del, &rec };
    del.kind = rec.kind = EL__KIND__MEMBER;
    del.key = rec.key = (char *) key;
    del.deleted = true;
    rec.payload = (ProtobufCBinaryData) { len, buf };
    wr.records = rws;
    wr.n_records = 2;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &wr;
    El__ControlReply *reply = NULL;
    int rc = el_cli_call (cli, &req, &reply);
    free (buf);
    if (rc < 0)
        return rc;
    *ret_seq = reply->r_case == EL__CONTROL_REPLY__R_WRITE ? reply->write->last_seq : 0;
    el_cli_reply_free (&reply);
    return 0;
}

static int
s_update (el_cli_t *cli, const el_cli_args_t *a)
{
    static const char *const fields[] = { "name", "contact", "valid-until", "sharing", "role",
                                          "training", NULL };
    bool any = false;
    for (size_t i = 0; fields[i]; i++)
        any |= el_cli_has (a, fields[i]);
    if (!any)
        return el_cli_bad (cli, "member update: nothing to change (see --help)");
    El__ControlReply *reply = NULL;
    El__Member *m = NULL;
    int rc = s_own (cli, a->pos[0], &reply, &m);
    if (rc < 0)
        return rc;
    int was = s_level (m->sharing);
    rc = s_apply_fields (cli, a, m, true);
    bool narrowed = rc == 0 && s_level (m->sharing) < was;
    uint64_t seq = 0;
    if (rc == 0)
        rc = narrowed ? s_write_narrowed (cli, a->pos[0], m, &seq)
                      : el_cli_write (cli, EL__KIND__MEMBER, a->pos[0], &m->base, false, &seq);
    if (rc == 0)
        rc = el_cli_print_line (cli, json_pack ("{s:s, s:I, s:b}", "key", a->pos[0], "seq",
                                                (json_int_t) seq, "narrowed", narrowed),
                                "member updated: %s%s", a->pos[0],
                                narrowed ? " (sharing lowered: the copies beyond the new level "
                                           "are erased as with member remove)" : "");
    el__member__free_unpacked (m, &el_pb_allocator);
    el_cli_reply_free (&reply);
    return rc;
}

static int
s_remove (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlReply *reply = NULL;
    El__Member *m = NULL;
    int rc = s_own (cli, a->pos[0], &reply, &m);
    if (rc < 0)
        return rc;
    el__member__free_unpacked (m, &el_pb_allocator);
    el_cli_reply_free (&reply);
    uint64_t seq = 0;
    rc = el_cli_write (cli, EL__KIND__MEMBER, a->pos[0], NULL, true, &seq);
    if (rc < 0)
        return rc;
    return el_cli_print_line (cli, json_pack ("{s:s, s:I, s:b}", "key", a->pos[0], "seq",
                                              (json_int_t) seq, "erased", 1),
                              "member removed: %s (its earlier entries are erased on every "
                              "site as the tombstone reaches it)", a->pos[0]);
}

typedef struct {
    el_cli_t *cli;
    json_t *rows;
    const uint8_t *site;
    const char *training;
} s_list_t;

static int
s_list_one (void *arg, const El__RecordView *v)
{
    s_list_t *L = arg;
    El__Member *m = el__member__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!m)
        return 0;
    const uint8_t *home = m->home_site.len == EL_KEY_BYTES ? m->home_site.data : v->origin.data;
    /* a member shared at `site` level is shown only on its home site
     * (docs/ARCHITECTURE.md "Privacy": never beyond the member's chosen level) */
    bool visible = !memcmp (v->origin.data, L->cli->self_id, EL_KEY_BYTES)
                   || m->sharing == EL__SHARING__SHARING_NETWORK
                   || m->sharing == EL__SHARING__SHARING_FEDERATION;
    bool keep = visible && (!L->site || !memcmp (home, L->site, EL_KEY_BYTES));
    if (keep && L->training) {
        keep = false;
        for (size_t i = 0; i < m->n_trainings; i++)
            keep |= !strcmp (m->trainings[i], L->training);
    }
    if (keep)
        json_array_append_new (L->rows, s_member_json (L->cli, v, m));
    el__member__free_unpacked (m, &el_pb_allocator);
    return 0;
}

static int
s_list (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t site[EL_KEY_BYTES];
    const char *site_text = el_cli_opt (a, "site");
    int rc;
    rc = site_text ? el_cli_site_resolve (cli, site_text, site) : 0;
    if (rc < 0)
        return rc;
    rc = el_cli_self (cli);
    if (rc < 0)
        return rc;
    s_list_t L = { cli, json_array (), site_text ? site : NULL, el_cli_opt (a, "training") };
    rc = el_cli_list (cli, EL__KIND__MEMBER, NULL, s_list_one, &L);
    if (rc < 0) {
        json_decref (L.rows);
        return rc;
    }
    return el_cli_print_table (cli, json_pack ("{s:o}", "members", L.rows), "members",
                               s_list_cols, S_N (s_list_cols));
}

#define S_FIELD_OPTS \
    { "name", EL_CLI_OPT_VALUE, "TEXT", "display name" }, \
    { "role", EL_CLI_OPT_LIST, "ROLE", "role (repeat; replaces the list on update)" }, \
    { "training", EL_CLI_OPT_LIST, "NAME", "training held, an equipment category or training " \
      "name (repeat; replaces the list on update)" }, \
    { "valid-until", EL_CLI_OPT_VALUE, "DATE", "membership end (\"none\" clears it)" }, \
    { "contact", EL_CLI_OPT_VALUE, "TEXT", "contact, only with the member's consent" }, \
    { "sharing", EL_CLI_OPT_VALUE, "LEVEL", "who may see the record: site (default), network, " \
      "federation" }

static const el_cli_optspec_t s_add_opts[] = {
    S_FIELD_OPTS,
    { "id", EL_CLI_OPT_VALUE, "KEY", "member key (default: generated)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_update_opts[] = { S_FIELD_OPTS, { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };
static const el_cli_optspec_t s_list_opts[] = {
    { "site", EL_CLI_OPT_VALUE, "SITE", "only this home site (name or key)" },
    { "training", EL_CLI_OPT_VALUE, "NAME", "only members holding this training" },
    { NULL, 0, NULL, NULL },
};

const el_cli_cmd_t el_cli_member_cmds[] = {
    { "member add", NULL, 0, 0, "Add a member to this site's roster.", s_add_opts, s_add,
      "entrelab member add --id m-claire --name \"Claire D.\" --role volunteer "
      "--training lathe --training laser_cutter --sharing network" },
    { "member update", "KEY", 1, 1, "Change a member of this site's roster.", s_update_opts,
      s_update, "entrelab member update m-claire --training lathe --training cnc_mill" },
    { "member list", NULL, 0, 0, "This site's roster and the members other sites share "
      "(sharing network or federation).",
      s_list_opts, s_list, "entrelab member list --training lathe" },
    { "member remove", "KEY", 1, 1,
      "Erase a member: a tombstone; every site stubs its entries and compacts its store.",
      s_no_opts, s_remove, "entrelab member remove m-claire" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
