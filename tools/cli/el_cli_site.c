/* el_cli_site.c — `entrelab init|admit|revoke|invite|join|sites|status`:
 * setting a site or broker up, the network's directory, a daemon's health. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "el_cli.h"
#include "el_config.h"
#include "el_control_proto.h"
#include "el_join_call.h"
#include "el_keytext.h"

#define S_N(a) (sizeof (a) / sizeof (a)[0])
#define S_CONF_MAX (64u << 10)      /* bytes of a config file join rewrites */

static const char *
s_kind_name (El__SiteKind k)
{
    switch (k) {
    case EL__SITE_KIND__CENTRAL: return "central";
    case EL__SITE_KIND__PERIPHERAL: return "peripheral";
    case EL__SITE_KIND__FEDERATED: return "federated";
    case EL__SITE_KIND__BROKER: return "broker";
    default: return "unspecified";
    }
}

static int
s_kind_parse (el_cli_t *cli, const char *text, El__SiteKind *ret)
{
    if (!text)
        return 0;
    if (!strcmp (text, "central"))
        *ret = EL__SITE_KIND__CENTRAL;
    else if (!strcmp (text, "peripheral"))
        *ret = EL__SITE_KIND__PERIPHERAL;
    else if (!strcmp (text, "federated"))
        *ret = EL__SITE_KIND__FEDERATED;
    else
        return el_cli_bad (cli, "--kind: central, peripheral or federated, not '%s'", text);
    return 0;
}

/* ------------------------------------------------------------ init */

static int
s_write_file (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return -errno;
    size_t len = strlen (text), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = write (fd, text + off, len - off);
        if (n < 0) {
            rc = -errno;
            break;
        }
        off += (size_t) n;
    }
    if (rc == 0 && fsync (fd) < 0)
        rc = -errno;
    close (fd);
    return rc;
}

/* Append "name = value\n" to buf, after checking it with el_config_set. */
static int
s_setting (el_cli_t *cli, el_config_t *cfg, char *buf, size_t size, const char *name,
           const char *value)
{
    char err[EL_CONFIG_ERR_MAX] = "";
    int rc = el_config_set (cfg, name, value, err, sizeof err);
    if (rc == -ENOENT)
        return el_cli_bad (cli, "unknown setting '%s'", name);
    if (rc < 0)
        return el_cli_bad (cli, "%s", err[0] ? err : "bad setting");
    if (strchr (value, '\n'))
        return el_cli_bad (cli, "%s: value holds a newline", name);
    size_t len = strlen (buf);
    if ((size_t) snprintf (buf + len, size - len, "%s = %s\n", name, value) >= size - len)
        return el_cli_bad (cli, "configuration too long");
    return 0;
}

/* A key typed for @p what (a flag or a command's argument): the checked
 * form, the older form without check (*ret_unchecked: the caller notes it
 * once the command succeeded, s_note_unchecked), or a key file.
 * @return 0, or the error (said). */
static int
s_typed_key (el_cli_t *cli, const char *what, const char *text, uint8_t key[EL_KEY_BYTES],
             bool *ret_unchecked)
{
    const char *why = NULL;
    if (el_keytext_resolve (text, key, ret_unchecked, &why) < 0)
        return el_cli_bad (cli, "%s: '%s' is not a site key: %s", what, text,
                           why ? why : "not a key");
    return 0;
}

/* The note on stderr for a key given in the older form without check. */
static void
s_note_unchecked (bool unchecked, const char *what, const uint8_t key[EL_KEY_BYTES])
{
    if (!unchecked)
        return;
    char checked[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, checked);
    fprintf (stderr, "entrelab: note: %s: the key has no check characters (the older form), "
             "so a typo in it cannot be caught: compare it with the site's own (its checked "
             "form is %s)\n", what, checked);
}

/* Would @p text be taken for a checked key (45 characters of base64url)? */
static bool
s_looks_checked (const char *text)
{
    return strlen (text) == EL_KEYTEXT_LEN
           && strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
              == EL_KEYTEXT_LEN;
}

