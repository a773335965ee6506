/* el_store.c — the local store: one LMDB environment per daemon (see el_store.h).
 *
 * el_store_apply() in short: parse every entry once (outside any transaction),
 * group the batch by origin (network authorities first, so a broker's Site
 * entry admits or revokes a site in the same batch), then in one write
 * transaction walk each origin's entries oldest first. Entries that continue
 * the head form a candidate chain whose prev links are checked as it grows;
 * the chain is then authenticated by the signature of its last entry (a stub
 * keeps its signed body, so it counts like any entry), falling back one entry
 * at a time when that signature fails.
 * The longest authenticated prefix is stored and indexed; the rest is refused.
 * MDB_MAP_FULL aborts the transaction, grows the map and replays the batch. */
#include "el_store.h"
#include "el_record.h"
#include "el_store_log.h"
#include "el_util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SEQ_BYTES       8
#define S_ENTRY_KEY_BYTES (EL_KEY_BYTES + S_SEQ_BYTES)
#define S_HEAD_BYTES      (S_SEQ_BYTES + EL_HASH_BYTES + 1)
/* state value: seq(8) ‖ flags(1) [‖ by_time start(8), when S_STATE_TIMED] */
#define S_STATE_BYTES     (S_SEQ_BYTES + 1)
#define S_STATE_TIMED_BYTES (S_STATE_BYTES + S_SEQ_BYTES)
#define S_STATE_DELETED   0x01  /* the latest entry is a tombstone */
#define S_STATE_REVOKED   0x02  /* SITE record whose status is REVOKED */
#define S_STATE_TIMED     0x04  /* indexed in by_time; the start follows */
#define S_STATE_REVOKED_AT 0x08 /* REVOKED SITE record naming the site's head at
                                   revocation (Site.revoked_head), which follows in
                                   the start's place (a SITE record is never timed) */
#define S_STATE_SERIES    0x10  /* with S_STATE_TIMED: indexed under the series prefix */
/* by_time prefixes: kind for single records; S_SERIES | kind for an EVENT that
 * recurs (rrule, rdate) or overrides one occurrence (recurrence_id), and for
 * a record longer than EL_STORE_SPAN_SINGLE_MAX */
#define S_SERIES          0x80
#define S_META_SPAN       "el.span."   /* ‖ kind digit: longest single span, µs (8 bytes) */
/* kind(1) ‖ origin ‖ key ‖ 0 ‖ seq: the longest key we write (history) */
#define S_KEY_MAX         (1 + EL_KEY_BYTES + EL_RECORD_KEY_MAX + 1 + S_SEQ_BYTES)
#define S_MAP_ALIGN       ((size_t) 1 << 16)  /* map sizes rounded up to this, bytes */
#define S_MAP_MIN         ((size_t) 1 << 16)  /* smallest map we open, bytes */
#define S_FORMAT          "entrelab-store"
#define S_META_FORMAT     "el.format"
#define S_META_SCHEMA     "el.schema"
#define S_COMPACT_DIR     ".compact"
#define S_DBS             10    /* 9 named databases (entries only while migrating) */
#define S_SCHEMA_V1       1     /* entries keyed origin ‖ seq (el_store_log.h) */
#define S_PENDING         INT_MAX /* status of an entry not decided yet (never returned) */
#define S_WRITE_ATTEMPTS  64    /* map grows and MDB_MAP_RESIZED retries per write */
#define S_NONE            UINT32_MAX
#define S_ARENA_BYTES     (16u << 10) /* payload decoding scratch; larger needs use malloc */

/* A bump allocator for decoding one payload at a time (s_payload_check):
 * what protobuf-c allocates comes from buf, its frees of buf memory are
 * no-ops, and used is reset once the decoded message is freed. Saves the
 * mallocs of every payload decode on the apply path. */
typedef struct {
    ProtobufCAllocator pb;      /* allocator_data = this arena */
    size_t used;                /* bytes of buf handed out */
    alignas (max_align_t) uint8_t buf[S_ARENA_BYTES];
} s_arena_t;

struct el_store {
    MDB_env *env;
    el_store_log_t log;         /* the entries: log and runs */
    MDB_dbi dbi_heads, dbi_state, dbi_history, dbi_by_time, dbi_forks, dbi_peers, dbi_meta;
    MDB_dbi dbi_entries_v1;     /* a schema-1 store's entries, until migrated */
    unsigned migrate_from;      /* schema of the store opened when older, else 0 */
    /* longest span of a single (not series) timed record, per kind, µs, as
     * meta holds it (committed); span_txn: raised by the open write
     * transaction, kept at its commit, dropped at its abort. Indexed by kind,
     * only EVENT and BOOKING used */
    int64_t span_max[EL_RECORD_KIND_KNOWN_MAX + 1];
    int64_t span_txn[EL_RECORD_KIND_KNOWN_MAX + 1];
    MDB_txn *rtxn;              /* cached read txn (reset between calls) */
    bool rtxn_busy;
    char *dir;
    char *path;                 /* dir/data.mdb */
    size_t map_bytes;           /* current map size, bytes */
    size_t map_bytes_max;       /* growth limit, bytes */
    bool no_sync;
    bool single_process;        /* el_store_config_t.single_process */
    bool require_attestation;
    el_clock_fn *mono_us;       /* times write transactions; NULL = not timed */
    void *mono_arg;
    el_clock_fn *wall_us;       /* dates entries are checked against; NULL = not checked */
    void *wall_arg;
    uint8_t networks[EL_STORE_NETWORKS_MAX][EL_KEY_BYTES];
    size_t networks_n;
    el_store_stats_t stats;
    s_arena_t arena;
};

/* ------------------------------------------------------------ small helpers */

static void *
s_arena_alloc (void *arg, size_t size)
{
    s_arena_t *a = arg;
    size_t need = (size + alignof (max_align_t) - 1) & ~(alignof (max_align_t) - 1);
    if (need >= size && need <= S_ARENA_BYTES - a->used) {
        void *p = a->buf + a->used;
        a->used += need;
        return p;
    }
    return malloc (size);
}

static void
s_arena_free (void *arg, void *ptr)
{
    s_arena_t *a = arg;
    uintptr_t p = (uintptr_t) ptr, lo = (uintptr_t) a->buf;
    if (p >= lo && p - lo < S_ARENA_BYTES)
        return;                 /* arena memory: released by s_arena_reset() */
    free (ptr);
}

static void
s_arena_init (s_arena_t *a)
{
    a->pb = (ProtobufCAllocator) { s_arena_alloc, s_arena_free, a };
    a->used = 0;
}

static void
s_arena_reset (s_arena_t *a)
{
    a->used = 0;
}

static int
s_rc (int rc)
{
    /* LMDB returns positive errno values for system errors */
    return rc > 0 ? -rc : rc;
}


/* Order-preserving unsigned form of a signed time. */
static uint64_t
s_time_flip (int64_t t)
{
    return (uint64_t) t ^ ((uint64_t) 1 << 63);
}

static void
s_entry_key (uint8_t k[S_ENTRY_KEY_BYTES], const uint8_t *origin, uint64_t seq)
{
    memcpy (k, origin, EL_KEY_BYTES);
    el_be64_put (k + EL_KEY_BYTES, seq);
}

/* kind(1) ‖ origin ‖ key; returns its length */
static size_t
s_state_key (uint8_t *k, unsigned kind, const uint8_t *origin, const char *key, size_t key_len)
{
    k[0] = (uint8_t) kind;
    memcpy (k + 1, origin, EL_KEY_BYTES);
    memcpy (k + 1 + EL_KEY_BYTES, key, key_len);
    return 1 + EL_KEY_BYTES + key_len;
}

/* prefix(1) ‖ start ‖ origin ‖ key, prefix = kind, or S_SERIES | kind for a
 * series; returns its length */
static size_t
s_time_key (uint8_t *k, unsigned prefix, uint64_t start_flipped, const uint8_t *origin,
            const char *key, size_t key_len)
{
    k[0] = (uint8_t) prefix;
    el_be64_put (k + 1, start_flipped);
    memcpy (k + 1 + S_SEQ_BYTES, origin, EL_KEY_BYTES);
    memcpy (k + 1 + S_SEQ_BYTES + EL_KEY_BYTES, key, key_len);
    return 1 + S_SEQ_BYTES + EL_KEY_BYTES + key_len;
}

static void
s_head_pack (const el_head_t *h, uint8_t v[S_HEAD_BYTES])
{
    el_be64_put (v, h->seq);
    memcpy (v + S_SEQ_BYTES, h->hash, EL_HASH_BYTES);
    v[S_SEQ_BYTES + EL_HASH_BYTES] = (uint8_t) h->status;
}

static int
s_head_unpack (const uint8_t *origin, const MDB_val *v, el_head_t *h)
{
    if (v->mv_size != S_HEAD_BYTES)
        return EL_ESTORE;
    const uint8_t *p = v->mv_data;
    memcpy (h->origin, origin, EL_KEY_BYTES);
    h->seq = el_be64_get (p);
    memcpy (h->hash, p + S_SEQ_BYTES, EL_HASH_BYTES);
    uint8_t st = p[S_SEQ_BYTES + EL_HASH_BYTES];
    if (st > EL_HEAD_REVOKED)
        return EL_ESTORE;
    h->status = (el_head_status_t) st;
    return 0;
}

static bool
s_network_accepted (const el_store_t *self, const uint8_t *network)
{
    for (size_t i = 0; i < self->networks_n; i++)
        if (memcmp (self->networks[i], network, EL_KEY_BYTES) == 0)
            return true;
    return false;
}

static size_t
s_map_round (size_t bytes)
{
    if (bytes < S_MAP_MIN)
        bytes = S_MAP_MIN;
    return (bytes + S_MAP_ALIGN - 1) & ~(S_MAP_ALIGN - 1);
}

/* ------------------------------------------------------------ transactions */

/* Drop the cached read txn: before a map resize or closing the env. */
static void
s_rtxn_drop (el_store_t *self)
{
    if (self->rtxn && !self->rtxn_busy) {
        mdb_txn_abort (self->rtxn);
        self->rtxn = NULL;
    }
}

