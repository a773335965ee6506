/* el_node.c — see el_node.h. */
#include "el_node.h"

#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "el_attest.h"
#include "el_control.h"
#include "el_handshake.h"
#include "el_log.h"
#include "el_store.h"
#include "el_share.h"
#include "el_signer.h"
#include "el_sync.h"
#include "el_util.h"
#include "el_waits.h"
#include "el_wire.h"
#include "el_zap.h"
#include "el_zmq.h"

#define S_ROUTE_MAX     256     /* bytes of a ROUTER routing id */
#define S_MON_EVENTS    (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED \
                         | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_LISTENING \
                         | ZMQ_EVENT_BIND_FAILED | ZMQ_EVENT_ACCEPTED \
                         | ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_CLOSED \
                         | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL \
                         | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
                         | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define S_POLL_MAX      (4 + EL_CONFIG_LISTEN_MAX * 2 + EL_CONFIG_PEERS_MAX * 2 + 2 \
                         + EL_NODE_ROLE_LINKS_MAX * 2)
#define S_REJECT_LOGS   8       /* rejected entries logged per apply (local writes, forks) */
#define S_REFUSE_LOG_S  10      /* a peer's refused input is logged once per reason per
                                   window of this many seconds; the rest are summed up */

/* Why a frame was refused: an el_error_slot() (the sync core ended the session
 * for it, or the daemon dropped it for that code), or one of the reasons the
 * daemon drops a frame for before the sync core sees it. */
enum {
    S_DROP_NO_SESSION = EL_ERROR_SLOTS, /* no session on its link (none yet, or just ended) */
    S_DROP_SENDER,                      /* a Hello naming another sender than ZAP admitted */
    S_DROP_NOT_ALLOWED,                 /* its key is no longer allowed (revoked) */
    S_DROP_PARTS,                       /* a part of a multi-part message past the first */
    S_FRAME_SLOTS
};
static const char *const s_drop_names[S_FRAME_SLOTS - EL_ERROR_SLOTS] = {
    "no_session", "sender_mismatch", "not_allowed", "extra_parts",
};
#define S_LOG_BIT_ENTRY 32      /* log-window bits: frame slot i is bit i, entry slot i bit 32 + i */
#define S_LOG_BIT_PEER_ERROR 63 /* ... and a session the peer ended with an Error */
_Static_assert (S_FRAME_SLOTS <= S_LOG_BIT_ENTRY
                && S_LOG_BIT_ENTRY + EL_ERROR_SLOTS <= S_LOG_BIT_PEER_ERROR,
                "log-window bits overlap");

/* What one peer sent that was refused, since the daemon started (kept across
 * its reconnections while it is in the known table), and its log window.
 * Allocated at its first refusal. */
typedef struct {
    uint64_t entries[EL_ERROR_SLOTS];   /* entries the store refused, by el_error_slot(); the
                                           session open now is added in status */
    uint64_t frames[S_FRAME_SLOTS];     /* frames refused, by reason (see S_DROP_*) */
    int64_t window_us;                  /* monotonic: start of the log window */
    uint64_t logged;                    /* reasons logged in the window (S_LOG_BIT_*) */
    uint64_t suppressed;                /* refusals not logged in the window */
} s_refused_t;

typedef enum {
    S_LINK_FREE = 0,
    S_LINK_BROKER,              /* our DEALER to our broker */
    S_LINK_PEER,                /* our DEALER to a configured peer */
    S_LINK_IN,                  /* a connection accepted by one of our ROUTERs */
} s_link_kind_t;

/* Why a link is down, for status (s_down_reason). */
typedef enum {
    S_DOWN_CONNECTING = 0,      /* outbound: not connected yet since start */
    S_DOWN_UNREACHABLE,         /* outbound: the TCP connection failed */
    S_DOWN_REFUSED,             /* outbound: the peer's ZAP refused our key */
    S_DOWN_HANDSHAKE,           /* outbound: the CURVE handshake failed otherwise */
    S_DOWN_DISCONNECTED,        /* the connection dropped */
    S_DOWN_SESSION,             /* connected, but the session ended (down_rc) */
    S_DOWN_REVOKED,             /* the peer, or we, were revoked */
} s_down_t;

typedef struct s_frame {
    struct s_frame *next;
    size_t len;
    uint8_t data[];
} s_frame_t;

/* What we remember of an inbound peer after its connection is gone (status). */
typedef struct {
    uint8_t key[EL_KEY_BYTES];
    int64_t last_seen_us;       /* last frame, µs since the Unix epoch */
    int64_t since_us;           /* disconnected since, µs since the Unix epoch */
    uint64_t disconnects, sessions;
    s_refused_t *refused;       /* owned; NULL: nothing refused (or held by its live link) */
} s_known_t;

typedef struct {
    s_link_kind_t kind;
    uint64_t session;           /* el_sync handle; 0 = no session */
    void *socket;               /* outbound: owned DEALER; inbound: borrowed ROUTER */
    void *monitor;              /* outbound: owned PAIR of the DEALER's monitor */
    uint8_t route[S_ROUTE_MAX]; /* inbound: routing id */
    size_t route_len;
    int fd;                     /* inbound: ZMQ_SRCFD of its frames; -1 unknown */
    bool has_key;
    uint8_t key[EL_KEY_BYTES];
    char endpoint[EL_CONFIG_PATH_MAX];  /* outbound */
    bool connected;             /* outbound: handshake done; inbound: seen */
    bool banned;                /* revoked: its frames are dropped */
    bool error_owed;            /* its session ended here: tell it (Error) once there is room */
    bool unreachable_logged;
    int64_t last_seen_us, since_us;
    int64_t retry_at_us;        /* outbound: reopen a session at; 0 = none */
    int64_t reconnect_at_us;    /* outbound, disconnected on purpose: connect again at; 0 = none */
    int64_t probe_at_us;        /* inbound: next keepalive probe */
    unsigned refusals;          /* outbound: handshakes refused in a row (re-knock back-off) */
    s_down_t down;              /* why it is down, when it is */
    int down_rc;                /* S_DOWN_SESSION: how the session ended */
    uint64_t auth_failures, disconnects, sessions, dropped;
    uint64_t store_failures;    /* our store's failures on its frames not yet logged */
    int64_t store_log_us;       /* monotonic: last receive_failed line; 0 = none yet */
    uint64_t behind_last;       /* without a session: what its peer lacked by its last
                                   Hello, when that session ended on the peer's Error */
    s_refused_t *refused;       /* owned; NULL until something of it is refused */
    s_frame_t *pending, *pending_tail;  /* frames waiting for room in the socket */
    size_t pending_n;
} s_link_t;

struct el_node {
    el_config_t cfg;
    const char *name;           /* "node", "broker": logs and status */
    const el_role_ops_t *roles[EL_NODE_ROLES_MAX];
    void *role_state[EL_NODE_ROLES_MAX];
    bool role_started[EL_NODE_ROLES_MAX];
    size_t roles_n;
    el_keypair_t *kp;
    char self_text[EL_KEY_TEXT_BYTES];
    uint8_t network[EL_KEY_BYTES];
    char curve_pub[EL_Z85_BYTES], curve_sec[EL_Z85_BYTES];
    int lock_fd;
    int signal_fd;
    sigset_t old_mask;
    bool mask_set;
    el_store_t *store;
    el_sync_t *sync;
    el_signer_t *signer;        /* signs control writes on its own thread (first write) */
    el_waits_t waits;           /* WaitRequests until their head is reached */
    void *ctx;
    el_zap_t *zap;
    el_handshake_t *handshake;  /* inbound connections in handshake, capped */
    el_control_t *control;
    void *listen[EL_CONFIG_LISTEN_MAX];
    void *listen_mon[EL_CONFIG_LISTEN_MAX];
    size_t listen_n;
    s_link_t *links;            /* EL_NODE_LINKS_MAX */
    size_t links_hi;            /* links[links_hi..] are all free: scans stop here */
    s_link_t *last_lookup;      /* cache of s_link_by_session(): frames come in runs */
    s_known_t *known;           /* EL_NODE_LINKS_MAX inbound peers seen and gone */
    size_t known_n;
    uint64_t next_session;
    unsigned mon_seq;
    bool stop;
    bool admitted;              /* an active Site entry for us is held (set by the roles) */
    size_t role_links;          /* outbound links the roles opened (el_node_peer_connect) */
    int64_t revoked_us;         /* we learned we were revoked, µs since the epoch; 0 = not */
    int64_t cycle_deadline_us;  /* monotonic: stop reading sockets in this cycle after */
    int64_t busy_us;            /* monotonic: the last cycle that had work */
    bool trim_due;              /* work since the heap was last trimmed */
    int64_t started_us;
    uint64_t frames_dropped, auth_failures, disconnects;
    uint64_t dropped_by[S_FRAME_SLOTS]; /* frames_dropped by reason (the sync core counts
                                           the frames it refused) */
    int64_t auth_log_window_us;         /* start of the current 1 s log window */
    unsigned auth_logged;               /* auth_failed lines in that window */
    uint64_t auth_suppressed;           /* lines not written since the last summary */
    el_node_reload_fn *reload;          /* SIGHUP: the configuration again; NULL = ignored */
    void *reload_arg;
};

#define S_AUTH_LOGS_PER_S 10    /* auth_failed lines per second; the rest are counted */

/* ------------------------------------------------------------ helpers */

static int64_t
s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* s_mono_us as an el_clock_fn, for the store's commit timing. */
static int64_t
s_mono_clock (void *arg)
{
    (void) arg;
    return s_mono_us ();
}

static const char *
s_fpr (const uint8_t key[EL_KEY_BYTES], char buf[EL_LOG_FPR_BYTES])
{
    return el_log_fpr (key, buf);
}

static const char *
s_link_name (const s_link_t *l, char buf[EL_LOG_FPR_BYTES])
{
    if (l->has_key)
        return s_fpr (l->key, buf);
    snprintf (buf, EL_LOG_FPR_BYTES, "unknown");
    return buf;
}

static const char *
s_link_role (const s_link_t *l)
{
    return l->kind == S_LINK_BROKER ? "broker" : l->kind == S_LINK_PEER ? "peer" : "site";
}

static s_link_t *
s_link_by_session (el_node_t *self, uint64_t session)
{
    if (!session)
        return NULL;
    s_link_t *c = self->last_lookup;
    if (c && c->kind != S_LINK_FREE && c->session == session)
        return c;
    for (size_t i = 0; i < self->links_hi; i++)
        if (self->links[i].kind != S_LINK_FREE && self->links[i].session == session) {
            self->last_lookup = &self->links[i];
            return &self->links[i];
        }
    return NULL;
}

/* A free slot (its kind is set by the caller), or NULL when EL_NODE_LINKS_MAX are in use. */
static s_link_t *
s_link_alloc (el_node_t *self)
{
    for (size_t i = 0; i < EL_NODE_LINKS_MAX; i++)
        if (self->links[i].kind == S_LINK_FREE) {
            memset (&self->links[i], 0, sizeof self->links[i]);
            self->links[i].fd = -1;
            if (i + 1 > self->links_hi)
                self->links_hi = i + 1;
            return &self->links[i];
        }
    return NULL;
}

static void
s_pending_clear (s_link_t *l)
{
    while (l->pending) {
        s_frame_t *f = l->pending;
        l->pending = f->next;
        free (f);
    }
    l->pending_tail = NULL;
    l->pending_n = 0;
}

/* ------------------------------------------------------------ refusals */

/* The refusal counters of @p l, made at its first refusal.
 * @return NULL when out of memory (the refusal is then counted in total only). */
static s_refused_t *
s_refused_of (s_link_t *l)
{
    if (!l->refused)
        l->refused = calloc (1, sizeof *l->refused);
    return l->refused;
}

/* Add *@p from's counts to *@p to (taking *@p from when *@p to is NULL); *@p from
 * is NULL afterwards. */
static void
s_refused_merge (s_refused_t **to, s_refused_t **from)
{
    if (!*from)
        return;
    if (!*to) {
        *to = *from;
        *from = NULL;
        return;
    }
    for (size_t i = 0; i < EL_ERROR_SLOTS; i++)
        (*to)->entries[i] += (*from)->entries[i];
    for (size_t i = 0; i < S_FRAME_SLOTS; i++)
        (*to)->frames[i] += (*from)->frames[i];
    (*to)->suppressed += (*from)->suppressed;
    free (*from);
    *from = NULL;
}

/* The refusals of @p l not logged in the window that ends, in one line. */
static void
s_refuse_summary (const s_link_t *l, s_refused_t *r)
{
    if (!r->suppressed)
        return;
    char f[EL_LOG_FPR_BYTES];
    el_log (EL_LOG_WARN, "refusals_suppressed", "peer=%s count=%" PRIu64 " window_s=%d",
            s_link_name (l, f), r->suppressed, S_REFUSE_LOG_S);
    r->suppressed = 0;
}

/* May a refusal of @p l's input for reason @p bit (S_LOG_BIT_*) be logged now?
 * Once per reason per window of S_REFUSE_LOG_S; the others are counted and
 * summed up in one line when the window ends (a flood must not fill the disk). */
static bool
s_refuse_log_ok (s_link_t *l, unsigned bit)
{
    s_refused_t *r = s_refused_of (l);
    if (!r)
        return false;
    int64_t now = s_mono_us ();
    if (now - r->window_us >= (int64_t) S_REFUSE_LOG_S * 1000000) {
        s_refuse_summary (l, r);
        r->window_us = now;
        r->logged = 0;
    }
    if (r->logged & (UINT64_C (1) << bit)) {
        r->suppressed++;
        return false;
    }
    r->logged |= UINT64_C (1) << bit;
    return true;
}

/* A frame of @p l (NULL: of no link) refused for @p slot (an el_error_slot() or
 * S_DROP_*): counted for its peer, and when @p dropped (the daemon dropped it;
 * otherwise the sync core counted it) in frames_dropped.
 * @return whether to log it now (never for a frame of no link). */
static bool
s_frame_refused (el_node_t *self, s_link_t *l, unsigned slot, bool dropped)
{
    if (dropped) {
        self->frames_dropped++;
        self->dropped_by[slot]++;
        if (l)
            l->dropped++;
    }
    if (!l || !s_refused_of (l))
        return false;
    l->refused->frames[slot]++;
    return s_refuse_log_ok (l, slot);
}

static void
s_session_close (el_node_t *self, s_link_t *l)
{
    if (l->session) {
        /* what the store refused of this session stays counted for the peer */
        el_sync_peer_info_t info;
        if (el_sync_peer_info (self->sync, l->session, &info) == 0 && info.rejected
            && s_refused_of (l))
            for (size_t i = 0; i < EL_ERROR_SLOTS; i++)
                l->refused->entries[i] += info.rejected_by_reason[i];
        el_sync_peer_close (self->sync, l->session);
        l->session = 0;
    }
    l->behind_last = 0;
    s_pending_clear (l);
}

static int
s_session_open (el_node_t *self, s_link_t *l)
{
    s_session_close (self, l);
    uint64_t h = ++self->next_session;
    int rc = el_sync_peer_open (self->sync, h);
    if (rc < 0)
        return rc;
    l->session = h;
    l->sessions++;
    l->error_owed = false;
    return 0;
}

static s_known_t *
s_known_find (el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < self->known_n; i++)
        if (!memcmp (self->known[i].key, key, EL_KEY_BYTES))
            return &self->known[i];
    return NULL;
}

/* Persisted per peer (store "peers" db) so status keeps "last seen" across
 * restarts: a version byte, then last_seen_us, since_us, disconnects,
 * sessions as 64-bit big-endian integers (version 1: 33 bytes). Version 2
 * adds what the peer held when its last session ended, so that status can
 * say how many entries wait for a peer that is gone: a count (64-bit
 * big-endian), then for each origin we held then, in origin order, the
 * origin (32 bytes) and the peer's seq of it (64-bit big-endian). */
#define S_PEER_REC_BYTES   33
#define S_PEER_HEADS_AT    (S_PEER_REC_BYTES + 8)
#define S_PEER_HEAD_BYTES  (EL_KEY_BYTES + 8)
#define S_PEER_HEADS_MAX   ((EL_STORE_META_VALUE_MAX - S_PEER_HEADS_AT) / S_PEER_HEAD_BYTES)

/* The heads part of a version 2 record @p rec: their count, or -1 when
 * @p rec is not a well-formed version 2 record. */
static int64_t
s_peer_rec_heads (const uint8_t *rec, size_t len)
{
    if (len < S_PEER_HEADS_AT || rec[0] != 2)
        return -1;
    uint64_t n = el_be64_get (rec + S_PEER_REC_BYTES);
    if (n > S_PEER_HEADS_MAX || len != S_PEER_HEADS_AT + n * S_PEER_HEAD_BYTES)
        return -1;
    return (int64_t) n;
}

/* A version 2 record with room for the counters, holding what the peer of
 * @p session holds of each origin we hold (our head less what it lacks), or
 * when that session has no Hello, the heads stored before. @return the
 * malloc'd record, its length in *ret_len; NULL when no heads are known
 * (or out of memory, or more origins than a record holds). */
