/* el_sync.c — the replication state machine, without I/O (see el_sync.h).
 *
 * State, per sync:
 *   - an origin table: every origin the store holds, with our cached head
 *     (seq, hash, status), interned to a small index;
 *   - per peer session: what the peer is known to have per origin (`known`,
 *     indexed like the origin table), the credit each side granted, and two
 *     FIFO queues of origins that may need sending (network authorities
 *     first). An origin is queued for a peer when our head moves past what
 *     the peer has, so pumping costs nothing for origins that did not change;
 *   - an outbox of serialized frames (el.Msg), bounded;
 *   - routing over loops: a site counts its sessions with its network's
 *     broker (its hub). While it has one, and a peer says it has one too
 *     (Hello.hub, Hub messages), it sends that peer only its own entries:
 *     both get the rest from the hub, and a direct link between two sites
 *     no longer doubles everything they receive. A site without a hub
 *     session, or a peer without one, or a broker, sends everything lacking.
 *
 * Entries are read from the store and forwarded as the exact stored bytes.
 * Pumping is lazy: receive/write/apply only queue origins; el_sync_next_out()
 * fills Entries messages when its outbox is empty, so whatever arrived in
 * one poll cycle is forwarded together. */
#include "el_sync.h"
#include "el_record.h"
#include "el_wire.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define S_PUMP_LIMIT   (EL_SYNC_OUTBOX_MAX / 2) /* frames: pumping stops here, control frames go on */
#define S_PUMP_BYTES   (64u << 20)              /* bytes queued: pumping stops here too */
#define S_FRAME_BUDGET (EL_FRAME_MAX - 64)      /* bytes of entries per Entries frame */
#define S_ENTRY_OVERHEAD 6                      /* bytes: tag + length varint per entry */
/* bytes: the largest Hello we send or accept (a Head: origin, seq, hash and
 * their tags, in its tag and length; a network: tag, length, key), plus its
 * fixed fields and the Msg around it */
#define S_HELLO_BYTES_MAX (EL_SYNC_HELLO_HEADS_MAX * (4 + 2 + EL_KEY_BYTES + 1 + 10 + 2 \
                                                     + EL_HASH_BYTES) \
                           + EL_SYNC_HELLO_NETS_MAX * (2 + EL_KEY_BYTES) \
                           + EL_SYNC_HELLO_KINDS_MAX * 10 + 1024)
_Static_assert (S_HELLO_BYTES_MAX <= EL_FRAME_MAX, "a full Hello must fit in one frame");
_Static_assert (2 * (EL_ENTRY_MAX + S_ENTRY_OVERHEAD) <= S_FRAME_BUDGET,
                "an Entries frame must hold two of the largest entries");
#define S_CREDIT_MAX   ((uint64_t) 1 << 40)     /* entries: saturation of a peer's grants */
#define S_ENDED        1                        /* a frame handler's result: the session
                                                   ended (see s_session_end) */

/* per (peer, origin) flags */
#define S_QUEUED      0x01    /* in one of the peer's queues */
#define S_PROOF_SENT  0x02    /* fork proof of this origin sent in this session */

typedef struct {
    uint8_t origin[EL_KEY_BYTES];
    uint64_t seq;                       /* our head: last contiguous seq */
    uint8_t hash[EL_HASH_BYTES];
    el_head_status_t status;
    uint64_t touched;                   /* stamp: dedupes origins within one apply */
} s_origin_t;

/* A head announced by a peer for an origin we did not hold at its Hello. */
typedef struct {
    uint8_t origin[EL_KEY_BYTES];
    uint64_t seq;
} s_far_head_t;

typedef struct {
    uint32_t *v;
    size_t head, len, cap;              /* live items: v[head..len) */
} s_queue_t;

typedef struct s_frame {
    struct s_frame *next;
    uint64_t peer;
    uint8_t *data;
    size_t len;
} s_frame_t;

typedef struct {
    uint64_t handle;
    bool hello_received;
    int ended;                          /* 0, or the code that ended the session */
    bool ended_by_peer;                 /* ... an Error the peer sent */
    bool ended_by_store;                /* ... our store failing to apply its entries */
    bool active;                        /* in self->active */
    uint8_t id[EL_KEY_BYTES];
    uint8_t network[EL_KEY_BYTES];
    El__Kind *kinds;                    /* kinds it accepts; none = all */
    size_t n_kinds;
    uint64_t credit_to_send;            /* entries we may still send it */
    uint64_t credit_to_receive;         /* entries it may still send us */
    uint64_t entries_sent, entries_received;
    uint64_t refused;                   /* entries refused by the accept policy */
    uint64_t behind_hello;              /* entries it lacked by its Hello */
    uint64_t rejected_by_reason[EL_ERROR_SLOTS]; /* its entries the store refused */
    uint64_t *known;                    /* per origin index: seq it has */
    uint8_t *flags;                     /* per origin index: S_QUEUED, S_PROOF_SENT */
    size_t known_cap;
    s_far_head_t *far;                  /* sorted by origin */
    size_t n_far;
    s_queue_t q_authority, q_other;
    El__HubLink hub;                    /* what it said of its hub session */
    El__HubLink hub_said;               /* what we last told it of ours */
    bool is_hub;                        /* it is our network's broker, counted in hub_links */
} s_peer_t;

/* The Entries message being filled for one peer. */
typedef struct {
    uint8_t *buf;                       /* entry bytes, concatenated */
    size_t used, cap;
    size_t off[EL_BATCH_MAX], len[EL_BATCH_MAX];
    size_t n;
    size_t bytes;                       /* encoded size estimate */
    ProtobufCBinaryData items[EL_BATCH_MAX];
} s_batch_t;

struct el_sync {
    el_store_t *store;
    void (*write_hook) (void *arg);     /* el_sync_set_write_hook() */
    void *write_hook_arg;
    el_sync_config_t cfg;
    uint8_t networks[EL_STORE_NETWORKS_MAX][EL_KEY_BYTES]; /* accepted besides cfg.network */
    size_t n_networks;
    s_origin_t *origins;
    size_t n_origins, origins_cap;
    uint32_t *index;                    /* open addressing: origin index + 1, 0 = empty */
    size_t index_cap;                   /* power of two */
    uint64_t touch_stamp;
    s_peer_t **peers;                   /* sorted by handle */
    size_t n_peers;
    s_peer_t **active;                  /* peers with queued origins */
    size_t n_active;
    s_frame_t *out_head, *out_tail;
    size_t n_out;
    size_t out_bytes;                   /* bytes of the queued frames */
    s_batch_t *batch;
    el_sync_stats_t stats;
    el_sync_applied_fn *on_applied;
    void *on_applied_arg;
    uint32_t share_kinds_foreign;       /* kinds asked about for peers of another network;
                                           0 = as share_kinds */
    el_sync_accept_fn *accept;          /* optional: entries of peers of another network */
    void *accept_arg;
    el_sync_relay_fn *relay;            /* optional: which networks go to such peers */
    void *relay_arg;
    bool is_broker;                     /* self_id is the network id */
    size_t hub_links;                   /* sessions with our broker past their Hello */
};

/* ------------------------------------------------------------ origins */

static size_t
s_origin_hash (const uint8_t origin[EL_KEY_BYTES])
{
    uint64_t h;
    memcpy (&h, origin, sizeof h);      /* public keys: already uniform */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t) h;
}

static int
s_origin_find (const el_sync_t *self, const uint8_t origin[EL_KEY_BYTES])
{
    if (!self->index_cap)
        return -1;
    size_t mask = self->index_cap - 1;
    for (size_t i = s_origin_hash (origin) & mask;; i = (i + 1) & mask) {
        uint32_t slot = self->index[i];
        if (!slot)
            return -1;
        if (memcmp (self->origins[slot - 1].origin, origin, EL_KEY_BYTES) == 0)
            return (int) (slot - 1);
    }
}

static void
s_index_put (el_sync_t *self, uint32_t idx)
{
    size_t mask = self->index_cap - 1;
    size_t i = s_origin_hash (self->origins[idx].origin) & mask;
    while (self->index[i])
        i = (i + 1) & mask;
    self->index[i] = idx + 1;
}

static bool
s_peer_far_seq (const s_peer_t *p, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret);
static int
s_peer_known_set (s_peer_t *p, size_t idx, uint64_t seq);

