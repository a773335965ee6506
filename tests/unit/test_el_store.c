/* test_el_store.c — the LMDB store: apply (dedupe, forks, gaps, networks, run
 * verification, stubs, erasure, attestation), reads, reopen, map growth,
 * compaction. Every store lives in a mkdtemp directory removed at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "el_store.h"
#include "el_util.h"

#define T0 1767225600000000LL   /* 2026-01-01T00:00:00Z, µs */
#define HOUR 3600000000LL

/* ------------------------------------------------------------ helpers */

typedef struct {
    uint8_t *data;
    size_t len;
} blob_t;

static void
s_blob_free (blob_t *b)
{
    free (b->data);
    b->data = NULL;
    b->len = 0;
}

/* A writing site: its key and where its log is. */
typedef struct {
    el_keypair_t *kp;
    uint64_t seq;                       /* last written */
    uint8_t hash[EL_HASH_BYTES];        /* of the last written */
    uint8_t network[EL_KEY_BYTES];
} writer_t;

static void
s_writer_init (writer_t *w, uint8_t fill, const uint8_t network[EL_KEY_BYTES])
{
    uint8_t seed[32];
    memset (seed, fill, sizeof seed);
    memset (w, 0, sizeof *w);
    assert_int_equal (el_keypair_from_seed (seed, &w->kp), 0);
    memcpy (w->network, network, EL_KEY_BYTES);
}

static void
s_writer_fini (writer_t *w)
{
    el_keypair_destroy (&w->kp);
}

static blob_t
s_write (writer_t *w, El__Kind kind, const char *key, blob_t payload, bool deleted)
{
    el_entry_fields_t f = { .seq = w->seq + 1, .time_us = T0 + (int64_t) w->seq,
                            .kind = kind, .key = key, .deleted = deleted,
                            .payload = payload.data, .payload_len = payload.len };
    memcpy (f.prev, w->hash, EL_HASH_BYTES);
    memcpy (f.network, w->network, EL_KEY_BYTES);
    blob_t out;
    assert_int_equal (el_entry_build (w->kp, &f, &out.data, &out.len, w->hash), 0);
    w->seq++;
    return out;
}

/* builds and frees the payload */
static blob_t
s_write_take (writer_t *w, El__Kind kind, const char *key, blob_t payload)
{
    blob_t e = s_write (w, kind, key, payload, false);
    s_blob_free (&payload);
    return e;
}

/* Pack protobuf-c message @p m into a malloc'd blob. */
static blob_t
s_pack (const ProtobufCMessage *m)
{
    blob_t b = { .len = protobuf_c_message_get_packed_size (m) };
    b.data = malloc (b.len ? b.len : 1);
    protobuf_c_message_pack (m, b.data);
    return b;
}

static blob_t
s_event (const char *uid, const char *summary, int64_t dtstart)
{
    El__Event m = EL__EVENT__INIT;
    m.uid = (char *) uid;
    m.summary = (char *) summary;
    m.dtstart_us = dtstart;
    m.dtend_us = dtstart + HOUR;
    return s_pack (&m.base);
}

static blob_t
s_member (const char *name)
{
    El__Member m = EL__MEMBER__INIT;
    m.display_name = (char *) name;
    return s_pack (&m.base);
}

static blob_t
s_site (const uint8_t key[EL_KEY_BYTES], El__SiteStatus status)
{
    El__Site m = EL__SITE__INIT;
    m.site_key.data = (uint8_t *) key;
    m.site_key.len = EL_KEY_BYTES;
    m.name = "a site";
    m.status = status;
    return s_pack (&m.base);
}

/* A REVOKED Site record naming the site's head at revocation. */
static blob_t
s_site_revoked (const uint8_t key[EL_KEY_BYTES], uint64_t head)
{
    El__Site m = EL__SITE__INIT;
    m.site_key.data = (uint8_t *) key;
    m.site_key.len = EL_KEY_BYTES;
    m.name = "a site";
    m.status = EL__SITE_STATUS__REVOKED;
    m.revoked_head = head;
    return s_pack (&m.base);
}

static blob_t
s_booking (int64_t start)
{
    El__Booking m = EL__BOOKING__INIT;
    m.start_us = start;
    m.end_us = start + HOUR;
    m.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    return s_pack (&m.base);
}

static const blob_t s_none = { NULL, 0 };

/* Apply n blobs; returns el_store_apply's result. */
static int
s_apply (el_store_t *st, const blob_t *b, size_t n, int *status, el_apply_stats_t *stats)
{
    const uint8_t *ptrs[64];
    size_t lens[64];
    assert_true (n <= 64);
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = b[i].data;
        lens[i] = b[i].len;
    }
    return el_store_apply (st, ptrs, lens, n, status, stats);
}

/* Apply one blob; returns its status (the batch must commit). */
static int
s_apply1 (el_store_t *st, blob_t b)
{
    int status = 12345;
    assert_int_equal (s_apply (st, &b, 1, &status, NULL), 0);
    return status;
}

/* s_apply1, then free the blob. */
static int
s_apply1_take (el_store_t *st, blob_t b)
{
    int status = s_apply1 (st, b);
    s_blob_free (&b);
    return status;
}

static uint64_t
s_head_seq (el_store_t *st, const uint8_t *origin)
{
    el_head_t h;
    int rc = el_store_head (st, origin, &h);
    if (rc == EL_ENOTFOUND)
        return 0;
    assert_int_equal (rc, 0);
    return h.seq;
}

static bool
s_file_contains (const char *path, const char *needle)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) size + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, (size_t) size, f), (size_t) size);
    fclose (f);
    bool found = memmem (buf, (size_t) size, needle, strlen (needle)) != NULL;
    free (buf);
    return found;
}

/* Flip one bit of the first occurrence of @p marker inside entry bytes. */
static void
s_flip_in (blob_t *b, const char *marker)
{
    uint8_t *p = memmem (b->data, b->len, marker, strlen (marker));
    assert_non_null (p);
    p[strlen (marker) / 2] ^= 0x01;
}

/* ------------------------------------------------------------ fixture */

typedef struct {
    char dir[64];
    el_store_t *st;
    el_store_config_t cfg;
    uint8_t net[EL_KEY_BYTES];         /* accepted network id = the broker's key */
    writer_t broker;                    /* origin = net */
    writer_t a, b;                      /* two sites */
} fix_t;

static void
s_rm_tree (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir (d))) {
        if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
            continue;
        char p[512];
        snprintf (p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (lstat (p, &sb) == 0 && S_ISDIR (sb.st_mode))
            s_rm_tree (p);
        else
            unlink (p);
    }
    closedir (d);
    rmdir (dir);
}

static void
s_tmpdir (char out[64])
{
    const char *tmp = getenv ("TMPDIR");
    snprintf (out, 64, "%s/el_store_XXXXXX", tmp && strlen (tmp) < 40 ? tmp : "/tmp");
    assert_non_null (mkdtemp (out));
}

static void
s_store_open (fix_t *f)
{
    assert_int_equal (el_store_open (f->dir, &f->cfg, &f->st), 0);
    assert_int_equal (el_store_accept_network (f->st, f->net), 0);
}

static int
setup (void **state)
{
    fix_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    s_tmpdir (f->dir);
    f->cfg.no_sync = true;
    uint8_t seed[32];
    memset (seed, 0x10, sizeof seed);
    el_keypair_t *kp;
    assert_int_equal (el_keypair_from_seed (seed, &kp), 0);
    memcpy (f->net, kp->pk, EL_KEY_BYTES);
    el_keypair_destroy (&kp);
    s_writer_init (&f->broker, 0x10, f->net);
    s_writer_init (&f->a, 0x21, f->net);
    s_writer_init (&f->b, 0x22, f->net);
    s_store_open (f);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fix_t *f = *state;
    el_store_destroy (&f->st);
    el_store_destroy (&f->st);          /* harmless twice */
    s_writer_fini (&f->broker);
    s_writer_fini (&f->a);
    s_writer_fini (&f->b);
    s_rm_tree (f->dir);
    free (f);
    return 0;
}

static void
s_reopen (fix_t *f)
{
    el_store_destroy (&f->st);
    s_store_open (f);
}

/* ------------------------------------------------------------ reads used by tests */

typedef struct {
    size_t n;
    char keys[16][32];
    int64_t starts[16];
    uint64_t seqs[16];
} seen_t;

static int
s_seen_record (void *arg, const el_entry_t *e)
{
    seen_t *s = arg;
    assert_true (s->n < 16);
    assert_false (e->is_stub);
    snprintf (s->keys[s->n], 32, "%s", e->body->key);
    s->seqs[s->n] = e->seq;
    s->starts[s->n] = 0;
    if (e->body->kind == EL__KIND__EVENT) {
        El__Event *ev = el__event__unpack (NULL, e->payload_len, e->payload);
        assert_non_null (ev);
        s->starts[s->n] = ev->dtstart_us;
        el__event__free_unpacked (ev, NULL);
    } else if (e->body->kind == EL__KIND__BOOKING) {
        El__Booking *bk = el__booking__unpack (NULL, e->payload_len,
                                               e->payload);
        assert_non_null (bk);
        s->starts[s->n] = bk->start_us;
        el__booking__free_unpacked (bk, NULL);
    }
    s->n++;
    return 0;
}

/* s_seen_record for window listings; the cursor is checked to be the
 * record's by_time key: prefix, start, origin, key */
static int
s_seen_timed (void *arg, const el_entry_t *e, const uint8_t *cursor, size_t cursor_len)
{
    size_t key_len = strlen (e->body->key);
    assert_int_equal (cursor_len, 1 + 8 + EL_KEY_BYTES + key_len);
    assert_int_equal (cursor[0] & 0x7f, e->body->kind);
    assert_memory_equal (cursor + 9, e->origin, EL_KEY_BYTES);
    assert_memory_equal (cursor + 9 + EL_KEY_BYTES, e->body->key, key_len);
    return s_seen_record (arg, e);
}

typedef struct {
    size_t n;
    blob_t b[64];
    uint64_t seqs[64];
} log_t;

static int
s_log_entry (void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    log_t *l = arg;
    assert_true (l->n < 64);
    l->b[l->n].data = malloc (len);
    memcpy (l->b[l->n].data, data, len);
    l->b[l->n].len = len;
    l->seqs[l->n] = seq;
    l->n++;
    return 0;
}

static void
s_log_free (log_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        s_blob_free (&l->b[i]);
    l->n = 0;
}

/* Read an origin's whole log and check it: contiguous seqs, prev links,
 * signatures of full entries; returns the number of entries and stubs. */
static size_t
s_check_log (el_store_t *st, const uint8_t *origin, size_t *stubs)
{
    log_t l = { 0 };
    size_t n = 0;
    assert_int_equal (el_store_entries_after (st, origin, 0, 64, s_log_entry, &l, &n), 0);
    assert_int_equal (n, l.n);
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    *stubs = 0;
    for (size_t i = 0; i < l.n; i++) {
        el_entry_t *e = NULL;
        assert_int_equal (el_entry_parse (l.b[i].data, l.b[i].len, &e), 0);
        assert_int_equal (e->seq, i + 1);
        assert_int_equal (l.seqs[i], i + 1);
        if (e->is_stub)
            (*stubs)++;
        else {
            assert_int_equal (el_entry_verify (e), 0);
            assert_memory_equal (e->prev, prev, EL_HASH_BYTES);
        }
        memcpy (prev, e->hash, EL_HASH_BYTES);
        el_entry_destroy (&e);
    }
    s_log_free (&l);
    return n;
}