static uint8_t *
s_peer_heads_rec (el_node_t *self, const uint8_t key[EL_KEY_BYTES], uint64_t session,
                  size_t *ret_len)
{
    el_sync_peer_info_t info;
    if (!session || el_sync_peer_info (self->sync, session, &info) < 0
        || !info.hello_received) {
        void *val = NULL;
        size_t len = 0;
        if (el_store_peer_get (self->store, key, &val, &len) < 0)
            return NULL;
        if (s_peer_rec_heads (val, len) < 0) {
            free (val);
            return NULL;
        }
        *ret_len = len;
        return val;
    }
    el_head_t *heads = NULL;
    size_t nh = 0;
    if (el_store_heads (self->store, &heads, &nh) < 0 || nh > S_PEER_HEADS_MAX) {
        free (heads);
        return NULL;
    }
    uint8_t *rec = malloc (S_PEER_HEADS_AT + nh * S_PEER_HEAD_BYTES);
    if (rec) {
        el_be64_put (rec + S_PEER_REC_BYTES, nh);
        for (size_t i = 0; i < nh; i++) {
            uint8_t *h = rec + S_PEER_HEADS_AT + i * S_PEER_HEAD_BYTES;
            uint64_t lacks = el_sync_peer_behind (self->sync, session, heads[i].origin);
            memcpy (h, heads[i].origin, EL_KEY_BYTES);
            el_be64_put (h + EL_KEY_BYTES, heads[i].seq - (lacks < heads[i].seq ? lacks
                                                                                : heads[i].seq));
        }
        *ret_len = S_PEER_HEADS_AT + nh * S_PEER_HEAD_BYTES;
    }
    free (heads);
    return rec;
}

/* Record what we know of peer @p key; @p session (0 = none) is its live
 * session, whose Hello tells what it holds. */
static void
s_peer_save (el_node_t *self, const uint8_t key[EL_KEY_BYTES], int64_t last_seen_us,
             int64_t since_us, uint64_t disconnects, uint64_t sessions, uint64_t session)
{
    uint8_t small[S_PEER_REC_BYTES];
    size_t len = sizeof small;
    uint8_t *rec = s_peer_heads_rec (self, key, session, &len);
    if (!rec)
        len = sizeof small;
    uint8_t *r = rec ? rec : small;
    r[0] = rec ? 2 : 1;
    el_be64_put (r + 1, (uint64_t) last_seen_us);
    el_be64_put (r + 9, (uint64_t) since_us);
    el_be64_put (r + 17, disconnects);
    el_be64_put (r + 25, sessions);
    int rc = el_store_peer_put (self->store, key, r, len);
    free (rec);
    if (rc < 0) {
        char f[EL_LOG_FPR_BYTES];
        el_log (EL_LOG_WARN, "peer_record_failed", "peer=%s reason=%s", s_fpr (key, f),
                el_strcode (rc));
    }
}

/* @return 0 with the record, or an error (none kept, malformed). */
static int
s_peer_load (el_node_t *self, const uint8_t key[EL_KEY_BYTES], s_known_t *ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = el_store_peer_get (self->store, key, &val, &len);
    if (rc < 0)
        return rc;
    const uint8_t *rec = val;
    rc = EL_EPROTO;
    if ((len == S_PEER_REC_BYTES && rec[0] == 1) || s_peer_rec_heads (rec, len) >= 0) {
        memcpy (ret->key, key, EL_KEY_BYTES);
        ret->last_seen_us = (int64_t) el_be64_get (rec + 1);
        ret->since_us = (int64_t) el_be64_get (rec + 9);
        ret->disconnects = el_be64_get (rec + 17);
        ret->sessions = el_be64_get (rec + 25);
        rc = 0;
    }
    free (val);
    return rc;
}

/* At start: what we remember of an inbound peer goes into the known table. */
static void
s_known_load (el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    s_known_t k;
    memset (&k, 0, sizeof k);
    if (self->known_n < EL_NODE_LINKS_MAX && !s_known_find (self, key)
        && s_peer_load (self, key, &k) == 0)
        self->known[self->known_n++] = k;
}

/* Remember an inbound peer whose connection is gone (it takes the link's
 * refusal counters); the table is bounded:
 * when full, the peer gone the longest is forgotten. */
static void
s_known_note (el_node_t *self, s_link_t *l)
{
    if (l->kind != S_LINK_IN || !l->has_key || !self->known)
        return;
    s_known_t *k = s_known_find (self, l->key);
    if (!k && self->known_n < EL_NODE_LINKS_MAX)
        k = &self->known[self->known_n++];
    if (!k) {
        k = &self->known[0];
        for (size_t i = 1; i < self->known_n; i++)
            if (self->known[i].since_us < k->since_us)
                k = &self->known[i];
    }
    if (memcmp (k->key, l->key, EL_KEY_BYTES)) {
        free (k->refused);              /* a slot reused for another peer */
        k->refused = NULL;
    }
    s_refused_merge (&k->refused, &l->refused);
    memcpy (k->key, l->key, EL_KEY_BYTES);
    k->last_seen_us = l->last_seen_us;
    k->since_us = el_now_us ();
    k->disconnects = l->disconnects + 1;
    k->sessions = l->sessions;
    s_peer_save (self, k->key, k->last_seen_us, k->since_us, k->disconnects, k->sessions,
                 l->session);
}

/* Forget an inbound connection. */
/* Close an outbound link's DEALER and its monitor. */
static void
s_outbound_sockets_close (s_link_t *l)
{
    if (l->monitor) {
        zmq_socket_monitor (l->socket, NULL, 0);
        zmq_close (l->monitor);
        l->monitor = NULL;
    }
    zmq_close (l->socket);
    l->socket = NULL;
}

static void
s_link_free (el_node_t *self, s_link_t *l)
{
    if (l->refused)
        s_refuse_summary (l, l->refused);
    s_known_note (self, l);             /* before the session closes: its Hello says what
                                           the peer holds */
    s_session_close (self, l);
    free (l->refused);                  /* unless s_known_note took it */
    l->refused = NULL;
    l->kind = S_LINK_FREE;
    while (self->links_hi > 0 && self->links[self->links_hi - 1].kind == S_LINK_FREE)
        self->links_hi--;
}

