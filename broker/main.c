/* entrelab-broker — one per network: admits sites (broker-signed Site
 * entries), relays and stores everything for the sites.
 *
 *   entrelab-broker --config broker.ini                     run the daemon
 *   entrelab-broker --state-dir D --admit KEY|FILE --name N admit a site, exit
 *   entrelab-broker --state-dir D --revoke KEY|FILE         revoke a site, exit
 *
 * --admit / --revoke go through the running daemon's control socket when one
 * holds the state directory, else they write the broker's store directly. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "el_admit.h"
#include "el_config.h"
#include "el_control_call.h"
#include "el_daemon.h"
#include "el_duties.h"
#include "el_http.h"
#include "el_hub.h"
#include "el_entry.h"
#include "el_keytext.h"
#include "el_log.h"
#include "el_node.h"
#include "el_store.h"
#include "el_sync.h"

#define S_CONTROL_TIMEOUT_MS 10000

typedef struct {
    el_daemon_flags_t d;    /* help, version, print-id */
    const char *admit, *revoke, *name;
} s_flags_t;

static int
s_extra (void *arg, const char *name, const char *value)
{
    s_flags_t *f = arg;
    if (!strcmp (name, "admit"))
        f->admit = value;
    else if (!strcmp (name, "revoke"))
        f->revoke = value;
    else if (!strcmp (name, "name"))
        f->name = value;
    else
        return -ENOENT;
    return 0;
}

static void
s_usage (FILE *out)
{
    fputs ("usage: entrelab-broker [--config FILE] [--state-dir DIR] --listen ENDPOINT...\n"
           "                       [--peer KEY@ENDPOINT|KEY]... [--control ENDPOINT]\n"
           "                       [--key-file FILE] [--log-level error|warn|info|debug]\n"
           "       entrelab-broker --state-dir DIR --admit KEY|FILE --name NAME\n"
           "       entrelab-broker --state-dir DIR --revoke KEY|FILE\n"
           "       entrelab-broker --state-dir DIR --print-id\n"
           "Every INI key of the config file is also a flag (state_dir = --state-dir);\n"
           "flags override the file. --admit/--revoke use the running daemon's control\n"
           "socket when it runs, else write the broker's store directly.\n", out);
}

/* Through the running daemon. */
static int
s_admin_online (const el_config_t *cfg, const uint8_t site[EL_KEY_BYTES], const char *name,
                bool revoke, uint64_t *ret_seq)
{
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        return -errno;
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    El__AdmitRequest a = EL__ADMIT_REQUEST__INIT;
    El__RevokeRequest r = EL__REVOKE_REQUEST__INIT;
    req.id = 1;
    if (revoke) {
        r.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
        req.r_case = EL__CONTROL_REQUEST__R_REVOKE;
        req.revoke = &r;
    } else {
        a.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
        a.name = (char *) name;
        req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
        req.admit = &a;
    }
    El__ControlReply *reply = NULL;
    int rc = el_control_call (ctx, cfg->control, &req, S_CONTROL_TIMEOUT_MS, &reply);
    if (rc == 0) {
        rc = reply->code;
        if (rc < 0)
            fprintf (stderr, "entrelab-broker: %s\n", reply->text);
        else if (reply->r_case == EL__CONTROL_REPLY__R_ADMIT)
            *ret_seq = reply->admit->seq;
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
    }
    zmq_ctx_term (ctx);
    return rc;
}

