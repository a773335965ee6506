/* el_cli.c — see el_cli.h. */
#include "el_cli.h"
#include "el_cli_suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "el_config.h"
#include "el_control_call.h"
#include "el_control_proto.h"
#include "el_keytext.h"

/* ------------------------------------------------------------ errors */

int
el_cli_bad (el_cli_t *cli, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (cli->err, sizeof cli->err, fmt, ap);
    va_end (ap);
    return EL_CLI_BAD;
}

int
el_cli_fail (el_cli_t *cli, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (cli->err, sizeof cli->err, fmt, ap);
    va_end (ap);
    return rc < 0 ? rc : -EIO;
}

/* ------------------------------------------------------------ options */

static const el_cli_optval_t *
s_optval (const el_cli_args_t *a, const char *name)
{
    for (size_t i = 0; i < a->n_opts; i++)
        if (!strcmp (a->opts[i].name, name))
            return a->opts[i].n ? &a->opts[i] : NULL;
    return NULL;
}

const char *
el_cli_opt (const el_cli_args_t *a, const char *name)
{
    const el_cli_optval_t *v = s_optval (a, name);
    return v ? v->value : NULL;
}

bool
el_cli_has (const el_cli_args_t *a, const char *name)
{
    return s_optval (a, name) != NULL;
}

size_t
el_cli_opt_list (const el_cli_args_t *a, const char *name, const char *const **ret)
{
    const el_cli_optval_t *v = s_optval (a, name);
    *ret = v ? v->list : NULL;
    return v ? v->n : 0;
}

/* "unknown option", with the nearest option of @p cmd when one is near. */
static int
s_unknown_option (el_cli_t *cli, const el_cli_cmd_t *cmd, const char *name)
{
    const char *cands[64];
    size_t n = 0;
    for (const el_cli_optspec_t *o = cmd->opts; o && o->name && n < 64; o++)
        cands[n++] = o->name;
    const char *near = el_cli_nearest (name, cands, n);
    if (near)
        return el_cli_bad (cli, "%s: unknown option --%s; did you mean --%s? (see entrelab %s "
                                "--help)", cmd->words, name, near, cmd->words);
    return el_cli_bad (cli, "%s: unknown option --%s (see entrelab %s --help)", cmd->words,
                       name, cmd->words);
}

int
el_cli_parse (el_cli_t *cli, const el_cli_cmd_t *cmd, int argc, char **argv,
              el_cli_args_t *ret)
{
    memset (ret, 0, sizeof *ret);
    for (const el_cli_optspec_t *o = cmd->opts; o && o->name; o++) {
        if (ret->n_opts == EL_CLI_OPTS_MAX)
            break;
        ret->opts[ret->n_opts++].name = o->name;
    }
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp (a, "--")) {
            only_pos = true;
            continue;
        }
        /* a key's text may begin with "--" (base64url uses '-'): a key is an
         * argument, never an option */
        uint8_t as_key[EL_KEY_BYTES];
        bool key_text = el_keytext_decode (a, as_key, NULL, NULL) == 0;
        if (only_pos || strncmp (a, "--", 2) || !a[2] || key_text) {
            if (ret->n_pos == EL_CLI_POS_MAX || ret->n_pos == cmd->max_pos)
                return el_cli_bad (cli, "%s: unexpected argument '%s' (see entrelab %s --help)",
                                   cmd->words, a, cmd->words);
            ret->pos[ret->n_pos++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr (a + 2, '=');
        size_t len = eq ? (size_t) (eq - a - 2) : strlen (a + 2);
        if (len >= sizeof name)
            return el_cli_bad (cli, "%s: unknown option %.40s", cmd->words, a);
        memcpy (name, a + 2, len);
        name[len] = '\0';
        const el_cli_optspec_t *spec = NULL;
        size_t k = 0;
        for (const el_cli_optspec_t *o = cmd->opts; o && o->name; o++, k++)
            if (!strcmp (o->name, name)) {
                spec = o;
                break;
            }
        if (!spec || k >= ret->n_opts)
            return s_unknown_option (cli, cmd, name);
        el_cli_optval_t *v = &ret->opts[k];
        const char *value = "";
        if (spec->kind == EL_CLI_OPT_SWITCH) {
            if (eq)
                return el_cli_bad (cli, "%s: --%s takes no value", cmd->words, name);
        } else if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return el_cli_bad (cli, "%s: --%s needs a value (%s)", cmd->words, name,
                                   spec->arg ? spec->arg : "VALUE");
            value = argv[++i];
        }
        if (spec->kind == EL_CLI_OPT_VALUE && v->n)
            return el_cli_bad (cli, "%s: --%s given twice", cmd->words, name);
        if (v->n == EL_CLI_LIST_MAX)
            return el_cli_bad (cli, "%s: --%s given more than %d times", cmd->words, name,
                               EL_CLI_LIST_MAX);
        v->list[v->n++] = value;
        v->value = value;
    }
    if (ret->n_pos < cmd->min_pos)
        return el_cli_bad (cli, "%s: missing %s (see entrelab %s --help)", cmd->words,
                           cmd->positional ? cmd->positional : "argument", cmd->words);
    return 0;
}