/* Intern @p h as a new origin. @return its index, or -ENOMEM. */
static int
s_origin_add (el_sync_t *self, const el_head_t *h)
{
    if (self->n_origins >= INT32_MAX - 1)
        return -ENOMEM;
    if (self->n_origins == self->origins_cap) {
        size_t cap = self->origins_cap ? self->origins_cap * 2 : 64;
        s_origin_t *o = realloc (self->origins, cap * sizeof *o);
        if (!o)
            return -ENOMEM;
        self->origins = o;
        self->origins_cap = cap;
    }
    if ((self->n_origins + 1) * 2 > self->index_cap) {
        size_t cap = self->index_cap ? self->index_cap * 2 : 128;
        uint32_t *index = calloc (cap, sizeof *index);
        if (!index)
            return -ENOMEM;
        free (self->index);
        self->index = index;
        self->index_cap = cap;
        for (size_t i = 0; i < self->n_origins; i++)
            s_index_put (self, (uint32_t) i);
    }
    /* a peer may have announced this origin before we held it */
    size_t idx = self->n_origins;
    for (size_t i = 0; i < self->n_peers; i++) {
        uint64_t seq;
        if (s_peer_far_seq (self->peers[i], h->origin, &seq)
            && s_peer_known_set (self->peers[i], idx, seq) < 0)
            return -ENOMEM;
    }
    s_origin_t *o = &self->origins[idx];
    memset (o, 0, sizeof *o);
    memcpy (o->origin, h->origin, EL_KEY_BYTES);
    o->seq = h->seq;
    memcpy (o->hash, h->hash, EL_HASH_BYTES);
    o->status = h->status;
    self->n_origins++;
    s_index_put (self, (uint32_t) idx);
    return (int) idx;
}

static bool
s_is_authority (const el_sync_t *self, const uint8_t origin[EL_KEY_BYTES])
{
    if (memcmp (origin, self->cfg.network, EL_KEY_BYTES) == 0)
        return true;
    for (size_t i = 0; i < self->n_networks; i++)
        if (memcmp (origin, self->networks[i], EL_KEY_BYTES) == 0)
            return true;
    return false;
}

static bool
s_network_accepted (const el_sync_t *self, const uint8_t network[EL_KEY_BYTES])
{
    return s_is_authority (self, network);
}

/* ------------------------------------------------------------ outbox */

static int
s_out_push (el_sync_t *self, uint64_t peer, uint8_t *data, size_t len)
{
    s_frame_t *f = malloc (sizeof *f);
    if (!f) {
        free (data);
        return -ENOMEM;
    }
    f->next = NULL;
    f->peer = peer;
    f->data = data;
    f->len = len;
    if (self->out_tail)
        self->out_tail->next = f;
    else
        self->out_head = f;
    self->out_tail = f;
    self->n_out++;
    self->out_bytes += len;
    return 0;
}

static void
s_out_drop_peer (el_sync_t *self, uint64_t peer)
{
    s_frame_t **pp = &self->out_head;
    self->out_tail = NULL;
    while (*pp) {
        s_frame_t *f = *pp;
        if (f->peer == peer) {
            *pp = f->next;
            self->out_bytes -= f->len;
            free (f->data);
            free (f);
            self->n_out--;
        } else {
            self->out_tail = f;
            pp = &f->next;
        }
    }
}

/* Pack @p msg and queue it for @p peer. @return 0, EL_ETOOBIG, -ENOMEM. */
static int
s_send_msg (el_sync_t *self, uint64_t peer, const El__Msg *msg)
{
    size_t len = el__msg__get_packed_size (msg);
    if (len > EL_FRAME_MAX)
        return EL_ETOOBIG;
    uint8_t *data = malloc (len ? len : 1);
    if (!data)
        return -ENOMEM;
    el__msg__pack (msg, data);
    return s_out_push (self, peer, data, len);
}

static int
s_send_credit (el_sync_t *self, uint64_t peer, uint64_t n)
{
    El__Credit c = EL__CREDIT__INIT;
    c.entries = n;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_CREDIT;
    m.credit = &c;
    return s_send_msg (self, peer, &m);
}

static int
s_send_error (el_sync_t *self, uint64_t peer, int code)
{
    El__Error e = EL__ERROR__INIT;
    switch (code) {
    case EL_EVERSION: e.code = EL__ERROR_CODE__ERROR_VERSION; break;
    case EL_ENETWORK: e.code = EL__ERROR_CODE__ERROR_NETWORK; break;
    case EL_EREVOKED: e.code = EL__ERROR_CODE__ERROR_REVOKED; break;
    case EL_ETOOBIG: e.code = EL__ERROR_CODE__ERROR_TOO_BIG; break;
    default: e.code = EL__ERROR_CODE__ERROR_PROTOCOL; break;
    }
    e.text = (char *) el_strerror (code);
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ERROR;
    m.error = &e;
    return s_send_msg (self, peer, &m);
}

/* ------------------------------------------------------------ peers */

static size_t
s_peer_pos (const el_sync_t *self, uint64_t handle)
{
    size_t lo = 0, hi = self->n_peers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->peers[mid]->handle < handle)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static s_peer_t *
s_peer_find (const el_sync_t *self, uint64_t handle)
{
    size_t pos = s_peer_pos (self, handle);
    if (pos < self->n_peers && self->peers[pos]->handle == handle)
        return self->peers[pos];
    return NULL;
}

static void
s_peer_free (s_peer_t *p)
{
    if (!p)
        return;
    free (p->kinds);
    free (p->known);
    free (p->flags);
    free (p->far);
    free (p->q_authority.v);
    free (p->q_other.v);
    free (p);
}

static uint64_t
s_peer_known (const s_peer_t *p, size_t idx)
{
    return idx < p->known_cap ? p->known[idx] : 0;
}

static int
s_peer_reserve (s_peer_t *p, size_t idx)
{
    if (idx < p->known_cap)
        return 0;
    size_t cap = p->known_cap ? p->known_cap : 64;
    while (cap <= idx)
        cap *= 2;
    uint64_t *known = realloc (p->known, cap * sizeof *known);
    if (!known)
        return -ENOMEM;
    p->known = known;
    uint8_t *flags = realloc (p->flags, cap);
    if (!flags)
        return -ENOMEM;
    p->flags = flags;
    memset (p->known + p->known_cap, 0, (cap - p->known_cap) * sizeof *known);
    memset (p->flags + p->known_cap, 0, cap - p->known_cap);
    p->known_cap = cap;
    return 0;
}

static int
s_peer_known_set (s_peer_t *p, size_t idx, uint64_t seq)
{
    int rc = s_peer_reserve (p, idx);
    if (rc < 0)
        return rc;
    p->known[idx] = seq;
    return 0;
}

static int
s_far_cmp (const void *a, const void *b)
{
    return memcmp (((const s_far_head_t *) a)->origin, ((const s_far_head_t *) b)->origin,
                   EL_KEY_BYTES);
}

static bool
s_peer_far_seq (const s_peer_t *p, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret)
{
    if (!p->n_far)
        return false;
    s_far_head_t key;
    memcpy (key.origin, origin, EL_KEY_BYTES);
    const s_far_head_t *hit = bsearch (&key, p->far, p->n_far, sizeof key, s_far_cmp);
    if (!hit)
        return false;
    *ret = hit->seq;
    return true;
}

static bool
s_queue_empty (const s_queue_t *q)
{
    return q->head == q->len;
}

static int
s_queue_push (s_queue_t *q, uint32_t v)
{
    if (q->len == q->cap) {
        if (q->head > 0) {
            memmove (q->v, q->v + q->head, (q->len - q->head) * sizeof *q->v);
            q->len -= q->head;
            q->head = 0;
        } else {
            size_t cap = q->cap ? q->cap * 2 : 16;
            uint32_t *v = realloc (q->v, cap * sizeof *v);
            if (!v)
                return -ENOMEM;
            q->v = v;
            q->cap = cap;
        }
    }
    q->v[q->len++] = v;
    return 0;
}

static void
s_queue_pop (s_queue_t *q)
{
    if (++q->head == q->len)
        q->head = q->len = 0;
}

static int
s_peer_activate (el_sync_t *self, s_peer_t *p)
{
    if (p->active)
        return 0;
    /* n_active <= n_peers <= EL_SYNC_PEERS_MAX: the array is sized at creation */
    self->active[self->n_active++] = p;
    p->active = true;
    return 0;
}

static void
s_peer_deactivate (el_sync_t *self, s_peer_t *p)
{
    if (!p->active)
        return;
    for (size_t i = 0; i < self->n_active; i++)
        if (self->active[i] == p) {
            self->active[i] = self->active[--self->n_active];
            break;
        }
    p->active = false;
}

/* What we say of our hub session: brokers and sites without one want
 * everything they lack. */
static El__HubLink
s_hub_link (const el_sync_t *self)
{
    return !self->is_broker && self->hub_links ? EL__HUB_LINK__HUB_LINKED
                                               : EL__HUB_LINK__HUB_UNLINKED;
}

/* Do entries of origin @p idx go to @p p over this session? Our own always;
 * the rest unless both of us are sites linked to the hub, which sends them. */
static bool
s_routed (const el_sync_t *self, const s_peer_t *p, size_t idx)
{
    if (p->hub != EL__HUB_LINK__HUB_LINKED || s_hub_link (self) != EL__HUB_LINK__HUB_LINKED)
        return true;
    if (!memcmp (p->id, p->network, EL_KEY_BYTES))
        return true;                    /* a broker: it relays to everyone */
    return !memcmp (self->origins[idx].origin, self->cfg.self_id, EL_KEY_BYTES);
}

