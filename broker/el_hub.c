/* el_hub.c — see el_hub.h. */
#include "el_hub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "el_admit.h"
#include "el_federation.h"
#include "el_invite.h"
#include "el_join.h"
#include "el_log.h"
#include "el_node.h"

#define S_ENDPOINT_MAX 1024

typedef struct {
    el_node_t *node;
    el_store_t *store;
    el_sync_t *sync;
    const el_keypair_t *kp;
    const el_config_t *cfg;
    el_join_t *join;            /* the join listener, once an invite bound it */
    el_federation_t *fed;       /* links with other networks */
} s_hub_t;

static void
s_text (el_control_t *ctl, El__ControlReply *reply, const char *text)
{
    reply->text = el_control_strdup (ctl, text);
}

/* ------------------------------------------------------------ endpoints */

/* @p ep with a wildcard host (0.0.0.0, *, [::]) replaced by this host's name,
 * and its port moved by @p port_delta. @return 0, EL_EINVAL. */
static int
s_endpoint_public (const char *ep, int port_delta, char out[S_ENDPOINT_MAX])
{
    const char *scheme = strstr (ep, "://");
    const char *colon = strrchr (ep, ':');
    if (!scheme || !colon || colon < scheme + 3)
        return EL_EINVAL;
    const char *host = scheme + 3;
    size_t host_len = (size_t) (colon - host);
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port < 0 || port + port_delta > 65535 || port + port_delta < 1)
        return EL_EINVAL;
    char hostname[256];
    if ((host_len == 1 && host[0] == '*') || (host_len == 7 && !strncmp (host, "0.0.0.0", 7))
        || (host_len == 4 && !strncmp (host, "[::]", 4))) {
        if (gethostname (hostname, sizeof hostname) != 0)
            snprintf (hostname, sizeof hostname, "localhost");
        hostname[sizeof hostname - 1] = '\0';
    } else {
        if (host_len >= sizeof hostname)
            return EL_EINVAL;
        memcpy (hostname, host, host_len);
        hostname[host_len] = '\0';
    }
    int w = snprintf (out, S_ENDPOINT_MAX, "%.*s%s:%ld", (int) (host - ep), ep, hostname,
                      port + port_delta);
    return w < 0 || w >= S_ENDPOINT_MAX ? EL_EINVAL : 0;
}

/* Start (or keep) the join listener on @p bind. */
static int
s_join_start (s_hub_t *self, const char *bind, char *err, size_t err_size)
{
    if (self->join)
        return 0;
    int rc = el_join_new (bind, self->kp, self->cfg->control, &self->join);
    if (rc < 0) {
        snprintf (err, err_size, "cannot bind the join endpoint %s: %s", bind, strerror (-rc));
        el_log (EL_LOG_ERROR, "join_bind_failed", "endpoint=%s reason=%s", bind, strerror (-rc));
        return rc;
    }
    el_log (EL_LOG_INFO, "join_listening", "endpoint=%s", el_join_endpoint (self->join));
    return 0;
}

/* ------------------------------------------------------------ control */