/* ------------------------------------------------------------ tests */

static void
test_apply_and_read (void **state)
{
    fix_t *f = *state;
    blob_t e[3] = {
        s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "Open day", T0)),
        s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "Laser class", T0 + HOUR)),
        s_write_take (&f->a, EL__KIND__EQUIPMENT, "laser", s_none),
    };
    int status[3];
    el_apply_stats_t stats;
    assert_int_equal (s_apply (f->st, e, 3, status, &stats), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (status[i], EL_APPLIED);
    assert_int_equal (stats.applied, 3);
    assert_int_equal (stats.rejected, 0);

    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.seq, 3);
    assert_memory_equal (h.hash, f->a.hash, EL_HASH_BYTES);
    assert_int_equal (h.status, EL_HEAD_OK);
    assert_int_equal (el_store_head (f->st, f->b.kp->pk, &h), EL_ENOTFOUND);

    /* entries are stored verbatim; pages respect max and after_seq */
    log_t l = { 0 };
    size_t n;
    assert_int_equal (el_store_entries_after (f->st, f->a.kp->pk, 1, 1, s_log_entry, &l, &n), 0);
    assert_int_equal (n, 1);
    assert_int_equal (l.seqs[0], 2);
    assert_int_equal (l.b[0].len, e[1].len);
    assert_memory_equal (l.b[0].data, e[1].data, e[1].len);
    s_log_free (&l);
    assert_int_equal (el_store_entries_after (f->st, f->a.kp->pk, 3, 10, s_log_entry, &l, &n), 0);
    assert_int_equal (n, 0);

    uint8_t *copy;
    size_t copy_len;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 3, &copy, &copy_len), 0);
    assert_int_equal (copy_len, e[2].len);
    assert_memory_equal (copy, e[2].data, copy_len);
    free (copy);
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 4, &copy, &copy_len), EL_ENOTFOUND);

    el_entry_t *rec = NULL;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-2", &rec), 0);
    assert_int_equal (rec->seq, 2);
    el_entry_destroy (&rec);
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-3", &rec),
                      EL_ENOTFOUND);

    seen_t seen = { 0 };
    assert_int_equal (el_store_records (f->st, EL__KIND__EVENT, NULL, s_seen_record, &seen), 0);
    assert_int_equal (seen.n, 2);
    assert_string_equal (seen.keys[0], "ev-1");
    assert_string_equal (seen.keys[1], "ev-2");
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_records (f->st, EL__KIND__EQUIPMENT, f->a.kp->pk, s_seen_record,
                                        &seen), 0);
    assert_int_equal (seen.n, 1);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_records (f->st, EL__KIND__EVENT, f->b.kp->pk, s_seen_record,
                                        &seen), 0);
    assert_int_equal (seen.n, 0);

    el_head_t *heads;
    size_t nheads;
    assert_int_equal (el_store_heads (f->st, &heads, &nheads), 0);
    assert_int_equal (nheads, 1);
    assert_memory_equal (heads[0].origin, f->a.kp->pk, EL_KEY_BYTES);
    free (heads);

    el_store_stats_t ss;
    el_store_stats (f->st, &ss);
    assert_int_equal (ss.applied, 3);
    assert_true (ss.commits >= 1);
    assert_true (ss.map_bytes >= EL_STORE_MAP_INITIAL);
    for (int i = 0; i < 3; i++)
        s_blob_free (&e[i]);
}

static void
test_duplicate_is_noop (void **state)
{
    fix_t *f = *state;
    blob_t e[2] = {
        s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "Open day", T0)),
        s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "Repair café", T0)),
    };
    int status[4];
    el_apply_stats_t stats;
    assert_int_equal (s_apply (f->st, e, 2, status, &stats), 0);
    assert_int_equal (stats.applied, 2);

    /* the same batch again: counted no-ops, nothing changes */
    assert_int_equal (s_apply (f->st, e, 2, status, &stats), 0);
    assert_int_equal (status[0], EL_DUPLICATE);
    assert_int_equal (status[1], EL_DUPLICATE);
    assert_int_equal (stats.duplicates, 2);
    assert_int_equal (stats.applied, 0);
    assert_int_equal (stats.rejected, 0);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);

    /* a duplicate inside one batch */
    blob_t n3 = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "x", T0));
    blob_t batch[3] = { n3, n3, e[0] };
    assert_int_equal (s_apply (f->st, batch, 3, status, &stats), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_DUPLICATE);
    assert_int_equal (status[2], EL_DUPLICATE);
    assert_int_equal (stats.applied, 1);
    assert_int_equal (stats.duplicates, 2);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 3);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 3);

    el_store_stats_t ss;
    el_store_stats (f->st, &ss);
    assert_int_equal (ss.duplicates, 4);
    s_blob_free (&e[0]);
    s_blob_free (&e[1]);
    s_blob_free (&n3);
}

static void
test_fork_keeps_first (void **state)
{
    fix_t *f = *state;
    blob_t e1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "one", T0));
    writer_t fork_w = f->a;             /* same key, same position */
    blob_t e2 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "two", T0));
    blob_t e2x = s_write_take (&fork_w, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "TWO", T0));
    blob_t e3 = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "three", T0));
    uint8_t hash2[EL_HASH_BYTES];
    el_entry_t *pe;
    assert_int_equal (el_entry_parse (e2.data, e2.len, &pe), 0);
    memcpy (hash2, pe->hash, EL_HASH_BYTES);
    el_entry_destroy (&pe);

    assert_int_equal (s_apply1 (f->st, e1), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, e2), EL_APPLIED);

    /* a forged conflicting entry (bad signature) must not quarantine anyone */
    blob_t forged = { malloc (e2x.len), e2x.len };
    memcpy (forged.data, e2x.data, e2x.len);
    s_flip_in (&forged, "TWO");
    assert_int_equal (s_apply1 (f->st, forged), EL_EBADSIG);
    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.status, EL_HEAD_OK);

    /* the real fork: first kept, proof recorded, origin quarantined */
    int status;
    el_apply_stats_t stats;
    const uint8_t *p = e2x.data;
    assert_int_equal (el_store_apply (f->st, &p, &e2x.len, 1, &status, &stats), 0);
    assert_int_equal (status, EL_EFORK);
    assert_int_equal (stats.forks, 1);
    assert_int_equal (stats.rejected, 1);
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.seq, 2);
    assert_memory_equal (h.hash, hash2, EL_HASH_BYTES);
    assert_int_equal (h.status, EL_HEAD_QUARANTINED);
    uint8_t *stored;
    size_t stored_len;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 2, &stored, &stored_len), 0);
    assert_int_equal (stored_len, e2.len);
    assert_memory_equal (stored, e2.data, e2.len);
    free (stored);
    uint64_t fseq;
    uint8_t *proof;
    size_t proof_len;
    assert_int_equal (el_store_fork_get (f->st, f->a.kp->pk, &fseq, &proof, &proof_len), 0);
    assert_int_equal (fseq, 2);
    assert_int_equal (proof_len, e2x.len);
    assert_memory_equal (proof, e2x.data, e2x.len);
    free (proof);
    assert_int_equal (el_store_fork_get (f->st, f->b.kp->pk, &fseq, &proof, &proof_len),
                      EL_ENOTFOUND);

    /* the record still shows the first version; new entries are refused */
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-2", &rec), 0);
    assert_memory_equal (rec->hash, hash2, EL_HASH_BYTES);
    el_entry_destroy (&rec);
    assert_int_equal (s_apply1 (f->st, e3), EL_EQUARANTINE);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);

    /* quarantine survives a reopen */
    s_reopen (f);
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.status, EL_HEAD_QUARANTINED);
    assert_int_equal (s_apply1 (f->st, e3), EL_EQUARANTINE);

    s_blob_free (&e1);
    s_blob_free (&e2);
    s_blob_free (&e2x);
    s_blob_free (&e3);
    s_blob_free (&forged);
}

static void
test_gap_rejected (void **state)
{
    fix_t *f = *state;
    blob_t e[4];
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf (key, sizeof key, "ev-%d", i + 1);
        e[i] = s_write_take (&f->a, EL__KIND__EVENT, key, s_event (key, "x", T0));
    }
    assert_int_equal (s_apply1 (f->st, e[0]), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, e[2]), EL_EGAP);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 1);
    uint8_t *d;
    size_t dl;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 3, &d, &dl), EL_ENOTFOUND);

    /* within one batch: 3 arrives before 2 -> 3 is a gap, 2 applies */
    blob_t batch[2] = { e[2], e[1] };
    int status[2];
    assert_int_equal (s_apply (f->st, batch, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_EGAP);
    assert_int_equal (status[1], EL_APPLIED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);

    /* in order, earlier entries of the same batch count */
    blob_t batch2[2] = { e[2], e[3] };
    assert_int_equal (s_apply (f->st, batch2, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 4);

    /* a first entry of an unknown origin must be seq 1 */
    s_blob_free (&e[0]);
    for (int i = 0; i < 2; i++) {
        s_blob_free (&e[i + 1]);
        e[i] = s_write_take (&f->b, EL__KIND__EVENT, "b", s_event ("b", "x", T0));
    }
    assert_int_equal (s_apply1 (f->st, e[1]), EL_EGAP);
    assert_int_equal (el_store_head (f->st, f->b.kp->pk, &(el_head_t) { 0 }), EL_ENOTFOUND);
    for (int i = 0; i < 2; i++)
        s_blob_free (&e[i]);
    s_blob_free (&e[3]);
}

static int64_t
s_clock_at (void *arg)
{
    return *(const int64_t *) arg;
}

/* An entry dated more than EL_STORE_FUTURE_MAX_US after the receiver's clock
 * is refused, nothing of it kept; once the clock has caught up it applies. */
static void
test_future_time (void **state)
{
    fix_t *f = *state;
    el_store_destroy (&f->st);
    int64_t now = T0;
    f->cfg.wall_us = s_clock_at;
    f->cfg.wall_arg = &now;
    s_store_open (f);
    blob_t ok = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    assert_int_equal (s_apply1 (f->st, ok), EL_APPLIED);
    /* written by a site whose clock is two days ahead */
    blob_t p = s_event ("ev-2", "from the future", T0);
    el_entry_fields_t fl = { .seq = 2, .time_us = T0 + 2 * EL_STORE_FUTURE_MAX_US,
                             .kind = EL__KIND__EVENT, .key = "ev-2",
                             .payload = p.data, .payload_len = p.len };
    memcpy (fl.prev, f->a.hash, EL_HASH_BYTES);
    memcpy (fl.network, f->net, EL_KEY_BYTES);
    blob_t later;
    assert_int_equal (el_entry_build (f->a.kp, &fl, &later.data, &later.len, f->a.hash), 0);
    s_blob_free (&p);
    assert_int_equal (s_apply1 (f->st, later), EL_EFUTURE);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 1);
    el_entry_t *got = NULL;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-2", &got),
                      EL_ENOTFOUND);
    /* within the day of skew allowed: accepted */
    now = T0 + EL_STORE_FUTURE_MAX_US + 1;
    assert_int_equal (s_apply1 (f->st, later), EL_APPLIED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);
    s_blob_free (&ok);
    s_blob_free (&later);
}