static void
s_map_refresh (el_store_t *self)
{
    MDB_envinfo info;
    if (mdb_env_info (self->env, &info) == 0)
        self->map_bytes = info.me_mapsize;
}

/* Another process grew the map (MDB_MAP_RESIZED): adopt its size. */
static int
s_map_adopt (el_store_t *self)
{
    if (self->rtxn_busy)
        return -EBUSY;          /* a read is in progress (write from a read callback) */
    s_rtxn_drop (self);
    int rc = mdb_env_set_mapsize (self->env, 0);
    if (rc == 0)
        s_map_refresh (self);
    return rc;
}

static int
s_read_begin (el_store_t *self, MDB_txn **ret)
{
    int rc;
    if (!self->env)
        return -EIO;
    if (self->rtxn && !self->rtxn_busy) {
        rc = mdb_txn_renew (self->rtxn);
        if (rc == 0) {
            self->rtxn_busy = true;
            *ret = self->rtxn;
            return 0;
        }
        s_rtxn_drop (self);
        if (rc == MDB_MAP_RESIZED) {
            rc = s_map_adopt (self);
            if (rc != 0)
                return s_rc (rc);
        }
    }
    MDB_txn *txn;
    rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED && !self->rtxn_busy) {
        rc = s_map_adopt (self);
        if (rc == 0)
            rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    }
    if (rc)
        return s_rc (rc);
    if (!self->rtxn) {
        self->rtxn = txn;
        self->rtxn_busy = true;
    }
    *ret = txn;
    return 0;
}

static void
s_read_end (el_store_t *self, MDB_txn *txn)
{
    if (txn == self->rtxn) {
        mdb_txn_reset (txn);
        self->rtxn_busy = false;
    } else {
        mdb_txn_abort (txn);
    }
}

/* Grow the map after MDB_MAP_FULL (no txn of ours open). */
static int
s_map_grow (el_store_t *self)
{
    if (self->map_bytes >= self->map_bytes_max || self->rtxn_busy)
        return EL_EMAPFULL;
    size_t want = self->map_bytes > self->map_bytes_max / 2 ? self->map_bytes_max
                                                            : self->map_bytes * 2;
    s_rtxn_drop (self);
    int rc = mdb_env_set_mapsize (self->env, want);
    if (rc)
        return s_rc (rc);
    s_map_refresh (self);
    self->stats.map_grows++;
    return 0;
}

/* Run @p fn in one write transaction; on MDB_MAP_FULL grow the map and run it
 * again from scratch, up to the limit (then EL_EMAPFULL, nothing applied).
 * @p fn returns 0 to commit, anything else to abort with that code. */
typedef int (s_write_fn) (el_store_t *self, MDB_txn *txn, void *arg);

/* One timed write transaction into the commit-time histogram. */
static void
s_commit_time (el_store_t *self, int64_t us)
{
    static const int64_t bounds[] = EL_STORE_COMMIT_BOUNDS_US;
    size_t i = 0;
    while (i < sizeof bounds / sizeof bounds[0] && us > bounds[i])
        i++;
    self->stats.commit_us_buckets[i]++;
    self->stats.commit_us_sum += us > 0 ? (uint64_t) us : 0;
}

/* A write transaction ended: keep the spans it raised when @p committed. */
static void
s_spans_end (el_store_t *self, bool committed)
{
    for (size_t k = 0; k <= EL_RECORD_KIND_KNOWN_MAX; k++) {
        if (committed && self->span_txn[k] > self->span_max[k])
            self->span_max[k] = self->span_txn[k];
        self->span_txn[k] = 0;
    }
}

static int
s_write (el_store_t *self, s_write_fn *fn, void *arg)
{
    int rc = -EAGAIN;
    if (!self->env)
        return -EIO;
    int64_t t0 = self->mono_us ? self->mono_us (self->mono_arg) : 0;
    for (int attempt = 0; attempt < S_WRITE_ATTEMPTS; attempt++) {
        MDB_txn *txn;
        rc = mdb_txn_begin (self->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            rc = s_map_adopt (self);
            if (rc)
                break;
            continue;
        }
        if (rc)
            break;
        el_store_log_begin (&self->log, txn);
        rc = fn (self, txn, arg);
        if (rc == 0)
            rc = el_store_log_flush (&self->log, txn);
        if (rc == 0)
            rc = mdb_txn_commit (txn);     /* frees txn, also on failure */
        else
            mdb_txn_abort (txn);
        el_store_log_end (&self->log, rc == 0);
        s_spans_end (self, rc == 0);
        if (rc == 0) {
            self->stats.commits++;
            if (self->mono_us)
                s_commit_time (self, self->mono_us (self->mono_arg) - t0);
            break;
        }
        if (rc != MDB_MAP_FULL)
            break;
        rc = s_map_grow (self);
        if (rc)
            break;
    }
    return s_rc (rc);
}

/* ------------------------------------------------------------ open / close */

static int
s_meta_raw_get (MDB_txn *txn, MDB_dbi dbi, const char *name, MDB_val *val)
{
    MDB_val key = { strlen (name), (void *) name };
    return mdb_get (txn, dbi, &key, val);
}

static int
s_meta_raw_put (MDB_txn *txn, MDB_dbi dbi, const char *name, const void *v, size_t len)
{
    MDB_val key = { strlen (name), (void *) name };
    MDB_val val = { len, (void *) v };
    return mdb_put (txn, dbi, &key, &val, 0);
}

#define S_SPAN_NAME_BYTES (sizeof S_META_SPAN + 4)

/* The meta name of @p kind's longest single span. */
static void
s_span_name (char name[S_SPAN_NAME_BYTES], El__Kind kind)
{
    snprintf (name, S_SPAN_NAME_BYTES, S_META_SPAN "%u", (unsigned) kind);
}

/* The longest single spans of EVENT and BOOKING records, from meta. */
static int
s_spans_load (el_store_t *self, MDB_txn *txn)
{
    const El__Kind kinds[] = { EL__KIND__EVENT, EL__KIND__BOOKING };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char name[S_SPAN_NAME_BYTES];
        MDB_val v;
        s_span_name (name, kinds[i]);
        int rc = s_meta_raw_get (txn, self->dbi_meta, name, &v);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (v.mv_size != 8 || el_be64_get (v.mv_data) > INT64_MAX)
            return EL_ESTORE;
        self->span_max[kinds[i]] = (int64_t) el_be64_get (v.mv_data);
    }
    return 0;
}

/* Open the named databases; create them and the schema mark in a new store,
 * refuse a foreign or newer one. */
static int
s_dbs_open (el_store_t *self, MDB_txn *txn)
{
    int rc = mdb_dbi_open (txn, "meta", 0, &self->dbi_meta);
    bool fresh = false;
    if (rc == MDB_NOTFOUND) {
        /* no meta: a new environment, unless the main db holds something else */
        MDB_dbi main_dbi;
        MDB_stat st;
        rc = mdb_dbi_open (txn, NULL, 0, &main_dbi);
        if (rc)
            return rc;
        rc = mdb_stat (txn, main_dbi, &st);
        if (rc)
            return rc;
        if (st.ms_entries > 0)
            return EL_ESTORE;
        rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->dbi_meta);
        fresh = true;
    }
    if (rc == MDB_INCOMPATIBLE)
        return EL_ESTORE;
    if (rc)
        return rc;

    struct { const char *name; MDB_dbi *dbi; } dbs[] = {
        { "heads", &self->dbi_heads },
        { "state", &self->dbi_state },     { "history", &self->dbi_history },
        { "by_time", &self->dbi_by_time }, { "forks", &self->dbi_forks },
        { "peers", &self->dbi_peers },
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        rc = mdb_dbi_open (txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
        if (rc == MDB_INCOMPATIBLE)
            return EL_ESTORE;
        if (rc)
            return rc;
    }
    rc = el_store_log_open (&self->log, txn);
    if (rc)
        return rc;

    uint8_t schema[4] = { 0, 0, 0, EL_STORE_SCHEMA };
    if (fresh) {
        rc = s_meta_raw_put (txn, self->dbi_meta, S_META_FORMAT, S_FORMAT, strlen (S_FORMAT));
        if (rc == 0)
            rc = s_meta_raw_put (txn, self->dbi_meta, S_META_SCHEMA, schema, sizeof schema);
        return rc;
    }
    MDB_val v;
    rc = s_meta_raw_get (txn, self->dbi_meta, S_META_FORMAT, &v);
    if (rc == MDB_NOTFOUND)
        return EL_ESTORE;
    if (rc)
        return rc;
    if (v.mv_size != strlen (S_FORMAT) || memcmp (v.mv_data, S_FORMAT, v.mv_size) != 0)
        return EL_ESTORE;
    rc = s_meta_raw_get (txn, self->dbi_meta, S_META_SCHEMA, &v);
    if (rc == MDB_NOTFOUND)
        return EL_ESTORE;
    if (rc)
        return rc;
    const uint8_t *sv = v.mv_data;
    if (v.mv_size != sizeof schema || sv[0] || sv[1] || sv[2] || sv[3] < S_SCHEMA_V1
        || sv[3] > EL_STORE_SCHEMA)
        return EL_ESTORE;
    self->migrate_from = sv[3] < EL_STORE_SCHEMA ? sv[3] : 0;
    if (self->migrate_from == S_SCHEMA_V1)
        rc = mdb_dbi_open (txn, "entries", 0, &self->dbi_entries_v1);
    return rc ? rc : s_spans_load (self, txn);
}

