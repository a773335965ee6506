/* fuzz_sync.c — libFuzzer target for the replication core: el_sync_receive()
 * on a real (fresh, temporary) store, with the daemon's duties hooked in
 * (el_duties: booking answers, erasure compaction), fed frames from two
 * hostile peers. Frames are raw bytes or built from the input (Hello with
 * any heads, kinds and credit; Entries of forged, signed entries; Credit;
 * Error), interleaved with session restarts, local writes and outbox drains.
 *
 * Checked on every drain: each frame we send unpacks as el.Msg; an Entries
 * frame holds at most batch_max entries, each a valid entry; we never send a
 * peer more entries than it granted (Hello.credit + Credit), and nothing
 * before its Hello. A session that ended keeps saying so, with its reason.
 * At the end the store passes fz_store_check().
 *
 * Input: u8 config (credit, batch), then operations (u8 op, arguments):
 *   0 raw frame (u8 peer, u16 len + bytes)   1 Hello (built)
 *   2 Entries (u8 peer, u8 n, forged or base entries)   3 Credit (u8 peer, u64)
 *   4 Error (u8 peer, u8 code)   5 restart a session (u8 peer)
 *   6 drain the outbox   7 local write (u8 n, records) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_duties.h"
#include "el_log.h"
#include "el_sync.h"
#include "fuzz_util.h"

#define S_PEERS   2
#define S_OPS_MAX 64
#define S_FRAME_MAX (64u << 10)

typedef struct {
    bool open;
    int ended;                  /* code its session ended with, 0 = live */
    bool hello;                 /* its Hello was accepted */
    uint64_t granted, sent;     /* entries: credit it granted us, entries we sent it */
} s_peer_t;

typedef struct {
    el_store_t *store;
    el_sync_t *sync;
    el_duties_t *duties;
    size_t batch_max;
    s_peer_t peers[S_PEERS + 1];        /* handles 1..S_PEERS */
    fz_chain_t chains[FZ_SIGNERS];
    int64_t clock_us;                   /* the sync's clock: one second on per read */
} s_world_t;

#define S_CREDIT_CAP ((uint64_t) 1 << 40)   /* the sync saturates grants here */

/* The time our writes carry: from the input's order alone, so that an input
 * replays identically. */
static int64_t
s_clock (void *arg)
{
    s_world_t *w = arg;
    w->clock_us += 1000000;
    return w->clock_us;
}

static void
s_on_applied (void *arg, uint64_t from_peer, const el_entry_t *const *entries,
              const int *status, size_t n)
{
    s_world_t *w = arg;
    for (size_t i = 0; i < n; i++)
        FZ_CHECK (entries[i] && entries[i]->body
                  && (status[i] == EL_APPLIED || status[i] == EL_DUPLICATE || status[i] < 0));
    el_duties_on_applied (w->duties, from_peer, entries, status, n);
}

static void
s_drain (s_world_t *w)
{
    uint64_t peer;
    uint8_t *frame;
    size_t len;
    while (el_sync_next_out (w->sync, &peer, &frame, &len) == 1) {
        FZ_CHECK (peer >= 1 && peer <= S_PEERS && w->peers[peer].open);
        FZ_CHECK (len <= EL_FRAME_MAX);
        El__Msg *m = el__msg__unpack (&el_pb_allocator, len, frame);
        FZ_CHECK (m);
        s_peer_t *p = &w->peers[peer];
        FZ_CHECK (!p->ended);           /* nothing after the end of a session */
        switch (m->m_case) {
        case EL__MSG__M_HELLO:
            FZ_CHECK (m->hello->version == EL_PROTOCOL_VERSION);
            FZ_CHECK (m->hello->sender.len == EL_KEY_BYTES
                      && !memcmp (m->hello->sender.data, fz_keys[FZ_S]->pk, EL_KEY_BYTES));
            break;
        case EL__MSG__M_ENTRIES:
            FZ_CHECK (p->hello);
            FZ_CHECK (m->entries->n_entries >= 1 && m->entries->n_entries <= w->batch_max);
            p->sent += m->entries->n_entries;
            FZ_CHECK (p->sent <= p->granted);
            for (size_t i = 0; i < m->entries->n_entries; i++) {
                el_entry_t *e = NULL;
                FZ_CHECK (el_entry_parse (m->entries->entries[i].data,
                                          m->entries->entries[i].len, &e) == 0);
                el_entry_destroy (&e);
            }
            break;
        case EL__MSG__M_CREDIT:
        case EL__MSG__M_ERROR:
            break;
        default:
            FZ_CHECK (!"a frame without a message");
        }
        el__msg__free_unpacked (m, &el_pb_allocator);
        free (frame);
    }
}

