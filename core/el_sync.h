/* el_sync.h — the replication state machine, without I/O (docs/ARCHITECTURE.md
 * "Wire protocol").
 *
 * One el_sync_t per daemon, bound to its store. Peers are named by a 64-bit
 * handle the caller chooses (a connection id). The caller feeds received
 * frames with el_sync_receive() and local writes with el_sync_write(), then
 * drains the frames to send with el_sync_next_out(). The same code runs in
 * the daemons and in the deterministic simulator (tests/sim).
 *
 * Protocol, per peer session:
 *   1. on connect each side sends Hello {version, sender, network, networks,
 *      kinds, heads, credit};
 *   2. each side streams, per origin oldest first, the entries the other lacks
 *      (from the other's heads), in Entries messages of at most batch_max
 *      entries, never exceeding the credit the other granted (in entries);
 *      entries of network authorities (brokers) go first so attestations
 *      arrive before the entries they attest;
 *   3. after applying an Entries message (one store transaction) the receiver
 *      grants the entries back with Credit;
 *   4. afterwards each newly stored entry is pushed to every peer that lacks
 *      it, never back to the peer it came from;
 *   5. a Hello head with the same seq but another hash is a fork: the side that
 *      sees it sends its own entry of that seq so both hold the proof.
 *   6. routing over loops: a site says in its Hello (hub) whether it holds a
 *      session with its network's broker, and sends a Hub message when that
 *      changes. Two sites both linked to the broker send each other only
 *      their own entries over a direct link (the broker sends the rest); a
 *      site that loses its broker session sends its heads in a Hub message
 *      and is sent everything it lacks again. Brokers send and get all.
 *   An incompatible version or foreign network ends the session: an Error is
 *   queued for the peer and el_sync_receive() says so in its result
 *   (EL_SYNC_END and the reason).
 *
 * Pushing is lazy: el_sync_receive(), el_sync_write() and el_sync_apply()
 * only note which origins each peer lacks; Entries messages are filled when
 * el_sync_next_out() finds its queue empty. Draining el_sync_next_out() after
 * each poll cycle therefore forwards whatever arrived in that cycle together.
 * Entries are sent as the stored bytes; an entry the share policy or the
 * peer's accepted kinds exclude is sent as its stub (signed body, no
 * payload), so the peer's chain stays complete and checkable. The daemons
 * install el_share_by_level() (core/el_share.h): members' sharing levels hold
 * on the wire.
 * Sessions assume an ordered, lossless transport (ZeroMQ over TCP): a lost
 * frame means a broken connection, and the caller closes and reopens the
 * session (a fresh Hello re-synchronises both sides).
 *
 * Threading: one thread. Library code: no logging (see el_sync_stats()), no
 * clock (the time written entries carry comes from el_sync_config_t.now_us). */
#ifndef EL_SYNC_H
#define EL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_store.h"

#define EL_SYNC_CREDIT_DEFAULT   16384   /* entries granted to a peer at a time */
#define EL_SYNC_BATCH_DEFAULT    1024   /* entries per Entries message */
#define EL_SYNC_PEERS_MAX        16384  /* concurrent peer sessions */
#define EL_SYNC_OUTBOX_MAX       65536  /* queued frames before el_sync_receive returns -ENOBUFS */
#define EL_SYNC_WRITE_MAX        4096   /* records per el_sync_write() call */
#define EL_SYNC_HELLO_HEADS_MAX  16384  /* heads (origins) one Hello may list */
#define EL_SYNC_HELLO_KINDS_MAX  64     /* kinds one Hello may list */
#define EL_SYNC_HELLO_NETS_MAX   64     /* further networks one Hello may list */

typedef struct el_sync el_sync_t;

/** Share policy: may entry @p e go to @p peer with its payload? false = the
 * peer gets the entry's stub (signed body, no payload) instead, so its chain
 * stays complete and checkable.
 * @param peer_network  EL_KEY_BYTES: the network the peer named in its Hello
 * @param e  the stored entry, parsed; never a stub; borrowed for the call
 * Called for entries of the kinds in el_sync_config_t.share_kinds only, each
 * time the entry is about to be sent (catch-up and push alike), whoever
 * wrote it: a relay applies the same policy as the origin. Must not call
 * back into the sync. */
typedef bool (el_sync_share_fn) (void *arg, uint64_t peer,
                                 const uint8_t peer_network[EL_KEY_BYTES], const el_entry_t *e);

/* The default policy is el_share_by_level (core/el_share.h). */