void
el_cli_help (const el_cli_cmd_t *cmd)
{
    printf ("usage: entrelab %s", cmd->words);
    if (cmd->positional)
        printf (" %s", cmd->positional);
    if (cmd->opts && cmd->opts[0].name)
        printf (" [options]");
    printf ("\n\n%s\n", cmd->summary);
    if (cmd->opts && cmd->opts[0].name) {
        printf ("\noptions:\n");
        for (const el_cli_optspec_t *o = cmd->opts; o->name; o++) {
            char left[96];
            snprintf (left, sizeof left, "--%s%s%s%s", o->name, o->arg ? " " : "",
                      o->arg ? o->arg : "", o->kind == EL_CLI_OPT_LIST ? " ..." : "");
            printf ("  %-30s %s\n", left, o->help);
        }
    }
    printf ("\ncommon options: --node DIR (or ENTRELAB_NODE), --json, --timeout SECONDS,\n"
            "  --tz ZONE (or ENTRELAB_TZ): read and show times there (default: the node's zone)\n");
    if (cmd->example)
        printf ("\nexample:\n  %s\n", cmd->example);
}

/* ------------------------------------------------------------ daemon calls */

/* The control endpoint of cli->node: an endpoint as given, a config file's
 * `control` setting, or <dir>/entrelab.conf's, or ipc://<dir>/control.sock. */
static int
s_endpoint (el_cli_t *cli)
{
    if (cli->endpoint[0])
        return 0;
    const char *node = cli->node;
    if (!node || !*node)
        return el_cli_bad (cli, "which daemon? pass --node STATE_DIR or set ENTRELAB_NODE");
    if (strstr (node, "://")) {
        snprintf (cli->endpoint, sizeof cli->endpoint, "%s", node);
        return 0;
    }
    struct stat st;
    if (stat (node, &st) != 0)
        return el_cli_fail (cli, -errno, "--node %s: %s", node, strerror (errno));
    char conf[1100];
    if (S_ISDIR (st.st_mode))
        snprintf (conf, sizeof conf, "%s/%s", node, EL_CLI_CONFIG_NAME);
    else
        snprintf (conf, sizeof conf, "%s", node);
    el_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg)
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    el_config_init (cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    int rc = 0;
    if (access (conf, R_OK) == 0) {
        rc = el_config_load (cfg, conf, err, sizeof err);
        if (rc < 0) {
            free (cfg);
            return el_cli_fail (cli, rc, "%s: %s", conf, err);
        }
    } else if (!S_ISDIR (st.st_mode)) {
        free (cfg);
        return el_cli_fail (cli, -errno, "%s: %s", conf, strerror (errno));
    }
    if (cfg->control[0])
        snprintf (cli->endpoint, sizeof cli->endpoint, "%s", cfg->control);
    else if (cfg->state_dir[0] && !S_ISDIR (st.st_mode))
        snprintf (cli->endpoint, sizeof cli->endpoint, "ipc://%s/control.sock", cfg->state_dir);
    else
        snprintf (cli->endpoint, sizeof cli->endpoint, "ipc://%s/control.sock", node);
    free (cfg);
    return 0;
}

/* The `timezone` setting of the --node configuration into @p out ("" when
 * there is none, or no readable configuration: s_endpoint reports those). */
static void
s_node_zone (const el_cli_t *cli, char *out, size_t size)
{
    out[0] = '\0';
    const char *node = cli->node;
    struct stat st;
    if (!node || !*node || strstr (node, "://") || stat (node, &st) != 0)
        return;
    char conf[1100];
    if (S_ISDIR (st.st_mode))
        snprintf (conf, sizeof conf, "%s/%s", node, EL_CLI_CONFIG_NAME);
    else
        snprintf (conf, sizeof conf, "%s", node);
    if (access (conf, R_OK) != 0)
        return;
    el_config_t *cfg = malloc (sizeof *cfg);
    if (!cfg)
        return;
    el_config_init (cfg);
    char err[EL_CONFIG_ERR_MAX];
    if (el_config_load (cfg, conf, err, sizeof err) == 0)
        snprintf (out, size, "%s", cfg->timezone);
    free (cfg);
}