static void
s_open (s_world_t *w, uint64_t peer)
{
    s_peer_t *p = &w->peers[peer];
    if (p->open)
        el_sync_peer_close (w->sync, peer);
    memset (p, 0, sizeof *p);
    FZ_CHECK (el_sync_peer_open (w->sync, peer) == 0);
    p->open = true;
}

/* Deliver @p frame to @p peer and keep the harness's view of the session. */
static void
s_deliver (s_world_t *w, uint64_t peer, const uint8_t *frame, size_t len)
{
    s_peer_t *p = &w->peers[peer];
    El__Msg *m = len <= EL_FRAME_MAX ? el__msg__unpack (&el_pb_allocator, len, frame) : NULL;
    el_sync_end_t end;
    int rc = el_sync_receive (w->sync, peer, frame, len, &end);
    if (rc == -ENOBUFS) {
        s_drain (w);
        rc = el_sync_receive (w->sync, peer, frame, len, &end);
    }
    FZ_CHECK (rc == 0);                 /* whatever the peers send, the call itself works */
    if (p->ended) {
        FZ_CHECK (end.session == EL_SYNC_END && end.reason == p->ended);
    } else if (end.session == EL_SYNC_CONTINUE) {
        FZ_CHECK (m);
        if (m->m_case == EL__MSG__M_HELLO) {
            FZ_CHECK (!p->hello);
            p->hello = true;
            p->granted = m->hello->credit < S_CREDIT_CAP ? m->hello->credit : S_CREDIT_CAP;
        } else if (m->m_case == EL__MSG__M_CREDIT) {
            FZ_CHECK (p->hello);
            p->granted += m->credit->entries < S_CREDIT_CAP ? m->credit->entries : S_CREDIT_CAP;
        } else {
            FZ_CHECK (m->m_case == EL__MSG__M_ENTRIES && p->hello);
        }
    } else {
        /* the session ended: the daemon sends what is queued, then closes */
        FZ_CHECK (end.session == EL_SYNC_END);
        int r = end.reason;
        FZ_CHECK (r == EL_ETOOBIG || r == EL_EPROTO || r == EL_EVERSION || r == EL_ENETWORK
                  || r == EL_ECREDIT || r == EL_EREVOKED);
        FZ_CHECK (end.by_peer == (m && m->m_case == EL__MSG__M_ERROR));
        s_drain (w);
        p->ended = r;
        el_sync_end_t again;
        FZ_CHECK (el_sync_receive (w->sync, peer, frame, len, &again) == 0);
        FZ_CHECK (again.session == EL_SYNC_END && again.reason == r
                  && again.by_peer == end.by_peer);
    }
    if (m)
        el__msg__free_unpacked (m, &el_pb_allocator);
}

static const uint8_t *
s_key_choice (fz_t *in, uint8_t buf[EL_KEY_BYTES])
{
    uint8_t c = fz_u8 (in);
    if (c % 8 < FZ_SIGNERS)
        return fz_keys[c % 8]->pk;
    for (int i = 0; i < EL_KEY_BYTES; i++)
        buf[i] = fz_u8 (in);
    return buf;
}

static void
s_send_packed (s_world_t *w, uint64_t peer, const El__Msg *m)
{
    size_t len;
    uint8_t *buf = fz_pack (&m->base, &len);
    s_deliver (w, peer, buf, len);
    free (buf);
}