typedef struct {
    uint8_t self_id[EL_KEY_BYTES];      /* this site's id (public key) */
    uint8_t network[EL_KEY_BYTES];      /* this site's network id (its broker's key) */
    uint64_t credit;                    /* entries granted per peer; 0 = default, else >= 2
                                           (a fork proof is two entries) */
    size_t batch_max;                   /* entries per message; 0 = default, <= EL_BATCH_MAX */
    el_sync_share_fn *share;            /* optional; NULL = everything goes */
    void *share_arg;
    uint32_t share_kinds;               /* bit (1u << kind): kinds share is asked about
                                           (others always go); 0 = every kind */
    el_clock_fn *now_us;                /* required: the time el_sync_write() stamps on
                                           entries, µs since the Unix epoch; called once
                                           per write. Daemons pass el_clock_wall, the
                                           simulator its own clock: the sync reads no
                                           other, so one seed replays byte for byte */
    void *now_arg;                      /* passed to now_us */
} el_sync_config_t;

/** Also makes the store accept cfg->network (el_store_accept_network) and
 * loads its heads.
 * @param store borrowed; must outlive the sync. @param[out] ret caller owns.
 * @return 0, -ENOMEM, -EINVAL (no now_us, credit 1, batch_max > EL_BATCH_MAX),
 *         EL_ETOOBIG (the store accepts no more networks), MDB_*. */
EL_NODISCARD
int el_sync_new (el_store_t *store, const el_sync_config_t *cfg, el_sync_t **ret);
void el_sync_destroy (el_sync_t **self_p);

/** Also accept peers and entries of network @p network (a federated broker).
 * @return 0, EL_ETOOBIG. */
int el_sync_accept_network (el_sync_t *self, const uint8_t network[EL_KEY_BYTES]);

/** Stop accepting peers and entries of @p network (a federation link ended):
 * new sessions naming it end with EL_ENETWORK and the store refuses its new
 * entries; what is stored stays. Our own network is never forgotten. */
void el_sync_forget_network (el_sync_t *self, const uint8_t network[EL_KEY_BYTES]);

/** May an entry sent by @p peer, whose Hello named @p peer_network (another
 * network than ours), be applied? @p data / @p len: the Entry bytes as
 * received (not yet verified). @return 0 (apply it) or the reason it is
 * refused (EL_EPOLICY): it is counted under that reason, not stored, not
 * relayed. Must not call back into the sync. */
typedef int (el_sync_accept_fn) (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                                 const uint8_t *data, size_t len);

/** Do we pass entries of network @p entry_network on to @p peer, whose Hello
 * named @p peer_network (another network than ours)? false: they are not
 * sent to it at all (it gets them from their own network, or not). */
typedef bool (el_sync_relay_fn) (void *arg, const uint8_t peer_network[EL_KEY_BYTES],
                                 const uint8_t entry_network[EL_KEY_BYTES]);

/** The policies of a sync, changeable at any time (a federation link made or
 * changed): share and share_kinds as in el_sync_config_t, share_kinds_foreign
 * the kinds share is asked about for peers of another network (0 = as
 * share_kinds); accept (optional) is asked about every entry received from a
 * peer of another network. */
typedef struct {
    el_sync_share_fn *share;
    void *share_arg;
    uint32_t share_kinds;
    uint32_t share_kinds_foreign;
    el_sync_accept_fn *accept;
    void *accept_arg;
    el_sync_relay_fn *relay;            /* optional; asked for peers of another network */
    void *relay_arg;
} el_sync_policy_t;
void el_sync_set_policy (el_sync_t *self, const el_sync_policy_t *policy);

/** A session with @p peer starts: queues our Hello. @return 0, -EEXIST, -ENOMEM,
 * EL_ETOOBIG (over EL_SYNC_PEERS_MAX). */
int el_sync_peer_open (el_sync_t *self, uint64_t peer);

/** The session with @p peer ended (disconnect, error): forget its state.
 * Frames still queued for it are dropped. No-op for an unknown peer. */
void el_sync_peer_close (el_sync_t *self, uint64_t peer);

/** Whether a session goes on after a frame (el_sync_receive()). */
typedef enum {
    EL_SYNC_CONTINUE = 0,               /* it goes on */
    EL_SYNC_END = 1,                    /* it is over: send what is queued, then
                                           el_sync_peer_close() it */
} el_sync_session_t;

