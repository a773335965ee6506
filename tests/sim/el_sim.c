/* el_sim.c — deterministic many-node simulation of the sync core.
 *
 * N nodes, each with its own store (temp dir) and el_sync, talk over a
 * simulated network driven by one seeded PRNG (xorshift64*): node 0 is the
 * broker (its key is the network id), every other node links to it, and a
 * few extra direct links make loops. During the chaos phase nodes write at
 * random, frames are delayed (FIFO per link direction, so links reorder
 * against each other), duplicated and dropped, links are partitioned and
 * healed, nodes crash and restart (store kept), and one site's key signs a
 * second entry for a seq it already used (a fork). Then everything heals and
 * the network runs until quiescent, and the checks run:
 *   - every node holds the same heads (seq and hash) for every origin that
 *     is not quarantined, and the same latest records;
 *   - every write of a non-forked origin reached every node;
 *   - no entry was applied twice: per node and origin, applied entries come
 *     as seq 1, 2, 3 ... exactly once, and their number equals the head;
 *   - a fork was injected (a run without one fails), and the forked origin
 *     is quarantined on every node.
 *
 * A frame dropped inside a live session stands for a broken connection
 * (ZeroMQ over TCP never drops silently): the link's session is reset, both
 * sides close it, and it reopens later with fresh Hellos. A duplicated frame
 * is delivered twice in the same session (the receiver must cope: duplicate
 * entries are no-ops, excess credit or a second Hello end the session).
 *
 * All decisions come from the seed, and so does the time: the syncs' clock
 * is the simulation's (S_TICK_US per tick from S_T0), so the entries written
 * carry the same time_us, and thus the same hashes, in every run of a seed.
 *
 * With --networks K (K > 1) the nodes form K networks, each a broker (its
 * first node) and its sites; brokers link at random (a federation link both
 * ways, each direction sharing events or not, the receiver accepting at least
 * what is shared), with the federation policies of core/el_share.h on the
 * brokers (share, accept, relay). The checks then are per pair of networks:
 * a node holds every entry of an origin of its own network or of a linked
 * network (as stubs where events are not shared) and nothing of any other,
 * and it holds an origin's event records exactly when that origin's network
 * shares events with its own (or is its own). No fork is injected then.
 *
 * Usage: el_sim [--seeds N] [--nodes M] [--seed-base S] [--ticks T] [--faults X] [--quiet]
 *               [--digest] [--networks K] [--writes W]
 *   --writes W: write calls per 1,000 nodes over the chaos phase, each of 1..3
 *   records (default 4,000: about 4 per node). Every entry reaches every
 *   node, so work grows with nodes x writes: a soak of thousands of nodes
 *   uses fewer writes per node.
 *   --faults X multiplies the drop, duplication, partition, isolation and
 *   crash rates (0 = a calm network, 1 = default).
 *   --digest prints, per seed, "digest seed=S <hex>": BLAKE2b-256 over every
 *   node's store (heads, then each origin's entries as stored, then fork
 *   proofs), nodes in order. Two runs of one seed print the same line.
 * Exit status 0 when every seed passes. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "el_entry.h"
#include "el_share.h"
#include "el_store.h"
#include "el_sync.h"

#define S_LINK_DELAY_MAX   6    /* ticks a frame may spend on a link, beyond 1 */
#define S_REOPEN_DELAY_MAX 12   /* ticks before a reset link reconnects */
#define S_KEYS_PER_NODE    6    /* record keys a node cycles through */
#define S_QUIESCE_MAX      20000 /* ticks allowed to converge after healing */
#define S_T0               1767225600000000LL /* the clock at tick 0: 2026-01-01T00:00:00Z, µs */
#define S_HASH_SLOTS       64   /* payload hashes each store remembers: a node is small */
#define S_TICK_US          100000 /* µs of simulated time per tick */
#define S_NETS_MAX         16   /* networks (--networks) */

/* ------------------------------------------------------------ PRNG */

typedef struct {
    uint64_t s;
} s_rng_t;

static uint64_t
s_rand (s_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, n) */
static uint64_t
s_below (s_rng_t *r, uint64_t n)
{
    return n ? s_rand (r) % n : 0;
}

/* true with probability ppm / 1e6 */
static bool
s_chance (s_rng_t *r, uint32_t ppm)
{
    return s_below (r, 1000000) < ppm;
}

/* ------------------------------------------------------------ world */

typedef struct s_frame {
    struct s_frame *next;
    uint64_t due;               /* tick of delivery */
    uint32_t epoch;             /* session it belongs to */
    uint8_t *data;
    size_t len;
} s_frame_t;

typedef struct {
    s_frame_t *head, *tail;
    uint64_t last_due;
} s_fifo_t;

typedef struct {
    int a, b;                   /* node indices */
    bool up;                    /* not partitioned */
    uint64_t heal_at;           /* tick at which a partition ends */
    bool open;                  /* session open at both ends */
    uint32_t epoch;
    uint64_t reopen_at;
    s_fifo_t dir[2];            /* 0: a -> b, 1: b -> a */
} s_link_t;

typedef struct {
    char dir[300];
    el_keypair_t *kp;
    el_store_t *store;
    el_sync_t *sync;
    bool alive;
    uint64_t restart_at;
    uint64_t writes;            /* entries this node wrote */
    uint64_t *applied;          /* per origin node: entries applied */
    uint64_t bad_applies;       /* applied out of order or twice */
    uint64_t foreign_applies;   /* origin not a sim node */
} s_node_t;

typedef struct {
    uint32_t drop_ppm, dup_ppm, partition_ppm, isolate_ppm, crash_ppm, write_ppm;
} s_chaos_t;

