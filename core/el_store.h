/* el_store.h — the local store: one LMDB environment per daemon.
 *
 * Named databases (docs/ARCHITECTURE.md "Store layout"):
 *   entries  origin(32) ‖ seq(u64 BE)                -> Entry bytes, verbatim (or its stub: same bytes, no payload)
 *   heads    origin(32)                               -> el_head_t (packed: seq BE, hash, status)
 *   state    kind(1) ‖ origin(32) ‖ key               -> seq (u64 BE) of the record's latest entry
 *                                                         ‖ flags(1: 1 tombstone, 2 Site revoked,
 *                                                           4 timed) [‖ by_time start(8) if timed]
 *   history  kind(1) ‖ origin(32) ‖ key ‖ 0 ‖ seq(BE) -> ""  (all entries of a MEMBER record,
 *                                                         for erasure by its tombstone; only
 *                                                         MEMBER records are listed (stores
 *                                                         written before may hold other kinds:
 *                                                         never read); nothing else reads it)
 *   by_time  kind(1) ‖ start(u64 BE, sign-flipped µs) ‖ origin(32) ‖ key -> ""  (events, bookings)
 *   forks    origin(32) ‖ seq(BE)                     -> the conflicting Entry bytes (fork proof)
 *   peers    peer id(32)                              -> caller-defined bytes
 *   meta     name                                     -> value (schema version, settings;
 *                                                         names "el.*" are the store's own)
 *
 * Threading: a store is used by one thread. Pointers returned into LMDB
 * memory are valid until the next call on the store unless said otherwise.
 * Library code: no logging. */
#ifndef EL_STORE_H
#define EL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_util.h"

#define EL_STORE_SCHEMA       3   /* 1: entries keyed origin ‖ seq; 2: by_time without
                                       series or spans; both migrated on open */
#define EL_STORE_MAP_INITIAL  (64u << 20)   /* bytes, default first map size */
#define EL_STORE_MAP_MAX      (16ull << 30) /* bytes, default map limit */
#define EL_STORE_PAGE_MAX     4096          /* entries per read page */
#define EL_STORE_HASH_CACHE   16384         /* default el_store_config_t.hash_slots */
#define EL_STORE_NETWORKS_MAX 64            /* accepted network ids */
#define EL_STORE_APPLY_MAX    (16 * EL_BATCH_MAX) /* entries in one el_store_apply() */
#define EL_STORE_META_NAME_MAX 200          /* bytes of a meta name */
#define EL_STORE_SPAN_SINGLE_MAX ((int64_t) 31 * 86400 * 1000000) /* µs: a longer record
                                       is listed in every window (el_store_window), so
                                       that a window reads at most a month more */
#define EL_STORE_CURSOR_MAX   (1 + 8 + EL_KEY_BYTES + EL_RECORD_KEY_MAX) /* bytes of a
                                       window cursor: prefix, start, origin, key */
#define EL_STORE_META_VALUE_MAX (64u << 10) /* bytes of a meta or peers value */

typedef struct el_store el_store_t;

typedef struct {
    size_t map_bytes_initial;   /* bytes; 0 = EL_STORE_MAP_INITIAL */
    size_t map_bytes_max;       /* bytes; 0 = EL_STORE_MAP_MAX; the map grows up to this */
    bool no_sync;               /* MDB_NOSYNC: tests and the simulator only (not durable) */
    bool require_attestation;   /* an entry whose origin is not an accepted network id
                                 * needs a live SITE record written by the network its
                                 * entry names, keyed by base64url(origin), else
                                 * EL_ENOTADMITTED (EL_EREVOKED if that Site is revoked) */
    el_clock_fn *mono_us;       /* a monotonic clock in µs to time write transactions
                                 * with (el_store_stats_t.commit_us_*); NULL = not timed */
    void *mono_arg;             /* its argument */
    el_clock_fn *wall_us;       /* wall clock, µs since the Unix epoch: an entry whose
                                 * time_us is more than EL_STORE_FUTURE_MAX_US after it
                                 * is refused (EL_EFUTURE; offered again, it applies once
                                 * the clock has caught up); NULL = not checked */
    void *wall_arg;             /* its argument */
    size_t hash_slots;          /* payload hashes remembered by log position (40 bytes
                                 * each, touched as used); 0 = EL_STORE_HASH_CACHE. The
                                 * simulator's thousands of stores ask for few */
    bool single_process;        /* MDB_NOLOCK | MDB_WRITEMAP: one file descriptor per
                                 * store instead of three, no lock file. Only for the
                                 * simulator's thousands of stores in one thread: no
                                 * other process or thread may open the store */
} el_store_config_t;

