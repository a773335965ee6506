/* raw_lmdb — baseline: LMDB durable commits.
 *
 * In a fresh directory under DIR (default $TMPDIR or /tmp; bench.sh passes a
 * directory on the filesystem the daemons use), one environment with default
 * (durable) flags: every commit is synced to disk.
 *   raw_commit_per_s      C transactions of one put each
 *   raw_batch_puts_per_s  B transactions of K sequential puts each (K = 1,000)
 * Keys are origin(32) ‖ seq (u64 big-endian), sequential as entrelab's entries
 * db; values are S bytes. Prints both figures as `name=value`; removes the
 * directory afterwards.
 *
 *   raw_lmdb [-d DIR] [-c COMMITS] [-b BATCHES] [-k PUTS_PER_BATCH] [-s BYTES] */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define KEY_BYTES 40

static void
s_key (uint8_t key[KEY_BYTES], uint8_t origin_tag, uint64_t seq)
{
    memset (key, origin_tag, 32);
    for (int i = 0; i < 8; i++)
        key[32 + i] = (uint8_t) (seq >> (56 - 8 * i));
}

/* Run @p txns write transactions of @p per_txn puts each; keys continue from *seq. */
static int
s_run (MDB_env *env, MDB_dbi dbi, uint8_t origin_tag, uint64_t txns, uint64_t per_txn,
       const uint8_t *value, size_t size, uint64_t *seq)
{
    int rc = 0;
    uint8_t key[KEY_BYTES];
    for (uint64_t t = 0; t < txns; t++) {
        MDB_txn *txn = NULL;
        rc = mdb_txn_begin (env, NULL, 0, &txn);
        if (rc != 0) {
            bench_error ("mdb_txn_begin: %s", mdb_strerror (rc));
            return rc;
        }
        for (uint64_t p = 0; p < per_txn; p++) {
            s_key (key, origin_tag, ++*seq);
            MDB_val k = { KEY_BYTES, key }, v = { size, (void *) value };
            rc = mdb_put (txn, dbi, &k, &v, MDB_APPEND);
            if (rc != 0) {
                bench_error ("mdb_put: %s", mdb_strerror (rc));
                mdb_txn_abort (txn);
                return rc;
            }
        }
        rc = mdb_txn_commit (txn);
        if (rc != 0) {
            bench_error ("mdb_txn_commit: %s", mdb_strerror (rc));
            return rc;
        }
    }
    return 0;
}

int
main (int argc, char **argv)
{
    uint64_t commits = 2000, batches = 100, per_batch = 1000, size = BENCH_MSG_BYTES_DEFAULT;
    const char *base = NULL;
    for (;;) {
        int opt = getopt (argc, argv, "d:c:b:k:s:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'd':
            base = optarg;
            break;
        case 'c':
            if (bench_parse_u64 (optarg, "-c", 1, 10000000, &commits) < 0)
                return 2;
            break;
        case 'b':
            if (bench_parse_u64 (optarg, "-b", 1, 100000, &batches) < 0)
                return 2;
            break;
        case 'k':
            if (bench_parse_u64 (optarg, "-k", 1, 100000, &per_batch) < 0)
                return 2;
            break;
        case 's':
            if (bench_parse_u64 (optarg, "-s", 1, BENCH_MSG_BYTES_MAX, &size) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: raw_lmdb [-d DIR] [-c COMMITS] [-b BATCHES] "
                             "[-k PUTS_PER_BATCH] [-s BYTES]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    int rc = 1;
    char dir[BENCH_PATH_MAX];
    int err = bench_mkdtemp (base, "raw_lmdb.", dir);
    if (err < 0) {
        bench_error ("mkdtemp under %s: %s", base ? base : "$TMPDIR", strerror (-err));
        return 1;
    }
    uint8_t *value = malloc (size);
    MDB_env *env = NULL;
    if (!value) {
        bench_error ("out of memory");
        goto out_rm;
    }
    bench_fill (value, size, 3);
    uint64_t puts = commits + batches * per_batch;
    /* data pages + overflow pages for big values, twice over for copy-on-write, + slack */
    size_t map = (size_t) (puts * (size + KEY_BYTES + 64) * 2) + (64u << 20);
    MDB_dbi dbi;
    MDB_txn *txn = NULL;
    err = mdb_env_create (&env);
    if (err == 0)
        err = mdb_env_set_mapsize (env, map);
    if (err == 0)
        err = mdb_env_set_maxdbs (env, 4);
    if (err == 0)
        err = mdb_env_open (env, dir, 0, 0600);
    if (err == 0)
        err = mdb_txn_begin (env, NULL, 0, &txn);
    if (err == 0)
        err = mdb_dbi_open (txn, "entries", MDB_CREATE, &dbi);
    if (err == 0)
        err = mdb_txn_commit (txn);
    if (err != 0) {
        bench_error ("lmdb open %s: %s", dir, mdb_strerror (err));
        goto out_env;
    }
    uint64_t seq = 0;
    int64_t start = bench_now_ns ();
    if (s_run (env, dbi, 0xA1, commits, 1, value, size, &seq) != 0)
        goto out_env;
    int64_t commit_ns = bench_now_ns () - start;
    seq = 0;
    start = bench_now_ns ();
    if (s_run (env, dbi, 0xB2, batches, per_batch, value, size, &seq) != 0)
        goto out_env;
    int64_t batch_ns = bench_now_ns () - start;
    printf ("raw_commit_per_s=%.0f\n", (double) commits * 1e9 / (double) commit_ns);
    printf ("raw_batch_puts_per_s=%.0f\n",
            (double) (batches * per_batch) * 1e9 / (double) batch_ns);
    rc = 0;
out_env:
    if (env)
        mdb_env_close (env);
    free (value);
out_rm:
    bench_rm_rf (dir);
    return rc;
}