/* The timezone of the daemon's own Site record (a --node given as an
 * endpoint has no configuration to read); "" when it cannot be had: the
 * command then reports what is wrong with the daemon itself. */
static void
s_site_zone (el_cli_t *cli, char *out, size_t size)
{
    out[0] = '\0';
    const json_t *row = el_cli_self (cli) < 0 ? NULL : el_cli_site_row (cli, cli->self_id);
    if (!row) {
        cli->err[0] = '\0';
        return;
    }
    snprintf (out, size, "%s", el_cli_row_text (row, "timezone"));
}

int
el_cli_zone_setup (el_cli_t *cli, const char *tz_opt)
{
    el_cli_time_zone (cli->user_zone, sizeof cli->user_zone);
    char node_zone[EL_CLI_ZONE_MAX];
    const char *env = getenv ("ENTRELAB_TZ");
    const char *zone = NULL, *from = NULL;
    if (tz_opt) {
        zone = tz_opt;
        from = "--tz";
    } else if (env && *env) {
        zone = env;
        from = "ENTRELAB_TZ";
    } else {
        s_node_zone (cli, node_zone, sizeof node_zone);
        from = "the node's timezone setting";
        if (!node_zone[0] && cli->node && strstr (cli->node, "://")) {
            s_site_zone (cli, node_zone, sizeof node_zone);
            from = "the node's Site record";
        }
        zone = node_zone[0] ? node_zone : NULL;
    }
    if (zone && !el_cli_time_zone_known (zone))
        return el_cli_bad (cli, "%s: '%s' is not a time zone of this machine's zone database "
                                "(an IANA name such as Europe/Paris)", from, zone);
    if (zone) {
        setenv ("TZ", zone, 1);
        tzset ();
    }
    el_cli_time_zone (cli->zone, sizeof cli->zone);
    return 0;
}

void
el_cli_reply_free (El__ControlReply **reply_p)
{
    if (reply_p && *reply_p) {
        el__control_reply__free_unpacked (*reply_p, &el_pb_allocator);
        *reply_p = NULL;
    }
}

int
el_cli_call (el_cli_t *cli, El__ControlRequest *req, El__ControlReply **ret)
{
    int rc = s_endpoint (cli);
    if (rc < 0)
        return rc;
    if (!cli->zctx) {
        cli->zctx = zmq_ctx_new ();
        if (!cli->zctx)
            return el_cli_fail (cli, -errno, "zmq: %s", zmq_strerror (errno));
    }
    req->id = ++cli->next_id;
    El__ControlReply *reply = NULL;
    rc = el_control_call (cli->zctx, cli->endpoint, req, cli->timeout_ms, &reply);
    if (rc == -ECONNREFUSED)
        return el_cli_fail (cli, rc, "no daemon at %s (start entrelab-node or entrelab-broker, "
                                     "or pass --node)", cli->endpoint);
    if (rc == -EACCES)
        return el_cli_fail (cli, rc, "permission denied on %s (is your user in the daemon's "
                                     "group?)", strncmp (cli->endpoint, "ipc://", 6)
                                                ? cli->endpoint : cli->endpoint + 6);
    if (rc == -ETIMEDOUT)
        return el_cli_fail (cli, rc, "the daemon at %s did not answer within %d s",
                            cli->endpoint, cli->timeout_ms / 1000);
    if (rc < 0)
        return el_cli_fail (cli, rc, "control call to %s failed: %s", cli->endpoint,
                            el_strerror (rc));
    if (reply->code != 0) {
        rc = reply->code;
        el_cli_fail (cli, rc, "%s", reply->text && reply->text[0] ? reply->text
                                                                   : el_strerror (rc));
        el_cli_reply_free (&reply);
        return rc;
    }
    *ret = reply;
    return 0;
}

int
el_cli_status (el_cli_t *cli, El__ControlReply **ret_reply)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__StatusRequest sr = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &sr;
    El__ControlReply *reply = NULL;
    int rc = el_cli_call (cli, &req, &reply);
    if (rc < 0)
        return rc;
    const El__StatusReply *s = reply->r_case == EL__CONTROL_REPLY__R_STATUS ? reply->status : NULL;
    if (!s || s->self_id.len != EL_KEY_BYTES || s->network.len != EL_KEY_BYTES) {
        el_cli_reply_free (&reply);
        return el_cli_fail (cli, EL_EPROTO, "the daemon's status reply is malformed");
    }
    memcpy (cli->self_id, s->self_id.data, EL_KEY_BYTES);
    memcpy (cli->network, s->network.data, EL_KEY_BYTES);
    snprintf (cli->role, sizeof cli->role, "%s", s->role ? s->role : "");
    cli->admitted = s->admitted;
    cli->have_self = true;
    *ret_reply = reply;
    return 0;
}