/* How far after the receiver's clock an entry may be dated: a day of skew. */
#define EL_STORE_FUTURE_MAX_US (24LL * 3600 * 1000000)

typedef enum {
    EL_HEAD_OK = 0,
    EL_HEAD_QUARANTINED = 1,    /* a fork was seen; new entries refused */
    EL_HEAD_REVOKED = 2,        /* the site was revoked; new entries refused */
} el_head_status_t;

/* A head with seq 0 exists for an origin revoked before any of its entries
 * arrived (it carries only the status). */
typedef struct {
    uint8_t origin[EL_KEY_BYTES];
    uint64_t seq;               /* last contiguous seq (0 = nothing) */
    uint8_t hash[EL_HASH_BYTES];/* hash of entry seq */
    el_head_status_t status;
} el_head_t;

/** Open (creating if absent) the store in directory @p dir (must exist).
 * @param cfg    may be NULL for defaults
 * @param[out] ret caller owns; close with el_store_destroy()
 * @return 0, -errno, EL_ESTORE (corrupt, foreign or newer schema). */
EL_NODISCARD
int el_store_open (const char *dir, const el_store_config_t *cfg, el_store_t **ret);

/** Close; accepts NULL; sets *self_p = NULL. */
void el_store_destroy (el_store_t **self_p);

/** Accept entries whose network id is @p network (own network, federated ones).
 * A store accepts no entry until at least one network is added.
 * @return 0, EL_ETOOBIG (over EL_STORE_NETWORKS_MAX). Not persisted. */
int el_store_accept_network (el_store_t *self, const uint8_t network[EL_KEY_BYTES]);

/** Stop accepting entries of @p network (a federation link ended): its new
 * entries are refused with EL_ENETWORK; what is stored stays. The first
 * network accepted (the store's own) is never forgotten. */
void el_store_forget_network (el_store_t *self, const uint8_t network[EL_KEY_BYTES]);

/* Per-entry outcome of el_store_apply(). */
#define EL_APPLIED    0         /* stored */
#define EL_DUPLICATE  1         /* already held (same origin, seq, hash): counted no-op */

typedef struct {
    size_t applied;             /* entries stored */
    size_t duplicates;          /* entries already held */
    size_t rejected;            /* entries refused (status < 0) */
    size_t forks;               /* of which: forks detected */
} el_apply_stats_t;

/** Apply a batch of serialized entries in ONE write transaction (group commit).
 * Runs of one origin that continue its head are authenticated by their prev
 * links and the signature of the last full entry of the run
 * (docs/ARCHITECTURE.md "Applying a batch"); a lone entry by its own signature. Order: each
 * origin's entries must come oldest first.
 * For each entry: parse, network check, quarantine/revocation check, dedupe,
 * fork detection (keeps the first, records the proof in `forks`, quarantines
 * the origin), gap (EL_EGAP), prev link (EL_EPREV), signature (EL_EBADSIG);
 * then heads, state, by_time (and history, for MEMBER records) are updated
 * and tombstones honoured
 * (a MEMBER tombstone turns the record's earlier entries into stubs).
 * A stub keeps its signed body (only the payload is gone), so it links and
 * verifies like any entry and may end a run; it is stored but not indexed.
 * A run whose last signature fails falls back one entry at a time: the bad
 * entry gets EL_EBADSIG, the entries before it still apply, the ones after
 * it are refused (EL_EPREV / EL_EGAP).
 * Within a batch, the entries of network authorities (origin = an accepted
 * network id) are applied first, so a broker's Site entry admits or revokes
 * a site in the same batch. A SITE entry of an authority with status REVOKED
 * marks the site's head EL_HEAD_REVOKED; status ACTIVE clears that.
 * Payloads of known kinds are decoded (EL_EPROTO when they do not decode);
 * unknown kinds are stored and forwarded, not indexed. A site confirming,
 * in a BOOKING, its own request (held: in the batch or stored) that names
 * another site as equipment owner is refused (EL_ENOTOWNER): only the owner
 * answers; so is a SITE entry whose origin is not an accepted network id. An entry dated too far ahead of cfg.wall_us gets EL_EFUTURE.
 * Do not call from inside a read callback of this store.
 * @param entries   n serialized Entry byte strings (borrowed)
 * @param lens      their lengths, bytes
 * @param[out] status  optional, n ints: EL_APPLIED, EL_DUPLICATE or a negative code
 * @param[out] stats   optional
 * @return 0 when the transaction committed (individual entries may still be
 *         rejected: see status), EL_EMAPFULL (nothing applied; the map is at
 *         its limit), EL_ETOOBIG (n > EL_STORE_APPLY_MAX), -ENOMEM,
 *         EL_ESTORE (a stored entry is corrupt), -errno / MDB_* on I/O
 *         failure (nothing applied). */