static void
s_hello (s_world_t *w, fz_t *in, uint64_t peer)
{
    uint8_t flags = fz_u8 (in);
    uint8_t sender_buf[EL_KEY_BYTES], net_buf[EL_KEY_BYTES];
    El__Hello h = EL__HELLO__INIT;
    h.version = flags & 1 ? fz_u8 (in) : EL_PROTOCOL_VERSION;
    h.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) s_key_choice (in, sender_buf) };
    const uint8_t *net = fz_keys[FZ_BROKER]->pk;
    if (flags & 2)
        net = s_key_choice (in, net_buf);
    h.network = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) net };
    El__Kind kinds[4];
    h.n_kinds = flags & 4 ? fz_u8 (in) % 4 : 0;
    for (size_t i = 0; i < h.n_kinds; i++)
        kinds[i] = (El__Kind) (int8_t) fz_u8 (in);
    h.kinds = kinds;
    h.credit = flags & 8 ? fz_u64 (in) : fz_u8 (in);
    /* heads: up to 255 described, or (flag 16) 4000 of the known origins */
    size_t n_heads = fz_u8 (in);
    bool many = flags & 16;
    if (many)
        n_heads = 4000;
    El__Head *heads = calloc (n_heads ? n_heads : 1, sizeof *heads);
    El__Head **hp = calloc (n_heads ? n_heads : 1, sizeof *hp);
    uint8_t (*bufs)[EL_KEY_BYTES + EL_HASH_BYTES] = calloc (n_heads ? n_heads : 1, sizeof *bufs);
    FZ_CHECK (heads && hp && bufs);
    for (size_t i = 0; i < n_heads; i++) {
        el__head__init (&heads[i]);
        hp[i] = &heads[i];
        uint8_t c = many ? (uint8_t) i : fz_u8 (in);
        int who = c % FZ_SIGNERS;
        if (c & 0x80 && !many)
            for (int k = 0; k < EL_KEY_BYTES; k++)
                bufs[i][k] = fz_u8 (in);
        else
            memcpy (bufs[i], fz_keys[who]->pk, EL_KEY_BYTES);
        heads[i].origin = (ProtobufCBinaryData) { EL_KEY_BYTES, bufs[i] };
        heads[i].seq = many ? i % 7 : (c & 0x40 ? fz_u64 (in) : fz_u8 (in) % 8);
        el_head_t head;
        if (!(c & 0x20) && el_store_head (w->store, bufs[i], &head) == 0
            && head.seq == heads[i].seq)
            memcpy (bufs[i] + EL_KEY_BYTES, head.hash, EL_HASH_BYTES);
        else
            memset (bufs[i] + EL_KEY_BYTES, many ? (int) i : c, EL_HASH_BYTES);
        heads[i].hash = (ProtobufCBinaryData) { EL_HASH_BYTES, bufs[i] + EL_KEY_BYTES };
    }
    h.heads = hp;
    h.n_heads = n_heads;
    ProtobufCBinaryData nets[2];
    uint8_t nets_buf[2][EL_KEY_BYTES];
    h.n_networks = flags & 32 ? 1 + fz_u8 (in) % 2 : 0;
    for (size_t i = 0; i < h.n_networks; i++)
        nets[i] = (ProtobufCBinaryData) { EL_KEY_BYTES,
                                          (uint8_t *) s_key_choice (in, nets_buf[i]) };
    h.networks = nets;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    s_send_packed (w, peer, &m);
    free (bufs);
    free (hp);
    free (heads);
}

static void
s_entries (s_world_t *w, fz_t *in, uint64_t peer)
{
    size_t n = fz_u8 (in) % 17;
    ProtobufCBinaryData items[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 16; i++) {
        uint8_t c = fz_u8 (in);
        if (c < 0x40) {
            const size_t b = c % fz_base.n;
            uint8_t *copy = malloc (fz_base.len[b]);
            FZ_CHECK (copy);
            memcpy (copy, fz_base.data[b], fz_base.len[b]);
            items[k++] = (ProtobufCBinaryData) { fz_base.len[b], copy };
        } else {
            uint8_t *data;
            size_t len;
            if (fz_forge (in, w->chains, &data, &len) == 0)
                items[k++] = (ProtobufCBinaryData) { len, data };
        }
    }
    El__Entries e = EL__ENTRIES__INIT;
    e.entries = items;
    e.n_entries = k;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &e;
    s_send_packed (w, peer, &m);
    for (size_t i = 0; i < k; i++)
        free (items[i].data);
}