static int
s_init (el_cli_t *cli, const el_cli_args_t *a)
{
    const char *dir = a->pos[0];
    bool broker = el_cli_has (a, "broker");
    const char *const *listen, *const *sets;
    size_t n_listen = el_cli_opt_list (a, "listen", &listen);
    size_t n_sets = el_cli_opt_list (a, "set", &sets);
    const char *connect = el_cli_opt (a, "connect"), *bkey = el_cli_opt (a, "broker-key");
    uint8_t bkey_id[EL_KEY_BYTES];
    bool bkey_unchecked = false;
    if (broker && n_listen == 0)
        return el_cli_bad (cli, "a broker needs --listen ENDPOINT (e.g. tcp://0.0.0.0:7400)");
    if (broker && (connect || bkey))
        return el_cli_bad (cli, "--connect and --broker-key are for a site, not a broker");
    if (!broker && (!connect) != (!bkey))
        return el_cli_bad (cli, "give both --connect and --broker-key, or neither (and use "
                                "entrelab join)");
    /* the site's zone: where its floating times are, the one its times are shown in */
    const char *zone = el_cli_opt (a, "timezone");
    if (!zone)
        zone = cli->user_zone[0] ? cli->user_zone : "UTC";
    else if (!el_cli_time_zone_known (zone))
        return el_cli_bad (cli, "--timezone: '%s' is not a time zone of this machine's zone "
                                "database (an IANA name such as Europe/Paris)", zone);
    if (bkey) {
        /* the broker's secret must never be copied to a site */
        char head[32] = "";
        FILE *f = fopen (bkey, "r");
        if (f) {
            size_t got = fread (head, 1, sizeof head - 1, f);
            head[got] = '\0';
            fclose (f);
        }
        if (!strncmp (head, "entrelab-secret", 15))
            return el_cli_bad (cli, "--broker-key: %s is a secret key file: give the broker's "
                               "public key (its key.pub, or the key text)", bkey);
        int krc = s_typed_key (cli, "--broker-key", bkey, bkey_id, &bkey_unchecked);
        if (krc < 0)
            return krc;
    }
    bool made_dir = mkdir (dir, 0700) == 0;
    if (!made_dir && errno != EEXIST)
        return el_cli_fail (cli, -errno, "%s: %s", dir, strerror (errno));
    char abs[PATH_MAX];
    if (!realpath (dir, abs))
        return el_cli_fail (cli, -errno, "%s: %s", dir, strerror (errno));
    char conf[PATH_MAX + 32], key[PATH_MAX + 16];
    snprintf (conf, sizeof conf, "%s/%s", abs, EL_CLI_CONFIG_NAME);
    snprintf (key, sizeof key, "%s/key", abs);
    if (access (conf, F_OK) == 0 || access (key, F_OK) == 0)
        return el_cli_bad (cli, "%s already holds a configuration or key: nothing written", abs);

    el_config_t *cfg = malloc (sizeof *cfg);
    char *text = malloc (S_CONF_MAX);
    el_keypair_t *kp = NULL;
    int rc = -ENOMEM;
    if (!cfg || !text)
        goto out;
    el_config_init (cfg);
    snprintf (text, S_CONF_MAX, "# entrelab %s, written by `entrelab init`. Every key is also "
              "a flag; the keys and defaults: docs/CLI.md, \"Daemon settings\".\n[daemon]\n",
              broker ? "broker" : "site");
    rc = s_setting (cli, cfg, text, S_CONF_MAX, "state_dir", abs);
    if (rc < 0)
        goto out;
    rc = s_setting (cli, cfg, text, S_CONF_MAX, "key_file", key);
    if (rc < 0)
        goto out;
    rc = s_setting (cli, cfg, text, S_CONF_MAX, "timezone", zone);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < n_listen; i++) {
        rc = s_setting (cli, cfg, text, S_CONF_MAX, "listen", listen[i]);
        if (rc < 0)
            goto out;
    }
    if (el_cli_opt (a, "http")) {
        rc = s_setting (cli, cfg, text, S_CONF_MAX, "http_listen", el_cli_opt (a, "http"));
        if (rc < 0)
            goto out;
    }
    if (connect) {
        rc = s_setting (cli, cfg, text, S_CONF_MAX, "connect", connect);
        if (rc < 0)
            goto out;
        rc = s_setting (cli, cfg, text, S_CONF_MAX, "broker_key", bkey);
        if (rc < 0)
            goto out;
    }
    for (size_t i = 0; i < n_sets; i++) {
        char name[64];
        const char *eq = strchr (sets[i], '=');
        size_t len = eq ? (size_t) (eq - sets[i]) : 0;
        if (!eq || len == 0 || len >= sizeof name) {
            rc = el_cli_bad (cli, "--set: expected NAME=VALUE, not '%s'", sets[i]);
            goto out;
        }
        memcpy (name, sets[i], len);
        name[len] = '\0';
        while (len && name[len - 1] == ' ')
            name[--len] = '\0';
        const char *value = eq + 1;
        while (*value == ' ')
            value++;
        if (!strcmp (name, "state_dir") || !strcmp (name, "key_file")
            || !strcmp (name, "timezone")) {
            rc = el_cli_bad (cli, "--set %s: fixed by init (--timezone sets the zone)", name);
            goto out;
        }
        rc = s_setting (cli, cfg, text, S_CONF_MAX, name, value);
        if (rc < 0)
            goto out;
    }
    rc = el_keypair_generate (&kp);
    if (rc == 0)
        rc = el_keypair_save (kp, key, false);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", key, el_strerror (rc));
        goto out;
    }
    rc = s_write_file (conf, text, 0600);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", conf, strerror (-rc));
        /* leave nothing half made: a later init must be able to start over */
        char pub[PATH_MAX + 32];
        snprintf (pub, sizeof pub, "%s.pub", key);
        unlink (key);
        unlink (pub);
        unlink (conf);
        goto out;
    }
    char pk[EL_KEY_TEXT_BYTES], checked[EL_KEYTEXT_BYTES];
    el_key_to_text (kp->pk, pk);
    el_keytext_encode (kp->pk, checked);
    json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "role", broker ? "broker"
                             : "site", "key", pk, "key_checked", checked, "dir", abs, "config",
                             conf, "key_file", key, "timezone", zone);
    rc = el_cli_print_line (cli, doc,
                            "%s key: %s\ntime zone: %s\nconfig: %s\nstart it: %s --config %s%s",
                            broker ? "broker" : "site", checked, zone, conf, broker
                            ? "entrelab-broker"
                            : "entrelab-node", conf, broker || connect ? ""
                            : "\n(first: entrelab --node DIR join TOKEN)");
    if (rc == 0 && bkey)
        s_note_unchecked (bkey_unchecked, "--broker-key", bkey_id);
out:
    if (rc < 0 && made_dir)
        (void) rmdir (abs);     /* a failed init leaves no directory it made */
    el_keypair_destroy (&kp);
    free (cfg);
    free (text);
    return rc == -ENOMEM && !cli->err[0] ? el_cli_fail (cli, rc, "out of memory") : rc;
}

/* ------------------------------------------------------------ admit, revoke */