static blob_t
s_request (const uint8_t owner[EL_KEY_BYTES], const char *equipment)
{
    El__BookingRequest m = EL__BOOKING_REQUEST__INIT;
    m.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) owner };
    m.equipment_key = (char *) equipment;
    m.start_us = T0;
    m.end_us = T0 + HOUR;
    return s_pack (&m.base);
}

static blob_t
s_answer (const uint8_t req_origin[EL_KEY_BYTES], const char *req_key, El__BookingStatus st)
{
    El__Booking m = EL__BOOKING__INIT;
    m.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) req_origin };
    m.request_key = (char *) req_key;
    m.equipment_key = "lathe";
    m.start_us = T0;
    m.end_us = T0 + HOUR;
    m.status = st;
    return s_pack (&m.base);
}

/* Only the owner the request names confirms it: the requester confirming
 * its own request to B's lathe is refused (in the request's batch and in a
 * later one), B's answer applies, and so does A's confirmation of a request
 * it made to itself (an owner booking its own machine). */
static void
test_booking_only_owner (void **state)
{
    fix_t *f = *state;
    const uint8_t *a = f->a.kp->pk, *b = f->b.kp->pk;
    blob_t e[3];
    e[0] = s_write_take (&f->a, EL__KIND__BOOKING_REQUEST, "r1", s_request (b, "lathe"));
    uint64_t seq = f->a.seq;
    uint8_t hash[EL_HASH_BYTES];
    memcpy (hash, f->a.hash, sizeof hash);
    e[1] = s_write_take (&f->a, EL__KIND__BOOKING, "self:r1",
                         s_answer (a, "r1", EL__BOOKING_STATUS__BOOKING_CONFIRMED));
    int status[2];
    assert_int_equal (s_apply (f->st, e, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_ENOTOWNER);
    assert_int_equal (s_head_seq (f->st, a), 1);
    /* the same forgery in a batch of its own: the request is in the store */
    assert_int_equal (s_apply1 (f->st, e[1]), EL_ENOTOWNER);
    /* A declining (not confirming) is harmless, and keeps its chain going */
    f->a.seq = seq;
    memcpy (f->a.hash, hash, sizeof hash);
    s_blob_free (&e[1]);
    e[1] = s_write_take (&f->a, EL__KIND__BOOKING, "self:r1",
                         s_answer (a, "r1", EL__BOOKING_STATUS__BOOKING_DECLINED));
    assert_int_equal (s_apply1 (f->st, e[1]), EL_APPLIED);
    /* the owner's answer applies */
    e[2] = s_write_take (&f->b, EL__KIND__BOOKING, "a:r1",
                         s_answer (a, "r1", EL__BOOKING_STATUS__BOOKING_CONFIRMED));
    assert_int_equal (s_apply1 (f->st, e[2]), EL_APPLIED);
    for (int i = 0; i < 3; i++)
        s_blob_free (&e[i]);
    /* A's request to itself, confirmed by A */
    e[0] = s_write_take (&f->a, EL__KIND__BOOKING_REQUEST, "r2", s_request (a, "lathe"));
    e[1] = s_write_take (&f->a, EL__KIND__BOOKING, "own:r2",
                         s_answer (a, "r2", EL__BOOKING_STATUS__BOOKING_CONFIRMED));
    assert_int_equal (s_apply (f->st, e, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    /* A changes its request r1 to name itself as owner: B's earlier answer
     * still applies where it arrives after the change (a requester cannot
     * stall an owner's log) */
    blob_t changed = s_write_take (&f->a, EL__KIND__BOOKING_REQUEST, "r1", s_request (a, "lathe"));
    assert_int_equal (s_apply1 (f->st, changed), EL_APPLIED);
    blob_t again = s_write_take (&f->b, EL__KIND__BOOKING, "a:r1",
                                 s_answer (a, "r1", EL__BOOKING_STATUS__BOOKING_CONFIRMED));
    assert_int_equal (s_apply1 (f->st, again), EL_APPLIED);
    s_blob_free (&changed);
    s_blob_free (&again);
    /* an answer to a request this store does not hold: not judged */
    e[2] = s_write_take (&f->b, EL__KIND__BOOKING, "x:unknown",
                         s_answer (a, "unknown", EL__BOOKING_STATUS__BOOKING_CONFIRMED));
    assert_int_equal (s_apply1 (f->st, e[2]), EL_APPLIED);
    for (int i = 0; i < 3; i++)
        s_blob_free (&e[i]);
}

static void
test_prev_mismatch (void **state)
{
    fix_t *f = *state;
    blob_t e1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    assert_int_equal (s_apply1 (f->st, e1), EL_APPLIED);
    /* seq 2 whose prev is not the hash of seq 1 */
    memset (f->a.hash, 0x77, EL_HASH_BYTES);
    blob_t bad = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "x", T0));
    assert_int_equal (s_apply1 (f->st, bad), EL_EPREV);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 1);
    s_blob_free (&e1);
    s_blob_free (&bad);
}

static void
test_wrong_network (void **state)
{
    fix_t *f = *state;
    uint8_t other[EL_KEY_BYTES];
    memset (other, 0x99, sizeof other);
    writer_t w;
    s_writer_init (&w, 0x23, other);
    blob_t e = s_write_take (&w, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    assert_int_equal (s_apply1 (f->st, e), EL_ENETWORK);
    assert_int_equal (s_head_seq (f->st, w.kp->pk), 0);

    /* once that network is accepted (a federation), it applies */
    assert_int_equal (el_store_accept_network (f->st, other), 0);
    assert_int_equal (el_store_accept_network (f->st, other), 0);   /* idempotent */
    assert_int_equal (s_apply1 (f->st, e), EL_APPLIED);

    /* a store that accepts no network accepts no entry */
    el_store_destroy (&f->st);
    assert_int_equal (el_store_open (f->dir, &f->cfg, &f->st), 0);
    blob_t e2 = s_write_take (&w, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "x", T0));
    assert_int_equal (s_apply1 (f->st, e2), EL_ENETWORK);

    /* the accepted list is bounded */
    uint8_t net[EL_KEY_BYTES] = { 0 };
    for (int i = 0; i < EL_STORE_NETWORKS_MAX; i++) {
        net[0] = (uint8_t) i;
        assert_int_equal (el_store_accept_network (f->st, net), 0);
    }
    net[1] = 1;
    assert_int_equal (el_store_accept_network (f->st, net), EL_ETOOBIG);
    s_blob_free (&e);
    s_blob_free (&e2);
    s_writer_fini (&w);
}

static void
test_tombstone_hides (void **state)
{
    fix_t *f = *state;
    blob_t e1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    blob_t e2 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "y", T0 + HOUR));
    blob_t del = s_write (&f->a, EL__KIND__EVENT, "ev-1", s_none, true);
    blob_t batch[2] = { e1, e2 };
    assert_int_equal (s_apply (f->st, batch, 2, NULL, NULL), 0);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec), 0);
    el_entry_destroy (&rec);

    assert_int_equal (s_apply1 (f->st, del), EL_APPLIED);
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec),
                      EL_ENOTFOUND);
    seen_t seen = { 0 };
    assert_int_equal (el_store_records (f->st, EL__KIND__EVENT, NULL, s_seen_record, &seen), 0);
    assert_int_equal (seen.n, 1);
    assert_string_equal (seen.keys[0], "ev-2");
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0 - HOUR, T0 + 10 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 1);
    assert_string_equal (seen.keys[0], "ev-2");

    /* the tombstone itself is in the log (it replicates) */
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 3);
    /* re-created later: visible again */
    blob_t e4 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "z", T0));
    assert_int_equal (s_apply1 (f->st, e4), EL_APPLIED);
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec), 0);
    assert_int_equal (rec->seq, 4);
    el_entry_destroy (&rec);
    s_blob_free (&e1);
    s_blob_free (&e2);
    s_blob_free (&del);
    s_blob_free (&e4);
}

static void
test_batch_with_bad_entries (void **state)
{
    fix_t *f = *state;
    uint8_t other[EL_KEY_BYTES];
    memset (other, 0x55, sizeof other);
    writer_t stranger;
    s_writer_init (&stranger, 0x24, other);
    uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };

    blob_t a1 = s_write_take (&f->a, EL__KIND__EVENT, "a1", s_event ("a1", "x", T0));
    blob_t b1 = s_write_take (&f->b, EL__KIND__EVENT, "b1", s_event ("b1", "x", T0));
    blob_t a2 = s_write_take (&f->a, EL__KIND__EVENT, "a2", s_event ("a2", "x", T0));
    blob_t s1 = s_write_take (&stranger, EL__KIND__EVENT, "s1", s_event ("s1", "x", T0));
    blob_t b2 = s_write_take (&f->b, EL__KIND__EVENT, "b2", s_event ("b2", "x", T0));
    blob_t b3 = s_write_take (&f->b, EL__KIND__EVENT, "b3", s_event ("b3", "x", T0));
    blob_t b3_bad = { malloc (b3.len), b3.len };
    memcpy (b3_bad.data, b3.data, b3.len);
    b3_bad.data[b3.len - 1] ^= 0x80;    /* last byte of the signature */
    blob_t batch[7] = { a1, b1, { garbage, sizeof garbage }, a2, s1, b2, b3_bad };
    int status[7];
    el_apply_stats_t stats;
    assert_int_equal (s_apply (f->st, batch, 7, status, &stats), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    assert_int_equal (status[2], EL_EPROTO);
    assert_int_equal (status[3], EL_APPLIED);
    assert_int_equal (status[4], EL_ENETWORK);
    assert_int_equal (status[5], EL_APPLIED);
    assert_int_equal (status[6], EL_EBADSIG);
    assert_int_equal (stats.applied, 4);
    assert_int_equal (stats.rejected, 3);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);
    assert_int_equal (s_head_seq (f->st, f->b.kp->pk), 2);

    /* the good b3 still applies afterwards */
    assert_int_equal (s_apply1 (f->st, b3), EL_APPLIED);

    /* a payload of a known kind that does not decode is refused */
    blob_t junk = { malloc (3), 3 };
    memcpy (junk.data, "\x22\xff\x01", 3);
    blob_t bad_payload = s_write (&f->a, EL__KIND__EVENT, "a3", junk, false);
    blob_t a4 = s_write_take (&f->a, EL__KIND__EVENT, "a4", s_event ("a4", "x", T0));
    blob_t batch2[2] = { bad_payload, a4 };
    assert_int_equal (s_apply (f->st, batch2, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_EPROTO);
    assert_true (status[1] < 0);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);

    /* an unknown kind is stored (and would be forwarded) but not indexed */
    blob_t u1 = s_write_take (&f->b, (El__Kind) 42, "future", s_member ("opaque"));
    assert_int_equal (s_apply1 (f->st, u1), EL_APPLIED);
    assert_int_equal (s_head_seq (f->st, f->b.kp->pk), 4);
    seen_t seen = { 0 };
    assert_int_equal (el_store_records (f->st, (El__Kind) 42, NULL, s_seen_record, &seen), 0);
    assert_int_equal (seen.n, 0);

    blob_t all[] = { a1, b1, a2, s1, b2, b3, b3_bad, junk, bad_payload, a4, u1 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free (all[i].data);
    s_writer_fini (&stranger);
}