/* Send one frame on a link now. @return 0, -EAGAIN (full), -EHOSTUNREACH (gone), -errno. */
static int
s_send_now (s_link_t *l, const uint8_t *data, size_t len)
{
    if (l->kind == S_LINK_IN) {
        if (zmq_send (l->socket, l->route, l->route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            return -errno;
    }
    if (zmq_send (l->socket, data, len, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

/* libzmq frees a frame handed over by s_send_take(), from its I/O thread. */
static void
s_zmq_free (void *data, void *hint)
{
    (void) hint;
    free (data);
}

/* s_send_now() of a message libzmq takes without copying its data (an
 * Entries batch is up to EL_FRAME_MAX bytes: one copy less per frame and per
 * peer). @return as s_send_now(); on 0 libzmq owns the data, otherwise
 * @p msg still holds it. */
static int
s_send_now_msg (s_link_t *l, zmq_msg_t *msg)
{
    if (l->kind == S_LINK_IN
        && zmq_send (l->socket, l->route, l->route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_msg_send (msg, l->socket, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

static void s_link_gone (el_node_t *self, s_link_t *l, const char *reason);
static void s_signer_barrier (void *arg);
static void s_signer_collect (el_node_t *self, bool wait);
static void s_hold (el_node_t *self, s_link_t *l, const uint8_t *data, size_t len);

/* Send or hold a frame (taking a copy when held). */
static void
s_send (el_node_t *self, s_link_t *l, const uint8_t *data, size_t len)
{
    if (!l->pending) {
        int rc = s_send_now (l, data, len);
        if (rc == 0)
            return;
        if (rc != -EAGAIN) {
            s_link_gone (self, l, rc == -EHOSTUNREACH ? "unreachable" : "send_failed");
            return;
        }
    }
    s_hold (self, l, data, len);
}

/* s_send() of a malloc'd frame, which it takes (frees or hands to libzmq). */
static void
s_send_take (el_node_t *self, s_link_t *l, uint8_t *data, size_t len)
{
    zmq_msg_t msg;
    if (l->pending || len < EL_NODE_ZERO_COPY_MIN
        || zmq_msg_init_data (&msg, data, len, s_zmq_free, NULL) != 0) {
        s_send (self, l, data, len);        /* a copy: held, or small */
        free (data);
        return;
    }
    int rc = s_send_now_msg (l, &msg);
    if (rc == 0)
        return;
    if (rc == -EAGAIN)
        s_hold (self, l, zmq_msg_data (&msg), len);
    else
        s_link_gone (self, l, rc == -EHOSTUNREACH ? "unreachable" : "send_failed");
    zmq_msg_close (&msg);       /* frees data */
}

/* Queue a copy of a frame the socket has no room for yet. */
static void
s_hold (el_node_t *self, s_link_t *l, const uint8_t *data, size_t len)
{
    if (l->pending_n >= EL_NODE_PENDING_MAX) {
        /* the peer does not read: end the session; it learns so by an Error
         * (sent once the socket has room) and starts a new one with Hello */
        char f[EL_LOG_FPR_BYTES];
        el_log (EL_LOG_WARN, "session_ended", "peer=%s reason=send_queue_full frames=%zu",
                s_link_name (l, f), l->pending_n);
        s_session_close (self, l);
        if (l->kind == S_LINK_IN)
            l->error_owed = true;       /* our own links restart with a Hello instead */
        else
            l->retry_at_us = s_mono_us () + EL_NODE_RETRY_MS * 1000;
        return;
    }
    s_frame_t *fr = malloc (sizeof *fr + len);
    if (!fr) {
        s_session_close (self, l);
        return;
    }
    fr->next = NULL;
    fr->len = len;
    memcpy (fr->data, data, len);
    if (l->pending_tail)
        l->pending_tail->next = fr;
    else
        l->pending = fr;
    l->pending_tail = fr;
    l->pending_n++;
}

/* Msg { error { code: ERROR_PROTOCOL, text: "send queue full" } }, packed once. */
static size_t
s_overflow_error (uint8_t *buf, size_t size)
{
    El__Error err = EL__ERROR__INIT;
    err.code = EL__ERROR_CODE__ERROR_PROTOCOL;
    err.text = (char *) "send queue full";
    El__Msg msg = EL__MSG__INIT;
    msg.m_case = EL__MSG__M_ERROR;
    msg.error = &err;
    size_t len = el__msg__get_packed_size (&msg);
    if (len > size)
        return 0;
    el__msg__pack (&msg, buf);
    return len;
}

static bool
s_flush_pending (el_node_t *self)
{
    bool left = false;
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind != S_LINK_FREE && l->error_owed && !l->pending) {
            uint8_t buf[64];
            size_t len = s_overflow_error (buf, sizeof buf);
            int rc = len ? s_send_now (l, buf, len) : 0;
            if (rc == -EAGAIN)
                left = true;
            else
                l->error_owed = false;
        }
        while (l->kind != S_LINK_FREE && l->pending) {
            s_frame_t *f = l->pending;
            int rc = s_send_now (l, f->data, f->len);
            if (rc == -EAGAIN) {
                left = true;
                break;
            }
            l->pending = f->next;
            if (!l->pending)
                l->pending_tail = NULL;
            l->pending_n--;
            free (f);
            if (rc < 0) {
                s_link_gone (self, l, "unreachable");
                break;
            }
        }
    }
    return left;
}

/* Send every frame the sync core queued. */
static void
s_drain (el_node_t *self)
{
    uint64_t peer;
    uint8_t *frame;
    size_t len;
    while (el_sync_next_out (self->sync, &peer, &frame, &len) == 1) {
        s_link_t *l = s_link_by_session (self, peer);
        if (l)
            s_send_take (self, l, frame, len);
        else
            free (frame);
    }
}

/* An inbound connection is gone, or an outbound one lost its session. */
static void
s_link_gone (el_node_t *self, s_link_t *l, const char *reason)
{
    char f[EL_LOG_FPR_BYTES];
    if (l->kind == S_LINK_IN) {
        if (l->session)
            el_log (EL_LOG_INFO, "peer_disconnected", "peer=%s role=site reason=%s",
                    s_link_name (l, f), reason);
        s_link_free (self, l);
        return;
    }
    s_session_close (self, l);
}

/* Send an Error of our own (not through the sync core), best effort. */
static void
s_send_error (el_node_t *self, s_link_t *l, El__ErrorCode code, const char *text)
{
    El__Error err = EL__ERROR__INIT;
    err.code = code;
    err.text = (char *) text;
    El__Msg msg = EL__MSG__INIT;
    msg.m_case = EL__MSG__M_ERROR;
    msg.error = &err;
    uint8_t buf[256];
    size_t len = el__msg__get_packed_size (&msg);
    if (len > sizeof buf)
        return;
    el__msg__pack (&msg, buf);
    s_send (self, l, buf, len);
}

/* ------------------------------------------------------------ admission */

static void
s_revoke_sessions (el_node_t *self, const uint8_t site[EL_KEY_BYTES])
{
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_FREE || !l->has_key || memcmp (l->key, site, EL_KEY_BYTES))
            continue;
        char f[EL_LOG_FPR_BYTES];
        el_log (EL_LOG_WARN, "session_ended", "peer=%s role=%s reason=revoked",
                s_fpr (site, f), s_link_role (l));
        s_send_error (self, l, EL__ERROR_CODE__ERROR_REVOKED, "site revoked");
        s_flush_pending (self);
        s_session_close (self, l);
        l->down = S_DOWN_REVOKED;
        if (l->kind == S_LINK_IN) {
            l->banned = true;
        } else {
            zmq_disconnect (l->socket, l->endpoint);
            l->connected = false;
            l->since_us = el_now_us ();
            l->reconnect_at_us = s_mono_us () + (int64_t) EL_NODE_RETRY_FATAL_MS * 1000;
        }
    }
}

static bool
s_is_configured_peer (const el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < self->cfg.peers_n; i++)
        if (!memcmp (self->cfg.peers[i].key, key, EL_KEY_BYTES))
            return true;
    return false;
}

/* Our broker federates with the network of broker @p other (a Site record
 * of kind FEDERATED): accept its entries, or stop when the link ended. */
static void
s_on_federated (el_node_t *self, const uint8_t other[EL_KEY_BYTES], El__SiteStatus status,
                bool at_start)
{
    char f[EL_LOG_FPR_BYTES];
    if (!memcmp (other, self->network, EL_KEY_BYTES))
        return;
    if (status == EL__SITE_STATUS__ACTIVE) {
        int rc = el_sync_accept_network (self->sync, other);
        if (rc < 0)
            el_log (EL_LOG_ERROR, "federation_failed", "network=%s reason=%s", s_fpr (other, f),
                    el_strcode (rc));
        else if (!at_start)
            el_log (EL_LOG_INFO, "network_federated", "network=%s", s_fpr (other, f));
    } else {
        el_sync_forget_network (self->sync, other);
        if (!at_start)
            el_log (EL_LOG_WARN, "network_unfederated", "network=%s", s_fpr (other, f));
    }
}

/* A Site record of our network's broker was stored (or found at start). */
static void
s_on_site (el_node_t *self, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status,
           El__SiteKind kind, bool at_start, int64_t signed_us)
{
    char f[EL_LOG_FPR_BYTES];
    if (kind == EL__SITE_KIND__FEDERATED) {
        s_on_federated (self, site, status, at_start);
        return;
    }
    if (status == EL__SITE_STATUS__ACTIVE) {
        if (s_is_configured_peer (self, site)) {
            int rc = el_zap_allow (self->zap, site);
            if (rc < 0)
                el_log (EL_LOG_ERROR, "zap_allow_failed", "site=%s reason=%s",
                        s_fpr (site, f), el_strcode (rc));
        }
        for (size_t i = 0; i < self->links_hi; i++)
            if (self->links[i].kind != S_LINK_FREE && self->links[i].has_key
                && !memcmp (self->links[i].key, site, EL_KEY_BYTES))
                self->links[i].banned = false;
        if (!at_start)
            el_log (EL_LOG_INFO, "site_admitted", "site=%s", s_fpr (site, f));
    } else if (status == EL__SITE_STATUS__REVOKED) {
        el_zap_deny (self->zap, site);
        if (!at_start) {
            el_log (EL_LOG_WARN, "site_revoked", "site=%s", s_fpr (site, f));
            s_revoke_sessions (self, site);
        }
    }
    for (size_t i = 0; i < self->roles_n; i++)
        if (self->role_started[i] && self->roles[i]->on_site)
            self->roles[i]->on_site (self->role_state[i], site, status, at_start, signed_us);
}

static int
s_each_site (void *arg, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status,
             El__SiteKind kind, const char *name)
{
    el_node_t *self = arg;
    (void) name;
    s_on_site (self, site, status, kind, true, 0);
    return 0;
}

static void
s_on_applied (void *arg, uint64_t from_peer, const el_entry_t *const *entries,
              const int *status, size_t n)
{
    el_node_t *self = arg;
    size_t applied = 0, dup = 0, rej = 0, logged = 0;
    s_link_t *from = s_link_by_session (self, from_peer);
    char ff[EL_LOG_FPR_BYTES];
    const char *from_name = from ? s_link_name (from, ff) : from_peer ? "gone" : "local";
    for (size_t i = 0; i < n; i++) {
        if (status[i] == EL_APPLIED) {
            applied++;
            uint8_t site[EL_KEY_BYTES];
            El__SiteStatus st;
            if (entries[i] && el_attest_parse (entries[i], self->network, site, &st) == 0)
                s_on_site (self, site, st, el_attest_kind (entries[i]), false,
                           entries[i]->body->time_us);
        } else if (status[i] == EL_DUPLICATE) {
            dup++;
        } else {
            rej++;
            /* a peer's rejections once per reason per window; forks and local ones
             * up to S_REJECT_LOGS per apply */
            bool log_it = from && status[i] != EL_EFORK
                        ? s_refuse_log_ok (from, S_LOG_BIT_ENTRY + el_error_slot (status[i]))
                        : logged++ < S_REJECT_LOGS;
            if (log_it && entries[i]) {
                char fo[EL_LOG_FPR_BYTES];
                el_log (status[i] == EL_EFORK ? EL_LOG_ERROR : EL_LOG_WARN,
                        status[i] == EL_EFORK ? "fork_detected" : "entry_rejected",
                        "origin=%s seq=%" PRIu64 " from=%s reason=%s",
                        s_fpr (entries[i]->origin, fo), entries[i]->seq, from_name,
                        el_strcode (status[i]));
            }
        }
    }
    if (el_log_enabled (EL_LOG_DEBUG))
        el_log (EL_LOG_DEBUG, "entries_applied",
                "from=%s applied=%zu duplicates=%zu rejected=%zu", from_name, applied, dup, rej);
    for (size_t i = 0; i < self->roles_n; i++)
        if (self->role_started[i] && self->roles[i]->on_applied)
            self->roles[i]->on_applied (self->role_state[i], from_peer, entries, status, n);
}

/* ------------------------------------------------------------ frames */

/* The Hello's sender, which must be the authenticated key. */
/* Is @p rc a failure of the store itself (full, I/O, LMDB), not of what was
 * asked of it? */
static bool
s_is_store_error (int rc)
{
    return rc == EL_EMAPFULL || rc == EL_ESTORE
        || (rc < 0 && rc > -4096 && rc != -ENOMEM)      /* -errno: -ENOSPC, -EIO ... */
        || (rc < -4096 && rc > EL_EBASE);                /* MDB_* */
}

/* For a system error @p rc of the store (LMDB says EIO for the short write
 * of a full disk, ENOSPC when the file cannot grow): what the filesystem
 * holding @p path has left, as " disk_free_kib=N" in @p log and, when under
 * S_DISK_LOW_KIB, as a hint for people in @p hint (else both ""). */
#define S_DISK_LOW_KIB 1024
static void
s_disk_note (int rc, const char *path, char *log, size_t log_size, char *hint, size_t hint_size)
{
    struct statvfs vfs;
    log[0] = hint[0] = '\0';
    if ((rc != -EIO && rc != -ENOSPC) || !path || statvfs (path, &vfs) != 0)
        return;
    unsigned long long kib = (unsigned long long) vfs.f_bavail * vfs.f_frsize / 1024;
    snprintf (log, log_size, " disk_free_kib=%llu", kib);
    if (kib < S_DISK_LOW_KIB)
        snprintf (hint, hint_size, " (the disk holding it is full: %llu KiB free)", kib);
}

/* Our store failed to apply what @p l sent (@p rc): the sync core ended the
 * session so that the next one re-requests it from our stored heads. Said with
 * the store's path and, for a system error, the errno: at the first failure,
 * then at most once per S_REFUSE_LOG_S per link with the failures since
 * (sessions retry every second while the store stays full). */
static void
s_store_failed (el_node_t *self, s_link_t *l, int rc)
{
    int64_t now = s_mono_us ();
    l->store_failures++;
    if (l->store_log_us && now - l->store_log_us < (int64_t) S_REFUSE_LOG_S * 1000000)
        return;
    l->store_log_us = now;
    char f[EL_LOG_FPR_BYTES], text[160], path[EL_CONFIG_PATH_MAX + 8];
    char errno_text[24] = "", disk[40], hint[80];
    if (rc < 0 && rc > -4096)
        snprintf (errno_text, sizeof errno_text, " errno=%d", -rc);
    s_disk_note (rc, el_store_path (self->store), disk, sizeof disk, hint, sizeof hint);
    el_log (EL_LOG_ERROR, "receive_failed", "peer=%s role=%s reason=%s%s error=%s store=%s%s "
            "action=session_ended failures=%" PRIu64, s_link_name (l, f), s_link_role (l),
            el_strcode (rc), errno_text, el_log_quote (el_strerror (rc), text, sizeof text),
            el_log_quote (el_store_path (self->store), path, sizeof path), disk,
            l->store_failures);
    l->store_failures = 0;
}

static void
s_session_error (el_node_t *self, s_link_t *l, int rc, bool by_peer, bool by_store)
{
    char f[EL_LOG_FPR_BYTES];
    el_sync_peer_info_t info;
    uint64_t behind = 0;                /* what we sent it may not have been kept */
    if (by_peer && l->session && el_sync_peer_info (self->sync, l->session, &info) == 0)
        behind = info.behind_at_hello;
    if (l->has_key && l->session)
        for (size_t i = 0; i < self->roles_n; i++)
            if (self->role_started[i] && self->roles[i]->on_session_end)
                self->roles[i]->on_session_end (self->role_state[i], l->key,
                                                l->kind == S_LINK_BROKER, rc, by_peer);
    /* unless our store failed, we refused the frame that ended it (the sync core
     * counted it in total) */
    bool log_it = by_store  ? false
                : by_peer   ? s_refuse_log_ok (l, S_LOG_BIT_PEER_ERROR)
                            : s_frame_refused (self, l, el_error_slot (rc), false);
    if (by_store)
        s_store_failed (self, l, rc);
    if (log_it)
        el_log (rc == EL_EREVOKED || rc == EL_ENETWORK || rc == EL_EVERSION ? EL_LOG_ERROR
                                                                               : EL_LOG_WARN,
                "session_ended", "peer=%s role=%s reason=%s by=%s", s_link_name (l, f),
                s_link_role (l), el_strcode (rc), by_peer ? "peer" : "us");
    s_drain (self);             /* the Error the sync core queued for the peer */
    s_flush_pending (self);
    s_session_close (self, l);
    l->down = rc == EL_EREVOKED ? S_DOWN_REVOKED : S_DOWN_SESSION;
    l->down_rc = rc;
    l->behind_last = behind;
    if (l->kind != S_LINK_IN && rc == EL_EREVOKED) {
        /* we (or that peer) were revoked: close the connection itself, and
         * knock again later (ZAP will most likely refuse us, which is logged) */
        zmq_disconnect (l->socket, l->endpoint);
        if (l->connected) {
            l->connected = false;
            l->disconnects++;
            l->since_us = el_now_us ();
        }
        l->reconnect_at_us = s_mono_us () + (int64_t) EL_NODE_RETRY_FATAL_MS * 1000;
        el_log (EL_LOG_WARN, "peer_disconnected", "peer=%s role=%s endpoint=%s reason=revoked",
                s_link_name (l, f), s_link_role (l), l->endpoint);
    } else if (l->kind != S_LINK_IN) {
        int64_t ms = rc == EL_ENETWORK || rc == EL_EVERSION ? EL_NODE_RETRY_FATAL_MS
                                                            : EL_NODE_RETRY_MS;
        l->retry_at_us = s_mono_us () + ms * 1000;
    }
}

static void
s_on_frame (el_node_t *self, s_link_t *l, const uint8_t *data, size_t len)
{
    char f[EL_LOG_FPR_BYTES];
    l->last_seen_us = el_now_us ();
    if (len == 0)
        return;                         /* keepalive */
    if (l->banned) {
        if (s_frame_refused (self, l, S_DROP_NOT_ALLOWED, true))
            el_log (EL_LOG_WARN, "frame_dropped", "peer=%s reason=not_allowed",
                    s_link_name (l, f));
        return;
    }
    if (len > EL_FRAME_MAX) {
        if (s_frame_refused (self, l, el_error_slot (EL_ETOOBIG), true))
            el_log (EL_LOG_WARN, "frame_too_big", "peer=%s bytes=%zu", s_link_name (l, f), len);
        s_session_close (self, l);
        return;
    }
    if (l->kind == S_LINK_IN && el_wire_is_hello (data, len)) {
        uint8_t sender[EL_KEY_BYTES];
        bool parsed = el_wire_hello_sender (data, len, sender) == 0;
        if (!parsed || !l->has_key || memcmp (sender, l->key, EL_KEY_BYTES)) {
            /* a Hello cut short is malformed; a whole one naming someone else is not ours */
            if (s_frame_refused (self, l, parsed ? S_DROP_SENDER : el_error_slot (EL_EPROTO),
                                 true))
                el_log (EL_LOG_WARN, "hello_refused", "peer=%s reason=%s", s_link_name (l, f),
                        parsed ? "sender_mismatch" : "malformed");
            return;
        }
        /* a new connection of the same site replaces the old one */
        for (size_t i = 0; i < self->links_hi; i++) {
            s_link_t *o = &self->links[i];
            if (o != l && o->kind == S_LINK_IN && o->has_key
                && !memcmp (o->key, l->key, EL_KEY_BYTES) && o->socket == l->socket) {
                el_log (EL_LOG_INFO, "session_replaced", "peer=%s", s_link_name (o, f));
                s_link_free (self, o);
                s_known_t *k = s_known_find (self, l->key);
                if (k)                  /* what the old connection counted goes on here */
                    s_refused_merge (&l->refused, &k->refused);
            }
        }
        int rc = s_session_open (self, l);
        if (rc < 0) {
            el_log (EL_LOG_WARN, "session_refused", "peer=%s reason=%s", s_link_name (l, f),
                    el_strcode (rc));
            return;
        }
        el_log (EL_LOG_INFO, "peer_connected", "peer=%s role=site session=%" PRIu64,
                s_link_name (l, f), l->session);
    }
    if (!l->session) {
        /* frames in flight after a session ended are expected: logged at info */
        if (s_frame_refused (self, l, S_DROP_NO_SESSION, true))
            el_log (EL_LOG_INFO, "frame_dropped", "peer=%s reason=no_session",
                    s_link_name (l, f));
        return;
    }
    el_sync_end_t end;
    int rc = el_sync_receive (self->sync, l->session, data, len, &end);
    if (rc == -ENOBUFS) {
        /* the sync core's outbox is full: send, then try once more */
        s_drain (self);
        rc = el_sync_receive (self->sync, l->session, data, len, &end);
    }
    if (end.session == EL_SYNC_END) {
        s_session_error (self, l, end.reason, end.by_peer, end.by_store);
        return;
    }
    if (rc < 0)
        el_log (EL_LOG_ERROR, "receive_failed", "peer=%s reason=%s", s_link_name (l, f),
                el_strcode (rc));
}

static void
s_recv_outbound (el_node_t *self, s_link_t *l)
{
    for (int i = 0; i < EL_NODE_RECV_BATCH && s_mono_us () < self->cycle_deadline_us; i++) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, l->socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            return;
        }
        s_on_frame (self, l, zmq_msg_data (&m), zmq_msg_size (&m));
        zmq_msg_close (&m);
    }
}

static void
s_recv_inbound (el_node_t *self, void *router)
{
    for (int i = 0; i < EL_NODE_RECV_BATCH && s_mono_us () < self->cycle_deadline_us; i++) {
        uint8_t route[S_ROUTE_MAX];
        int n = zmq_recv (router, route, sizeof route, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (n > S_ROUTE_MAX || !el_zmq_more (router)
            || zmq_msg_recv (&m, router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            size_t extra = el_zmq_drain (router);
            self->frames_dropped += 1 + extra;
            self->dropped_by[S_DROP_NO_SESSION]++;
            self->dropped_by[S_DROP_PARTS] += extra;
            continue;
        }
        size_t extra = el_zmq_drain (router);           /* one frame per message */
        s_link_t *l = NULL;
        for (size_t j = 0; j < self->links_hi; j++) {
            s_link_t *c = &self->links[j];
            if (c->kind == S_LINK_IN && c->socket == router && c->route_len == (size_t) n
                && !memcmp (c->route, route, (size_t) n)) {
                l = c;
                break;
            }
        }
        if (!l) {
            /* a connection gets a slot with its Hello only (and each site keeps
             * one: a new Hello replaces its older connection), so the table
             * holds at most one link per admitted key and socket */
            const char *uid = zmq_msg_gets (&m, "User-Id");
            uint8_t key[EL_KEY_BYTES];
            l = uid && el_key_from_text (uid, key) == 0
                        && el_wire_is_hello (zmq_msg_data (&m), zmq_msg_size (&m))
                    ? s_link_alloc (self) : NULL;
            if (!l) {
                self->frames_dropped += 1 + extra;
                self->dropped_by[S_DROP_NO_SESSION]++;
                self->dropped_by[S_DROP_PARTS] += extra;
                zmq_msg_close (&m);
                continue;
            }
            l->kind = S_LINK_IN;
            l->socket = router;
            memcpy (l->route, route, (size_t) n);
            l->route_len = (size_t) n;
            l->has_key = true;
            memcpy (l->key, key, EL_KEY_BYTES);
            l->connected = true;
            l->since_us = el_now_us ();
            l->probe_at_us = s_mono_us () + EL_NODE_PROBE_MS * 1000;
            l->banned = !el_zap_is_allowed (self->zap, key);
            s_known_t *k = s_known_find (self, key);
            if (k) {                    /* counters carry over reconnections */
                l->sessions = k->sessions;
                l->disconnects = k->disconnects;
                s_refused_merge (&l->refused, &k->refused);
            }
        }
        for (size_t x = 0; x < extra; x++)
            if (s_frame_refused (self, l, S_DROP_PARTS, true)) {
                char f[EL_LOG_FPR_BYTES];
                el_log (EL_LOG_WARN, "frame_dropped", "peer=%s reason=extra_parts",
                        s_link_name (l, f));
            }
        int fd = zmq_msg_get (&m, ZMQ_SRCFD);
        if (fd >= 0 && l->fd != fd)
            el_handshake_ended (self->handshake, fd);   /* its first frame: authenticated */
        if (fd >= 0)
            l->fd = fd;
        l->probe_at_us = s_mono_us () + EL_NODE_PROBE_MS * 1000;
        s_on_frame (self, l, zmq_msg_data (&m), zmq_msg_size (&m));
        zmq_msg_close (&m);
    }
}

/* ------------------------------------------------------------ monitors */

static int
s_monitor_read (void *mon, uint16_t *ret_event, int32_t *ret_value, char *endpoint,
                size_t ep_size)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    if (zmq_msg_recv (&m, mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&m);
        return 0;
    }
    int ok = zmq_msg_size (&m) >= 6 && el_zmq_more (mon);
    if (ok) {
        memcpy (ret_event, zmq_msg_data (&m), 2);
        memcpy (ret_value, (uint8_t *) zmq_msg_data (&m) + 2, 4);
    }
    zmq_msg_close (&m);
    endpoint[0] = '\0';
    while (el_zmq_more (mon)) {
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, mon, ZMQ_DONTWAIT) >= 0 && ok) {
            size_t n = zmq_msg_size (&m) < ep_size - 1 ? zmq_msg_size (&m) : ep_size - 1;
            memcpy (endpoint, zmq_msg_data (&m), n);
            endpoint[n] = '\0';
        }
        zmq_msg_close (&m);
    }
    return ok ? 1 : -1;
}

/* Our link's handshake was refused: libzmq ends such a connection for good
 * (a protocol error, no reconnection), so drop the endpoint and connect again
 * later, waiting longer after each refusal in a row (el_node_reknock_ms).
 * @return the wait, ms. */
static uint32_t
s_reknock_later (s_link_t *l)
{
    uint32_t ms = el_node_reknock_ms (l->refusals, randombytes_random ());
    if (l->refusals < UINT_MAX)
        l->refusals++;
    zmq_disconnect (l->socket, l->endpoint);    /* ENOENT when libzmq forgot it: fine */
    l->connected = false;
    if (!l->since_us)
        l->since_us = el_now_us ();
    l->reconnect_at_us = s_mono_us () + (int64_t) ms * 1000;
    return ms;
}

static void
s_outbound_event (el_node_t *self, s_link_t *l, uint16_t event, int32_t value)
{
    char f[EL_LOG_FPR_BYTES];
    const char *peer = s_link_name (l, f);
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: {
        l->connected = true;
        l->unreachable_logged = false;
        l->refusals = 0;
        l->since_us = el_now_us ();
        l->last_seen_us = l->since_us;
        l->retry_at_us = 0;
        int rc = s_session_open (self, l);
        el_log (rc == 0 ? EL_LOG_INFO : EL_LOG_ERROR, "peer_connected",
                "peer=%s role=%s endpoint=%s session=%" PRIu64 "%s%s", peer, s_link_role (l),
                l->endpoint, l->session, rc ? " error=" : "", rc ? el_strcode (rc) : "");
        break;
    }
    case ZMQ_EVENT_DISCONNECTED:
        if (l->connected) {
            l->disconnects++;
            self->disconnects++;
            l->down = S_DOWN_DISCONNECTED;
            l->since_us = el_now_us ();
            s_peer_save (self, l->key, l->last_seen_us, l->since_us, l->disconnects,
                         l->sessions, l->session);
            el_log (EL_LOG_INFO, "peer_disconnected", "peer=%s role=%s endpoint=%s", peer,
                    s_link_role (l), l->endpoint);
        }
        l->connected = false;
        s_session_close (self, l);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
        l->auth_failures++;
        self->auth_failures++;
        l->down = S_DOWN_REFUSED;
        uint32_t ms = s_reknock_later (l);
        el_log (EL_LOG_WARN, "auth_failed", "peer=%s role=%s endpoint=%s status=%d "
                "reason=refused_by_peer retry_in_ms=%" PRIu32, peer, s_link_role (l),
                l->endpoint, (int) value, ms);
        break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: {
        /* a protocol failure ends the connection for good: knock again later */
        l->auth_failures++;
        self->auth_failures++;
        l->down = S_DOWN_HANDSHAKE;
        el_log (EL_LOG_WARN, "handshake_failed", "peer=%s role=%s endpoint=%s code=%d "
                "reason=protocol retry_in_ms=%" PRIu32, peer, s_link_role (l), l->endpoint,
                (int) value, s_reknock_later (l));
        break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        /* the connection dropped mid-handshake (a cut link, a proxy that
         * accepts then closes): not a refusal, and libzmq reconnects by
         * itself; said once until a handshake succeeds, as for an
         * unreachable peer, not at every reconnect */
        l->down = S_DOWN_HANDSHAKE;
        if (!l->unreachable_logged) {
            l->unreachable_logged = true;
            if (!l->since_us)
                l->since_us = el_now_us ();
            el_log (EL_LOG_WARN, "handshake_failed", "peer=%s role=%s endpoint=%s code=%d "
                    "reason=dropped", peer, s_link_role (l), l->endpoint, (int) value);
        }
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
    case ZMQ_EVENT_CLOSED:
        if (!l->connected)
            l->down = S_DOWN_UNREACHABLE;
        if (!l->connected && !l->unreachable_logged) {
            l->unreachable_logged = true;
            if (!l->since_us)
                l->since_us = el_now_us ();
            el_log (EL_LOG_WARN, "peer_unreachable", "peer=%s role=%s endpoint=%s", peer,
                    s_link_role (l), l->endpoint);
        }
        break;
    default:
        if (el_log_enabled (EL_LOG_DEBUG))
            el_log (EL_LOG_DEBUG, "socket_event", "peer=%s event=0x%x value=%d", peer,
                    (unsigned) event, (int) value);
        break;
    }
}

static bool s_auth_log_ok (el_node_t *self);

static void
s_inbound_event (el_node_t *self, size_t idx, uint16_t event, int32_t value,
                 const char *endpoint)
{
    char f[EL_LOG_FPR_BYTES];
    switch (event) {
    case ZMQ_EVENT_ACCEPTED:
        el_handshake_on_accepted (self->handshake, (int) value, s_mono_us ());
        break;
    case ZMQ_EVENT_CLOSED:
        el_handshake_ended (self->handshake, (int) value);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        el_handshake_ended (self->handshake, (int) value);
        for (size_t i = 0; i < self->links_hi; i++) {
            s_link_t *l = &self->links[i];
            if (l->kind == S_LINK_IN && l->socket == self->listen[idx] && l->fd == value) {
                self->disconnects++;
                el_log (EL_LOG_INFO, "peer_disconnected", "peer=%s role=site listen=%s",
                        s_link_name (l, f), endpoint);
                s_link_free (self, l);
            }
        }
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        /* counted once, by the ZAP handler's decision */
        if (s_auth_log_ok (self))
            el_log (EL_LOG_WARN, "auth_failed", "listen=%s status=%d reason=zap_denied",
                    endpoint, (int) value);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (s_auth_log_ok (self))
            el_log (EL_LOG_WARN, "handshake_failed", "listen=%s code=%d", endpoint,
                    (int) value);
        break;
    case ZMQ_EVENT_LISTENING:
        el_log (EL_LOG_INFO, "listening", "endpoint=%s", endpoint);
        break;
    case ZMQ_EVENT_BIND_FAILED:
        el_log (EL_LOG_ERROR, "bind_failed", "endpoint=%s errno=%d", endpoint, (int) value);
        break;
    default:
        if (el_log_enabled (EL_LOG_DEBUG))
            el_log (EL_LOG_DEBUG, "socket_event", "listen=%s event=0x%x value=%d", endpoint,
                    (unsigned) event, (int) value);
        break;
    }
}

/* May an auth_failed line be written now? (a hostile client must not flood the log) */
static bool
s_auth_log_ok (el_node_t *self)
{
    int64_t now = s_mono_us ();
    if (now - self->auth_log_window_us >= 1000000) {
        if (self->auth_suppressed)
            el_log (EL_LOG_WARN, "auth_failed_suppressed", "count=%" PRIu64,
                    self->auth_suppressed);
        self->auth_suppressed = 0;
        self->auth_log_window_us = now;
        self->auth_logged = 0;
    }
    if (self->auth_logged >= S_AUTH_LOGS_PER_S) {
        self->auth_suppressed++;
        return false;
    }
    self->auth_logged++;
    return true;
}

static void
s_zap_decision (void *arg, bool allowed, const uint8_t curve_pk[32], const uint8_t *site,
                const char *address, const char *reason)
{
    el_node_t *self = arg;
    char f[EL_LOG_FPR_BYTES];
    if (allowed) {
        if (el_log_enabled (EL_LOG_DEBUG))
            el_log (EL_LOG_DEBUG, "zap_allowed", "peer=%s address=%s", s_fpr (site, f),
                    address);
        return;
    }
    self->auth_failures++;
    if (!s_auth_log_ok (self))
        return;
    char curve[EL_KEY_TEXT_BYTES] = "none";
    if (curve_pk)
        el_key_to_text (curve_pk, curve);
    curve[EL_LOG_FPR_BYTES - 1] = '\0';
    el_log (EL_LOG_WARN, "auth_failed", "curve_key=%s address=%s reason=%s", curve, address,
            reason);
}

/* ------------------------------------------------------------ control */

static int s_control (void *arg, el_control_t *ctl, const El__ControlRequest *req,
                      El__ControlReply *reply);

/* ------------------------------------------------------------ setup */

int
el_node_lock_state (const char *state_dir, int *ret_fd)
{
    char path[EL_CONFIG_PATH_MAX + 8];
    if (snprintf (path, sizeof path, "%s/lock", state_dir) >= (int) sizeof path)
        return -ENAMETOOLONG;
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close (fd);
        return rc;
    }
    *ret_fd = fd;
    return 0;
}

