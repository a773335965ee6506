/* el_federation.c — see el_federation.h. */
#include "el_federation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el_attest.h"
#include "el_log.h"
#include "el_share.h"

#define S_META_LINKS   EL_FEDERATION_META_PREFIX "links"   /* el.FederationReply */

typedef struct {
    uint8_t key[EL_KEY_BYTES];          /* the other network's id */
    char endpoint[EL_CONFIG_PATH_MAX];  /* "" = it connects to us */
    char name[EL_SITE_NAME_MAX + 1];
    uint32_t share, accept;             /* bits (1u << kind) */
    int64_t since_us;
} s_link_t;

struct el_federation {
    el_node_t *node;
    s_link_t links[EL_FEDERATION_LINKS_MAX];
    size_t n;
    el_share_link_t policy[EL_FEDERATION_LINKS_MAX];   /* the links as the policies see them */
    el_share_federation_t view;
};

static s_link_t *
s_find (el_federation_t *self, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < self->n; i++)
        if (!memcmp (self->links[i].key, key, EL_KEY_BYTES))
            return &self->links[i];
    return NULL;
}

/* ------------------------------------------------------------ policies */

/* The sync's policies: the federation's while a link exists (asked about
 * every kind only for the other networks' peers: entries on their way to our
 * own sites are parsed only where the sharing level may hold them back), else
 * the default. */
static void
s_policy_install (el_federation_t *self)
{
    el_sync_policy_t p = { .share = el_share_by_level, .share_kinds = EL_SHARE_BY_LEVEL_KINDS };
    memcpy (self->view.own, el_node_network (self->node), EL_KEY_BYTES);
    for (size_t i = 0; i < self->n; i++) {
        memcpy (self->policy[i].network, self->links[i].key, EL_KEY_BYTES);
        self->policy[i].share = self->links[i].share;
        self->policy[i].accept = self->links[i].accept;
    }
    self->view.links = self->policy;
    self->view.n = self->n;
    if (self->n) {
        p = (el_sync_policy_t) { .share = el_share_federated, .share_arg = &self->view,
                                 .share_kinds = EL_SHARE_BY_LEVEL_KINDS,
                                 .share_kinds_foreign = EL_SHARE_KINDS_ALL,
                                 .accept = el_accept_federated, .accept_arg = &self->view,
                                 .relay = el_relay_federated, .relay_arg = &self->view };
    }
    el_sync_set_policy (el_node_sync (self->node), &p);
}

/* ------------------------------------------------------------ storage */

static char **
s_kind_list (uint32_t bits, size_t *ret_n)
{
    char **names = calloc (EL_SHARE_KIND_NAMES, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; names && i < EL_SHARE_KIND_NAMES; i++) {
        uint32_t b;
        const char *name = el_share_kind_name (i, &b);
        if ((bits & b) == b)
            names[n++] = (char *) name;
    }
    *ret_n = n;
    return names;
}

static uint32_t
s_kind_bits (char *const *names, size_t n, uint32_t if_none)
{
    uint32_t bits = 0, b;
    for (size_t i = 0; i < n; i++)
        if (el_share_kind_parse (names[i], &b) == 0)
            bits |= b;
    return n ? bits | (1u << EL__KIND__SITE) : if_none;
}

/* Fill @p pb from @p l; the kind name arrays are malloc'd (s_pb_clear). */
static int
s_pb_fill (const s_link_t *l, El__FederationLink *pb)
{
    el__federation_link__init (pb);
    pb->broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) l->key };
    pb->endpoint = (char *) l->endpoint;
    pb->name = (char *) l->name;
    pb->share = s_kind_list (l->share, &pb->n_share);
    pb->accept = s_kind_list (l->accept, &pb->n_accept);
    pb->since_us = l->since_us;
    return pb->share && pb->accept ? 0 : -ENOMEM;
}

static void
s_pb_clear (El__FederationLink *pb)
{
    free (pb->share);
    free (pb->accept);
}

