/* el_store_log.c — see el_store_log.h. */
#include "el_store_log.h"
#include "el_packed.h"
#include "el_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_POS_BYTES   8
#define S_RUN_KEY     (EL_KEY_BYTES + 8)           /* origin ‖ first seq */
#define S_RUN_VALUE   (S_POS_BYTES + 4 + EL_KEY_BYTES)  /* pos ‖ count ‖ network */

int
el_store_log_init (el_store_log_t *self, size_t hash_slots)
{
    *self = (el_store_log_t) { 0 };
    self->pack = malloc (EL_PACKED_MAX);
    self->read = malloc (EL_ENTRY_MAX);
    self->iter = malloc (EL_ENTRY_MAX);
    self->hash_slots = hash_slots ? hash_slots : 1;
    self->hashes = calloc (self->hash_slots, sizeof *self->hashes);
    if (!self->pack || !self->read || !self->iter || !self->hashes) {
        el_store_log_fini (self);
        return -ENOMEM;
    }
    return 0;
}

void
el_store_log_fini (el_store_log_t *self)
{
    free (self->pack);
    free (self->read);
    free (self->iter);
    free (self->hashes);
    self->pack = self->read = self->iter = NULL;
    self->hashes = NULL;
}

int
el_store_log_open (el_store_log_t *self, MDB_txn *txn)
{
    int rc = mdb_dbi_open (txn, "log", MDB_CREATE, &self->dbi_log);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "runs", MDB_CREATE, &self->dbi_runs);
    return rc == MDB_INCOMPATIBLE ? EL_ESTORE : rc;
}

void
el_store_log_begin (el_store_log_t *self, MDB_txn *txn)
{
    self->wtxn = txn;
    self->next = self->txn_first = 0;
    self->run.valid = self->run.dirty = false;
}

void
el_store_log_end (el_store_log_t *self, bool committed)
{
    /* positions of an aborted transaction are appended at again */
    for (size_t i = 0; !committed && self->txn_first && i < self->hash_slots; i++)
        if (self->hashes[i].pos >= self->txn_first)
            self->hashes[i].pos = 0;
    el_store_log_begin (self, NULL);
}

/* ------------------------------------------------------------ hash cache */

static void
s_hash_put (el_store_log_t *self, uint64_t pos, const uint8_t *hash)
{
    el_store_hash_slot_t *h = &self->hashes[pos % self->hash_slots];
    h->pos = pos;
    memcpy (h->hash, hash, EL_HASH_BYTES);
}

/* Decode the packed entry at log position @p pos of run @p r into @p out
 * (EL_ENTRY_MAX bytes), through the hash cache. @return 0, EL_ESTORE. */
static int
s_decode (el_store_log_t *self, uint64_t pos, const el_store_run_t *r, const MDB_val *val,
          uint8_t *out, size_t *ret_len)
{
    const el_store_hash_slot_t *h = &self->hashes[pos % self->hash_slots];
    size_t hash_off;
    int rc = el_packed_decode (val->mv_data, val->mv_size, r->origin, r->network,
                               h->pos == pos ? h->hash : NULL, out, EL_ENTRY_MAX, ret_len,
                               &hash_off);
    if (rc == 0 && hash_off && h->pos != pos)
        s_hash_put (self, pos, out + hash_off);
    return rc;
}

/* ------------------------------------------------------------ runs */

static void
s_run_key (uint8_t k[S_RUN_KEY], const uint8_t *origin, uint64_t seq)
{
    memcpy (k, origin, EL_KEY_BYTES);
    el_be64_put (k + EL_KEY_BYTES, seq);
}

static bool
s_run_holds (const el_store_run_t *r, const uint8_t *origin, uint64_t seq)
{
    return r->valid && memcmp (r->origin, origin, EL_KEY_BYTES) == 0 && seq >= r->first
           && seq - r->first < r->count;
}

int
el_store_log_flush (el_store_log_t *self, MDB_txn *txn)
{
    el_store_run_t *r = &self->run;
    if (!r->valid || !r->dirty)
        return 0;
    uint8_t k[S_RUN_KEY], v[S_RUN_VALUE];
    s_run_key (k, r->origin, r->first);
    el_be64_put (v, r->pos);
    v[8] = (uint8_t) (r->count >> 24);
    v[9] = (uint8_t) (r->count >> 16);
    v[10] = (uint8_t) (r->count >> 8);
    v[11] = (uint8_t) r->count;
    memcpy (v + 12, r->network, EL_KEY_BYTES);
    MDB_val key = { sizeof k, k }, val = { sizeof v, v };
    int rc = mdb_put (txn, self->dbi_runs, &key, &val, 0);
    if (rc == 0)
        r->dirty = false;
    return rc;
}