int
el_node_load_key (const char *path, el_keypair_t **ret, bool *created)
{
    if (created)
        *created = false;
    int rc = el_keypair_load (path, ret);
    if (rc != -ENOENT)
        return rc;
    el_keypair_t *kp = NULL;
    rc = el_keypair_generate (&kp);
    if (rc < 0)
        return rc;
    rc = el_keypair_save (kp, path, false);
    if (rc < 0) {
        el_keypair_destroy (&kp);
        return rc;
    }
    if (created)
        *created = true;
    *ret = kp;
    return 0;
}

/* A store belongs to one site: refuse to run it under another key (a typo in
 * key_file would otherwise give an existing site a new identity, silently). */
static int
s_check_identity (el_node_t *self, const el_config_t *cfg, bool key_created)
{
    void *held = NULL;
    size_t held_len = 0;
    int rc = el_store_meta_get (self->store, "node.identity", &held, &held_len);
    if (rc == EL_ENOTFOUND)
        return el_store_meta_put (self->store, "node.identity", self->kp->pk, EL_KEY_BYTES);
    if (rc < 0)
        return rc;
    if (held_len == EL_KEY_BYTES && memcmp (held, self->kp->pk, EL_KEY_BYTES) == 0) {
        free (held);
        return 0;
    }
    char owner[EL_KEY_TEXT_BYTES] = "?";
    if (held_len == EL_KEY_BYTES)
        el_key_to_text (held, owner);
    free (held);
    el_log (EL_LOG_ERROR, "key_mismatch",
            "path=%s key_site=%s store_site=%s reason=the_store_in_state_dir_belongs_to_another_site"
            " hint=%s", cfg->key_file, self->self_text, owner,
            key_created ? "key_file_did_not_exist_check_its_path" : "use_that_site's_key_file");
    if (key_created) {
        /* do not leave a stray identity behind */
        char pub[PATH_MAX];
        unlink (cfg->key_file);
        if (snprintf (pub, sizeof pub, "%s.pub", cfg->key_file) < (int) sizeof pub)
            unlink (pub);
    }
    return EL_EINVAL;
}

static int
s_set_common (const el_node_t *self, void *s)
{
    int linger = EL_NODE_LINGER_MS;
    int hwm = self->cfg.hwm;
    int64_t max = EL_FRAME_MAX;
    int ivl = self->cfg.heartbeat_ivl_ms, to = self->cfg.heartbeat_timeout_ms;
    int ttl = self->cfg.heartbeat_ttl_ms;
    if (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm)
        || zmq_setsockopt (s, ZMQ_RCVHWM, &hwm, sizeof hwm)
        || zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &max, sizeof max)
        || zmq_setsockopt (s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl)
        || zmq_setsockopt (s, ZMQ_HEARTBEAT_TIMEOUT, &to, sizeof to)
        || zmq_setsockopt (s, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl))
        return -errno;
    return 0;
}

static int
s_monitor (el_node_t *self, void *socket, void **ret_mon)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://el-monitor-%u", self->mon_seq++);
    if (zmq_socket_monitor (socket, ep, S_MON_EVENTS) != 0)
        return -errno;
    void *mon = zmq_socket (self->ctx, ZMQ_PAIR);
    if (!mon)
        return -errno;
    int zero = 0;
    zmq_setsockopt (mon, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect (mon, ep) != 0) {
        int rc = -errno;
        zmq_close (mon);
        return rc;
    }
    *ret_mon = mon;
    return 0;
}

static int
s_outbound_new (el_node_t *self, s_link_kind_t kind, const uint8_t key[EL_KEY_BYTES],
                const char *endpoint)
{
    s_link_t *l = s_link_alloc (self);
    if (!l)
        return EL_ETOOBIG;
    l->kind = kind;
    l->has_key = true;
    memcpy (l->key, key, EL_KEY_BYTES);
    snprintf (l->endpoint, sizeof l->endpoint, "%s", endpoint);
    s_known_t rec;
    if (s_peer_load (self, key, &rec) == 0) {   /* status: last seen before this start */
        l->last_seen_us = rec.last_seen_us;
        l->since_us = rec.since_us;
        l->disconnects = rec.disconnects;
        l->sessions = rec.sessions;
    }
    int rc = -errno;
    char server[EL_Z85_BYTES];
    rc = el_key_curve_z85 (key, server);
    if (rc < 0)
        goto out_free;
    l->socket = zmq_socket (self->ctx, ZMQ_DEALER);
    if (!l->socket) {
        rc = -errno;
        goto out_free;
    }
    int one = 1;
    int rivl = self->cfg.reconnect_ivl_ms, rmax = self->cfg.reconnect_ivl_max_ms;
    rc = s_set_common (self, l->socket);
    if (rc < 0)
        goto out_close;
    if (zmq_setsockopt (l->socket, ZMQ_IMMEDIATE, &one, sizeof one)
        || zmq_setsockopt (l->socket, ZMQ_RECONNECT_IVL, &rivl, sizeof rivl)
        || zmq_setsockopt (l->socket, ZMQ_RECONNECT_IVL_MAX, &rmax, sizeof rmax)
        || zmq_setsockopt (l->socket, ZMQ_CURVE_SERVERKEY, server, 40)
        || zmq_setsockopt (l->socket, ZMQ_CURVE_PUBLICKEY, self->curve_pub, 40)
        || zmq_setsockopt (l->socket, ZMQ_CURVE_SECRETKEY, self->curve_sec, 40)) {
        rc = -errno;
        goto out_close;
    }
    rc = s_monitor (self, l->socket, &l->monitor);
    if (rc < 0)
        goto out_close;
    if (zmq_connect (l->socket, endpoint) != 0) {
        rc = -errno;
        goto out_close;
    }
    return 0;
out_close:
    if (l->monitor)
        zmq_close (l->monitor);
    zmq_close (l->socket);
out_free:
    l->kind = S_LINK_FREE;
    return rc;
}

static int
s_listen_new (el_node_t *self, const char *endpoint)
{
    void *s = zmq_socket (self->ctx, ZMQ_ROUTER);
    if (!s)
        return -errno;
    int one = 1, handshake_ms = EL_NODE_HANDSHAKE_MS;
    int rc = s_set_common (self, s);
    if (rc == 0)
        rc = el_zap_server_setup (s, self->curve_sec, EL_ZAP_DOMAIN);
    if (rc == 0 && zmq_setsockopt (s, ZMQ_ROUTER_MANDATORY, &one, sizeof one))
        rc = -errno;
    /* a stranger's connection holds what it sent of its handshake until this
     * ends (libzmq's default is 30 s) */
    if (rc == 0 && zmq_setsockopt (s, ZMQ_HANDSHAKE_IVL, &handshake_ms, sizeof handshake_ms))
        rc = -errno;
    void *mon = NULL;
    if (rc == 0)
        rc = s_monitor (self, s, &mon);
    if (rc == 0 && zmq_bind (s, endpoint) != 0)
        rc = -errno;
    if (rc < 0) {
        if (mon)
            zmq_close (mon);
        zmq_close (s);
        return rc;
    }
    self->listen[self->listen_n] = s;
    self->listen_mon[self->listen_n] = mon;
    self->listen_n++;
    return 0;
}

static int
s_signals (el_node_t *self)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    if (sigprocmask (SIG_BLOCK, &set, &self->old_mask) != 0)
        return -errno;
    self->mask_set = true;
    self->signal_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->signal_fd < 0)
        return -errno;
    signal (SIGPIPE, SIG_IGN);
    return 0;
}

/* Key pair, network id (from the first role that names one) and store. */
static int
s_open_identity (el_node_t *self, const el_config_t *cfg)
{
    bool created = false;
    int rc = el_node_load_key (cfg->key_file, &self->kp, &created);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "key_refused", "path=%s reason=%s", cfg->key_file,
                rc == EL_EKEYPERM ? "readable_by_group_or_others" : el_strcode (rc));
        return rc;
    }
    el_key_to_text (self->kp->pk, self->self_text);
    if (created)
        el_log (EL_LOG_INFO, "key_created", "path=%s site=%s", cfg->key_file, self->self_text);
    rc = el_keypair_curve_z85 (self->kp, self->curve_pub, self->curve_sec);
    if (rc < 0)
        return rc;
    rc = EL_EINVAL;
    for (size_t i = 0; i < self->roles_n && rc == EL_EINVAL; i++)
        if (self->roles[i]->network)
            rc = self->roles[i]->network (cfg, self->kp, self->network);
    if (rc < 0)
        return rc;
    el_store_config_t scfg = {
        .map_bytes_max = cfg->map_max_mb ? (size_t) cfg->map_max_mb << 20 : 0,
        .no_sync = !cfg->durable,
        .require_attestation = true,
        .mono_us = s_mono_clock,
        .wall_us = el_clock_wall,
    };
    /* a limit under the first map size starts the map at the limit (the store
     * would otherwise raise the limit to its first size) */
    if (scfg.map_bytes_max && scfg.map_bytes_max < EL_STORE_MAP_INITIAL)
        scfg.map_bytes_initial = scfg.map_bytes_max;
    rc = el_store_open (cfg->state_dir, &scfg, &self->store);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "store_open_failed", "path=%s reason=%s", cfg->state_dir,
                el_strcode (rc));
        return rc;
    }
    rc = s_check_identity (self, cfg, created);
    if (rc < 0)
        return rc;
    return el_store_accept_network (self->store, self->network);
}

static int
s_open_sync (el_node_t *self, const el_config_t *cfg)
{
    el_sync_config_t sc = {
        .credit = cfg->credit,
        .batch_max = cfg->batch,
        /* members' sharing levels hold on the wire (docs/ARCHITECTURE.md) */
        .share = el_share_by_level,
        .share_kinds = EL_SHARE_BY_LEVEL_KINDS,
        .now_us = el_clock_wall,
    };
    memcpy (sc.self_id, self->kp->pk, EL_KEY_BYTES);
    memcpy (sc.network, self->network, EL_KEY_BYTES);
    int rc = el_sync_new (self->store, &sc, &self->sync);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "sync_failed", "reason=%s", el_strcode (rc));
        return rc;
    }
    el_sync_on_applied (self->sync, s_on_applied, self);
    el_sync_set_write_hook (self->sync, s_signer_barrier, self);
    return 0;
}

/* Listen endpoints and outbound links to configured peers. */
static int
s_open_links (el_node_t *self, const el_config_t *cfg)
{
    int rc = 0;
    for (size_t i = 0; i < cfg->listen_n; i++) {
        rc = s_listen_new (self, cfg->listen[i]);
        if (rc < 0) {
            el_log (EL_LOG_ERROR, "bind_failed", "endpoint=%s reason=%s", cfg->listen[i],
                    strerror (-rc));
            return rc;
        }
    }
    for (size_t i = 0; i < cfg->peers_n; i++) {
        if (!cfg->peers[i].endpoint[0])
            continue;
        rc = s_outbound_new (self, S_LINK_PEER, cfg->peers[i].key, cfg->peers[i].endpoint);
        if (rc < 0) {
            el_log (EL_LOG_ERROR, "connect_failed", "endpoint=%s reason=%s",
                    cfg->peers[i].endpoint, el_strerror (rc));
            return rc;
        }
    }
    return 0;
}

static int
s_start_roles (el_node_t *self)
{
    for (size_t i = 0; i < self->roles_n; i++) {
        if (!self->roles[i]->start) {
            self->role_started[i] = true;
            continue;
        }
        int rc = self->roles[i]->start (self, &self->role_state[i]);
        if (rc < 0) {
            el_log (EL_LOG_ERROR, "role_failed", "role=%s reason=%s", self->roles[i]->name,
                    el_strcode (rc));
            return rc;
        }
        self->role_started[i] = true;
    }
    return 0;
}