int
el_cli_self (el_cli_t *cli)
{
    if (cli->have_self)
        return 0;
    El__ControlReply *reply = NULL;
    int rc = el_cli_status (cli, &reply);
    if (rc < 0)
        return rc;
    el_cli_reply_free (&reply);
    return 0;
}

const char *
el_cli_row_text (const json_t *row, const char *field)
{
    const char *t = json_string_value (json_object_get (row, field));
    return t ? t : "";
}

/* What a listing asks for and where its next page starts. */
typedef struct {
    El__Kind kind;
    const uint8_t *origin;      /* NULL = all */
    bool window;                /* by date: from_us, to_us */
    int64_t from_us, to_us;
    bool have_cursor;
    uint8_t after_origin[EL_KEY_BYTES];
    char *after_key;            /* (origin, key) order: the last record's key */
    uint8_t *after_time;        /* window: ListReply.next */
    size_t after_time_len;
} s_listing_t;

/* The next page's request of @p L into @p lr. */
static void
s_listing_request (const s_listing_t *L, El__ListRequest *lr)
{
    lr->kind = L->kind;
    /* a window is read in one page when it can be: pages of a window are
     * separate reads, and a record moved in between could show twice */
    lr->limit = L->window ? EL_CONTROL_LIST_MAX : EL_CLI_PAGE;
    if (L->origin)
        lr->origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) L->origin };
    if (L->window) {
        lr->window = true;
        lr->from_us = L->from_us;
        lr->to_us = L->to_us;
        if (L->have_cursor)
            lr->after_time = (ProtobufCBinaryData) { L->after_time_len, L->after_time };
    } else if (L->have_cursor) {
        lr->after_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) L->after_origin };
        lr->after_key = L->after_key;
    }
}

/* Keep where the page @p l ends. @return 0, -ENOMEM, EL_EPROTO. */
static int
s_listing_cursor (s_listing_t *L, const El__ListReply *l)
{
    if (L->window) {
        if (l->next.len == 0 || l->next.len > EL_CONTROL_CURSOR_MAX)
            return EL_EPROTO;
        free (L->after_time);
        L->after_time = malloc (l->next.len);
        if (!L->after_time)
            return -ENOMEM;
        memcpy (L->after_time, l->next.data, l->next.len);
        L->after_time_len = l->next.len;
    } else {
        const El__RecordView *last = l->records[l->n_records - 1];
        if (last->origin.len != EL_KEY_BYTES)
            return EL_EPROTO;
        memcpy (L->after_origin, last->origin.data, EL_KEY_BYTES);
        free (L->after_key);
        L->after_key = strdup (last->key ? last->key : "");
        if (!L->after_key)
            return -ENOMEM;
    }
    L->have_cursor = true;
    return 0;
}

/* Every page of @p L to @p fn. */
static int
s_list_pages (el_cli_t *cli, s_listing_t *L, el_cli_view_fn *fn, void *arg)
{
    size_t total = 0;
    int rc = 0;
    for (;;) {
        El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
        El__ListRequest lr = EL__LIST_REQUEST__INIT;
        s_listing_request (L, &lr);
        req.r_case = EL__CONTROL_REQUEST__R_LIST;
        req.list = &lr;
        El__ControlReply *reply = NULL;
        rc = el_cli_call (cli, &req, &reply);
        if (rc < 0)
            break;
        const El__ListReply *l = reply->r_case == EL__CONTROL_REPLY__R_LIST ? reply->list : NULL;
        if (!l) {
            el_cli_reply_free (&reply);
            rc = el_cli_fail (cli, EL_EPROTO, "the daemon's list reply is malformed");
            break;
        }
        for (size_t i = 0; i < l->n_records && rc == 0; i++) {
            const El__RecordView *v = l->records[i];
            if (v->origin.len != EL_KEY_BYTES || !v->key)
                continue;
            rc = fn (arg, v);
        }
        total += l->n_records;
        bool more = l->more && l->n_records > 0;
        if (rc == 0 && more) {
            rc = s_listing_cursor (L, l);
            if (rc == -ENOMEM)
                rc = el_cli_fail (cli, rc, "out of memory");
            else if (rc < 0)
                rc = el_cli_fail (cli, EL_EPROTO, "the daemon's list reply has no cursor");
        }
        el_cli_reply_free (&reply);
        if (rc != 0 || !more)
            break;
        if (total >= EL_CLI_RECORDS_MAX) {
            rc = el_cli_fail (cli, EL_ETOOBIG, "more than %d records: narrow the listing",
                              EL_CLI_RECORDS_MAX);
            break;
        }
    }
    free (L->after_key);
    free (L->after_time);
    return rc;
}