static int
s_env_open (el_store_t *self)
{
    int rc = mdb_env_create (&self->env);
    if (rc)
        goto out;
    rc = mdb_env_set_maxdbs (self->env, S_DBS);
    if (rc)
        goto out_close;
    rc = mdb_env_set_mapsize (self->env, self->map_bytes);
    if (rc)
        goto out_close;
    /* No MDB_WRITEMAP: measured (2026-11-30, 50k-entry catch-up, 2 cores) it
     * cost more CPU than the write() copy it saves (0.35 -> 0.48 s: faults on
     * the sparse map), and a full disk would fault (SIGBUS) instead of
     * failing the commit. Never MDB_MAPASYNC / MDB_NOMETASYNC: commits are
     * durable. */
    unsigned flags = MDB_NOTLS | (self->no_sync ? MDB_NOSYNC : 0)
                     | (self->single_process ? MDB_NOLOCK | MDB_WRITEMAP : 0);
    rc = mdb_env_open (self->env, self->dir, flags, 0600);
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
        rc = EL_ESTORE;
        goto out_close;
    }
    if (rc)
        goto out_close;
    /* clear the reader slots of processes that died holding one (kill -9):
     * LMDB resets the table by itself only when this process is the first to
     * open the store, and a stale slot pins old pages until the map fills */
    int dead = 0;
    (void) mdb_reader_check (self->env, &dead);
    /* a file left wider by an older compaction: the store holds personal data */
    struct stat st;
    if (self->path && stat (self->path, &st) == 0 && (st.st_mode & 077))
        (void) chmod (self->path, 0600);
    s_map_refresh (self);   /* an existing file may be larger than asked */

    MDB_txn *txn;
    rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        goto out_close;
    rc = s_dbs_open (self, txn);
    if (rc) {
        mdb_txn_abort (txn);
        goto out_close;
    }
    rc = mdb_txn_commit (txn);
    if (rc)
        goto out_close;
    return 0;
out_close:
    mdb_env_close (self->env);
    self->env = NULL;
out:
    return s_rc (rc);
}

static int s_by_time_rebuild (el_store_t *self, MDB_txn *txn);

/* An older store: a schema-1 store's entries into the log; by_time rebuilt
 * with series and spans (schemas 1 and 2); then the schema mark. */
static int
s_migrate_txn (el_store_t *self, MDB_txn *txn, void *arg)
{
    (void) arg;
    int rc = 0;
    if (self->migrate_from == S_SCHEMA_V1)
        rc = el_store_log_migrate (&self->log, txn, self->dbi_entries_v1);
    if (rc == 0)
        rc = s_by_time_rebuild (self, txn);
    uint8_t schema[4] = { 0, 0, 0, EL_STORE_SCHEMA };
    if (rc == 0)
        rc = s_meta_raw_put (txn, self->dbi_meta, S_META_SCHEMA, schema, sizeof schema);
    if (rc == 0)
        self->migrate_from = 0;
    return rc;
}

int
el_store_open (const char *dir, const el_store_config_t *cfg, el_store_t **ret)
{
    assert (dir && ret);
    int rc = -ENOMEM;
    el_store_t *self = calloc (1, sizeof *self);
    if (!self)
        goto out;
    self->dir = strdup (dir);
    if (!self->dir)
        goto out_free;
    size_t plen = strlen (dir) + sizeof "/data.mdb";
    self->path = malloc (plen);
    if (!self->path)
        goto out_free;
    snprintf (self->path, plen, "%s/data.mdb", dir);

    el_store_config_t c = cfg ? *cfg : (el_store_config_t) { 0 };
    self->map_bytes = s_map_round (c.map_bytes_initial ? c.map_bytes_initial
                                                       : EL_STORE_MAP_INITIAL);
    uint64_t max = c.map_bytes_max ? c.map_bytes_max : EL_STORE_MAP_MAX;
    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;
    self->map_bytes_max = s_map_round ((size_t) max);
    if (self->map_bytes > self->map_bytes_max)
        self->map_bytes_max = self->map_bytes;
    self->no_sync = c.no_sync;
    self->single_process = c.single_process;
    self->require_attestation = c.require_attestation;
    self->mono_us = c.mono_us;
    self->mono_arg = c.mono_arg;
    self->wall_us = c.wall_us;
    self->wall_arg = c.wall_arg;
    s_arena_init (&self->arena);
    rc = el_store_log_init (&self->log, c.hash_slots ? c.hash_slots : EL_STORE_HASH_CACHE);
    if (rc)
        goto out_free;

    rc = s_env_open (self);
    if (rc == 0 && self->migrate_from)
        rc = s_write (self, s_migrate_txn, NULL);
    if (rc) {
        if (self->env)
            mdb_env_close (self->env);
        goto out_free;
    }
    *ret = self;
    return 0;
out_free:
    el_store_log_fini (&self->log);
    free (self->path);
    free (self->dir);
    free (self);
out:
    return rc;
}