#define RUN 8

/* One flipped bit in the body of entry k of a run verified through its last
 * signature rejects k and everything after it; entries before k apply. */
static void
test_run_flipped_bit (void **state)
{
    fix_t *f = *state;
    const int ks[] = { 0, 1, 3, RUN - 2, RUN - 1 };
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        int k = ks[t];
        writer_t w;
        s_writer_init (&w, (uint8_t) (0x40 + t), f->net);
        blob_t e1 = s_write_take (&w, EL__KIND__EVENT, "first", s_event ("first", "x", T0));
        assert_int_equal (s_apply1 (f->st, e1), EL_APPLIED);
        blob_t run[RUN], bad[RUN];
        for (int i = 0; i < RUN; i++) {
            char key[16], summary[32];
            snprintf (key, sizeof key, "ev-%d", i);
            snprintf (summary, sizeof summary, "summary-%d-tag", i);
            run[i] = s_write_take (&w, EL__KIND__EVENT, key, s_event (key, summary, T0 + i));
            bad[i] = (blob_t) { malloc (run[i].len), run[i].len };
            memcpy (bad[i].data, run[i].data, run[i].len);
        }
        char marker[32];
        snprintf (marker, sizeof marker, "summary-%d-tag", k);
        s_flip_in (&bad[k], marker);

        int status[RUN];
        el_apply_stats_t stats;
        assert_int_equal (s_apply (f->st, bad, RUN, status, &stats), 0);
        for (int i = 0; i < k; i++)
            assert_int_equal (status[i], EL_APPLIED);
        assert_int_equal (status[k], EL_EBADSIG);
        for (int i = k + 1; i < RUN; i++)
            assert_true (status[i] == EL_EPREV || status[i] == EL_EGAP);
        assert_int_equal (stats.applied, (size_t) k);
        assert_int_equal (stats.rejected, (size_t) (RUN - k));
        assert_int_equal (s_head_seq (f->st, w.kp->pk), 1 + (uint64_t) k);

        /* nothing of the bad run was stored: the genuine entries still apply */
        assert_int_equal (s_apply (f->st, run, RUN, status, &stats), 0);
        assert_int_equal (stats.duplicates, (size_t) k);
        assert_int_equal (stats.applied, (size_t) (RUN - k));
        size_t stubs;
        assert_int_equal (s_check_log (f->st, w.kp->pk, &stubs), 1 + RUN);
        for (int i = 0; i < RUN; i++) {
            s_blob_free (&run[i]);
            s_blob_free (&bad[i]);
        }
        s_blob_free (&e1);
        s_writer_fini (&w);
    }

    /* a lone entry with one flipped bit in its body or its signature */
    writer_t w;
    s_writer_init (&w, 0x4f, f->net);
    blob_t e = s_write_take (&w, EL__KIND__EVENT, "lone", s_event ("lone", "lonely-tag", T0));
    blob_t c = { malloc (e.len), e.len };
    memcpy (c.data, e.data, e.len);
    s_flip_in (&c, "lonely-tag");
    assert_int_equal (s_apply1 (f->st, c), EL_EBADSIG);
    memcpy (c.data, e.data, e.len);
    c.data[c.len - 10] ^= 0x04;         /* inside the signature */
    assert_int_equal (s_apply1 (f->st, c), EL_EBADSIG);
    assert_int_equal (s_head_seq (f->st, w.kp->pk), 0);
    assert_int_equal (s_apply1 (f->st, e), EL_APPLIED);
    s_blob_free (&e);
    s_blob_free (&c);
    s_writer_fini (&w);
}

static void
test_stub_keeps_chain (void **state)
{
    fix_t *f = *state;
    const char *marker = "MARKER-7f3a-stub-payload";
    blob_t e[5];
    e[0] = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "one", T0));
    e[1] = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", marker, T0));
    e[2] = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "three", T0));
    assert_int_equal (s_apply (f->st, e, 3, NULL, NULL), 0);
    assert_true (s_file_contains (el_store_path (f->st), marker));
    /* the stub of an entry held in full is a duplicate */
    el_entry_t *full;
    blob_t stub2;
    assert_int_equal (el_entry_parse (e[1].data, e[1].len, &full), 0);
    assert_int_equal (el_entry_stub_pack (full, &stub2.data, &stub2.len), 0);
    el_entry_destroy (&full);
    assert_int_equal (s_apply1 (f->st, stub2), EL_DUPLICATE);
    s_blob_free (&stub2);

    assert_int_equal (el_store_stub (f->st, f->a.kp->pk, 2), 0);
    assert_int_equal (el_store_stub (f->st, f->a.kp->pk, 2), 0);      /* idempotent */
    assert_int_equal (el_store_stub (f->st, f->a.kp->pk, 9), EL_ENOTFOUND);
    uint8_t *d;
    size_t dl;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 2, &d, &dl), 0);
    el_entry_t *s = NULL;
    assert_int_equal (el_entry_parse (d, dl, &s), 0);
    assert_true (s->is_stub);
    assert_int_equal (s->seq, 2);
    el_entry_destroy (&s);
    free (d);
    assert_int_equal (el_store_compact (f->st), 0);
    assert_false (s_file_contains (el_store_path (f->st), marker));

    /* later entries still apply on top of the stub */
    e[3] = s_write_take (&f->a, EL__KIND__EVENT, "ev-4", s_event ("ev-4", "four", T0));
    e[4] = s_write_take (&f->a, EL__KIND__EVENT, "ev-5", s_event ("ev-5", "five", T0));
    assert_int_equal (s_apply (f->st, e + 3, 2, NULL, NULL), 0);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 5);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 5);
    assert_int_equal (stubs, 1);

    /* a replica catches up from this log, stub included, and verifies it */
    log_t l = { 0 };
    size_t n;
    assert_int_equal (el_store_entries_after (f->st, f->a.kp->pk, 0, 64, s_log_entry, &l, &n), 0);
    assert_int_equal (n, 5);
    char dir2[64];
    s_tmpdir (dir2);
    el_store_t *st2;
    assert_int_equal (el_store_open (dir2, &f->cfg, &st2), 0);
    assert_int_equal (el_store_accept_network (st2, f->net), 0);
    int status[5];
    /* a stub keeps its signed body: it applies on its own, even as the last
     * entry of a batch */
    assert_int_equal (s_apply (st2, l.b, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    assert_int_equal (s_head_seq (st2, f->a.kp->pk), 2);
    /* a forged stub (one bit of its body flipped) is refused, and so is the
     * real entry after it, which no longer links */
    el_entry_t *next_e;
    assert_int_equal (el_entry_parse (l.b[2].data, l.b[2].len, &next_e), 0);
    blob_t forged;
    assert_int_equal (el_entry_stub_pack (next_e, &forged.data, &forged.len), 0);
    el_entry_destroy (&next_e);
    forged.data[8] ^= 0x04;     /* inside the body (after its tag and length) */
    blob_t fb[2] = { forged, l.b[3] };
    assert_int_equal (s_apply (st2, fb, 2, status, NULL), 0);
    assert_true (status[0] < 0);
    assert_true (status[1] < 0);
    assert_int_equal (s_head_seq (st2, f->a.kp->pk), 2);
    /* the whole log in one batch */
    el_apply_stats_t stats;
    assert_int_equal (s_apply (st2, l.b, 5, status, &stats), 0);
    assert_int_equal (stats.duplicates, 2);
    assert_int_equal (stats.applied, 3);
    assert_int_equal (s_head_seq (st2, f->a.kp->pk), 5);
    assert_int_equal (s_check_log (st2, f->a.kp->pk, &stubs), 5);
    assert_int_equal (stubs, 1);
    /* the full entry of one held as a stub is a duplicate (and stays a stub) */
    assert_int_equal (s_apply1 (st2, e[1]), EL_DUPLICATE);
    assert_int_equal (s_check_log (st2, f->a.kp->pk, &stubs), 5);
    assert_int_equal (stubs, 1);
    el_store_destroy (&st2);
    s_rm_tree (dir2);
    s_log_free (&l);
    s_blob_free (&forged);
    for (int i = 0; i < 5; i++)
        s_blob_free (&e[i]);
}

/* A bad entry before a stub: the stub's prev no longer links, so neither it
 * nor anything after it applies; with the genuine entry the run applies. */
static void
test_stub_breaks_run (void **state)
{
    fix_t *f = *state;
    blob_t e[4];
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf (key, sizeof key, "ev-%d", i + 1);
        e[i] = s_write_take (&f->a, EL__KIND__EVENT, key, s_event (key, "x", T0));
    }
    el_entry_t *p3;
    blob_t s3;
    assert_int_equal (el_entry_parse (e[2].data, e[2].len, &p3), 0);
    assert_int_equal (el_entry_stub_pack (p3, &s3.data, &s3.len), 0);
    el_entry_destroy (&p3);
    /* entry 2 with a flipped payload bit: refused, and the run stops there */
    blob_t bad2 = { malloc (e[1].len), e[1].len };
    memcpy (bad2.data, e[1].data, e[1].len);
    bad2.data[bad2.len - 5] ^= 0x10;
    blob_t batch[4] = { e[0], bad2, s3, e[3] };
    int status[4];
    assert_int_equal (s_apply (f->st, batch, 4, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_EBADSIG);
    assert_true (status[2] < 0);
    assert_true (status[3] < 0);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 1);

    /* with the genuine entry 2 the same run applies, stub included */
    blob_t good[3] = { e[1], s3, e[3] };
    assert_int_equal (s_apply (f->st, good, 3, status, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (status[i], EL_APPLIED);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 4);
    assert_int_equal (stubs, 1);
    for (int i = 0; i < 4; i++)
        s_blob_free (&e[i]);
    s_blob_free (&s3);
    s_blob_free (&bad2);
}

/* Two different entries for one seq in the same batch: the first in batch
 * order is kept, the second is the fork proof. */
static void
test_fork_within_batch (void **state)
{
    fix_t *f = *state;
    blob_t e1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "one", T0));
    writer_t fork_w = f->a;
    blob_t e2 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "two", T0));
    blob_t e2x = s_write_take (&fork_w, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "TWO", T0));
    blob_t e3 = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "three", T0));
    blob_t batch[4] = { e1, e2, e2x, e3 };
    int status[4];
    el_apply_stats_t stats;
    assert_int_equal (s_apply (f->st, batch, 4, status, &stats), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    assert_int_equal (status[2], EL_EFORK);
    assert_int_equal (status[3], EL_APPLIED);    /* checked before the fork was known */
    assert_int_equal (stats.forks, 1);
    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.status, EL_HEAD_QUARANTINED);
    uint64_t seq;
    uint8_t *proof;
    size_t proof_len;
    assert_int_equal (el_store_fork_get (f->st, f->a.kp->pk, &seq, &proof, &proof_len), 0);
    assert_int_equal (seq, 2);
    assert_int_equal (proof_len, e2x.len);
    assert_memory_equal (proof, e2x.data, e2x.len);
    free (proof);
    s_blob_free (&e1);
    s_blob_free (&e2);
    s_blob_free (&e2x);
    s_blob_free (&e3);
}