int
el_cli_list (el_cli_t *cli, El__Kind kind, const uint8_t *origin, el_cli_view_fn *fn, void *arg)
{
    s_listing_t L = { .kind = kind, .origin = origin };
    return s_list_pages (cli, &L, fn, arg);
}

int
el_cli_list_window (el_cli_t *cli, El__Kind kind, int64_t from_us, int64_t to_us,
                    el_cli_view_fn *fn, void *arg)
{
    /* an all-day event's dates are 00:00 UTC, compared in the viewer's zone */
    const int64_t day = (int64_t) 86400 * 1000000;
    s_listing_t L = { .kind = kind, .window = true,
                      .from_us = from_us < INT64_MIN + day ? INT64_MIN : from_us - day,
                      .to_us = to_us > INT64_MAX - day ? INT64_MAX : to_us + day };
    return s_list_pages (cli, &L, fn, arg);
}

int
el_cli_call_as (el_cli_t *cli, El__ControlRequest *req, El__ControlReply__RCase want,
                const char *what, El__ControlReply **ret)
{
    int rc = el_cli_call (cli, req, ret);
    if (rc < 0)
        return rc;
    if ((*ret)->r_case != want) {
        el_cli_reply_free (ret);
        return el_cli_fail (cli, EL_EPROTO, "the daemon's %s reply is malformed", what);
    }
    return 0;
}

/* One GetRequest (any origin when @p any). */
static int
s_get (el_cli_t *cli, El__Kind kind, const uint8_t *origin, bool any, const char *key,
       El__ControlReply **ret_reply, const El__RecordView **ret_view)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__GetRequest gr = EL__GET_REQUEST__INIT;
    gr.kind = kind;
    gr.key = (char *) key;
    gr.any_origin = any;
    if (origin)
        gr.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) origin };
    req.r_case = EL__CONTROL_REQUEST__R_GET;
    req.get = &gr;
    El__ControlReply *reply = NULL;
    int rc = el_cli_call (cli, &req, &reply);
    if (rc == EL_ENOTFOUND) {
        cli->err[0] = '\0';
        return rc;
    }
    if (rc < 0)
        return rc;
    if (reply->r_case != EL__CONTROL_REPLY__R_GET || !reply->get->record) {
        el_cli_reply_free (&reply);
        return el_cli_fail (cli, EL_EPROTO, "the daemon's get reply is malformed");
    }
    *ret_reply = reply;
    *ret_view = reply->get->record;
    return 0;
}

int
el_cli_get (el_cli_t *cli, El__Kind kind, const uint8_t *origin, const char *key,
            El__ControlReply **ret_reply, const El__RecordView **ret_view)
{
    return s_get (cli, kind, origin, false, key, ret_reply, ret_view);
}

int
el_cli_get_any (el_cli_t *cli, El__Kind kind, const char *key, El__ControlReply **ret_reply,
                const El__RecordView **ret_view)
{
    return s_get (cli, kind, NULL, true, key, ret_reply, ret_view);
}

int
el_cli_own (el_cli_t *cli, El__Kind kind, const ProtobufCMessageDescriptor *desc,
            const char *key_what, const char *noun, const char *hint, const char *key,
            El__ControlReply **reply, ProtobufCMessage **ret)
{
    const El__RecordView *v = NULL;
    int rc = el_cli_check_key (cli, key_what, key, false);
    if (rc == 0)
        rc = el_cli_get (cli, kind, NULL, key, reply, &v);
    if (rc == EL_ENOTFOUND)
        return el_cli_bad (cli, "unknown %s '%s' (%s)", noun, key, hint);
    if (rc < 0)
        return rc;
    *ret = protobuf_c_message_unpack (desc, &el_pb_allocator, v->payload.len, v->payload.data);
    if (!*ret) {
        el_cli_reply_free (reply);
        return el_cli_fail (cli, EL_EPROTO, "%s '%s' does not decode", noun, key);
    }
    return 0;
}

int
el_cli_field_set (char **field, const char *value, bool owned)
{
    if (!owned) {
        *field = (char *) value;
        return 0;
    }
    char *copy = strdup (value);
    if (!copy)
        return -ENOMEM;
    if (*field && *field != protobuf_c_empty_string)
        free (*field);
    *field = copy;
    return 0;
}