EL_NODISCARD
int el_store_apply (el_store_t *self, const uint8_t *const *entries, const size_t *lens,
                    size_t n, int *status, el_apply_stats_t *stats);

/** el_store_apply(), handing over the entries it parsed, so that a caller
 * needing them parsed (e.g. for a callback) does not parse them again.
 * @param[out] ret_parsed  optional, n pointers; when 0 is returned,
 *         ret_parsed[i] is entry i parsed (caller destroys each with
 *         el_entry_destroy()), NULL when it did not parse (status EL_EPROTO,
 *         EL_ETOOBIG...); on any other return it is left untouched.
 * Other parameters and returns as el_store_apply(). */
EL_NODISCARD
int el_store_apply_parsed (el_store_t *self, const uint8_t *const *entries, const size_t *lens,
                           size_t n, int *status, el_apply_stats_t *stats,
                           el_entry_t **ret_parsed);

/** Head of @p origin. @return 0, EL_ENOTFOUND. */
int el_store_head (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], el_head_t *ret);

/** All heads, in origin order. @param[out] ret malloc'd array, caller frees.
 * @return 0, -ENOMEM, MDB_*. */
int el_store_heads (el_store_t *self, el_head_t **ret, size_t *ret_n);

/** Callback for reads: @p data valid only during the call. Return non-zero to stop. */
typedef int (el_store_entry_fn) (void *arg, uint64_t seq, const uint8_t *data, size_t len);

/** Entries of @p origin with seq > @p after_seq, oldest first, at most
 * @p max (<= EL_STORE_PAGE_MAX; larger values are clamped) entries, passed
 * to @p fn. Stubs come as stored (the Entry without its payload).
 * @param[out] ret_n optional: entries passed. @return 0, MDB_*. */
int el_store_entries_after (el_store_t *self, const uint8_t origin[EL_KEY_BYTES],
                            uint64_t after_seq, size_t max, el_store_entry_fn *fn,
                            void *arg, size_t *ret_n);

/** One entry by (origin, seq). @param[out] ret malloc'd copy. @return 0, EL_ENOTFOUND. */
int el_store_entry_get (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t seq,
                        uint8_t **ret, size_t *ret_len);

/** Callback for records: the latest entry of a live record (not tombstoned;
 * a record whose latest entry was turned into a stub is skipped too).
 * @p e valid only during the call. Return non-zero to stop. */
typedef int (el_store_record_fn) (void *arg, const el_entry_t *e);

/** Latest live records of @p kind, optionally of one @p origin (NULL = all),
 * in (origin, key) order. @return 0, MDB_*. */
int el_store_records (el_store_t *self, El__Kind kind, const uint8_t *origin,
                      el_store_record_fn *fn, void *arg);

/** el_store_records() from a cursor: the records after (@p after_origin,
 * @p after_key) in that order, found by one seek (a listing's next page costs
 * what it reads, not what came before). @p after_origin NULL = from the start.
 * @return 0, MDB_*, EL_EINVAL (@p after_key over EL_RECORD_KEY_MAX bytes). */
int el_store_records_after (el_store_t *self, El__Kind kind, const uint8_t *origin,
                            const uint8_t *after_origin, const char *after_key,
                            el_store_record_fn *fn, void *arg);

/** Latest live record (origin, kind, key). @param[out] ret caller destroys.
 * @return 0, EL_ENOTFOUND (absent or tombstoned). */
int el_store_record_get (el_store_t *self, El__Kind kind, const uint8_t origin[EL_KEY_BYTES],
                         const char *key, el_entry_t **ret);

/** A window listing's record, with its cursor: @p cursor (@p cursor_len
 * bytes, at most EL_STORE_CURSOR_MAX, borrowed for the call) passed back as
 * el_store_window()'s @p after resumes the listing after this record.
 * @return 0 to go on, non-zero to stop. */