static int
s_admit (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t key[EL_KEY_BYTES];
    bool unchecked = false;
    int krc = s_typed_key (cli, "admit", a->pos[0], key, &unchecked);
    if (krc < 0)
        return krc;
    El__Site site = EL__SITE__INIT;
    El__SiteKind kind = EL__SITE_KIND__PERIPHERAL;
    int rc = s_kind_parse (cli, el_cli_opt (a, "kind"), &kind);
    if (rc < 0)
        return rc;
    const char *name = el_cli_opt (a, "name");
    if (name && (!*name || strlen (name) > 200))
        return el_cli_bad (cli, "--name: 1..200 bytes");
    site.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
    site.name = (char *) (name ? name : "");
    site.kind = kind;
    site.town = (char *) (el_cli_opt (a, "town") ? el_cli_opt (a, "town") : "");
    site.address = (char *) (el_cli_opt (a, "address") ? el_cli_opt (a, "address") : "");
    site.url = (char *) (el_cli_opt (a, "url") ? el_cli_opt (a, "url") : "");
    site.contact = (char *) (el_cli_opt (a, "contact") ? el_cli_opt (a, "contact") : "");
    site.endpoint = (char *) (el_cli_opt (a, "endpoint") ? el_cli_opt (a, "endpoint") : "");
    const char *zone = el_cli_opt (a, "timezone");
    if (zone && !el_cli_time_zone_known (zone))
        return el_cli_bad (cli, "--timezone: '%s' is not a time zone of this machine's zone "
                                "database (an IANA name such as Europe/Paris)", zone);
    site.timezone = (char *) (zone ? zone : "");
    const char *hours = el_cli_opt (a, "opening-hours");
    if (hours && strlen (hours) > 255)
        return el_cli_bad (cli, "--opening-hours: at most 255 bytes");
    site.opening_hours = (char *) (hours ? hours : "");
    const char *const *services = NULL;
    site.n_services = el_cli_opt_list (a, "service", &services);
    site.services = (char **) services;
    site.status = EL__SITE_STATUS__ACTIVE;
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AdmitRequest ar = EL__ADMIT_REQUEST__INIT;
    ar.site_key = site.site_key;
    ar.name = site.name;
    ar.kind = kind;
    ar.site = &site;
    req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
    req.admit = &ar;
    El__ControlReply *reply = NULL;
    rc = el_cli_call (cli, &req, &reply);
    if (rc < 0)
        return rc;
    uint64_t seq = reply->r_case == EL__CONTROL_REPLY__R_ADMIT ? reply->admit->seq : 0;
    el_cli_reply_free (&reply);
    char text[EL_KEY_TEXT_BYTES], checked[EL_KEYTEXT_BYTES];
    el_key_to_text (key, text);
    el_keytext_encode (key, checked);
    s_note_unchecked (unchecked, "admit", key);
    return el_cli_print_line (cli, json_pack ("{s:s, s:s, s:s, s:I}", "key", text, "name",
                                              site.name, "kind", s_kind_name (kind), "seq",
                                              (json_int_t) seq),
                              "admitted %s%s%s (seq %llu)", checked, name ? " as " : "",
                              name ? name : "", (unsigned long long) seq);
}

static int
s_revoke (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t key[EL_KEY_BYTES];
    bool unchecked = false;
    /* a key (checked or not), a key file, or a site's name */
    int rc = s_looks_checked (a->pos[0]) || el_key_resolve (a->pos[0], key) == 0
             ? s_typed_key (cli, "revoke", a->pos[0], key, &unchecked)
             : el_cli_site_resolve (cli, a->pos[0], key);
    if (rc < 0)
        return rc;
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (key, text);
    const json_t *sites;
    if (el_cli_sites (cli, &sites) == 0) {
        size_t i;
        const json_t *o;
        json_array_foreach (sites, i, o) {
            const char *k = json_string_value (json_object_get (o, "key"));
            const char *st = json_string_value (json_object_get (o, "status"));
            if (k && st && !strcmp (k, text) && !strcmp (st, "revoked"))
                return el_cli_bad (cli, "%s is already revoked", a->pos[0]);
        }
    }
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__RevokeRequest rr = EL__REVOKE_REQUEST__INIT;
    rr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
    req.r_case = EL__CONTROL_REQUEST__R_REVOKE;
    req.revoke = &rr;
    El__ControlReply *reply = NULL;
    rc = el_cli_call (cli, &req, &reply);
    if (rc < 0)
        return rc;
    uint64_t seq = reply->r_case == EL__CONTROL_REPLY__R_ADMIT ? reply->admit->seq : 0;
    el_cli_reply_free (&reply);
    char checked[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, checked);
    s_note_unchecked (unchecked, "revoke", key);
    return el_cli_print_line (cli, json_pack ("{s:s, s:s, s:I}", "key", text, "status",
                                              "revoked", "seq", (json_int_t) seq),
                              "revoked %s (seq %llu): its connections close, its new entries "
                              "are refused", checked, (unsigned long long) seq);
}

/* ------------------------------------------------------------ invite, join */

static int
s_invite (el_cli_t *cli, const el_cli_args_t *a)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__InviteRequest ir = EL__INVITE_REQUEST__INIT;
    El__SiteKind kind = EL__SITE_KIND__PERIPHERAL;
    int rc = s_kind_parse (cli, el_cli_opt (a, "kind"), &kind);
    if (rc < 0)
        return rc;
    const char *v;
    v = el_cli_opt (a, "ttl");
    if (v) {
        char err[200];
        int64_t ttl;
        if (el_cli_duration_parse (v, &ttl, err, sizeof err) < 0)
            return el_cli_bad (cli, "--ttl: %s", err);
        if (ttl > EL_INVITE_TTL_MAX_US)
            return el_cli_bad (cli, "--ttl: at most 90 days");
        ir.ttl_us = ttl;
    }
    static const char *const eps[] = { "join-listen", "join-endpoint", "endpoint" };
    for (size_t i = 0; i < 3; i++) {
        v = el_cli_opt (a, eps[i]);
        if (v && !strstr (v, "://"))
            return el_cli_bad (cli, "--%s: not an endpoint: %s", eps[i], v);
    }
    const char *name = el_cli_opt (a, "name");
    if (name && strlen (name) > 200)
        return el_cli_bad (cli, "--name: at most 200 bytes");
    ir.name = (char *) (name ? name : "");
    ir.kind = kind;
    ir.join_listen = (char *) (el_cli_opt (a, "join-listen") ? el_cli_opt (a, "join-listen") : "");
    ir.join_endpoint = (char *) (el_cli_opt (a, "join-endpoint") ? el_cli_opt (a, "join-endpoint")
                                                                 : "");
    ir.sync_endpoint = (char *) (el_cli_opt (a, "endpoint") ? el_cli_opt (a, "endpoint") : "");
    req.r_case = EL__CONTROL_REQUEST__R_INVITE;
    req.invite = &ir;
    El__ControlReply *reply = NULL;
    rc = el_cli_call_as (cli, &req, EL__CONTROL_REPLY__R_INVITE, "invite", &reply);
    if (rc < 0)
        return rc;
    const El__InviteReply *r = reply->invite;
    char exp[EL_CLI_TIME_TEXT_MAX];
    el_cli_time_table (r->expires_us, exp);
    json_t *doc = json_pack ("{s:s, s:o, s:I, s:s, s:s}", "token", r->token, "expires",
                             el_cli_time_json (r->expires_us), "expires_us",
                             (json_int_t) r->expires_us, "join_endpoint", r->join_endpoint,
                             "join_listen", r->join_listen);
    rc = el_cli_print_line (cli, doc, "%s\n(one use, valid until %s; on the new site: entrelab "
                            "--node DIR join TOKEN)", r->token, exp);
    el_cli_reply_free (&reply);
    return rc;
}