static bool
s_peer_needs (const el_sync_t *self, const s_peer_t *p, size_t idx)
{
    const s_origin_t *o = &self->origins[idx];
    if (s_peer_known (p, idx) < o->seq)
        return s_routed (self, p, idx);
    return o->status == EL_HEAD_QUARANTINED
           && !(idx < p->known_cap && (p->flags[idx] & S_PROOF_SENT));
}

/* Queue origin @p idx for @p p if it lacks something of it. */
static int
s_peer_want (el_sync_t *self, s_peer_t *p, size_t idx)
{
    if (!p->hello_received || p->ended)
        return 0;
    if (idx < p->known_cap && (p->flags[idx] & S_QUEUED))
        return 0;
    if (!s_peer_needs (self, p, idx))
        return 0;
    int rc = s_peer_reserve (p, idx);
    if (rc < 0)
        return rc;
    s_queue_t *q = s_is_authority (self, self->origins[idx].origin) ? &p->q_authority
                                                                      : &p->q_other;
    rc = s_queue_push (q, (uint32_t) idx);
    if (rc < 0)
        return rc;
    p->flags[idx] |= S_QUEUED;
    return s_peer_activate (self, p);
}

/* Our head of origin @p idx changed: queue it for every peer lacking it. */
static int
s_origin_changed (el_sync_t *self, size_t idx)
{
    int rc = 0;
    for (size_t i = 0; i < self->n_peers; i++) {
        int r = s_peer_want (self, self->peers[i], idx);
        if (r < 0)
            rc = r;
    }
    return rc;
}

/* Refresh the cached head of @p origin from the store; intern it if new.
 * @param[out] ret_idx  index, or -1 when the store holds nothing of it
 * @param[out] ret_changed  whether seq or status moved */
static int
s_origin_refresh (el_sync_t *self, const uint8_t origin[EL_KEY_BYTES], int *ret_idx,
                  bool *ret_changed)
{
    el_head_t h;
    *ret_idx = -1;
    *ret_changed = false;
    int rc = el_store_head (self->store, origin, &h);
    if (rc == EL_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    int idx = s_origin_find (self, origin);
    if (idx < 0) {
        idx = s_origin_add (self, &h);
        if (idx < 0)
            return idx;
        *ret_changed = true;
    } else {
        s_origin_t *o = &self->origins[idx];
        if (o->seq != h.seq || o->status != h.status
            || memcmp (o->hash, h.hash, EL_HASH_BYTES) != 0)
            *ret_changed = true;
        o->seq = h.seq;
        memcpy (o->hash, h.hash, EL_HASH_BYTES);
        o->status = h.status;
    }
    *ret_idx = idx;
    return 0;
}

/* Re-read every head from the store (it may have been written directly). */
static int
s_origins_reload (el_sync_t *self)
{
    el_head_t *heads = NULL;
    size_t n = 0;
    int rc = el_store_heads (self->store, &heads, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int idx = s_origin_find (self, heads[i].origin);
        bool changed = true;
        if (idx < 0) {
            idx = s_origin_add (self, &heads[i]);
            if (idx < 0) {
                rc = idx;
                break;
            }
        } else {
            s_origin_t *o = &self->origins[idx];
            changed = o->seq != heads[i].seq || o->status != heads[i].status;
            o->seq = heads[i].seq;
            memcpy (o->hash, heads[i].hash, EL_HASH_BYTES);
            o->status = heads[i].status;
        }
        if (changed)
            rc = s_origin_changed (self, (size_t) idx);
    }
    free (heads);
    return rc;
}

/* ------------------------------------------------------------ pumping */

typedef struct {
    el_sync_t *self;
    s_peer_t *peer;
    s_batch_t *b;
    size_t limit;               /* entries in the batch */
    bool filter;                /* share policy or peer kinds apply: parse entries */
    uint64_t last_seq;          /* seq of the last entry appended */
    bool full;                  /* stopped on a limit */
    int rc;
} s_read_t;

static bool
s_outbox_full (const el_sync_t *self)
{
    return self->n_out >= S_PUMP_LIMIT || self->out_bytes >= S_PUMP_BYTES;
}

static bool
s_kind_accepted (const s_peer_t *p, El__Kind kind)
{
    if (!p->n_kinds)
        return true;
    for (size_t i = 0; i < p->n_kinds; i++)
        if (p->kinds[i] == kind)
            return true;
    return false;
}

/* Is the share policy asked about entries of @p kind going to @p p? Peers of
 * another network have their own mask (federation policies look at more
 * kinds than our own sites need). */
static bool
s_share_asks (const el_sync_t *self, const s_peer_t *p, El__Kind kind)
{
    if (!self->cfg.share)
        return false;
    uint32_t mask = self->cfg.share_kinds;
    if (self->share_kinds_foreign && memcmp (p->network, self->cfg.network, EL_KEY_BYTES))
        mask = self->share_kinds_foreign;
    if (!mask)
        return true;
    return (unsigned) kind < 32 && (mask & (1u << kind));
}

static int
s_batch_append (s_batch_t *b, const uint8_t *data, size_t len)
{
    if (b->used + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->used + len)
            cap *= 2;
        uint8_t *buf = realloc (b->buf, cap);
        if (!buf)
            return -ENOMEM;
        b->buf = buf;
        b->cap = cap;
    }
    memcpy (b->buf + b->used, data, len);
    b->off[b->n] = b->used;
    b->len[b->n] = len;
    b->used += len;
    b->bytes += len + S_ENTRY_OVERHEAD;
    b->n++;
    return 0;
}

/* Does the relay policy keep entry @p data from peer @p p (of another network)? */
static bool
s_not_relayed (const el_sync_t *self, const s_peer_t *p, const uint8_t *data, size_t len)
{
    const uint8_t *net;
    if (!self->relay || !memcmp (p->network, self->cfg.network, EL_KEY_BYTES)
        || el_wire_entry_network (data, len, &net) < 0)
        return false;
    return !self->relay (self->relay_arg, p->network, net);
}

static int
s_read_cb (void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    s_read_t *r = arg;
    s_batch_t *b = r->b;
    if (b->n >= r->limit || b->bytes + len + S_ENTRY_OVERHEAD > S_FRAME_BUDGET) {
        r->full = true;
        return 1;
    }
    if (s_not_relayed (r->self, r->peer, data, len)) {
        r->last_seq = seq;              /* skipped: it gets them elsewhere, or not */
        return 0;
    }
    uint8_t *stub_data = NULL;
    size_t stub_len = 0;
    El__Kind kind = EL__KIND__KIND_UNSPECIFIED;
    bool is_stub = false;
    /* a cheap look first: only entries a filter applies to are parsed (and
     * bytes that do not even peek, so that parsing reports them) */
    if (r->filter && (el_wire_entry_kind (data, len, &kind, &is_stub) < 0
                      || (!is_stub && (!s_kind_accepted (r->peer, kind)
                                       || s_share_asks (r->self, r->peer, kind))))) {
        el_entry_t *e = NULL;
        int rc = el_entry_parse (data, len, &e);
        if (rc < 0) {
            r->rc = rc;
            return 1;
        }
        kind = e->body->kind;
        if (!e->is_stub
            && (!s_kind_accepted (r->peer, kind)
                || (s_share_asks (r->self, r->peer, kind)
                    && !r->self->cfg.share (r->self->cfg.share_arg, r->peer->handle,
                                            r->peer->network, e)))) {
            /* not shared: send its stub (signed body, no payload), so the
             * chain stays complete and checkable */
            rc = el_entry_stub_pack (e, &stub_data, &stub_len);
            if (rc < 0) {
                el_entry_destroy (&e);
                r->rc = rc;
                return 1;
            }
        }
        el_entry_destroy (&e);
    }
    int rc = stub_data ? s_batch_append (b, stub_data, stub_len) : s_batch_append (b, data, len);
    free (stub_data);
    if (rc < 0) {
        r->rc = rc;
        return 1;
    }
    r->last_seq = seq;
    return 0;
}

static int
s_batch_flush (el_sync_t *self, s_peer_t *p)
{
    s_batch_t *b = self->batch;
    if (!b->n)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        b->items[i].data = b->buf + b->off[i];
        b->items[i].len = b->len[i];
    }
    El__Entries e = EL__ENTRIES__INIT;
    e.n_entries = b->n;
    e.entries = b->items;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &e;
    int rc = s_send_msg (self, p->handle, &m);
    if (rc == 0) {
        p->credit_to_send -= b->n;
        p->entries_sent += b->n;
        self->stats.entries_out += b->n;
    }
    b->n = b->used = b->bytes = 0;
    return rc;
}

/* Append origin @p idx's entries after what @p p has. Sets *ret_done when
 * nothing more of it can go now (sent up to our head, or the store had
 * nothing more); else the batch is full. */