static void
test_member_erasure (void **state)
{
    fix_t *f = *state;
    const char *name = "Zoe Erasable-Name-31415";
    blob_t e[4];
    e[0] = s_write_take (&f->a, EL__KIND__MEMBER, "m-1", s_member (name));
    e[1] = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "kept", T0));
    e[2] = s_write_take (&f->a, EL__KIND__MEMBER, "m-1", s_member (name));
    e[3] = s_write (&f->a, EL__KIND__MEMBER, "m-1", s_none, true);
    assert_int_equal (s_apply (f->st, e, 3, NULL, NULL), 0);
    assert_true (s_file_contains (el_store_path (f->st), name));

    assert_int_equal (s_apply1 (f->st, e[3]), EL_APPLIED);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__MEMBER, f->a.kp->pk, "m-1", &rec),
                      EL_ENOTFOUND);
    /* earlier entries of the record are stubs now; the event is untouched */
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 4);
    assert_int_equal (stubs, 2);
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec), 0);
    el_entry_destroy (&rec);

    /* a second origin creates and erases a member within one batch */
    blob_t m[3];
    m[0] = s_write_take (&f->b, EL__KIND__MEMBER, "m-9", s_member ("Other Person-27182"));
    m[1] = s_write_take (&f->b, EL__KIND__EVENT, "ev-9", s_event ("ev-9", "x", T0));
    m[2] = s_write (&f->b, EL__KIND__MEMBER, "m-9", s_none, true);
    int status[3];
    assert_int_equal (s_apply (f->st, m, 3, status, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (status[i], EL_APPLIED);
    assert_int_equal (s_check_log (f->st, f->b.kp->pk, &stubs), 3);
    assert_int_equal (stubs, 1);

    assert_int_equal (el_store_compact (f->st), 0);
    assert_false (s_file_contains (el_store_path (f->st), name));
    char tmp[128];
    struct stat sb;
    snprintf (tmp, sizeof tmp, "%s/.compact", f->dir);
    assert_int_equal (stat (tmp, &sb), -1);     /* the copy's directory is gone */
    assert_int_equal (errno, ENOENT);
    assert_false (s_file_contains (el_store_path (f->st), "Other Person-27182"));
    /* everything else survived the compaction, and the store still writes */
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 4);
    blob_t e5 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "after", T0));
    assert_int_equal (s_apply1 (f->st, e5), EL_APPLIED);
    s_reopen (f);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 5);
    assert_int_equal (s_head_seq (f->st, f->b.kp->pk), 3);

    /* the erased log replicates: segments [S1 E2] [S3 T4] are each vouched for */
    log_t l = { 0 };
    size_t n;
    assert_int_equal (el_store_entries_after (f->st, f->a.kp->pk, 0, 64, s_log_entry, &l, &n), 0);
    char dir2[64];
    s_tmpdir (dir2);
    el_store_t *st2;
    assert_int_equal (el_store_open (dir2, &f->cfg, &st2), 0);
    assert_int_equal (el_store_accept_network (st2, f->net), 0);
    el_apply_stats_t stats;
    assert_int_equal (s_apply (st2, l.b, l.n, NULL, &stats), 0);
    assert_int_equal (stats.applied, 5);
    assert_false (s_file_contains (el_store_path (st2), name));
    el_store_destroy (&st2);
    s_rm_tree (dir2);
    s_log_free (&l);

    for (int i = 0; i < 4; i++)
        s_blob_free (&e[i]);
    for (int i = 0; i < 3; i++)
        s_blob_free (&m[i]);
    s_blob_free (&e5);
}

static void
test_reopen_keeps_everything (void **state)
{
    fix_t *f = *state;
    f->cfg.no_sync = false;             /* the durable default */
    s_reopen (f);
    blob_t e[3] = {
        s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0 + HOUR)),
        s_write_take (&f->b, EL__KIND__BOOKING, "bk-1", s_booking (T0)),
        s_write_take (&f->a, EL__KIND__MEMBER, "m-1", s_member ("Alice")),
    };
    assert_int_equal (s_apply (f->st, e, 3, NULL, NULL), 0);
    assert_int_equal (el_store_meta_put (f->st, "own-id", "abc", 3), 0);
    assert_int_equal (el_store_peer_put (f->st, f->b.kp->pk, "seen", 4), 0);
    assert_int_equal (el_store_set_revoked (f->st, f->b.kp->pk, true), 0);
    s_reopen (f);

    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);
    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->b.kp->pk, &h), 0);
    assert_int_equal (h.seq, 1);
    assert_int_equal (h.status, EL_HEAD_REVOKED);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 2);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__MEMBER, f->a.kp->pk, "m-1", &rec), 0);
    el_entry_destroy (&rec);
    seen_t seen = { 0 };
    assert_int_equal (el_store_window (f->st, EL__KIND__BOOKING, T0, T0 + 1, NULL, 0, s_seen_timed,
                                        &seen), 0);
    assert_int_equal (seen.n, 1);
    void *v;
    size_t vl;
    assert_int_equal (el_store_meta_get (f->st, "own-id", &v, &vl), 0);
    assert_int_equal (vl, 3);
    assert_memory_equal (v, "abc", 3);
    free (v);
    assert_int_equal (el_store_meta_get (f->st, "nothing", &v, &vl), EL_ENOTFOUND);
    assert_int_equal (el_store_meta_put (f->st, "el.schema", "x", 1), EL_EINVAL);
    assert_int_equal (el_store_peer_get (f->st, f->b.kp->pk, &v, &vl), 0);
    assert_int_equal (vl, 4);
    free (v);
    assert_int_equal (el_store_peer_get (f->st, f->a.kp->pk, &v, &vl), EL_ENOTFOUND);

    /* revoked: refused until re-activated */
    blob_t b2 = s_write_take (&f->b, EL__KIND__EVENT, "ev-b", s_event ("ev-b", "x", T0));
    assert_int_equal (s_apply1 (f->st, b2), EL_EREVOKED);
    assert_int_equal (el_store_set_revoked (f->st, f->b.kp->pk, false), 0);
    assert_int_equal (s_apply1 (f->st, b2), EL_APPLIED);
    for (int i = 0; i < 3; i++)
        s_blob_free (&e[i]);
    s_blob_free (&b2);
}

/* Listing from a cursor: one seek, then the records after it in (origin,
 * key) order, within the kind (and the origin, when one is asked for). */
static void
test_records_after (void **state)
{
    fix_t *f = *state;
    const char *keys[] = { "e1", "e2", "e3" };
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_apply1_take (f->st, s_write_take (&f->a, EL__KIND__EVENT, keys[i],
                                                              s_event (keys[i], "x", T0))),
                          EL_APPLIED);
        assert_int_equal (s_apply1_take (f->st, s_write_take (&f->b, EL__KIND__EVENT, keys[i],
                                                              s_event (keys[i], "y", T0))),
                          EL_APPLIED);
    }
    assert_int_equal (s_apply1_take (f->st, s_write_take (&f->a, EL__KIND__MEMBER, "m1",
                                                          s_member ("Ann"))),
                      EL_APPLIED);
    const uint8_t *first = memcmp (f->a.kp->pk, f->b.kp->pk, EL_KEY_BYTES) < 0 ? f->a.kp->pk
                                                                                : f->b.kp->pk;
    const uint8_t *second = first == f->a.kp->pk ? f->b.kp->pk : f->a.kp->pk;
    seen_t all = { 0 }, s = { 0 };
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, NULL, NULL, NULL,
                                              s_seen_record, &all), 0);
    assert_int_equal (all.n, 6);
    /* after the first origin's e2: its e3, then the second origin's three */
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, NULL, first, "e2",
                                              s_seen_record, &s), 0);
    assert_int_equal (s.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal (s.keys[i], all.keys[i + 2]);
    /* a cursor between two keys ("e10" sorts after "e1"), and past the end */
    s.n = 0;
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, second, second, "e10",
                                              s_seen_record, &s), 0);
    assert_int_equal (s.n, 2);
    assert_string_equal (s.keys[0], "e2");
    s.n = 0;
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, NULL, second, "e3",
                                              s_seen_record, &s), 0);
    assert_int_equal (s.n, 0);
    /* one origin asked for, a cursor before its range: from its first record */
    s.n = 0;
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, second, first, "e9",
                                              s_seen_record, &s), 0);
    assert_int_equal (s.n, 3);
    /* and after it: nothing of that origin */
    s.n = 0;
    uint8_t last[EL_KEY_BYTES];
    memset (last, 0xff, sizeof last);
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, first, last, "",
                                              s_seen_record, &s), 0);
    assert_int_equal (s.n, 0);
    char long_key[EL_RECORD_KEY_MAX + 2];
    memset (long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_int_equal (el_store_records_after (f->st, EL__KIND__EVENT, NULL, first, long_key,
                                              s_seen_record, &s), EL_EINVAL);
}

/* An event of @p span_us (0: no end); @p rrule and @p recurrence_id may be NULL */
static blob_t
s_event_full (const char *uid, int64_t dtstart, int64_t span_us, const char *rrule,
              const char *recurrence_id)
{
    El__Event m = EL__EVENT__INIT;
    m.uid = (char *) uid;
    m.summary = (char *) "x";
    m.dtstart_us = dtstart;
    m.dtend_us = span_us ? dtstart + span_us : 0;
    m.rrule = (char *) (rrule ? rrule : "");
    m.recurrence_id = (char *) (recurrence_id ? recurrence_id : "");
    return s_pack (&m.base);
}

typedef struct {
    seen_t seen;
    uint8_t cursor[EL_STORE_CURSOR_MAX];
    size_t cursor_len;
    size_t page;                /* records per page */
    size_t in_page;
} pager_t;

/* s_seen_timed by pages of pager_t.page records: keeps the last cursor */
static int
s_pager_record (void *arg, const el_entry_t *e, const uint8_t *cursor, size_t cursor_len)
{
    pager_t *p = arg;
    if (p->in_page == p->page)
        return 1;
    p->in_page++;
    memcpy (p->cursor, cursor, cursor_len);
    p->cursor_len = cursor_len;
    return s_seen_timed (&p->seen, e, cursor, cursor_len);
}

/* The window [from, to) of @p kind, read by pages of @p page records. */
static void
s_window_paged (el_store_t *st, El__Kind kind, int64_t from, int64_t to, size_t page,
                seen_t *ret)
{
    pager_t p = { .page = page };
    for (int pages = 0; pages < 32; pages++) {
        p.in_page = 0;
        assert_int_equal (el_store_window (st, kind, from, to, p.cursor_len ? p.cursor : NULL,
                                           p.cursor_len, s_pager_record, &p), 0);
        if (p.in_page < page)
            break;
    }
    *ret = p.seen;
}

#define DAY (24 * HOUR)

/* A's weekly series since T0 - 100 days, a 10-day exhibition ending an hour
 * into T0, a talk at T0 + 1 h: applied. */
