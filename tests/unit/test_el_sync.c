/* test_el_sync.c — the sync core, with two or three syncs wired by hand in
 * memory (no sockets): Hello exchange, credit-bounded catch-up, push without
 * echo, forks, share policy, and every way a session ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "el_entry.h"
#include "el_store.h"
#include "el_share.h"
#include "el_sync.h"
#include "el_record.h"

#define S_NODES_MAX 4

typedef struct {
    char dir[64];
    el_keypair_t *kp;
    el_store_t *store;
    el_sync_t *sync;
} s_node_t;

/* Frames in flight, FIFO, one list for all links (order per link preserved). */
typedef struct s_wire_frame {
    struct s_wire_frame *next;
    int from, to;
    uint8_t *data;
    size_t len;
} s_wire_frame_t;

typedef struct {
    s_node_t nodes[S_NODES_MAX];
    size_t n_nodes;
    el_keypair_t *broker;                   /* the network's key */
    s_wire_frame_t *head, *tail;
    /* per direction [from][to]: entries and Credit seen on the wire */
    uint64_t entries_queued[S_NODES_MAX][S_NODES_MAX];
    uint64_t entries_delivered[S_NODES_MAX][S_NODES_MAX];
    uint64_t credit_delivered[S_NODES_MAX][S_NODES_MAX];
    uint64_t hello_credit[S_NODES_MAX][S_NODES_MAX];
    uint64_t entries_msgs[S_NODES_MAX][S_NODES_MAX];
    uint64_t max_in_flight;
    int64_t clock_us;                       /* the syncs' clock: moves only when a test moves it */
} s_world_t;

#define S_CLOCK_START 1767225600000000LL    /* 2026-01-01T00:00:00Z */

static int64_t
s_clock (void *arg)
{
    return ((const s_world_t *) arg)->clock_us;
}

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static void
s_keypair (uint8_t tag, el_keypair_t **ret)
{
    uint8_t seed[32];
    memset (seed, tag, sizeof seed);
    assert_int_equal (el_keypair_from_seed (seed, ret), 0);
}

static void
s_node_init (s_world_t *w, size_t i, uint64_t credit, size_t batch)
{
    s_node_t *n = &w->nodes[i];
    snprintf (n->dir, sizeof n->dir, "/tmp/el_sync_test.XXXXXX");
    assert_non_null (mkdtemp (n->dir));
    s_keypair ((uint8_t) (0x10 + i), &n->kp);
    el_store_config_t scfg = { .no_sync = true, .map_bytes_initial = 32u << 20 };
    assert_int_equal (el_store_open (n->dir, &scfg, &n->store), 0);
    el_sync_config_t cfg = { .credit = credit, .batch_max = batch, .now_us = s_clock,
                             .now_arg = w };
    memcpy (cfg.self_id, n->kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (n->store, &cfg, &n->sync), 0);
}

static s_world_t *
s_world_new (size_t n_nodes, uint64_t credit, size_t batch)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    s_keypair (0x01, &w->broker);
    w->clock_us = S_CLOCK_START;
    w->n_nodes = n_nodes;
    for (size_t i = 0; i < n_nodes; i++)
        s_node_init (w, i, credit, batch);
    return w;
}

static void
s_world_destroy (s_world_t **w_p)
{
    s_world_t *w = *w_p;
    while (w->head) {
        s_wire_frame_t *f = w->head;
        w->head = f->next;
        free (f->data);
        free (f);
    }
    for (size_t i = 0; i < w->n_nodes; i++) {
        s_node_t *n = &w->nodes[i];
        el_sync_destroy (&n->sync);
        el_store_destroy (&n->store);
        el_keypair_destroy (&n->kp);
        nftw (n->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    }
    el_keypair_destroy (&w->broker);
    free (w);
    *w_p = NULL;
}

/* Peer handle of node j as seen from any node. */
static uint64_t
s_handle (int j)
{
    return (uint64_t) j + 1;
}

static void
s_link (s_world_t *w, int a, int b)
{
    assert_int_equal (el_sync_peer_open (w->nodes[a].sync, s_handle (b)), 0);
    assert_int_equal (el_sync_peer_open (w->nodes[b].sync, s_handle (a)), 0);
}

/* Decode a frame just enough to account for it. */
static void
s_account (s_world_t *w, int from, int to, const uint8_t *data, size_t len, bool delivered)
{
    El__Msg *m = el__msg__unpack (&el_pb_allocator, len, data);
    assert_non_null (m);
    if (m->m_case == EL__MSG__M_ENTRIES) {
        if (delivered)
            w->entries_delivered[from][to] += m->entries->n_entries;
        else {
            w->entries_queued[from][to] += m->entries->n_entries;
            w->entries_msgs[from][to]++;
        }
    } else if (m->m_case == EL__MSG__M_CREDIT && delivered) {
        w->credit_delivered[from][to] += m->credit->entries;
    } else if (m->m_case == EL__MSG__M_HELLO && delivered) {
        w->hello_credit[from][to] = m->hello->credit;
    }
    el__msg__free_unpacked (m, &el_pb_allocator);
}

/* Move node @p i's queued frames onto the wire, checking that the sender
 * never has more entries in flight than the receiver granted. */
static size_t
s_drain (s_world_t *w, int i)
{
    size_t n = 0;
    uint64_t peer;
    uint8_t *data;
    size_t len;
    while (el_sync_next_out (w->nodes[i].sync, &peer, &data, &len) == 1) {
        int to = (int) peer - 1;
        assert_true (to >= 0 && (size_t) to < w->n_nodes);
        s_account (w, i, to, data, len, false);
        /* entries sent so far <= what the receiver granted and the sender heard */
        uint64_t granted = w->hello_credit[to][i] + w->credit_delivered[to][i];
        assert_true (w->entries_queued[i][to] <= granted);
        uint64_t in_flight = w->entries_queued[i][to] - w->entries_delivered[i][to];
        if (in_flight > w->max_in_flight)
            w->max_in_flight = in_flight;
        s_wire_frame_t *f = calloc (1, sizeof *f);
        assert_non_null (f);
        f->from = i;
        f->to = to;
        f->data = data;
        f->len = len;
        if (w->tail)
            w->tail->next = f;
        else
            w->head = f;
        w->tail = f;
        n++;
    }
    return n;
}

/* Hand @p frame to @p s as from @p peer; the call must work (return 0).
 * @return what became of the session. */
static el_sync_end_t
s_receive (el_sync_t *s, uint64_t peer, const uint8_t *frame, size_t len)
{
    el_sync_end_t end;
    memset (&end, 0xa5, sizeof end);            /* the call must set every field */
    assert_int_equal (el_sync_receive (s, peer, frame, len, &end), 0);
    return end;
}

/* ... and the session goes on. */
static void
s_goes_on (el_sync_t *s, uint64_t peer, const uint8_t *frame, size_t len)
{
    el_sync_end_t end = s_receive (s, peer, frame, len);
    assert_int_equal (end.session, EL_SYNC_CONTINUE);
    assert_int_equal (end.reason, 0);
    assert_false (end.by_peer);
}

/* ... and the session ends for @p reason, said by the peer or by us. */
static void
s_ends (el_sync_t *s, uint64_t peer, const uint8_t *frame, size_t len, int reason, bool by_peer)
{
    el_sync_end_t end = s_receive (s, peer, frame, len);
    assert_int_equal (end.session, EL_SYNC_END);
    assert_int_equal (end.reason, reason);
    assert_int_equal (end.by_peer, by_peer);
}

/* Deliver the oldest frame. @return false when the wire is empty. */
static bool
s_deliver_one (s_world_t *w)
{
    s_wire_frame_t *f = w->head;
    if (!f)
        return false;
    w->head = f->next;
    if (!w->head)
        w->tail = NULL;
    s_account (w, f->from, f->to, f->data, f->len, true);
    s_goes_on (w->nodes[f->to].sync, s_handle (f->from), f->data, f->len);
    free (f->data);
    free (f);
    return true;
}

/* Run until nothing moves. Every node drains fully before anything is
 * delivered, so senders run as far ahead as their credit lets them. */
static void
s_settle (s_world_t *w)
{
    for (int rounds = 0; rounds < 100000; rounds++) {
        size_t moved = 0;
        for (size_t i = 0; i < w->n_nodes; i++)
            moved += s_drain (w, (int) i);
        if (!moved && !w->head)
            return;
        while (s_deliver_one (w))
            ;
    }
    fail_msg ("no quiescence");
}

static void
s_event_payload (const char *key, uint8_t **ret, size_t *ret_len)
{
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) key;
    ev.summary = (char *) "Atelier impression 3D";
    ev.dtstart_us = 1767225600000000LL;
    ev.dtend_us = 1767232800000000LL;
    size_t len = el__event__get_packed_size (&ev);
    uint8_t *buf = malloc (len ? len : 1);
    assert_non_null (buf);
    el__event__pack (&ev, buf);
    *ret = buf;
    *ret_len = len;
}

static void
s_member_payload (uint8_t **ret, size_t *ret_len)
{
    El__Member m = EL__MEMBER__INIT;
    m.display_name = (char *) "Camille";
    size_t len = el__member__get_packed_size (&m);
    uint8_t *buf = malloc (len ? len : 1);
    assert_non_null (buf);
    el__member__pack (&m, buf);
    *ret = buf;
    *ret_len = len;
}

/* Node @p i writes @p n events keyed "<prefix>-<k>". */
static void
s_write_events (s_world_t *w, int i, const char *prefix, size_t n)
{
    el_record_t *recs = calloc (n, sizeof *recs);
    char (*keys)[32] = calloc (n, sizeof *keys);
    uint8_t **payloads = calloc (n, sizeof *payloads);
    assert_true (recs && keys && payloads);
    for (size_t k = 0; k < n; k++) {
        snprintf (keys[k], sizeof keys[k], "%s-%zu", prefix, k);
        s_event_payload (keys[k], &payloads[k], &recs[k].payload_len);
        recs[k].kind = EL__KIND__EVENT;
        recs[k].key = keys[k];
        recs[k].payload = payloads[k];
    }
    el_head_t before = { 0 };
    int rc = el_store_head (w->nodes[i].store, w->nodes[i].kp->pk, &before);
    assert_true (rc == 0 || rc == EL_ENOTFOUND);
    uint64_t seq = 0;
    assert_int_equal (el_sync_write (w->nodes[i].sync, w->nodes[i].kp, recs, n, &seq), 0);
    assert_int_equal (seq, before.seq + n);
    for (size_t k = 0; k < n; k++)
        free (payloads[k]);
    free (payloads);
    free (keys);
    free (recs);
}