static int
s_pump_origin (el_sync_t *self, s_peer_t *p, size_t idx, bool *ret_done)
{
    s_batch_t *b = self->batch;
    const s_origin_t *o = &self->origins[idx];
    uint64_t after = s_peer_known (p, idx);
    s_read_t r = {
        .self = self, .peer = p, .b = b,
        .limit = (size_t) (p->credit_to_send < self->cfg.batch_max ? p->credit_to_send
                                                                   : self->cfg.batch_max),
        .filter = self->cfg.share || p->n_kinds,
        .last_seq = after,
    };
    *ret_done = false;
    size_t max = r.limit > b->n ? r.limit - b->n : 0;
    if (max > EL_STORE_PAGE_MAX)
        max = EL_STORE_PAGE_MAX;
    if (!max)
        return 0;
    int rc = el_store_entries_after (self->store, o->origin, after, max, s_read_cb, &r, NULL);
    if (rc == 0)
        rc = r.rc;
    /* what was appended goes; on an error the origin waits for its head to move */
    *ret_done = rc < 0 || r.last_seq >= o->seq || (r.last_seq == after && !r.full);
    if (r.last_seq > after) {
        int r2 = s_peer_known_set (p, idx, r.last_seq);
        if (rc == 0)
            rc = r2;
    }
    return rc;
}

/* Queue the fork proof of quarantined origin @p idx for @p p: our entry of
 * the forked seq and the conflicting one, so that p holds both. */
static int
s_pump_proof (el_sync_t *self, s_peer_t *p, size_t idx)
{
    const s_origin_t *o = &self->origins[idx];
    uint64_t seq;
    uint8_t *theirs = NULL, *ours = NULL;
    size_t theirs_len, ours_len;
    int rc = el_store_fork_get (self->store, o->origin, &seq, &theirs, &theirs_len);
    if (rc < 0)
        goto out;
    rc = el_store_entry_get (self->store, o->origin, seq, &ours, &ours_len);
    if (rc < 0)
        goto out_theirs;
    rc = s_batch_append (self->batch, ours, ours_len);
    if (rc == 0)
        rc = s_batch_append (self->batch, theirs, theirs_len);
    free (ours);
out_theirs:
    free (theirs);
out:
    p->flags[idx] |= S_PROOF_SENT;      /* also when there is no proof to send */
    return rc == EL_ENOTFOUND ? 0 : rc;
}

/* Fill Entries messages for @p p within its credit and the outbox limit. */
static void
s_pump_peer (el_sync_t *self, s_peer_t *p)
{
    s_batch_t *b = self->batch;
    if (!p->hello_received || p->ended)
        return;
    while (!s_outbox_full (self)) {
        s_queue_t *q = !s_queue_empty (&p->q_authority) ? &p->q_authority
                     : !s_queue_empty (&p->q_other)     ? &p->q_other
                                                        : NULL;
        if (!q || p->credit_to_send <= b->n)
            break;
        size_t idx = q->v[q->head];
        const s_origin_t *o = &self->origins[idx];
        bool done = true;
        int rc = 0;
        if (s_peer_known (p, idx) < o->seq && s_routed (self, p, idx)) {
            rc = s_pump_origin (self, p, idx, &done);
            if (!done && b->n == 0)
                done = true;            /* no progress possible: retried when the head moves */
        }
        if (rc == 0 && done && s_peer_known (p, idx) >= o->seq
            && o->status == EL_HEAD_QUARANTINED && !(p->flags[idx] & S_PROOF_SENT)) {
            if (p->credit_to_send - b->n < 2 || EL_BATCH_MAX - b->n < 2
                || b->bytes + 2 * (EL_ENTRY_MAX + S_ENTRY_OVERHEAD) > S_FRAME_BUDGET) {
                if (b->n == 0)
                    break;              /* wait for credit */
                done = false;
                rc = s_batch_flush (self, p);
                if (rc < 0)
                    break;
                continue;
            }
            rc = s_pump_proof (self, p, idx);
        }
        if (done) {
            s_queue_pop (q);
            p->flags[idx] &= (uint8_t) ~S_QUEUED;
        }
        size_t soft = p->credit_to_send < self->cfg.batch_max ? (size_t) p->credit_to_send
                                                              : self->cfg.batch_max;
        if (!done || b->n >= soft || b->bytes + EL_ENTRY_MAX + S_ENTRY_OVERHEAD > S_FRAME_BUDGET) {
            if (s_batch_flush (self, p) < 0)
                break;
        }
        /* a store error (rc < 0) dropped the origin until its head moves */
    }
    s_batch_flush (self, p);
}

static void
s_pump_all (el_sync_t *self)
{
    while (self->n_active && !s_outbox_full (self)) {
        s_peer_t *p = self->active[0];
        s_pump_peer (self, p);
        bool work = !s_queue_empty (&p->q_authority) || !s_queue_empty (&p->q_other);
        if (work && s_outbox_full (self))
            break;      /* stays active: resumed when the outbox drains */
        /* done, or waiting for credit (a Credit message re-activates it) */
        s_peer_deactivate (self, p);
    }
}

/* ------------------------------------------------------------ applying */

static void
s_count_status (el_sync_t *self, const int *status, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int s = status[i];
        if (s == EL_APPLIED)
            self->stats.applied++;
        else if (s == EL_DUPLICATE)
            self->stats.duplicates++;
        else {
            self->stats.rejected++;
            if (s == EL_EFORK)
                self->stats.forks++;
            self->stats.rejected_by_reason[el_error_slot (s)]++;
        }
    }
}

/* Room for the entries el_store_apply_parsed() parses (for s_after_apply
 * and the callback). @return 0, -ENOMEM. */
static int
s_parsed_new (el_sync_t *self, size_t n, el_entry_t ***ret)
{
    (void) self;
    *ret = NULL;
    if (!n)
        return 0;
    *ret = calloc (n, sizeof **ret);
    return *ret ? 0 : -ENOMEM;
}

static void
s_parsed_destroy (el_entry_t ***parsed_p, size_t n)
{
    el_entry_t **parsed = *parsed_p;
    if (!parsed)
        return;
    for (size_t i = 0; i < n; i++)
        el_entry_destroy (&parsed[i]);
    free (parsed);
    *parsed_p = NULL;
}

/* Call on_applied with the entries the store parsed (@p parsed, n slots,
 * NULL where an entry did not parse; compacted here, entries still owned by
 * the array). */
static void
s_notify (el_sync_t *self, uint64_t from_peer, el_entry_t **parsed, const int *status, size_t n)
{
    if (!self->on_applied || !parsed || !n)
        return;
    int *st = malloc (n * sizeof *st);
    if (!st)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (parsed[i]) {
            el_entry_t *e = parsed[i];
            parsed[i] = NULL;
            parsed[k] = e;
            st[k++] = status[i];
        }
    self->on_applied (self->on_applied_arg, from_peer, (const el_entry_t *const *) parsed, st, k);
    free (st);
}

/* After a committed apply: refresh the heads of the origins involved, note
 * that @p from (if any) holds what it sent, queue changed origins for every
 * peer lacking them. @p parsed (optional, n slots) gives origin and seq of
 * the entries the store parsed; the others are peeked from their bytes. */
static int
s_after_apply (el_sync_t *self, s_peer_t *from, const uint8_t *const *entries,
               const size_t *lens, el_entry_t *const *parsed, size_t n)
{
    int rc = 0;
    size_t *changed = NULL, n_changed = 0;
    if (n) {
        changed = malloc (n * sizeof *changed);
        if (!changed)
            return -ENOMEM;
    }
    uint64_t stamp = ++self->touch_stamp;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *origin;
        uint64_t seq;
        if (parsed && parsed[i]) {
            origin = parsed[i]->origin;
            seq = parsed[i]->seq;
        } else if (!el_wire_entry_peek (entries[i], lens[i], &origin, &seq)) {
            continue;
        }
        int idx = s_origin_find (self, origin);
        if (idx < 0 || self->origins[idx].touched != stamp) {
            bool moved;
            int r = s_origin_refresh (self, origin, &idx, &moved);
            if (r < 0) {
                rc = r;
                continue;
            }
            if (idx < 0)
                continue;               /* nothing of it stored */
            self->origins[idx].touched = stamp;
            if (moved)
                changed[n_changed++] = (size_t) idx;
        }
        if (from && s_peer_known (from, (size_t) idx) < seq) {
            int r = s_peer_known_set (from, (size_t) idx, seq);
            if (r < 0)
                rc = r;
        }
    }
    for (size_t i = 0; i < n_changed; i++) {
        int r = s_origin_changed (self, changed[i]);
        if (r < 0)
            rc = r;
    }
    free (changed);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