void
el_store_destroy (el_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_store_t *self = *self_p;
    if (self->rtxn)
        mdb_txn_abort (self->rtxn);
    if (self->env)
        mdb_env_close (self->env);
    el_store_log_fini (&self->log);
    free (self->path);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

int
el_store_accept_network (el_store_t *self, const uint8_t network[EL_KEY_BYTES])
{
    if (s_network_accepted (self, network))
        return 0;
    if (self->networks_n >= EL_STORE_NETWORKS_MAX)
        return EL_ETOOBIG;
    memcpy (self->networks[self->networks_n++], network, EL_KEY_BYTES);
    return 0;
}

void
el_store_forget_network (el_store_t *self, const uint8_t network[EL_KEY_BYTES])
{
    for (size_t i = 1; i < self->networks_n; i++) {     /* never our own (the first) */
        if (memcmp (self->networks[i], network, EL_KEY_BYTES))
            continue;
        memmove (self->networks[i], self->networks[i + 1],
                 (self->networks_n - i - 1) * EL_KEY_BYTES);
        self->networks_n--;
        return;
    }
}

/* ------------------------------------------------------------ apply */

/* Where a timed record sits in by_time (s_timing). */
typedef struct {
    bool timed;                 /* EVENT or BOOKING: has a start */
    bool series;                /* EVENT that recurs or overrides one occurrence, or a
                                   record longer than EL_STORE_SPAN_SINGLE_MAX */
    int64_t start_us;           /* dtstart / start, µs since the Unix epoch */
    int64_t span_us;            /* end - start (>= 0); an all-day event without an end: 1 day */
} s_timing_t;

/* One entry of the batch being applied. */
typedef struct {
    el_entry_t *e;              /* parsed (owned); NULL when parsing failed */
    int parse_rc;
    int status;                 /* this attempt's outcome; S_PENDING while undecided */
    int8_t sig;                 /* signature cache across attempts: 0 unknown, 1 good, -1 bad */
    bool authority;             /* origin is an accepted network id */
    uint32_t next;              /* next entry of the same origin, processing order */
    uint32_t shadow_of;         /* chain position this entry repeats (same seq) */
    /* decoded from the payload */
    s_timing_t time;            /* its place in by_time */
    int site_status;            /* El__SiteStatus of a SITE payload */
    uint64_t revoked_head;      /* its Site.revoked_head, when REVOKED */
} s_item_t;

typedef struct {
    uint32_t first, last;
} s_group_t;

typedef struct {
    s_item_t *items;
    size_t n;
    s_group_t *groups;
    size_t groups_n;
    uint32_t *chain;            /* one origin's candidate chain (item indices) */
    uint32_t *shadows;          /* one origin's repeats of chain seqs */
    int64_t future_us;          /* entries dated after this are refused (EL_EFUTURE) */
} s_batch_t;

static bool
s_verify (s_item_t *it)
{
    if (it->sig == 0)
        it->sig = el_entry_verify (it->e) == 0 ? 1 : -1;
    return it->sig > 0;
}

static int s_record_load (el_store_t *self, MDB_txn *txn, const uint8_t *origin,
                          const MDB_val *sval, el_entry_t **ret);

/* The equipment owner a BookingRequest payload names into @p owner.
 * @return 1 named, 0 not (a payload that does not decode, or no owner). */
static int
s_request_owner_of (const uint8_t *payload, size_t len, uint8_t owner[EL_KEY_BYTES])
{
    El__BookingRequest *r = el__booking_request__unpack (NULL, len, payload);
    if (!r)
        return 0;
    int found = r->equipment_owner.len == EL_KEY_BYTES;
    if (found)
        memcpy (owner, r->equipment_owner.data, EL_KEY_BYTES);
    el__booking_request__free_unpacked (r, NULL);
    return found;
}

/* The owner named by request (@p origin, BOOKING_REQUEST, @p key): looked up
 * first in the batch's chain so far (@p nchain items of @p b; an origin
 * writes its request before it answers it, often in the same batch), then
 * in the store. @return 1 found (@p owner set), 0 not held (or deleted),
 * MDB_*, -ENOMEM, EL_ESTORE. */
static int
s_request_owner (el_store_t *self, MDB_txn *txn, const s_batch_t *b, size_t nchain,
                 const uint8_t *origin, const char *key, uint8_t owner[EL_KEY_BYTES])
{
    for (size_t q = nchain; q-- > 0;) {
        const el_entry_t *c = b->items[b->chain[q]].e;
        if (memcmp (c->origin, origin, EL_KEY_BYTES) != 0)
            break;                      /* the chain is one origin's */
        const El__EntryBody *cb = c->body;
        if (cb->kind != EL__KIND__BOOKING_REQUEST || strcmp (cb->key, key) != 0)
            continue;
        return cb->deleted || c->is_stub ? 0 : s_request_owner_of (c->payload, c->payload_len,
                                                                    owner);
    }
    size_t key_len = strlen (key);
    if (key_len == 0 || key_len > EL_RECORD_KEY_MAX)
        return 0;
    uint8_t sk[S_KEY_MAX];
    MDB_val k = { s_state_key (sk, EL__KIND__BOOKING_REQUEST, origin, key, key_len), sk }, val;
    int rc = mdb_get (txn, self->dbi_state, &k, &val);
    if (rc == MDB_NOTFOUND)
        return 0;
    el_entry_t *e = NULL;
    if (rc == 0)
        rc = s_record_load (self, txn, origin, &val, &e);
    if (rc || !e)
        return rc;
    rc = s_request_owner_of (e->payload, e->payload_len, owner);
    el_entry_destroy (&e);
    return rc;
}

/* Only the equipment's owner answers a request: a site confirming its own
 * request (@p bk of origin @p origin names @p origin as requester) that
 * names another owner is refused. Answers of other sites are not judged
 * here: a requester could otherwise make an owner's genuine answer look
 * wrong by changing its request meanwhile, and so stall the owner's log
 * everywhere; readers match an answer to the owner the request names.
 * @return 0, EL_ENOTOWNER, or a fatal code (MDB_*, -ENOMEM, EL_ESTORE). */
static int
s_booking_check (el_store_t *self, MDB_txn *txn, const s_batch_t *b, size_t nchain,
                 const uint8_t *origin, const El__Booking *bk)
{
    if (bk->status != EL__BOOKING_STATUS__BOOKING_CONFIRMED
        || bk->request_origin.len != EL_KEY_BYTES || !bk->request_key
        || memcmp (bk->request_origin.data, origin, EL_KEY_BYTES) != 0)
        return 0;
    uint8_t owner[EL_KEY_BYTES];
    int rc = s_request_owner (self, txn, b, nchain, bk->request_origin.data, bk->request_key,
                              owner);
    if (rc <= 0)
        return rc;
    return memcmp (owner, origin, EL_KEY_BYTES) ? EL_ENOTOWNER : 0;
}

/* The by_time place of a decoded EVENT or BOOKING @p m; untimed otherwise. */
static s_timing_t
s_timing (El__Kind kind, const ProtobufCMessage *m)
{
    s_timing_t t = { 0 };
    if (kind == EL__KIND__EVENT) {
        const El__Event *e = (const El__Event *) m;
        t.timed = true;
        t.series = (e->rrule && e->rrule[0]) || e->n_rdate
                   || (e->recurrence_id && e->recurrence_id[0]);
        t.start_us = e->dtstart_us;
        t.span_us = el_event_span_us (e);
    } else if (kind == EL__KIND__BOOKING) {
        const El__Booking *b = (const El__Booking *) m;
        t.timed = true;
        t.start_us = b->start_us;
        t.span_us = el_span_us (b->start_us, b->end_us);
    }
    /* a record longer than a month is listed in every window, as a series is,
     * so that one very long (or mistyped) record does not widen every
     * window's scan of single records */
    if (t.span_us > EL_STORE_SPAN_SINGLE_MAX)
        t.series = true;
    return t;
}

/* Decode the payload of a known kind once: validates it and extracts what
 * the indexes need; a Booking is checked against its request
 * (s_booking_check). @return 0, EL_EPROTO, EL_ENOTOWNER, or a fatal code
 * (MDB_*, -ENOMEM, EL_ESTORE). */
static int
s_payload_check (el_store_t *self, MDB_txn *txn, const s_batch_t *batch, size_t nchain,
                 s_item_t *it)
{
    int rc = 0;
    ProtobufCAllocator *pa = &self->arena.pb;
    const El__EntryBody *b = it->e->body;
    it->time = (s_timing_t) { 0 };
    it->site_status = 0;
    it->revoked_head = 0;
    if (b->deleted || b->kind <= 0 || b->kind > EL_RECORD_KIND_KNOWN_MAX)
        return 0;               /* unknown kinds: stored and forwarded, not indexed */
    ProtobufCMessage *m = protobuf_c_message_unpack (el_record_descriptor (b->kind), pa,
                                                     it->e->payload_len, it->e->payload);
    if (!m) {
        s_arena_reset (&self->arena);  /* what a failed unpack allocated */
        return EL_EPROTO;
    }
    if (b->kind == EL__KIND__SITE) {
        it->site_status = ((const El__Site *) m)->status;
        if (it->site_status == EL__SITE_STATUS__REVOKED)
            it->revoked_head = ((const El__Site *) m)->revoked_head;
    }
    it->time = s_timing (b->kind, m);
    if (b->kind == EL__KIND__BOOKING)
        rc = s_booking_check (self, txn, batch, nchain, it->e->origin, (const El__Booking *) m);
    protobuf_c_message_free_unpacked (m, pa);
    s_arena_reset (&self->arena);
    return rc;
}

/* What an entry that continues its origin's chain says, checked before it
 * joins the chain: Site records only from a network authority, a date not
 * too far ahead, a payload that decodes as its kind (s_payload_check).
 * @return 0, EL_ENOTOWNER, EL_EFUTURE, EL_EPROTO, or a fatal code. */
static int
s_content_check (el_store_t *self, MDB_txn *txn, const s_batch_t *b, size_t nchain,
                 s_item_t *it, bool authority)
{
    const el_entry_t *e = it->e;
    if (e->body->kind == EL__KIND__SITE && !authority)
        return EL_ENOTOWNER;
    if (e->body->time_us > b->future_us)
        return EL_EFUTURE;
    return e->is_stub ? 0 : s_payload_check (self, txn, b, nchain, it);
}

static int
s_head_get (el_store_t *self, MDB_txn *txn, const uint8_t *origin, el_head_t *h, bool *found)
{
    MDB_val key = { EL_KEY_BYTES, (void *) origin }, val;
    int rc = mdb_get (txn, self->dbi_heads, &key, &val);
    if (rc == MDB_NOTFOUND) {
        memset (h, 0, sizeof *h);
        memcpy (h->origin, origin, EL_KEY_BYTES);
        *found = false;
        return 0;
    }
    if (rc)
        return rc;
    *found = true;
    return s_head_unpack (origin, &val, h);
}

static int
s_head_put (el_store_t *self, MDB_txn *txn, const el_head_t *h)
{
    uint8_t v[S_HEAD_BYTES];
    s_head_pack (h, v);
    MDB_val key = { EL_KEY_BYTES, (void *) h->origin }, val = { sizeof v, v };
    return mdb_put (txn, self->dbi_heads, &key, &val, 0);
}

/* Set or clear EL_HEAD_REVOKED (a quarantine stays). A revocation naming
 * the site's head at revocation (@p revoked_head, 0 = none) marks the head
 * only once we hold all of it: until then, its entries up to that seq are
 * still accepted and later ones refused by s_attestation's limit. */
static int
s_head_revoke (el_store_t *self, MDB_txn *txn, const uint8_t *origin, bool revoked,
               uint64_t revoked_head)
{
    el_head_t h;
    bool found;
    int rc = s_head_get (self, txn, origin, &h, &found);
    if (rc)
        return rc;
    if (revoked && revoked_head && (!found || h.seq < revoked_head))
        return 0;
    el_head_status_t want = h.status;
    if (revoked && h.status == EL_HEAD_OK)
        want = EL_HEAD_REVOKED;
    else if (!revoked && h.status == EL_HEAD_REVOKED)
        want = EL_HEAD_OK;
    if (want == h.status && (found || !revoked))
        return 0;
    h.status = want;
    return s_head_put (self, txn, &h);
}

/* Replace stored entry (origin, seq) by its stub. @return 0, EL_ENOTFOUND, EL_ESTORE, MDB_*. */
static int
s_stub_entry (el_store_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq)
{
    const uint8_t *held;
    size_t held_len;
    int rc = el_store_log_get (&self->log, txn, origin, seq, &held, &held_len);
    if (rc == MDB_NOTFOUND)
        return EL_ENOTFOUND;
    if (rc)
        return rc;
    el_entry_t *e = NULL;
    rc = el_entry_parse (held, held_len, &e);
    if (rc == -ENOMEM)
        return rc;
    if (rc)
        return EL_ESTORE;
    uint8_t *stub = NULL;
    size_t stub_len = 0;
    if (!e->is_stub) {
        rc = el_entry_stub_pack (e, &stub, &stub_len);
        if (rc == 0)
            rc = el_store_log_replace (&self->log, txn, origin, seq, stub, stub_len);
    }
    free (stub);
    el_entry_destroy (&e);
    return rc;
}

/* A MEMBER tombstone: every earlier entry of the record becomes a stub. */
static int
s_erase_record (el_store_t *self, MDB_txn *txn, const uint8_t *sk, size_t sk_len,
                const uint8_t *origin, uint64_t before_seq)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, self->dbi_history, &cur);
    if (rc)
        return rc;
    uint8_t start[S_KEY_MAX];
    memcpy (start, sk, sk_len);
    start[sk_len] = 0;
    el_be64_put (start + sk_len + 1, 0);
    MDB_val key = { sk_len + 1 + S_SEQ_BYTES, start }, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size != sk_len + 1 + S_SEQ_BYTES || memcmp (key.mv_data, start, sk_len + 1))
            break;
        uint64_t seq = el_be64_get ((const uint8_t *) key.mv_data + sk_len + 1);
        if (seq >= before_seq)
            break;
        rc = s_stub_entry (self, txn, origin, seq);
        if (rc == EL_ENOTFOUND)
            rc = 0;             /* history ahead of entries cannot happen; tolerate */
        if (rc)
            goto out;
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
out:
    mdb_cursor_close (cur);
    return rc;
}

/* Raise the longest single span of @p kind to @p span_us in the open write
 * transaction (meta; s_spans_end() keeps it once committed). */
static int
s_span_raise (el_store_t *self, MDB_txn *txn, El__Kind kind, int64_t span_us)
{
    if (span_us <= self->span_max[kind] || span_us <= self->span_txn[kind])
        return 0;
    char name[S_SPAN_NAME_BYTES];
    s_span_name (name, kind);
    uint8_t v[8];
    el_be64_put (v, (uint64_t) span_us);
    int rc = s_meta_raw_put (txn, self->dbi_meta, name, v, sizeof v);
    if (rc == 0)
        self->span_txn[kind] = span_us;
    return rc;
}

/* Index a timed record in by_time: its key, and the start and flags of its
 * state value into @p sv (S_STATE_TIMED_BYTES) and *@p flags. */