/* The row at the cursor as a run. @return 0, EL_ESTORE. */
static int
s_run_read (const MDB_val *key, const MDB_val *val, el_store_run_t *r)
{
    if (key->mv_size != S_RUN_KEY || val->mv_size != S_RUN_VALUE)
        return EL_ESTORE;
    const uint8_t *k = key->mv_data, *v = val->mv_data;
    memcpy (r->origin, k, EL_KEY_BYTES);
    r->first = el_be64_get (k + EL_KEY_BYTES);
    r->pos = el_be64_get (v);
    r->count = (uint32_t) v[8] << 24 | (uint32_t) v[9] << 16 | (uint32_t) v[10] << 8 | v[11];
    memcpy (r->network, v + 12, EL_KEY_BYTES);
    r->valid = true;
    r->dirty = false;
    return 0;
}

/* The run holding (@p origin, @p seq). @return 0, MDB_NOTFOUND, MDB_*, EL_ESTORE. */
static int
s_run_find (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
            el_store_run_t *ret)
{
    bool cached = txn == self->wtxn && self->run.valid;
    if (cached && s_run_holds (&self->run, origin, seq)) {
        *ret = self->run;
        return 0;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, self->dbi_runs, &cur);
    if (rc)
        return rc;
    uint8_t k[S_RUN_KEY];
    s_run_key (k, origin, seq);
    MDB_val key = { sizeof k, k }, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get (cur, &key, &val, MDB_LAST);
    else if (rc == 0 && (key.mv_size != sizeof k || memcmp (key.mv_data, k, sizeof k) != 0))
        rc = mdb_cursor_get (cur, &key, &val, MDB_PREV);
    if (rc == 0)
        rc = s_run_read (&key, &val, ret);
    mdb_cursor_close (cur);
    if (rc)
        return rc;
    /* the cached run is newer than its row */
    if (cached && memcmp (ret->origin, self->run.origin, EL_KEY_BYTES) == 0
        && ret->first == self->run.first)
        *ret = self->run;
    return s_run_holds (ret, origin, seq) ? 0 : MDB_NOTFOUND;
}

/* ------------------------------------------------------------ writes */

/* Position of the next append (read once per write transaction). */
static int
s_next_pos (el_store_log_t *self, MDB_txn *txn)
{
    if (self->next)
        return 0;
    self->txn_first = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, self->dbi_log, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_LAST);
    mdb_cursor_close (cur);
    if (rc == MDB_NOTFOUND)
        self->next = 1;
    else if (rc)
        return rc;
    else if (key.mv_size != S_POS_BYTES)
        return EL_ESTORE;
    else
        self->next = el_be64_get (key.mv_data) + 1;
    self->txn_first = self->next;
    return 0;
}

/* Make self->run the run that entry (@p origin, @p seq, @p network) at
 * position self->next continues: the cached one, the one ending just before
 * it at the log's end, or a new one. */
static int
s_run_for_append (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
                  const uint8_t *network)
{
    el_store_run_t *r = &self->run;
    if (r->valid && memcmp (r->origin, origin, EL_KEY_BYTES) == 0
        && r->first + r->count == seq && r->pos + r->count == self->next
        && memcmp (r->network, network, EL_KEY_BYTES) == 0 && r->count < UINT32_MAX)
        return 0;
    el_store_run_t prev;
    bool extend = false;
    if (seq > 1) {
        int rc = s_run_find (self, txn, origin, seq - 1, &prev);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        extend = rc == 0 && prev.first + prev.count == seq && prev.pos + prev.count == self->next
                 && memcmp (prev.network, network, EL_KEY_BYTES) == 0 && prev.count < UINT32_MAX;
    }
    int rc = el_store_log_flush (self, txn);
    if (rc)
        return rc;
    if (extend)
        *r = prev;
    else {
        *r = (el_store_run_t) { .valid = true, .first = seq, .pos = self->next };
        memcpy (r->origin, origin, EL_KEY_BYTES);
        memcpy (r->network, network, EL_KEY_BYTES);
    }
    return 0;
}

int
el_store_log_append (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
                     const uint8_t *network, const uint8_t *raw, size_t len,
                     const uint8_t *payload_hash)
{
    size_t plen;
    int rc = el_packed_encode (raw, len, origin, network, payload_hash, self->pack,
                               EL_PACKED_MAX, &plen);
    if (rc == 0)
        rc = s_next_pos (self, txn);
    if (rc == 0)
        rc = s_run_for_append (self, txn, origin, seq, network);
    if (rc)
        return rc;
    uint8_t k[S_POS_BYTES];
    el_be64_put (k, self->next);
    MDB_val key = { sizeof k, k }, val = { plen, self->pack };
    rc = mdb_put (txn, self->dbi_log, &key, &val, MDB_APPEND);
    if (rc)
        return rc;
    if (payload_hash && self->pack[0] == EL_PACKED_CUT)
        s_hash_put (self, self->next, payload_hash);
    self->next++;
    self->run.count++;
    self->run.dirty = true;
    return 0;
}