/** What a frame did to its session. */
typedef struct {
    el_sync_session_t session;
    int reason;                         /* EL_SYNC_END: why; else 0. Ended by us (an
                                           Error for the peer is queued): EL_ETOOBIG
                                           (frame over EL_FRAME_MAX), EL_EPROTO
                                           (malformed, out of order, a second Hello),
                                           EL_EVERSION, EL_ENETWORK (a network we do
                                           not accept), EL_ECREDIT (more entries than
                                           granted), EL_EREVOKED (a revoked sender).
                                           Ended by the peer's Error: EL_EVERSION,
                                           EL_ENETWORK, EL_EREVOKED, EL_ETOOBIG, else
                                           EL_EPROTO */
    bool by_peer;                       /* EL_SYNC_END: the peer ended it with an Error
                                           (nothing is queued for it); false: we did */
    bool by_store;                      /* EL_SYNC_END by us because our store failed to
                                           apply the peer's entries (reason: EL_EMAPFULL,
                                           EL_ESTORE, MDB_*, -errno such as -ENOSPC):
                                           nothing of that frame was stored, the peer is
                                           told with an Error, and a new session (its
                                           Hello carries our heads) has them sent again.
                                           Not a refusal: not in frames_refused */
} el_sync_end_t;

/** Handle one frame received from @p peer (the whole Msg, size-checked first).
 * Entries are applied in one store transaction, then credit is granted back
 * and new entries are pushed to the other peers. Entries the store refuses
 * one by one (bad signature, gap, fork ...) do not end the session.
 * @param[out] ret_end  required: whether the session goes on, and if not, why.
 *         Set on every return; EL_SYNC_END only with 0. Once a session ended,
 *         further frames get the same EL_SYNC_END and reason, and do nothing.
 * @return 0: the frame was handled (see *ret_end);
 *         a negative code when it was not, or not wholly, and the session
 *         goes on: -ENOENT for an unknown peer; -ENOBUFS (nothing done)
 *         while EL_SYNC_OUTBOX_MAX frames are queued: drain
 *         el_sync_next_out() and retry; -ENOMEM: frame not consumed;
 *         -EINVAL without @p ret_end. A store error while applying a frame's
 *         entries ends the session (0 with EL_SYNC_END, by_store). */
EL_NODISCARD
int el_sync_receive (el_sync_t *self, uint64_t peer, const uint8_t *frame, size_t len,
                     el_sync_end_t *ret_end);

/** One record to write as this site. */
typedef struct {
    El__Kind kind;
    const char *key;
    bool deleted;
    const uint8_t *payload;     /* borrowed, serialized record */
    size_t payload_len;
} el_record_t;

/** Write @p n (<= EL_SYNC_WRITE_MAX) records as entries of @p kp (who must be
 * this sync's self_id) in one transaction, then push them. Every entry of
 * the call carries the time the configured now_us clock gives.
 * All or nothing: a record that cannot become an entry (bad key, payload
 * over its cap or not decoding as its kind) fails the whole call first.
 * @param[out] ret_seq optional: seq of the last entry written.
 * @return 0, EL_EINVAL, EL_ETOOBIG, EL_EPROTO (a payload that does not decode
 *         as its kind; nothing written), EL_EMAPFULL, -ENOMEM, MDB_*. */
EL_NODISCARD
int el_sync_write (el_sync_t *self, const el_keypair_t *kp, const el_record_t *records,
                   size_t n, uint64_t *ret_seq);

/** Sign @p n records as the entries after (@p seq, @p prev) of @p kp's log,
 * in @p network, all dated @p time_us: malloc'd Entry bytes into @p data /
 * @p lens (n slots; the caller frees what is set). @p prev becomes the last
 * entry's hash. The loop el_sync_write() runs, and daemon/el_signer.c on its
 * own thread. @return 0, or el_entry_build()'s error (entries before it set). */
EL_NODISCARD
int el_sync_sign (const el_keypair_t *kp, const el_record_t *records, size_t n, uint64_t seq,
                  uint8_t prev[EL_HASH_BYTES], const uint8_t network[EL_KEY_BYTES],
                  int64_t time_us, uint8_t **data, size_t *lens);

/** The checks el_sync_write() makes before signing: @p kp is this site,
 * @p n in 1..EL_SYNC_WRITE_MAX, its head neither quarantined nor revoked,
 * every payload decodes as its kind. @param[out] ret_head the stored head
 * (seq 0 and zero hash when none). @return 0 or as el_sync_write(). */
EL_NODISCARD
int el_sync_write_check (el_sync_t *self, const el_keypair_t *kp, const el_record_t *records,
                         size_t n, el_head_t *ret_head);

/** The second half of el_sync_write(): store @p n entries this site signed
 * elsewhere (continuing the stored head; daemon/el_signer.h) in one
 * transaction, then push them. @param[out] ret_seq optional: seq of the last.
 * @return 0, an entry's refusal (EL_EGAP, EL_EPREV ... when the head moved
 *         since they were signed), EL_EMAPFULL, -ENOMEM, MDB_*. */