/* Rewrite @p conf with connect and broker_key set (other lines kept). */
static int
s_conf_set_broker (el_cli_t *cli, const char *conf, const char *connect, const char *bkey)
{
    FILE *f = fopen (conf, "r");
    if (!f)
        return el_cli_fail (cli, -errno, "%s: %s", conf, strerror (errno));
    char *out = malloc (S_CONF_MAX), line[2048];
    size_t len = 0;
    int rc = 0;
    bool placed = false;
    if (!out) {
        fclose (f);
        return el_cli_fail (cli, -ENOMEM, "out of memory");
    }
    out[0] = '\0';
    while (fgets (line, sizeof line, f)) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncmp (p, "connect", 7) || !strncmp (p, "broker_key", 10)
            || !strncmp (p, "broker-key", 10))
            continue;
        int n = snprintf (out + len, S_CONF_MAX - len, "%s", line);
        if (n < 0 || (size_t) n >= S_CONF_MAX - len) {
            rc = el_cli_fail (cli, EL_ETOOBIG, "%s: too large", conf);
            break;
        }
        len += (size_t) n;
        if (!placed && !strncmp (p, "[daemon]", 8)) {
            n = snprintf (out + len, S_CONF_MAX - len, "connect = %s\nbroker_key = %s\n",
                          connect, bkey);
            if (n < 0 || (size_t) n >= S_CONF_MAX - len) {
                rc = el_cli_fail (cli, EL_ETOOBIG, "%s: too large", conf);
                break;
            }
            len += (size_t) n;
            placed = true;
        }
    }
    fclose (f);
    if (rc == 0 && !placed) {
        int n = snprintf (out + len, S_CONF_MAX - len, "[daemon]\nconnect = %s\nbroker_key = %s\n",
                          connect, bkey);
        if (n < 0 || (size_t) n >= S_CONF_MAX - len)
            rc = el_cli_fail (cli, EL_ETOOBIG, "%s: too large", conf);
    }
    if (rc == 0) {
        char tmp[PATH_MAX + 64];
        snprintf (tmp, sizeof tmp, "%s.new", conf);
        unlink (tmp);
        rc = s_write_file (tmp, out, 0600);
        if (rc == 0 && rename (tmp, conf) < 0)
            rc = -errno;
        if (rc < 0)
            rc = el_cli_fail (cli, rc, "%s: %s", conf, strerror (-rc));
    }
    free (out);
    return rc;
}

static int
s_join (el_cli_t *cli, const el_cli_args_t *a)
{
    El__InviteToken *t = NULL;
    el_keypair_t *kp = NULL;
    El__JoinReply *reply = NULL;
    el_config_t *cfg = NULL;
    void *ctx = NULL;
    int rc = el_token_decode (a->pos[0], &t);
    if (rc < 0)
        return el_cli_bad (cli, "not an invite token (it starts with %s)", EL_INVITE_PREFIX);
    if (t->expires_us <= cli->now_us) {
        char exp[EL_CLI_TIME_TEXT_MAX];
        el_cli_time_table (t->expires_us, exp);
        rc = el_cli_bad (cli, "invite expired at %s: ask the broker for a new one", exp);
        goto out;
    }
    const char *name = el_cli_opt (a, "name");
    if (name && (!*name || strlen (name) > 200)) {
        rc = el_cli_bad (cli, "--name: 1..200 bytes");
        goto out;
    }
    if (!cli->node || !*cli->node || strstr (cli->node, "://")) {
        rc = el_cli_bad (cli, "join needs --node STATE_DIR (made with entrelab init)");
        goto out;
    }
    char conf[PATH_MAX + 32];
    struct stat st;
    if (stat (cli->node, &st) != 0) {
        rc = el_cli_fail (cli, -errno, "%s: %s", cli->node, strerror (errno));
        goto out;
    }
    if (S_ISDIR (st.st_mode))
        snprintf (conf, sizeof conf, "%s/%s", cli->node, EL_CLI_CONFIG_NAME);
    else
        snprintf (conf, sizeof conf, "%s", cli->node);
    cfg = malloc (sizeof *cfg);
    if (!cfg) {
        rc = el_cli_fail (cli, -ENOMEM, "out of memory");
        goto out;
    }
    el_config_init (cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    rc = el_config_load (cfg, conf, err, sizeof err);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", conf, err);
        goto out;
    }
    if (!cfg->key_file[0] && cfg->state_dir[0])
        snprintf (cfg->key_file, sizeof cfg->key_file, "%.*s/key", EL_CONFIG_PATH_MAX - 8,
                  cfg->state_dir);
    if (!cfg->key_file[0]) {
        rc = el_cli_bad (cli, "%s names no state_dir or key_file", conf);
        goto out;
    }
    if (cfg->has_broker_key && memcmp (cfg->broker_key, t->broker_key.data, EL_KEY_BYTES)) {
        rc = el_cli_bad (cli, "%s already names another broker: this site is in a network", conf);
        goto out;
    }
    rc = el_keypair_load (cfg->key_file, &kp);
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "%s: %s", cfg->key_file, el_strerror (rc));
        goto out;
    }
    ctx = zmq_ctx_new ();
    if (!ctx) {
        rc = el_cli_fail (cli, -errno, "zmq: %s", zmq_strerror (errno));
        goto out;
    }
    /* the site's zone goes into its Site record */
    rc = el_join_call (ctx, t, kp, name, cfg->timezone, cli->timeout_ms, &reply);
    if (rc == -ETIMEDOUT) {
        rc = el_cli_fail (cli, rc, "no answer from %s within %d s (unreachable, or the broker "
                                   "dropped the request)", t->join_endpoint,
                          cli->timeout_ms / 1000);
        goto out;
    }
    if (rc < 0) {
        rc = el_cli_fail (cli, rc, "join %s: %s", t->join_endpoint, el_strerror (rc));
        goto out;
    }
    if (reply->code != 0) {
        rc = el_cli_fail (cli, reply->code, "the broker refused the invite: %s",
                          reply->text && reply->text[0] ? reply->text
                                                        : el_strerror (reply->code));
        goto out;
    }
    char bkey[EL_KEY_TEXT_BYTES], self[EL_KEY_TEXT_BYTES];
    el_key_to_text (t->broker_key.data, bkey);
    el_key_to_text (kp->pk, self);
    rc = s_conf_set_broker (cli, conf, reply->sync_endpoint, bkey);
    if (rc < 0)
        goto out;
    char self_checked[EL_KEYTEXT_BYTES], bkey_checked[EL_KEYTEXT_BYTES];
    el_keytext_encode (kp->pk, self_checked);
    el_keytext_encode (t->broker_key.data, bkey_checked);
    json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "site", self,
                             "site_checked", self_checked, "network", bkey, "name",
                             reply->name ? reply->name : "", "sync_endpoint",
                             reply->sync_endpoint, "seq", (json_int_t) reply->seq, "config", conf);
    rc = el_cli_print_line (cli, doc, "joined network %s as %s (%s)\nsync endpoint %s written to "
                            "%s\nstart it: entrelab-node --config %s", bkey_checked,
                            reply->name && reply->name[0] ? reply->name : "(no name)",
                            self_checked, reply->sync_endpoint, conf, conf);