static uint64_t
s_head_seq (s_world_t *w, int at, int origin)
{
    el_head_t h;
    int rc = el_store_head (w->nodes[at].store, w->nodes[origin].kp->pk, &h);
    if (rc == EL_ENOTFOUND)
        return 0;
    assert_int_equal (rc, 0);
    return h.seq;
}

static void
s_assert_same_heads (s_world_t *w, int a, int b)
{
    el_head_t *ha, *hb;
    size_t na, nb;
    assert_int_equal (el_store_heads (w->nodes[a].store, &ha, &na), 0);
    assert_int_equal (el_store_heads (w->nodes[b].store, &hb, &nb), 0);
    assert_int_equal (na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_memory_equal (ha[i].origin, hb[i].origin, EL_KEY_BYTES);
        assert_int_equal (ha[i].seq, hb[i].seq);
        assert_memory_equal (ha[i].hash, hb[i].hash, EL_HASH_BYTES);
    }
    free (ha);
    free (hb);
}

static int
s_count_cb (void *arg, const el_entry_t *e)
{
    (void) e;
    (*(size_t *) arg)++;
    return 0;
}

static size_t
s_count_records (s_world_t *w, int at, El__Kind kind)
{
    size_t n = 0;
    assert_int_equal (el_store_records (w->nodes[at].store, kind, NULL, s_count_cb, &n), 0);
    return n;
}

/* A Hello as another implementation might send it. */
static void
s_hello_frame (uint32_t version, const uint8_t sender[EL_KEY_BYTES],
               const uint8_t network[EL_KEY_BYTES], uint64_t credit, uint8_t **ret,
               size_t *ret_len)
{
    El__Hello h = EL__HELLO__INIT;
    h.version = version;
    h.sender.data = (uint8_t *) sender;
    h.sender.len = EL_KEY_BYTES;
    h.network.data = (uint8_t *) network;
    h.network.len = EL_KEY_BYTES;
    h.credit = credit;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    *ret_len = el__msg__get_packed_size (&m);
    *ret = malloc (*ret_len);
    assert_non_null (*ret);
    el__msg__pack (&m, *ret);
}

/* Take every frame queued at node @p i; @return the Error code found, or -1. */
static int
s_take_error (s_world_t *w, int i)
{
    int code = -1;
    uint64_t peer;
    uint8_t *data;
    size_t len;
    while (el_sync_next_out (w->nodes[i].sync, &peer, &data, &len) == 1) {
        El__Msg *m = el__msg__unpack (&el_pb_allocator, len, data);
        assert_non_null (m);
        if (m->m_case == EL__MSG__M_ERROR)
            code = m->error->code;
        el__msg__free_unpacked (m, &el_pb_allocator);
        free (data);
    }
    return code;
}

/* ------------------------------------------------------------ tests */

static void
test_hello (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (2, 0, 0);
    s_write_events (w, 0, "a", 2);
    s_link (w, 0, 1);
    el_sync_peer_info_t info;
    assert_int_equal (el_sync_peer_info (w->nodes[0].sync, s_handle (1), &info), 0);
    assert_false (info.hello_received);
    s_settle (w);
    assert_int_equal (el_sync_peer_info (w->nodes[0].sync, s_handle (1), &info), 0);
    assert_true (info.hello_received);
    assert_memory_equal (info.id, w->nodes[1].kp->pk, EL_KEY_BYTES);
    assert_memory_equal (info.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (info.entries_sent, 2);
    assert_int_equal (info.behind, 0);
    assert_int_equal (el_sync_peer_info (w->nodes[1].sync, s_handle (0), &info), 0);
    assert_int_equal (info.entries_received, 2);
    assert_int_equal (el_sync_peer_info (w->nodes[1].sync, 99, &info), -ENOENT);
    assert_int_equal (el_sync_peer_open (w->nodes[0].sync, s_handle (1)), -EEXIST);
    s_assert_same_heads (w, 0, 1);
    s_world_destroy (&w);
}

static void
test_catch_up_within_credit (void **state)
{
    (void) state;
    /* B grants 1000 entries, batches of 300 (the last batch of each grant
     * must shrink to the 100 left) */
    s_world_t *w = s_world_new (2, 1000, 300);
    for (int k = 0; k < 5; k++) {
        char prefix[8];
        snprintf (prefix, sizeof prefix, "c%d", k);
        s_write_events (w, 0, prefix, 1000);
    }
    assert_int_equal (s_head_seq (w, 0, 0), 5000);
    s_link (w, 0, 1);
    s_settle (w);
    assert_int_equal (s_head_seq (w, 1, 0), 5000);
    s_assert_same_heads (w, 0, 1);
    assert_int_equal (s_count_records (w, 1, EL__KIND__EVENT), 5000);
    /* each entry crossed once; credit was the limit, and it was used */
    assert_int_equal (w->entries_queued[0][1], 5000);
    assert_true (w->max_in_flight <= 1000);
    assert_int_equal (w->max_in_flight, 1000);
    assert_true (w->entries_msgs[0][1] >= 17);
    el_sync_stats_t st;
    el_sync_stats (w->nodes[1].sync, &st);
    assert_int_equal (st.applied, 5000);
    assert_int_equal (st.duplicates, 0);
    assert_int_equal (st.entries_in, 5000);
    el_sync_stats (w->nodes[0].sync, &st);
    assert_int_equal (st.entries_out, 5000);
    assert_int_equal (el_sync_peer_behind (w->nodes[0].sync, s_handle (1), w->nodes[0].kp->pk), 0);
    s_world_destroy (&w);
}

static void
test_push_without_echo (void **state)
{
    (void) state;
    /* a line A - B - C */
    s_world_t *w = s_world_new (3, 0, 0);
    s_link (w, 0, 1);
    s_link (w, 1, 2);
    s_settle (w);
    s_write_events (w, 0, "p", 3);
    s_settle (w);
    /* idle: the batch memory is handed back, and the next push allocates it again */
    for (int i = 0; i < 3; i++)
        el_sync_trim (w->nodes[i].sync);
    el_sync_trim (NULL);
    assert_int_equal (s_head_seq (w, 1, 0), 3);
    assert_int_equal (s_head_seq (w, 2, 0), 3);
    assert_int_equal (w->entries_queued[0][1], 3);
    assert_int_equal (w->entries_queued[1][2], 3);
    assert_int_equal (w->entries_queued[1][0], 0);   /* never back to the sender */
    assert_int_equal (w->entries_queued[2][1], 0);
    /* C writes: it reaches A through B, and nothing comes back */
    s_write_events (w, 2, "q", 2);
    s_settle (w);
    assert_int_equal (s_head_seq (w, 0, 2), 2);
    assert_int_equal (w->entries_queued[2][1], 2);
    assert_int_equal (w->entries_queued[1][0], 2);
    assert_int_equal (w->entries_queued[0][1], 3);
    assert_int_equal (w->entries_queued[1][2], 3);
    s_assert_same_heads (w, 0, 2);
    /* a peer that reconnects and already has everything gets nothing */
    el_sync_peer_close (w->nodes[1].sync, s_handle (2));
    el_sync_peer_close (w->nodes[2].sync, s_handle (1));
    s_link (w, 1, 2);
    s_settle (w);
    assert_int_equal (w->entries_queued[1][2], 3);
    assert_int_equal (w->entries_queued[2][1], 2);
    s_world_destroy (&w);
}

static void
test_loop_converges_without_duplicate_apply (void **state)
{
    (void) state;
    /* a triangle: every entry has two paths */
    s_world_t *w = s_world_new (3, 0, 0);
    s_link (w, 0, 1);
    s_link (w, 1, 2);
    s_link (w, 2, 0);
    s_settle (w);
    s_write_events (w, 0, "t", 10);
    s_write_events (w, 1, "u", 10);
    s_settle (w);
    s_assert_same_heads (w, 0, 1);
    s_assert_same_heads (w, 1, 2);
    for (int i = 0; i < 3; i++) {
        el_sync_stats_t st;
        el_sync_stats (w->nodes[i].sync, &st);
        assert_int_equal (st.applied, 20);  /* 10 own + 10 received, each once */
        assert_int_equal (st.rejected, 0);
    }
    s_world_destroy (&w);
}

/* Node @p i becomes the network's broker: its key is the network id. */
static void
s_node_as_broker (s_world_t *w, int i)
{
    s_node_t *n = &w->nodes[i];
    el_sync_destroy (&n->sync);
    el_keypair_destroy (&n->kp);
    s_keypair (0x01, &n->kp);
    el_sync_config_t cfg = { .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, n->kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (n->store, &cfg, &n->sync), 0);
}

static uint64_t
s_duplicates (s_world_t *w, int i)
{
    el_sync_stats_t st;
    el_sync_stats (w->nodes[i].sync, &st);
    return st.duplicates;
}

/* Broker 0; sites 1, 2, 3 linked to it; 1 and 2 linked directly too; settled. */
static s_world_t *
s_world_with_hub (void)
{
    s_world_t *w = s_world_new (4, 0, 0);
    s_node_as_broker (w, 0);
    s_link (w, 0, 1);
    s_link (w, 0, 2);
    s_link (w, 0, 3);
    s_link (w, 1, 2);
    s_settle (w);
    return w;
}

/* While sites 1 and 2 both hold their broker session, the direct link
 * carries only their own entries: site 3's reach each of them once. */
static void
test_loop_via_hub_sends_once (void **state)
{
    (void) state;
    s_world_t *w = s_world_with_hub ();
    s_write_events (w, 3, "far", 10);
    s_write_events (w, 0, "hub", 2);
    s_settle (w);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal (s_head_seq (w, i, 3), 10);
        assert_int_equal (s_head_seq (w, i, 0), 2);
        assert_int_equal (s_duplicates (w, i), 0);
    }
    assert_int_equal (w->entries_queued[1][2], 0);
    assert_int_equal (w->entries_queued[2][1], 0);
    /* their own entries still take the direct link (and the broker's) */
    s_write_events (w, 1, "own", 3);
    s_settle (w);
    assert_int_equal (w->entries_queued[1][2], 3);
    assert_int_equal (s_head_seq (w, 2, 1), 3);
    assert_int_equal (s_head_seq (w, 3, 1), 3);
    /* status: what it gets from the broker is not counted as behind here */
    el_sync_peer_info_t pi;
    assert_int_equal (el_sync_peer_info (w->nodes[1].sync, s_handle (2), &pi), 0);
    assert_int_equal (pi.behind, 0);
    for (int i = 0; i < 4; i++)
        s_assert_same_heads (w, 0, i);
    s_world_destroy (&w);
}