typedef struct {
    uint64_t seed;
    int n_nodes;
    s_node_t *nodes;
    s_link_t *links;
    int n_links;
    int **node_links;           /* per node: its link indices */
    int *n_node_links;
    uint64_t (*key_prefix)[2];  /* sorted (first 8 key bytes, node) */
    el_keypair_t *broker;       /* node 0's key = network id */
    int n_nets;                 /* networks (1 = one network, node 0 its broker) */
    int per_net;                /* nodes per network; network k = nodes [k * per_net, ...) */
    bool fed[S_NETS_MAX][S_NETS_MAX];     /* brokers j and k linked */
    bool shares[S_NETS_MAX][S_NETS_MAX];  /* j shares events with k */
    bool accepts[S_NETS_MAX][S_NETS_MAX]; /* k accepts events from j */
    el_share_link_t fed_links[S_NETS_MAX][S_NETS_MAX];   /* per broker: its links */
    el_share_federation_t fed_view[S_NETS_MAX];
    s_rng_t rng;
    uint64_t tick;
    char root[256];
    int fork_origin;            /* -1 = none */
    /* counters */
    uint64_t frames, frames_dropped, frames_duplicated, resets, partitions, isolations;
    uint64_t crashes, writes, write_refused, session_errors[EL_ERROR_SLOTS];
    uint64_t errors;            /* failed checks */
} s_world_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static int
s_node_of_origin (const s_world_t *w, const uint8_t *origin)
{
    uint64_t k;
    memcpy (&k, origin, sizeof k);
    int lo = 0, hi = w->n_nodes;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (w->key_prefix[mid][0] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < w->n_nodes && w->key_prefix[i][0] == k; i++) {
        int node = (int) w->key_prefix[i][1];
        if (memcmp (w->nodes[node].kp->pk, origin, EL_KEY_BYTES) == 0)
            return node;
    }
    return -1;
}

static int
s_prefix_cmp (const void *a, const void *b)
{
    uint64_t x = ((const uint64_t *) a)[0], y = ((const uint64_t *) b)[0];
    return x < y ? -1 : x > y;
}

typedef struct {
    s_world_t *w;
    int node;
} s_cb_arg_t;

static s_cb_arg_t *s_cb_args;

/* The syncs' clock: the simulation's time, never the machine's. */
static int64_t
s_clock (void *arg)
{
    const s_world_t *w = arg;
    return S_T0 + (int64_t) w->tick * S_TICK_US;
}

static void
s_on_applied (void *arg, uint64_t from_peer, const el_entry_t *const *entries,
              const int *status, size_t n)
{
    (void) from_peer;
    s_cb_arg_t *a = arg;
    s_node_t *node = &a->w->nodes[a->node];
    for (size_t i = 0; i < n; i++) {
        if (status[i] != EL_APPLIED)
            continue;
        int o = s_node_of_origin (a->w, entries[i]->origin);
        if (o < 0) {
            node->foreign_applies++;
            continue;
        }
        if (entries[i]->seq != node->applied[o] + 1)
            node->bad_applies++;
        node->applied[o]++;
    }
}

static void s_check (s_world_t *w, bool ok, const char *what, int node);

static int
s_net_of (const s_world_t *w, int node)
{
    return w->n_nets > 1 ? node / w->per_net : 0;
}

static const uint8_t *
s_net_key (const s_world_t *w, int net)
{
    return w->nodes[net * w->per_net].kp->pk;
}

static bool
s_is_broker (const s_world_t *w, int node)
{
    return node % w->per_net == 0 && node / w->per_net < w->n_nets;
}

/* Node @p i accepts the networks its own federates with; a broker also gets
 * the federation's policies over its links. */
static void
s_federate (s_world_t *w, int i)
{
    if (w->n_nets < 2)
        return;
    int x = s_net_of (w, i);
    for (int y = 0; y < w->n_nets; y++)
        if (y != x && w->fed[x][y] && el_sync_accept_network (w->nodes[i].sync,
                                                              s_net_key (w, y)) < 0)
            s_check (w, false, "accept network", i);
    if (!s_is_broker (w, i))
        return;
    el_share_federation_t *view = &w->fed_view[x];
    memcpy (view->own, s_net_key (w, x), EL_KEY_BYTES);
    view->links = w->fed_links[x];
    view->n = 0;
    for (int y = 0; y < w->n_nets; y++) {
        if (y == x || !w->fed[x][y])
            continue;
        el_share_link_t *l = &w->fed_links[x][view->n++];
        memcpy (l->network, s_net_key (w, y), EL_KEY_BYTES);
        l->share = (1u << EL__KIND__SITE) | (w->shares[x][y] ? 1u << EL__KIND__EVENT : 0);
        l->accept = (1u << EL__KIND__SITE) | (w->accepts[y][x] ? 1u << EL__KIND__EVENT : 0);
    }
    el_sync_policy_t p = { .share = el_share_federated, .share_arg = view,
                           .share_kinds = EL_SHARE_BY_LEVEL_KINDS,
                           .share_kinds_foreign = EL_SHARE_KINDS_ALL,
                           .accept = el_accept_federated, .accept_arg = view,
                           .relay = el_relay_federated, .relay_arg = view };
    el_sync_set_policy (w->nodes[i].sync, &p);
}

static int
s_node_start (s_world_t *w, int i)
{
    s_node_t *n = &w->nodes[i];
    el_store_config_t scfg = { .no_sync = true, .map_bytes_initial = 4u << 20,
                               .map_bytes_max = 256u << 20, .hash_slots = S_HASH_SLOTS,
                               .single_process = true };
    int rc = el_store_open (n->dir, &scfg, &n->store);
    if (rc < 0) {
        fprintf (stderr, "el_sim: store %d: %s\n", i, el_strerror (rc));
        return rc;
    }
    el_sync_config_t cfg = { .credit = 256, .batch_max = 64, .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, n->kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, s_net_key (w, s_net_of (w, i)), EL_KEY_BYTES);
    rc = el_sync_new (n->store, &cfg, &n->sync);
    if (rc < 0) {
        fprintf (stderr, "el_sim: sync %d: %s\n", i, el_strerror (rc));
        el_store_destroy (&n->store);
        return rc;
    }
    s_federate (w, i);
    el_sync_on_applied (n->sync, s_on_applied, &s_cb_args[i]);
    n->alive = true;
    return 0;
}

static void
s_fifo_clear (s_fifo_t *q)
{
    while (q->head) {
        s_frame_t *f = q->head;
        q->head = f->next;
        free (f->data);
        free (f);
    }
    q->tail = NULL;
    q->last_due = 0;
}

/* The connection of link @p l breaks: both ends forget the session. */
static void
s_link_reset (s_world_t *w, int l)
{
    s_link_t *k = &w->links[l];
    if (k->open) {
        if (w->nodes[k->a].alive)
            el_sync_peer_close (w->nodes[k->a].sync, (uint64_t) l + 1);
        if (w->nodes[k->b].alive)
            el_sync_peer_close (w->nodes[k->b].sync, (uint64_t) l + 1);
        w->resets++;
    }
    k->open = false;
    k->epoch++;
    s_fifo_clear (&k->dir[0]);
    s_fifo_clear (&k->dir[1]);
    k->reopen_at = w->tick + 1 + s_below (&w->rng, S_REOPEN_DELAY_MAX);
}