int
el_sync_new (el_store_t *store, const el_sync_config_t *cfg, el_sync_t **ret)
{
    if (!store || !cfg || !ret || !cfg->now_us || cfg->batch_max > EL_BATCH_MAX
        || cfg->credit == 1)
        return -EINVAL;
    int rc = -ENOMEM;
    el_sync_t *self = calloc (1, sizeof *self);
    if (!self)
        goto out;
    self->store = store;
    self->cfg = *cfg;
    self->is_broker = !memcmp (cfg->self_id, cfg->network, EL_KEY_BYTES);
    if (!self->cfg.credit)
        self->cfg.credit = EL_SYNC_CREDIT_DEFAULT;
    if (!self->cfg.batch_max)
        self->cfg.batch_max = EL_SYNC_BATCH_DEFAULT;
    self->batch = calloc (1, sizeof *self->batch);
    self->peers = calloc (EL_SYNC_PEERS_MAX, sizeof *self->peers);
    self->active = calloc (EL_SYNC_PEERS_MAX, sizeof *self->active);
    if (!self->batch || !self->peers || !self->active)
        goto out_destroy;
    rc = el_store_accept_network (store, cfg->network);
    if (rc < 0)
        goto out_destroy;
    rc = s_origins_reload (self);
    if (rc < 0)
        goto out_destroy;
    *ret = self;
    return 0;
out_destroy:
    el_sync_destroy (&self);
out:
    return rc;
}

void
el_sync_destroy (el_sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_sync_t *self = *self_p;
    for (size_t i = 0; i < self->n_peers; i++)
        s_peer_free (self->peers[i]);
    while (self->out_head) {
        s_frame_t *f = self->out_head;
        self->out_head = f->next;
        free (f->data);
        free (f);
    }
    if (self->batch)
        free (self->batch->buf);
    free (self->batch);
    free (self->peers);
    free (self->active);
    free (self->origins);
    free (self->index);
    free (self);
    *self_p = NULL;
}

int
el_sync_accept_network (el_sync_t *self, const uint8_t network[EL_KEY_BYTES])
{
    if (s_network_accepted (self, network))
        return 0;
    if (self->n_networks >= EL_STORE_NETWORKS_MAX)
        return EL_ETOOBIG;
    int rc = el_store_accept_network (self->store, network);
    if (rc < 0)
        return rc;
    memcpy (self->networks[self->n_networks++], network, EL_KEY_BYTES);
    return 0;
}

void
el_sync_forget_network (el_sync_t *self, const uint8_t network[EL_KEY_BYTES])
{
    for (size_t i = 0; i < self->n_networks; i++) {
        if (memcmp (self->networks[i], network, EL_KEY_BYTES)
            || !memcmp (network, self->cfg.network, EL_KEY_BYTES))
            continue;
        memmove (self->networks[i], self->networks[i + 1],
                 (self->n_networks - i - 1) * EL_KEY_BYTES);
        self->n_networks--;
        el_store_forget_network (self->store, network);
        return;
    }
}

void
el_sync_set_policy (el_sync_t *self, const el_sync_policy_t *policy)
{
    self->cfg.share = policy->share;
    self->cfg.share_arg = policy->share_arg;
    self->cfg.share_kinds = policy->share_kinds;
    self->share_kinds_foreign = policy->share_kinds_foreign;
    self->accept = policy->accept;
    self->accept_arg = policy->accept_arg;
    self->relay = policy->relay;
    self->relay_arg = policy->relay_arg;
}

void
el_sync_on_applied (el_sync_t *self, el_sync_applied_fn *fn, void *arg)
{
    self->on_applied = fn;
    self->on_applied_arg = arg;
}

/* ------------------------------------------------------------ sessions */

/* Our heads as El__Head, pointing into the origin table: two malloc'd
 * arrays the caller frees (*ret_heads, *ret_ps). @return 0, -ENOMEM. */
static int
s_heads_build (const el_sync_t *self, El__Head **ret_heads, El__Head ***ret_ps)
{
    El__Head *heads = calloc (self->n_origins ? self->n_origins : 1, sizeof *heads);
    El__Head **head_ps = calloc (self->n_origins ? self->n_origins : 1, sizeof *head_ps);
    *ret_heads = heads;
    *ret_ps = head_ps;
    if (!heads || !head_ps)
        return -ENOMEM;
    for (size_t i = 0; i < self->n_origins; i++) {
        El__Head h = EL__HEAD__INIT;
        h.origin.data = (uint8_t *) self->origins[i].origin;
        h.origin.len = EL_KEY_BYTES;
        h.seq = self->origins[i].seq;
        h.hash.data = (uint8_t *) self->origins[i].hash;
        h.hash.len = EL_HASH_BYTES;
        heads[i] = h;
        head_ps[i] = &heads[i];
    }
    return 0;
}

static int
s_send_hello (el_sync_t *self, s_peer_t *p)
{
    El__Head *heads, **head_ps;
    ProtobufCBinaryData nets[EL_STORE_NETWORKS_MAX];
    int rc = s_heads_build (self, &heads, &head_ps);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < self->n_networks; i++) {
        nets[i].data = self->networks[i];
        nets[i].len = EL_KEY_BYTES;
    }
    El__Hello hello = EL__HELLO__INIT;
    hello.version = EL_PROTOCOL_VERSION;
    hello.sender.data = self->cfg.self_id;
    hello.sender.len = EL_KEY_BYTES;
    hello.network.data = self->cfg.network;
    hello.network.len = EL_KEY_BYTES;
    hello.n_heads = self->n_origins;
    hello.heads = head_ps;
    hello.credit = self->cfg.credit;
    hello.n_networks = self->n_networks;
    hello.networks = nets;
    hello.hub = p->hub_said = s_hub_link (self);
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &hello;
    rc = s_send_msg (self, p->handle, &m);
    if (rc == 0)
        p->credit_to_receive = self->cfg.credit;
out:
    free (heads);
    free (head_ps);
    return rc;
}

/* Tell @p p how we are linked to our hub, if it understands and was told
 * otherwise (our Hello went before our hub's). @return 0, EL_ETOOBIG, -ENOMEM. */
static int
s_hub_tell (el_sync_t *self, s_peer_t *p, const El__Msg *m)
{
    if (!p->hello_received || p->ended || p->hub == EL__HUB_LINK__HUB_UNSPECIFIED
        || p->hub_said == m->hub->link)
        return 0;
    int rc = s_send_msg (self, p->handle, m);
    if (rc == 0)
        p->hub_said = m->hub->link;
    return rc;
}

/* Tell the peers that said how they are linked that our hub link changed;
 * when we lost it, send every peer all it lacks from now on. Also a Hub
 * message for @p p alone when its Hello comes (@p p NULL: every peer). */
static int
s_hub_announce (el_sync_t *self, s_peer_t *only)
{
    El__Hub hub = EL__HUB__INIT;
    hub.link = s_hub_link (self);
    El__Head *heads = NULL, **head_ps = NULL;
    int rc = 0;
    if (hub.link == EL__HUB_LINK__HUB_UNLINKED) {
        rc = s_heads_build (self, &heads, &head_ps);
        hub.n_heads = self->n_origins;
        hub.heads = head_ps;
    }
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HUB;
    m.hub = &hub;
    if (only)
        rc = s_hub_tell (self, only, &m);
    for (size_t i = 0; !only && rc == 0 && i < self->n_peers; i++) {
        s_peer_t *p = self->peers[i];
        rc = s_hub_tell (self, p, &m);
        for (size_t idx = 0; rc == 0 && hub.link == EL__HUB_LINK__HUB_UNLINKED
                             && idx < self->n_origins; idx++)
            rc = s_peer_want (self, p, idx);
    }
    free (heads);
    free (head_ps);
    return rc;
}

/* A session with our broker starts (@p delta 1) or ends (-1). */
static int
s_hub_count (el_sync_t *self, s_peer_t *p, int delta)
{
    p->is_hub = delta > 0;
    El__HubLink was = s_hub_link (self);
    self->hub_links = delta > 0 ? self->hub_links + 1 : self->hub_links - 1;
    return s_hub_link (self) != was ? s_hub_announce (self, NULL) : 0;
}

/* The session with @p p ends here: it no longer links us to the hub. */
static void
s_hub_leave (el_sync_t *self, s_peer_t *p)
{
    if (p->is_hub)
        s_hub_count (self, p, -1);      /* best effort: announcing needs memory */
}