int
el_node_new (const el_config_t *cfg, const char *name, const el_role_ops_t *const *roles,
             size_t roles_n, el_node_t **ret)
{
    int rc = -ENOMEM;
    char f[EL_LOG_FPR_BYTES];
    if (roles_n > EL_NODE_ROLES_MAX)
        return EL_EINVAL;
    el_node_t *self = calloc (1, sizeof *self);
    if (!self)
        goto out;
    self->cfg = *cfg;
    self->name = name;
    memcpy (self->roles, roles, roles_n * sizeof *roles);
    self->roles_n = roles_n;
    self->lock_fd = -1;
    self->signal_fd = -1;
    self->started_us = el_now_us ();
    self->links = calloc (EL_NODE_LINKS_MAX, sizeof *self->links);
    self->known = calloc (EL_NODE_LINKS_MAX, sizeof *self->known);
    if (!self->links || !self->known)
        goto out_destroy;

    /* no core dumps: the secret key is in memory */
    struct rlimit core = { 0, 0 };
    setrlimit (RLIMIT_CORE, &core);

    if (mkdir (cfg->state_dir, 0700) != 0 && errno != EEXIST) {
        rc = -errno;
        el_log (EL_LOG_ERROR, "state_dir_failed", "path=%s reason=%s", cfg->state_dir,
                strerror (errno));
        goto out_destroy;
    }
    /* a state folder or configuration others may write is refused */
    const char *const private[] = { cfg->state_dir, cfg->config_file };
    for (size_t i = 0; i < sizeof private / sizeof *private; i++) {
        char err[EL_CONFIG_ERR_MAX];
        if (!private[i][0])
            continue;
        rc = el_config_check_private (private[i], err, sizeof err);
        if (rc < 0) {
            char q[EL_CONFIG_ERR_MAX + 8], p[EL_CONFIG_PATH_MAX + 8];
            el_log (EL_LOG_ERROR, rc == -EPERM ? "unsafe_permissions" : "state_dir_failed",
                    "path=%s reason=%s", el_log_quote (private[i], p, sizeof p),
                    el_log_quote (err, q, sizeof q));
            goto out_destroy;
        }
    }
    rc = el_node_lock_state (cfg->state_dir, &self->lock_fd);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "state_dir_locked", "path=%s reason=%s", cfg->state_dir,
                rc == -EBUSY ? "another_daemon_runs_here" : strerror (-rc));
        goto out_destroy;
    }
    rc = s_open_identity (self, cfg);
    if (rc < 0)
        goto out_destroy;
    rc = s_open_sync (self, cfg);
    if (rc < 0)
        goto out_destroy;
    rc = s_signals (self);
    if (rc < 0)
        goto out_destroy;
    self->ctx = zmq_ctx_new ();
    if (!self->ctx) {
        rc = -errno;
        goto out_destroy;
    }
    /* ZAP first: no CURVE server socket exists before its handler. */
    rc = el_zap_new (self->ctx, s_zap_decision, self, &self->zap);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "zap_failed", "reason=%s", strerror (-rc));
        goto out_destroy;
    }
    self->handshake = el_handshake_new (EL_HANDSHAKE_OPEN_MAX, EL_HANDSHAKE_PER_ADDR_MAX,
                                        (int64_t) (EL_NODE_HANDSHAKE_MS + 1000) * 1000);
    if (!self->handshake) {
        rc = -ENOMEM;
        goto out_destroy;
    }
    for (size_t i = 0; i < cfg->peers_n; i++) {
        el_zap_allow (self->zap, cfg->peers[i].key);
        if (!cfg->peers[i].endpoint[0])
            s_known_load (self, cfg->peers[i].key);
    }
    rc = s_open_links (self, cfg);
    if (rc < 0)
        goto out_destroy;
    rc = el_control_new (self->ctx, cfg->control, s_control, self, &self->control);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "control_bind_failed", "endpoint=%s reason=%s", cfg->control,
                strerror (-rc));
        goto out_destroy;
    }
    rc = s_start_roles (self);
    if (rc < 0)
        goto out_destroy;
    rc = el_attest_each (self->store, self->network, s_each_site, self);
    if (rc < 0)
        goto out_destroy;
    el_log (EL_LOG_INFO, "started", "role=%s site=%s network=%s admitted=%s control=%s",
            name, self->self_text, s_fpr (self->network, f),
            self->revoked_us ? "revoked" : self->admitted ? "yes" : "no", cfg->control);
    *ret = self;
    return 0;
out_destroy:
    el_node_destroy (&self);
out:
    return rc;
}

void
el_node_destroy (el_node_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_node_t *self = *self_p;
    if (self->store && self->links) {
        int64_t now = el_now_us ();
        for (size_t i = 0; i < self->links_hi; i++) {
            s_link_t *l = &self->links[i];
            if (l->kind != S_LINK_FREE && l->has_key && (l->connected || l->kind == S_LINK_IN))
                s_peer_save (self, l->key, l->last_seen_us, now,
                             l->disconnects + (l->connected ? 1 : 0), l->sessions, l->session);
        }
    }
    if (self->store && self->sync && self->control)
        s_signer_collect (self, true);          /* what was signed is stored and answered */
    el_signer_destroy (&self->signer);
    for (size_t i = self->roles_n; i-- > 0;)
        if (self->role_started[i] && self->roles[i]->stop)
            self->roles[i]->stop (&self->role_state[i]);
    el_control_destroy (&self->control);
    if (self->links) {
        for (size_t i = 0; i < self->links_hi; i++) {
            s_link_t *l = &self->links[i];
            if (l->kind == S_LINK_FREE)
                continue;
            s_pending_clear (l);
            free (l->refused);
            l->refused = NULL;
            if (l->kind != S_LINK_IN)
                s_outbound_sockets_close (l);
            l->kind = S_LINK_FREE;
        }
    }
    for (size_t i = 0; i < self->listen_n; i++) {
        zmq_socket_monitor (self->listen[i], NULL, 0);
        if (self->listen_mon[i])
            zmq_close (self->listen_mon[i]);
        zmq_close (self->listen[i]);
    }
    el_zap_destroy (&self->zap);
    el_handshake_destroy (&self->handshake);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    el_sync_destroy (&self->sync);
    el_store_destroy (&self->store);
    el_keypair_destroy (&self->kp);
    if (self->signal_fd >= 0)
        close (self->signal_fd);
    if (self->mask_set)
        sigprocmask (SIG_SETMASK, &self->old_mask, NULL);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    free (self->links);
    for (size_t i = 0; self->known && i < self->known_n; i++)
        free (self->known[i].refused);
    free (self->known);
    free (self);
    *self_p = NULL;
}

const uint8_t *
el_node_id (const el_node_t *self)
{
    return self->kp->pk;
}

void
el_node_handshake_stats (const el_node_t *self, el_handshake_stats_t *ret)
{
    el_handshake_stats (self->handshake, ret);
}

size_t
el_node_peers_connected (const el_node_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->links_hi; i++)
        if (self->links[i].kind != S_LINK_FREE && self->links[i].session)
            n++;
    return n;
}

size_t
el_node_peers (el_node_t *self, el_node_peer_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->links_hi && n < max; i++) {
        const s_link_t *l = &self->links[i];
        el_sync_peer_info_t info;
        if (l->kind == S_LINK_FREE || !l->session || !l->has_key
            || el_sync_peer_info (self->sync, l->session, &info) != 0)
            continue;
        memcpy (out[n].key, l->key, EL_KEY_BYTES);
        out[n].behind = info.behind;
        out[n].last_seen_us = l->last_seen_us;
        n++;
    }
    return n;
}

void
el_node_stop (el_node_t *self)
{
    self->stop = true;
}

/* ------------------------------------------------------------ reload */

void
el_node_on_reload (el_node_t *self, el_node_reload_fn *fn, void *arg)
{
    self->reload = fn;
    self->reload_arg = arg;
}

/* Append @p name to the comma-separated list @p buf. */
static void
s_list_add (char *buf, size_t size, const char *name)
{
    size_t len = strlen (buf);
    if (len < size)
        snprintf (buf + len, size - len, "%s%s", len ? "," : "", name);
}

static bool
s_peer_listed (const el_config_t *cfg, const el_config_peer_t *p, bool same_endpoint)
{
    for (size_t i = 0; i < cfg->peers_n; i++)
        if (!memcmp (cfg->peers[i].key, p->key, EL_KEY_BYTES)
            && (!same_endpoint || !strcmp (cfg->peers[i].endpoint, p->endpoint)))
            return true;
    return false;
}

/* Close our link to a peer we no longer connect to (it left the
 * configuration, or a role dropped it): its session, its sockets, the frames
 * it still had waiting. */
static void
s_link_close_outbound (el_node_t *self, s_link_t *l)
{
    s_session_close (self, l);
    s_outbound_sockets_close (l);
    s_pending_clear (l);
    s_link_free (self, l);
}

/* Peer @p p left the configuration (@p still_peer: its key stays, with
 * another endpoint): our link to it closes; unless it stays a peer, its key
 * leaves the ZAP allow list (but for the network's key, and on the broker
 * for a site it admitted) and its inbound sessions end. */
static void
s_peer_drop (el_node_t *self, const el_config_peer_t *p, bool still_peer)
{
    char f[EL_LOG_FPR_BYTES];
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_PEER && !memcmp (l->key, p->key, EL_KEY_BYTES)
            && !strcmp (l->endpoint, p->endpoint))
            s_link_close_outbound (self, l);
    }
    El__SiteStatus st = EL__SITE_STATUS__REVOKED;
    bool admitted_here = !memcmp (self->network, self->kp->pk, EL_KEY_BYTES)
                         && el_attest_status (self->store, self->network, p->key, &st) == 0
                         && st == EL__SITE_STATUS__ACTIVE;
    if (still_peer || admitted_here || !memcmp (p->key, self->network, EL_KEY_BYTES))
        return;
    el_zap_deny (self->zap, p->key);
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind != S_LINK_IN || !l->has_key || memcmp (l->key, p->key, EL_KEY_BYTES))
            continue;
        el_log (EL_LOG_INFO, "session_ended", "peer=%s role=site reason=no_longer_a_peer",
                s_fpr (p->key, f));
        s_send_error (self, l, EL__ERROR_CODE__ERROR_PROTOCOL, "not a peer any more");
        s_flush_pending (self);
        s_session_close (self, l);
        l->banned = true;
    }
}

/* Peer @p p joined the configuration. @return 0, or the error (logged). */
static int
s_peer_add (el_node_t *self, const el_config_peer_t *p)
{
    int rc = el_zap_allow (self->zap, p->key);
    if (rc == 0 && p->endpoint[0])
        rc = s_outbound_new (self, S_LINK_PEER, p->key, p->endpoint);
    else if (rc == 0)
        s_known_load (self, p->key);
    if (rc < 0) {
        char f[EL_LOG_FPR_BYTES];
        el_log (EL_LOG_ERROR, "peer_add_failed", "peer=%s endpoint=%s reason=%s",
                s_fpr (p->key, f), p->endpoint[0] ? p->endpoint : "none", el_strcode (rc));
    }
    return rc;
}

/* The configured peers become those of @p cfg: links closed and opened. */
static void
s_reload_peers (el_node_t *self, const el_config_t *cfg, char *changed, size_t size)
{
    el_config_peer_t *now = malloc (EL_CONFIG_PEERS_MAX * sizeof *now);
    if (!now) {
        s_list_add (changed, size, "peers_not_applied_out_of_memory");
        return;
    }
    size_t n = 0, added = 0, removed = 0;
    for (size_t i = 0; i < self->cfg.peers_n; i++) {
        const el_config_peer_t *p = &self->cfg.peers[i];
        if (s_peer_listed (cfg, p, true)) {
            now[n++] = *p;
        } else {
            s_peer_drop (self, p, s_peer_listed (cfg, p, false));
            removed++;
        }
    }
    for (size_t i = 0; i < cfg->peers_n && n < EL_CONFIG_PEERS_MAX; i++) {
        const el_config_peer_t *p = &cfg->peers[i];
        if (!s_peer_listed (&self->cfg, p, true) && s_peer_add (self, p) == 0) {
            now[n++] = *p;
            added++;
        }
    }
    memcpy (self->cfg.peers, now, n * sizeof *now);
    self->cfg.peers_n = n;
    free (now);
    if (added)
        s_list_add (changed, size, "peers_added");
    if (removed)
        s_list_add (changed, size, "peers_removed");
}

/* The settings a running daemon keeps until it restarts, when they changed. */
static void
s_reload_fixed (const el_config_t *was, const el_config_t *cfg, char *list, size_t size)
{
    bool listen = was->listen_n != cfg->listen_n;
    for (size_t i = 0; !listen && i < cfg->listen_n; i++)
        listen = strcmp (was->listen[i], cfg->listen[i]) != 0;
    const struct {
        const char *name;
        bool changed;
    } fixed[] = {
        { "state_dir", strcmp (was->state_dir, cfg->state_dir) != 0 },
        { "key_file", strcmp (was->key_file, cfg->key_file) != 0 },
        { "listen", listen },
        { "connect", strcmp (was->connect, cfg->connect) != 0 },
        { "broker_key", was->has_broker_key != cfg->has_broker_key
                        || memcmp (was->broker_key, cfg->broker_key, EL_KEY_BYTES) != 0 },
        { "control", strcmp (was->control, cfg->control) != 0 },
        { "heartbeat", was->heartbeat_ivl_ms != cfg->heartbeat_ivl_ms
                       || was->heartbeat_timeout_ms != cfg->heartbeat_timeout_ms
                       || was->heartbeat_ttl_ms != cfg->heartbeat_ttl_ms },
        { "reconnect", was->reconnect_ivl_ms != cfg->reconnect_ivl_ms
                       || was->reconnect_ivl_max_ms != cfg->reconnect_ivl_max_ms },
        { "hwm", was->hwm != cfg->hwm },
        { "map_max_mb", was->map_max_mb != cfg->map_max_mb },
        { "credit", was->credit != cfg->credit },
        { "batch", was->batch != cfg->batch },
        { "durable", was->durable != cfg->durable },
        { "http_listen", strcmp (was->http_listen, cfg->http_listen) != 0 },
        { "metrics_listen", strcmp (was->metrics_listen, cfg->metrics_listen) != 0 },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].changed)
            s_list_add (list, size, fixed[i].name);
}

/* SIGHUP: read the configuration again and apply what can change live (log
 * level, peers); a configuration that does not load changes nothing. */
static void
s_reload (el_node_t *self)
{
    if (!self->reload) {
        el_log (EL_LOG_INFO, "signal_ignored", "signal=SIGHUP");
        return;
    }
    char err[EL_CONFIG_ERR_MAX] = "", q[EL_CONFIG_ERR_MAX + 16];
    el_config_t *cfg = malloc (sizeof *cfg);
    int rc = cfg ? self->reload (self->reload_arg, cfg, err, sizeof err) : -ENOMEM;
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "config_reload_failed", "reason=%s kept=previous_configuration",
                el_log_quote (err[0] ? err : el_strerror (rc), q, sizeof q));
        free (cfg);
        return;
    }
    char changed[256] = "", restart[256] = "";
    if (cfg->log_level != self->cfg.log_level) {
        el_log_set_level (cfg->log_level);
        self->cfg.log_level = cfg->log_level;
        s_list_add (changed, sizeof changed, "log_level");
    }
    s_reload_peers (self, cfg, changed, sizeof changed);
    s_reload_fixed (&self->cfg, cfg, restart, sizeof restart);
    el_log (EL_LOG_INFO, "config_reloaded", "changed=%s log_level=%s peers=%zu "
            "needs_restart=%s", changed[0] ? changed : "none",
            el_log_level_name (self->cfg.log_level), self->cfg.peers_n,
            restart[0] ? restart : "none");
    free (cfg);
}

/* ------------------------------------------------------------ reactor */

static void
s_timers (el_node_t *self, int64_t now, int64_t *next)
{
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_FREE)
            continue;
        if (l->refused && l->refused->suppressed) {
            int64_t end = l->refused->window_us + (int64_t) S_REFUSE_LOG_S * 1000000;
            if (now >= end)
                s_refuse_summary (l, l->refused);
            else if (end < *next)
                *next = end;
        }
        if (l->kind != S_LINK_IN && l->reconnect_at_us) {
            if (now >= l->reconnect_at_us) {
                char f[EL_LOG_FPR_BYTES];
                l->reconnect_at_us = 0;
                if (zmq_connect (l->socket, l->endpoint) != 0)
                    el_log (EL_LOG_ERROR, "connect_failed", "peer=%s endpoint=%s reason=%s",
                            s_link_name (l, f), l->endpoint, strerror (errno));
                else if (el_log_enabled (EL_LOG_DEBUG))
                    el_log (EL_LOG_DEBUG, "reconnecting", "peer=%s role=%s endpoint=%s "
                            "refusals=%u", s_link_name (l, f), s_link_role (l), l->endpoint,
                            l->refusals);
            } else if (l->reconnect_at_us < *next) {
                *next = l->reconnect_at_us;
            }
        }
        if (l->kind != S_LINK_IN && l->retry_at_us) {
            if (now >= l->retry_at_us) {
                l->retry_at_us = 0;
                if (l->connected && !l->session) {
                    int rc = s_session_open (self, l);
                    char f[EL_LOG_FPR_BYTES];
                    el_log (EL_LOG_INFO, "session_restarted", "peer=%s role=%s%s%s",
                            s_link_name (l, f), s_link_role (l), rc ? " error=" : "",
                            rc ? el_strcode (rc) : "");
                }
            } else if (l->retry_at_us < *next) {
                *next = l->retry_at_us;
            }
        }
        if (l->kind == S_LINK_IN) {
            if (now >= l->probe_at_us) {
                l->probe_at_us = now + EL_NODE_PROBE_MS * 1000;
                if (!l->pending) {
                    int rc = s_send_now (l, (const uint8_t *) "", 0);
                    if (rc < 0 && rc != -EAGAIN) {
                        s_link_gone (self, l, "probe_failed");
                        continue;
                    }
                }
            }
            if (l->probe_at_us < *next)
                *next = l->probe_at_us;
        }
    }
}