static int
s_ctl_invite (s_hub_t *self, el_control_t *ctl, const El__InviteRequest *req,
              El__ControlReply *reply)
{
    char err[300] = "", bind[S_ENDPOINT_MAX], join_ep[S_ENDPOINT_MAX], sync_ep[S_ENDPOINT_MAX];
    const el_config_t *cfg = self->cfg;
    if ((req->name && strlen (req->name) > EL_SITE_NAME_MAX) || req->ttl_us < 0
        || req->ttl_us > EL_INVITE_TTL_MAX_US) {
        s_text (ctl, reply, "bad invite: name over 200 bytes or validity over 90 days");
        return EL_EINVAL;
    }
    /* where the join endpoint binds: asked, kept, or listen[0] port + 1 */
    void *kept = NULL;
    size_t kept_len = 0;
    if (req->join_listen && req->join_listen[0])
        snprintf (bind, sizeof bind, "%s", req->join_listen);
    else if (el_store_meta_get (self->store, EL_INVITE_META_JOIN, &kept, &kept_len) == 0
             && kept_len < sizeof bind) {
        memcpy (bind, kept, kept_len);
        bind[kept_len] = '\0';
    } else if (cfg->listen_n == 0
               || s_endpoint_public (cfg->listen[0], 1, bind) < 0) {
        free (kept);
        s_text (ctl, reply, "no join endpoint: give --join-listen ENDPOINT");
        return EL_EINVAL;
    } else if (!strncmp (cfg->listen[0], "tcp://0.0.0.0:", 14) || !strncmp (cfg->listen[0],
                                                                             "tcp://*:", 8)) {
        /* keep the wildcard for binding */
        const char *colon = strrchr (bind, ':');
        snprintf (bind, sizeof bind, "tcp://0.0.0.0%s", colon);
    }
    free (kept);
    if (self->join && strcmp (el_join_endpoint (self->join), bind)
        && req->join_listen && req->join_listen[0]) {
        el_join_destroy (&self->join);  /* moved by the coordinator */
    }
    int rc = s_join_start (self, bind, err, sizeof err);
    if (rc < 0) {
        s_text (ctl, reply, err);
        return rc;
    }
    if (req->join_listen && req->join_listen[0])
        (void) el_store_meta_put (self->store, EL_INVITE_META_JOIN, req->join_listen,
                                  strlen (req->join_listen));
    else if (el_store_meta_get (self->store, EL_INVITE_META_JOIN, &kept, &kept_len) != 0)
        (void) el_store_meta_put (self->store, EL_INVITE_META_JOIN, bind, strlen (bind));
    else
        free (kept);
    if (req->join_endpoint && req->join_endpoint[0])
        snprintf (join_ep, sizeof join_ep, "%s", req->join_endpoint);
    else if (s_endpoint_public (el_join_endpoint (self->join), 0, join_ep) < 0)
        snprintf (join_ep, sizeof join_ep, "%s", el_join_endpoint (self->join));
    if (req->sync_endpoint && req->sync_endpoint[0])
        snprintf (sync_ep, sizeof sync_ep, "%s", req->sync_endpoint);
    else if (cfg->listen_n == 0 || s_endpoint_public (cfg->listen[0], 0, sync_ep) < 0) {
        s_text (ctl, reply, "no sync endpoint to give: pass --endpoint ENDPOINT");
        return EL_EINVAL;
    }
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    int64_t expires = 0;
    rc = el_invite_create (self->store, el_now_us (), req->ttl_us, req->name,
                           req->kind ? req->kind : EL__SITE_KIND__PERIPHERAL, sync_ep, secret,
                           &expires);
    if (rc < 0)
        return rc;
    El__InviteToken t = EL__INVITE_TOKEN__INIT;
    t.version = 1;
    t.join_endpoint = join_ep;
    t.broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) self->kp->pk };
    t.secret = (ProtobufCBinaryData) { EL_INVITE_SECRET_BYTES, secret };
    t.expires_us = expires;
    t.name = req->name ? req->name : "";
    char *token = NULL;
    rc = el_token_encode (&t, &token);
    sodium_memzero (secret, sizeof secret);
    if (rc < 0)
        return rc;
    El__InviteReply *ir = el_control_alloc (ctl, sizeof *ir);
    char *tok = el_control_strdup (ctl, token);
    char *je = el_control_strdup (ctl, join_ep);
    char *jl = el_control_strdup (ctl, el_join_endpoint (self->join));
    sodium_memzero (token, strlen (token));
    free (token);
    if (!ir || !tok || !je || !jl)
        return -ENOMEM;
    el__invite_reply__init (ir);
    ir->token = tok;
    ir->expires_us = expires;
    ir->join_endpoint = je;
    ir->join_listen = jl;
    reply->r_case = EL__CONTROL_REPLY__R_INVITE;
    reply->invite = ir;
    char q[128];
    el_log (EL_LOG_INFO, "invite_created", "name=%s expires_us=%" PRId64 " join=%s",
            el_log_quote (req->name && req->name[0] ? req->name : "-", q, sizeof q), expires,
            join_ep);
    return 0;
}