static int
s_save (el_federation_t *self)
{
    El__FederationLink pbs[EL_FEDERATION_LINKS_MAX], *ptrs[EL_FEDERATION_LINKS_MAX];
    int rc = 0;
    for (size_t i = 0; i < self->n; i++) {
        ptrs[i] = &pbs[i];
        if (s_pb_fill (&self->links[i], &pbs[i]) < 0)
            rc = -ENOMEM;
    }
    El__FederationReply all = EL__FEDERATION_REPLY__INIT;
    all.links = ptrs;
    all.n_links = self->n;
    size_t len = el__federation_reply__get_packed_size (&all);
    uint8_t *buf = rc == 0 ? malloc (len ? len : 1) : NULL;
    if (buf) {
        el__federation_reply__pack (&all, buf);
        rc = el_store_meta_put (el_node_store (self->node), S_META_LINKS, buf, len);
    } else if (rc == 0) {
        rc = -ENOMEM;
    }
    free (buf);
    for (size_t i = 0; i < self->n; i++)
        s_pb_clear (&pbs[i]);
    return rc;
}

static void
s_load (el_federation_t *self)
{
    void *val = NULL;
    size_t len = 0;
    if (el_store_meta_get (el_node_store (self->node), S_META_LINKS, &val, &len) != 0)
        return;
    El__FederationReply *all = el__federation_reply__unpack (&el_pb_allocator, len, val);
    free (val);
    for (size_t i = 0; all && i < all->n_links && self->n < EL_FEDERATION_LINKS_MAX; i++) {
        const El__FederationLink *pb = all->links[i];
        s_link_t *l = &self->links[self->n];
        if (el_key_from_field (&pb->broker_key, l->key) < 0)
            continue;
        snprintf (l->endpoint, sizeof l->endpoint, "%s", pb->endpoint ? pb->endpoint : "");
        snprintf (l->name, sizeof l->name, "%s", pb->name ? pb->name : "");
        l->share = s_kind_bits (pb->share, pb->n_share, EL_SHARE_KINDS_DEFAULT);
        l->accept = s_kind_bits (pb->accept, pb->n_accept, EL_SHARE_KINDS_DEFAULT);
        l->since_us = pb->since_us;
        self->n++;
    }
    if (all)
        el__federation_reply__free_unpacked (all, &el_pb_allocator);
}

/* ------------------------------------------------------------ links */

/* Our Site record for the other network's broker: tells our sites (and
 * ourselves) to accept its network, or to stop. */
static int
s_attest (el_federation_t *self, const s_link_t *l, El__SiteStatus status)
{
    char text[EL_KEY_TEXT_BYTES], key[sizeof EL_ATTEST_FEDERATION_PREFIX + EL_KEY_TEXT_BYTES];
    el_key_to_text (l->key, text);
    snprintf (key, sizeof key, "%s%s", EL_ATTEST_FEDERATION_PREFIX, text);
    El__Site site = EL__SITE__INIT;
    site.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) l->key };
    site.name = (char *) l->name;
    site.kind = EL__SITE_KIND__FEDERATED;
    site.status = status;
    site.endpoint = (char *) l->endpoint;
    size_t len = el__site__get_packed_size (&site);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__site__pack (&site, buf);
    el_record_t rec = { EL__KIND__SITE, key, false, buf, len };
    int rc = el_sync_write (el_node_sync (self->node), el_node_keypair (self->node), &rec, 1,
                            NULL);
    free (buf);
    return rc;
}

/* Trust the link's broker: ZAP, accepted network, connection. */
static int
s_apply (el_federation_t *self, const s_link_t *l)
{
    int rc = el_node_zap_allow (self->node, l->key);
    if (rc == 0)
        rc = el_sync_accept_network (el_node_sync (self->node), l->key);
    if (rc == 0 && l->endpoint[0])
        rc = el_node_peer_connect (self->node, l->key, l->endpoint);
    return rc;
}

int
el_federation_new (el_node_t *node, el_federation_t **ret)
{
    el_federation_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->node = node;
    s_load (self);
    char f[EL_LOG_FPR_BYTES];
    for (size_t i = 0; i < self->n; i++) {
        int rc = s_apply (self, &self->links[i]);
        if (rc < 0)
            el_log (EL_LOG_ERROR, "federation_failed", "network=%s reason=%s",
                    el_log_fpr (self->links[i].key, f), el_strcode (rc));
    }
    s_policy_install (self);
    *ret = self;
    return 0;
}