static void
s_node_crash (s_world_t *w, int i)
{
    s_node_t *n = &w->nodes[i];
    for (int j = 0; j < w->n_node_links[i]; j++)
        s_link_reset (w, w->node_links[i][j]);
    el_sync_destroy (&n->sync);
    el_store_destroy (&n->store);
    n->alive = false;
    w->crashes++;
}

static void
s_world_destroy (s_world_t *w)
{
    for (int l = 0; l < w->n_links; l++) {
        s_fifo_clear (&w->links[l].dir[0]);
        s_fifo_clear (&w->links[l].dir[1]);
    }
    for (int i = 0; i < w->n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        el_sync_destroy (&n->sync);
        el_store_destroy (&n->store);
        el_keypair_destroy (&n->kp);
        free (n->applied);
        free (w->node_links[i]);
    }
    if (w->root[0])
        nftw (w->root, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free (w->nodes);
    free (w->links);
    free (w->node_links);
    free (w->n_node_links);
    free (w->key_prefix);
    free (s_cb_args);
    s_cb_args = NULL;
}

static bool
s_has_link (const s_world_t *w, int a, int b)
{
    for (int l = 0; l < w->n_links; l++)
        if ((w->links[l].a == a && w->links[l].b == b) || (w->links[l].a == b && w->links[l].b == a))
            return true;
    return false;
}

static int
s_add_link (s_world_t *w, int a, int b)
{
    s_link_t *k = &w->links[w->n_links];
    memset (k, 0, sizeof *k);
    k->a = a;
    k->b = b;
    k->up = true;
    for (int e = 0; e < 2; e++) {
        int node = e ? b : a;
        int *v = realloc (w->node_links[node], (size_t) (w->n_node_links[node] + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        v[w->n_node_links[node]++] = w->n_links;
        w->node_links[node] = v;
    }
    w->n_links++;
    return 0;
}

/* Which networks' brokers link, and what each direction shares and accepts. */
static void
s_choose_federation (s_world_t *w)
{
    for (int j = 0; j < w->n_nets; j++)
        for (int k = j + 1; k < w->n_nets; k++) {
            bool linked = s_chance (&w->rng, 600000);
            w->fed[j][k] = w->fed[k][j] = linked;
            for (int d = 0; d < 2 && linked; d++) {
                int from = d ? k : j, to = d ? j : k;
                w->shares[from][to] = s_chance (&w->rng, 700000);
                /* the receiver accepts at least what is shared: a refused entry
                 * would stop its origin's chain there, which the links' own
                 * integration tests cover */
                w->accepts[from][to] = w->shares[from][to] || s_chance (&w->rng, 500000);
            }
        }
}

static int
s_world_init (s_world_t *w, uint64_t seed, int n_nodes, int n_nets)
{
    memset (w, 0, sizeof *w);
    w->seed = seed;
    w->n_nets = n_nets;
    w->per_net = n_nodes / n_nets;
    n_nodes = w->per_net * n_nets;
    w->n_nodes = n_nodes;
    w->fork_origin = -1;
    w->rng.s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (!w->rng.s)
        w->rng.s = 1;
    const char *tmp = getenv ("TMPDIR");
    snprintf (w->root, sizeof w->root, "%s/el_sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (w->root)) {
        w->root[0] = 0;
        return -errno;
    }
    int extra = n_nodes / 8 + 1;
    w->nodes = calloc ((size_t) n_nodes, sizeof *w->nodes);
    w->links = calloc ((size_t) (n_nodes + extra + S_NETS_MAX * S_NETS_MAX), sizeof *w->links);
    w->node_links = calloc ((size_t) n_nodes, sizeof *w->node_links);
    w->n_node_links = calloc ((size_t) n_nodes, sizeof *w->n_node_links);
    w->key_prefix = calloc ((size_t) n_nodes, sizeof *w->key_prefix);
    s_cb_args = calloc ((size_t) n_nodes, sizeof *s_cb_args);
    if (!w->nodes || !w->links || !w->node_links || !w->n_node_links || !w->key_prefix
        || !s_cb_args)
        return -ENOMEM;
    for (int i = 0; i < n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        uint8_t key_seed[32];
        for (int b = 0; b < 32; b += 8) {
            uint64_t v = s_rand (&w->rng);
            memcpy (key_seed + b, &v, 8);
        }
        int rc = el_keypair_from_seed (key_seed, &n->kp);
        if (rc < 0)
            return rc;
        memcpy (&w->key_prefix[i][0], n->kp->pk, 8);
        w->key_prefix[i][1] = (uint64_t) i;
        n->applied = calloc ((size_t) n_nodes, sizeof *n->applied);
        if (!n->applied)
            return -ENOMEM;
        snprintf (n->dir, sizeof n->dir, "%s/n%d", w->root, i);
        if (mkdir (n->dir, 0700) < 0)
            return -errno;
        s_cb_args[i].w = w;
        s_cb_args[i].node = i;
    }
    qsort (w->key_prefix, (size_t) n_nodes, sizeof *w->key_prefix, s_prefix_cmp);
    w->broker = w->nodes[0].kp;
    if (n_nets > 1)
        s_choose_federation (w);
    for (int i = 0; i < n_nodes; i++) {
        int rc = s_node_start (w, i);
        if (rc < 0)
            return rc;
    }
    /* a star around each network's broker, plus direct links (loops) inside
     * a network, plus the federation links between brokers */
    for (int i = 0; i < n_nodes; i++)
        if (!s_is_broker (w, i) && s_add_link (w, s_net_of (w, i) * w->per_net, i) < 0)
            return -ENOMEM;
    for (int j = 0; j < n_nets; j++)
        for (int k = j + 1; k < n_nets; k++)
            if (w->fed[j][k] && s_add_link (w, j * w->per_net, k * w->per_net) < 0)
                return -ENOMEM;
    for (int e = 0, tries = 0; e < extra && tries < 100 * extra && n_nodes > 3; tries++) {
        int a = 1 + (int) s_below (&w->rng, (uint64_t) n_nodes - 1);
        int b = 1 + (int) s_below (&w->rng, (uint64_t) n_nodes - 1);
        if (a == b || s_has_link (w, a, b) || s_net_of (w, a) != s_net_of (w, b)
            || s_is_broker (w, a) || s_is_broker (w, b))
            continue;
        if (s_add_link (w, a, b) < 0)
            return -ENOMEM;
        e++;
    }
    return 0;
}

/* ------------------------------------------------------------ traffic */

static void
s_check (s_world_t *w, bool ok, const char *what, int node)
{
    if (ok)
        return;
    w->errors++;
    if (w->errors <= 20)
        fprintf (stderr, "el_sim: seed %llu: FAIL node %d: %s\n", (unsigned long long) w->seed,
                 node, what);
}

static void
s_event_payload (const char *uid, int64_t start_us, uint8_t *buf, size_t cap, size_t *ret_len)
{
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) uid;
    ev.summary = (char *) "Permanence fablab";
    ev.dtstart_us = start_us;
    ev.dtend_us = start_us + 7200000000LL;
    size_t len = el__event__get_packed_size (&ev);
    *ret_len = 0;
    if (len <= cap) {
        el__event__pack (&ev, buf);
        *ret_len = len;
    }
}

/* Node @p i writes 1..3 records in one call. Members too: a member's
 * tombstone turns its earlier entries into stubs, which then travel in
 * catch-up. */
static void
s_node_write (s_world_t *w, int i)
{
    s_node_t *n = &w->nodes[i];
    size_t count = 1 + (size_t) s_below (&w->rng, 3);
    el_record_t recs[3];
    char keys[3][32];
    uint8_t payloads[3][256];
    for (size_t k = 0; k < count; k++) {
        bool member = s_chance (&w->rng, 300000);
        snprintf (keys[k], sizeof keys[k], "n%d-%c%d", i, member ? 'm' : 'k',
                  (int) s_below (&w->rng, S_KEYS_PER_NODE));
        memset (&recs[k], 0, sizeof recs[k]);
        recs[k].kind = member ? EL__KIND__MEMBER : EL__KIND__EVENT;
        recs[k].key = keys[k];
        if (s_chance (&w->rng, member ? 200000 : 100000)) {
            recs[k].deleted = true;     /* tombstone */
            continue;
        }
        if (member) {
            El__Member m = EL__MEMBER__INIT;
            m.display_name = keys[k];
            recs[k].payload_len = el__member__get_packed_size (&m);
            if (recs[k].payload_len <= sizeof payloads[k])
                el__member__pack (&m, payloads[k]);
            recs[k].payload = payloads[k];
            continue;
        }
        int64_t start = 1767225600000000LL + (int64_t) s_below (&w->rng, 1000) * 3600000000LL;
        s_event_payload (keys[k], start, payloads[k], sizeof payloads[k], &recs[k].payload_len);
        recs[k].payload = payloads[k];
    }
    int rc = el_sync_write (n->sync, n->kp, recs, count, NULL);
    if (rc == 0) {
        n->writes += count;
        w->writes += count;
    } else if (rc == EL_EQUARANTINE && i == w->fork_origin) {
        w->write_refused++;
    } else {
        s_check (w, false, "el_sync_write failed", i);
    }
}

/* Sign a second entry for a seq that site @p f already used, and hand it to
 * a node that can chain it (holds seq - 1). Every node is considered, from a
 * seeded starting point, so the fork happens whenever some live site has
 * written. @return true when the forged entry was handed over (store errors
 * are failures of the run), false when no site can be forked yet. */
static bool
s_inject_fork (s_world_t *w)
{
    int f = -1;
    el_head_t h;
    int first = (int) s_below (&w->rng, (uint64_t) w->n_nodes - 1);
    for (int k = 0; k < w->n_nodes - 1 && f < 0; k++) {
        int c = 1 + (first + k) % (w->n_nodes - 1);
        if (w->nodes[c].alive && w->nodes[c].writes > 0
            && el_store_head (w->nodes[c].store, w->nodes[c].kp->pk, &h) == 0 && h.seq >= 1
            && h.status == EL_HEAD_OK)
            f = c;
    }
    if (f < 0)
        return false;
    s_node_t *fn = &w->nodes[f];
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    if (h.seq > 1) {
        uint8_t *data;
        size_t len;
        el_entry_t *e;
        int rc = el_store_entry_get (fn->store, fn->kp->pk, h.seq - 1, &data, &len);
        s_check (w, rc == 0, "fork injection: the forked site's entry seq - 1", f);
        if (rc < 0)
            return false;
        rc = el_entry_parse (data, len, &e);
        free (data);
        s_check (w, rc == 0, "fork injection: parse of seq - 1", f);
        if (rc < 0)
            return false;
        memcpy (prev, e->hash, EL_HASH_BYTES);
        el_entry_destroy (&e);
    }
    uint8_t payload[256];
    el_entry_fields_t fields = {
        .seq = h.seq, .time_us = 1, .kind = EL__KIND__EVENT, .key = "forged",
        .payload = payload,
    };
    s_event_payload ("forged", 1767225600000000LL, payload, sizeof payload, &fields.payload_len);
    memcpy (fields.prev, prev, EL_HASH_BYTES);
    memcpy (fields.network, w->broker->pk, EL_KEY_BYTES);
    uint8_t *forged;
    size_t forged_len;
    int rc = el_entry_build (fn->kp, &fields, &forged, &forged_len, NULL);
    s_check (w, rc == 0, "fork injection: build", f);
    if (rc < 0)
        return false;
    /* a node that holds seq - 1 of f (not f itself, if there is one) */
    int x = f;
    first = (int) s_below (&w->rng, (uint64_t) w->n_nodes);
    for (int k = 0; k < w->n_nodes && x == f; k++) {
        int c = (first + k) % w->n_nodes;
        el_head_t ch;
        if (c != f && w->nodes[c].alive
            && el_store_head (w->nodes[c].store, fn->kp->pk, &ch) == 0 && ch.seq + 1 >= h.seq
            && ch.status == EL_HEAD_OK)
            x = c;
    }
    const uint8_t *entries[1] = { forged };
    int status;
    rc = el_sync_apply (w->nodes[x].sync, entries, &forged_len, 1, &status, NULL);
    s_check (w, rc == 0 && (status == EL_APPLIED || status == EL_EFORK), "fork injection", x);
    free (forged);
    w->fork_origin = f;
    return true;
}

static void
s_fifo_push (s_fifo_t *q, s_frame_t *f)
{
    if (f->due < q->last_due)
        f->due = q->last_due;           /* a link is FIFO, as TCP is */
    q->last_due = f->due;
    f->next = NULL;
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
}

/* Node @p i's queued frames go onto its links. */
static void
s_drain (s_world_t *w, int i, const s_chaos_t *c, bool *moved)
{
    s_node_t *n = &w->nodes[i];
    uint64_t peer;
    uint8_t *data;
    size_t len;
    while (n->alive && el_sync_next_out (n->sync, &peer, &data, &len) == 1) {
        int l = (int) peer - 1;
        s_link_t *k = &w->links[l];
        *moved = true;
        w->frames++;
        if (!k->open) {
            free (data);
            continue;
        }
        if (s_chance (&w->rng, c->drop_ppm)) {
            free (data);
            w->frames_dropped++;
            s_link_reset (w, l);        /* a lost frame is a broken connection */
            continue;
        }
        int copies = s_chance (&w->rng, c->dup_ppm) ? 2 : 1;
        if (copies == 2)
            w->frames_duplicated++;
        s_fifo_t *q = &k->dir[k->a == i ? 0 : 1];
        uint64_t due = w->tick + 1 + s_below (&w->rng, S_LINK_DELAY_MAX);
        for (int cp = 0; cp < copies; cp++) {
            s_frame_t *f = malloc (sizeof *f);
            uint8_t *copy = cp ? malloc (len) : data;
            if (!f || !copy) {
                free (f);
                if (cp)
                    free (copy);
                s_check (w, false, "out of memory", i);
                continue;
            }
            if (cp)
                memcpy (copy, data, len);
            f->due = due;
            f->epoch = k->epoch;
            f->data = copy;
            f->len = len;
            s_fifo_push (q, f);
        }
    }
}

static void
s_deliver (s_world_t *w, bool *moved)
{
    for (int l = 0; l < w->n_links; l++) {
        s_link_t *k = &w->links[l];
        for (int d = 0; d < 2; d++) {
            s_fifo_t *q = &k->dir[d];
            while (q->head && q->head->due <= w->tick) {
                s_frame_t *f = q->head;
                q->head = f->next;
                if (!q->head)
                    q->tail = NULL;
                *moved = true;
                int to = d ? k->a : k->b;
                int rc = 0;
                el_sync_end_t end = { .session = EL_SYNC_CONTINUE };
                if (f->epoch == k->epoch && k->open && w->nodes[to].alive)
                    rc = el_sync_receive (w->nodes[to].sync, (uint64_t) l + 1, f->data, f->len,
                                          &end);
                free (f->data);
                free (f);
                s_check (w, rc == 0, "el_sync_receive failed", to);
                if (end.session == EL_SYNC_END) {
                    w->session_errors[el_error_slot (end.reason)]++;
                    s_link_reset (w, l);
                    break;              /* the queue was cleared */
                }
            }
        }
    }
}

static void
s_step (s_world_t *w, const s_chaos_t *c, bool *moved)
{
    /* heal and restart what is due */
    for (int l = 0; l < w->n_links; l++)
        if (!w->links[l].up && w->links[l].heal_at <= w->tick)
            w->links[l].up = true;
    for (int i = 0; i < w->n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        if (!n->alive && n->restart_at <= w->tick && s_node_start (w, i) < 0)
            s_check (w, false, "restart", i);
    }
    /* chaos */
    if (c->partition_ppm && s_chance (&w->rng, c->partition_ppm)) {
        int l = (int) s_below (&w->rng, (uint64_t) w->n_links);
        w->links[l].up = false;
        w->links[l].heal_at = w->tick + 20 + s_below (&w->rng, 150);
        s_link_reset (w, l);
        w->partitions++;
    }
    if (c->isolate_ppm && s_chance (&w->rng, c->isolate_ppm)) {
        int i = (int) s_below (&w->rng, (uint64_t) w->n_nodes);
        uint64_t until = w->tick + 50 + s_below (&w->rng, 200);
        for (int j = 0; j < w->n_node_links[i]; j++) {
            s_link_t *k = &w->links[w->node_links[i][j]];
            k->up = false;
            if (k->heal_at < until)
                k->heal_at = until;
            s_link_reset (w, w->node_links[i][j]);
        }
        w->isolations++;
    }
    if (c->crash_ppm && s_chance (&w->rng, c->crash_ppm)) {
        int i = (int) s_below (&w->rng, (uint64_t) w->n_nodes);
        if (w->nodes[i].alive) {
            s_node_crash (w, i);
            w->nodes[i].restart_at = w->tick + 10 + s_below (&w->rng, 100);
        }
    }
    for (int i = 0; i < w->n_nodes && c->write_ppm; i++)
        if (w->nodes[i].alive && s_chance (&w->rng, c->write_ppm))
            s_node_write (w, i);
    /* sessions (re)open */
    for (int l = 0; l < w->n_links; l++) {
        s_link_t *k = &w->links[l];
        if (k->open || !k->up || k->reopen_at > w->tick || !w->nodes[k->a].alive
            || !w->nodes[k->b].alive)
            continue;
        int ra = el_sync_peer_open (w->nodes[k->a].sync, (uint64_t) l + 1);
        int rb = el_sync_peer_open (w->nodes[k->b].sync, (uint64_t) l + 1);
        s_check (w, ra == 0 && rb == 0, "peer_open", k->a);
        k->open = true;
        *moved = true;
    }
    s_deliver (w, moved);
    for (int i = 0; i < w->n_nodes; i++)
        s_drain (w, i, c, moved);
}

static bool
s_quiescent (const s_world_t *w)
{
    for (int l = 0; l < w->n_links; l++) {
        const s_link_t *k = &w->links[l];
        if (!k->open || k->dir[0].head || k->dir[1].head)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ checks */

typedef struct {
    s_world_t *w;
    int node;
    el_head_t *heads;
    size_t n_heads;
    uint8_t digest[EL_HASH_BYTES];
    uint64_t count;
} s_digest_t;

static bool
s_quarantined (const el_head_t *heads, size_t n, const uint8_t *origin)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp (heads[i].origin, origin, EL_KEY_BYTES) == 0)
            return heads[i].status == EL_HEAD_QUARANTINED;
    return false;
}

static int
s_digest_cb (void *arg, const el_entry_t *e)
{
    s_digest_t *d = arg;
    if (s_quarantined (d->heads, d->n_heads, e->origin))
        return 0;
    /* chain: digest = H(digest || origin || seq || hash || key) */
    uint8_t buf[EL_HASH_BYTES + EL_KEY_BYTES + 8 + EL_HASH_BYTES + EL_RECORD_KEY_MAX];
    size_t off = 0;
    memcpy (buf, d->digest, EL_HASH_BYTES);
    off += EL_HASH_BYTES;
    memcpy (buf + off, e->origin, EL_KEY_BYTES);
    off += EL_KEY_BYTES;
    memcpy (buf + off, &e->seq, 8);
    off += 8;
    memcpy (buf + off, e->hash, EL_HASH_BYTES);
    off += EL_HASH_BYTES;
    size_t kl = e->body && e->body->key ? strlen (e->body->key) : 0;
    if (kl > EL_RECORD_KEY_MAX)
        kl = EL_RECORD_KEY_MAX;
    if (kl)
        memcpy (buf + off, e->body->key, kl);
    off += kl;
    el_entry_hash (buf, off, NULL, 0, d->digest);
    d->count++;
    return 0;
}

typedef struct {
    const uint8_t *origin;
    uint64_t n;
} s_count_t;

static int
s_count_cb (void *arg, const el_entry_t *e)
{
    s_count_t *c = arg;
    if (!memcmp (e->origin, c->origin, EL_KEY_BYTES) && !e->is_stub && e->payload)
        c->n++;
    return 0;
}

/* Live event records of origin @p o held at node @p i (with their payload). */
static uint64_t
s_events_of (s_world_t *w, int i, int o)
{
    s_count_t c = { w->nodes[o].kp->pk, 0 };
    if (el_store_records (w->nodes[i].store, EL__KIND__EVENT, w->nodes[o].kp->pk, s_count_cb,
                          &c) < 0)
        s_check (w, false, "records", i);
    return c.n;
}

/* Several networks: each node holds exactly what its network's links allow. */
static void
s_verify_federated (s_world_t *w)
{
    for (int i = 0; i < w->n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        int x = s_net_of (w, i);
        s_check (w, n->bad_applies == 0, "an entry applied twice or out of order", i);
        s_check (w, n->foreign_applies == 0, "an entry of an unknown origin applied", i);
        for (int o = 0; o < w->n_nodes; o++) {
            int y = s_net_of (w, o);
            bool linked = x == y || w->fed[x][y];
            bool payloads = x == y || (w->fed[x][y] && w->shares[y][x]);
            el_head_t h;
            int rc = el_store_head (n->store, w->nodes[o].kp->pk, &h);
            uint64_t seq = rc == 0 ? h.seq : 0;
            s_check (w, seq == (linked ? w->nodes[o].writes : 0),
                     linked ? "missing entries of a linked network's origin"
                            : "entries of an unlinked network's origin", i);
            s_check (w, n->applied[o] == seq, "applied entries != entries held", i);
            uint64_t mine = s_events_of (w, o, o), here = s_events_of (w, i, o);
            s_check (w, here == (payloads ? mine : 0),
                     payloads ? "events of a network that shares them missing"
                              : "events of a network that does not share them held", i);
        }
    }
}

static void
s_verify (s_world_t *w)
{
    if (w->n_nets > 1) {
        s_verify_federated (w);
        return;
    }
    el_head_t *ref = NULL;
    size_t n_ref = 0;
    uint8_t ref_digest[EL_HASH_BYTES];
    uint64_t ref_records = 0;
    for (int i = 0; i < w->n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        el_head_t *heads = NULL;
        size_t nh = 0;
        if (el_store_heads (n->store, &heads, &nh) < 0) {
            s_check (w, false, "heads", i);
            continue;
        }
        s_check (w, n->bad_applies == 0, "an entry applied twice or out of order", i);
        s_check (w, n->foreign_applies == 0, "an entry of an unknown origin applied", i);
        /* applied exactly the entries it holds */
        for (size_t h = 0; h < nh; h++) {
            int o = s_node_of_origin (w, heads[h].origin);
            s_check (w, o >= 0 && n->applied[o] == heads[h].seq,
                     "applied entries != entries held", i);
        }
        /* every write of a sound origin reached this node */
        for (int o = 0; o < w->n_nodes; o++) {
            if (o == w->fork_origin)
                continue;
            el_head_t h;
            int rc = el_store_head (n->store, w->nodes[o].kp->pk, &h);
            uint64_t seq = rc == 0 ? h.seq : 0;
            s_check (w, seq == w->nodes[o].writes, "missing entries of an origin", i);
            s_check (w, rc != 0 || h.status == EL_HEAD_OK, "sound origin not OK", i);
        }
        if (w->fork_origin >= 0)
            s_check (w, s_quarantined (heads, nh, w->nodes[w->fork_origin].kp->pk),
                     "fork not detected", i);
        s_digest_t d = { .w = w, .node = i, .heads = heads, .n_heads = nh };
        if (el_store_records (n->store, EL__KIND__EVENT, NULL, s_digest_cb, &d) < 0
            || el_store_records (n->store, EL__KIND__MEMBER, NULL, s_digest_cb, &d) < 0)
            s_check (w, false, "records", i);
        if (i == 0) {
            ref = heads;
            n_ref = nh;
            memcpy (ref_digest, d.digest, EL_HASH_BYTES);
            ref_records = d.count;
            continue;
        }
        /* same heads as the broker for every sound origin */
        s_check (w, nh == n_ref, "number of heads differs", i);
        for (size_t h = 0; h < nh && h < n_ref; h++) {
            bool same_origin = memcmp (heads[h].origin, ref[h].origin, EL_KEY_BYTES) == 0;
            s_check (w, same_origin, "origins differ", i);
            if (!same_origin)
                break;
            bool q = heads[h].status == EL_HEAD_QUARANTINED;
            s_check (w, q == (ref[h].status == EL_HEAD_QUARANTINED), "quarantine differs", i);
            if (!q)
                s_check (w, heads[h].seq == ref[h].seq
                                && memcmp (heads[h].hash, ref[h].hash, EL_HASH_BYTES) == 0,
                         "head differs", i);
        }
        s_check (w, d.count == ref_records && memcmp (d.digest, ref_digest, EL_HASH_BYTES) == 0,
                 "latest records differ", i);
        free (heads);
    }
    free (ref);
}

/* ------------------------------------------------------------ digest */

static void
s_hash_u64 (crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t) (v >> (56 - 8 * i));
    crypto_generichash_update (h, b, sizeof b);
}

typedef struct {
    crypto_generichash_state *h;
    uint64_t last;              /* seq of the last entry hashed */
} s_hash_page_t;

static int
s_hash_entry (void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    s_hash_page_t *pg = arg;
    s_hash_u64 (pg->h, seq);
    s_hash_u64 (pg->h, len);
    crypto_generichash_update (pg->h, data, len);
    pg->last = seq;
    return 0;
}

/* Into @p h: what node @p i's store holds of the replicated state: its heads
 * in origin order, each origin's entries as stored (stubs included), and
 * its fork proofs. @return 0, or the store's error. */
static int
s_hash_store (s_world_t *w, int i, crypto_generichash_state *h)
{
    el_store_t *store = w->nodes[i].store;
    el_head_t *heads = NULL;
    size_t nh = 0;
    int rc = el_store_heads (store, &heads, &nh);
    if (rc < 0)
        return rc;
    s_hash_u64 (h, nh);
    for (size_t k = 0; k < nh && rc == 0; k++) {
        const el_head_t *hd = &heads[k];
        crypto_generichash_update (h, hd->origin, EL_KEY_BYTES);
        s_hash_u64 (h, hd->seq);
        crypto_generichash_update (h, hd->hash, EL_HASH_BYTES);
        s_hash_u64 (h, (uint64_t) hd->status);
        s_hash_page_t pg = { .h = h };
        size_t got;
        do {
            got = 0;
            rc = el_store_entries_after (store, hd->origin, pg.last, EL_STORE_PAGE_MAX,
                                         s_hash_entry, &pg, &got);
        } while (rc == 0 && got > 0);
        uint64_t fork_seq;
        uint8_t *fork;
        size_t fork_len;
        int frc = el_store_fork_get (store, hd->origin, &fork_seq, &fork, &fork_len);
        if (frc == 0) {
            s_hash_u64 (h, fork_seq);
            s_hash_u64 (h, fork_len);
            crypto_generichash_update (h, fork, fork_len);
            free (fork);
        } else if (frc != EL_ENOTFOUND && rc == 0) {
            rc = frc;
        }
    }
    free (heads);
    return rc;
}

/* Print "digest seed=S <hex>" over every node's store, nodes in order. */
static void
s_print_digest (s_world_t *w)
{
    crypto_generichash_state h;
    crypto_generichash_init (&h, NULL, 0, EL_HASH_BYTES);
    for (int i = 0; i < w->n_nodes; i++) {
        if (!w->nodes[i].alive)
            s_hash_u64 (&h, UINT64_MAX);        /* down: no store open */
        else if (s_hash_store (w, i, &h) < 0)
            s_check (w, false, "digest: store unreadable", i);
    }
    uint8_t d[EL_HASH_BYTES];
    crypto_generichash_final (&h, d, sizeof d);
    char hex[2 * EL_HASH_BYTES + 1];
    sodium_bin2hex (hex, sizeof hex, d, sizeof d);
    printf ("digest seed=%llu %s\n", (unsigned long long) w->seed, hex);
    fflush (stdout);
}

/* ------------------------------------------------------------ main */

typedef struct {
    uint64_t seeds, seed_base, ticks;
    uint64_t faults;            /* multiplier of the fault rates */
    uint64_t writes;            /* write calls per 1,000 nodes over the chaos phase */
    int nodes;
    int networks;               /* --networks K */
    bool quiet;
    bool digest;                /* print each seed's store digest */
} s_opts_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_run_seed (const s_opts_t *o, uint64_t seed, el_sync_stats_t *totals, uint64_t *ret_errors)
{
    s_world_t w;
    double t0 = s_now ();
    int rc = s_world_init (&w, seed, o->nodes, o->networks);
    if (rc < 0) {
        fprintf (stderr, "el_sim: seed %llu: setup: %s\n", (unsigned long long) seed,
                 el_strerror (rc));
        s_world_destroy (&w);
        return rc;
    }
    /* o->writes per 1,000 nodes over the chaos phase (default: about 4 per node) */
    uint32_t f = (uint32_t) o->faults;
    s_chaos_t chaos = {
        .drop_ppm = 2000 * f, .dup_ppm = 1000 * f, .partition_ppm = 30000 * f,
        .isolate_ppm = 8000 * f, .crash_ppm = 10000 * f,
        .write_ppm = (uint32_t) (o->writes * 1000 / o->ticks),
    };
    s_chaos_t calm = { 0 };
    /* the fork: from mid-chaos on, at the first tick a live site has written */
    uint64_t fork_at = o->ticks / 2;
    bool forked = false, moved;
    for (w.tick = 0; w.tick < o->ticks; w.tick++) {
        if (!forked && w.tick >= fork_at && w.n_nets == 1)
            forked = s_inject_fork (&w);
        s_step (&w, &chaos, &moved);
    }
    s_check (&w, forked || w.n_nets > 1,
             "no fork injected: no live site had written by the end of the chaos", -1);
    /* heal everything and let it settle */
    for (int l = 0; l < w.n_links; l++)
        w.links[l].up = true;
    for (int i = 0; i < w.n_nodes; i++)
        w.nodes[i].restart_at = w.tick;
    uint64_t healed_at = w.tick, quiet_ticks = 0;
    for (; w.tick < healed_at + S_QUIESCE_MAX; w.tick++) {
        moved = false;
        s_step (&w, &calm, &moved);
        quiet_ticks = moved || !s_quiescent (&w) ? 0 : quiet_ticks + 1;
        if (quiet_ticks >= 2)
            break;
    }
    if (quiet_ticks < 2)
        s_check (&w, false, "no quiescence after healing", -1);
    else
        s_verify (&w);
    if (o->digest)
        s_print_digest (&w);

    el_sync_stats_t sum = { 0 };
    for (int i = 0; i < w.n_nodes; i++) {
        el_sync_stats_t st;
        if (!w.nodes[i].alive)
            continue;
        el_sync_stats (w.nodes[i].sync, &st);
        sum.entries_out += st.entries_out;
        sum.applied += st.applied;
        sum.duplicates += st.duplicates;
        sum.rejected += st.rejected;
        sum.forks += st.forks;
        for (unsigned r = 0; r < EL_ERROR_SLOTS; r++)
            sum.rejected_by_reason[r] += st.rejected_by_reason[r];
    }
    totals->entries_out += sum.entries_out;
    totals->applied += sum.applied;
    totals->duplicates += sum.duplicates;
    totals->rejected += sum.rejected;
    totals->forks += sum.forks;
    for (unsigned r = 0; r < EL_ERROR_SLOTS; r++)
        totals->rejected_by_reason[r] += sum.rejected_by_reason[r];
    totals->frames_out += w.frames;
    if (!o->quiet || w.errors) {
        printf ("seed %llu: %s nodes=%d links=%d writes=%llu frames=%llu dropped=%llu "
                "duplicated=%llu resets=%llu partitions=%llu isolations=%llu crashes=%llu "
                "fork=%s converge_ticks=%llu (since restart) entries_sent=%llu "
                "duplicates=%llu rejected=%llu session_errors:",
                (unsigned long long) seed, w.errors ? "FAIL" : "ok", w.n_nodes, w.n_links,
                (unsigned long long) w.writes, (unsigned long long) w.frames,
                (unsigned long long) w.frames_dropped, (unsigned long long) w.frames_duplicated,
                (unsigned long long) w.resets, (unsigned long long) w.partitions,
                (unsigned long long) w.isolations, (unsigned long long) w.crashes,
                w.fork_origin >= 0 ? "detected-by-all" : "none",
                (unsigned long long) (w.tick - healed_at), (unsigned long long) sum.entries_out,
                (unsigned long long) sum.duplicates, (unsigned long long) sum.rejected);
        for (unsigned r = 0; r < EL_ERROR_SLOTS; r++)
            if (w.session_errors[r])
                printf (" %s=%llu", el_strcode (r ? el_error_of_slot (r) : -1),
                        (unsigned long long) w.session_errors[r]);
        printf (" rejected_by_reason:");
        for (unsigned r = 0; r < EL_ERROR_SLOTS; r++)
            if (sum.rejected_by_reason[r])
                printf (" %s=%llu", el_strcode (r ? el_error_of_slot (r) : -1),
                        (unsigned long long) sum.rejected_by_reason[r]);
        printf (" time=%.2fs\n", s_now () - t0);
        fflush (stdout);
    }
    *ret_errors += w.errors;
    s_world_destroy (&w);
    return 0;
}

static int
s_parse_u64 (const char *s, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *ret = v;
    return 0;
}

int
main (int argc, char **argv)
{
    s_opts_t o = { .seeds = 3, .seed_base = 1, .ticks = 600, .faults = 1, .nodes = 100,
                   .networks = 1, .writes = 4000 };
    for (int i = 1; i < argc; i++) {
        uint64_t v;
        bool has_arg = i + 1 < argc;
        if (!strcmp (argv[i], "--quiet"))
            o.quiet = true;
        else if (!strcmp (argv[i], "--digest"))
            o.digest = true;
        else if (!strcmp (argv[i], "--seeds") && has_arg && s_parse_u64 (argv[++i], &v) == 0)
            o.seeds = v;
        else if (!strcmp (argv[i], "--seed-base") && has_arg && s_parse_u64 (argv[++i], &v) == 0)
            o.seed_base = v;
        else if (!strcmp (argv[i], "--ticks") && has_arg && s_parse_u64 (argv[++i], &v) == 0
                 && v >= 10)
            o.ticks = v;
        else if (!strcmp (argv[i], "--faults") && has_arg && s_parse_u64 (argv[++i], &v) == 0
                 && v <= 20)
            o.faults = v;
        else if (!strcmp (argv[i], "--writes") && has_arg && s_parse_u64 (argv[++i], &v) == 0
                 && v >= 1 && v <= 1000000)
            o.writes = v;
        else if (!strcmp (argv[i], "--networks") && has_arg && s_parse_u64 (argv[++i], &v) == 0
                 && v >= 1 && v <= S_NETS_MAX)
            o.networks = (int) v;
        else if (!strcmp (argv[i], "--nodes") && has_arg && s_parse_u64 (argv[++i], &v) == 0
                 && v >= 2 && v <= EL_SYNC_PEERS_MAX)
            o.nodes = (int) v;
        else {
            fprintf (stderr, "usage: el_sim [--seeds N] [--nodes M (2..%d)] [--seed-base S] "
                             "[--ticks T (>= 10)] [--faults X (0..20, fault-rate multiplier)] "
                             "[--quiet] [--digest] [--networks K (1..%d)] "
                             "[--writes W (1..1000000 per 1,000 nodes)]\n",
                     EL_SYNC_PEERS_MAX, S_NETS_MAX);
            return 2;
        }
    }
    if (el_crypto_init () < 0) {
        fprintf (stderr, "el_sim: libsodium init failed\n");
        return 1;
    }
    el_sync_stats_t totals = { 0 };
    uint64_t errors = 0, failed = 0;
    double t0 = s_now ();
    for (uint64_t s = 0; s < o.seeds; s++) {
        uint64_t before = errors;
        if (s_run_seed (&o, o.seed_base + s, &totals, &errors) < 0)
            errors++;
        if (errors != before)
            failed++;
    }
    /* the scale figures: entries sent per entry applied (1.0 = nothing sent
     * twice), and peak memory per simulated node */
    struct rusage ru;
    long max_rss_kib = getrusage (RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
    printf ("total: seeds=%llu nodes=%d failed=%llu failed_checks=%llu frames=%llu "
            "entries_sent=%llu applied=%llu duplicates=%llu rejected=%llu forks_seen=%llu "
            "time=%.2fs sent_per_applied=%.3f max_rss_kib=%ld rss_per_node_kib=%.0f\n",
            (unsigned long long) o.seeds, o.nodes, (unsigned long long) failed,
            (unsigned long long) errors, (unsigned long long) totals.frames_out,
            (unsigned long long) totals.entries_out, (unsigned long long) totals.applied,
            (unsigned long long) totals.duplicates, (unsigned long long) totals.rejected,
            (unsigned long long) totals.forks, s_now () - t0,
            totals.applied ? (double) totals.entries_out / (double) totals.applied : 0.0,
            max_rss_kib, (double) max_rss_kib / (o.nodes > 0 ? o.nodes : 1));
    return failed ? 1 : 0;
}