typedef int (el_store_timed_fn) (void *arg, const el_entry_t *e, const uint8_t *cursor,
                                 size_t cursor_len);

/** Live EVENT or BOOKING records that may overlap [@p from_us, @p to_us)
 * (µs since the Unix epoch), found through the by_time index:
 *   1. every EVENT series: one with an rrule or rdate (RFC 5545 §3.8.5.2-3),
 *      or an override of one occurrence (recurrence_id, §3.8.4.4), and
 *      every record longer than EL_STORE_SPAN_SINGLE_MAX, whatever their
 *      dates (a series' occurrences are the caller's to expand), by start;
 *   2. then single records whose start lies in [from_us - S, to_us), by
 *      start, S being the longest span (end - start; an all-day event
 *      without an end: one day) of any single record of @p kind ever
 *      indexed in this store (kept in meta; at most
 *      EL_STORE_SPAN_SINGLE_MAX).
 * A superset: the caller tests each occurrence against its window (an
 * all-day event's dates are 00:00 UTC; a caller comparing them with a
 * viewer's wall clock widens the window by a day on each side).
 * @p after (NULL = from the start) is the cursor of the last record of the
 * previous page (el_store_timed_fn): one seek resumes there.
 * @return 0 (also when @p fn stopped), EL_EINVAL (other kind, from_us >=
 *         to_us, or a cursor of another kind or of a length no key has),
 *         EL_ESTORE (index without its record), MDB_*, -ENOMEM. */
int el_store_window (el_store_t *self, El__Kind kind, int64_t from_us, int64_t to_us,
                     const uint8_t *after, size_t after_len, el_store_timed_fn *fn, void *arg);

/** Replace entry (origin, seq) by its stub; the next entry's prev still checks.
 * @return 0, EL_ENOTFOUND, MDB_*. */
int el_store_stub (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t seq);

/** Rewrite the environment with a compacting copy (mdb_env_copy2 with
 * MDB_CP_COMPACT) and swap it in, so freed pages holding erased bytes are gone
 * from data.mdb. Uses the directory dir/.compact for the copy.
 * @return 0, -errno, MDB_*; on failure after the swap the store is closed
 *         and every later call returns -EIO. */
int el_store_compact (el_store_t *self);

/** Mark @p origin revoked (new entries refused with EL_EREVOKED) or active.
 * @return 0, MDB_*. */
int el_store_set_revoked (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], bool revoked);

/** Recorded fork proof for @p origin: the conflicting entry and its seq.
 * @return 0, EL_ENOTFOUND. */
int el_store_fork_get (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret_seq,
                       uint8_t **ret_entry, size_t *ret_len);

/** meta and peers: small values by name (meta) or peer id (peers).
 * @p val borrowed, at most EL_STORE_META_VALUE_MAX bytes; *ret malloc'd, caller frees.
 * Meta names are 1..EL_STORE_META_NAME_MAX bytes; "el.*" is reserved (EL_EINVAL on put).
 * @return 0, EL_ENOTFOUND, EL_ETOOBIG, EL_EINVAL, MDB_*. */
int el_store_meta_put (el_store_t *self, const char *name, const void *val, size_t len);
int el_store_meta_get (el_store_t *self, const char *name, void **ret, size_t *ret_len);
int el_store_peer_put (el_store_t *self, const uint8_t peer[EL_KEY_BYTES], const void *val,
                       size_t len);
int el_store_peer_get (el_store_t *self, const uint8_t peer[EL_KEY_BYTES], void **ret,
                       size_t *ret_len);

/** Upper bounds of the commit-time histogram's buckets, µs (Prometheus
 * `le`); a last bucket holds the slower ones (+Inf). */
#define EL_STORE_COMMIT_BOUNDS_US \
    { 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000 }
#define EL_STORE_COMMIT_BUCKETS 12  /* the bounds above and +Inf */

/** Counters since open. */
typedef struct {
    uint64_t applied, duplicates, rejected, forks, commits, map_grows;
    uint64_t map_bytes;         /* current map size, bytes */
    /* write transactions timed by el_store_config_t.mono_us, from begin to
     * durable commit: count per bucket (not cumulative), sum in µs */
    uint64_t commit_us_buckets[EL_STORE_COMMIT_BUCKETS];
    uint64_t commit_us_sum;
} el_store_stats_t;
void el_store_stats (const el_store_t *self, el_store_stats_t *ret);

/** Path of the data file (data.mdb). Valid while the store is open. */
const char *el_store_path (const el_store_t *self);

#endif