/* No daemon: write the store directly (we hold the state directory's lock). */
static int
s_admin_offline (const el_config_t *cfg, const uint8_t site[EL_KEY_BYTES], const char *name,
                 bool revoke, uint64_t *ret_seq)
{
    el_keypair_t *kp = NULL;
    el_store_t *store = NULL;
    el_sync_t *sync = NULL;
    int rc = el_node_load_key (cfg->key_file, &kp, NULL);
    if (rc < 0) {
        fprintf (stderr, "entrelab-broker: %s: %s\n", cfg->key_file, el_strerror (rc));
        goto out;
    }
    el_store_config_t scfg = {
        .map_bytes_max = cfg->map_max_mb ? (size_t) cfg->map_max_mb << 20 : 0,
        .no_sync = !cfg->durable,
        .require_attestation = true,
    };
    rc = el_store_open (cfg->state_dir, &scfg, &store);
    if (rc < 0) {
        fprintf (stderr, "entrelab-broker: store: %s\n", el_strerror (rc));
        goto out;
    }
    el_sync_config_t sc = { .credit = 0, .now_us = el_clock_wall };
    memcpy (sc.self_id, kp->pk, EL_KEY_BYTES);
    memcpy (sc.network, kp->pk, EL_KEY_BYTES);
    rc = el_store_accept_network (store, kp->pk);
    if (rc == 0)
        rc = el_sync_new (store, &sc, &sync);
    if (rc < 0) {
        fprintf (stderr, "entrelab-broker: %s\n", el_strerror (rc));
        goto out;
    }
    if (revoke)
        rc = el_admit_revoke (sync, store, kp, site, ret_seq);
    else
        rc = el_admit_write (sync, kp, site, NULL, name, EL__SITE_KIND__SITE_KIND_UNSPECIFIED,
                             EL__SITE_STATUS__ACTIVE, ret_seq);
    if (rc < 0)
        fprintf (stderr, "entrelab-broker: %s\n", el_strerror (rc));
out:
    el_sync_destroy (&sync);
    el_store_destroy (&store);
    el_keypair_destroy (&kp);
    return rc;
}

static int
s_admin (const el_config_t *cfg, const s_flags_t *flags)
{
    bool revoke = flags->revoke != NULL;
    const char *arg = revoke ? flags->revoke : flags->admit;
    uint8_t site[EL_KEY_BYTES];
    const char *why = NULL;
    int rc = el_keytext_resolve (arg, site, NULL, &why);
    if (rc < 0) {
        fprintf (stderr, "entrelab-broker: --%s: '%s' is not a site key: %s\n",
                 revoke ? "revoke" : "admit", arg, why ? why : el_strerror (rc));
        return 2;
    }
    if (!revoke && (!flags->name || !flags->name[0])) {
        fprintf (stderr, "entrelab-broker: --admit needs --name NAME\n");
        return 2;
    }
    if (mkdir (cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "entrelab-broker: %s: %s\n", cfg->state_dir, strerror (errno));
        return 1;
    }
    uint64_t seq = 0;
    int lock_fd = -1;
    rc = el_node_lock_state (cfg->state_dir, &lock_fd);
    if (rc == -EBUSY)
        rc = s_admin_online (cfg, site, flags->name, revoke, &seq);
    else if (rc == 0) {
        rc = s_admin_offline (cfg, site, flags->name, revoke, &seq);
        close (lock_fd);
    } else {
        fprintf (stderr, "entrelab-broker: lock: %s\n", strerror (-rc));
    }
    if (rc < 0)
        return 1;
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, text);
    printf ("%s %s seq=%" PRIu64 "\n", revoke ? "revoked" : "admitted", text, seq);
    return 0;
}

int
main (int argc, char **argv)
{
    el_config_t cfg;
    s_flags_t flags = { 0 };
    int rc = el_daemon_start ("entrelab-broker", s_usage, argc, argv, &cfg, &flags.d, s_extra,
                              &flags);
    if (rc != EL_DAEMON_GO)
        return rc;
    bool admin = flags.admit || flags.revoke || flags.d.print_id;
    if (admin) {
        if (!cfg.state_dir[0]) {
            fprintf (stderr, "entrelab-broker: --state-dir DIR is required\n");
            return 2;
        }
        /* a broker's listen endpoint is not needed to admit */
        if (cfg.listen_n == 0)
            el_config_set (&cfg, "listen", "tcp://127.0.0.1:0", NULL, 0);
    }
    char err[EL_CONFIG_ERR_MAX] = "";
    rc = el_config_finish (&cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "entrelab-broker: %s\n", err);
        return 2;
    }
    if (flags.d.print_id) {
        if (mkdir (cfg.state_dir, 0700) != 0 && errno != EEXIST) {
            fprintf (stderr, "entrelab-broker: %s: %s\n", cfg.state_dir, strerror (errno));
            return 1;
        }
        return el_daemon_print_id ("entrelab-broker", cfg.key_file);
    }
    if (flags.admit && flags.revoke) {
        fprintf (stderr, "entrelab-broker: --admit and --revoke are exclusive\n");
        return 2;
    }
    if (flags.admit || flags.revoke)
        return s_admin (&cfg, &flags);
    static const el_role_ops_t *const roles[] = { &el_site_role, &el_hub_role, &el_http_role };
    return el_daemon_run (&cfg, EL_CONFIG_NEEDS_LISTEN, "broker", roles,
                          sizeof roles / sizeof roles[0]);
}