/* Site 2 loses its broker session: it says so (Hub, with its heads) and
 * site 1 sends it what it lacks, then relays what comes; what site 2 writes
 * meanwhile reaches the broker through site 1. Back on its broker, site 2
 * gets third-party entries from it alone again. */
static void
test_hub_lost_then_back (void **state)
{
    (void) state;
    s_world_t *w = s_world_with_hub ();
    s_write_events (w, 3, "a", 4);
    s_settle (w);
    el_sync_stats_t st;
    el_sync_stats (w->nodes[1].sync, &st);
    uint64_t changes = st.hub_changes;  /* a Hello may precede its sender's broker session */
    el_sync_peer_close (w->nodes[0].sync, s_handle (2));
    el_sync_peer_close (w->nodes[2].sync, s_handle (0));
    s_write_events (w, 3, "b", 5);
    s_write_events (w, 2, "c", 2);
    s_settle (w);
    el_sync_stats (w->nodes[1].sync, &st);
    assert_int_equal (st.hub_changes, changes + 1);
    assert_int_equal (s_head_seq (w, 2, 3), 9);          /* through site 1 */
    assert_int_equal (s_head_seq (w, 0, 2), 2);          /* and back up to the broker */
    assert_int_equal (s_head_seq (w, 3, 2), 2);
    assert_int_equal (w->entries_queued[1][2], 5);       /* b-0..4 only: it had a-* */
    assert_int_equal (s_duplicates (w, 2), 0);
    s_link (w, 0, 2);
    s_settle (w);
    el_sync_stats (w->nodes[1].sync, &st);
    assert_int_equal (st.hub_changes, changes + 2);
    s_write_events (w, 3, "d", 3);
    s_settle (w);
    assert_int_equal (s_head_seq (w, 2, 3), 12);
    assert_int_equal (w->entries_queued[1][2], 5);       /* from the broker alone */
    for (int i = 0; i < 4; i++)
        s_assert_same_heads (w, 0, i);
    s_world_destroy (&w);
}

static void
test_fork_detected_everywhere (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (3, 0, 0);
    /* node 0 writes 3 entries; someone else holding node 0's key signs
     * another seq 3, which node 1 receives first */
    s_write_events (w, 0, "f", 3);
    uint8_t *e[3];
    size_t len[3];
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    for (int k = 0; k < 3; k++) {
        uint8_t *payload;
        size_t payload_len;
        char key[16];
        snprintf (key, sizeof key, "%s-%d", k < 2 ? "f" : "forged", k);
        s_event_payload (key, &payload, &payload_len);
        if (k < 2) {
            assert_int_equal (el_store_entry_get (w->nodes[0].store, w->nodes[0].kp->pk,
                                                  (uint64_t) k + 1, &e[k], &len[k]), 0);
            el_entry_t *parsed;
            assert_int_equal (el_entry_parse (e[k], len[k], &parsed), 0);
            memcpy (prev, parsed->hash, EL_HASH_BYTES);
            el_entry_destroy (&parsed);
        } else {
            el_entry_fields_t f = {
                .seq = 3, .time_us = 1, .kind = EL__KIND__EVENT, .key = key,
                .payload = payload, .payload_len = payload_len,
            };
            memcpy (f.prev, prev, EL_HASH_BYTES);
            memcpy (f.network, w->broker->pk, EL_KEY_BYTES);
            assert_int_equal (el_entry_build (w->nodes[0].kp, &f, &e[k], &len[k], NULL), 0);
        }
        free (payload);
    }
    int status[3];
    assert_int_equal (el_sync_apply (w->nodes[1].sync, (const uint8_t *const *) e, len, 3,
                                     status, NULL), 0);
    for (int k = 0; k < 3; k++) {
        assert_int_equal (status[k], EL_APPLIED);
        free (e[k]);
    }
    /* heads agree on seq 3, not on its hash: both sides must end up with
     * the proof, and node 2 (behind node 1 only) too */
    s_link (w, 0, 1);
    s_link (w, 1, 2);
    s_settle (w);
    for (int i = 0; i < 3; i++) {
        el_head_t h;
        assert_int_equal (el_store_head (w->nodes[i].store, w->nodes[0].kp->pk, &h), 0);
        assert_int_equal (h.status, EL_HEAD_QUARANTINED);
        uint64_t fseq;
        uint8_t *proof;
        size_t proof_len;
        assert_int_equal (el_store_fork_get (w->nodes[i].store, w->nodes[0].kp->pk, &fseq,
                                             &proof, &proof_len), 0);
        assert_int_equal (fseq, 3);
        free (proof);
    }
    /* the forked origin writes no more */
    el_record_t r = { .kind = EL__KIND__EVENT, .key = "late" };
    uint8_t *payload;
    s_event_payload ("late", &payload, &r.payload_len);
    r.payload = payload;
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, &r, 1, NULL),
                      EL_EQUARANTINE);
    free (payload);
    s_world_destroy (&w);
}

static bool
s_is_stub (s_world_t *w, int at, int origin, uint64_t seq)
{
    uint8_t *data;
    size_t len;
    el_entry_t *e;
    assert_int_equal (el_store_entry_get (w->nodes[at].store, w->nodes[origin].kp->pk, seq,
                                          &data, &len), 0);
    assert_int_equal (el_entry_parse (data, len, &e), 0);
    bool stub = e->is_stub;
    el_entry_destroy (&e);
    free (data);
    return stub;
}

static bool
s_share_no_members (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                    const el_entry_t *e)
{
    (void) arg;
    (void) peer;
    (void) peer_network;
    return e->body->kind != EL__KIND__MEMBER;
}

static void
s_member_at_level (El__Sharing level, const char *name, uint8_t **ret, size_t *ret_len)
{
    El__Member m = EL__MEMBER__INIT;
    m.display_name = (char *) name;
    m.sharing = level;
    size_t len = el__member__get_packed_size (&m);
    uint8_t *buf = malloc (len);
    assert_non_null (buf);
    el__member__pack (&m, buf);
    *ret = buf;
    *ret_len = len;
}

/* Re-create node @p i's sync with the sharing-level policy, in network @p net. */
static void
s_by_level (s_world_t *w, int i, const uint8_t net[EL_KEY_BYTES])
{
    el_sync_destroy (&w->nodes[i].sync);
    el_sync_config_t cfg = { .share = el_share_by_level,
                             .share_kinds = EL_SHARE_BY_LEVEL_KINDS,
                             .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, w->nodes[i].kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, net, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (w->nodes[i].store, &cfg, &w->nodes[i].sync), 0);
}

/* docs/ARCHITECTURE.md "Privacy": a member travels by its sharing level, at every hop.
 * 0 and 1 share a network; 2 is a federated peer (another network) reached
 * through 1. */
static void
test_share_by_level (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (3, 0, 0);
    el_keypair_t *other = NULL;
    s_keypair (0x02, &other);
    s_by_level (w, 0, w->broker->pk);
    s_by_level (w, 1, w->broker->pk);
    s_by_level (w, 2, other->pk);
    assert_int_equal (el_sync_accept_network (w->nodes[1].sync, other->pk), 0);
    assert_int_equal (el_sync_accept_network (w->nodes[2].sync, w->broker->pk), 0);

    uint8_t *p[4], *ev;
    el_record_t r[5] = {
        { .kind = EL__KIND__MEMBER, .key = "m-site" },
        { .kind = EL__KIND__MEMBER, .key = "m-net" },
        { .kind = EL__KIND__MEMBER, .key = "m-fed" },
        { .kind = EL__KIND__MEMBER, .key = "m-default" },
        { .kind = EL__KIND__EVENT, .key = "e1" },
    };
    s_member_at_level (EL__SHARING__SHARING_SITE, "Site Level", &p[0], &r[0].payload_len);
    s_member_at_level (EL__SHARING__SHARING_NETWORK, "Network Level", &p[1], &r[1].payload_len);
    s_member_at_level (EL__SHARING__SHARING_FEDERATION, "Fed Level", &p[2], &r[2].payload_len);
    s_member_at_level (EL__SHARING__SHARING_UNSPECIFIED, "Default", &p[3], &r[3].payload_len);
    s_event_payload ("e1", &ev, &r[4].payload_len);
    for (int k = 0; k < 4; k++)
        r[k].payload = p[k];
    r[4].payload = ev;
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, r, 5, NULL), 0);
    s_link (w, 0, 1);
    s_link (w, 1, 2);
    s_settle (w);
    /* the chain is complete everywhere */
    assert_int_equal (s_head_seq (w, 2, 0), 5);
    s_assert_same_heads (w, 0, 1);
    s_assert_same_heads (w, 1, 2);
    /* home: all; same network: network + federation; federated: federation */
    assert_int_equal (s_count_records (w, 0, EL__KIND__MEMBER), 4);
    assert_int_equal (s_count_records (w, 1, EL__KIND__MEMBER), 2);
    assert_int_equal (s_count_records (w, 2, EL__KIND__MEMBER), 1);
    assert_true (s_is_stub (w, 1, 0, 1));
    assert_false (s_is_stub (w, 1, 0, 2));
    assert_false (s_is_stub (w, 1, 0, 3));
    assert_true (s_is_stub (w, 1, 0, 4));
    assert_true (s_is_stub (w, 2, 0, 1));
    assert_true (s_is_stub (w, 2, 0, 2));
    assert_false (s_is_stub (w, 2, 0, 3));
    assert_true (s_is_stub (w, 2, 0, 4));
    assert_int_equal (s_count_records (w, 2, EL__KIND__EVENT), 1);
    /* a tombstone always goes (it carries no payload) */
    el_record_t del = { .kind = EL__KIND__MEMBER, .key = "m-fed", .deleted = true };
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, &del, 1, NULL), 0);
    s_settle (w);
    assert_int_equal (s_count_records (w, 2, EL__KIND__MEMBER), 0);
    assert_int_equal (s_count_records (w, 1, EL__KIND__MEMBER), 1);
    s_assert_same_heads (w, 1, 2);
    for (int k = 0; k < 4; k++)
        free (p[k]);
    free (ev);
    el_keypair_destroy (&other);
    s_world_destroy (&w);
}