static int
s_time_put (el_store_t *self, MDB_txn *txn, El__Kind kind, const s_timing_t *t,
            const uint8_t *origin, const char *key, size_t key_len, uint8_t *sv,
            uint8_t *flags)
{
    uint8_t tk[S_KEY_MAX];
    uint64_t start = s_time_flip (t->start_us);
    *flags |= S_STATE_TIMED | (t->series ? S_STATE_SERIES : 0);
    el_be64_put (sv + S_STATE_BYTES, start);
    MDB_val tkey = { s_time_key (tk, kind | (t->series ? S_SERIES : 0), start, origin, key,
                                 key_len), tk };
    MDB_val empty = { 0, NULL };
    int rc = mdb_put (txn, self->dbi_by_time, &tkey, &empty, 0);
    if (rc == 0 && !t->series)
        rc = s_span_raise (self, txn, kind, t->span_us);
    return rc;
}

/* Update state, by_time and (MEMBER only) history for a stored full entry, and honour
 * tombstones and a network authority's Site records. */
static int
s_index (el_store_t *self, MDB_txn *txn, const s_item_t *it)
{
    const el_entry_t *e = it->e;
    const El__EntryBody *b = e->body;
    if (b->kind < EL__KIND__SITE || b->kind > EL_RECORD_KIND_KNOWN_MAX)
        return 0;               /* unknown kinds are not indexed */
    size_t key_len = strlen (b->key);
    uint8_t sk[S_KEY_MAX], tk[S_KEY_MAX];
    size_t sk_len = s_state_key (sk, b->kind, e->origin, b->key, key_len);
    MDB_val key = { sk_len, sk }, val;

    int rc = mdb_get (txn, self->dbi_state, &key, &val);
    uint8_t old_flags = rc == 0 && val.mv_size == S_STATE_TIMED_BYTES
                        ? ((const uint8_t *) val.mv_data)[S_SEQ_BYTES] : 0;
    if (old_flags & S_STATE_TIMED) {
        uint64_t old = el_be64_get ((const uint8_t *) val.mv_data + S_STATE_BYTES);
        unsigned prefix = b->kind | (old_flags & S_STATE_SERIES ? S_SERIES : 0);
        MDB_val tkey = { s_time_key (tk, prefix, old, e->origin, b->key, key_len), tk };
        rc = mdb_del (txn, self->dbi_by_time, &tkey, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    } else if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    if (rc)
        return rc;

    uint8_t sv[S_STATE_TIMED_BYTES];
    el_be64_put (sv, e->seq);
    uint8_t flags = 0;
    if (b->deleted)
        flags |= S_STATE_DELETED;
    if (b->kind == EL__KIND__SITE && it->site_status == EL__SITE_STATUS__REVOKED)
        flags |= S_STATE_REVOKED;
    MDB_val sval = { S_STATE_BYTES, sv };
    if (b->kind == EL__KIND__SITE && (flags & S_STATE_REVOKED) && it->revoked_head) {
        flags |= S_STATE_REVOKED_AT;
        el_be64_put (sv + S_STATE_BYTES, it->revoked_head);
        sval.mv_size = S_STATE_TIMED_BYTES;
    } else if (!b->deleted && it->time.timed) {
        rc = s_time_put (self, txn, b->kind, &it->time, e->origin, b->key, key_len, sv,
                         &flags);
        if (rc)
            return rc;
        sval.mv_size = S_STATE_TIMED_BYTES;
    }
    sv[S_SEQ_BYTES] = flags;
    rc = mdb_put (txn, self->dbi_state, &key, &sval, 0);
    if (rc)
        return rc;

    /* history exists only to find a record's earlier entries when a MEMBER
     * tombstone erases them: other kinds are not listed there */
    if (b->kind == EL__KIND__MEMBER) {
        uint8_t hk[S_KEY_MAX];
        memcpy (hk, sk, sk_len);
        hk[sk_len] = 0;
        el_be64_put (hk + sk_len + 1, e->seq);
        MDB_val hkey = { sk_len + 1 + S_SEQ_BYTES, hk }, empty = { 0, NULL };
        rc = mdb_put (txn, self->dbi_history, &hkey, &empty, 0);
        if (rc)
            return rc;
        if (b->deleted)
            return s_erase_record (self, txn, sk, sk_len, e->origin, e->seq);
    }

    if (b->kind == EL__KIND__SITE && it->authority && !b->deleted) {
        uint8_t target[EL_KEY_BYTES];
        if (el_key_from_text (b->key, target) != 0
            || memcmp (target, e->origin, EL_KEY_BYTES) == 0)
            return 0;
        if (it->site_status == EL__SITE_STATUS__REVOKED)
            return s_head_revoke (self, txn, target, true, it->revoked_head);
        if (it->site_status == EL__SITE_STATUS__ACTIVE)
            return s_head_revoke (self, txn, target, false, 0);
    }
    return 0;
}

/* Is the (non-authority) origin of @p e attested by the network it names?
 * @param[out] verdict 0, EL_ENOTADMITTED, EL_EREVOKED.
 * @param[out] limit   with EL_EREVOKED: the origin's entries up to this seq
 *                     are still accepted (its head at revocation); 0 = none.
 * @return 0 or MDB_*. */
static int
s_attestation (el_store_t *self, MDB_txn *txn, const el_entry_t *e, int *verdict,
               uint64_t *limit)
{
    *limit = 0;
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (e->origin, text);
    uint8_t sk[S_KEY_MAX];
    MDB_val key = { s_state_key (sk, EL__KIND__SITE, e->network, text, strlen (text)), sk };
    MDB_val val;
    int rc = mdb_get (txn, self->dbi_state, &key, &val);
    if (rc == MDB_NOTFOUND) {
        *verdict = EL_ENOTADMITTED;
        return 0;
    }
    if (rc)
        return rc;
    if (val.mv_size < S_STATE_BYTES)
        return EL_ESTORE;
    uint8_t flags = ((const uint8_t *) val.mv_data)[S_SEQ_BYTES];
    *verdict = (flags & S_STATE_DELETED) ? EL_ENOTADMITTED
             : (flags & S_STATE_REVOKED) ? EL_EREVOKED : 0;
    if (*verdict == EL_EREVOKED && (flags & S_STATE_REVOKED_AT)
        && val.mv_size >= S_STATE_TIMED_BYTES)
        *limit = el_be64_get ((const uint8_t *) val.mv_data + S_STATE_BYTES);
    return 0;
}

/* Record a fork proof (first one per (origin, seq) kept) and quarantine. */
static int
s_fork (el_store_t *self, MDB_txn *txn, const el_entry_t *e, el_head_t *head)
{
    uint8_t k[S_ENTRY_KEY_BYTES];
    s_entry_key (k, e->origin, e->seq);
    MDB_val key = { sizeof k, k }, val = { e->raw_len, e->raw };
    int rc = mdb_put (txn, self->dbi_forks, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        rc = 0;
    head->status = EL_HEAD_QUARANTINED;
    return rc;
}

/* An entry at or below the stored head: duplicate, fork, or a forgery.
 * @param[out] verdict EL_DUPLICATE, EL_EFORK, EL_EBADSIG, EL_EUNVERIFIED, EL_ESTORE. */
static int
s_check_stored (el_store_t *self, MDB_txn *txn, s_item_t *it, el_head_t *head, int *verdict)
{
    const el_entry_t *e = it->e;
    const uint8_t *data;
    size_t len;
    int rc = el_store_log_get (&self->log, txn, e->origin, e->seq, &data, &len);
    if (rc == MDB_NOTFOUND || rc == EL_ESTORE) {
        *verdict = EL_ESTORE;   /* head claims a seq the log lacks */
        return 0;
    }
    if (rc)
        return rc;
    if (len == e->raw_len && memcmp (data, e->raw, e->raw_len) == 0) {
        *verdict = EL_DUPLICATE;
        return 0;
    }
    el_entry_t *held = NULL;
    rc = el_entry_parse (data, len, &held);
    if (rc == -ENOMEM)
        return rc;
    if (rc) {
        *verdict = EL_ESTORE;
        return 0;
    }
    bool same = memcmp (held->hash, e->hash, EL_HASH_BYTES) == 0;
    el_entry_destroy (&held);
    if (same)
        *verdict = EL_DUPLICATE;        /* e.g. a stub of an entry we hold, or vice versa */
    else if (!s_verify (it))
        *verdict = EL_EBADSIG;
    else {
        *verdict = EL_EFORK;
        return s_fork (self, txn, e, head);
    }
    return 0;
}

/* Apply one origin's entries (group @p g) inside @p txn.
 * @return 0 or a fatal code (MDB_*, -ENOMEM, EL_ESTORE) that aborts the batch. */
static int
s_apply_origin (el_store_t *self, MDB_txn *txn, s_batch_t *b, const s_group_t *g)
{
    s_item_t *items = b->items;
    const uint8_t *origin = items[g->first].e->origin;
    bool authority = items[g->first].authority;
    el_head_t head;
    bool head_found, head_dirty = false;
    int rc = s_head_get (self, txn, origin, &head, &head_found);
    if (rc)
        return rc;

    uint64_t stored_seq = head.seq, tip_seq = head.seq;
    const uint8_t *tip_hash = head.hash;
    size_t nchain = 0, nshadows = 0;
    bool attest_done = false;
    const uint8_t *attest_network = NULL;
    int attest_verdict = 0;
    uint64_t attest_limit = 0;      /* with EL_EREVOKED: seqs still accepted */

    /* 1. walk oldest first: classify, build the candidate chain */
    for (uint32_t i = g->first; i != S_NONE; i = items[i].next) {
        s_item_t *it = &items[i];
        const el_entry_t *e = it->e;
        if (!s_network_accepted (self, e->network)) {
            it->status = EL_ENETWORK;
            continue;
        }
        if (head.status == EL_HEAD_QUARANTINED) {
            it->status = EL_EQUARANTINE;
            continue;
        }
        if (head.status == EL_HEAD_REVOKED) {
            it->status = EL_EREVOKED;
            continue;
        }
        if (self->require_attestation && !authority) {
            if (!attest_done || memcmp (attest_network, e->network, EL_KEY_BYTES)) {
                rc = s_attestation (self, txn, e, &attest_verdict, &attest_limit);
                if (rc)
                    return rc;
                attest_done = true;
                attest_network = e->network;
            }
            if (attest_verdict
                && !(attest_verdict == EL_EREVOKED && e->seq <= attest_limit)) {
                it->status = attest_verdict;
                continue;
            }
        }
        if (e->seq <= stored_seq) {
            int verdict;
            rc = s_check_stored (self, txn, it, &head, &verdict);
            if (rc)
                return rc;
            if (verdict == EL_EFORK)
                head_dirty = true;
            it->status = verdict;
            continue;
        }
        if (e->seq <= tip_seq) {
            it->shadow_of = (uint32_t) (e->seq - stored_seq - 1);
            b->shadows[nshadows++] = i;
            continue;
        }
        if (e->seq > tip_seq + 1) {
            it->status = EL_EGAP;
            continue;
        }
        if (memcmp (e->prev, tip_hash, EL_HASH_BYTES) != 0) {
            it->status = EL_EPREV;
            continue;
        }
        int verdict = s_content_check (self, txn, b, nchain, it, authority);
        if (verdict == EL_EPROTO || verdict == EL_ENOTOWNER || verdict == EL_EFUTURE) {
            it->status = verdict;
            continue;
        }
        if (verdict)
            return verdict;
        b->chain[nchain++] = i;
        tip_seq = e->seq;
        tip_hash = e->hash;
    }

    /* 2. authenticate the chain by its last entry's signature: each entry's
     *    body holds the hash of its predecessor (signature and body), so one
     *    signature covers the run; fall back one entry at a time */
    size_t accepted = 0;
    for (size_t q = nchain; q-- > 0;) {
        s_item_t *it = &items[b->chain[q]];
        if (s_verify (it)) {
            accepted = q + 1;
            break;
        }
        it->status = EL_EBADSIG;
    }
    for (size_t k = accepted; k < nchain; k++)
        if (items[b->chain[k]].status == S_PENDING)
            items[b->chain[k]].status = EL_EGAP;   /* its predecessor was refused */

    /* 3. store and index the authenticated prefix */
    for (size_t k = 0; k < accepted; k++) {
        s_item_t *it = &items[b->chain[k]];
        const el_entry_t *e = it->e;
        rc = el_store_log_append (&self->log, txn, origin, e->seq, e->network, e->raw,
                                  e->raw_len, el_entry_payload_hash (e));
        if (rc)
            return rc;
        if (!e->is_stub) {
            rc = s_index (self, txn, it);
            if (rc)
                return rc;
        }
        it->status = EL_APPLIED;
    }
    if (accepted) {
        head.seq = stored_seq + accepted;
        memcpy (head.hash, items[b->chain[accepted - 1]].e->hash, EL_HASH_BYTES);
        head_dirty = true;
    }

    /* 4. entries repeating a chain seq: duplicates, or forks once the chain is in */
    for (size_t j = 0; j < nshadows; j++) {
        s_item_t *it = &items[b->shadows[j]];
        const s_item_t *c = &items[b->chain[it->shadow_of]];
        bool same = memcmp (it->e->hash, c->e->hash, EL_HASH_BYTES) == 0;
        if (it->shadow_of >= accepted)
            it->status = same ? c->status : EL_EUNVERIFIED;
        else if (same)
            it->status = EL_DUPLICATE;
        else if (!s_verify (it))
            it->status = EL_EBADSIG;
        else {
            rc = s_fork (self, txn, it->e, &head);
            if (rc)
                return rc;
            head_dirty = true;
            it->status = EL_EFORK;
        }
    }

    if (head_dirty)
        rc = s_head_put (self, txn, &head);
    return rc;
}

static int
s_apply_txn (el_store_t *self, MDB_txn *txn, void *arg)
{
    s_batch_t *b = arg;
    b->future_us = self->wall_us ? self->wall_us (self->wall_arg) + EL_STORE_FUTURE_MAX_US
                                 : INT64_MAX;
    for (size_t i = 0; i < b->n; i++)
        b->items[i].status = b->items[i].e ? S_PENDING : b->items[i].parse_rc;
    for (size_t g = 0; g < b->groups_n; g++) {
        int rc = s_apply_origin (self, txn, b, &b->groups[g]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Group parsed entries by origin, authorities' groups first, each group in
 * batch order. */
static int
s_batch_group (el_store_t *self, s_batch_t *b)
{
    size_t cap = 16;
    while (cap < 2 * b->n)
        cap *= 2;
    uint32_t *slots = malloc (cap * sizeof *slots);
    if (!slots)
        return -ENOMEM;
    memset (slots, 0xff, cap * sizeof *slots);
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t i = 0; i < b->n; i++) {
            s_item_t *it = &b->items[i];
            if (!it->e || it->authority != (bool) pass)
                continue;
            uint64_t h;
            memcpy (&h, it->e->origin, sizeof h);
            size_t slot = (size_t) (h ^ (h >> 29)) & (cap - 1);
            while (slots[slot] != S_NONE) {
                const s_group_t *g = &b->groups[slots[slot]];
                if (memcmp (b->items[g->first].e->origin, it->e->origin, EL_KEY_BYTES) == 0)
                    break;
                slot = (slot + 1) & (cap - 1);
            }
            it->next = S_NONE;
            if (slots[slot] == S_NONE) {
                slots[slot] = (uint32_t) b->groups_n;
                b->groups[b->groups_n++] = (s_group_t) { (uint32_t) i, (uint32_t) i };
            } else {
                s_group_t *g = &b->groups[slots[slot]];
                b->items[g->last].next = (uint32_t) i;
                g->last = (uint32_t) i;
            }
        }
    }
    (void) self;
    free (slots);
    return 0;
}

int
el_store_apply (el_store_t *self, const uint8_t *const *entries, const size_t *lens,
                size_t n, int *status, el_apply_stats_t *stats)
{
    return el_store_apply_parsed (self, entries, lens, n, status, stats, NULL);
}

int
el_store_apply_parsed (el_store_t *self, const uint8_t *const *entries, const size_t *lens,
                       size_t n, int *status, el_apply_stats_t *stats, el_entry_t **ret_parsed)
{
    assert (self && (n == 0 || (entries && lens)));
    el_apply_stats_t st = { 0 };
    s_batch_t b = { .n = n };
    int rc = EL_ETOOBIG;
    if (n > EL_STORE_APPLY_MAX)
        goto out;
    rc = 0;
    if (n == 0)
        goto out_stats;

    rc = -ENOMEM;
    b.items = calloc (n, sizeof *b.items);
    b.groups = malloc (n * sizeof *b.groups);
    b.chain = malloc (n * sizeof *b.chain);
    b.shadows = malloc (n * sizeof *b.shadows);
    if (!b.items || !b.groups || !b.chain || !b.shadows)
        goto out_free;
    for (size_t i = 0; i < n; i++) {
        s_item_t *it = &b.items[i];
        it->parse_rc = el_entry_parse (entries[i], lens[i], &it->e);
        if (it->parse_rc == -ENOMEM) {
            rc = -ENOMEM;
            goto out_free;
        }
        if (it->e)
            it->authority = s_network_accepted (self, it->e->origin);
    }
    rc = s_batch_group (self, &b);
    if (rc)
        goto out_free;

    rc = s_write (self, s_apply_txn, &b);
    if (rc)
        goto out_free;

    for (size_t i = 0; i < n; i++) {
        int s = b.items[i].status;
        assert (s != S_PENDING);
        if (status)
            status[i] = s;
        if (s == EL_APPLIED)
            st.applied++;
        else if (s == EL_DUPLICATE)
            st.duplicates++;
        else {
            st.rejected++;
            if (s == EL_EFORK)
                st.forks++;
        }
    }
    self->stats.applied += st.applied;
    self->stats.duplicates += st.duplicates;
    self->stats.rejected += st.rejected;
    self->stats.forks += st.forks;
out_free:
    if (b.items)
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && ret_parsed) {
                ret_parsed[i] = b.items[i].e;       /* handed over */
                b.items[i].e = NULL;
            }
            el_entry_destroy (&b.items[i].e);
        }
    free (b.items);
    free (b.groups);
    free (b.chain);
    free (b.shadows);
    if (rc)
        goto out;
out_stats:
    if (stats)
        *stats = st;
out:
    return rc;
}

/* ------------------------------------------------------------ reads */

int
el_store_head (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], el_head_t *ret)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_val key = { EL_KEY_BYTES, (void *) origin }, val;
    rc = mdb_get (txn, self->dbi_heads, &key, &val);
    if (rc == 0)
        rc = s_head_unpack (origin, &val, ret);
    else if (rc == MDB_NOTFOUND)
        rc = EL_ENOTFOUND;
    s_read_end (self, txn);
    return s_rc (rc);
}