out:
    if (reply)
        el__join_reply__free_unpacked (reply, &el_pb_allocator);
    if (t)
        el__invite_token__free_unpacked (t, &el_pb_allocator);
    el_keypair_destroy (&kp);
    free (cfg);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}

/* ------------------------------------------------------------ sites */

static const el_cli_col_t s_site_cols[] = {
    { "NAME", "name", EL_CLI_COL_TEXT, 32 },
    { "KEY", "key", EL_CLI_COL_TEXT, 0 },
    { "KIND", "kind", EL_CLI_COL_TEXT, 0 },
    { "STATUS", "status", EL_CLI_COL_TEXT, 0 },
    { "TOWN", "town", EL_CLI_COL_TEXT, 24 },
    { "ZONE", "timezone", EL_CLI_COL_TEXT, 0 },
    { "NETWORK", "network_name", EL_CLI_COL_TEXT, 24 },
};

static int
s_sites (el_cli_t *cli, const el_cli_args_t *a)
{
    (void) a;
    const json_t *sites;
    int rc = el_cli_sites (cli, &sites);
    if (rc < 0)
        return rc;
    return el_cli_print_table (cli, json_pack ("{s:O}", "sites", (json_t *) sites), "sites",
                               s_site_cols, S_N (s_site_cols));
}

/* ------------------------------------------------------------ status */

static const el_cli_col_t s_self_cols[] = {
    { "Site", "self_checked", EL_CLI_COL_TEXT, 0 },
    { "Name", "name", EL_CLI_COL_TEXT, 0 },
    { "Role", "role", EL_CLI_COL_TEXT, 0 },
    { "Network", "network_checked", EL_CLI_COL_TEXT, 0 },
    { "Admitted", "admission", EL_CLI_COL_TEXT, 0 },
    { "Version", "version", EL_CLI_COL_TEXT, 0 },
    { "Started", "started_us", EL_CLI_COL_TIME, 0 },
    { "Listening", "listen", EL_CLI_COL_TEXT, 0 },
    { "Origins held", "store.origins", EL_CLI_COL_TEXT, 0 },
    { "Entries held", "store.entries", EL_CLI_COL_TEXT, 0 },
    { "Entries rejected", "sync.rejected", EL_CLI_COL_TEXT, 0 },
    { "Frames refused", "sync.frames_refused", EL_CLI_COL_TEXT, 0 },
    { "Forks", "sync.forks", EL_CLI_COL_TEXT, 0 },
    { "Auth failures", "sync.auth_failures", EL_CLI_COL_TEXT, 0 },
    { "Handshakes refused", "sync.handshakes_refused", EL_CLI_COL_TEXT, 0 },
};

static const el_cli_col_t s_peer_cols[] = {
    { "PEER", "name", EL_CLI_COL_TEXT, 24 },
    { "ROLE", "role", EL_CLI_COL_TEXT, 0 },
    { "ENDPOINT", "endpoint", EL_CLI_COL_TEXT, 0 },
    { "STATE", "state", EL_CLI_COL_TEXT, 0 },
    { "WHY DOWN", "down_reason", EL_CLI_COL_TEXT, 0 },
    { "SINCE", "since_us", EL_CLI_COL_TIME, 0 },
    { "LAST SEEN", "last_seen_us", EL_CLI_COL_TIME, 0 },
    { "AUTH FAILURES", "auth_failures", EL_CLI_COL_TEXT, 0 },
    { "REFUSED", "refused", EL_CLI_COL_TEXT, 0 },
    { "BEHIND", "behind_text", EL_CLI_COL_TEXT, 0 },
};

static const el_cli_col_t s_refused_cols[] = {
    { "PEER", "peer_name", EL_CLI_COL_TEXT, 24 },
    { "REFUSED", "input", EL_CLI_COL_TEXT, 0 },
    { "REASON", "reason", EL_CLI_COL_TEXT, 0 },
    { "COUNT", "count", EL_CLI_COL_TEXT, 0 },
};

/* A status map<string, uint64> (every one has this entry layout) as a JSON
 * object; with @p rows, also one row per reason: {peer_name, input, reason, count}. */
static json_t *
s_reasons_json (El__SyncStatus__RejectedByReasonEntry *const *v, size_t n, json_t *rows,
                const json_t *peer_name, const char *input)
{
    json_t *o = json_object ();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new (o, v[i]->key, json_integer ((json_int_t) v[i]->value));
        if (rows)
            json_array_append_new (rows, json_pack ("{s:O, s:s, s:s, s:I}", "peer_name",
                                                    (json_t *) peer_name, "input", input,
                                                    "reason", v[i]->key, "count",
                                                    (json_int_t) v[i]->value));
    }
    return o;
}