static void
test_share_policy_sends_stubs (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (2, 0, 0);
    /* node 0 shares no MEMBER records */
    el_sync_destroy (&w->nodes[0].sync);
    el_sync_config_t cfg = { .share = s_share_no_members, .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, w->nodes[0].kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (w->nodes[0].store, &cfg, &w->nodes[0].sync), 0);

    uint8_t *ev, *mb;
    el_record_t r[3] = {
        { .kind = EL__KIND__EVENT, .key = "e1" },
        { .kind = EL__KIND__MEMBER, .key = "m1" },
        { .kind = EL__KIND__EVENT, .key = "e2" },
    };
    s_event_payload ("e1", &ev, &r[0].payload_len);
    r[0].payload = ev;
    r[2].payload = ev;
    r[2].payload_len = r[0].payload_len;
    s_member_payload (&mb, &r[1].payload_len);
    r[1].payload = mb;
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, r, 3, NULL), 0);
    s_link (w, 0, 1);
    s_settle (w);
    /* the chain is complete at node 1, the member only as a stub */
    assert_int_equal (s_head_seq (w, 1, 0), 3);
    s_assert_same_heads (w, 0, 1);
    assert_int_equal (s_count_records (w, 1, EL__KIND__EVENT), 2);
    assert_int_equal (s_count_records (w, 1, EL__KIND__MEMBER), 0);
    assert_int_equal (s_count_records (w, 0, EL__KIND__MEMBER), 1);
    assert_true (s_is_stub (w, 1, 0, 2));
    assert_false (s_is_stub (w, 0, 0, 2));
    /* a member at the head goes as a stub too (a stub may end a batch) */
    el_record_t m2 = { .kind = EL__KIND__MEMBER, .key = "m2", .payload = mb,
                       .payload_len = r[1].payload_len };
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, &m2, 1, NULL), 0);
    s_settle (w);
    assert_int_equal (s_head_seq (w, 1, 0), 4);
    assert_int_equal (el_sync_peer_behind (w->nodes[0].sync, s_handle (1), w->nodes[0].kp->pk), 0);
    s_assert_same_heads (w, 0, 1);
    assert_int_equal (s_count_records (w, 1, EL__KIND__MEMBER), 0);
    assert_int_equal (s_count_records (w, 0, EL__KIND__MEMBER), 2);
    free (ev);
    free (mb);
    s_world_destroy (&w);
}

static void
test_stubs_in_catch_up (void **state)
{
    (void) state;
    /* credit 4, batches of 4: a run of stubs crosses batch boundaries */
    s_world_t *w = s_world_new (2, 4, 4);
    uint8_t *ev, *mb;
    size_t ev_len, mb_len;
    s_event_payload ("e", &ev, &ev_len);
    s_member_payload (&mb, &mb_len);
    /* e, then member m updated 8 times, its tombstone, e: 2..9 become stubs */
    el_record_t r[11];
    r[0] = (el_record_t) { .kind = EL__KIND__EVENT, .key = "first", .payload = ev,
                           .payload_len = ev_len };
    for (int k = 1; k <= 8; k++)
        r[k] = (el_record_t) { .kind = EL__KIND__MEMBER, .key = "m", .payload = mb,
                               .payload_len = mb_len };
    r[9] = (el_record_t) { .kind = EL__KIND__MEMBER, .key = "m", .deleted = true };
    r[10] = (el_record_t) { .kind = EL__KIND__EVENT, .key = "last", .payload = ev,
                            .payload_len = ev_len };
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, r, 11, NULL), 0);
    for (uint64_t seq = 1; seq <= 11; seq++)
        assert_int_equal (s_is_stub (w, 0, 0, seq), seq >= 2 && seq <= 9);
    s_link (w, 0, 1);
    s_settle (w);
    /* stubs link and verify like entries: all accepted, still stubs there */
    assert_int_equal (s_head_seq (w, 1, 0), 11);
    s_assert_same_heads (w, 0, 1);
    for (uint64_t seq = 1; seq <= 11; seq++)
        assert_int_equal (s_is_stub (w, 1, 0, seq), seq >= 2 && seq <= 9);
    assert_int_equal (s_count_records (w, 1, EL__KIND__MEMBER), 0);
    assert_int_equal (s_count_records (w, 1, EL__KIND__EVENT), 2);
    el_sync_stats_t st;
    el_sync_stats (w->nodes[1].sync, &st);
    assert_int_equal (st.rejected, 0);
    assert_int_equal (st.applied, 11);
    assert_int_equal (w->entries_msgs[0][1], 3);
    free (ev);
    free (mb);
    s_world_destroy (&w);
}

typedef struct {
    s_world_t *w;
    int calls_from_peer;
    int calls_local;
} s_cb_state_t;

/* As a daemon might: answer with a write, then drop the sender. */
static void
s_cb_write_and_close (void *arg, uint64_t from_peer, const el_entry_t *const *entries,
                      const int *status, size_t n)
{
    s_cb_state_t *cs = arg;
    (void) entries;
    (void) status;
    (void) n;
    if (from_peer == 0) {
        cs->calls_local++;
        return;
    }
    cs->calls_from_peer++;
    uint8_t *payload;
    el_record_t r = { .kind = EL__KIND__EVENT, .key = "answer" };
    s_event_payload ("answer", &payload, &r.payload_len);
    r.payload = payload;
    assert_int_equal (el_sync_write (cs->w->nodes[1].sync, cs->w->nodes[1].kp, &r, 1, NULL), 0);
    free (payload);
    el_sync_peer_close (cs->w->nodes[1].sync, from_peer);
}

static void
test_callback_may_write_and_close (void **state)
{
    (void) state;
    /* A - B - C; B's callback writes and closes the session with A */
    s_world_t *w = s_world_new (3, 0, 0);
    s_link (w, 0, 1);
    s_link (w, 1, 2);
    s_settle (w);
    s_cb_state_t cs = { .w = w };
    el_sync_on_applied (w->nodes[1].sync, s_cb_write_and_close, &cs);
    s_write_events (w, 0, "x", 2);
    s_drain (w, 0);
    assert_true (s_deliver_one (w));
    assert_int_equal (cs.calls_from_peer, 1);
    assert_int_equal (cs.calls_local, 1);
    el_sync_peer_info_t info;
    assert_int_equal (el_sync_peer_info (w->nodes[1].sync, s_handle (0), &info), -ENOENT);
    s_settle (w);
    /* C got A's entries and B's answer through B */
    assert_int_equal (s_head_seq (w, 2, 0), 2);
    assert_int_equal (s_head_seq (w, 2, 1), 1);
    assert_int_equal (s_head_seq (w, 0, 1), 0);  /* A is cut off from B */
    s_world_destroy (&w);
}

static void
test_version_mismatch (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 0, 0);
    el_sync_t *a = w->nodes[0].sync;
    assert_int_equal (el_sync_peer_open (a, 7), 0);
    uint8_t *frame;
    size_t len;
    s_hello_frame (EL_PROTOCOL_VERSION + 1, w->broker->pk, w->broker->pk, 100, &frame, &len);
    s_ends (a, 7, frame, len, EL_EVERSION, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_VERSION);
    /* the session is over: more frames get the same answer, nothing queued */
    s_ends (a, 7, frame, len, EL_EVERSION, false);
    assert_int_equal (s_take_error (w, 0), -1);
    el_sync_stats_t st;
    el_sync_stats (a, &st);
    assert_int_equal (st.ended_by_reason[el_error_slot (EL_EVERSION)], 1);
    el_sync_peer_close (a, 7);
    el_sync_end_t end;
    assert_int_equal (el_sync_receive (a, 7, frame, len, &end), -ENOENT);
    assert_int_equal (end.session, EL_SYNC_CONTINUE);
    free (frame);
    s_world_destroy (&w);
}

static void
test_foreign_network (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 0, 0);
    el_sync_t *a = w->nodes[0].sync;
    uint8_t other[EL_KEY_BYTES];
    memset (other, 0x77, sizeof other);
    uint8_t *frame;
    size_t len;
    s_hello_frame (EL_PROTOCOL_VERSION, other, other, 100, &frame, &len);
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    s_ends (a, 1, frame, len, EL_ENETWORK, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_NETWORK);
    /* once federated, the same Hello is welcome */
    assert_int_equal (el_sync_accept_network (a, other), 0);
    assert_int_equal (el_sync_peer_open (a, 2), 0);
    s_goes_on (a, 2, frame, len);
    assert_int_equal (s_take_error (w, 0), -1);
    /* a second Hello in one session is a protocol error */
    s_ends (a, 2, frame, len, EL_EPROTO, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_PROTOCOL);
    free (frame);
    s_world_destroy (&w);
}

static void
test_oversized_frame (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 0, 0);
    el_sync_t *a = w->nodes[0].sync;
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    size_t len = (size_t) EL_FRAME_MAX + 1;
    uint8_t *big = calloc (1, len);
    assert_non_null (big);
    s_ends (a, 1, big, len, EL_ETOOBIG, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_TOO_BIG);
    free (big);
    s_world_destroy (&w);
}

static void
test_garbage_and_misuse (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 10, 0);
    el_sync_t *a = w->nodes[0].sync;
    /* random bytes */
    uint8_t junk[512];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (uint8_t) x;
    }
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    s_ends (a, 1, junk, sizeof junk, EL_EPROTO, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_PROTOCOL);
    /* an empty Msg */
    assert_int_equal (el_sync_peer_open (a, 2), 0);
    s_ends (a, 2, junk, 0, EL_EPROTO, false);
    /* Entries before Hello */
    uint8_t *payload;
    size_t payload_len;
    s_event_payload ("x", &payload, &payload_len);
    ProtobufCBinaryData items[11];
    for (int i = 0; i < 11; i++) {
        items[i].data = payload;
        items[i].len = payload_len;
    }
    El__Entries es = EL__ENTRIES__INIT;
    es.n_entries = 11;
    es.entries = items;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    size_t elen = el__msg__get_packed_size (&m);
    uint8_t *eframe = malloc (elen);
    assert_non_null (eframe);
    el__msg__pack (&m, eframe);
    assert_int_equal (el_sync_peer_open (a, 3), 0);
    s_ends (a, 3, eframe, elen, EL_EPROTO, false);
    /* more entries than granted (10) */
    uint8_t *hello;
    size_t hlen;
    s_hello_frame (EL_PROTOCOL_VERSION, w->broker->pk, w->broker->pk, 100, &hello, &hlen);
    assert_int_equal (el_sync_peer_open (a, 4), 0);
    s_goes_on (a, 4, hello, hlen);
    s_ends (a, 4, eframe, elen, EL_ECREDIT, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_PROTOCOL);
    /* within credit, entries that are not entries: rejected, session goes on */
    es.n_entries = 5;
    elen = el__msg__get_packed_size (&m);
    el__msg__pack (&m, eframe);
    assert_int_equal (el_sync_peer_open (a, 5), 0);
    s_goes_on (a, 5, hello, hlen);
    s_goes_on (a, 5, eframe, elen);
    el_sync_stats_t st;
    el_sync_stats (a, &st);
    assert_int_equal (st.rejected, 5);
    assert_int_equal (st.applied, 0);
    /* an Error from the peer ends the session with its reason */
    El__Error err = EL__ERROR__INIT;
    err.code = EL__ERROR_CODE__ERROR_REVOKED;
    El__Msg em = EL__MSG__INIT;
    em.m_case = EL__MSG__M_ERROR;
    em.error = &err;
    uint8_t ebuf[64];
    size_t eblen = el__msg__pack (&em, ebuf);
    s_ends (a, 5, ebuf, eblen, EL_EREVOKED, true);
    assert_int_equal (s_take_error (w, 0), -1);     /* no Error back */
    el_sync_peer_info_t pi;
    assert_int_equal (el_sync_peer_info (a, 5, &pi), 0);
    assert_int_equal (pi.ended, EL_EREVOKED);
    assert_true (pi.ended_by_peer);                 /* the peer said so, not us */
    assert_int_equal (el_sync_peer_info (a, 4, &pi), 0);
    assert_int_equal (pi.ended, EL_ECREDIT);
    assert_false (pi.ended_by_peer);
    /* misuse of the write API */
    el_record_t r = { .kind = EL__KIND__EVENT, .key = "k", .payload = payload,
                      .payload_len = payload_len };
    assert_int_equal (el_sync_write (a, w->broker, &r, 1, NULL), EL_EINVAL);
    assert_int_equal (el_sync_write (a, w->nodes[0].kp, &r, 0, NULL), EL_EINVAL);
    assert_int_equal (el_sync_write (a, w->nodes[0].kp, &r, EL_SYNC_WRITE_MAX + 1, NULL),
                      EL_ETOOBIG);
    free (payload);
    free (eframe);
    free (hello);
    s_world_destroy (&w);
}