int
el_cli_write (el_cli_t *cli, El__Kind kind, const char *key, const ProtobufCMessage *record,
              bool deleted, uint64_t *ret_seq)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (record) {
        len = protobuf_c_message_get_packed_size (record);
        if (len > EL_PAYLOAD_MAX)
            return el_cli_bad (cli, "record too large (%zu bytes, at most %u)", len,
                               EL_PAYLOAD_MAX);
        buf = malloc (len ? len : 1);
        if (!buf)
            return el_cli_fail (cli, -ENOMEM, "out of memory");
        protobuf_c_message_pack (record, buf);
    }
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WriteRequest wr = EL__WRITE_REQUEST__INIT;
    El__RecordWrite rw = EL__RECORD_WRITE__INIT;
    El__RecordWrite *rws[1] = { &rw };
    rw.kind = kind;
    rw.key = (char *) key;
    rw.deleted = deleted;
    rw.payload = (ProtobufCBinaryData) { len, buf };
    wr.records = rws;
    wr.n_records = 1;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &wr;
    El__ControlReply *reply = NULL;
    int rc = el_cli_call (cli, &req, &reply);
    free (buf);
    if (rc < 0)
        return rc;
    if (ret_seq)
        *ret_seq = reply->r_case == EL__CONTROL_REPLY__R_WRITE ? reply->write->last_seq : 0;
    el_cli_reply_free (&reply);
    return 0;
}

/* ------------------------------------------------------------ sites */

static const char *
s_site_kind (El__SiteKind k)
{
    switch (k) {
    case EL__SITE_KIND__CENTRAL: return "central";
    case EL__SITE_KIND__PERIPHERAL: return "peripheral";
    case EL__SITE_KIND__FEDERATED: return "federated";
    case EL__SITE_KIND__BROKER: return "broker";
    default: return "unspecified";
    }
}

/* What a walk of Site records collects: the directory rows, and our broker's
 * federation records (other networks whose sites join the directory). */
typedef struct {
    json_t *rows;
    json_t *federated;                  /* [{key, name}] of active federation records */
    const char *network_name;           /* "" for ours */
} s_sites_walk_t;

static int
s_site_view (void *arg, const El__RecordView *v)
{
    s_sites_walk_t *w = arg;
    El__Site *s = el__site__unpack (&el_pb_allocator, v->payload.len, v->payload.data);
    if (!s)
        return 0;
    bool federation = v->key && !strncmp (v->key, "federation:", 11);
    if (federation && w->federated && s->site_key.len == EL_KEY_BYTES
        && s->status != EL__SITE_STATUS__REVOKED) {
        json_array_append_new (w->federated, json_pack ("{s:o, s:s}", "key",
                                                        el_cli_key_json (s->site_key.data),
                                                        "name", s->name ? s->name : ""));
    } else if (!federation && s->site_key.len == EL_KEY_BYTES) {
        json_t *o = json_object ();
        json_object_set_new (o, "key", el_cli_key_json (s->site_key.data));
        json_object_set_new (o, "name", json_string (s->name ? s->name : ""));
        json_object_set_new (o, "kind", json_string (s_site_kind (s->kind)));
        json_object_set_new (o, "status", json_string (s->status == EL__SITE_STATUS__REVOKED
                                                       ? "revoked" : "active"));
        json_object_set_new (o, "town", json_string (s->town ? s->town : ""));
        json_object_set_new (o, "address", json_string (s->address ? s->address : ""));
        json_object_set_new (o, "url", json_string (s->url ? s->url : ""));
        json_object_set_new (o, "contact", json_string (s->contact ? s->contact : ""));
        json_object_set_new (o, "endpoint", json_string (s->endpoint ? s->endpoint : ""));
        json_object_set_new (o, "timezone", json_string (s->timezone ? s->timezone : ""));
        json_object_set_new (o, "opening_hours",
                             json_string (s->opening_hours ? s->opening_hours : ""));
        json_object_set_new (o, "network", el_cli_key_json (v->origin.data));
        json_object_set_new (o, "network_name", json_string (w->network_name));
        json_object_set_new (o, "seq", json_integer ((json_int_t) v->seq));
        json_array_append_new (w->rows, o);
    }
    el__site__free_unpacked (s, &el_pb_allocator);
    return 0;
}

/* The sites of the networks ours federates with, as their brokers attest them. */
static int
s_sites_federated (el_cli_t *cli, s_sites_walk_t *w)
{
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach (w->federated, i, f) {
        uint8_t other[EL_KEY_BYTES];
        if (el_key_from_text (json_string_value (json_object_get (f, "key")), other) < 0)
            continue;
        const char *name = json_string_value (json_object_get (f, "name"));
        s_sites_walk_t fw = { w->rows, NULL, name && name[0] ? name : "federated" };
        rc = el_cli_list (cli, EL__KIND__SITE, other, s_site_view, &fw);
        if (rc < 0)
            break;
    }
    return rc;
}