static void
s_apply_season (fix_t *f)
{
    blob_t e[] = {
        s_write_take (&f->a, EL__KIND__EVENT, "weekly",
                      s_event_full ("weekly", T0 - 100 * DAY, HOUR, "FREQ=WEEKLY", NULL)),
        s_write_take (&f->a, EL__KIND__EVENT, "expo",
                      s_event_full ("expo", T0 - 10 * DAY, 10 * DAY + HOUR, NULL, NULL)),
        s_write_take (&f->a, EL__KIND__EVENT, "talk",
                      s_event_full ("talk", T0 + HOUR, 0, NULL, NULL)),
    };
    assert_int_equal (s_apply (f->st, e, 3, NULL, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        s_blob_free (&e[i]);
}

/* Window listings: series whatever their dates, then single records that
 * may overlap (starts from the window's start less the longest span), by
 * start; the longest span survives a reopen; pages resume at their cursor. */
static void
test_window_series_and_spans (void **state)
{
    fix_t *f = *state;
    s_apply_season (f);
    blob_t e[] = {
        s_write_take (&f->b, EL__KIND__EVENT, "moved",
                      s_event_full ("weekly", T0 + 50 * DAY, HOUR, NULL, "20260101T100000Z")),
        s_write_take (&f->a, EL__KIND__EVENT, "later",
                      s_event_full ("later", T0 + 3 * HOUR, HOUR, NULL, NULL)),
        s_write_take (&f->b, EL__KIND__EVENT, "long-ago",
                      s_event_full ("long-ago", T0 - 20 * DAY, HOUR, NULL, NULL)),
        /* longer than a year: listed with the series, the singles' scan not widened */
        s_write_take (&f->a, EL__KIND__EVENT, "decade",
                      s_event_full ("decade", T0 - 1826 * DAY, 3652 * DAY, NULL, NULL)),
    };
    const size_t n = sizeof e / sizeof e[0];
    assert_int_equal (s_apply (f->st, e, n, NULL, NULL), 0);

    for (int round = 0; round < 2; round++) {
        seen_t seen = { 0 };
        assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 2 * HOUR, NULL, 0,
                                           s_seen_timed, &seen), 0);
        /* the series (and the decade) by start, then singles from T0 - (10 days + 1 h) */
        assert_int_equal (seen.n, 5);
        assert_string_equal (seen.keys[0], "decade");
        assert_string_equal (seen.keys[1], "weekly");
        assert_string_equal (seen.keys[2], "moved");
        assert_string_equal (seen.keys[3], "expo");
        assert_string_equal (seen.keys[4], "talk");
        /* the same by pages of one and of three records */
        for (size_t page = 1; page <= 3; page += 2) {
            seen_t paged;
            s_window_paged (f->st, EL__KIND__EVENT, T0, T0 + 2 * HOUR, page, &paged);
            assert_int_equal (paged.n, seen.n);
            for (size_t i = 0; i < seen.n; i++)
                assert_string_equal (paged.keys[i], seen.keys[i]);
        }
        s_reopen (f);           /* the longest span is kept in meta */
    }

    /* a single event that becomes a series moves to the series, once */
    blob_t mv = s_write_take (&f->a, EL__KIND__EVENT, "later",
                              s_event_full ("later", T0 + 3 * HOUR, HOUR, "FREQ=DAILY", NULL));
    assert_int_equal (s_apply (f->st, &mv, 1, NULL, NULL), 0);
    seen_t seen = { 0 };
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0 + 2 * HOUR, T0 + 4 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 5);
    assert_string_equal (seen.keys[0], "decade");
    assert_string_equal (seen.keys[1], "weekly");
    assert_string_equal (seen.keys[2], "later");
    assert_string_equal (seen.keys[3], "moved");
    assert_string_equal (seen.keys[4], "talk");     /* from T0 + 2 h - (10 days + 1 h) */

    /* cursors of another kind or of no key's length are refused */
    uint8_t bad[1 + 8 + EL_KEY_BYTES + 1] = { EL__KIND__BOOKING };
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 1, bad, sizeof bad,
                                       s_seen_timed, &seen), EL_EINVAL);
    bad[0] = EL__KIND__EVENT;
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 1, bad, 1 + 8,
                                       s_seen_timed, &seen), EL_EINVAL);
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0, NULL, 0, s_seen_timed,
                                       &seen), EL_EINVAL);
    for (size_t i = 0; i < n; i++)
        s_blob_free (&e[i]);
    s_blob_free (&mv);
}

/* Rewrite the closed store in @p dir as schema 1 held it: every entry of
 * @p logs under origin ‖ seq in "entries", no log and no runs. */
static void
s_make_schema_v1 (const char *dir, const uint8_t *const origins[], log_t logs[], size_t n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi log_dbi, runs_dbi, entries, meta;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "log", 0, &log_dbi), 0);
    assert_int_equal (mdb_drop (txn, log_dbi, 1), 0);
    assert_int_equal (mdb_dbi_open (txn, "runs", 0, &runs_dbi), 0);
    assert_int_equal (mdb_drop (txn, runs_dbi, 1), 0);
    assert_int_equal (mdb_dbi_open (txn, "entries", MDB_CREATE, &entries), 0);
    for (size_t o = 0; o < n; o++)
        for (size_t i = 0; i < logs[o].n; i++) {
            uint8_t k[EL_KEY_BYTES + 8];
            memcpy (k, origins[o], EL_KEY_BYTES);
            el_be64_put (k + EL_KEY_BYTES, logs[o].seqs[i]);
            MDB_val key = { sizeof k, k }, val = { logs[o].b[i].len, logs[o].b[i].data };
            assert_int_equal (mdb_put (txn, entries, &key, &val, 0), 0);
        }
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &meta), 0);
    MDB_val key = { 9, "el.schema" }, val = { 4, "\0\0\0\x01" };
    assert_int_equal (mdb_put (txn, meta, &key, &val, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

/* Is there a database @p name in the closed store in @p dir? */
static bool
s_has_db (const char *dir, const char *name)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, MDB_RDONLY, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    int rc = mdb_dbi_open (txn, name, 0, &dbi);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    return rc == 0;
}

/* A schema-1 store (entries keyed origin ‖ seq) opens as schema 2: the same
 * entries, byte for byte, in the log, the old database gone, and the store
 * writable as before. Entries of two origins arrive interleaved (short runs),
 * one is a stub, one a tombstone. */
static void
test_schema_v1_migrates (void **state)
{
    fix_t *f = *state;
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf (key, sizeof key, "ev-%d", i);
        assert_int_equal (s_apply1_take (f->st, s_write_take (&f->a, EL__KIND__EVENT, key,
                                                         s_event (key, "x", T0 + i * HOUR))),
                          EL_APPLIED);
        assert_int_equal (s_apply1_take (f->st, s_write_take (&f->b, EL__KIND__MEMBER, key,
                                                         s_member ("Bob"))),
                          EL_APPLIED);
    }
    blob_t none = { 0 };
    assert_int_equal (s_apply1_take (f->st, s_write (&f->a, EL__KIND__EVENT, "ev-0", none, true)),
                      EL_APPLIED);
    assert_int_equal (el_store_stub (f->st, f->b.kp->pk, 2), 0);
    const uint8_t *origins[2] = { f->a.kp->pk, f->b.kp->pk };
    log_t before[2] = { { 0 } }, after[2] = { { 0 } };
    size_t n;
    for (int o = 0; o < 2; o++)
        assert_int_equal (el_store_entries_after (f->st, origins[o], 0, 64, s_log_entry,
                                                  &before[o], &n), 0);
    assert_int_equal (before[0].n, 4);
    assert_int_equal (before[1].n, 3);
    el_store_destroy (&f->st);

    s_make_schema_v1 (f->dir, origins, before, 2);
    assert_false (s_has_db (f->dir, "log"));
    s_store_open (f);
    for (int o = 0; o < 2; o++) {
        assert_int_equal (el_store_entries_after (f->st, origins[o], 0, 64, s_log_entry,
                                                  &after[o], &n), 0);
        assert_int_equal (after[o].n, before[o].n);
        for (size_t i = 0; i < after[o].n; i++) {
            assert_int_equal (after[o].seqs[i], i + 1);
            assert_int_equal (after[o].b[i].len, before[o].b[i].len);
            assert_memory_equal (after[o].b[i].data, before[o].b[i].data, before[o].b[i].len);
        }
    }
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->b.kp->pk, &stubs), 3);
    assert_int_equal (stubs, 1);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec), 0);
    el_entry_destroy (&rec);
    assert_int_equal (s_apply1_take (f->st, s_write_take (&f->a, EL__KIND__EVENT, "ev-9",
                                                     s_event ("ev-9", "x", T0))),
                      EL_APPLIED);
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 5);
    el_store_destroy (&f->st);
    assert_false (s_has_db (f->dir, "entries"));
    assert_true (s_has_db (f->dir, "log"));
    s_store_open (f);                   /* schema 2 now */
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 5);
    for (int o = 0; o < 2; o++) {
        s_log_free (&before[o]);
        s_log_free (&after[o]);
    }
}

/* Rewrite the closed store in @p dir as schema 2 held it: by_time keyed by
 * kind and start for every timed record, no series flag, no spans. */
static void
s_make_schema_v2 (const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi by_time, state, meta;
    MDB_cursor *cur;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "by_time", 0, &by_time), 0);
    assert_int_equal (mdb_dbi_open (txn, "state", 0, &state), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &meta), 0);
    MDB_val key, val;
    size_t moved = 0;
    assert_int_equal (mdb_cursor_open (txn, by_time, &cur), 0);
    while (mdb_cursor_get (cur, &key, &val, MDB_LAST) == 0     /* series sort last */
           && (((const uint8_t *) key.mv_data)[0] & 0x80)) {
        uint8_t k[512];
        memcpy (k, key.mv_data, key.mv_size);
        k[0] &= 0x7f;
        MDB_val nk = { key.mv_size, k }, empty = { 0, NULL };
        assert_int_equal (mdb_cursor_del (cur, 0), 0);
        assert_int_equal (mdb_put (txn, by_time, &nk, &empty, 0), 0);
        moved++;
    }
    mdb_cursor_close (cur);
    assert_true (moved > 0);
    assert_int_equal (mdb_cursor_open (txn, state, &cur), 0);
    for (int rc = mdb_cursor_get (cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cur, &key, &val, MDB_NEXT)) {
        if (val.mv_size != 17)
            continue;
        uint8_t v[17];
        memcpy (v, val.mv_data, sizeof v);
        v[8] &= (uint8_t) ~0x10;
        MDB_val nv = { sizeof v, v };
        assert_int_equal (mdb_cursor_put (cur, &key, &nv, MDB_CURRENT), 0);
    }
    mdb_cursor_close (cur);
    char name[32];
    snprintf (name, sizeof name, "el.span.%d", EL__KIND__EVENT);
    key = (MDB_val) { strlen (name), name };
    assert_int_equal (mdb_del (txn, meta, &key, NULL), 0);
    key = (MDB_val) { 9, "el.schema" };
    val = (MDB_val) { 4, "\0\0\0\x02" };
    assert_int_equal (mdb_put (txn, meta, &key, &val, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

/* A schema-2 store opens as schema 3: series under their own prefix, the
 * longest span known again, so that a window finds what overlaps it. */
static void
test_schema_v2_migrates (void **state)
{
    fix_t *f = *state;
    s_apply_season (f);
    el_store_destroy (&f->st);
    s_make_schema_v2 (f->dir);
    for (int round = 0; round < 2; round++) {  /* migrated, then as schema 3 */
        s_store_open (f);
        seen_t seen = { 0 };
        assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 2 * HOUR, NULL, 0,
                                           s_seen_timed, &seen), 0);
        assert_int_equal (seen.n, 3);
        assert_string_equal (seen.keys[0], "weekly");
        assert_string_equal (seen.keys[1], "expo");
        assert_string_equal (seen.keys[2], "talk");
        el_store_destroy (&f->st);
    }
    s_store_open (f);
}