static void
test_mutated_frames (void **state)
{
    (void) state;
    /* a real session's frames, corrupted at random, never crash the receiver
     * and only ever end the session with a code */
    s_world_t *w = s_world_new (2, 0, 4);
    s_write_events (w, 0, "z", 20);
    assert_int_equal (el_sync_peer_open (w->nodes[0].sync, s_handle (1)), 0);
    assert_int_equal (el_sync_peer_open (w->nodes[1].sync, s_handle (0)), 0);
    s_drain (w, 1);
    assert_true (s_deliver_one (w));            /* node 0 hears node 1's Hello */
    uint8_t *frames[16];
    size_t lens[16], n = 0;
    uint64_t peer;
    uint8_t *data;
    size_t len;
    while (n < 16 && el_sync_next_out (w->nodes[0].sync, &peer, &data, &len) == 1) {
        frames[n] = data;
        lens[n++] = len;
    }
    assert_true (n >= 3);                       /* Hello, then Entries */
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 400; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t which = (size_t) (x % n);
        uint8_t *copy = malloc (lens[which]);
        assert_non_null (copy);
        memcpy (copy, frames[which], lens[which]);
        size_t clen = lens[which];
        if (x & 1)
            clen = (size_t) ((x >> 8) % (clen + 1));      /* truncate */
        for (int k = 0; k < 1 + (int) ((x >> 20) % 4) && clen; k++)
            copy[(x >> (24 + 8 * k)) % clen] ^= (uint8_t) (1u << ((x >> (16 + k)) % 8));
        uint64_t h = 1000 + (uint64_t) round;
        el_sync_t *b = w->nodes[1].sync;
        assert_int_equal (el_sync_peer_open (b, h), 0);
        if (which != 0)
            s_goes_on (b, h, frames[0], lens[0]);
        el_sync_end_t end = s_receive (b, h, copy, clen);
        int r = end.reason;
        assert_true (end.session == EL_SYNC_CONTINUE
                         ? r == 0
                         : r == EL_EPROTO || r == EL_EVERSION || r == EL_ENETWORK
                               || r == EL_ECREDIT || r == EL_ETOOBIG);
        el_sync_peer_close (b, h);
        while (el_sync_next_out (b, &peer, &data, &len) == 1)
            free (data);
        free (copy);
    }
    /* node 1 holds nothing that node 0 did not write */
    el_head_t *heads;
    size_t nh;
    assert_int_equal (el_store_heads (w->nodes[1].store, &heads, &nh), 0);
    for (size_t i = 0; i < nh; i++) {
        assert_memory_equal (heads[i].origin, w->nodes[0].kp->pk, EL_KEY_BYTES);
        assert_true (heads[i].seq <= 20);
    }
    free (heads);
    for (size_t i = 0; i < n; i++)
        free (frames[i]);
    s_world_destroy (&w);
}

static void
test_many_origins_many_peers (void **state)
{
    (void) state;
    /* 1000 origins, 1000 up-to-date peers: one new entry goes out once per
     * peer, nothing else moves */
    enum { N_ORIGINS = 1000, N_PEERS = 1000 };
    s_world_t *w = s_world_new (1, 0, 0);
    el_sync_t *a = w->nodes[0].sync;
    uint8_t **entries = calloc (N_ORIGINS, sizeof *entries);
    size_t *lens = calloc (N_ORIGINS, sizeof *lens);
    int *status = calloc (N_ORIGINS, sizeof *status);
    assert_true (entries && lens && status);
    uint8_t *payload;
    size_t payload_len;
    s_event_payload ("o", &payload, &payload_len);
    for (int i = 0; i < N_ORIGINS; i++) {
        uint8_t seed[32] = { 0 };
        memcpy (seed, &i, sizeof i);
        seed[31] = 0x5a;
        el_keypair_t *kp;
        assert_int_equal (el_keypair_from_seed (seed, &kp), 0);
        el_entry_fields_t f = { .seq = 1, .time_us = 1, .kind = EL__KIND__EVENT, .key = "o",
                                .payload = payload, .payload_len = payload_len };
        memcpy (f.network, w->broker->pk, EL_KEY_BYTES);
        assert_int_equal (el_entry_build (kp, &f, &entries[i], &lens[i], NULL), 0);
        el_keypair_destroy (&kp);
    }
    assert_int_equal (el_sync_apply (a, (const uint8_t *const *) entries, lens, N_ORIGINS,
                                     status, NULL), 0);
    for (int i = 0; i < N_ORIGINS; i++) {
        assert_int_equal (status[i], EL_APPLIED);
        free (entries[i]);
    }
    /* a Hello holding exactly our heads */
    el_head_t *heads;
    size_t nh;
    assert_int_equal (el_store_heads (w->nodes[0].store, &heads, &nh), 0);
    assert_int_equal (nh, N_ORIGINS);
    El__Head *hs = calloc (nh, sizeof *hs);
    El__Head **hps = calloc (nh, sizeof *hps);
    assert_true (hs && hps);
    for (size_t i = 0; i < nh; i++) {
        El__Head h = EL__HEAD__INIT;
        h.origin.data = heads[i].origin;
        h.origin.len = EL_KEY_BYTES;
        h.seq = heads[i].seq;
        h.hash.data = heads[i].hash;
        h.hash.len = EL_HASH_BYTES;
        hs[i] = h;
        hps[i] = &hs[i];
    }
    El__Hello hello = EL__HELLO__INIT;
    hello.version = EL_PROTOCOL_VERSION;
    hello.sender.data = w->broker->pk;
    hello.sender.len = EL_KEY_BYTES;
    hello.network.data = w->broker->pk;
    hello.network.len = EL_KEY_BYTES;
    hello.credit = 100;
    hello.n_heads = nh;
    hello.heads = hps;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &hello;
    size_t hlen = el__msg__get_packed_size (&m);
    uint8_t *hframe = malloc (hlen);
    assert_non_null (hframe);
    el__msg__pack (&m, hframe);
    uint64_t peer;
    uint8_t *data;
    size_t len;
    for (uint64_t p = 1; p <= N_PEERS; p++) {
        assert_int_equal (el_sync_peer_open (a, p), 0);
        s_goes_on (a, p, hframe, hlen);
        while (el_sync_next_out (a, &peer, &data, &len) == 1) {
            El__Msg *out = el__msg__unpack (&el_pb_allocator, len, data);
            assert_non_null (out);
            assert_int_equal (out->m_case, EL__MSG__M_HELLO);   /* nothing to send */
            el__msg__free_unpacked (out, &el_pb_allocator);
            free (data);
        }
    }
    s_write_events (w, 0, "new", 1);
    size_t frames = 0;
    uint64_t seen = 0;
    while (el_sync_next_out (a, &peer, &data, &len) == 1) {
        El__Msg *out = el__msg__unpack (&el_pb_allocator, len, data);
        assert_non_null (out);
        assert_int_equal (out->m_case, EL__MSG__M_ENTRIES);
        assert_int_equal (out->entries->n_entries, 1);
        el__msg__free_unpacked (out, &el_pb_allocator);
        free (data);
        assert_true (peer >= 1 && peer <= N_PEERS);
        frames++;
        seen += peer;
    }
    assert_int_equal (frames, N_PEERS);
    assert_int_equal (seen, (uint64_t) N_PEERS * (N_PEERS + 1) / 2);   /* each peer once */
    el_sync_peer_info_t info;
    assert_int_equal (el_sync_peer_info (a, N_PEERS, &info), 0);
    assert_int_equal (info.behind, 0);
    assert_int_equal (info.credit_to_send, 99);
    free (hframe);
    free (hs);
    free (hps);
    free (heads);
    free (payload);
    free (entries);
    free (lens);
    free (status);
    s_world_destroy (&w);
}

/* Entries frames in canonical form (read without decoding) and in other
 * valid or invalid encodings (decoded by protobuf-c) give the same results:
 * the entries apply; too many entries or a truncated frame end the session. */
typedef struct {
    size_t n;
    uint8_t *data[8];
    size_t len[8];
} held_t;

static int
s_hold (void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    (void) seq;
    held_t *h = arg;
    assert_true (h->n < 8);
    h->data[h->n] = malloc (len);
    assert_non_null (h->data[h->n]);
    memcpy (h->data[h->n], data, len);
    h->len[h->n++] = len;
    return 0;
}

/* Msg{entries: Entries{entries[from..to)}} followed, inside Entries, by
 * @p extra_len raw bytes (e.g. an unknown field). */