int
el_store_log_replace (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
                      const uint8_t *raw, size_t len)
{
    el_store_run_t r;
    int rc = s_run_find (self, txn, origin, seq, &r);
    if (rc)
        return rc;
    size_t plen;
    rc = el_packed_encode (raw, len, origin, r.network, NULL, self->pack, EL_PACKED_MAX, &plen);
    if (rc)
        return rc;
    uint8_t k[S_POS_BYTES];
    el_be64_put (k, r.pos + (seq - r.first));
    MDB_val key = { sizeof k, k }, val = { plen, self->pack };
    return mdb_put (txn, self->dbi_log, &key, &val, 0);
}

/* ------------------------------------------------------------ reads */

int
el_store_log_get (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
                  const uint8_t **ret, size_t *ret_len)
{
    el_store_run_t r;
    int rc = s_run_find (self, txn, origin, seq, &r);
    if (rc)
        return rc;
    uint64_t pos = r.pos + (seq - r.first);
    uint8_t k[S_POS_BYTES];
    el_be64_put (k, pos);
    MDB_val key = { sizeof k, k }, val;
    rc = mdb_get (txn, self->dbi_log, &key, &val);
    if (rc == MDB_NOTFOUND)
        return EL_ESTORE;       /* a run names a position the log lacks */
    if (rc)
        return rc;
    rc = s_decode (self, pos, &r, &val, self->read, ret_len);
    if (rc == 0)
        *ret = self->read;
    return rc;
}

/* Pass entries of run @p r from @p *seq on, at most @p max - *n, to @p fn.
 * @return 0 (with *stop when fn asked to), MDB_*, EL_ESTORE. */
static int
s_each_in_run (el_store_log_t *self, MDB_txn *txn, const el_store_run_t *r, uint64_t *seq,
               size_t max, size_t *n, el_store_log_fn *fn, void *arg, bool *stop)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, self->dbi_log, &cur);
    if (rc)
        return rc;
    uint64_t pos = r->pos + (*seq - r->first);
    uint8_t k[S_POS_BYTES];
    el_be64_put (k, pos);
    MDB_val key = { sizeof k, k }, val;
    rc = mdb_cursor_get (cur, &key, &val, MDB_SET_KEY);
    while (rc == 0 && *n < max && *seq - r->first < r->count) {
        if (key.mv_size != S_POS_BYTES || el_be64_get (key.mv_data) != pos) {
            rc = EL_ESTORE;
            break;
        }
        size_t len;
        rc = s_decode (self, pos, r, &val, self->iter, &len);
        if (rc)
            break;
        (*n)++;
        if (fn (arg, (*seq)++, self->iter, len)) {
            *stop = true;
            break;
        }
        pos++;
        if (*n < max && *seq - r->first < r->count)
            rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = EL_ESTORE;         /* the run is longer than the log */
    mdb_cursor_close (cur);
    return rc;
}

int
el_store_log_each (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t from,
                   size_t max, el_store_log_fn *fn, void *arg, size_t *ret_n)
{
    size_t n = 0;
    uint64_t seq = from;
    bool stop = false;
    int rc = 0;
    while (rc == 0 && !stop && n < max && seq != 0) {
        el_store_run_t r;
        rc = s_run_find (self, txn, origin, seq, &r);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc == 0)
            rc = s_each_in_run (self, txn, &r, &seq, max, &n, fn, arg, &stop);
    }
    *ret_n = n;
    return rc;
}

/* ------------------------------------------------------------ schema 1 */

int
el_store_log_migrate (el_store_log_t *self, MDB_txn *txn, MDB_dbi dbi_entries)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open (txn, dbi_entries, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get (cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != EL_KEY_BYTES + 8) {
            rc = EL_ESTORE;
            break;
        }
        el_entry_t *e = NULL;
        rc = el_entry_parse (val.mv_data, val.mv_size, &e);
        if (rc) {
            rc = rc == -ENOMEM ? rc : EL_ESTORE;
            break;
        }
        if (memcmp (e->origin, key.mv_data, EL_KEY_BYTES) != 0
            || e->seq != el_be64_get ((const uint8_t *) key.mv_data + EL_KEY_BYTES))
            rc = EL_ESTORE;
        else
            rc = el_store_log_append (self, txn, e->origin, e->seq, e->network, e->raw,
                                      e->raw_len, el_entry_payload_hash (e));
        el_entry_destroy (&e);
        if (rc)
            break;
    }
    mdb_cursor_close (cur);
    if (rc == MDB_NOTFOUND)
        rc = el_store_log_flush (self, txn);
    if (rc == 0)
        rc = mdb_drop (txn, dbi_entries, 1);
    return rc;
}