static int
s_ctl_redeem (s_hub_t *self, el_control_t *ctl, const El__RedeemRequest *req,
              El__ControlReply *reply)
{
    if (req->secret.len != EL_INVITE_SECRET_BYTES || req->site_key.len != EL_KEY_BYTES)
        return EL_EINVAL;
    char err[200] = "", *sync_ep = NULL, *name = NULL, f[EL_LOG_FPR_BYTES];
    uint64_t seq = 0;
    el_invite_refusal_t why = EL_INVITE_UNKNOWN;
    int rc = el_invite_redeem (self->store, self->sync, self->kp, el_now_us (),
                               req->secret.data, req->site_key.data, req->name, req->timezone,
                               &seq, &sync_ep, &name, &why, err, sizeof err);
    if (rc < 0) {
        el_log (EL_LOG_WARN, "invite_refused", "site=%s reason=%s",
                el_log_fpr (req->site_key.data, f),
                why == EL_INVITE_FAILED ? el_strcode (rc) : el_invite_refusal_name (why));
        if (err[0])
            s_text (ctl, reply, err);
        return rc;
    }
    El__RedeemReply *rr = el_control_alloc (ctl, sizeof *rr);
    char *se = el_control_strdup (ctl, sync_ep), *nm = el_control_strdup (ctl, name);
    free (sync_ep);
    free (name);
    if (!rr || !se || !nm)
        return -ENOMEM;
    el__redeem_reply__init (rr);
    rr->seq = seq;
    rr->sync_endpoint = se;
    rr->name = nm;
    reply->r_case = EL__CONTROL_REPLY__R_REDEEM;
    reply->redeem = rr;
    el_log (EL_LOG_INFO, "invite_redeemed", "site=%s seq=%" PRIu64,
            el_log_fpr (req->site_key.data, f), seq);
    return 0;
}


static int
s_ctl_admit (void *state, el_control_t *ctl, const El__ControlRequest *req,
             El__ControlReply *reply)
{
    s_hub_t *self = state;
    uint8_t site[EL_KEY_BYTES];
    uint64_t seq = 0;
    int rc;
    char f[EL_LOG_FPR_BYTES];
    if (req->r_case == EL__CONTROL_REQUEST__R_ADMIT) {
        const El__AdmitRequest *a = req->admit;
        if (el_key_from_field (&a->site_key, site) < 0)
            return EL_EINVAL;
        rc = el_admit_write (self->sync, self->kp, site, a->site, a->name && a->name[0]
                             ? a->name : NULL, a->kind, EL__SITE_STATUS__ACTIVE, &seq);
        if (rc == 0)
            el_log (EL_LOG_INFO, "admit", "site=%s seq=%" PRIu64, el_log_fpr (site, f), seq);
    } else {
        if (el_key_from_field (&req->revoke->site_key, site) < 0)
            return EL_EINVAL;
        rc = el_admit_revoke (self->sync, self->store, self->kp, site, &seq);
        if (rc == 0)
            el_log (EL_LOG_INFO, "revoke", "site=%s seq=%" PRIu64, el_log_fpr (site, f), seq);
    }
    if (rc < 0)
        return rc;
    El__AdmitReply *ar = el_control_alloc (ctl, sizeof *ar);
    if (!ar)
        return -ENOMEM;
    el__admit_reply__init (ar);
    ar->seq = seq;
    reply->r_case = EL__CONTROL_REPLY__R_ADMIT;
    reply->admit = ar;
    return 0;
}

static int
s_route_invite (void *state, el_control_t *ctl, const El__ControlRequest *req,
                El__ControlReply *reply)
{
    return s_ctl_invite (state, ctl, req->invite, reply);
}

static int
s_route_redeem (void *state, el_control_t *ctl, const El__ControlRequest *req,
                El__ControlReply *reply)
{
    return s_ctl_redeem (state, ctl, req->redeem, reply);
}

static int
s_route_federate (void *state, el_control_t *ctl, const El__ControlRequest *req,
                  El__ControlReply *reply)
{
    return el_federation_federate (((s_hub_t *) state)->fed, ctl, req->federate, reply);
}

static int
s_route_federation (void *state, el_control_t *ctl, const El__ControlRequest *req,
                    El__ControlReply *reply)
{
    (void) req;
    return el_federation_list (((s_hub_t *) state)->fed, ctl, reply);
}

static const el_route_t s_routes[] = {
    { EL__CONTROL_REQUEST__R_FEDERATE, s_route_federate },
    { EL__CONTROL_REQUEST__R_FEDERATION, s_route_federation },
    { EL__CONTROL_REQUEST__R_ADMIT, s_ctl_admit },
    { EL__CONTROL_REQUEST__R_REVOKE, s_ctl_admit },
    { EL__CONTROL_REQUEST__R_INVITE, s_route_invite },
    { EL__CONTROL_REQUEST__R_REDEEM, s_route_redeem },
};