static uint8_t *
s_entries_frame (const held_t *h, size_t from, size_t to, const uint8_t *extra,
                 size_t extra_len, size_t *ret_len)
{
    ProtobufCBinaryData items[8];
    for (size_t i = from; i < to; i++)
        items[i - from] = (ProtobufCBinaryData) { h->len[i], h->data[i] };
    El__Entries es = EL__ENTRIES__INIT;
    es.n_entries = to - from;
    es.entries = items;
    size_t inner = el__entries__get_packed_size (&es);
    uint8_t *buf = malloc (inner + extra_len + 16);
    assert_non_null (buf);
    size_t body = inner + extra_len, off = 0;
    buf[off++] = 0x12;                          /* Msg.entries, length-delimited */
    for (size_t v = body;; v >>= 7) {
        buf[off++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    el__entries__pack (&es, buf + off);
    if (extra_len)
        memcpy (buf + off + inner, extra, extra_len);
    *ret_len = off + body;
    return buf;
}

static void
test_entries_frame_forms (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (2, 0, 0);
    s_write_events (w, 0, "f", 4);
    held_t h = { 0 };
    size_t got;
    assert_int_equal (el_store_entries_after (w->nodes[0].store, w->nodes[0].kp->pk, 0, 8,
                                              s_hold, &h, &got), 0);
    assert_int_equal (got, 4);
    el_sync_t *b = w->nodes[1].sync;
    uint8_t *hello;
    size_t hlen;
    s_hello_frame (EL_PROTOCOL_VERSION, w->nodes[0].kp->pk, w->broker->pk, 100, &hello, &hlen);
    assert_int_equal (el_sync_peer_open (b, 7), 0);
    s_goes_on (b, 7, hello, hlen);

    /* canonical: what protobuf-c packs */
    size_t flen;
    uint8_t *f = s_entries_frame (&h, 0, 2, NULL, 0, &flen);
    uint8_t *ref = NULL;
    {
        ProtobufCBinaryData items[2] = { { h.len[0], h.data[0] }, { h.len[1], h.data[1] } };
        El__Entries es = EL__ENTRIES__INIT;
        es.n_entries = 2;
        es.entries = items;
        El__Msg m = EL__MSG__INIT;
        m.m_case = EL__MSG__M_ENTRIES;
        m.entries = &es;
        assert_int_equal (el__msg__get_packed_size (&m), flen);
        ref = malloc (flen);
        assert_non_null (ref);
        el__msg__pack (&m, ref);
        assert_memory_equal (ref, f, flen);
    }
    s_goes_on (b, 7, f, flen);
    assert_int_equal (s_head_seq (w, 1, 0), 2);
    free (f);
    free (ref);

    /* an unknown field inside Entries (field 2, varint 1): still valid */
    const uint8_t unknown[] = { 0x10, 0x01 };
    f = s_entries_frame (&h, 2, 3, unknown, sizeof unknown, &flen);
    s_goes_on (b, 7, f, flen);
    assert_int_equal (s_head_seq (w, 1, 0), 3);
    free (f);

    /* a non-minimal length prefix (0x80 | len, 0x00 ...) is valid too */
    f = s_entries_frame (&h, 3, 4, NULL, 0, &flen);
    assert_true (f[1] & 0x80);                  /* two-byte prefix: one entry > 127 bytes */
    uint8_t *g = malloc (flen + 1);
    assert_non_null (g);
    g[0] = f[0];
    g[1] = f[1];
    g[2] = (uint8_t) (f[2] | 0x80);
    g[3] = 0x00;
    memcpy (g + 4, f + 3, flen - 3);
    s_goes_on (b, 7, g, flen + 1);
    assert_int_equal (s_head_seq (w, 1, 0), 4);
    free (g);
    free (f);
    el_sync_stats_t st;
    el_sync_stats (b, &st);
    assert_int_equal (st.applied, 4);
    assert_int_equal (st.rejected, 0);

    /* truncated: the length prefix claims more than the frame holds */
    f = s_entries_frame (&h, 0, 1, NULL, 0, &flen);
    s_ends (b, 7, f, flen - 1, EL_EPROTO, false);
    free (f);

    /* more than EL_BATCH_MAX entries (empty ones) */
    size_t big_n = EL_BATCH_MAX + 1, big_len = 4 + 2 * big_n;
    uint8_t *big = malloc (big_len);
    assert_non_null (big);
    big[0] = 0x12;
    size_t body = 2 * big_n;
    big[1] = (uint8_t) (0x80 | (body & 0x7f));
    big[2] = (uint8_t) (0x80 | ((body >> 7) & 0x7f));
    big[3] = (uint8_t) (body >> 14);
    for (size_t i = 0; i < big_n; i++) {
        big[4 + 2 * i] = 0x0a;
        big[5 + 2 * i] = 0x00;
    }
    assert_int_equal (el_sync_peer_open (b, 8), 0);
    s_goes_on (b, 8, hello, hlen);
    s_ends (b, 8, big, big_len, EL_EPROTO, false);
    free (big);

    for (size_t i = 0; i < h.n; i++)
        free (h.data[i]);
    free (hello);
    s_world_destroy (&w);
}

/* Time of entry @p seq of node @p origin's chain, as node @p at holds it. */
static int64_t
s_entry_time (s_world_t *w, int at, int origin, uint64_t seq)
{
    uint8_t *data;
    size_t len;
    el_entry_t *e;
    assert_int_equal (el_store_entry_get (w->nodes[at].store, w->nodes[origin].kp->pk, seq,
                                          &data, &len), 0);
    assert_int_equal (el_entry_parse (data, len, &e), 0);
    int64_t t = e->body->time_us;
    el_entry_destroy (&e);
    free (data);
    return t;
}

/* Written entries carry the configured clock's time, and nothing else of the
 * machine's: two worlds given the same keys, clock and writes hold the same
 * bytes. */
static void
test_write_uses_injected_clock (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (2, 0, 0);
    el_sync_t *no_clock = NULL;
    el_sync_config_t cfg = { .credit = 0 };
    memcpy (cfg.self_id, w->nodes[0].kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (w->nodes[0].store, &cfg, &no_clock), -EINVAL);
    assert_null (no_clock);

    s_write_events (w, 0, "t", 2);
    w->clock_us += 5400000000LL;                /* 90 minutes on */
    s_write_events (w, 0, "u", 1);
    s_link (w, 0, 1);
    s_settle (w);
    assert_int_equal (s_head_seq (w, 1, 0), 3);
    for (int at = 0; at < 2; at++) {
        assert_int_equal (s_entry_time (w, at, 0, 1), S_CLOCK_START);
        assert_int_equal (s_entry_time (w, at, 0, 2), S_CLOCK_START);
        assert_int_equal (s_entry_time (w, at, 0, 3), S_CLOCK_START + 5400000000LL);
    }

    s_world_t *v = s_world_new (1, 0, 0);
    s_write_events (v, 0, "t", 2);
    v->clock_us += 5400000000LL;
    s_write_events (v, 0, "u", 1);
    el_head_t hw, hv;
    assert_int_equal (el_store_head (w->nodes[1].store, w->nodes[0].kp->pk, &hw), 0);
    assert_int_equal (el_store_head (v->nodes[0].store, v->nodes[0].kp->pk, &hv), 0);
    assert_int_equal (hv.seq, 3);
    assert_memory_equal (hw.hash, hv.hash, EL_HASH_BYTES);
    s_world_destroy (&v);
    s_world_destroy (&w);
}

/* ------------------------------------------------------------ session results */

static uint8_t *
s_msg_frame (const El__Msg *m, size_t *ret_len)
{
    *ret_len = el__msg__get_packed_size (m);
    uint8_t *buf = malloc (*ret_len ? *ret_len : 1);
    assert_non_null (buf);
    el__msg__pack (m, buf);
    return buf;
}

static uint8_t *
s_credit_frame (uint64_t entries, size_t *ret_len)
{
    El__Credit c = EL__CREDIT__INIT;
    c.entries = entries;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_CREDIT;
    m.credit = &c;
    return s_msg_frame (&m, ret_len);
}

static uint8_t *
s_error_frame (int code, size_t *ret_len)
{
    El__Error e = EL__ERROR__INIT;
    e.code = (El__ErrorCode) code;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ERROR;
    m.error = &e;
    return s_msg_frame (&m, ret_len);
}

/* Msg{entries: @p n copies of @p entry} */
static uint8_t *
s_copies_frame (const uint8_t *entry, size_t entry_len, size_t n, size_t *ret_len)
{
    ProtobufCBinaryData *items = calloc (n ? n : 1, sizeof *items);
    assert_non_null (items);
    for (size_t i = 0; i < n; i++)
        items[i] = (ProtobufCBinaryData) { entry_len, (uint8_t *) entry };
    El__Entries es = EL__ENTRIES__INIT;
    es.n_entries = n;
    es.entries = items;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    uint8_t *f = s_msg_frame (&m, ret_len);
    free (items);
    return f;
}

/* Entry @p seq of the site seeded with @p tag, in network @p net (prev: zeros). */
static uint8_t *
s_entry_of (uint8_t tag, uint64_t seq, const uint8_t net[EL_KEY_BYTES], size_t *ret_len)
{
    el_keypair_t *kp;
    s_keypair (tag, &kp);
    uint8_t *payload;
    size_t payload_len;
    s_event_payload ("r", &payload, &payload_len);
    el_entry_fields_t f = { .seq = seq, .time_us = S_CLOCK_START, .kind = EL__KIND__EVENT,
                            .key = "r", .payload = payload, .payload_len = payload_len };
    memcpy (f.network, net, EL_KEY_BYTES);
    uint8_t *data;
    assert_int_equal (el_entry_build (kp, &f, &data, ret_len, NULL), 0);
    free (payload);
    el_keypair_destroy (&kp);
    return data;
}

/* A Hello from @p sender in @p net with @p n empty heads, written byte by
 * byte (2 bytes a head). */
static uint8_t *
s_hello_heads_frame (const uint8_t sender[EL_KEY_BYTES], const uint8_t net[EL_KEY_BYTES],
                     size_t n, size_t *ret_len)
{
    size_t body = 2 + 2 * (2 + EL_KEY_BYTES) + 2 * n;
    uint8_t *buf = malloc (16 + body), *p = buf;
    assert_non_null (buf);
    *p++ = 0x0a;
    for (size_t v = body; ; v >>= 7) {
        *p++ = (uint8_t) (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        if (v <= 0x7f)
            break;
    }
    *p++ = 0x08;
    *p++ = EL_PROTOCOL_VERSION;
    *p++ = 0x12;
    *p++ = EL_KEY_BYTES;
    memcpy (p, sender, EL_KEY_BYTES);
    p += EL_KEY_BYTES;
    *p++ = 0x1a;
    *p++ = EL_KEY_BYTES;
    memcpy (p, net, EL_KEY_BYTES);
    p += EL_KEY_BYTES;
    for (size_t i = 0; i < n; i++) {
        *p++ = 0x2a;
        *p++ = 0;
    }
    *ret_len = (size_t) (p - buf);
    return buf;
}

/* A Hub message saying @p link, with @p n empty heads (malformed ones: the
 * count is what is checked first). */
static uint8_t *
s_hub_frame (uint32_t link, size_t n, size_t *ret_len)
{
    size_t body = 2 + 2 * n;
    uint8_t *buf = malloc (16 + body), *p = buf;
    assert_non_null (buf);
    *p++ = 0x2a;                        /* Msg.hub */
    for (size_t v = body; ; v >>= 7) {
        *p++ = (uint8_t) (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        if (v <= 0x7f)
            break;
    }
    *p++ = 0x08;                        /* Hub.link */
    *p++ = (uint8_t) link;
    for (size_t i = 0; i < n; i++) {
        *p++ = 0x12;                    /* Hub.heads */
        *p++ = 0;
    }
    *ret_len = (size_t) (p - buf);
    return buf;
}

/* Which frames end a session, with which reason, said by whom, and with which
 * Error queued for the peer; and which leave it going. Each case runs on a
 * fresh session of a sync that grants 10 entries, after a valid Hello when
 * .after_hello is set. */
static void
test_session_end_results (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 10, 0);
    el_sync_t *a = w->nodes[0].sync;
    const uint8_t *net = w->broker->pk;
    uint8_t other[EL_KEY_BYTES];
    memset (other, 0x77, sizeof other);
    size_t e1_len, e5_len;
    uint8_t *e1 = s_entry_of (0x30, 1, net, &e1_len);
    uint8_t *e5 = s_entry_of (0x31, 5, net, &e5_len);
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02 };
    static const uint8_t no_message[] = { 0x78, 0x01 };     /* field 15 only: no oneof */
    static const uint8_t short_sender[] = { 0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x01, 0x02 };
    struct {
        const char *what;
        bool after_hello;
        uint8_t *frame;
        size_t len;
        bool copy;                  /* frame points to static bytes: copy it */
        el_sync_session_t session;
        int reason;
        bool by_peer;
        int error;                  /* El__ErrorCode queued for the peer, -1 none */
    } cases[] = {
        { "Hello", false, .session = EL_SYNC_CONTINUE },
        { "Credit", true, .session = EL_SYNC_CONTINUE },
        { "empty Entries", true, .session = EL_SYNC_CONTINUE },
        { "one entry", true, .session = EL_SYNC_CONTINUE },
        { "an entry twice", true, .session = EL_SYNC_CONTINUE },
        { "an entry past a gap", true, .session = EL_SYNC_CONTINUE },
        { "entries that do not parse", true, .session = EL_SYNC_CONTINUE },
        { "credit before Hello", false, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "entries before Hello", false, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a second Hello", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "over the credit granted", true, .session = EL_SYNC_END, .reason = EL_ECREDIT,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "another version", false, .session = EL_SYNC_END, .reason = EL_EVERSION,
          .error = EL__ERROR_CODE__ERROR_VERSION },
        { "a foreign network", false, .session = EL_SYNC_END, .reason = EL_ENETWORK,
          .error = EL__ERROR_CODE__ERROR_NETWORK },
        { "a Hello with short keys", false, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a frame over EL_FRAME_MAX", false, .session = EL_SYNC_END, .reason = EL_ETOOBIG,
          .error = EL__ERROR_CODE__ERROR_TOO_BIG },
        { "junk", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "an empty frame", false, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Msg without a message", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Hello over EL_SYNC_HELLO_HEADS_MAX heads", false, .session = EL_SYNC_END,
          .reason = EL_ETOOBIG, .error = EL__ERROR_CODE__ERROR_TOO_BIG },
        { "a Hello of a million empty heads", false, .session = EL_SYNC_END,
          .reason = EL_ETOOBIG, .error = EL__ERROR_CODE__ERROR_TOO_BIG },
        { "a Hello at EL_SYNC_HELLO_HEADS_MAX empty heads: malformed, not too big", false,
          .session = EL_SYNC_END, .reason = EL_EPROTO, .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "Entries over EL_BATCH_MAX", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Hub (linked)", true, .session = EL_SYNC_CONTINUE },
        { "a Hub before Hello", false, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Hub with an unknown link", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Hub with malformed heads", true, .session = EL_SYNC_END, .reason = EL_EPROTO,
          .error = EL__ERROR_CODE__ERROR_PROTOCOL },
        { "a Hub over EL_SYNC_HELLO_HEADS_MAX heads", true, .session = EL_SYNC_END,
          .reason = EL_ETOOBIG, .error = EL__ERROR_CODE__ERROR_TOO_BIG },
        { "peer: version", true, .session = EL_SYNC_END, .reason = EL_EVERSION, .by_peer = true },
        { "peer: network", false, .session = EL_SYNC_END, .reason = EL_ENETWORK, .by_peer = true },
        { "peer: revoked", true, .session = EL_SYNC_END, .reason = EL_EREVOKED, .by_peer = true },
        { "peer: too big", true, .session = EL_SYNC_END, .reason = EL_ETOOBIG, .by_peer = true },
        { "peer: protocol", true, .session = EL_SYNC_END, .reason = EL_EPROTO, .by_peer = true },
        { "peer: unknown code", true, .session = EL_SYNC_END, .reason = EL_EPROTO, .by_peer = true },
    };
    size_t n_cases = sizeof cases / sizeof *cases, k = 0;
    s_hello_frame (EL_PROTOCOL_VERSION, w->nodes[0].kp->pk, net, 100, &cases[k].frame,
                   &cases[k].len), k++;
    cases[k].frame = s_credit_frame (5, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (NULL, 0, 0, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e1, e1_len, 1, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e1, e1_len, 2, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e5, e5_len, 1, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (junk, sizeof junk, 3, &cases[k].len), k++;
    cases[k].frame = s_credit_frame (5, &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e1, e1_len, 1, &cases[k].len), k++;
    s_hello_frame (EL_PROTOCOL_VERSION, w->nodes[0].kp->pk, net, 100, &cases[k].frame,
                   &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e1, e1_len, 11, &cases[k].len), k++;
    s_hello_frame (EL_PROTOCOL_VERSION + 1, w->nodes[0].kp->pk, net, 100, &cases[k].frame,
                   &cases[k].len), k++;
    s_hello_frame (EL_PROTOCOL_VERSION, other, other, 100, &cases[k].frame, &cases[k].len), k++;
    cases[k].frame = (uint8_t *) short_sender, cases[k].len = sizeof short_sender;
    cases[k++].copy = true;
    cases[k].len = (size_t) EL_FRAME_MAX + 1;
    cases[k].frame = calloc (1, cases[k].len), k++;
    cases[k].frame = (uint8_t *) junk, cases[k].len = sizeof junk, cases[k++].copy = true;
    cases[k].frame = (uint8_t *) junk, cases[k].len = 0, cases[k++].copy = true;
    cases[k].frame = (uint8_t *) no_message, cases[k].len = sizeof no_message;
    cases[k++].copy = true;
    cases[k].frame = s_hello_heads_frame (w->nodes[0].kp->pk, net, EL_SYNC_HELLO_HEADS_MAX + 1,
                                          &cases[k].len), k++;
    cases[k].frame = s_hello_heads_frame (w->nodes[0].kp->pk, net, 1000000, &cases[k].len), k++;
    cases[k].frame = s_hello_heads_frame (w->nodes[0].kp->pk, net, EL_SYNC_HELLO_HEADS_MAX,
                                          &cases[k].len), k++;
    cases[k].frame = s_copies_frame (e1, e1_len, EL_BATCH_MAX + 1, &cases[k].len), k++;
    cases[k].frame = s_hub_frame (EL__HUB_LINK__HUB_LINKED, 0, &cases[k].len), k++;
    cases[k].frame = s_hub_frame (EL__HUB_LINK__HUB_LINKED, 0, &cases[k].len), k++;
    cases[k].frame = s_hub_frame (7, 0, &cases[k].len), k++;
    cases[k].frame = s_hub_frame (EL__HUB_LINK__HUB_UNLINKED, 3, &cases[k].len), k++;
    cases[k].frame = s_hub_frame (EL__HUB_LINK__HUB_UNLINKED, EL_SYNC_HELLO_HEADS_MAX + 1,
                                  &cases[k].len), k++;
    cases[k].frame = s_error_frame (EL__ERROR_CODE__ERROR_VERSION, &cases[k].len), k++;
    cases[k].frame = s_error_frame (EL__ERROR_CODE__ERROR_NETWORK, &cases[k].len), k++;
    cases[k].frame = s_error_frame (EL__ERROR_CODE__ERROR_REVOKED, &cases[k].len), k++;
    cases[k].frame = s_error_frame (EL__ERROR_CODE__ERROR_TOO_BIG, &cases[k].len), k++;
    cases[k].frame = s_error_frame (EL__ERROR_CODE__ERROR_PROTOCOL, &cases[k].len), k++;
    cases[k].frame = s_error_frame (77, &cases[k].len), k++;
    assert_int_equal (k, n_cases);

    uint8_t *hello;
    size_t hlen;
    s_hello_frame (EL_PROTOCOL_VERSION, w->nodes[0].kp->pk, net, 100, &hello, &hlen);
    for (size_t i = 0; i < n_cases; i++) {
        uint64_t peer = 100 + i;
        print_message ("case: %s\n", cases[i].what);
        assert_int_equal (el_sync_peer_open (a, peer), 0);
        if (cases[i].after_hello)
            s_goes_on (a, peer, hello, hlen);
        assert_int_equal (s_take_error (w, 0), -1);
        if (!cases[i].session) {
            s_goes_on (a, peer, cases[i].frame, cases[i].len);
            assert_int_equal (s_take_error (w, 0), -1);
            el_sync_peer_info_t pi;
            assert_int_equal (el_sync_peer_info (a, peer, &pi), 0);
            assert_int_equal (pi.ended, 0);
            /* entries the store refused are counted for the session that sent them */
            bool gap = !strcmp (cases[i].what, "an entry past a gap");
            bool junk_entries = !strcmp (cases[i].what, "entries that do not parse");
            assert_int_equal (pi.rejected, gap ? 1 : junk_entries ? 3 : 0);
            assert_int_equal (pi.rejected_by_reason[el_error_slot (EL_EGAP)], gap ? 1 : 0);
            assert_int_equal (pi.rejected_by_reason[el_error_slot (EL_EPROTO)],
                              junk_entries ? 3 : 0);
        } else {
            s_ends (a, peer, cases[i].frame, cases[i].len, cases[i].reason, cases[i].by_peer);
            assert_int_equal (s_take_error (w, 0), cases[i].by_peer ? -1 : cases[i].error);
            /* ended it stays, whatever comes next, and nothing more is sent */
            s_ends (a, peer, hello, hlen, cases[i].reason, cases[i].by_peer);
            assert_int_equal (s_take_error (w, 0), -1);
        }
        el_sync_peer_close (a, peer);
        if (!cases[i].copy)
            free (cases[i].frame);
    }
    el_sync_stats_t st;
    el_sync_stats (a, &st);
    assert_int_equal (st.applied, 1);           /* e1, once */
    assert_int_equal (st.ended_by_reason[el_error_slot (EL_ECREDIT)], 1);
    /* every frame that ended its session here is counted as refused, by reason;
     * an Error the peer sent is not */
    uint64_t refused[EL_ERROR_SLOTS] = { 0 }, n_refused = 0;
    for (size_t i = 0; i < n_cases; i++)
        if (cases[i].session == EL_SYNC_END && !cases[i].by_peer) {
            refused[el_error_slot (cases[i].reason)]++;
            n_refused++;
        }
    assert_int_equal (st.frames_refused, n_refused);
    for (size_t r = 0; r < EL_ERROR_SLOTS; r++)
        assert_int_equal (st.frames_refused_by_reason[r], refused[r]);
    assert_true (refused[el_error_slot (EL_EPROTO)] >= 8);
    assert_int_equal (refused[el_error_slot (EL_ETOOBIG)], 4);

    /* a Hello from a revoked site */
    el_sync_destroy (&w->nodes[0].sync);
    assert_int_equal (el_store_set_revoked (w->nodes[0].store, w->broker->pk, true), 0);
    el_sync_config_t cfg = { .credit = 10, .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, w->nodes[0].kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, net, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (w->nodes[0].store, &cfg, &w->nodes[0].sync), 0);
    a = w->nodes[0].sync;
    uint8_t *revoked;
    size_t rlen;
    s_hello_frame (EL_PROTOCOL_VERSION, w->broker->pk, net, 100, &revoked, &rlen);
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    s_ends (a, 1, revoked, rlen, EL_EREVOKED, false);
    assert_int_equal (s_take_error (w, 0), EL__ERROR_CODE__ERROR_REVOKED);

    /* the call itself failing says nothing of the session */
    el_sync_end_t end;
    assert_int_equal (el_sync_receive (a, 999, hello, hlen, &end), -ENOENT);
    assert_int_equal (end.session, EL_SYNC_CONTINUE);
    assert_int_equal (el_sync_receive (a, 1, hello, hlen, NULL), -EINVAL);
    free (revoked);
    free (hello);
    free (e1);
    free (e5);
    s_world_destroy (&w);
}

/* A store that is full fails the frame and leaves the session going. */
/* Pass frames between @p a and @p b (peer handle 1 on both sides) until
 * neither has any left. @return frames passed. Ended sessions are left to the
 * caller (their Error is passed too). */
static size_t
s_pump_pair (el_sync_t *a, el_sync_t *b, el_sync_end_t *ret_b_end)
{
    size_t n = 0;
    for (bool moved = true; moved;) {
        moved = false;
        uint64_t peer;
        uint8_t *data;
        size_t len;
        el_sync_end_t end;
        while (el_sync_next_out (a, &peer, &data, &len) == 1) {
            assert_int_equal (el_sync_receive (b, 1, data, len, ret_b_end), 0);
            free (data);
            moved = true;
            n++;
        }
        while (el_sync_next_out (b, &peer, &data, &len) == 1) {
            assert_int_equal (el_sync_receive (a, 1, data, len, &end), 0);
            free (data);
            moved = true;
            n++;
        }
    }
    return n;
}

static void
test_store_full_ends_session (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 0, 100);          /* 100 entries a frame: some fit */
    s_write_events (w, 0, "full", 2000);
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/el_sync_test.XXXXXX");
    assert_non_null (mkdtemp (dir));
    el_store_config_t scfg = { .no_sync = true, .map_bytes_initial = 64u << 10,
                               .map_bytes_max = 256u << 10 };
    el_store_t *store;
    el_sync_t *b;
    assert_int_equal (el_store_open (dir, &scfg, &store), 0);
    el_keypair_t *kp;
    s_keypair (0x40, &kp);
    el_sync_config_t cfg = { .now_us = s_clock, .now_arg = w };
    memcpy (cfg.self_id, kp->pk, EL_KEY_BYTES);
    memcpy (cfg.network, w->broker->pk, EL_KEY_BYTES);
    assert_int_equal (el_sync_new (store, &cfg, &b), 0);
    el_sync_t *a = w->nodes[0].sync;
    const uint8_t *origin = w->nodes[0].kp->pk;
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    assert_int_equal (el_sync_peer_open (b, 1), 0);
    /* b's map fills: the frame that does not fit ends b's session, not
     * silently: b tells a with an Error, and a's session ends too */
    el_sync_end_t end = { 0 };
    s_pump_pair (a, b, &end);
    assert_int_equal (end.session, EL_SYNC_END);
    assert_int_equal (end.reason, EL_EMAPFULL);
    assert_true (end.by_store);
    assert_false (end.by_peer);
    el_sync_peer_info_t pi;
    assert_int_equal (el_sync_peer_info (a, 1, &pi), 0);
    assert_true (pi.ended_by_peer);
    el_sync_stats_t st;
    el_sync_stats (b, &st);
    assert_int_equal (st.frames_refused, 0);      /* our failure, not the peer's fault */
    assert_int_equal (st.ended_by_reason[el_error_slot (EL_EMAPFULL)], 1);
    el_head_t h;
    assert_int_equal (el_store_head (store, origin, &h), 0);
    uint64_t stored = h.seq;
    assert_true (stored > 0 && stored < 2000);
    el_sync_peer_close (a, 1);
    el_sync_peer_close (b, 1);

    /* a new session while still full: it ends the same way, nothing lost */
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    assert_int_equal (el_sync_peer_open (b, 1), 0);
    memset (&end, 0, sizeof end);
    s_pump_pair (a, b, &end);
    assert_true (end.session == EL_SYNC_END && end.by_store);
    assert_int_equal (el_store_head (store, origin, &h), 0);
    assert_int_equal (h.seq, stored);
    el_sync_peer_close (a, 1);
    el_sync_peer_close (b, 1);

    /* the operator raises the limit and restarts b: the next session asks a
     * for what b's store lacks, from its stored head, and b catches up */
    el_sync_destroy (&b);
    el_store_destroy (&store);
    scfg.map_bytes_max = 64u << 20;
    assert_int_equal (el_store_open (dir, &scfg, &store), 0);
    assert_int_equal (el_sync_new (store, &cfg, &b), 0);
    assert_int_equal (el_sync_peer_open (a, 1), 0);
    assert_int_equal (el_sync_peer_open (b, 1), 0);
    memset (&end, 0, sizeof end);
    s_pump_pair (a, b, &end);
    assert_int_equal (end.session, EL_SYNC_CONTINUE);
    assert_int_equal (el_store_head (store, origin, &h), 0);
    assert_int_equal (h.seq, 2000);
    assert_int_equal (el_sync_peer_info (a, 1, &pi), 0);
    assert_int_equal (pi.entries_sent, 2000 - stored);
    assert_int_equal (pi.behind, 0);
    el_sync_peer_close (a, 1);
    el_sync_peer_close (b, 1);
    el_sync_destroy (&b);
    el_store_destroy (&store);
    el_keypair_destroy (&kp);
    nftw (dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    s_world_destroy (&w);
}

static int
s_setup (void **state)
{
    (void) state;
    return el_crypto_init ();
}

/* A write is all or nothing: one record whose payload does not decode as its
 * kind fails the call before anything is written. */
static void
test_write_all_or_nothing (void **state)
{
    (void) state;
    s_world_t *w = s_world_new (1, 0, 0);
    s_write_events (w, 0, "ok", 2);
    el_record_t r[3] = { { .kind = EL__KIND__EVENT, .key = "a" },
                         { .kind = EL__KIND__EVENT, .key = "b" },
                         { .kind = EL__KIND__EVENT, .key = "c" } };
    uint8_t *pa, *pc;
    s_event_payload ("a", &pa, &r[0].payload_len);
    s_event_payload ("c", &pc, &r[2].payload_len);
    r[0].payload = pa;
    r[2].payload = pc;
    static const uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1 };
    r[1].payload = garbage;
    r[1].payload_len = sizeof garbage;
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, r, 3, NULL), EL_EPROTO);
    assert_int_equal (s_head_seq (w, 0, 0), 2);
    /* an unknown kind is not ours to read: stored and forwarded */
    r[1].kind = (El__Kind) 42;
    uint64_t seq = 0;
    assert_int_equal (el_sync_write (w->nodes[0].sync, w->nodes[0].kp, r, 3, &seq), 0);
    assert_int_equal (seq, 5);
    assert_int_equal (el_record_payload_check (EL__KIND__MEMBER, garbage, sizeof garbage), EL_EPROTO);
    assert_int_equal (el_record_payload_check (EL__KIND__MEMBER, NULL, 0), 0);
    free (pa);
    free (pc);
    s_world_destroy (&w);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hello),
        cmocka_unit_test (test_write_all_or_nothing),
        cmocka_unit_test (test_write_uses_injected_clock),
        cmocka_unit_test (test_catch_up_within_credit),
        cmocka_unit_test (test_push_without_echo),
        cmocka_unit_test (test_loop_converges_without_duplicate_apply),
        cmocka_unit_test (test_loop_via_hub_sends_once),
        cmocka_unit_test (test_hub_lost_then_back),
        cmocka_unit_test (test_fork_detected_everywhere),
        cmocka_unit_test (test_share_policy_sends_stubs),
        cmocka_unit_test (test_share_by_level),
        cmocka_unit_test (test_stubs_in_catch_up),
        cmocka_unit_test (test_callback_may_write_and_close),
        cmocka_unit_test (test_version_mismatch),
        cmocka_unit_test (test_foreign_network),
        cmocka_unit_test (test_oversized_frame),
        cmocka_unit_test (test_garbage_and_misuse),
        cmocka_unit_test (test_session_end_results),
        cmocka_unit_test (test_store_full_ends_session),
        cmocka_unit_test (test_mutated_frames),
        cmocka_unit_test (test_many_origins_many_peers),
        cmocka_unit_test (test_entries_frame_forms),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