static const el_cli_col_t s_behind_cols[] = {
    { "PEER", "peer_name", EL_CLI_COL_TEXT, 24 },
    { "ORIGIN", "origin_name", EL_CLI_COL_TEXT, 24 },
    { "ORIGIN KEY", "origin", EL_CLI_COL_TEXT, 0 },
    { "BEHIND", "behind", EL_CLI_COL_TEXT, 0 },
};

static int
s_status (el_cli_t *cli, const el_cli_args_t *a)
{
    (void) a;
    El__ControlReply *reply = NULL;
    int rc = el_cli_status (cli, &reply);
    if (rc < 0)
        return rc;
    const El__StatusReply *s = reply->status;
    char name[128];
    json_t *doc = json_object ();
    json_object_set_new (doc, "self", el_cli_key_json (s->self_id.data));
    char checked[EL_KEYTEXT_BYTES];
    if (s->self_id.len == EL_KEY_BYTES && s->network.len == EL_KEY_BYTES) {
        el_keytext_encode (s->self_id.data, checked);
        json_object_set_new (doc, "self_checked", json_string (checked));
        el_keytext_encode (s->network.data, checked);
        json_object_set_new (doc, "network_checked", json_string (checked));
    }
    json_object_set_new (doc, "name", json_string (el_cli_site_name (cli, s->self_id.data, name,
                                                                     sizeof name)));
    json_object_set_new (doc, "role", json_string (s->role ? s->role : ""));
    json_object_set_new (doc, "network", el_cli_key_json (s->network.data));
    json_object_set_new (doc, "admitted", json_boolean (s->admitted && !s->revoked_us));
    json_object_set_new (doc, "revoked", json_boolean (s->revoked_us != 0));
    json_object_set_new (doc, "revoked_since", s->revoked_us ? el_cli_time_json (s->revoked_us)
                                                             : json_null ());
    json_object_set_new (doc, "admission", json_string (s->revoked_us ? "revoked"
                                                        : s->admitted ? "yes" : "no"));
    json_object_set_new (doc, "version", json_string (s->version ? s->version : ""));
    json_object_set_new (doc, "started", el_cli_time_json (s->started_us));
    json_object_set_new (doc, "started_us", json_integer (s->started_us));
    json_t *listen = json_array ();
    for (size_t i = 0; i < s->n_listen; i++)
        json_array_append_new (listen, json_string (s->listen[i]));
    json_object_set_new (doc, "listen", listen);
    if (s->store)
        json_object_set_new (doc, "store", json_pack (
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "applied", (json_int_t) s->store->applied,
            "duplicates", (json_int_t) s->store->duplicates, "rejected",
            (json_int_t) s->store->rejected, "forks", (json_int_t) s->store->forks, "commits",
            (json_int_t) s->store->commits, "map_bytes", (json_int_t) s->store->map_bytes,
            "origins", (json_int_t) s->store->origins, "entries", (json_int_t) s->store->entries));
    if (s->sync) {
        json_t *sync = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                                  "frames_in", (json_int_t) s->sync->frames_in, "frames_out",
                                  (json_int_t) s->sync->frames_out, "entries_in",
                                  (json_int_t) s->sync->entries_in, "entries_out",
                                  (json_int_t) s->sync->entries_out, "applied",
                                  (json_int_t) s->sync->applied, "duplicates",
                                  (json_int_t) s->sync->duplicates, "rejected",
                                  (json_int_t) s->sync->rejected, "forks",
                                  (json_int_t) s->sync->forks, "auth_failures",
                                  (json_int_t) s->sync->auth_failures, "frames_dropped",
                                  (json_int_t) s->sync->frames_dropped);
        json_t *why = json_object ();
        for (size_t i = 0; i < s->sync->n_rejected_by_reason; i++)
            json_object_set_new (why, s->sync->rejected_by_reason[i]->key,
                                 json_integer ((json_int_t) s->sync->rejected_by_reason[i]->value));
        json_object_set_new (sync, "rejected_by_reason", why);
        json_object_set_new (sync, "frames_refused",
                             json_integer ((json_int_t) s->sync->frames_refused));
        json_object_set_new (sync, "frames_refused_by_reason", s_reasons_json (
                                 (El__SyncStatus__RejectedByReasonEntry *const *)
                                     s->sync->frames_refused_by_reason,
                                 s->sync->n_frames_refused_by_reason, NULL, NULL, NULL));
        json_object_set_new (sync, "ended_by_reason", s_reasons_json (
                                 (El__SyncStatus__RejectedByReasonEntry *const *)
                                     s->sync->ended_by_reason,
                                 s->sync->n_ended_by_reason, NULL, NULL, NULL));
        json_object_set_new (sync, "handshakes_refused",
                             json_integer ((json_int_t) s->sync->handshakes_refused));
        json_object_set_new (sync, "handshakes_refused_by_reason", s_reasons_json (
                                 (El__SyncStatus__RejectedByReasonEntry *const *)
                                     s->sync->handshakes_refused_by_reason,
                                 s->sync->n_handshakes_refused_by_reason, NULL, NULL, NULL));
        json_object_set_new (sync, "handshakes_open",
                             json_integer ((json_int_t) s->sync->handshakes_open));
        json_object_set_new (doc, "sync", sync);
    }
    json_t *peers = json_array (), *behind_rows = json_array (), *refused_rows = json_array ();
    for (size_t i = 0; i < s->n_peers; i++) {
        const El__PeerStatus *p = s->peers[i];
        json_t *o = json_object ();
        bool has_key = p->key.len == EL_KEY_BYTES;
        json_object_set_new (o, "key", has_key ? el_cli_key_json (p->key.data) : json_null ());
        json_object_set_new (o, "name", json_string (has_key ? el_cli_site_name (
                                                         cli, p->key.data, name, sizeof name)
                                                             : "(unknown)"));
        json_object_set_new (o, "role", json_string (p->role ? p->role : ""));
        json_object_set_new (o, "endpoint", json_string (p->endpoint && p->endpoint[0]
                                                         ? p->endpoint : "inbound"));
        json_object_set_new (o, "outbound", json_boolean (p->outbound));
        json_object_set_new (o, "connected", json_boolean (p->connected));
        json_object_set_new (o, "state", json_string (p->connected ? "connected" : "down"));
        json_object_set_new (o, "down_reason", json_string (
                                 p->connected || !p->down_reason ? "" : p->down_reason));
        json_object_set_new (o, "since", el_cli_time_json (p->since_us));
        json_object_set_new (o, "since_us", json_integer (p->since_us));
        json_object_set_new (o, "last_seen", el_cli_time_json (p->last_seen_us));
        json_object_set_new (o, "last_seen_us", json_integer (p->last_seen_us));
        json_object_set_new (o, "auth_failures", json_integer ((json_int_t) p->auth_failures));
        json_object_set_new (o, "disconnects", json_integer ((json_int_t) p->disconnects));
        json_object_set_new (o, "sessions", json_integer ((json_int_t) p->sessions));
        json_object_set_new (o, "entries_sent", json_integer ((json_int_t) p->entries_sent));
        json_object_set_new (o, "entries_received",
                             json_integer ((json_int_t) p->entries_received));
        /* unknown (null): a peer without a session of which nothing is stored */
        json_object_set_new (o, "behind", p->behind_unknown ? json_null ()
                                          : json_integer ((json_int_t) p->behind));
        if (!cli->json) {
            char behind[24] = "unknown";
            if (!p->behind_unknown)
                snprintf (behind, sizeof behind, "%llu", (unsigned long long) p->behind);
            json_object_set_new (o, "behind_text", json_string (behind));
        }
        /* what it sent that was refused: entries the store refused, frames refused whole */
        json_object_set_new (o, "rejected", json_integer ((json_int_t) p->rejected));
        json_object_set_new (o, "rejected_by_reason", s_reasons_json (
                                 (El__SyncStatus__RejectedByReasonEntry *const *)
                                     p->rejected_by_reason,
                                 p->n_rejected_by_reason, refused_rows,
                                 json_object_get (o, "name"), "entries"));
        json_object_set_new (o, "frames_refused", json_integer ((json_int_t) p->frames_refused));
        json_object_set_new (o, "frames_refused_by_reason", s_reasons_json (
                                 (El__SyncStatus__RejectedByReasonEntry *const *)
                                     p->frames_refused_by_reason,
                                 p->n_frames_refused_by_reason, refused_rows,
                                 json_object_get (o, "name"), "frames"));
        json_object_set_new (o, "refused", json_integer ((json_int_t) (p->rejected
                                                                       + p->frames_refused)));
        json_t *by = json_array ();
        for (size_t k = 0; k < p->n_behind_by_origin; k++) {
            const El__OriginBehind *ob = p->behind_by_origin[k];
            if (ob->origin.len != EL_KEY_BYTES)
                continue;
            char oname[128];
            json_t *row = json_object ();
            json_object_set_new (row, "origin", el_cli_key_json (ob->origin.data));
            json_object_set_new (row, "origin_name", json_string (el_cli_site_name (
                                     cli, ob->origin.data, oname, sizeof oname)));
            json_object_set_new (row, "behind", json_integer ((json_int_t) ob->behind));
            json_array_append (by, row);
            json_object_set_new (row, "peer_name", json_incref (json_object_get (o, "name")));
            json_array_append_new (behind_rows, row);
        }
        json_object_set_new (o, "behind_by_origin", by);
        json_array_append_new (peers, o);
    }
    json_object_set_new (doc, "peers", peers);
    el_cli_reply_free (&reply);
    if (cli->json) {
        json_decref (behind_rows);
        json_decref (refused_rows);
        rc = el_cli_json_print (stdout, doc);
    } else {
        el_cli_record_print (stdout, doc, s_self_cols, S_N (s_self_cols));
        printf ("\n");
        el_cli_table_print (stdout, peers, s_peer_cols, S_N (s_peer_cols));
        if (json_array_size (behind_rows)) {
            printf ("\n");
            el_cli_table_print (stdout, behind_rows, s_behind_cols, S_N (s_behind_cols));
        }
        if (json_array_size (refused_rows)) {
            printf ("\n");
            el_cli_table_print (stdout, refused_rows, s_refused_cols, S_N (s_refused_cols));
        }
        json_decref (behind_rows);
        json_decref (refused_rows);
    }
    json_decref (doc);
    return rc < 0 ? el_cli_fail (cli, rc, "cannot print the result") : 0;
}