int
el_cli_sites (el_cli_t *cli, const json_t **ret)
{
    if (!cli->sites) {
        s_sites_walk_t w = { json_array (), json_array (), "" };
        int rc = w.rows && w.federated ? 0 : el_cli_fail (cli, -ENOMEM, "out of memory");
        /* only a network's broker attests its sites (docs/ARCHITECTURE.md
         * "Trust model"): a Site record any other site wrote is not the directory */
        if (rc == 0)
            rc = el_cli_self (cli);
        if (rc == 0)
            rc = el_cli_list (cli, EL__KIND__SITE, cli->network, s_site_view, &w);
        if (rc == 0)
            rc = s_sites_federated (cli, &w);
        json_decref (w.federated);
        if (rc < 0) {
            json_decref (w.rows);
            return rc;
        }
        cli->sites = w.rows;
    }
    *ret = cli->sites;
    return 0;
}

int
el_cli_site_resolve (el_cli_t *cli, const char *text, uint8_t ret[EL_KEY_BYTES])
{
    uint8_t key[EL_KEY_BYTES];
    bool is_key = el_keytext_decode (text, key, NULL, NULL) == 0
                  || el_key_from_text (text, key) == 0;
    const json_t *sites;
    int rc = el_cli_sites (cli, &sites);
    if (rc < 0)
        return rc;
    if (el_cli_self (cli) == 0 && is_key && !memcmp (key, cli->self_id, EL_KEY_BYTES)) {
        memcpy (ret, key, EL_KEY_BYTES);
        return 0;
    }
    size_t i, found = 0;
    const json_t *s, *match = NULL;
    json_array_foreach (sites, i, s) {
        const char *k = json_string_value (json_object_get (s, "key"));
        const char *n = json_string_value (json_object_get (s, "name"));
        if ((is_key && k && el_key_from_text (k, ret) == 0 && !memcmp (ret, key, EL_KEY_BYTES))
            || (n && !strcmp (n, text))) {
            if (!match || strcmp (json_string_value (json_object_get (match, "key")), k))
                found++;
            match = s;
        }
    }
    if (found > 1)
        return el_cli_bad (cli, "site name '%s' is ambiguous: give the site's key", text);
    if (!match) {
        if (is_key && !memcmp (key, cli->network, EL_KEY_BYTES)) {
            memcpy (ret, key, EL_KEY_BYTES);
            return 0;
        }
        return el_cli_bad (cli, "unknown site '%s' (see entrelab sites)", text);
    }
    return el_key_from_text (json_string_value (json_object_get (match, "key")), ret) == 0
           ? 0 : el_cli_fail (cli, EL_EPROTO, "bad key in the site directory");
}

const json_t *
el_cli_site_row (el_cli_t *cli, const uint8_t key[EL_KEY_BYTES])
{
    const json_t *sites, *o;
    char text[EL_KEY_TEXT_BYTES];
    size_t i;
    if (el_cli_sites (cli, &sites) < 0)
        return NULL;
    el_key_to_text (key, text);
    json_array_foreach (sites, i, o)
        if (!strcmp (el_cli_row_text (o, "key"), text))
            return o;
    return NULL;
}

const char *
el_cli_site_name (el_cli_t *cli, const uint8_t key[EL_KEY_BYTES], char *buf, size_t size)
{
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (key, text);
    const json_t *row = el_cli_site_row (cli, key);
    const char *n = row ? el_cli_row_text (row, "name") : "";
    if (n[0]) {
        /* a site of another network says which */
        const char *net = el_cli_row_text (row, "network_name");
        snprintf (buf, size, "%s%s%s%s", n, net[0] ? " (" : "", net, net[0] ? ")" : "");
        return buf;
    }
    if (cli->have_self && !memcmp (key, cli->network, EL_KEY_BYTES)) {
        snprintf (buf, size, "broker:%.8s", text);
        return buf;
    }
    snprintf (buf, size, "%.8s", text);
    return buf;
}

json_t *
el_cli_key_json (const uint8_t key[EL_KEY_BYTES])
{
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (key, text);
    return json_string (text);
}

void
el_cli_random_key (const char *prefix, char *out, size_t size)
{
    uint8_t r[8];
    randombytes_buf (r, sizeof r);
    char hex[17];
    sodium_bin2hex (hex, sizeof hex, r, sizeof r);
    snprintf (out, size, "%s%s", prefix, hex);
}

int
el_cli_check_key (el_cli_t *cli, const char *what, const char *key, bool no_colon)
{
    size_t len = strlen (key);
    if (len == 0 || len > EL_RECORD_KEY_MAX)
        return el_cli_bad (cli, "%s must be 1..%d bytes", what, EL_RECORD_KEY_MAX);
    for (const unsigned char *p = (const unsigned char *) key; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (no_colon && *p == ':'))
            return el_cli_bad (cli, "%s holds a control character%s", what,
                               no_colon ? " or ':'" : "");
    return 0;
}