/* el_waits_head_fn: the stored head of @p origin. */
static int
s_wait_head (void *arg, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret_seq)
{
    el_node_t *self = arg;
    el_head_t h;
    int rc = el_store_head (self->store, origin, &h);
    *ret_seq = rc == 0 ? h.seq : 0;
    return rc == EL_ENOTFOUND ? 0 : rc;
}

/* el_waits_answer_fn: the WaitReply of a deferred WaitRequest. */
static void
s_wait_answer (void *arg, unsigned token, int rc, uint64_t head_seq, bool reached)
{
    el_node_t *self = arg;
    El__ControlReply reply = EL__CONTROL_REPLY__INIT;
    El__WaitReply wr = EL__WAIT_REPLY__INIT;
    if (rc == -ECANCELED)
        reply.text = (char *) "the daemon is stopping";
    if (rc == 0) {
        wr.seq = head_seq;
        wr.reached = reached;
        reply.r_case = EL__CONTROL_REPLY__R_WAIT;
        reply.wait = &wr;
    }
    (void) el_control_reply (self->control, token, rc, &reply);
}

/* Before sleeping: answer the waits this cycle's commits reached, and those
 * whose time is up; wake for the next deadline. */
static void
s_waits_run (el_node_t *self, int64_t now, int64_t *next)
{
    if (!self->waits.n)
        return;
    el_store_stats_t st;
    el_store_stats (self->store, &st);
    (void) el_waits_run (&self->waits, now, st.commits, next, s_wait_head, s_wait_answer, self);
}

/* A burst (a catch-up, an import) leaves the allocator holding freed
 * memory; once the reactor is idle, hand it back (malloc_trim also
 * releases free pages inside the heap), so that an idle site's private
 * memory does not keep the size of its busiest moment. */
static void
s_heap_trim (el_node_t *self, int64_t now, int64_t *next)
{
    if (!self->trim_due)
        return;
    int64_t at = self->busy_us + (int64_t) EL_NODE_TRIM_IDLE_MS * 1000;
    if (now < at) {
        if (at < *next)
            *next = at;
        return;
    }
    el_sync_trim (self->sync);
    malloc_trim (0);
    self->trim_due = false;
}

int
el_node_run (el_node_t *self)
{
    zmq_pollitem_t items[S_POLL_MAX];
    s_link_t *owners[S_POLL_MAX];
    int kinds[S_POLL_MAX];       /* 0 signal, 1 zap, 2 control, 3 listen, 4 listen mon,
                                  * 5 outbound, 6 outbound mon, 7 signer */
    size_t idx[S_POLL_MAX];
    bool pending = false;
    while (!self->stop) {
        bool reload = false;
        int n = 0;
        items[n] = (zmq_pollitem_t) { NULL, self->signal_fd, ZMQ_POLLIN, 0 };
        kinds[n++] = 0;
        items[n] = (zmq_pollitem_t) { el_zap_socket (self->zap), 0, ZMQ_POLLIN, 0 };
        kinds[n++] = 1;
        if (self->signer && el_signer_out (self->signer)) {
            items[n] = (zmq_pollitem_t) { el_signer_socket (self->signer), 0, ZMQ_POLLIN, 0 };
            kinds[n++] = 7;
        }
        items[n] = (zmq_pollitem_t) { el_control_socket (self->control), 0, ZMQ_POLLIN, 0 };
        kinds[n++] = 2;
        for (size_t i = 0; i < self->listen_n; i++) {
            items[n] = (zmq_pollitem_t) { self->listen_mon[i], 0, ZMQ_POLLIN, 0 };
            idx[n] = i;
            kinds[n++] = 4;
            items[n] = (zmq_pollitem_t) { self->listen[i], 0, ZMQ_POLLIN, 0 };
            idx[n] = i;
            kinds[n++] = 3;
        }
        for (size_t i = 0; i < self->links_hi && n + 2 <= S_POLL_MAX; i++) {
            s_link_t *l = &self->links[i];
            if (l->kind != S_LINK_BROKER && l->kind != S_LINK_PEER)
                continue;
            items[n] = (zmq_pollitem_t) { l->monitor, 0, ZMQ_POLLIN, 0 };
            owners[n] = l;
            kinds[n++] = 6;
            items[n] = (zmq_pollitem_t) { l->socket, 0, ZMQ_POLLIN, 0 };
            owners[n] = l;
            kinds[n++] = 5;
        }
        for (size_t i = 0; i < self->roles_n; i++)
            if (self->role_started[i] && self->roles[i]->tick)
                self->roles[i]->tick (self->role_state[i]);
        int64_t now = s_mono_us ();
        int64_t next = now + 1000000;
        s_timers (self, now, &next);
        s_waits_run (self, now, &next);
        s_heap_trim (self, now, &next);
        long timeout = (long) ((next - now + 999) / 1000);
        if (timeout < 0)
            timeout = 0;
        if (pending && timeout > 5)
            timeout = 5;
        long hs_ms = el_handshake_wait_ms (self->handshake);
        if (hs_ms >= 0 && timeout > hs_ms)
            timeout = hs_ms;
        int rc = zmq_poll (items, n, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ETERM)
                break;
            el_log (EL_LOG_ERROR, "poll_failed", "reason=%s", strerror (errno));
            return -errno;
        }
        self->cycle_deadline_us = s_mono_us () + EL_NODE_CYCLE_BUDGET_MS * 1000;
        if (rc > 0) {
            self->busy_us = self->cycle_deadline_us;
            self->trim_due = true;
        }
        /* monitors first: a disconnect is seen before the next connection's frames */
        for (int i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            uint16_t ev;
            int32_t val;
            char ep[256];
            if (kinds[i] == 4) {
                while (s_monitor_read (items[i].socket, &ev, &val, ep, sizeof ep) == 1)
                    s_inbound_event (self, idx[i], ev, val, ep);
            } else if (kinds[i] == 6) {
                while (s_monitor_read (items[i].socket, &ev, &val, ep, sizeof ep) == 1)
                    s_outbound_event (self, owners[i], ev, val);
            }
        }
        /* every pending event read: over a cap, strangers' handshakes are cut */
        el_handshake_enforce (self->handshake, s_mono_us ());
        for (int i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            switch (kinds[i]) {
            case 0: {
                struct signalfd_siginfo si;
                while (read (self->signal_fd, &si, sizeof si) == (ssize_t) sizeof si) {
                    if (si.ssi_signo == SIGHUP) {
                        reload = true;      /* once this cycle's sockets are read */
                        continue;
                    }
                    el_log (EL_LOG_INFO, "stopping", "signal=%s",
                            si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                    self->stop = true;
                }
                break;
            }
            case 1:
                el_zap_handle (self->zap);
                break;
            case 2:
                el_control_handle (self->control);
                break;
            case 3:
                s_recv_inbound (self, self->listen[idx[i]]);
                break;
            case 5:
                s_recv_outbound (self, owners[i]);
                break;
            case 7:
                s_signer_collect (self, false);
                break;
            default:
                break;
            }
            if (self->stop)
                break;
        }
        if (reload && !self->stop)
            s_reload (self);        /* may close links: not while items[] point at them */
        s_drain (self);
        pending = s_flush_pending (self);
    }
    el_waits_cancel (&self->waits, -ECANCELED, s_wait_answer, self);
    el_log (EL_LOG_INFO, "stopped", "site=%s", self->self_text);
    return 0;
}

/* ------------------------------------------------------------ control handlers */

/* The reply to a WriteRequest of @p n records whose write ended with @p rc
 * (@p last: seq of the last entry written). @return @p rc, or -ENOMEM. */
static int
s_write_reply (el_node_t *self, el_control_t *ctl, int rc, uint64_t last, size_t n,
               El__ControlReply *reply)
{
    if (rc < 0) {
        if (s_is_store_error (rc)) {
            /* full or failing store: the log and the caller get its path */
            char text[160], path[EL_CONFIG_PATH_MAX + 8], errno_text[24] = "";
            char why[EL_CONFIG_PATH_MAX + 240], disk[40], hint[80];
            if (rc > -4096)
                snprintf (errno_text, sizeof errno_text, " errno=%d", -rc);
            s_disk_note (rc, el_store_path (self->store), disk, sizeof disk, hint, sizeof hint);
            el_log (EL_LOG_ERROR, "write_failed", "reason=%s%s error=%s store=%s%s",
                    el_strcode (rc), errno_text,
                    el_log_quote (el_strerror (rc), text, sizeof text),
                    el_log_quote (el_store_path (self->store), path, sizeof path), disk);
            snprintf (why, sizeof why, "%s: %s%s", el_store_path (self->store),
                      el_strerror (rc), hint);
            reply->text = el_control_strdup (ctl, why);
        } else if (rc == EL_ENOTADMITTED)
            reply->text = el_control_strdup (ctl, "this site is not admitted yet (no active "
                                                  "Site entry of its broker is held)");
        else if (rc == EL_EREVOKED)
            reply->text = el_control_strdup (ctl, EL_REVOKED_TEXT);
        return rc;
    }
    El__WriteReply *wr = el_control_alloc (ctl, sizeof *wr);
    if (!wr)
        return -ENOMEM;
    el__write_reply__init (wr);
    wr->last_seq = last;
    wr->first_seq = last + 1 - n;
    reply->r_case = EL__CONTROL_REPLY__R_WRITE;
    reply->write = wr;
    return 0;
}

/* Store a job the signer gave back and answer its request. */
static void
s_signed_done (el_node_t *self, el_sign_job_t *job)
{
    uint64_t last = 0;
    int rc = job->rc;
    if (rc == 0)
        rc = el_sync_write_signed (self->sync, job->data, job->lens, job->n, &last);
    El__ControlReply reply = EL__CONTROL_REPLY__INIT;
    rc = s_write_reply (self, self->control, rc, last, job->n, &reply);
    (void) el_control_reply (self->control, job->token, rc, &reply);
    el_sign_job_destroy (&job);
}

/* Take back what the signer finished: all of it with @p wait. */
static void
s_signer_collect (el_node_t *self, bool wait)
{
    while (self->signer) {
        el_sign_job_t *job = el_signer_take (self->signer, wait);
        if (!job)
            break;
        s_signed_done (self, job);
    }
}

/* el_sync_write()'s hook: every other write waits for the signer's jobs to
 * be stored, so that it continues the final head. */
static void
s_signer_barrier (void *arg)
{
    s_signer_collect (arg, true);
}

#define S_WRITE_HERE 2          /* s_write_deferred(): write it on this thread */

/* A WriteRequest handed to the signer: answered when it comes back
 * (s_signed_done). @return EL_CONTROL_DEFERRED, or S_WRITE_HERE when it
 * must be written here and now (no signer, too many waiting), or an error. */
static int
s_write_deferred (el_node_t *self, el_control_t *ctl, const el_record_t *recs, size_t n)
{
    if (!self->signer && el_signer_new (self->ctx, self->kp, &self->signer) < 0)
        return S_WRITE_HERE;
    el_head_t head;
    int rc = el_sync_write_check (self->sync, self->kp, recs, n, &head);
    if (rc < 0)
        return rc;
    el_sign_job_t *job = el_sign_job_new (recs, n);
    if (!job)
        return -ENOMEM;
    /* nothing out: start from the stored head (a write or a failure in
     * between moved it); else continue what the signer holds */
    job->reset = el_signer_out (self->signer) == 0;
    job->seq = head.seq;
    memcpy (job->hash, head.hash, EL_HASH_BYTES);
    memcpy (job->network, self->network, EL_KEY_BYTES);
    job->time_us = el_now_us ();
    if (el_control_defer (ctl, &job->token) < 0) {
        el_sign_job_destroy (&job);
        return S_WRITE_HERE;
    }
    if (el_signer_submit (self->signer, job) < 0) {
        el_control_forget (ctl, job->token);
        el_sign_job_destroy (&job);
        return S_WRITE_HERE;
    }
    return EL_CONTROL_DEFERRED;
}

static int
s_ctl_write (el_node_t *self, el_control_t *ctl, const El__WriteRequest *w,
             El__ControlReply *reply)
{
    if (!w->n_records)
        return EL_EINVAL;
    if (w->n_records > EL_SYNC_WRITE_MAX)
        return EL_ETOOBIG;
    if (self->revoked_us) {
        reply->text = el_control_strdup (ctl, EL_REVOKED_TEXT);
        return EL_EREVOKED;
    }
    el_record_t *recs = calloc (w->n_records, sizeof *recs);
    if (!recs)
        return -ENOMEM;
    for (size_t i = 0; i < w->n_records; i++) {
        const El__RecordWrite *r = w->records[i];
        recs[i].kind = r->kind;
        recs[i].key = r->key;
        recs[i].deleted = r->deleted;
        recs[i].payload = r->payload.data;
        recs[i].payload_len = r->payload.len;
    }
    uint64_t last = 0;
    int rc = s_write_deferred (self, ctl, recs, w->n_records);
    if (rc == S_WRITE_HERE)
        rc = el_sync_write (self->sync, self->kp, recs, w->n_records, &last);
    free (recs);
    if (rc == EL_CONTROL_DEFERRED)
        return rc;
    return s_write_reply (self, ctl, rc, last, w->n_records, reply);
}

static El__RecordView *
s_record_view (el_control_t *ctl, const el_entry_t *e)
{
    El__RecordView *v = el_control_alloc (ctl, sizeof *v);
    if (!v || !e->body)
        return NULL;
    el__record_view__init (v);
    uint8_t *buf = el_control_alloc (ctl, EL_KEY_BYTES * 2 + EL_HASH_BYTES
                                          + e->payload_len + 1);
    char *key = el_control_strdup (ctl, e->body->key ? e->body->key : "");
    if (!buf || !key)
        return NULL;
    memcpy (buf, e->origin, EL_KEY_BYTES);
    memcpy (buf + EL_KEY_BYTES, e->network, EL_KEY_BYTES);
    memcpy (buf + 2 * EL_KEY_BYTES, e->hash, EL_HASH_BYTES);
    if (e->payload_len)
        memcpy (buf + 2 * EL_KEY_BYTES + EL_HASH_BYTES, e->payload,
                e->payload_len);
    v->origin = (ProtobufCBinaryData) { EL_KEY_BYTES, buf };
    v->network = (ProtobufCBinaryData) { EL_KEY_BYTES, buf + EL_KEY_BYTES };
    v->hash = (ProtobufCBinaryData) { EL_HASH_BYTES, buf + 2 * EL_KEY_BYTES };
    v->payload = (ProtobufCBinaryData) { e->payload_len,
                                         buf + 2 * EL_KEY_BYTES + EL_HASH_BYTES };
    v->kind = e->body->kind;
    v->key = key;
    v->seq = e->seq;
    v->time_us = e->body->time_us;
    return v;
}

typedef struct {
    el_control_t *ctl;
    const El__ListRequest *req;
    const uint8_t *origin;      /* window listings: only this origin, or NULL */
    El__RecordView **views;
    size_t n, limit;
    bool more;
    int rc;
    uint8_t next[EL_STORE_CURSOR_MAX];  /* window listings: the last record's cursor */
    size_t next_len;
    const char *ctl_text;       /* why a window was refused (static text) */
} s_list_t;

static int
s_list_record (void *arg, const el_entry_t *e)
{
    s_list_t *L = arg;
    if (L->n == L->limit) {
        L->more = true;
        return 1;
    }
    El__RecordView *v = s_record_view (L->ctl, e);
    if (!v) {
        L->rc = -ENOMEM;
        return 1;
    }
    L->views[L->n++] = v;
    return 0;
}

/* s_list_record for a window listing: keeps the cursor of each record listed */
static int
s_list_timed (void *arg, const el_entry_t *e, const uint8_t *cursor, size_t cursor_len)
{
    s_list_t *L = arg;
    if (L->origin && memcmp (e->origin, L->origin, EL_KEY_BYTES))
        return 0;
    int stop = s_list_record (arg, e);
    if (!stop) {
        memcpy (L->next, cursor, cursor_len);
        L->next_len = cursor_len;
    }
    return stop;
}