int
el_store_heads (el_store_t *self, el_head_t **ret, size_t *ret_n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    el_head_t *heads = NULL;
    int rc = s_read_begin (self, &txn);
    if (rc)
        goto out;
    MDB_stat st;
    rc = mdb_stat (txn, self->dbi_heads, &st);
    if (rc)
        goto out_txn;
    rc = -ENOMEM;
    heads = malloc ((st.ms_entries ? st.ms_entries : 1) * sizeof *heads);
    if (!heads)
        goto out_txn;
    rc = mdb_cursor_open (txn, self->dbi_heads, &cur);
    if (rc)
        goto out_txn;
    size_t n = 0;
    MDB_val key, val;
    for (;;) {
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
        if (rc != 0 || n >= st.ms_entries)
            break;
        if (key.mv_size != EL_KEY_BYTES) {
            rc = EL_ESTORE;
            break;
        }
        rc = s_head_unpack (key.mv_data, &val, &heads[n]);
        if (rc)
            break;
        n++;
    }
    mdb_cursor_close (cur);
    if (rc == MDB_NOTFOUND || (rc == 0 && n == st.ms_entries))
        rc = 0;
    if (rc == 0) {
        *ret = heads;
        *ret_n = n;
        heads = NULL;
    }
out_txn:
    s_read_end (self, txn);
out:
    free (heads);
    return s_rc (rc);
}