int
el_cli_time_opt (el_cli_t *cli, const char *name, const char *text, int64_t *ret_us)
{
    char err[256];
    if (el_cli_time_parse (text, cli->now_us, ret_us, err, sizeof err) < 0)
        return el_cli_bad (cli, "--%s: %s", name, err);
    return 0;
}

json_t *
el_cli_time_json (int64_t us)
{
    if (!us)
        return json_null ();
    char t[EL_CLI_TIME_TEXT_MAX];
    el_cli_time_iso (us, t);
    return json_string (t);
}

const char *
el_cli_sharing_name (El__Sharing s)
{
    switch (s) {
    case EL__SHARING__SHARING_NETWORK: return "network";
    case EL__SHARING__SHARING_FEDERATION: return "federation";
    case EL__SHARING__SHARING_SITE: return "site";
    default: return "unspecified";
    }
}

int
el_cli_sharing_parse (el_cli_t *cli, const char *opt, const char *text, El__Sharing *ret)
{
    if (!strcmp (text, "site"))
        *ret = EL__SHARING__SHARING_SITE;
    else if (!strcmp (text, "network"))
        *ret = EL__SHARING__SHARING_NETWORK;
    else if (!strcmp (text, "federation"))
        *ret = EL__SHARING__SHARING_FEDERATION;
    else
        return el_cli_bad (cli, "--%s: '%s' is not site, network or federation", opt, text);
    return 0;
}

/* ------------------------------------------------------------ output */

#define S_TITLE_MAX 128     /* bytes of a column title with its zone */

/* @p cols with the zone after each time column's title ("START (Europe/Paris)"),
 * so that every table says where its times are; malloc'd (titles inside),
 * NULL when no column is a time or out of memory (the plain titles then). */
static el_cli_col_t *
s_zoned_cols (const el_cli_t *cli, const el_cli_col_t *cols, size_t n_cols)
{
    bool any = false;
    for (size_t c = 0; c < n_cols; c++)
        any |= cols[c].kind == EL_CLI_COL_TIME || cols[c].kind == EL_CLI_COL_WHEN;
    if (!any || !cli->zone[0])
        return NULL;
    el_cli_col_t *z = malloc (n_cols * (sizeof *z + S_TITLE_MAX));
    if (!z)
        return NULL;
    char *titles = (char *) (z + n_cols);
    for (size_t c = 0; c < n_cols; c++) {
        z[c] = cols[c];
        if (cols[c].kind != EL_CLI_COL_TIME && cols[c].kind != EL_CLI_COL_WHEN)
            continue;
        char *t = titles + c * S_TITLE_MAX;
        snprintf (t, S_TITLE_MAX, "%s (%s)", cols[c].header, cli->zone);
        z[c].header = t;
    }
    return z;
}

int
el_cli_print_table (el_cli_t *cli, json_t *doc, const char *rows_field,
                    const el_cli_col_t *cols, size_t n_cols)
{
    el_cli_col_t *zoned = cli->json ? NULL : s_zoned_cols (cli, cols, n_cols);
    int rc = cli->json ? el_cli_json_print (stdout, doc)
                       : el_cli_table_print (stdout, json_object_get (doc, rows_field),
                                             zoned ? zoned : cols, n_cols);
    free (zoned);
    json_decref (doc);
    return rc < 0 ? el_cli_fail (cli, rc, "cannot print the result") : 0;
}

int
el_cli_print_record (el_cli_t *cli, json_t *doc, const char *obj_field,
                     const el_cli_col_t *cols, size_t n_cols)
{
    el_cli_col_t *zoned = cli->json ? NULL : s_zoned_cols (cli, cols, n_cols);
    int rc = cli->json ? el_cli_json_print (stdout, doc)
                       : el_cli_record_print (stdout, *obj_field
                                              ? json_object_get (doc, obj_field) : doc,
                                              zoned ? zoned : cols, n_cols);
    free (zoned);
    json_decref (doc);
    return rc < 0 ? el_cli_fail (cli, rc, "cannot print the result") : 0;
}

int
el_cli_print_line (el_cli_t *cli, json_t *doc, const char *fmt, ...)
{
    int rc = 0;
    if (cli->json)
        rc = el_cli_json_print (stdout, doc);
    else {
        va_list ap;
        va_start (ap, fmt);
        vprintf (fmt, ap);
        va_end (ap);
        putchar ('\n');
    }
    json_decref (doc);
    return rc < 0 ? el_cli_fail (cli, rc, "cannot print the result") : 0;
}