/* ------------------------------------------------------------ table */

static const el_cli_optspec_t s_init_opts[] = {
    { "broker", EL_CLI_OPT_SWITCH, NULL, "a network's broker (default: a site)" },
    { "listen", EL_CLI_OPT_LIST, "ENDPOINT", "bind for peers (a broker needs one)" },
    { "connect", EL_CLI_OPT_VALUE, "ENDPOINT", "site: the broker's endpoint (or use join)" },
    { "broker-key", EL_CLI_OPT_VALUE, "KEY", "site: the broker's key (or use join)" },
    { "timezone", EL_CLI_OPT_VALUE, "ZONE", "the site's time zone, an IANA name such as "
      "Europe/Paris (default: this machine's)" },
    { "http", EL_CLI_OPT_VALUE, "ADDR:PORT", "serve the read-only web endpoint (agenda, "
      "agenda.ics, open data, metrics) there (http_listen)" },
    { "set", EL_CLI_OPT_LIST, "NAME=VALUE", "any other daemon setting (log_level, peer, "
      "map_max_mb ...; see \"Daemon settings\" in docs/CLI.md)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_admit_opts[] = {
    { "name", EL_CLI_OPT_VALUE, "TEXT", "the site's name in the directory" },
    { "kind", EL_CLI_OPT_VALUE, "KIND", "central, peripheral (default) or federated" },
    { "town", EL_CLI_OPT_VALUE, "TEXT", "town" },
    { "timezone", EL_CLI_OPT_VALUE, "ZONE", "the site's time zone (IANA name, e.g. Europe/Paris)" },
    { "address", EL_CLI_OPT_VALUE, "TEXT", "postal address" },
    { "url", EL_CLI_OPT_VALUE, "URL", "web site" },
    { "contact", EL_CLI_OPT_VALUE, "TEXT", "public contact" },
    { "endpoint", EL_CLI_OPT_VALUE, "ENDPOINT", "where the site listens, if it does" },
    { "opening-hours", EL_CLI_OPT_VALUE, "TEXT", "when it is open, in OpenStreetMap's "
      "opening_hours syntax, e.g. \"Tu-Sa 14:00-19:00\"" },
    { "service", EL_CLI_OPT_LIST, "NAME", "a service it offers: fablab, coworking, "
      "incubator ... (repeat)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_invite_opts[] = {
    { "name", EL_CLI_OPT_VALUE, "TEXT", "the new site's name (it may give another at join)" },
    { "kind", EL_CLI_OPT_VALUE, "KIND", "central, peripheral (default) or federated" },
    { "ttl", EL_CLI_OPT_VALUE, "DURATION", "validity (default 7d, at most 90d)" },
    { "join-listen", EL_CLI_OPT_VALUE, "ENDPOINT", "bind the join endpoint here (kept; "
      "default: the first listen endpoint, port + 1)" },
    { "join-endpoint", EL_CLI_OPT_VALUE, "ENDPOINT", "address put in the token (default: "
      "join-listen, a wildcard host replaced by this host's name)" },
    { "endpoint", EL_CLI_OPT_VALUE, "ENDPOINT", "broker sync address given to the new site "
      "(default: the first listen endpoint, same rule)" },
    { NULL, 0, NULL, NULL },
};
static const el_cli_optspec_t s_join_opts[] = {
    { "name", EL_CLI_OPT_VALUE, "TEXT", "this site's name (default: the invite's)" },
    { NULL, 0, NULL, NULL },
};
/* entrelab wait SITE SEQ: until this daemon holds SITE's entries up to SEQ */
static int
s_wait (el_cli_t *cli, const el_cli_args_t *a)
{
    uint8_t origin[EL_KEY_BYTES];
    int rc = el_cli_site_resolve (cli, a->pos[0], origin);
    if (rc < 0)
        return rc;
    char *end;
    errno = 0;
    unsigned long long seq = strtoull (a->pos[1], &end, 10);
    if (errno || end == a->pos[1] || *end || a->pos[1][0] == '-')
        return el_cli_bad (cli, "SEQ: a whole number, as a write's --json answer gives it");
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__WaitRequest w = EL__WAIT_REQUEST__INIT;
    w.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, origin };
    w.seq = seq;
    /* the daemon answers before the reply's own timeout runs out */
    int wait_ms = cli->timeout_ms > 1000 ? cli->timeout_ms - 500 : cli->timeout_ms / 2;
    if (wait_ms > EL_CONTROL_WAIT_MAX_MS)
        wait_ms = EL_CONTROL_WAIT_MAX_MS;
    w.timeout_ms = (uint32_t) wait_ms;
    req.r_case = EL__CONTROL_REQUEST__R_WAIT;
    req.wait = &w;
    El__ControlReply *reply = NULL;
    rc = el_cli_call_as (cli, &req, EL__CONTROL_REPLY__R_WAIT, "wait", &reply);
    if (rc < 0)
        return rc;
    bool reached = reply->wait->reached;
    uint64_t held = reply->wait->seq;
    el_cli_reply_free (&reply);
    char name[128];
    el_cli_site_name (cli, origin, name, sizeof name);
    if (!reached)
        return el_cli_fail (cli, -ETIMEDOUT, "%s's entries up to %llu are not all held "
                                             "within %.1f s (held: up to %llu)", name, seq,
                            wait_ms / 1000.0, (unsigned long long) held);
    json_t *doc = json_pack ("{s:o, s:s, s:I, s:b}", "site", el_cli_key_json (origin), "name",
                             name, "seq", (json_int_t) held, "reached", 1);
    return el_cli_print_line (cli, doc, "holds %s's entries up to %llu", name,
                              (unsigned long long) held);
}

static const el_cli_optspec_t s_no_opts[] = { { NULL, 0, NULL, NULL } };

const el_cli_cmd_t el_cli_site_cmds[] = {
    { "init", "DIR", 1, 1, "Create a key pair and a configuration for a site or a broker.",
      s_init_opts, s_init,
      "entrelab init /var/lib/entrelab/hub --broker --listen tcp://0.0.0.0:7400" },
    { "admit", "SITEKEY", 1, 1, "Broker: admit a site to the network (signed Site entry).",
      s_admit_opts, s_admit,
      "entrelab --node /var/lib/entrelab/hub admit 3q2-7wE... --name \"FabLab Vercors\" "
      "--town Villard-de-Lans" },
    { "revoke", "SITE", 1, 1, "Broker: revoke a site; its connections close everywhere.",
      s_no_opts, s_revoke, "entrelab --node /var/lib/entrelab/hub revoke \"FabLab Vercors\"" },
    { "invite", NULL, 0, 0, "Broker: make a one-time invite token for a new site.",
      s_invite_opts, s_invite,
      "entrelab --node /var/lib/entrelab/hub invite --name \"Tiers-lieu Trièves\" --ttl 2d" },
    { "join", "TOKEN", 1, 1, "New site: redeem an invite; the broker admits it and the "
      "configuration gets the broker's endpoint and key. A site already admitted or revoked "
      "is refused.", s_join_opts, s_join,
      "entrelab --node /var/lib/entrelab/site join elinv1.CiB0Y3A6Ly9odWIu..." },
    { "sites", NULL, 0, 0, "The network's directory: every admitted site, and the sites of "
      "the networks ours federates with (NETWORK names them).", s_no_opts, s_sites,
      "entrelab sites" },
    { "wait", "SITE SEQ", 2, 2, "Wait until this daemon holds SITE's entries up to SEQ (the "
      "seq a write at SITE answers with --json), at most --timeout seconds (default 10); "
      "exit 1 when they are not all there by then.", s_no_opts, s_wait,
      "entrelab --node /var/lib/entrelab/celles wait \"La Forge\" 42" },
    { "status", NULL, 0, 0, "This daemon, each peer (connected or since when not, "
      "authentication failures) and how far behind each peer is per origin.", s_no_opts,
      s_status, "entrelab status" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL },
};