static void
s_write (s_world_t *w, fz_t *in)
{
    size_t n = 1 + fz_u8 (in) % 4;
    el_record_t recs[4];
    char keys[4][FZ_KEY_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        recs[i].kind = (El__Kind) (fz_u8 (in) % 8);
        fz_text (in, FZ_KEY_MAX, keys[i]);
        recs[i].key = keys[i];
        recs[i].deleted = fz_u8 (in) & 1;
        recs[i].payload = fz_bytes (in, FZ_PAYLOAD_MAX, &recs[i].payload_len);
    }
    uint64_t seq = 0;
    int rc = el_sync_write (w->sync, fz_keys[FZ_S], recs, n, &seq);
    if (rc == 0)
        FZ_CHECK (seq >= n);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        el_log_set_level (EL_LOG_ERROR);
        quiet = true;
    }
    s_world_t w;
    memset (&w, 0, sizeof w);
    w.store = fz_store_fresh ();
    memcpy (w.chains, fz_base.chains, sizeof w.chains);
    fz_t in = { data, size };
    uint8_t conf = fz_u8 (&in);
    static const uint64_t credits[4] = { 2, 3, 64, 0 };
    static const size_t batches[4] = { 1, 2, 16, 0 };
    el_sync_config_t cfg = { .credit = credits[conf & 3], .batch_max = batches[(conf >> 2) & 3],
                             .now_us = s_clock, .now_arg = &w };
    w.clock_us = FZ_T0;
    w.batch_max = cfg.batch_max ? cfg.batch_max : EL_SYNC_BATCH_DEFAULT;
    memcpy (cfg.self_id, fz_keys[FZ_S]->pk, EL_KEY_BYTES);
    memcpy (cfg.network, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES);
    FZ_CHECK (el_sync_new (w.store, &cfg, &w.sync) == 0);
    el_config_t dcfg;
    el_config_init (&dcfg);
    el_duties_env_t env = { .store = w.store, .sync = w.sync, .kp = fz_keys[FZ_S],
                            .cfg = &dcfg };
    FZ_CHECK (el_duties_new (&env, &w.duties) == 0);
    el_sync_on_applied (w.sync, s_on_applied, &w);
    for (uint64_t p = 1; p <= S_PEERS; p++)
        s_open (&w, p);

    for (int op = 0; op < S_OPS_MAX && in.n; op++) {
        uint8_t o = fz_u8 (&in);
        uint64_t peer = 1 + fz_u8 (&in) % S_PEERS;
        switch (o % 8) {
        case 0: {
            size_t len;
            const uint8_t *frame = fz_bytes (&in, S_FRAME_MAX, &len);
            s_deliver (&w, peer, frame, len);
            break;
        }
        case 1:
            s_hello (&w, &in, peer);
            break;
        case 2:
            s_entries (&w, &in, peer);
            break;
        case 3: {
            El__Credit c = EL__CREDIT__INIT;
            c.entries = fz_u8 (&in) & 1 ? fz_u64 (&in) : fz_u8 (&in);
            El__Msg m = EL__MSG__INIT;
            m.m_case = EL__MSG__M_CREDIT;
            m.credit = &c;
            s_send_packed (&w, peer, &m);
            break;
        }
        case 4: {
            El__Error e = EL__ERROR__INIT;
            e.code = (El__ErrorCode) (int8_t) fz_u8 (&in);
            e.text = (char *) "fuzz";
            El__Msg m = EL__MSG__INIT;
            m.m_case = EL__MSG__M_ERROR;
            m.error = &e;
            s_send_packed (&w, peer, &m);
            break;
        }
        case 5:
            s_drain (&w);
            s_open (&w, peer);
            break;
        case 6:
            s_drain (&w);
            break;
        default:
            s_write (&w, &in);
            break;
        }
    }
    s_drain (&w);
    fz_store_check (w.store);
    el_duties_destroy (&w.duties);
    el_sync_destroy (&w.sync);
    el_store_destroy (&w.store);
    return 0;
}