static void
test_refuses_foreign_store (void **state)
{
    fix_t *f = *state;
    el_store_destroy (&f->st);

    /* a newer schema */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, f->dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &dbi), 0);
    uint8_t newer[4] = { 0, 0, 0, EL_STORE_SCHEMA + 1 };
    MDB_val key = { 9, "el.schema" }, val = { 4, newer };
    assert_int_equal (mdb_put (txn, dbi, &key, &val, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    el_store_t *st = NULL;
    assert_int_equal (el_store_open (f->dir, &f->cfg, &st), EL_ESTORE);
    assert_null (st);

    /* somebody else's LMDB environment */
    char dir2[64];
    s_tmpdir (dir2);
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_open (env, dir2, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, NULL, 0, &dbi), 0);
    MDB_val k2 = { 5, "hello" }, v2 = { 5, "world" };
    assert_int_equal (mdb_put (txn, dbi, &k2, &v2, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    assert_int_equal (el_store_open (dir2, &f->cfg, &st), EL_ESTORE);
    s_rm_tree (dir2);

    /* not an LMDB file at all */
    s_tmpdir (dir2);
    char path[128];
    snprintf (path, sizeof path, "%s/data.mdb", dir2);
    FILE *fp = fopen (path, "wb");
    assert_non_null (fp);
    for (int i = 0; i < 3000; i++)
        fputs ("not a database ", fp);
    fclose (fp);
    assert_int_equal (el_store_open (dir2, &f->cfg, &st), EL_ESTORE);
    s_rm_tree (dir2);

    /* a missing directory is an errno */
    assert_int_equal (el_store_open ("/nonexistent-el-store-dir/x", &f->cfg, &st), -ENOENT);
}

/* n events of ~1.6 KB each, continuing @p w's log. */
static void
s_fill_batch (writer_t *w, blob_t *batch, size_t n)
{
    char big[1500];
    memset (big, 'f', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf (key, sizeof key, "ev-%llu", (unsigned long long) w->seq + 1);
        El__Event m = EL__EVENT__INIT;
        m.uid = key;
        m.description = big;
        m.dtstart_us = T0 + (int64_t) w->seq * HOUR;
        blob_t p = { .len = el__event__get_packed_size (&m) };
        p.data = malloc (p.len);
        el__event__pack (&m, p.data);
        batch[i] = s_write_take (w, EL__KIND__EVENT, key, p);
    }
}

/* Replace the fixture's store by a new empty one whose map starts at
 * @p initial bytes and may grow to @p max. */
static void
s_store_fresh (fix_t *f, size_t initial, size_t max)
{
    el_store_destroy (&f->st);
    s_rm_tree (f->dir);
    s_tmpdir (f->dir);
    f->cfg.map_bytes_initial = initial;
    f->cfg.map_bytes_max = max;
    s_store_open (f);
}

/* A write that fills the map is retried from scratch once the map grew:
 * the longest span it raised is in meta after the retry's commit too. */
static void
test_span_kept_across_map_growth (void **state)
{
    fix_t *f = *state;
    s_store_fresh (f, 64u << 10, 4u << 20);
    enum { B = 60 };
    blob_t batch[B + 1];
    batch[0] = s_write_take (&f->a, EL__KIND__EVENT, "season",
                             s_event_full ("season", T0 - 30 * 24 * HOUR, 60 * 24 * HOUR, NULL,
                                           NULL));
    s_fill_batch (&f->a, batch + 1, B);     /* ~100 KB: more than the first map */
    assert_int_equal (s_apply (f->st, batch, B + 1, NULL, NULL), 0);
    el_store_stats_t ss;
    el_store_stats (f->st, &ss);
    assert_true (ss.map_grows >= 1);
    for (int round = 0; round < 2; round++) {
        seen_t seen = { 0 };
        assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0 - HOUR, T0, NULL, 0,
                                           s_seen_timed, &seen), 0);
        assert_int_equal (seen.n, 1);
        assert_string_equal (seen.keys[0], "season");
        s_reopen (f);           /* as meta holds it */
    }
    for (size_t i = 0; i <= B; i++)
        s_blob_free (&batch[i]);
}

static void
test_map_full (void **state)
{
    fix_t *f = *state;
    s_store_fresh (f, 64u << 10, 256u << 10);

    enum { B = 8 };
    blob_t batch[B];
    int rc = 0;
    uint64_t committed = 0;
    for (int round = 0; round < 100; round++) {
        s_fill_batch (&f->a, batch, B);
        int status[B];
        rc = s_apply (f->st, batch, B, status, NULL);
        if (rc != 0)
            break;
        for (int i = 0; i < B; i++)
            assert_int_equal (status[i], EL_APPLIED);
        committed += B;
        for (int i = 0; i < B; i++)
            s_blob_free (&batch[i]);
    }
    assert_int_equal (rc, EL_EMAPFULL);
    assert_true (committed > 0);
    el_store_stats_t ss;
    el_store_stats (f->st, &ss);
    assert_true (ss.map_grows >= 1);
    assert_int_equal (ss.map_bytes, 256u << 10);
    /* nothing of the failed batch: not the head, not an entry, not a record */
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), committed);
    uint8_t *d;
    size_t dl;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, committed + 1, &d, &dl),
                      EL_ENOTFOUND);
    char key[32];
    snprintf (key, sizeof key, "ev-%llu", (unsigned long long) committed + 1);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, key, &rec),
                      EL_ENOTFOUND);
    /* still full, still clean */
    assert_int_equal (s_apply (f->st, batch, B, NULL, NULL), EL_EMAPFULL);

    /* reopens with every committed entry, verifiable */
    s_reopen (f);
    size_t stubs;
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), committed);
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), committed);
    seen_t seen = { 0 };
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 3 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 3);

    /* with a larger limit the same batch applies */
    f->cfg.map_bytes_max = 4u << 20;
    s_reopen (f);
    el_apply_stats_t stats;
    assert_int_equal (s_apply (f->st, batch, B, NULL, &stats), 0);
    assert_int_equal (stats.applied, B);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), committed + B);
    for (int i = 0; i < B; i++)
        s_blob_free (&batch[i]);
}

static void
test_attestation (void **state)
{
    fix_t *f = *state;
    f->cfg.require_attestation = true;
    s_reopen (f);

    /* the broker (an accepted network id) needs no attestation */
    blob_t n1 = s_write_take (&f->broker, EL__KIND__EVENT, "net-ev", s_event ("n", "x", T0));
    assert_int_equal (s_apply1 (f->st, n1), EL_APPLIED);

    /* an unattested site is refused */
    blob_t a1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    assert_int_equal (s_apply1 (f->st, a1), EL_ENOTADMITTED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 0);

    /* the site's entries and the broker's Site entry for it, in one batch,
     * the site's first: the authority's entries are applied first */
    char a_text[EL_KEY_TEXT_BYTES], b_text[EL_KEY_TEXT_BYTES];
    el_key_to_text (f->a.kp->pk, a_text);
    el_key_to_text (f->b.kp->pk, b_text);
    blob_t site_a = s_write_take (&f->broker, EL__KIND__SITE, a_text,
                                  s_site (f->a.kp->pk, EL__SITE_STATUS__ACTIVE));
    blob_t a2 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "x", T0));
    blob_t b1 = s_write_take (&f->b, EL__KIND__EVENT, "ev-b", s_event ("ev-b", "x", T0));
    blob_t batch[4] = { a1, a2, b1, site_a };
    int status[4];
    assert_int_equal (s_apply (f->st, batch, 4, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_APPLIED);
    assert_int_equal (status[2], EL_ENOTADMITTED);
    assert_int_equal (status[3], EL_APPLIED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);

    /* an attestation by another (unaccepted) network does not count */
    uint8_t other[EL_KEY_BYTES];
    memset (other, 0x66, sizeof other);
    writer_t b_other = f->b;
    memcpy (b_other.network, other, EL_KEY_BYTES);
    blob_t b_alien = s_write_take (&b_other, EL__KIND__EVENT, "ev-b", s_event ("b", "x", T0));
    assert_int_equal (s_apply1 (f->st, b_alien), EL_ENETWORK);

    /* revocation: the broker's Site entry with status REVOKED */
    blob_t revoke = s_write_take (&f->broker, EL__KIND__SITE, a_text,
                                  s_site (f->a.kp->pk, EL__SITE_STATUS__REVOKED));
    blob_t a3 = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "x", T0));
    blob_t batch2[2] = { a3, revoke };
    assert_int_equal (s_apply (f->st, batch2, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_EREVOKED);
    assert_int_equal (status[1], EL_APPLIED);
    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.status, EL_HEAD_REVOKED);
    assert_int_equal (h.seq, 2);
    s_reopen (f);
    assert_int_equal (s_apply1 (f->st, a3), EL_EREVOKED);

    /* revoking a site never seen before also holds */
    blob_t revoke_b = s_write_take (&f->broker, EL__KIND__SITE, b_text,
                                    s_site (f->b.kp->pk, EL__SITE_STATUS__REVOKED));
    assert_int_equal (s_apply1 (f->st, revoke_b), EL_APPLIED);
    assert_int_equal (el_store_head (f->st, f->b.kp->pk, &h), 0);
    assert_int_equal (h.seq, 0);
    assert_int_equal (h.status, EL_HEAD_REVOKED);
    assert_int_equal (s_apply1 (f->st, b1), EL_EREVOKED);

    /* re-admitted: active again */
    blob_t readmit = s_write_take (&f->broker, EL__KIND__SITE, a_text,
                                   s_site (f->a.kp->pk, EL__SITE_STATUS__ACTIVE));
    assert_int_equal (s_apply1 (f->st, readmit), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, a3), EL_APPLIED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 3);

    seen_t seen = { 0 };
    assert_int_equal (el_store_records (f->st, EL__KIND__SITE, f->net, s_seen_record, &seen), 0);
    assert_int_equal (seen.n, 2);

    blob_t all[] = { n1, a1, site_a, a2, b1, b_alien, revoke, a3, revoke_b, readmit };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free (all[i].data);
}

/* A revocation naming the site's head at revocation: a store that hears of
 * it first (a site that joins later) still takes the site's entries up to
 * that seq and refuses later ones; a store that held them all marks the head
 * revoked, as before. */