int
el_store_entries_after (el_store_t *self, const uint8_t origin[EL_KEY_BYTES],
                        uint64_t after_seq, size_t max, el_store_entry_fn *fn, void *arg,
                        size_t *ret_n)
{
    size_t n = 0;
    if (max > EL_STORE_PAGE_MAX)
        max = EL_STORE_PAGE_MAX;
    if (after_seq == UINT64_MAX || max == 0) {
        if (ret_n)
            *ret_n = 0;
        return 0;
    }
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = el_store_log_each (&self->log, txn, origin, after_seq + 1, max, fn, arg, &n);
    s_read_end (self, txn);
    if (rc == 0 && ret_n)
        *ret_n = n;
    return s_rc (rc);
}

/* A malloc'd copy of @p len bytes at @p data into *@p ret. @return 0, -ENOMEM. */
static int
s_copy_out (const void *data, size_t len, void **ret, size_t *ret_len)
{
    void *copy = malloc (len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy (copy, data, len);
    *ret = copy;
    *ret_len = len;
    return 0;
}

/* A malloc'd copy of the value under @p name in @p dbi.
 * @return 0, EL_ENOTFOUND, -ENOMEM, MDB_*. */
static int
s_value_get (el_store_t *self, MDB_dbi dbi, const void *name, size_t name_len, void **ret,
             size_t *ret_len)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_val key = { name_len, (void *) name }, val;
    rc = mdb_get (txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND)
        rc = EL_ENOTFOUND;
    if (rc == 0)
        rc = s_copy_out (val.mv_data, val.mv_size, ret, ret_len);
    s_read_end (self, txn);
    return s_rc (rc);
}

int
el_store_entry_get (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t seq,
                    uint8_t **ret, size_t *ret_len)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    const uint8_t *data;
    size_t len;
    rc = el_store_log_get (&self->log, txn, origin, seq, &data, &len);
    if (rc == MDB_NOTFOUND)
        rc = EL_ENOTFOUND;
    if (rc == 0)
        rc = s_copy_out (data, len, (void **) ret, ret_len);
    s_read_end (self, txn);
    return s_rc (rc);
}

/* The live record behind state value @p sval, parsed; *ret = NULL when it is
 * tombstoned or its latest entry was stubbed. */
static int
s_record_load (el_store_t *self, MDB_txn *txn, const uint8_t *origin, const MDB_val *sval,
               el_entry_t **ret)
{
    *ret = NULL;
    if (sval->mv_size < S_STATE_BYTES)
        return EL_ESTORE;
    const uint8_t *v = sval->mv_data;
    if (v[S_SEQ_BYTES] & S_STATE_DELETED)
        return 0;
    const uint8_t *data;
    size_t len;
    int rc = el_store_log_get (&self->log, txn, origin, el_be64_get (v), &data, &len);
    if (rc == MDB_NOTFOUND)
        return EL_ESTORE;
    if (rc)
        return rc;
    el_entry_t *e = NULL;
    rc = el_entry_parse (data, len, &e);
    if (rc == -ENOMEM)
        return rc;
    if (rc)
        return EL_ESTORE;
    if (e->is_stub)
        el_entry_destroy (&e);
    *ret = e;
    return 0;
}

/* Re-index one timed state row (@p key, @p val) of @p kind as schema 3 does. */
static int
s_by_time_row (el_store_t *self, MDB_txn *txn, MDB_cursor *cur, El__Kind kind,
               const MDB_val *key, const MDB_val *val)
{
    uint8_t k[S_KEY_MAX], sv[S_STATE_TIMED_BYTES];
    if (key->mv_size <= 1 + EL_KEY_BYTES || key->mv_size > sizeof k)
        return EL_ESTORE;
    memcpy (k, key->mv_data, key->mv_size);
    memcpy (sv, val->mv_data, sizeof sv);
    const uint8_t *origin = k + 1;
    size_t key_len = key->mv_size - 1 - EL_KEY_BYTES;
    /* a stubbed record keeps its start, as a single record */
    uint64_t start = el_be64_get (sv + S_STATE_BYTES);
    s_timing_t t = { .timed = true, .start_us = (int64_t) s_time_flip ((int64_t) start) };
    el_entry_t *e;
    int rc = s_record_load (self, txn, origin, val, &e);
    if (rc)
        return rc;
    if (e) {
        ProtobufCAllocator *pa = &self->arena.pb;
        ProtobufCMessage *m = protobuf_c_message_unpack (el_record_descriptor (kind), pa,
                                                         e->payload_len, e->payload);
        if (m) {
            t = s_timing (kind, m);
            protobuf_c_message_free_unpacked (m, pa);
        }
        s_arena_reset (&self->arena);
        el_entry_destroy (&e);
    }
    uint8_t flags = sv[S_SEQ_BYTES] & (uint8_t) ~(S_STATE_TIMED | S_STATE_SERIES);
    rc = s_time_put (self, txn, kind, &t, origin, (const char *) origin + EL_KEY_BYTES,
                     key_len, sv, &flags);
    sv[S_SEQ_BYTES] = flags;
    MDB_val ck = { key->mv_size, k }, nv = { sizeof sv, sv };
    return rc ? rc : mdb_cursor_put (cur, &ck, &nv, MDB_CURRENT);
}

/* Schema 3's by_time from state: every timed EVENT and BOOKING record under
 * its prefix (series or single), its state flags to match, the longest
 * single spans in meta. */
static int
s_by_time_rebuild (el_store_t *self, MDB_txn *txn)
{
    int rc = mdb_drop (txn, self->dbi_by_time, 0);
    const El__Kind kinds[] = { EL__KIND__EVENT, EL__KIND__BOOKING };
    for (size_t i = 0; rc == 0 && i < sizeof kinds / sizeof kinds[0]; i++) {
        MDB_cursor *cur;
        rc = mdb_cursor_open (txn, self->dbi_state, &cur);
        if (rc)
            break;
        uint8_t prefix = (uint8_t) kinds[i];
        MDB_val key = { 1, &prefix }, val;
        rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
        while (rc == 0 && ((const uint8_t *) key.mv_data)[0] == prefix) {
            if (val.mv_size == S_STATE_TIMED_BYTES
                && (((const uint8_t *) val.mv_data)[S_SEQ_BYTES] & S_STATE_TIMED))
                rc = s_by_time_row (self, txn, cur, kinds[i], &key, &val);
            if (rc == 0)
                rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
        mdb_cursor_close (cur);
    }
    return rc;
}

int
el_store_records (el_store_t *self, El__Kind kind, const uint8_t *origin,
                  el_store_record_fn *fn, void *arg)
{
    return el_store_records_after (self, kind, origin, NULL, NULL, fn, arg);
}

int
el_store_records_after (el_store_t *self, El__Kind kind, const uint8_t *origin,
                        const uint8_t *after_origin, const char *after_key,
                        el_store_record_fn *fn, void *arg)
{
    size_t after_len = after_origin && after_key ? strlen (after_key) : 0;
    if ((unsigned) kind < EL__KIND__SITE || (unsigned) kind > 255
        || after_len > EL_RECORD_KEY_MAX)
        return EL_EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open (txn, self->dbi_state, &cur);
    if (rc)
        goto out_txn;
    uint8_t prefix[1 + EL_KEY_BYTES];
    size_t prefix_len = 1;
    prefix[0] = (uint8_t) kind;
    if (origin) {
        memcpy (prefix + 1, origin, EL_KEY_BYTES);
        prefix_len += EL_KEY_BYTES;
    }
    uint8_t seek[1 + EL_KEY_BYTES + EL_RECORD_KEY_MAX];
    MDB_val key = { prefix_len, prefix }, val;
    size_t seek_len = 0;
    if (after_origin) {
        seek_len = s_state_key (seek, kind, after_origin, after_key ? after_key : "", after_len);
        if (memcmp (seek, prefix, prefix_len) >= 0)     /* else the cursor is before the range */
            key = (MDB_val) { seek_len, seek };
        else
            seek_len = 0;
    }
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0 && seek_len && key.mv_size == seek_len
        && memcmp (key.mv_data, seek, seek_len) == 0)
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);       /* the cursor itself */
    while (rc == 0) {
        if (key.mv_size <= 1 + EL_KEY_BYTES || memcmp (key.mv_data, prefix, prefix_len))
            break;
        el_entry_t *e;
        rc = s_record_load (self, txn, (const uint8_t *) key.mv_data + 1, &val, &e);
        if (rc)
            break;
        if (e) {
            int stop = fn (arg, e);
            el_entry_destroy (&e);
            if (stop)
                break;
        }
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    mdb_cursor_close (cur);
out_txn:
    s_read_end (self, txn);
    return s_rc (rc);
}

int
el_store_record_get (el_store_t *self, El__Kind kind, const uint8_t origin[EL_KEY_BYTES],
                     const char *key_text, el_entry_t **ret)
{
    size_t key_len = key_text ? strlen (key_text) : 0;
    if ((unsigned) kind < EL__KIND__SITE || (unsigned) kind > 255 || key_len == 0
        || key_len > EL_RECORD_KEY_MAX)
        return EL_EINVAL;
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    uint8_t sk[S_KEY_MAX];
    MDB_val key = { s_state_key (sk, kind, origin, key_text, key_len), sk }, val;
    rc = mdb_get (txn, self->dbi_state, &key, &val);
    if (rc == MDB_NOTFOUND)
        rc = EL_ENOTFOUND;
    if (rc == 0) {
        el_entry_t *e;
        rc = s_record_load (self, txn, origin, &val, &e);
        if (rc == 0 && !e)
            rc = EL_ENOTFOUND;
        if (rc == 0)
            *ret = e;
    }
    s_read_end (self, txn);
    return s_rc (rc);
}

/* One by_time range of a window: records whose key lies in [lo, hi) (hi NULL:
 * the whole prefix @p lo[0]), after @p after when set, to @p fn. @return 0,
 * 1 when @p fn stopped, EL_ESTORE, MDB_*. */