EL_NODISCARD
int el_sync_write_signed (el_sync_t *self, uint8_t *const *data, const size_t *lens, size_t n,
                          uint64_t *ret_seq);

/** Called at the start of every el_sync_write(), before the head is read: a
 * daemon signing elsewhere stores what it signed first, so that the head is
 * final. @p fn NULL = none. */
void el_sync_set_write_hook (el_sync_t *self, void (*fn) (void *arg), void *arg);

/** Apply entries that arrived outside a session (e.g. a key file import, the
 * broker's own admission entries) and push them. Same results as el_store_apply. */
EL_NODISCARD
int el_sync_apply (el_sync_t *self, const uint8_t *const *entries, const size_t *lens,
                   size_t n, int *status, el_apply_stats_t *stats);

/** Next frame to send. @param[out] ret_frame malloc'd, caller frees.
 * @return 1 with a frame, 0 when nothing is queued. */
int el_sync_next_out (el_sync_t *self, uint64_t *ret_peer, uint8_t **ret_frame,
                      size_t *ret_len);

/** Per-peer view for `entrelab status`. */
typedef struct {
    bool hello_received;
    uint8_t id[EL_KEY_BYTES];           /* from its Hello */
    uint8_t network[EL_KEY_BYTES];
    uint64_t credit_to_send;            /* entries we may still send it */
    uint64_t entries_sent, entries_received;
    uint64_t refused;                   /* entries refused by the accept policy (el_sync_set_policy) */
    uint64_t behind;                    /* entries it lacks that we hold, all origins (what
                                           we sent counts as held: see behind_at_hello) */
    uint64_t behind_at_hello;           /* the same when its Hello arrived: what it lacked
                                           by its own word (0 before its Hello) */
    int ended;                          /* 0, or the code that ended the session (until
                                           el_sync_peer_close) */
    bool ended_by_peer;                 /* the peer ended it with an Error (e.g. it says
                                           we are revoked: EL_EREVOKED) */
    uint64_t rejected;                  /* entries of this session the store refused */
    uint64_t rejected_by_reason[EL_ERROR_SLOTS]; /* the same, by reason; index: el_error_slot() */
} el_sync_peer_info_t;
/** @return 0, -ENOENT. */
int el_sync_peer_info (const el_sync_t *self, uint64_t peer, el_sync_peer_info_t *ret);

/** Hand back the memory kept between bursts for filling Entries frames
 * (up to a frame's worth, EL_FRAME_MAX bytes), when no frame is being filled;
 * the next send allocates it again. Call when the reactor is idle.
 * Threading: the sync's thread. */
void el_sync_trim (el_sync_t *self);

/** How many entries of @p origin the peer lacks that we hold (0 if unknown peer). */
uint64_t el_sync_peer_behind (const el_sync_t *self, uint64_t peer,
                              const uint8_t origin[EL_KEY_BYTES]);

/** Counters since creation, by reason, for logs and status. */
typedef struct {
    uint64_t frames_in, frames_out, entries_in, entries_out;
    uint64_t applied, duplicates, rejected, forks;
    uint64_t sessions_ended;            /* el_sync_peer_close() calls on open sessions */
    uint64_t hub_changes;               /* Hub messages received: a peer's hub link changed */
    uint64_t rejected_by_reason[EL_ERROR_SLOTS]; /* entries; index: el_error_slot() */
    uint64_t ended_by_reason[EL_ERROR_SLOTS]; /* sessions ended by an error, sent or received;
                                           same index */
    uint64_t frames_refused;            /* frames a peer sent that ended its session here
                                           (malformed, too big, over credit, wrong version or
                                           network, revoked sender): we sent the Error */
    uint64_t frames_refused_by_reason[EL_ERROR_SLOTS]; /* the same, by reason; same index */
} el_sync_stats_t;
void el_sync_stats (const el_sync_t *self, el_sync_stats_t *ret);

/** Callback after each committed apply, for the daemon (logs, revocation,
 * booking answers). @p status per entry as el_store_apply; @p from_peer is 0
 * for local writes. Entries are passed parsed; valid during the call only
 * (entries that do not even parse are left out, so n may be smaller than the
 * batch). The callback may call el_sync_write() and el_sync_peer_close(),
 * not el_sync_destroy(). */
typedef void (el_sync_applied_fn) (void *arg, uint64_t from_peer, const el_entry_t *const *entries,
                                   const int *status, size_t n);
void el_sync_on_applied (el_sync_t *self, el_sync_applied_fn *fn, void *arg);

#endif