static void
test_revocation_keeps_history (void **state)
{
    fix_t *f = *state;
    f->cfg.require_attestation = true;
    s_reopen (f);
    char a_text[EL_KEY_TEXT_BYTES];
    el_key_to_text (f->a.kp->pk, a_text);
    blob_t site_a = s_write_take (&f->broker, EL__KIND__SITE, a_text,
                                  s_site (f->a.kp->pk, EL__SITE_STATUS__ACTIVE));
    blob_t a1 = s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "x", T0));
    blob_t a2 = s_write_take (&f->a, EL__KIND__EVENT, "ev-2", s_event ("ev-2", "x", T0));
    blob_t revoke = s_write_take (&f->broker, EL__KIND__SITE, a_text,
                                  s_site_revoked (f->a.kp->pk, 2));
    blob_t a3 = s_write_take (&f->a, EL__KIND__EVENT, "ev-3", s_event ("ev-3", "x", T0));

    /* the late joiner gets the broker's log first, then the site's */
    assert_int_equal (s_apply1 (f->st, site_a), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, revoke), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, a1), EL_APPLIED);
    s_reopen (f);
    blob_t batch[2] = { a2, a3 };
    int status[2];
    assert_int_equal (s_apply (f->st, batch, 2, status, NULL), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_int_equal (status[1], EL_EREVOKED);
    assert_int_equal (s_head_seq (f->st, f->a.kp->pk), 2);
    assert_int_equal (s_apply1 (f->st, a3), EL_EREVOKED);

    /* a store that held seq 2 when the revocation came marks the head */
    el_store_destroy (&f->st);          /* another, empty store */
    s_rm_tree (f->dir);
    s_tmpdir (f->dir);
    s_reopen (f);
    assert_int_equal (s_apply1 (f->st, site_a), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, a1), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, a2), EL_APPLIED);
    assert_int_equal (s_apply1 (f->st, revoke), EL_APPLIED);
    el_head_t h;
    assert_int_equal (el_store_head (f->st, f->a.kp->pk, &h), 0);
    assert_int_equal (h.status, EL_HEAD_REVOKED);
    assert_int_equal (h.seq, 2);
    assert_int_equal (s_apply1 (f->st, a3), EL_EREVOKED);

    blob_t all[] = { site_a, a1, a2, revoke, a3 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free (all[i].data);
}

static void
test_by_time_window (void **state)
{
    fix_t *f = *state;
    /* written out of time order, by two origins, one before the epoch */
    blob_t e[6] = {
        s_write_take (&f->a, EL__KIND__EVENT, "e-late", s_event ("e-late", "x", T0 + 5 * HOUR)),
        s_write_take (&f->b, EL__KIND__EVENT, "e-mid", s_event ("e-mid", "x", T0 + 2 * HOUR)),
        s_write_take (&f->a, EL__KIND__EVENT, "e-early", s_event ("e-early", "x", T0)),
        s_write_take (&f->b, EL__KIND__EVENT, "e-old", s_event ("e-old", "x", -HOUR)),
        s_write_take (&f->a, EL__KIND__EVENT, "e-out", s_event ("e-out", "x", T0 + 9 * HOUR)),
        s_write_take (&f->b, EL__KIND__BOOKING, "bk", s_booking (T0 + HOUR)),
    };
    assert_int_equal (s_apply (f->st, e, 6, NULL, NULL), 0);

    seen_t seen = { 0 };
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0, T0 + 9 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 3);
    assert_string_equal (seen.keys[0], "e-early");
    assert_string_equal (seen.keys[1], "e-mid");
    assert_string_equal (seen.keys[2], "e-late");
    for (size_t i = 1; i < seen.n; i++)
        assert_true (seen.starts[i - 1] <= seen.starts[i]);

    /* negative times sort before positive ones */
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, INT64_MIN, T0 + 1,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 2);
    assert_string_equal (seen.keys[0], "e-old");
    assert_string_equal (seen.keys[1], "e-early");

    /* moving an event moves its index entry; a tombstone removes it */
    blob_t mv = s_write_take (&f->a, EL__KIND__EVENT, "e-late", s_event ("e-late", "x", T0 - 1));
    blob_t del = s_write (&f->b, EL__KIND__EVENT, "e-mid", s_none, true);
    blob_t batch[2] = { mv, del };
    assert_int_equal (s_apply (f->st, batch, 2, NULL, NULL), 0);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_window (f->st, EL__KIND__EVENT, T0 - HOUR, T0 + 9 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 2);
    assert_string_equal (seen.keys[0], "e-late");
    assert_int_equal (seen.starts[0], T0 - 1);
    assert_string_equal (seen.keys[1], "e-early");

    /* bookings have their own window; other kinds are refused */
    memset (&seen, 0, sizeof seen);
    assert_int_equal (el_store_window (f->st, EL__KIND__BOOKING, T0, T0 + 2 * HOUR,
                                       NULL, 0, s_seen_timed, &seen), 0);
    assert_int_equal (seen.n, 1);
    assert_string_equal (seen.keys[0], "bk");
    assert_int_equal (el_store_window (f->st, EL__KIND__MEMBER, T0, T0 + 1, NULL, 0, s_seen_timed,
                                        &seen), EL_EINVAL);
    for (int i = 0; i < 6; i++)
        s_blob_free (&e[i]);
    s_blob_free (&mv);
    s_blob_free (&del);
}

/* el_store_apply_parsed hands over what it parsed: every entry that parses,
 * NULL for one that does not; the statuses are el_store_apply's. */
static void
test_apply_parsed (void **state)
{
    fix_t *f = *state;
    blob_t e[3] = {
        s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "first", T0)),
        { (uint8_t *) strdup ("not an entry"), 12 },
        s_write (&f->a, EL__KIND__EVENT, "ev-1", s_none, true),
    };
    const uint8_t *ptrs[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        ptrs[i] = e[i].data;
        lens[i] = e[i].len;
    }
    el_entry_t *parsed[3] = { NULL, NULL, NULL };
    int status[3];
    el_apply_stats_t stats;
    assert_int_equal (el_store_apply_parsed (f->st, ptrs, lens, 3, status, &stats, parsed), 0);
    assert_int_equal (status[0], EL_APPLIED);
    assert_true (status[1] < 0);
    assert_int_equal (status[2], EL_APPLIED);
    assert_int_equal (stats.applied, 2);
    assert_int_equal (stats.rejected, 1);
    assert_non_null (parsed[0]);
    assert_null (parsed[1]);
    assert_non_null (parsed[2]);
    assert_int_equal (parsed[0]->seq, 1);
    assert_string_equal (parsed[0]->body->key, "ev-1");
    assert_memory_equal (parsed[0]->raw, e[0].data, e[0].len);
    assert_int_equal (parsed[2]->seq, 2);
    assert_true (parsed[2]->body->deleted);
    for (int i = 0; i < 3; i++) {
        el_entry_destroy (&parsed[i]);
        s_blob_free (&e[i]);
    }
    /* a refused batch leaves the array untouched */
    uint8_t junk = 0;
    const uint8_t *one = &junk;
    size_t one_len = 1;
    parsed[0] = (el_entry_t *) &junk;
    assert_int_equal (el_store_apply_parsed (f->st, &one, &one_len, EL_STORE_APPLY_MAX + 1,
                                             NULL, NULL, parsed),
                      EL_ETOOBIG);
    assert_ptr_equal (parsed[0], (el_entry_t *) &junk);
}

/* Only MEMBER records are listed in history (read raw, store closed); an
 * EVENT tombstone hides the record but keeps its earlier entry whole, a
 * MEMBER tombstone still stubs the record's earlier entries. */
static void
test_history_members_only (void **state)
{
    fix_t *f = *state;
    blob_t e[5] = {
        s_write_take (&f->a, EL__KIND__EVENT, "ev-1", s_event ("ev-1", "Keep-Me-31415", T0)),
        s_write_take (&f->a, EL__KIND__MEMBER, "m-1", s_member ("Erase-Me-27182")),
        s_write_take (&f->a, EL__KIND__EQUIPMENT, "laser", s_none),
        s_write (&f->a, EL__KIND__EVENT, "ev-1", s_none, true),
        s_write (&f->a, EL__KIND__MEMBER, "m-1", s_none, true),
    };
    int status[5];
    assert_int_equal (s_apply (f->st, e, 5, status, NULL), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal (status[i], EL_APPLIED);
    el_entry_t *rec;
    assert_int_equal (el_store_record_get (f->st, EL__KIND__EVENT, f->a.kp->pk, "ev-1", &rec),
                      EL_ENOTFOUND);
    size_t stubs;
    assert_int_equal (s_check_log (f->st, f->a.kp->pk, &stubs), 5);
    assert_int_equal (stubs, 1);                /* the member's entry, not the event's */
    uint8_t *held;
    size_t held_len;
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 1, &held, &held_len), 0);
    assert_non_null (memmem (held, held_len, "Keep-Me-31415", 13));
    free (held);
    assert_int_equal (el_store_entry_get (f->st, f->a.kp->pk, 2, &held, &held_len), 0);
    assert_null (memmem (held, held_len, "Erase-Me-27182", 14));
    free (held);
    el_store_destroy (&f->st);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, f->dir, MDB_RDONLY, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "history", 0, &dbi), 0);
    assert_int_equal (mdb_cursor_open (txn, dbi, &cur), 0);
    MDB_val k, v;
    size_t rows = 0;
    while (mdb_cursor_get (cur, &k, &v, MDB_NEXT) == 0) {
        assert_int_equal (((const uint8_t *) k.mv_data)[0], EL__KIND__MEMBER);
        rows++;
    }
    assert_int_equal (rows, 2);                 /* m-1 seq 2 and its tombstone, seq 5 */
    mdb_cursor_close (cur);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    s_store_open (f);
    for (int i = 0; i < 5; i++)
        s_blob_free (&e[i]);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_apply_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown (test_duplicate_is_noop, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fork_keeps_first, setup, teardown),
        cmocka_unit_test_setup_teardown (test_gap_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown (test_prev_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown (test_wrong_network, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tombstone_hides, setup, teardown),
        cmocka_unit_test_setup_teardown (test_batch_with_bad_entries, setup, teardown),
        cmocka_unit_test_setup_teardown (test_run_flipped_bit, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stub_keeps_chain, setup, teardown),
        cmocka_unit_test_setup_teardown (test_stub_breaks_run, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fork_within_batch, setup, teardown),
        cmocka_unit_test_setup_teardown (test_member_erasure, setup, teardown),
        cmocka_unit_test_setup_teardown (test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown (test_refuses_foreign_store, setup, teardown),
        cmocka_unit_test_setup_teardown (test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown (test_attestation, setup, teardown),
        cmocka_unit_test_setup_teardown (test_revocation_keeps_history, setup, teardown),
        cmocka_unit_test_setup_teardown (test_by_time_window, setup, teardown),
        cmocka_unit_test_setup_teardown (test_apply_parsed, setup, teardown),
        cmocka_unit_test_setup_teardown (test_history_members_only, setup, teardown),
        cmocka_unit_test_setup_teardown (test_future_time, setup, teardown),
        cmocka_unit_test_setup_teardown (test_booking_only_owner, setup, teardown),
        cmocka_unit_test_setup_teardown (test_schema_v1_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown (test_window_series_and_spans, setup, teardown),
        cmocka_unit_test_setup_teardown (test_span_kept_across_map_growth, setup, teardown),
        cmocka_unit_test_setup_teardown (test_schema_v2_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown (test_records_after, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