int
el_sync_peer_open (el_sync_t *self, uint64_t peer)
{
    size_t pos = s_peer_pos (self, peer);
    if (pos < self->n_peers && self->peers[pos]->handle == peer)
        return -EEXIST;
    if (self->n_peers >= EL_SYNC_PEERS_MAX)
        return EL_ETOOBIG;
    /* the store may have been written without us (imports): start from its heads */
    int rc = s_origins_reload (self);
    if (rc < 0)
        return rc;
    s_peer_t *p = calloc (1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->handle = peer;
    rc = s_send_hello (self, p);
    if (rc < 0) {
        s_peer_free (p);
        return rc;
    }
    memmove (self->peers + pos + 1, self->peers + pos, (self->n_peers - pos) * sizeof *self->peers);
    self->peers[pos] = p;
    self->n_peers++;
    return 0;
}

void
el_sync_peer_close (el_sync_t *self, uint64_t peer)
{
    size_t pos = s_peer_pos (self, peer);
    if (pos >= self->n_peers || self->peers[pos]->handle != peer)
        return;
    s_peer_t *p = self->peers[pos];
    s_peer_deactivate (self, p);
    memmove (self->peers + pos, self->peers + pos + 1,
             (self->n_peers - pos - 1) * sizeof *self->peers);
    self->n_peers--;
    s_out_drop_peer (self, peer);
    s_hub_leave (self, p);
    self->stats.sessions_ended++;
    s_peer_free (p);
}

/* End the session with @p p for reason @p code: queue an Error for it
 * (unless @p from_peer: it told us) and remember the reason.
 * @return S_ENDED, which the frame handlers return at once, up to
 * el_sync_receive(): no callback runs in between, so @p p is still there
 * for it to read the reason from. */
static int
s_session_end (el_sync_t *self, s_peer_t *p, int code, bool from_peer)
{
    if (!from_peer)
        s_send_error (self, p->handle, code);   /* best effort: we end anyway */
    p->ended = code;
    p->ended_by_peer = from_peer;
    s_peer_deactivate (self, p);
    s_hub_leave (self, p);
    self->stats.ended_by_reason[el_error_slot (code)]++;
    if (!from_peer && !p->ended_by_store) {
        self->stats.frames_refused++;
        self->stats.frames_refused_by_reason[el_error_slot (code)]++;
    }
    return S_ENDED;
}

/* el_sync_receive()'s result for a session that ended, now or before. */
static int
s_ended (const s_peer_t *p, el_sync_end_t *ret_end)
{
    ret_end->session = EL_SYNC_END;
    ret_end->reason = p->ended;
    ret_end->by_peer = p->ended_by_peer;
    ret_end->by_store = p->ended_by_store;
    return 0;
}

/* Does our entry @p seq of origin @p idx have hash @p hash? */
static bool
s_same_entry (el_sync_t *self, size_t idx, uint64_t seq, const uint8_t *hash)
{
    const s_origin_t *o = &self->origins[idx];
    if (seq == o->seq)
        return memcmp (o->hash, hash, EL_HASH_BYTES) == 0;
    uint8_t *data = NULL;
    size_t len;
    el_entry_t *e = NULL;
    bool same = true;                   /* unreadable: do not claim a fork */
    if (el_store_entry_get (self->store, o->origin, seq, &data, &len) == 0
        && el_entry_parse (data, len, &e) == 0)
        same = memcmp (e->hash, hash, EL_HASH_BYTES) == 0;
    el_entry_destroy (&e);
    free (data);
    return same;
}

/* Does a peer's head (@p seq, @p hash) of origin @p idx agree with our log?
 * false when we hold that seq with another hash: a fork. */
static bool
s_head_agrees (el_sync_t *self, size_t idx, uint64_t seq, const uint8_t *hash)
{
    return seq == 0 || seq > self->origins[idx].seq || s_same_entry (self, idx, seq, hash);
}

static int
s_on_hello (el_sync_t *self, s_peer_t *p, const El__Hello *h)
{
    if (p->hello_received)
        return s_session_end (self, p, EL_EPROTO, false);
    if (h->version != EL_PROTOCOL_VERSION)
        return s_session_end (self, p, EL_EVERSION, false);
    if (h->sender.len != EL_KEY_BYTES || h->network.len != EL_KEY_BYTES)
        return s_session_end (self, p, EL_EPROTO, false);
    for (size_t i = 0; i < h->n_networks; i++)
        if (h->networks[i].len != EL_KEY_BYTES)
            return s_session_end (self, p, EL_EPROTO, false);
    for (size_t i = 0; i < h->n_heads; i++)
        if (h->heads[i]->origin.len != EL_KEY_BYTES || h->heads[i]->hash.len != EL_HASH_BYTES)
            return s_session_end (self, p, EL_EPROTO, false);
    if (!s_network_accepted (self, h->network.data))
        return s_session_end (self, p, EL_ENETWORK, false);
    int sender = s_origin_find (self, h->sender.data);
    if (sender >= 0 && self->origins[sender].status == EL_HEAD_REVOKED)
        return s_session_end (self, p, EL_EREVOKED, false);

    memcpy (p->id, h->sender.data, EL_KEY_BYTES);
    memcpy (p->network, h->network.data, EL_KEY_BYTES);
    p->hub = h->hub == EL__HUB_LINK__HUB_LINKED || h->hub == EL__HUB_LINK__HUB_UNLINKED
             ? h->hub : EL__HUB_LINK__HUB_UNSPECIFIED;
    if (h->n_kinds) {
        p->kinds = malloc (h->n_kinds * sizeof *p->kinds);
        if (!p->kinds)
            return -ENOMEM;
        memcpy (p->kinds, h->kinds, h->n_kinds * sizeof *p->kinds);
        p->n_kinds = h->n_kinds;
    }
    p->credit_to_send = h->credit < S_CREDIT_MAX ? h->credit : S_CREDIT_MAX;
    int rc = s_peer_reserve (p, self->n_origins ? self->n_origins - 1 : 0);
    if (rc < 0)
        return rc;
    size_t n_far = 0;
    for (size_t i = 0; i < h->n_heads; i++)
        if (s_origin_find (self, h->heads[i]->origin.data) < 0)
            n_far++;
    if (n_far) {
        p->far = malloc (n_far * sizeof *p->far);
        if (!p->far)
            return -ENOMEM;
    }
    for (size_t i = 0; i < h->n_heads; i++) {
        const El__Head *head = h->heads[i];
        int idx = s_origin_find (self, head->origin.data);
        if (idx < 0) {
            memcpy (p->far[p->n_far].origin, head->origin.data, EL_KEY_BYTES);
            p->far[p->n_far++].seq = head->seq;
            continue;
        }
        uint64_t seq = head->seq;
        /* a different entry at a seq we hold is a fork: send ours from there */
        if (!s_head_agrees (self, (size_t) idx, seq, head->hash.data))
            seq--;
        p->known[idx] = seq;
    }
    if (p->n_far)
        qsort (p->far, p->n_far, sizeof *p->far, s_far_cmp);
    p->hello_received = true;
    if (!self->is_broker && !memcmp (p->id, self->cfg.network, EL_KEY_BYTES)
        && !memcmp (p->network, self->cfg.network, EL_KEY_BYTES))
        rc = s_hub_count (self, p, 1);
    if (rc == 0 && p->hub_said != s_hub_link (self))
        rc = s_hub_announce (self, p);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < self->n_origins; i++)
        if (p->known[i] < self->origins[i].seq)
            p->behind_hello += self->origins[i].seq - p->known[i];
    for (size_t i = 0; i < self->n_origins; i++) {
        rc = s_peer_want (self, p, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A Hub message: @p p's link to its hub changed. Unlinked, it says what it
 * holds: what we knew it had only grows (a head we hold with another hash is
 * left as it was), and it is sent from there whatever it lacks. */
static int
s_on_hub (el_sync_t *self, s_peer_t *p, const El__Hub *m)
{
    if (!p->hello_received
        || (m->link != EL__HUB_LINK__HUB_LINKED && m->link != EL__HUB_LINK__HUB_UNLINKED))
        return s_session_end (self, p, EL_EPROTO, false);
    for (size_t i = 0; i < m->n_heads; i++)
        if (m->heads[i]->origin.len != EL_KEY_BYTES || m->heads[i]->hash.len != EL_HASH_BYTES)
            return s_session_end (self, p, EL_EPROTO, false);
    p->hub = m->link;
    self->stats.hub_changes++;
    if (m->link == EL__HUB_LINK__HUB_LINKED)
        return 0;                       /* queued origins are skipped as they come */
    for (size_t i = 0; i < m->n_heads; i++) {
        const El__Head *head = m->heads[i];
        int idx = s_origin_find (self, head->origin.data);
        if (idx < 0 || head->seq <= s_peer_known (p, (size_t) idx))
            continue;                   /* an origin new to us starts from 0 (as for a Hello) */
        if (!s_head_agrees (self, (size_t) idx, head->seq, head->hash.data))
            continue;
        int rc = s_peer_known_set (p, (size_t) idx, head->seq);
        if (rc < 0)
            return rc;
    }
    for (size_t idx = 0; idx < self->n_origins; idx++) {
        int rc = s_peer_want (self, p, idx);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Keep, in place, the entries of a peer of another network that the accept
 * policy takes; count the others under their reason. @return how many kept. */
static size_t
s_accept_filter (el_sync_t *self, s_peer_t *p, const uint8_t **entries, size_t *lens, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int why = self->accept (self->accept_arg, p->handle, p->network, entries[i], lens[i]);
        if (why < 0) {
            self->stats.rejected++;
            self->stats.rejected_by_reason[el_error_slot (why)]++;
            p->rejected_by_reason[el_error_slot (why)]++;
            p->refused++;
            continue;
        }
        entries[kept] = entries[i];
        lens[kept++] = lens[i];
    }
    return kept;
}

/* An Entries frame's @p n entries (borrowed; from el_wire_entries_peek() or the
 * decoded message). */
static int
s_on_entries (el_sync_t *self, s_peer_t *p, const uint8_t **entries, size_t *lens, size_t n)
{
    if (!p->hello_received)
        return s_session_end (self, p, EL_EPROTO, false);
    if (n > EL_BATCH_MAX)
        return s_session_end (self, p, EL_EPROTO, false);
    if (n > p->credit_to_receive)
        return s_session_end (self, p, EL_ECREDIT, false);
    if (!n)
        return 0;
    size_t n_all = n;
    if (self->accept && memcmp (p->network, self->cfg.network, EL_KEY_BYTES))
        n = s_accept_filter (self, p, entries, lens, n);
    int rc = -ENOMEM;
    el_entry_t **parsed = NULL;
    int *status = calloc (n ? n : 1, sizeof *status);
    if (!status || s_parsed_new (self, n, &parsed) != 0)
        goto out;                       /* frame not consumed */
    p->credit_to_receive -= n_all;
    p->entries_received += n_all;
    self->stats.entries_in += n_all;
    rc = n ? el_store_apply_parsed (self->store, entries, lens, n, status, NULL, parsed) : 0;
    if (rc < 0) {
        /* nothing of the frame is stored, yet the peer counts it as delivered: only
         * a new session (its Hello carries our heads) has it sent again */
        p->ended_by_store = true;
        rc = s_session_end (self, p, rc, false);
        goto out;
    }
    p->credit_to_receive += n_all;
    s_count_status (self, status, n);
    for (size_t i = 0; i < n; i++)
        if (status[i] != EL_APPLIED && status[i] != EL_DUPLICATE)
            p->rejected_by_reason[el_error_slot (status[i])]++;
    int rc_credit = s_send_credit (self, p->handle, n_all);
    rc = n ? s_after_apply (self, p, entries, lens, parsed, n) : 0;
    if (rc == 0)
        rc = rc_credit;
    /* last: the callback may close this peer or write */
    if (n)
        s_notify (self, p->handle, parsed, status, n);
out:
    s_parsed_destroy (&parsed, n);
    free (status);
    return rc;
}

/* An Entries frame read by el_wire_entries_peek(): no decoding, no copies. */
static int
s_on_entries_frame (el_sync_t *self, s_peer_t *p, const uint8_t *frame, size_t len, size_t n)
{
    const uint8_t **entries = malloc (n * sizeof *entries);
    size_t *lens = malloc (n * sizeof *lens);
    int rc = -ENOMEM;                   /* frame not consumed */
    if (entries && lens)
        rc = el_wire_entries_peek (frame, len, EL_BATCH_MAX, entries, lens) == n
           ? s_on_entries (self, p, entries, lens, n) : -EINVAL;   /* same bytes: cannot differ */
    free (entries);
    free (lens);
    return rc;
}

/* An Entries message decoded by protobuf-c. */
static int
s_on_entries_msg (el_sync_t *self, s_peer_t *p, const El__Entries *m)
{
    size_t n = m->n_entries;
    if (n == 0 || n > EL_BATCH_MAX)
        return s_on_entries (self, p, NULL, NULL, n);
    const uint8_t **entries = malloc (n * sizeof *entries);
    size_t *lens = malloc (n * sizeof *lens);
    int rc = -ENOMEM;                   /* frame not consumed */
    if (entries && lens) {
        for (size_t i = 0; i < n; i++) {
            entries[i] = m->entries[i].data;
            lens[i] = m->entries[i].len;
        }
        rc = s_on_entries (self, p, entries, lens, n);
    }
    free (entries);
    free (lens);
    return rc;
}

/* Can protobuf-c unpack this frame without allocating in proportion to a
 * count the peer declares? Counts the repeated fields of a Hello and of an
 * Entries message on the wire first (a Hello of a million empty heads is a
 * 2 MB frame that would unpack into a million sub-messages).
 * @return 0, EL_ETOOBIG (a Hello over a limit), EL_EPROTO (not well-formed,
 *         or an Entries message over EL_BATCH_MAX as s_on_entries says). */
static int
s_frame_bounded (const uint8_t *frame, size_t len)
{
    const uint8_t *p = frame, *end = frame + len, *data;
    uint32_t field;
    unsigned type;
    uint64_t v;
    if (!el_wire_next (&p, end, &field, &type, &data, &v))
        return EL_EPROTO;
    if (type != EL_WIRE_LEN || p != end)
        return 0;       /* several fields or another form: protobuf-c decides */
    const uint8_t *q = data, *qend = data + v;
    if (field == EL_WIRE_MSG_ENTRIES) {
        size_t n = el_wire_count (q, qend, EL_WIRE_ENTRIES_ENTRY, EL_BATCH_MAX + 1);
        return n == SIZE_MAX || n > EL_BATCH_MAX ? EL_EPROTO : 0;   /* as s_on_entries */
    }
    if (field == EL_WIRE_MSG_HUB) {
        size_t n = el_wire_count (q, qend, EL_WIRE_HUB_HEADS, EL_SYNC_HELLO_HEADS_MAX + 1);
        return n == SIZE_MAX ? EL_EPROTO : n > EL_SYNC_HELLO_HEADS_MAX ? EL_ETOOBIG : 0;
    }
    if (field != EL_WIRE_MSG_HELLO)
        return 0;
    size_t heads = 0, kinds = 0, nets = 0;
    while (q < qend) {
        const uint8_t *d;
        if (!el_wire_next (&q, qend, &field, &type, &d, &v))
            return EL_EPROTO;
        if (field == EL_WIRE_HELLO_HEADS)
            heads++;
        else if (field == EL_WIRE_HELLO_NETWORKS)
            nets++;
        else if (field == EL_WIRE_HELLO_KINDS)
            kinds += type == EL_WIRE_LEN ? (size_t) v : 1;  /* packed: at least 1 byte each */
        if (heads > EL_SYNC_HELLO_HEADS_MAX || nets > EL_SYNC_HELLO_NETS_MAX
            || kinds > EL_SYNC_HELLO_KINDS_MAX)
            return EL_ETOOBIG;
    }
    return 0;
}

/* el_sync_receive() but for its result: a frame handler's (0, S_ENDED or a
 * negative code). */
static int
s_receive (el_sync_t *self, s_peer_t *p, const uint8_t *frame, size_t len)
{
    self->stats.frames_in++;
    if (len > EL_FRAME_MAX)
        return s_session_end (self, p, EL_ETOOBIG, false);
    if (!frame && len)
        return s_session_end (self, p, EL_EPROTO, false);
    size_t n_peek = len ? el_wire_entries_peek (frame, len, EL_BATCH_MAX, NULL, NULL) : 0;
    if (n_peek)
        return s_on_entries_frame (self, p, frame, len, n_peek);
    int bounded = len ? s_frame_bounded (frame, len) : 0;
    if (bounded < 0)
        return s_session_end (self, p, bounded, false);
    El__Msg *msg = el__msg__unpack (&el_pb_allocator, len, frame);
    if (!msg)
        return s_session_end (self, p, EL_EPROTO, false);
    int rc;
    switch (msg->m_case) {
    case EL__MSG__M_HELLO:
        rc = s_on_hello (self, p, msg->hello);
        break;
    case EL__MSG__M_ENTRIES:
        rc = s_on_entries_msg (self, p, msg->entries);
        break;
    case EL__MSG__M_CREDIT:
        if (!p->hello_received) {
            rc = s_session_end (self, p, EL_EPROTO, false);
            break;
        }
        p->credit_to_send += msg->credit->entries < S_CREDIT_MAX ? msg->credit->entries
                                                                 : S_CREDIT_MAX;
        if (p->credit_to_send > S_CREDIT_MAX)
            p->credit_to_send = S_CREDIT_MAX;
        rc = 0;
        if (!s_queue_empty (&p->q_authority) || !s_queue_empty (&p->q_other))
            rc = s_peer_activate (self, p);
        break;
    case EL__MSG__M_HUB:
        rc = s_on_hub (self, p, msg->hub);
        break;
    case EL__MSG__M_ERROR:
        switch (msg->error->code) {
        case EL__ERROR_CODE__ERROR_VERSION: rc = EL_EVERSION; break;
        case EL__ERROR_CODE__ERROR_NETWORK: rc = EL_ENETWORK; break;
        case EL__ERROR_CODE__ERROR_REVOKED: rc = EL_EREVOKED; break;
        case EL__ERROR_CODE__ERROR_TOO_BIG: rc = EL_ETOOBIG; break;
        default: rc = EL_EPROTO; break;
        }
        rc = s_session_end (self, p, rc, true);
        break;
    default:
        rc = s_session_end (self, p, EL_EPROTO, false);
        break;
    }
    el__msg__free_unpacked (msg, &el_pb_allocator);
    return rc;
}

int
el_sync_receive (el_sync_t *self, uint64_t peer, const uint8_t *frame, size_t len,
                 el_sync_end_t *ret_end)
{
    if (!ret_end)
        return -EINVAL;
    *ret_end = (el_sync_end_t) { .session = EL_SYNC_CONTINUE };
    s_peer_t *p = s_peer_find (self, peer);
    if (!p)
        return -ENOENT;
    if (p->ended)
        return s_ended (p, ret_end);
    if (self->n_out >= EL_SYNC_OUTBOX_MAX)
        return -ENOBUFS;
    int rc = s_receive (self, p, frame, len);
    return rc == S_ENDED ? s_ended (p, ret_end) : rc;
}

/* ------------------------------------------------------------ local writes */

int
el_sync_apply (el_sync_t *self, const uint8_t *const *entries, const size_t *lens, size_t n,
               int *status, el_apply_stats_t *stats)
{
    int rc = -ENOMEM;
    el_entry_t **parsed = NULL;
    int *st = status ? status : malloc ((n ? n : 1) * sizeof *st);
    if (!st || s_parsed_new (self, n, &parsed) != 0)
        goto out;
    rc = el_store_apply_parsed (self->store, entries, lens, n, st, stats, parsed);
    if (rc == 0) {
        s_count_status (self, st, n);
        rc = s_after_apply (self, NULL, entries, lens, parsed, n);
        s_notify (self, 0, parsed, st, n);
    }
out:
    s_parsed_destroy (&parsed, n);
    if (!status)
        free (st);
    return rc;
}

int
el_sync_sign (const el_keypair_t *kp, const el_record_t *records, size_t n, uint64_t seq,
              uint8_t prev[EL_HASH_BYTES], const uint8_t network[EL_KEY_BYTES],
              int64_t time_us, uint8_t **data, size_t *lens)
{
    for (size_t i = 0; i < n; i++) {
        el_entry_fields_t f = {
            .seq = seq + 1 + i,
            .time_us = time_us,
            .kind = records[i].kind,
            .key = records[i].key,
            .deleted = records[i].deleted,
            .payload = records[i].payload,
            .payload_len = records[i].payload_len,
        };
        memcpy (f.prev, prev, EL_HASH_BYTES);
        memcpy (f.network, network, EL_KEY_BYTES);
        int rc = el_entry_build (kp, &f, &data[i], &lens[i], prev);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
el_sync_write_check (el_sync_t *self, const el_keypair_t *kp, const el_record_t *records,
                     size_t n, el_head_t *ret_head)
{
    if (!kp || !records || n == 0 || memcmp (kp->pk, self->cfg.self_id, EL_KEY_BYTES) != 0)
        return EL_EINVAL;
    if (n > EL_SYNC_WRITE_MAX)
        return EL_ETOOBIG;
    int rc = el_store_head (self->store, kp->pk, ret_head);
    if (rc == EL_ENOTFOUND) {
        memset (ret_head, 0, sizeof *ret_head);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    if (ret_head->status == EL_HEAD_QUARANTINED)
        return EL_EQUARANTINE;
    if (ret_head->status == EL_HEAD_REVOKED)
        return EL_EREVOKED;
    /* all or nothing: a record the store would refuse must not leave the
     * records before it written (the ones after it would be gaps) */
    for (size_t i = 0; i < n; i++)
        if (!records[i].deleted) {
            rc = el_record_payload_check (records[i].kind, records[i].payload,
                                         records[i].payload_len);
            if (rc < 0)
                return rc;
        }
    return 0;
}

int
el_sync_write_signed (el_sync_t *self, uint8_t *const *data, const size_t *lens, size_t n,
                      uint64_t *ret_seq)
{
    int rc = -ENOMEM;
    el_entry_t **parsed = NULL;
    int *status = calloc (n ? n : 1, sizeof *status);
    if (!status || s_parsed_new (self, n, &parsed) != 0)
        goto out;
    rc = el_store_apply_parsed (self->store, (const uint8_t *const *) data, lens, n, status,
                                NULL, parsed);
    if (rc < 0)
        goto out;
    s_count_status (self, status, n);
    rc = s_after_apply (self, NULL, (const uint8_t *const *) data, lens, parsed, n);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (status[i] < 0)
            rc = status[i];
    if (rc == 0 && ret_seq && n)
        *ret_seq = parsed[n - 1] ? parsed[n - 1]->seq : 0;
    s_notify (self, 0, parsed, status, n);
out:
    s_parsed_destroy (&parsed, n);
    free (status);
    return rc;
}

void
el_sync_set_write_hook (el_sync_t *self, void (*fn) (void *arg), void *arg)
{
    self->write_hook = fn;
    self->write_hook_arg = arg;
}

int
el_sync_write (el_sync_t *self, const el_keypair_t *kp, const el_record_t *records, size_t n,
               uint64_t *ret_seq)
{
    if (self->write_hook)
        self->write_hook (self->write_hook_arg);
    el_head_t head;
    int rc = el_sync_write_check (self, kp, records, n, &head);
    if (rc < 0)
        return rc;
    rc = -ENOMEM;
    uint8_t **data = calloc (n, sizeof *data);
    size_t *lens = calloc (n, sizeof *lens);
    if (!data || !lens)
        goto out;
    uint8_t prev[EL_HASH_BYTES];
    memcpy (prev, head.hash, EL_HASH_BYTES);
    rc = el_sync_sign (kp, records, n, head.seq, prev, self->cfg.network,
                       self->cfg.now_us (self->cfg.now_arg), data, lens);
    if (rc < 0)
        goto out;
    rc = el_sync_write_signed (self, data, lens, n, NULL);
    if (rc == 0 && ret_seq)
        *ret_seq = head.seq + n;
out:
    if (data)
        for (size_t i = 0; i < n; i++)
            free (data[i]);
    free (data);
    free (lens);
    return rc;
}

void
el_sync_trim (el_sync_t *self)
{
    s_batch_t *b = self ? self->batch : NULL;
    if (!b || b->n)
        return;
    free (b->buf);
    b->buf = NULL;
    b->used = b->cap = b->bytes = 0;
}

/* ------------------------------------------------------------ output, status */

int
el_sync_next_out (el_sync_t *self, uint64_t *ret_peer, uint8_t **ret_frame, size_t *ret_len)
{
    if (!self->out_head)
        s_pump_all (self);
    s_frame_t *f = self->out_head;
    if (!f)
        return 0;
    self->out_head = f->next;
    if (!self->out_head)
        self->out_tail = NULL;
    self->n_out--;
    self->out_bytes -= f->len;
    self->stats.frames_out++;
    *ret_peer = f->peer;
    *ret_frame = f->data;
    *ret_len = f->len;
    free (f);
    return 1;
}

int
el_sync_peer_info (const el_sync_t *self, uint64_t peer, el_sync_peer_info_t *ret)
{
    const s_peer_t *p = s_peer_find (self, peer);
    if (!p)
        return -ENOENT;
    memset (ret, 0, sizeof *ret);
    ret->hello_received = p->hello_received;
    memcpy (ret->id, p->id, EL_KEY_BYTES);
    memcpy (ret->network, p->network, EL_KEY_BYTES);
    ret->credit_to_send = p->credit_to_send;
    ret->entries_sent = p->entries_sent;
    ret->entries_received = p->entries_received;
    ret->refused = p->refused;
    ret->ended = p->ended;
    ret->ended_by_peer = p->ended_by_peer;
    ret->behind_at_hello = p->behind_hello;
    for (size_t i = 0; i < EL_ERROR_SLOTS; i++) {
        ret->rejected_by_reason[i] = p->rejected_by_reason[i];
        ret->rejected += p->rejected_by_reason[i];
    }
    if (p->hello_received)
        for (size_t i = 0; i < self->n_origins; i++) {
            uint64_t k = s_peer_known (p, i);
            if (k < self->origins[i].seq && s_routed (self, p, i))
                ret->behind += self->origins[i].seq - k;
        }
    return 0;
}

uint64_t
el_sync_peer_behind (const el_sync_t *self, uint64_t peer, const uint8_t origin[EL_KEY_BYTES])
{
    const s_peer_t *p = s_peer_find (self, peer);
    int idx = s_origin_find (self, origin);
    if (!p || !p->hello_received || idx < 0 || !s_routed (self, p, (size_t) idx))
        return 0;                       /* not ours to send: it gets them from the hub */
    uint64_t k = s_peer_known (p, (size_t) idx);
    return k < self->origins[idx].seq ? self->origins[idx].seq - k : 0;
}

void
el_sync_stats (const el_sync_t *self, el_sync_stats_t *ret)
{
    *ret = self->stats;
}