/* A window listing (ListRequest.window) into @p L. */
static int
s_ctl_list_window (el_node_t *self, const El__ListRequest *req, s_list_t *L)
{
    static_assert (EL_STORE_CURSOR_MAX == EL_CONTROL_CURSOR_MAX, "one cursor size");
    const char *why = NULL;
    if (req->kind != EL__KIND__EVENT && req->kind != EL__KIND__BOOKING)
        why = "a window lists events or bookings only";
    else if (req->from_us >= req->to_us)
        why = "a window's to_us must be after its from_us";
    else if (req->after_time.len > EL_CONTROL_CURSOR_MAX)
        why = "after_time is longer than any cursor";
    int rc = why ? EL_EINVAL
                 : el_store_window (self->store, req->kind, req->from_us, req->to_us,
                                    req->after_time.len ? req->after_time.data : NULL,
                                    req->after_time.len, s_list_timed, L);
    if (rc == EL_EINVAL)
        L->ctl_text = why ? why : "after_time is not a cursor of this listing "
                                  "(ListReply.next of its previous page)";
    return rc;
}

static int
s_ctl_list (el_node_t *self, el_control_t *ctl, const El__ListRequest *req,
            El__ControlReply *reply)
{
    uint8_t origin[EL_KEY_BYTES];
    if (req->origin.len && el_key_from_field (&req->origin, origin) < 0)
        return EL_EINVAL;
    if (req->after_origin.len && req->after_origin.len != EL_KEY_BYTES)
        return EL_EINVAL;
    size_t limit = req->limit ? req->limit : EL_CONTROL_LIST_DEFAULT;
    if (limit > EL_CONTROL_LIST_MAX)
        limit = EL_CONTROL_LIST_MAX;
    s_list_t L = { .ctl = ctl, .req = req, .limit = limit };
    L.views = el_control_alloc (ctl, limit * sizeof *L.views);
    El__ListReply *lr = el_control_alloc (ctl, sizeof *lr);
    if (!L.views || !lr)
        return -ENOMEM;
    /* the next page starts after the cursor, found by one seek */
    int rc;
    if (req->window) {
        L.origin = req->origin.len ? origin : NULL;
        rc = s_ctl_list_window (self, req, &L);
        if (L.ctl_text)
            reply->text = el_control_strdup (ctl, L.ctl_text);
    } else {
        rc = el_store_records_after (self->store, req->kind, req->origin.len ? origin : NULL,
                                     req->after_origin.len ? req->after_origin.data : NULL,
                                     req->after_key, s_list_record, &L);
    }
    if (rc < 0)
        return rc;
    if (L.rc < 0)
        return L.rc;
    el__list_reply__init (lr);
    lr->records = L.views;
    lr->n_records = L.n;
    lr->more = L.more;
    if (L.more && L.next_len) {
        lr->next.data = el_control_alloc (ctl, L.next_len);
        if (!lr->next.data)
            return -ENOMEM;
        memcpy (lr->next.data, L.next, L.next_len);
        lr->next.len = L.next_len;
    }
    reply->r_case = EL__CONTROL_REPLY__R_LIST;
    reply->list = lr;
    return 0;
}

/* GetRequest.any_origin: the key of that kind at every origin the store
 * holds a head of, one point lookup each. */
static int
s_ctl_get_any (el_node_t *self, el_control_t *ctl, const El__GetRequest *req,
               El__GetReply *gr)
{
    el_head_t *heads = NULL;
    size_t n = 0;
    int rc = el_store_heads (self->store, &heads, &n);
    if (rc < 0)
        return rc;
    gr->others = el_control_alloc (ctl, EL_CONTROL_GET_OTHERS_MAX * sizeof *gr->others);
    rc = gr->others ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        el_entry_t *e = NULL;
        int grc = el_store_record_get (self->store, req->kind, heads[i].origin, req->key, &e);
        if (grc == EL_ENOTFOUND)
            continue;
        if (grc < 0) {
            rc = grc;
            break;
        }
        El__RecordView *v = s_record_view (ctl, e);
        el_entry_destroy (&e);
        if (!v)
            rc = -ENOMEM;
        else if (!gr->record)
            gr->record = v;
        else if (gr->n_others < EL_CONTROL_GET_OTHERS_MAX)
            gr->others[gr->n_others++] = v;
    }
    free (heads);
    if (rc == 0 && !gr->record)
        rc = EL_ENOTFOUND;
    return rc;
}

static int
s_ctl_get (el_node_t *self, el_control_t *ctl, const El__GetRequest *req,
           El__ControlReply *reply)
{
    if (req->any_origin) {
        El__GetReply *gr = el_control_alloc (ctl, sizeof *gr);
        if (!gr || !req->key || !req->key[0])
            return gr ? EL_EINVAL : -ENOMEM;
        el__get_reply__init (gr);
        int rc = s_ctl_get_any (self, ctl, req, gr);
        if (rc < 0)
            return rc;
        reply->r_case = EL__CONTROL_REPLY__R_GET;
        reply->get = gr;
        return 0;
    }
    uint8_t origin[EL_KEY_BYTES];
    if (req->origin.len == 0)
        memcpy (origin, self->kp->pk, EL_KEY_BYTES);
    else if (el_key_from_field (&req->origin, origin) < 0)
        return EL_EINVAL;
    if (!req->key || !req->key[0])
        return EL_EINVAL;
    el_entry_t *e = NULL;
    int rc = el_store_record_get (self->store, req->kind, origin, req->key, &e);
    if (rc < 0)
        return rc;
    El__GetReply *gr = el_control_alloc (ctl, sizeof *gr);
    El__RecordView *v = gr ? s_record_view (ctl, e) : NULL;
    el_entry_destroy (&e);
    if (!v)
        return -ENOMEM;
    el__get_reply__init (gr);
    gr->record = v;
    reply->r_case = EL__CONTROL_REPLY__R_GET;
    reply->get = gr;
    return 0;
}

static int
s_ctl_heads (el_node_t *self, el_control_t *ctl, El__ControlReply *reply)
{
    el_head_t *heads = NULL;
    size_t n = 0;
    int rc = el_store_heads (self->store, &heads, &n);
    if (rc < 0)
        return rc;
    rc = -ENOMEM;
    El__HeadsReply *hr = el_control_alloc (ctl, sizeof *hr);
    El__HeadView **views = el_control_alloc (ctl, (n ? n : 1) * sizeof *views);
    if (!hr || !views)
        goto out;
    el__heads_reply__init (hr);
    for (size_t i = 0; i < n; i++) {
        El__HeadView *v = el_control_alloc (ctl, sizeof *v);
        uint8_t *buf = el_control_alloc (ctl, EL_KEY_BYTES + EL_HASH_BYTES);
        if (!v || !buf)
            goto out;
        el__head_view__init (v);
        memcpy (buf, heads[i].origin, EL_KEY_BYTES);
        memcpy (buf + EL_KEY_BYTES, heads[i].hash, EL_HASH_BYTES);
        v->origin = (ProtobufCBinaryData) { EL_KEY_BYTES, buf };
        v->hash = (ProtobufCBinaryData) { EL_HASH_BYTES, buf + EL_KEY_BYTES };
        v->seq = heads[i].seq;
        v->status = heads[i].status;
        views[i] = v;
    }
    hr->heads = views;
    hr->n_heads = n;
    reply->r_case = EL__CONTROL_REPLY__R_HEADS;
    reply->heads = hr;
    rc = 0;
out:
    free (heads);
    return rc;
}

static bool
s_status_has_peer (El__PeerStatus *const *peers, size_t np, const uint8_t key[EL_KEY_BYTES])
{
    for (size_t i = 0; i < np; i++)
        if (peers[i]->key.len == EL_KEY_BYTES && !memcmp (peers[i]->key.data, key, EL_KEY_BYTES)
            && !peers[i]->outbound)
            return true;
    return false;
}

/* A PeerStatus for an inbound peer without a connection. */
static El__PeerStatus *
s_status_offline (el_control_t *ctl, const uint8_t key[EL_KEY_BYTES])
{
    El__PeerStatus *p = el_control_alloc (ctl, sizeof *p);
    uint8_t *copy = el_control_alloc (ctl, EL_KEY_BYTES);
    if (!p || !copy)
        return NULL;
    el__peer_status__init (p);
    memcpy (copy, key, EL_KEY_BYTES);
    p->key = (ProtobufCBinaryData) { EL_KEY_BYTES, copy };
    p->endpoint = (char *) "";
    p->role = (char *) "site";
    p->down_reason = (char *) "disconnected";
    p->behind_unknown = true;
    return p;
}

/* Status, one section per function. Everything is allocated in the reply's
 * arena (el_control_alloc), freed once the reply is sent. */

static int
s_status_store (el_node_t *self, el_control_t *ctl, El__StatusReply *st,
                const el_head_t *heads, size_t nh)
{
    El__StoreStatus *ss = el_control_alloc (ctl, sizeof *ss);
    if (!ss)
        return -ENOMEM;
    el__store_status__init (ss);
    el_store_stats_t s;
    el_store_stats (self->store, &s);
    ss->applied = s.applied;
    ss->duplicates = s.duplicates;
    ss->rejected = s.rejected;
    ss->forks = s.forks;
    ss->commits = s.commits;
    ss->map_bytes = s.map_bytes;
    ss->origins = nh;
    for (size_t i = 0; i < nh; i++)
        ss->entries += heads[i].seq;
    st->store = ss;
    return 0;
}

/* Name of a refusal reason slot (an el_error_slot() or S_DROP_*). */
static const char *
s_slot_name (size_t slot)
{
    if (slot >= EL_ERROR_SLOTS)
        return s_drop_names[slot - EL_ERROR_SLOTS];
    return slot == 0 ? "other" : el_strcode (el_error_of_slot ((unsigned) slot));
}

/* A map<string, uint64> of reason names (s_slot_name) to the non-zero counts
 * @p counts[0..n), in the reply's arena. Every such map's entry type in
 * el_control.proto has the layout of El__SyncStatus__RejectedByReasonEntry;
 * @p desc names the map's own. @return 0, -ENOMEM. */
static int
s_status_reasons (el_control_t *ctl, const ProtobufCMessageDescriptor *desc,
                  const uint64_t *counts, size_t n, void ***ret, size_t *ret_n)
{
    El__SyncStatus__RejectedByReasonEntry **v = el_control_alloc (ctl, (n ? n : 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!counts[i])
            continue;
        El__SyncStatus__RejectedByReasonEntry *e = el_control_alloc (ctl, sizeof *e);
        if (!e)
            return -ENOMEM;
        protobuf_c_message_init (desc, e);
        e->key = (char *) s_slot_name (i);
        e->value = counts[i];
        v[k++] = e;
    }
    *ret = (void **) v;
    *ret_n = k;
    return 0;
}

/* Connections refused in handshake, by reason (el_handshake.h). */
static int
s_status_handshakes (el_node_t *self, el_control_t *ctl, El__SyncStatus *sy)
{
    el_handshake_stats_t hs;
    el_handshake_stats (self->handshake, &hs);
    sy->handshakes_refused = hs.refused_total;
    sy->handshakes_open = hs.open;
    El__SyncStatus__HandshakesRefusedByReasonEntry **v =
        el_control_alloc (ctl, EL_HANDSHAKE_REASONS * sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < EL_HANDSHAKE_REASONS; i++) {
        if (!hs.refused[i])
            continue;
        El__SyncStatus__HandshakesRefusedByReasonEntry *e = el_control_alloc (ctl, sizeof *e);
        if (!e)
            return -ENOMEM;
        el__sync_status__handshakes_refused_by_reason_entry__init (e);
        e->key = (char *) el_handshake_reason_name ((el_handshake_reason_t) i);
        e->value = hs.refused[i];
        v[k++] = e;
    }
    sy->handshakes_refused_by_reason = v;
    sy->n_handshakes_refused_by_reason = k;
    return 0;
}

static int
s_status_sync (el_node_t *self, el_control_t *ctl, El__StatusReply *st)
{
    El__SyncStatus *sy = el_control_alloc (ctl, sizeof *sy);
    if (!sy)
        return -ENOMEM;
    el__sync_status__init (sy);
    el_sync_stats_t y;
    el_sync_stats (self->sync, &y);
    sy->frames_in = y.frames_in;
    sy->frames_out = y.frames_out;
    sy->entries_in = y.entries_in;
    sy->entries_out = y.entries_out;
    sy->applied = y.applied;
    sy->duplicates = y.duplicates;
    sy->rejected = y.rejected;
    sy->forks = y.forks;
    sy->sessions_ended = y.sessions_ended;
    sy->frames_dropped = self->frames_dropped;
    sy->auth_failures = self->auth_failures;
    sy->disconnects = self->disconnects;
    const size_t slots = sizeof y.rejected_by_reason / sizeof y.rejected_by_reason[0];
    El__SyncStatus__RejectedByReasonEntry **reasons =
        el_control_alloc (ctl, slots * sizeof *reasons);
    if (!reasons)
        return -ENOMEM;
    size_t nreasons = 0;
    for (size_t i = 0; i < slots; i++) {
        if (!y.rejected_by_reason[i])
            continue;
        El__SyncStatus__RejectedByReasonEntry *e = el_control_alloc (ctl, sizeof *e);
        if (!e)
            return -ENOMEM;
        el__sync_status__rejected_by_reason_entry__init (e);
        e->key = (char *) (i == 0 ? "other" : el_strcode (el_error_of_slot ((unsigned) i)));
        e->value = y.rejected_by_reason[i];
        reasons[nreasons++] = e;
    }
    sy->rejected_by_reason = reasons;
    sy->n_rejected_by_reason = nreasons;
    uint64_t frames[S_FRAME_SLOTS];
    sy->frames_refused = y.frames_refused;
    for (size_t i = 0; i < S_FRAME_SLOTS; i++) {
        frames[i] = self->dropped_by[i] + (i < EL_ERROR_SLOTS ? y.frames_refused_by_reason[i] : 0);
        sy->frames_refused += self->dropped_by[i];
    }
    int rc = s_status_reasons (ctl, &el__sync_status__frames_refused_by_reason_entry__descriptor,
                               frames, S_FRAME_SLOTS, (void ***) &sy->frames_refused_by_reason,
                               &sy->n_frames_refused_by_reason);
    if (rc == 0)
        rc = s_status_reasons (ctl, &el__sync_status__ended_by_reason_entry__descriptor,
                               y.ended_by_reason, EL_ERROR_SLOTS,
                               (void ***) &sy->ended_by_reason, &sy->n_ended_by_reason);
    if (rc == 0)
        rc = s_status_handshakes (self, ctl, sy);
    st->sync = sy;
    return rc;
}

/* What a peer sent that was refused: @p r (may be NULL) and, for a live
 * session, what its store refused so far (@p info, may be NULL). */
static int
s_status_refused (el_control_t *ctl, El__PeerStatus *p, const s_refused_t *r,
                  const el_sync_peer_info_t *info)
{
    uint64_t entries[EL_ERROR_SLOTS] = { 0 };
    uint64_t frames[S_FRAME_SLOTS] = { 0 };
    for (size_t i = 0; i < EL_ERROR_SLOTS; i++) {
        entries[i] = (r ? r->entries[i] : 0) + (info ? info->rejected_by_reason[i] : 0);
        p->rejected += entries[i];
    }
    for (size_t i = 0; r && i < S_FRAME_SLOTS; i++) {
        frames[i] = r->frames[i];
        p->frames_refused += frames[i];
    }
    int rc = s_status_reasons (ctl, &el__peer_status__rejected_by_reason_entry__descriptor,
                               entries, EL_ERROR_SLOTS, (void ***) &p->rejected_by_reason,
                               &p->n_rejected_by_reason);
    if (rc == 0)
        rc = s_status_reasons (ctl, &el__peer_status__frames_refused_by_reason_entry__descriptor,
                               frames, S_FRAME_SLOTS, (void ***) &p->frames_refused_by_reason,
                               &p->n_frames_refused_by_reason);
    return rc;
}

static El__OriginBehind *
s_origin_behind (el_control_t *ctl, const uint8_t origin[EL_KEY_BYTES], uint64_t behind)
{
    El__OriginBehind *o = el_control_alloc (ctl, sizeof *o);
    uint8_t *ok = el_control_alloc (ctl, EL_KEY_BYTES);
    if (!o || !ok)
        return NULL;
    el__origin_behind__init (o);
    memcpy (ok, origin, EL_KEY_BYTES);
    o->origin = (ProtobufCBinaryData) { EL_KEY_BYTES, ok };
    o->behind = behind;
    return o;
}

/* How far behind the peer of @p session is, per origin (at most
 * EL_NODE_STATUS_ORIGINS origins). */
static int
s_status_behind (el_node_t *self, el_control_t *ctl, uint64_t session, El__PeerStatus *p,
                 const el_head_t *heads, size_t nh)
{
    size_t cap = nh < EL_NODE_STATUS_ORIGINS ? nh : EL_NODE_STATUS_ORIGINS;
    El__OriginBehind **ob = el_control_alloc (ctl, (cap ? cap : 1) * sizeof *ob);
    if (!ob)
        return -ENOMEM;
    size_t nob = 0;
    for (size_t h = 0; h < nh && nob < cap; h++) {
        uint64_t b = el_sync_peer_behind (self->sync, session, heads[h].origin);
        if (!b)
            continue;
        ob[nob] = s_origin_behind (ctl, heads[h].origin, b);
        if (!ob[nob++])
            return -ENOMEM;
    }
    p->behind_by_origin = ob;
    p->n_behind_by_origin = nob;
    return 0;
}

/* How far behind peer @p key is when it has no session: what we hold now
 * against what it held when its last session ended (its peers record); when
 * that is not stored, behind_unknown. Both lists are in origin order. */