void
el_federation_destroy (el_federation_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/* ------------------------------------------------------------ control */

static int
s_text (el_control_t *ctl, El__ControlReply *reply, int rc, const char *text)
{
    reply->text = el_control_strdup (ctl, text);
    return rc;
}

static int
s_unfederate (el_federation_t *self, el_control_t *ctl, const uint8_t key[EL_KEY_BYTES],
              El__ControlReply *reply)
{
    s_link_t *l = s_find (self, key);
    if (!l)
        return s_text (ctl, reply, EL_EINVAL, "no federation link with that broker");
    int rc = s_attest (self, l, EL__SITE_STATUS__REVOKED);
    if (rc < 0)
        return rc;
    el_node_peer_drop (self->node, key);
    el_sync_forget_network (el_node_sync (self->node), key);
    *l = self->links[--self->n];
    s_policy_install (self);
    char f[EL_LOG_FPR_BYTES];
    el_log (EL_LOG_WARN, "unfederated", "network=%s", el_log_fpr (key, f));
    return s_save (self);
}

int
el_federation_federate (el_federation_t *self, el_control_t *ctl, const El__FederateRequest *req,
                        El__ControlReply *reply)
{
    uint8_t key[EL_KEY_BYTES];
    uint32_t share = 0, accept = 0, b;
    if (el_key_from_field (&req->broker_key, key) < 0)
        return s_text (ctl, reply, EL_EINVAL, "the other broker's key must be 32 bytes");
    if (!memcmp (key, el_node_network (self->node), EL_KEY_BYTES))
        return s_text (ctl, reply, EL_EINVAL, "that is our own network");
    if (req->remove)
        return s_unfederate (self, ctl, key, reply);
    for (size_t i = 0; i < req->n_share + req->n_accept; i++) {
        const char *name = i < req->n_share ? req->share[i] : req->accept[i - req->n_share];
        if (el_share_kind_parse (name, &b) < 0)
            return s_text (ctl, reply, EL_EINVAL, "unknown kind: kinds are events, equipment, "
                                                  "bookings, members, sites");
        *(i < req->n_share ? &share : &accept) |= b;
    }
    if ((req->endpoint && strlen (req->endpoint) >= EL_CONFIG_PATH_MAX)
        || (req->endpoint && req->endpoint[0] && !strstr (req->endpoint, "://"))
        || (req->name && strlen (req->name) > EL_SITE_NAME_MAX))
        return s_text (ctl, reply, EL_EINVAL, "bad endpoint or name (over 200 bytes)");
    s_link_t *l = s_find (self, key);
    bool fresh = !l;
    if (fresh && self->n >= EL_FEDERATION_LINKS_MAX)
        return s_text (ctl, reply, EL_EINVAL, "too many federation links");
    if (fresh) {
        l = &self->links[self->n++];
        memset (l, 0, sizeof *l);
        memcpy (l->key, key, EL_KEY_BYTES);
        l->since_us = el_now_us ();
    }
    snprintf (l->endpoint, sizeof l->endpoint, "%s", req->endpoint ? req->endpoint : "");
    if (req->name && req->name[0])
        snprintf (l->name, sizeof l->name, "%s", req->name);
    l->share = req->n_share ? share | (1u << EL__KIND__SITE) : EL_SHARE_KINDS_DEFAULT;
    l->accept = req->n_accept ? accept | (1u << EL__KIND__SITE) : EL_SHARE_KINDS_DEFAULT;
    int rc = s_apply (self, l);
    if (rc == 0)
        rc = s_attest (self, l, EL__SITE_STATUS__ACTIVE);
    if (rc == 0)
        rc = s_save (self);
    s_policy_install (self);
    char f[EL_LOG_FPR_BYTES];
    el_log (rc == 0 ? EL_LOG_INFO : EL_LOG_ERROR, fresh ? "federated" : "federation_changed",
            "network=%s endpoint=%s%s%s", el_log_fpr (key, f), l->endpoint[0] ? l->endpoint : "-",
            rc ? " reason=" : "", rc ? el_strcode (rc) : "");
    if (rc < 0)
        return rc;
    return el_federation_list (self, ctl, reply);
}

/* What the link's sessions refused, by reason. @return 0, -ENOMEM. */
static int
s_list_reasons (el_control_t *ctl, const el_sync_peer_info_t *info, El__FederationLink *pb)
{
    El__FederationLink__RefusedByReasonEntry **rs =
        el_control_alloc (ctl, EL_ERROR_SLOTS * sizeof *rs);
    if (!rs)
        return -ENOMEM;
    size_t n = 0;
    for (unsigned i = 0; i < EL_ERROR_SLOTS; i++) {
        if (!info->rejected_by_reason[i])
            continue;
        El__FederationLink__RefusedByReasonEntry *e = el_control_alloc (ctl, sizeof *e);
        if (!e)
            return -ENOMEM;
        el__federation_link__refused_by_reason_entry__init (e);
        e->key = (char *) (i ? el_strcode (el_error_of_slot (i)) : "other");
        e->value = info->rejected_by_reason[i];
        rs[n++] = e;
    }
    pb->refused_by_reason = rs;
    pb->n_refused_by_reason = n;
    return 0;
}

/* What the link's broker lacks of each of our origins (at most 256 rows).
 * @return 0, -ENOMEM, store errors. */
static int
s_list_behind (el_federation_t *self, el_control_t *ctl, const s_link_t *l,
               El__FederationLink *pb)
{
    el_head_t *heads = NULL;
    size_t nh = 0;
    int rc = el_store_heads (el_node_store (self->node), &heads, &nh);
    if (rc < 0)
        return rc;
    size_t cap = nh < 256 ? nh : 256, n = 0;
    El__OriginBehind **ob = el_control_alloc (ctl, (cap ? cap : 1) * sizeof *ob);
    for (size_t h = 0; ob && h < nh && n < cap; h++) {
        uint64_t b = el_node_peer_behind (self->node, l->key, heads[h].origin);
        if (!b)
            continue;
        El__OriginBehind *o = el_control_alloc (ctl, sizeof *o);
        uint8_t *key = el_control_alloc (ctl, EL_KEY_BYTES);
        if (!o || !key) {
            ob = NULL;
            break;
        }
        el__origin_behind__init (o);
        memcpy (key, heads[h].origin, EL_KEY_BYTES);
        o->origin = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
        o->behind = b;
        ob[n++] = o;
    }
    free (heads);
    if (!ob)
        return -ENOMEM;
    pb->behind_by_origin = ob;
    pb->n_behind_by_origin = n;
    return 0;
}

int
el_federation_list (el_federation_t *self, el_control_t *ctl, El__ControlReply *reply)
{
    El__FederationReply *fr = el_control_alloc (ctl, sizeof *fr);
    El__FederationLink **links = el_control_alloc (ctl, (self->n + 1) * sizeof *links);
    if (!fr || !links)
        return -ENOMEM;
    el__federation_reply__init (fr);
    for (size_t i = 0; i < self->n; i++) {
        const s_link_t *l = &self->links[i];
        El__FederationLink *pb = el_control_alloc (ctl, sizeof *pb);
        char **share = el_control_alloc (ctl, EL_SHARE_KIND_NAMES * sizeof *share);
        char **accept = el_control_alloc (ctl, EL_SHARE_KIND_NAMES * sizeof *accept);
        uint8_t *key = el_control_alloc (ctl, EL_KEY_BYTES);
        if (!pb || !share || !accept || !key)
            return -ENOMEM;
        El__FederationLink tmp;
        if (s_pb_fill (l, &tmp) < 0)
            return -ENOMEM;
        *pb = tmp;
        memcpy (share, tmp.share, tmp.n_share * sizeof *share);
        memcpy (accept, tmp.accept, tmp.n_accept * sizeof *accept);
        s_pb_clear (&tmp);
        memcpy (key, l->key, EL_KEY_BYTES);
        pb->broker_key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
        pb->endpoint = el_control_strdup (ctl, l->endpoint);
        pb->name = el_control_strdup (ctl, l->name);
        pb->share = share;
        pb->accept = accept;
        el_sync_peer_info_t info;
        bool connected = false;
        if (el_node_peer_info (self->node, l->key, &info, &connected) == 0) {
            pb->entries_sent = info.entries_sent;
            pb->entries_received = info.entries_received;
            pb->behind = info.behind;
            pb->refused = info.refused;
            if (s_list_reasons (ctl, &info, pb) < 0)
                return -ENOMEM;
        }
        if (s_list_behind (self, ctl, l, pb) < 0)
            return -ENOMEM;
        pb->connected = connected;
        links[i] = pb;
    }
    fr->links = links;
    fr->n_links = self->n;
    reply->r_case = EL__CONTROL_REPLY__R_FEDERATION;
    reply->federation = fr;
    return 0;
}