/* ------------------------------------------------------------ status */

static bool
s_has_inbound_row (const El__StatusReply *st, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < st->n_peers; i++)
        if (st->peers[i]->key.len == EL_KEY_BYTES && !st->peers[i]->outbound
            && !memcmp (st->peers[i]->key.data, key, EL_KEY_BYTES))
            return true;
    return false;
}

typedef struct {
    el_control_t *ctl;
    El__StatusReply *st;
    size_t cap;
    int rc;
} s_status_sites_t;

static int
s_status_site (void *arg, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status,
               El__SiteKind kind, const char *name)
{
    (void) name;
    if (kind == EL__SITE_KIND__FEDERATED)
        return 0;                       /* another network's broker: federation list */
    s_status_sites_t *ss = arg;
    if (status != EL__SITE_STATUS__ACTIVE || s_has_inbound_row (ss->st, site))
        return 0;
    if (ss->st->n_peers >= ss->cap)
        return 1;                       /* bounded: the rest are not listed */
    El__PeerStatus *p = el_node_status_offline (ss->ctl, site);
    if (!p) {
        ss->rc = -ENOMEM;
        return 1;
    }
    p->down_reason = (char *) "never connected";
    ss->st->peers[ss->st->n_peers++] = p;
    return 0;
}

/* The admitted sites never seen since the broker started. */
static int
s_status (void *state, el_control_t *ctl, El__StatusReply *st)
{
    s_hub_t *self = state;
    size_t cap = st->n_peers + EL_NODE_LINKS_MAX;
    El__PeerStatus **peers = el_control_alloc (ctl, cap * sizeof *peers);
    if (!peers)
        return -ENOMEM;
    if (st->n_peers)
        memcpy (peers, st->peers, st->n_peers * sizeof *peers);
    st->peers = peers;
    s_status_sites_t ss = { ctl, st, cap, 0 };
    int rc = el_attest_each (self->store, el_node_network (self->node), s_status_site, &ss);
    return rc < 0 ? rc : ss.rc;
}

/* ------------------------------------------------------------ life */

static int
s_network (const el_config_t *cfg, const el_keypair_t *kp, uint8_t ret[EL_KEY_BYTES])
{
    (void) cfg;
    memcpy (ret, kp->pk, EL_KEY_BYTES);        /* the network is the broker's key */
    return 0;
}

static int
s_start (el_node_t *node, void **ret_state)
{
    s_hub_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->node = node;
    self->store = el_node_store (node);
    self->sync = el_node_sync (node);
    self->kp = el_node_keypair (node);
    self->cfg = el_node_config (node);
    el_node_set_admission (node, true, 0);     /* the broker attests itself */
    int rc = el_federation_new (node, &self->fed);
    if (rc < 0) {
        free (self);
        return rc;
    }
    void *val = NULL;
    size_t len = 0;
    if (el_store_meta_get (self->store, EL_INVITE_META_JOIN, &val, &len) == 0) {
        char bind[S_ENDPOINT_MAX], err[300];
        if (len < sizeof bind) {
            memcpy (bind, val, len);
            bind[len] = '\0';
            (void) s_join_start (self, bind, err, sizeof err);
        }
        free (val);
    }
    *ret_state = self;
    return 0;
}

static void
s_stop (void **state_p)
{
    s_hub_t *self = *state_p;
    if (!self)
        return;
    el_join_destroy (&self->join);
    el_federation_destroy (&self->fed);
    free (self);
    *state_p = NULL;
}

/* Every site the broker attested may connect; the ones attested before this
 * start are listed in status with what the peers db remembers. */
static void
s_on_site (void *state, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status, bool at_start,
           int64_t signed_us)
{
    s_hub_t *self = state;
    (void) signed_us;
    if (status != EL__SITE_STATUS__ACTIVE)
        return;
    (void) el_node_zap_allow (self->node, site);
    if (at_start)
        el_node_remember_peer (self->node, site);
}

const el_role_ops_t el_hub_role = {
    .name = "hub",
    .network = s_network,
    .start = s_start,
    .stop = s_stop,
    .on_site = s_on_site,
    .routes = s_routes,
    .routes_n = sizeof s_routes / sizeof s_routes[0],
    .status = s_status,
};