static int
s_status_behind_stored (el_node_t *self, el_control_t *ctl, const uint8_t key[EL_KEY_BYTES],
                        El__PeerStatus *p, const el_head_t *heads, size_t nh)
{
    void *val = NULL;
    size_t len = 0;
    p->behind_unknown = true;
    if (el_store_peer_get (self->store, key, &val, &len) < 0)
        return 0;
    int64_t n = s_peer_rec_heads (val, len);
    size_t cap = nh < EL_NODE_STATUS_ORIGINS ? nh : EL_NODE_STATUS_ORIGINS;
    El__OriginBehind **ob = n < 0 ? NULL : el_control_alloc (ctl, (cap ? cap : 1) * sizeof *ob);
    size_t nob = 0, j = 0;
    uint64_t total = 0;
    int rc = n >= 0 && !ob ? -ENOMEM : 0;
    for (size_t h = 0; ob && rc == 0 && h < nh; h++) {
        const uint8_t *held = (const uint8_t *) val + S_PEER_HEADS_AT;
        while (j < (size_t) n && memcmp (held + j * S_PEER_HEAD_BYTES, heads[h].origin,
                                         EL_KEY_BYTES) < 0)
            j++;
        uint64_t seq = j < (size_t) n && !memcmp (held + j * S_PEER_HEAD_BYTES, heads[h].origin,
                                                  EL_KEY_BYTES)
                           ? el_be64_get (held + j * S_PEER_HEAD_BYTES + EL_KEY_BYTES) : 0;
        if (seq >= heads[h].seq)
            continue;
        total += heads[h].seq - seq;
        if (nob < cap) {
            ob[nob] = s_origin_behind (ctl, heads[h].origin, heads[h].seq - seq);
            rc = ob[nob++] ? 0 : -ENOMEM;
        }
    }
    free (val);
    if (ob && rc == 0) {
        p->behind_unknown = false;
        p->behind = total;
        p->behind_by_origin = ob;
        p->n_behind_by_origin = nob;
    }
    return rc;
}

/* Why link @p l is down, in words (PeerStatus.down_reason); "" when it is up. */
static char *
s_down_reason (el_node_t *self, el_control_t *ctl, const s_link_t *l, bool up)
{
    const char *who = l->kind == S_LINK_BROKER ? "broker" : "peer";
    char buf[96];
    if (up)
        return (char *) "";
    if (l->banned)
        return (char *) "revoked";
    switch (l->connected && l->down != S_DOWN_SESSION && l->down != S_DOWN_REVOKED
                ? S_DOWN_CONNECTING : l->down) {
    case S_DOWN_UNREACHABLE:
        snprintf (buf, sizeof buf, "%s unreachable", who);
        break;
    case S_DOWN_REFUSED:
        if (l->kind == S_LINK_BROKER && self->revoked_us)
            return (char *) "revoked";
        snprintf (buf, sizeof buf, "not admitted by the %s", who);
        break;
    case S_DOWN_HANDSHAKE:
        return (char *) "handshake failed";
    case S_DOWN_DISCONNECTED:
        return (char *) "disconnected";
    case S_DOWN_SESSION:
        snprintf (buf, sizeof buf, "session ended: %s", el_strerror (l->down_rc));
        break;
    case S_DOWN_REVOKED:
        return (char *) "revoked";
    case S_DOWN_CONNECTING:
    default:
        return (char *) (l->kind == S_LINK_IN ? "disconnected" : "connecting");
    }
    return el_control_strdup (ctl, buf);
}

/* The status row of a live link. @return NULL when out of memory. */
static El__PeerStatus *
s_status_link (el_node_t *self, el_control_t *ctl, const s_link_t *l, const el_head_t *heads,
               size_t nh)
{
    El__PeerStatus *p = el_control_alloc (ctl, sizeof *p);
    uint8_t *key = el_control_alloc (ctl, EL_KEY_BYTES);
    if (!p || !key)
        return NULL;
    el__peer_status__init (p);
    if (l->has_key) {
        memcpy (key, l->key, EL_KEY_BYTES);
        p->key = (ProtobufCBinaryData) { EL_KEY_BYTES, key };
    }
    p->endpoint = el_control_strdup (ctl, l->endpoint);
    p->outbound = l->kind != S_LINK_IN;
    p->connected = l->connected && l->session != 0 && !l->banned;
    p->down_reason = s_down_reason (self, ctl, l, p->connected);
    if (!p->down_reason)
        return NULL;
    p->last_seen_us = l->last_seen_us;
    p->since_us = l->since_us;
    p->auth_failures = l->auth_failures;
    p->disconnects = l->disconnects;
    p->sessions = l->sessions;
    p->role = (char *) s_link_role (l);
    el_sync_peer_info_t info;
    bool live = l->session && el_sync_peer_info (self->sync, l->session, &info) == 0;
    if (live) {
        p->hello_received = info.hello_received;
        p->behind = info.behind;
        p->entries_sent = info.entries_sent;
        p->entries_received = info.entries_received;
        if (s_status_behind (self, ctl, l->session, p, heads, nh) < 0)
            return NULL;
    } else {
        p->behind = l->behind_last;
    }
    if (!p->hello_received && l->has_key
        && s_status_behind_stored (self, ctl, l->key, p, heads, nh) < 0)
        return NULL;
    if (s_status_refused (ctl, p, l->refused, live ? &info : NULL) < 0)
        return NULL;
    return p;
}

/* Every live link, then the inbound peers seen before and gone. */
static int
s_status_peers (el_node_t *self, el_control_t *ctl, El__StatusReply *st, const el_head_t *heads,
                size_t nh)
{
    size_t nl = 0;
    for (size_t i = 0; i < self->links_hi; i++)
        if (self->links[i].kind != S_LINK_FREE)
            nl++;
    El__PeerStatus **peers = el_control_alloc (ctl, (nl + self->known_n + 1) * sizeof *peers);
    if (!peers)
        return -ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < self->links_hi && np < nl; i++) {
        if (self->links[i].kind == S_LINK_FREE)
            continue;
        El__PeerStatus *p = s_status_link (self, ctl, &self->links[i], heads, nh);
        if (!p)
            return -ENOMEM;
        peers[np++] = p;
    }
    for (size_t i = 0; i < self->known_n; i++) {
        const s_known_t *k = &self->known[i];
        if (s_status_has_peer (peers, np, k->key))
            continue;
        El__PeerStatus *p = s_status_offline (ctl, k->key);
        if (!p)
            return -ENOMEM;
        p->last_seen_us = k->last_seen_us;
        p->since_us = k->since_us;
        p->disconnects = k->disconnects;
        p->sessions = k->sessions;
        if (s_status_refused (ctl, p, k->refused, NULL) < 0)
            return -ENOMEM;
        peers[np++] = p;
        int rc = s_status_behind_stored (self, ctl, k->key, p, heads, nh);
        if (rc < 0)
            return rc;
    }
    st->peers = peers;
    st->n_peers = np;
    return 0;
}

static int
s_status_head (el_node_t *self, el_control_t *ctl, El__StatusReply *st)
{
    uint8_t *ids = el_control_alloc (ctl, 2 * EL_KEY_BYTES);
    char **listen = el_control_alloc (ctl, (self->cfg.listen_n + 1) * sizeof *listen);
    if (!ids || !listen)
        return -ENOMEM;
    memcpy (ids, self->kp->pk, EL_KEY_BYTES);
    memcpy (ids + EL_KEY_BYTES, self->network, EL_KEY_BYTES);
    st->self_id = (ProtobufCBinaryData) { EL_KEY_BYTES, ids };
    st->network = (ProtobufCBinaryData) { EL_KEY_BYTES, ids + EL_KEY_BYTES };
    st->role = (char *) self->name;
    st->admitted = self->admitted;
    st->revoked_us = self->revoked_us;
    st->started_us = self->started_us;
    st->version = (char *) EL_VERSION;
    for (size_t i = 0; i < self->cfg.listen_n; i++)
        listen[i] = self->cfg.listen[i];
    st->listen = listen;
    st->n_listen = self->cfg.listen_n;
    return 0;
}

static int
s_ctl_status (el_node_t *self, el_control_t *ctl, El__ControlReply *reply)
{
    El__StatusReply *st = el_control_alloc (ctl, sizeof *st);
    if (!st)
        return -ENOMEM;
    el__status_reply__init (st);
    el_head_t *heads = NULL;
    size_t nh = 0;
    int rc = el_store_heads (self->store, &heads, &nh);
    if (rc < 0)
        return rc;
    rc = s_status_head (self, ctl, st);
    if (rc == 0)
        rc = s_status_store (self, ctl, st, heads, nh);
    if (rc == 0)
        rc = s_status_sync (self, ctl, st);
    if (rc == 0)
        rc = s_status_peers (self, ctl, st, heads, nh);
    for (size_t i = 0; rc == 0 && i < self->roles_n; i++)
        if (self->role_started[i] && self->roles[i]->status)
            rc = self->roles[i]->status (self->role_state[i], ctl, st);
    free (heads);
    if (rc < 0)
        return rc;
    reply->r_case = EL__CONTROL_REPLY__R_STATUS;
    reply->status = st;
    return 0;
}

/* A WaitRequest: answered now when its head is reached, else deferred until
 * it is or its timeout passes (s_waits_run). */
static int
s_ctl_wait (el_node_t *self, el_control_t *ctl, const El__WaitRequest *req,
            El__ControlReply *reply)
{
    uint8_t origin[EL_KEY_BYTES];
    if (req->origin.len == 0)
        memcpy (origin, self->kp->pk, EL_KEY_BYTES);
    else if (el_key_from_field (&req->origin, origin) < 0)
        return EL_EINVAL;
    if (req->timeout_ms > EL_WAIT_MAX_MS) {
        reply->text = el_control_strdup (ctl, "wait: a timeout of at most 300 s");
        return EL_EINVAL;
    }
    uint64_t seq;
    int rc = s_wait_head (self, origin, &seq);
    if (rc < 0)
        return rc;
    if (seq < req->seq) {
        unsigned token;
        if (self->waits.n >= EL_WAITS_MAX || el_control_defer (ctl, &token) < 0) {
            reply->text = el_control_strdup (ctl, "too many requests wait: try again later");
            return -EBUSY;
        }
        int64_t ms = req->timeout_ms ? req->timeout_ms : EL_WAIT_DEFAULT_MS;
        (void) el_waits_add (&self->waits, token, origin, req->seq, s_mono_us () + ms * 1000);
        return EL_CONTROL_DEFERRED;
    }
    El__WaitReply *wr = el_control_alloc (ctl, sizeof *wr);
    if (!wr)
        return -ENOMEM;
    el__wait_reply__init (wr);
    wr->seq = seq;
    wr->reached = true;
    reply->r_case = EL__CONTROL_REPLY__R_WAIT;
    reply->wait = wr;
    return 0;
}

static int
s_control (void *arg, el_control_t *ctl, const El__ControlRequest *req,
           El__ControlReply *reply)
{
    el_node_t *self = arg;
    switch (req->r_case) {
    case EL__CONTROL_REQUEST__R_WRITE:
        return s_ctl_write (self, ctl, req->write, reply);
    case EL__CONTROL_REQUEST__R_LIST:
        return s_ctl_list (self, ctl, req->list, reply);
    case EL__CONTROL_REQUEST__R_GET:
        return s_ctl_get (self, ctl, req->get, reply);
    case EL__CONTROL_REQUEST__R_HEADS:
        return s_ctl_heads (self, ctl, reply);
    case EL__CONTROL_REQUEST__R_STATUS:
        return s_ctl_status (self, ctl, reply);
    case EL__CONTROL_REQUEST__R_WAIT:
        return s_ctl_wait (self, ctl, req->wait, reply);
    default:
        break;
    }
    for (size_t i = 0; i < self->roles_n; i++) {
        const el_role_ops_t *r = self->roles[i];
        for (size_t k = 0; self->role_started[i] && k < r->routes_n; k++)
            if (r->routes[k].r_case == req->r_case)
                return r->routes[k].fn (self->role_state[i], ctl, req, reply);
    }
    reply->text = el_control_strdup (ctl, "this daemon does not answer that request");
    return EL_EINVAL;
}

/* ------------------------------------------------------------ for the roles */

el_store_t *
el_node_store (el_node_t *self)
{
    return self->store;
}

el_sync_t *
el_node_sync (el_node_t *self)
{
    return self->sync;
}

const el_keypair_t *
el_node_keypair (const el_node_t *self)
{
    return self->kp;
}

const el_config_t *
el_node_config (const el_node_t *self)
{
    return &self->cfg;
}

const uint8_t *
el_node_network (const el_node_t *self)
{
    return self->network;
}

void
el_node_set_admission (el_node_t *self, bool admitted, int64_t revoked_us)
{
    self->admitted = admitted;
    self->revoked_us = revoked_us;
}

bool
el_node_is_admitted (const el_node_t *self)
{
    return self->admitted;
}

int
el_node_zap_allow (el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    int rc = el_zap_allow (self->zap, key);
    if (rc < 0) {
        char f[EL_LOG_FPR_BYTES];
        el_log (EL_LOG_ERROR, "zap_allow_failed", "site=%s reason=%s", s_fpr (key, f),
                el_strcode (rc));
    }
    return rc;
}

void
el_node_remember_peer (el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    s_known_load (self, key);
}

int
el_node_uplink (el_node_t *self, const uint8_t key[EL_KEY_BYTES], const char *endpoint)
{
    int rc = s_outbound_new (self, S_LINK_BROKER, key, endpoint);
    if (rc < 0)
        el_log (EL_LOG_ERROR, "connect_failed", "endpoint=%s reason=%s", endpoint,
                el_strerror (rc));
    return rc;
}

int
el_node_peer_connect (el_node_t *self, const uint8_t key[EL_KEY_BYTES], const char *endpoint)
{
    for (size_t i = 0; i < self->links_hi; i++)
        if (self->links[i].kind == S_LINK_PEER && self->links[i].has_key
            && !memcmp (self->links[i].key, key, EL_KEY_BYTES)
            && !strcmp (self->links[i].endpoint, endpoint))
            return 0;
    if (self->role_links >= EL_NODE_ROLE_LINKS_MAX)
        return EL_ETOOBIG;
    int rc = s_outbound_new (self, S_LINK_PEER, key, endpoint);
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "connect_failed", "endpoint=%s reason=%s", endpoint,
                el_strerror (rc));
        return rc;
    }
    self->role_links++;
    return 0;
}

void
el_node_peer_drop (el_node_t *self, const uint8_t key[EL_KEY_BYTES])
{
    el_zap_deny (self->zap, key);
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_FREE || !l->has_key || memcmp (l->key, key, EL_KEY_BYTES))
            continue;
        if (l->session) {               /* tell it, so it ends its side too */
            s_send_error (self, l, EL__ERROR_CODE__ERROR_NETWORK, "link ended");
            s_flush_pending (self);
        }
        s_session_close (self, l);
        if (l->kind == S_LINK_IN) {
            l->banned = true;           /* its frames are dropped until it is allowed again */
            continue;
        }
        s_link_close_outbound (self, l);
        if (self->role_links)
            self->role_links--;
    }
}

int
el_node_peer_info (el_node_t *self, const uint8_t key[EL_KEY_BYTES], el_sync_peer_info_t *ret,
                   bool *ret_connected)
{
    int rc = -ENOENT;
    *ret_connected = false;
    for (size_t i = 0; i < self->links_hi; i++) {
        s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_FREE || !l->has_key || memcmp (l->key, key, EL_KEY_BYTES)
            || !l->session)
            continue;
        el_sync_peer_info_t info;
        if (el_sync_peer_info (self->sync, l->session, &info) != 0)
            continue;
        if (rc < 0)
            memset (ret, 0, sizeof *ret);
        ret->entries_sent += info.entries_sent;
        ret->entries_received += info.entries_received;
        ret->refused += info.refused;
        ret->rejected += info.rejected;
        for (size_t r = 0; r < EL_ERROR_SLOTS; r++)
            ret->rejected_by_reason[r] += info.rejected_by_reason[r];
        ret->behind = info.behind > ret->behind ? info.behind : ret->behind;
        *ret_connected = *ret_connected || (l->connected && !l->banned && info.hello_received);
        rc = 0;
    }
    return rc;
}

uint64_t
el_node_peer_behind (el_node_t *self, const uint8_t key[EL_KEY_BYTES],
                     const uint8_t origin[EL_KEY_BYTES])
{
    uint64_t behind = 0;
    for (size_t i = 0; i < self->links_hi; i++) {
        const s_link_t *l = &self->links[i];
        if (l->kind == S_LINK_FREE || !l->has_key || memcmp (l->key, key, EL_KEY_BYTES)
            || !l->session)
            continue;
        uint64_t b = el_sync_peer_behind (self->sync, l->session, origin);
        behind = b > behind ? b : behind;
    }
    return behind;
}

uint32_t
el_node_reknock_ms (unsigned refusals, uint32_t rnd)
{
    uint32_t ms = EL_NODE_REKNOCK_MS;
    for (unsigned i = 0; i < refusals && ms < EL_NODE_REKNOCK_MAX_MS; i++)
        ms *= 2;
    if (ms > EL_NODE_REKNOCK_MAX_MS)
        ms = EL_NODE_REKNOCK_MAX_MS;
    return ms - rnd % (ms / 4 + 1);
}

El__PeerStatus *
el_node_status_offline (el_control_t *ctl, const uint8_t key[EL_KEY_BYTES])
{
    return s_status_offline (ctl, key);
}