static int
s_window_range (el_store_t *self, MDB_txn *txn, MDB_cursor *cur, El__Kind kind,
                const uint8_t *lo, size_t lo_len, const uint8_t *hi, size_t hi_len,
                const MDB_val *after, el_store_timed_fn *fn, void *arg)
{
    MDB_val key = { lo_len, (void *) lo }, val;
    if (after && memcmp (after->mv_data, lo, lo_len) >= 0)    /* keys are longer than lo */
        key = *after;
    int rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0 && after && key.mv_size == after->mv_size
        && memcmp (key.mv_data, after->mv_data, after->mv_size) == 0)
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);       /* the cursor itself */
    while (rc == 0) {
        const uint8_t *k = key.mv_data;
        if (key.mv_size <= 1 + S_SEQ_BYTES + EL_KEY_BYTES || k[0] != lo[0])
            break;
        if (hi && memcmp (k, hi, hi_len) >= 0)      /* keys are longer than hi */
            break;
        const uint8_t *origin = k + 1 + S_SEQ_BYTES;
        size_t rkey_len = key.mv_size - (1 + S_SEQ_BYTES + EL_KEY_BYTES);
        if (rkey_len > EL_RECORD_KEY_MAX)
            return EL_ESTORE;
        uint8_t sk[S_KEY_MAX];
        MDB_val skey = { s_state_key (sk, kind, origin, (const char *) origin + EL_KEY_BYTES,
                                      rkey_len), sk };
        MDB_val sval;
        rc = mdb_get (txn, self->dbi_state, &skey, &sval);
        if (rc == MDB_NOTFOUND)
            return EL_ESTORE;   /* by_time without state */
        if (rc)
            return rc;
        el_entry_t *e;
        rc = s_record_load (self, txn, origin, &sval, &e);
        if (rc)
            return rc;
        if (e) {
            int stop = fn (arg, e, k, key.mv_size);
            el_entry_destroy (&e);
            if (stop)
                return 1;
        }
        rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
el_store_window (el_store_t *self, El__Kind kind, int64_t from_us, int64_t to_us,
                 const uint8_t *after, size_t after_len, el_store_timed_fn *fn, void *arg)
{
    if ((kind != EL__KIND__EVENT && kind != EL__KIND__BOOKING) || from_us >= to_us
        || (after && (after_len <= 1 + S_SEQ_BYTES + EL_KEY_BYTES
                      || after_len > EL_STORE_CURSOR_MAX
                      || (after[0] != (uint8_t) kind
                          && after[0] != (uint8_t) (S_SERIES | kind)))))
        return EL_EINVAL;
    /* singles: starts in [from - longest span, to) */
    int64_t span = self->span_max[kind];
    int64_t lo_us = from_us < INT64_MIN + span ? INT64_MIN : from_us - span;
    uint8_t series[1] = { (uint8_t) (S_SERIES | kind) };
    uint8_t lo[1 + S_SEQ_BYTES], hi[1 + S_SEQ_BYTES];
    lo[0] = hi[0] = (uint8_t) kind;
    el_be64_put (lo + 1, s_time_flip (lo_us));
    el_be64_put (hi + 1, s_time_flip (to_us));
    MDB_val cursor = { after_len, (void *) after };
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open (txn, self->dbi_by_time, &cur);
    if (rc)
        goto out_txn;
    if (!after || after[0] == series[0])
        rc = s_window_range (self, txn, cur, kind, series, 1, NULL, 0, after ? &cursor : NULL,
                             fn, arg);
    if (rc == 0)
        rc = s_window_range (self, txn, cur, kind, lo, sizeof lo, hi, sizeof hi,
                             after && after[0] == lo[0] ? &cursor : NULL, fn, arg);
    if (rc == 1)
        rc = 0;
    mdb_cursor_close (cur);
out_txn:
    s_read_end (self, txn);
    return s_rc (rc);
}

int
el_store_fork_get (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret_seq,
                   uint8_t **ret_entry, size_t *ret_len)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open (txn, self->dbi_forks, &cur);
    if (rc)
        goto out_txn;
    MDB_val key = { EL_KEY_BYTES, (void *) origin }, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND
        || (rc == 0 && (key.mv_size != S_ENTRY_KEY_BYTES
                        || memcmp (key.mv_data, origin, EL_KEY_BYTES))))
        rc = EL_ENOTFOUND;
    if (rc == 0) {
        uint8_t *copy = malloc (val.mv_size ? val.mv_size : 1);
        if (!copy)
            rc = -ENOMEM;
        else {
            memcpy (copy, val.mv_data, val.mv_size);
            *ret_seq = el_be64_get ((const uint8_t *) key.mv_data + EL_KEY_BYTES);
            *ret_entry = copy;
            *ret_len = val.mv_size;
        }
    }
    mdb_cursor_close (cur);
out_txn:
    s_read_end (self, txn);
    return s_rc (rc);
}

/* ------------------------------------------------------------ small writes */

typedef struct {
    const uint8_t *origin;
    uint64_t seq;
    bool revoked;
} s_origin_arg_t;

static int
s_stub_txn (el_store_t *self, MDB_txn *txn, void *arg)
{
    const s_origin_arg_t *a = arg;
    return s_stub_entry (self, txn, a->origin, a->seq);
}

int
el_store_stub (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], uint64_t seq)
{
    s_origin_arg_t a = { .origin = origin, .seq = seq };
    return s_write (self, s_stub_txn, &a);
}

static int
s_revoke_txn (el_store_t *self, MDB_txn *txn, void *arg)
{
    const s_origin_arg_t *a = arg;
    return s_head_revoke (self, txn, a->origin, a->revoked, 0);
}

int
el_store_set_revoked (el_store_t *self, const uint8_t origin[EL_KEY_BYTES], bool revoked)
{
    s_origin_arg_t a = { .origin = origin, .revoked = revoked };
    return s_write (self, s_revoke_txn, &a);
}

typedef struct {
    MDB_dbi dbi;
    MDB_val key, val;
} s_put_arg_t;

static int
s_put_txn (el_store_t *self, MDB_txn *txn, void *arg)
{
    (void) self;
    s_put_arg_t *a = arg;
    return mdb_put (txn, a->dbi, &a->key, &a->val, 0);
}

static bool
s_meta_name_ok (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    return len > 0 && len <= EL_STORE_META_NAME_MAX;
}

int
el_store_meta_put (el_store_t *self, const char *name, const void *val, size_t len)
{
    if (!s_meta_name_ok (name) || strncmp (name, "el.", 3) == 0 || (len && !val))
        return EL_EINVAL;
    if (len > EL_STORE_META_VALUE_MAX)
        return EL_ETOOBIG;
    s_put_arg_t a = { self->dbi_meta, { strlen (name), (void *) name }, { len, (void *) val } };
    return s_write (self, s_put_txn, &a);
}

int
el_store_meta_get (el_store_t *self, const char *name, void **ret, size_t *ret_len)
{
    if (!s_meta_name_ok (name))
        return EL_EINVAL;
    return s_value_get (self, self->dbi_meta, name, strlen (name), ret, ret_len);
}

int
el_store_peer_put (el_store_t *self, const uint8_t peer[EL_KEY_BYTES], const void *val,
                   size_t len)
{
    if (len && !val)
        return EL_EINVAL;
    if (len > EL_STORE_META_VALUE_MAX)
        return EL_ETOOBIG;
    s_put_arg_t a = { self->dbi_peers, { EL_KEY_BYTES, (void *) peer }, { len, (void *) val } };
    return s_write (self, s_put_txn, &a);
}

int
el_store_peer_get (el_store_t *self, const uint8_t peer[EL_KEY_BYTES], void **ret,
                   size_t *ret_len)
{
    return s_value_get (self, self->dbi_peers, peer, EL_KEY_BYTES, ret, ret_len);
}

/* ------------------------------------------------------------ compaction */

static int
s_fsync_path (const char *path, int flags)
{
    int fd = open (path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync (fd) < 0 ? -errno : 0;
    close (fd);
    return rc;
}

int
el_store_compact (el_store_t *self)
{
    if (!self->env)
        return -EIO;
    if (self->rtxn_busy)
        return EL_EINVAL;       /* called from inside a read callback */
    int rc = -ENOMEM;
    size_t tlen = strlen (self->dir) + sizeof "/" S_COMPACT_DIR "/data.mdb";
    char *tmp_dir = malloc (tlen), *tmp_file = malloc (tlen);
    if (!tmp_dir || !tmp_file)
        goto out;
    snprintf (tmp_dir, tlen, "%s/%s", self->dir, S_COMPACT_DIR);
    snprintf (tmp_file, tlen, "%s/%s/data.mdb", self->dir, S_COMPACT_DIR);

    /* leftovers of an interrupted compaction */
    if (unlink (tmp_file) < 0 && errno != ENOENT) {
        rc = -errno;
        goto out;
    }
    if (mkdir (tmp_dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    s_rtxn_drop (self);
    rc = s_rc (mdb_env_copy2 (self->env, tmp_dir, MDB_CP_COMPACT));
    if (rc)
        goto out_clean;
    /* LMDB creates the copy 0666 & ~umask: the store holds personal data */
    if (chmod (tmp_file, 0600) < 0) {
        rc = -errno;
        goto out_clean;
    }
    if (!self->no_sync) {
        rc = s_fsync_path (tmp_file, O_RDONLY);
        if (rc)
            goto out_clean;
    }
    mdb_env_close (self->env);
    self->env = NULL;
    if (rename (tmp_file, self->path) < 0) {
        rc = -errno;
        (void) s_env_open (self);       /* the old file is intact: keep serving it */
        goto out_clean;
    }
    if (!self->no_sync)
        (void) s_fsync_path (self->dir, O_RDONLY | O_DIRECTORY);
    rc = s_env_open (self);
out_clean:
    unlink (tmp_file);
    rmdir (tmp_dir);
out:
    free (tmp_dir);
    free (tmp_file);
    return rc;
}

/* ------------------------------------------------------------ misc */

void
el_store_stats (const el_store_t *self, el_store_stats_t *ret)
{
    *ret = self->stats;
    ret->map_bytes = self->map_bytes;
}

const char *
el_store_path (const el_store_t *self)
{
    return self->path;
}
