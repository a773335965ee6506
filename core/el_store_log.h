/* el_store_log.h — where the store keeps entries: an append-only log and a
 * sparse index of runs. Internal to the store (el_store.c); not a public API.
 *
 * Layout (store schema 2, docs/ARCHITECTURE.md "Store"):
 *   log   key: position, 8 bytes big-endian, 1, 2, 3 ... in arrival order,
 *              always appended (MDB_APPEND), so its pages are full;
 *         value: the entry in packed form (el_packed.h).
 *   runs  key: origin (32) ‖ first seq (8, big-endian);
 *         value: position of that entry (8, big-endian) ‖ count (4,
 *              big-endian) ‖ network (32): entries first .. first+count-1 of
 *              the origin sit at consecutive positions and were packed with
 *              that network.
 * A batch of one origin's entries is one run; entries of several origins
 * arriving interleaved make shorter runs (one row per run, at worst one per
 * entry). Schema 1 kept every entry under origin ‖ seq in one database
 * ("entries"); el_store_log_migrate() moves such a store to this layout.
 *
 * Lifetime: el_store_log_init() once, el_store_log_open() inside the store's
 * first transaction, el_store_log_fini() at close. Write calls happen between
 * el_store_log_begin() and el_store_log_end() around one write transaction;
 * el_store_log_flush() before that transaction commits. Read calls take any
 * transaction. One thread (the store's caller) at a time. */
#ifndef EL_STORE_LOG_H
#define EL_STORE_LOG_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"

/* The run being written in the current write transaction. */
typedef struct {
    bool valid;                 /* holds a run */
    bool dirty;                 /* differs from its row in runs */
    uint8_t origin[EL_KEY_BYTES];
    uint64_t first;             /* first seq */
    uint64_t pos;               /* position of the first seq */
    uint32_t count;             /* entries */
    uint8_t network[EL_KEY_BYTES];
} el_store_run_t;

/* Payload hashes of entries by log position, direct-mapped: what a read puts
 * back without hashing the payload again (a broker pushing the same new
 * entries to every connected site reads each of them once per site). */

typedef struct {
    uint64_t pos;               /* 0 = empty */
    uint8_t hash[EL_HASH_BYTES];
} el_store_hash_slot_t;

typedef struct {
    MDB_dbi dbi_log, dbi_runs;
    MDB_txn *wtxn;              /* the write transaction in progress, or NULL */
    uint64_t next;              /* position of the next append; 0 = not read yet */
    uint64_t txn_first;         /* first position wtxn appends at; 0 = none yet */
    el_store_hash_slot_t *hashes; /* hash_slots slots */
    size_t hash_slots;
    el_store_run_t run;         /* cached run of wtxn (written by flush) */
    uint8_t *pack;              /* EL_PACKED_MAX bytes: packing scratch */
    uint8_t *read;              /* EL_ENTRY_MAX bytes: el_store_log_get's result */
    uint8_t *iter;              /* EL_ENTRY_MAX bytes: el_store_log_each's entries */
} el_store_log_t;

/** Allocate the scratch buffers and @p hash_slots (>= 1) cache slots.
 * @return 0, -ENOMEM. */
int el_store_log_init (el_store_log_t *self, size_t hash_slots);
/** Free them; accepts a zeroed or finished @p self. */
void el_store_log_fini (el_store_log_t *self);

/** Open (creating) the two databases in @p txn. @return 0, MDB_*, EL_ESTORE
 * (a database of that name with other flags). */
int el_store_log_open (el_store_log_t *self, MDB_txn *txn);

/** A write transaction starts / ended (@p committed, or aborted: what it
 * appended is forgotten). */
void el_store_log_begin (el_store_log_t *self, MDB_txn *txn);
void el_store_log_end (el_store_log_t *self, bool committed);
/** Write the cached run's row. @return 0, MDB_*. */
int el_store_log_flush (el_store_log_t *self, MDB_txn *txn);

/** Append entry (@p origin, @p seq) of @p network, Entry bytes @p raw.
 * @param payload_hash as for el_packed_encode(): the checked hash, or NULL
 * @return 0, MDB_*, EL_EINVAL (@p len over EL_ENTRY_MAX). */
int el_store_log_append (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin,
                         uint64_t seq, const uint8_t *network, const uint8_t *raw, size_t len,
                         const uint8_t *payload_hash);

/** Replace the bytes of held entry (@p origin, @p seq) by @p raw (its stub),
 * in place. @return 0, MDB_NOTFOUND (not held), MDB_*, EL_EINVAL. */
int el_store_log_replace (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin,
                          uint64_t seq, const uint8_t *raw, size_t len);

/** Entry (@p origin, @p seq): its Entry bytes in *@p ret (self->read, valid
 * until the next el_store_log_get). @return 0, MDB_NOTFOUND, MDB_*, EL_ESTORE. */
int el_store_log_get (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin, uint64_t seq,
                      const uint8_t **ret, size_t *ret_len);

/** Callback of el_store_log_each: @p data valid during the call only.
 * Return non-zero to stop. */
typedef int (el_store_log_fn) (void *arg, uint64_t seq, const uint8_t *data, size_t len);

/** Entries of @p origin from seq @p from on, while consecutive, at most
 * @p max, to @p fn. @param[out] ret_n entries passed.
 * @return 0, MDB_*, EL_ESTORE. */
int el_store_log_each (el_store_log_t *self, MDB_txn *txn, const uint8_t *origin,
                       uint64_t from, size_t max, el_store_log_fn *fn, void *arg,
                       size_t *ret_n);

/** Move every entry of a schema-1 database @p dbi_entries (origin ‖ seq ->
 * Entry bytes) into the log, inside write transaction @p txn (between begin
 * and end), then delete that database. @return 0, MDB_*, -ENOMEM, EL_ESTORE. */
int el_store_log_migrate (el_store_log_t *self, MDB_txn *txn, MDB_dbi dbi_entries);

#endif
