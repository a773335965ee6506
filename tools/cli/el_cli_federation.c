/* el_cli_federation.c — `entrelab federate`, `unfederate`, `federation list`:
 * links between our network's broker and other fablab networks' brokers
 * (broker/el_federation.h says what crosses a link and why). */
#include <string.h>

#include "el_cli.h"
#include "el_keytext.h"
#include "el_share.h"

#define S_KINDS_MAX 8

static const el_cli_col_t s_cols[] = {
    { "NETWORK", "name", EL_CLI_COL_TEXT, 24 },
    { "BROKER KEY", "broker_key", EL_CLI_COL_TEXT, 0 },
    { "ENDPOINT", "endpoint", EL_CLI_COL_TEXT, 0 },
    { "STATE", "state", EL_CLI_COL_TEXT, 0 },
    { "SHARE", "share_text", EL_CLI_COL_TEXT, 0 },
    { "ACCEPT", "accept_text", EL_CLI_COL_TEXT, 0 },
    { "SENT", "entries_sent", EL_CLI_COL_TEXT, 0 },
    { "RECEIVED", "entries_received", EL_CLI_COL_TEXT, 0 },
    { "BEHIND", "behind", EL_CLI_COL_TEXT, 0 },
    { "REFUSED", "refused", EL_CLI_COL_TEXT, 0 },
};
#define S_N(a) (sizeof (a) / sizeof (a)[0])

/* "events,equipment" -> names in @p out (pointers into @p buf). */
static int
s_kinds (el_cli_t *cli, const char *opt, const char *text, char *buf, size_t size, char **out,
         size_t *ret_n)
{
    *ret_n = 0;
    if (!text)
        return 0;
    if (strlen (text) >= size)
        return el_cli_bad (cli, "--%s: too long", opt);
    memcpy (buf, text, strlen (text) + 1);
    for (char *p = buf; *p && *ret_n < S_KINDS_MAX;) {
        char *comma = strchr (p, ',');
        if (comma)
            *comma = '\0';
        uint32_t bits;
        if (el_share_kind_parse (p, &bits) < 0)
            return el_cli_bad (cli, "--%s: unknown kind '%s' (kinds: events, equipment, "
                               "bookings, members, sites)", opt, p);
        out[(*ret_n)++] = p;
        p = comma ? comma + 1 : p + strlen (p);
    }
    return 0;
}

static json_t *
s_names_json (char **names, size_t n, char *text, size_t size)
{
    json_t *a = json_array ();
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        json_array_append_new (a, json_string (names[i]));
        size_t used = strlen (text);
        snprintf (text + used, size - used, "%s%s", i ? "," : "", names[i]);
    }
    return a;
}

static json_t *
s_link_json (const El__FederationLink *l)
{
    char share[96], accept[96];
    json_t *o = json_object ();
    json_object_set_new (o, "name", json_string (l->name && l->name[0] ? l->name : "-"));
    json_object_set_new (o, "broker_key", l->broker_key.len == EL_KEY_BYTES
                                              ? el_cli_key_json (l->broker_key.data)
                                              : json_null ());
    json_object_set_new (o, "endpoint", json_string (l->endpoint && l->endpoint[0]
                                                         ? l->endpoint : "(it connects)"));
    json_object_set_new (o, "state", json_string (l->connected ? "connected" : "down"));
    json_object_set_new (o, "share", s_names_json (l->share, l->n_share, share, sizeof share));
    json_object_set_new (o, "share_text", json_string (share));
    json_object_set_new (o, "accept", s_names_json (l->accept, l->n_accept, accept,
                                                    sizeof accept));
    json_object_set_new (o, "accept_text", json_string (accept));
    json_object_set_new (o, "entries_sent", json_integer ((json_int_t) l->entries_sent));
    json_object_set_new (o, "entries_received", json_integer ((json_int_t) l->entries_received));
    json_object_set_new (o, "behind", json_integer ((json_int_t) l->behind));
    json_object_set_new (o, "refused", json_integer ((json_int_t) l->refused));
    json_object_set_new (o, "since", el_cli_time_json (l->since_us));
    json_t *why = json_object ();
    for (size_t i = 0; i < l->n_refused_by_reason; i++)
        json_object_set_new (why, l->refused_by_reason[i]->key,
                             json_integer ((json_int_t) l->refused_by_reason[i]->value));
    json_object_set_new (o, "refused_by_reason", why);
    json_t *lag = json_array ();
    for (size_t i = 0; i < l->n_behind_by_origin; i++) {
        const El__OriginBehind *b = l->behind_by_origin[i];
        if (b->origin.len == EL_KEY_BYTES)
            json_array_append_new (lag, json_pack ("{s:o, s:I}", "origin",
                                                   el_cli_key_json (b->origin.data), "behind",
                                                   (json_int_t) b->behind));
    }
    json_object_set_new (o, "behind_by_origin", lag);
    return o;
}

static int
s_print (el_cli_t *cli, const El__ControlReply *reply)
{
    json_t *rows = json_array ();
    if (reply->r_case == EL__CONTROL_REPLY__R_FEDERATION)
        for (size_t i = 0; i < reply->federation->n_links; i++)
            json_array_append_new (rows, s_link_json (reply->federation->links[i]));
    return el_cli_print_table (cli, json_pack ("{s:o}", "links", rows), "links", s_cols,
                               S_N (s_cols));
}

static int
s_send (el_cli_t *cli, El__FederateRequest *fr, El__FederationRequest *lr)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    if (fr) {
        req.r_case = EL__CONTROL_REQUEST__R_FEDERATE;
        req.federate = fr;
    } else {
        req.r_case = EL__CONTROL_REQUEST__R_FEDERATION;
        req.federation = lr;
    }
    El__ControlReply *reply = NULL;
    int rc = el_cli_call (cli, &req, &reply);
    if (rc < 0)
        return rc;
    rc = s_print (cli, reply);
    el_cli_reply_free (&reply);
    return rc;
}

/* The other broker's key, typed (checked form or the older one) or a key file. */
static int
s_broker_key (el_cli_t *cli, const char *text, uint8_t key[EL_KEY_BYTES])
{
    const char *why = NULL;
    if (el_keytext_resolve (text, key, NULL, &why) < 0)
        return el_cli_bad (cli, "'%s' is not a broker key: %s", text, why ? why : "not a key");
    return 0;
}

static int
s_federate (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t key[EL_KEY_BYTES];
    if (s_broker_key (cli, a->pos[0], key) < 0)
        return EL_CLI_BAD;
    El__FederateRequest fr = EL__FEDERATE_REQUEST__INIT;
    char sbuf[256], abuf[256];
    char *share[S_KINDS_MAX], *accept[S_KINDS_MAX];
    int rc = s_kinds (cli, "share", el_cli_opt (a, "share"), sbuf, sizeof sbuf, share,
                      &fr.n_share);
    if (rc == 0)
        rc = s_kinds (cli, "accept", el_cli_opt (a, "accept"), abuf, sizeof abuf, accept,
                      &fr.n_accept);
    if (rc < 0)
        return rc;
    fr.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
    fr.endpoint = (char *) (a->n_pos > 1 ? a->pos[1] : "");
    fr.name = (char *) (el_cli_opt (a, "name") ? el_cli_opt (a, "name") : "");
    fr.share = share;
    fr.accept = accept;
    return s_send (cli, &fr, NULL);
}

static int
s_unfederate (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t key[EL_KEY_BYTES];
    if (s_broker_key (cli, a->pos[0], key) < 0)
        return EL_CLI_BAD;
    El__FederateRequest fr = EL__FEDERATE_REQUEST__INIT;
    fr.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
    fr.remove = true;
    return s_send (cli, &fr, NULL);
}

static int
s_list (el_cli_t *cli, const el_cli_args_t *a)
{
    (void) a;
    El__FederationRequest lr = EL__FEDERATION_REQUEST__INIT;
    return s_send (cli, NULL, &lr);
}

static const el_cli_optspec_t s_federate_opts[] = {
    { "share", EL_CLI_OPT_VALUE, "KINDS", "kinds we send it, comma-separated: events, "
      "equipment, bookings, members, sites (default events,equipment,bookings,sites)" },
    { "accept", EL_CLI_OPT_VALUE, "KINDS", "kinds we take from it (same names and default)" },
    { "name", EL_CLI_OPT_VALUE, "TEXT", "the other network's name" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };

const el_cli_cmd_t el_cli_federation_cmds[] = {
    { "federate", "BROKER-KEY [ENDPOINT]", 1, 2, "Broker: link our network with another "
      "network's broker (it does the same with ours); again to change what crosses.",
      s_federate_opts, s_federate,
      "entrelab --node /var/lib/entrelab/hub federate Xq3...w tcp://hub.vercors.example:7400 "
      "--share events,equipment --name \"Réseau Vercors\"" },
    { "unfederate", "BROKER-KEY", 1, 1, "Broker: end a link; that network's new entries are "
      "refused from now on, what was received stays.", s_no_opts, s_unfederate,
      "entrelab --node /var/lib/entrelab/hub unfederate Xq3...w" },
    { "federation list", NULL, 0, 0, "Broker: the links with other networks, what crosses "
      "each way, their state.", s_no_opts, s_list, "entrelab federation list" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
