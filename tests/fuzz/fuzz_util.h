/* fuzz_util.h — shared parts of the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 *   fz_t        reads structured values from the fuzzer's bytes (as LLVM's
 *               FuzzedDataProvider does); reading past the end yields zeros;
 *   fz_keys     four fixed identities: the network's broker and sites A, B
 *               and S (S is "us" where a target needs a self);
 *   fz_forge    builds an entry from fuzz bytes and SIGNS it with one of
 *               those keys, so a target reaches past the signature checks
 *               the way an admitted but hostile site can;
 *   fz_store    a fresh store per input (no_sync, small map) in a private
 *               temporary directory, holding a fixed base: the broker's Site
 *               entries admitting A, B and S, and A's first entries.
 *
 * Header-only (static functions): each target is one translation unit.
 * Failures of the harness itself (no temp dir, no memory at start-up) abort;
 * an invariant the code under test breaks aborts too, which libFuzzer and
 * the replay driver report as a crash with the input. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "el_entry.h"
#include "el_store.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf (stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                     __LINE__);                                                     \
            abort ();                                                               \
        }                                                                           \
    } while (0)

/* ------------------------------------------------------------ input reader */

typedef struct {
    const uint8_t *p;
    size_t n;
} fz_t;

static inline uint8_t
fz_u8 (fz_t *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t
fz_u16 (fz_t *in)
{
    uint16_t v = fz_u8 (in);
    return (uint16_t) (v | (uint16_t) fz_u8 (in) << 8);
}

static inline uint64_t
fz_u64 (fz_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t) fz_u8 (in) << (8 * i);
    return v;
}

/* Up to @p max bytes, length first (u16). Points into the input. */
static inline const uint8_t *
fz_bytes (fz_t *in, size_t max, size_t *ret_len)
{
    size_t len = fz_u16 (in);
    if (len > max)
        len = max;
    if (len > in->n)
        len = in->n;
    const uint8_t *p = in->p;
    in->p += len;
    in->n -= len;
    *ret_len = len;
    return p;
}

/* Copy of up to @p max bytes as a NUL-terminated string (may hold NULs inside). */
static inline void
fz_text (fz_t *in, size_t max, char *out)
{
    size_t len;
    const uint8_t *p = fz_bytes (in, max, &len);
    memcpy (out, p, len);
    out[len] = '\0';
}

/* ------------------------------------------------------------ identities */

enum { FZ_BROKER = 0, FZ_A = 1, FZ_B = 2, FZ_S = 3, FZ_SIGNERS = 4 };

static el_keypair_t *fz_keys[FZ_SIGNERS];

static inline void
fz_keys_init (void)
{
    if (fz_keys[0])
        return;
    FZ_CHECK (el_crypto_init () == 0);
    static const uint8_t tags[FZ_SIGNERS] = { 0x01, 0x10, 0x11, 0x20 };
    for (int i = 0; i < FZ_SIGNERS; i++) {
        uint8_t seed[32];
        memset (seed, tags[i], sizeof seed);
        FZ_CHECK (el_keypair_from_seed (seed, &fz_keys[i]) == 0);
    }
}

/* ------------------------------------------------------------ entries */

/* Where each signer's log stands, as the harness believes. */
typedef struct {
    uint64_t seq;
    uint8_t hash[EL_HASH_BYTES];
} fz_chain_t;

#define FZ_T0 INT64_C (1767225600000000) /* 2026-01-01T00:00:00Z, µs */

/* Sign @p body_len bytes of EntryBody with @p kp and pack an Entry. */
static inline int
fz_entry_pack (const el_keypair_t *kp, const uint8_t *body, size_t body_len,
               const uint8_t *payload, size_t payload_len, bool stub, uint8_t **ret,
               size_t *ret_len, uint8_t ret_hash[EL_HASH_BYTES])
{
    uint8_t sig[EL_SIG_BYTES];
    crypto_sign_detached (sig, NULL, body, body_len, kp->sk);
    El__Entry e = EL__ENTRY__INIT;
    e.body = (ProtobufCBinaryData) { body_len, (uint8_t *) body };
    e.sig = (ProtobufCBinaryData) { EL_SIG_BYTES, sig };
    e.payload = (ProtobufCBinaryData) { payload_len, (uint8_t *) payload };
    e.stub = stub;
    size_t len = el__entry__get_packed_size (&e);
    uint8_t *out = malloc (len ? len : 1);
    if (!out)
        return -ENOMEM;
    el__entry__pack (&e, out);
    el_entry_hash (sig, EL_SIG_BYTES, body, body_len, ret_hash);
    *ret = out;
    *ret_len = len;
    return 0;
}

/* A well-formed entry of @p signer continuing @p chain (updated). */
static inline int
fz_entry_make (int signer, fz_chain_t *chain, El__Kind kind, const char *key, bool deleted,
               const uint8_t *payload, size_t payload_len, uint8_t **ret, size_t *ret_len)
{
    el_entry_fields_t f = {
        .seq = chain->seq + 1,
        .time_us = FZ_T0 + (int64_t) chain->seq * 1000000,
        .kind = kind,
        .key = key,
        .deleted = deleted,
        .payload = payload,
        .payload_len = payload_len,
    };
    memcpy (f.prev, chain->hash, EL_HASH_BYTES);
    memcpy (f.network, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES);
    uint8_t hash[EL_HASH_BYTES];
    int rc = el_entry_build (fz_keys[signer], &f, ret, ret_len, hash);
    if (rc == 0) {
        chain->seq++;
        memcpy (chain->hash, hash, EL_HASH_BYTES);
    }
    return rc;
}

#define FZ_KEY_MAX     (EL_RECORD_KEY_MAX + 16)
#define FZ_PAYLOAD_MAX 4096

/* Forge one signed entry from the input. Layout:
 *   u8 signer, u8 flags, u8 kind, u8 seq_delta, [u64 seq], [32 prev],
 *   [32 network], u64 time_us, key (u16 len + bytes), payload (u16 len + bytes),
 *   [extra body bytes: u16 len + bytes, appended as unknown fields]
 * flags: 1 seq given, 2 prev given, 4 network given, 8 tombstone, 16 stub,
 *        32 payload_hash wrong, 64 origin of another signer, 128 extra.
 * The chain of the signer moves to the new entry whatever the store will
 * think of it. */
static inline int
fz_forge (fz_t *in, fz_chain_t chains[FZ_SIGNERS], uint8_t **ret, size_t *ret_len)
{
    int signer = fz_u8 (in) % FZ_SIGNERS;
    uint8_t flags = fz_u8 (in);
    El__EntryBody b = EL__ENTRY_BODY__INIT;
    fz_chain_t *c = &chains[signer];
    b.kind = (El__Kind) (fz_u8 (in) % 8);
    uint8_t delta = fz_u8 (in);
    b.seq = c->seq + 1 + (delta < 250 ? 0 : (uint64_t) (delta - 252)); /* -2..+3 */
    if (flags & 1)
        b.seq = fz_u64 (in);
    uint8_t prev[EL_HASH_BYTES], network[EL_KEY_BYTES];
    memcpy (prev, c->hash, EL_HASH_BYTES);
    memcpy (network, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES);
    for (size_t i = 0; (flags & 2) && i < EL_HASH_BYTES; i++)
        prev[i] = fz_u8 (in);
    for (size_t i = 0; (flags & 4) && i < EL_KEY_BYTES; i++)
        network[i] = fz_u8 (in);
    b.time_us = (int64_t) fz_u64 (in);
    char key[FZ_KEY_MAX + 1];
    fz_text (in, FZ_KEY_MAX, key);
    size_t payload_len;
    const uint8_t *payload = fz_bytes (in, FZ_PAYLOAD_MAX, &payload_len);
    int origin = flags & 64 ? (signer + 1) % FZ_SIGNERS : signer;
    b.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[origin]->pk };
    b.prev = (ProtobufCBinaryData) { EL_HASH_BYTES, prev };
    b.network = (ProtobufCBinaryData) { EL_KEY_BYTES, network };
    b.key = key;
    b.deleted = flags & 8;
    uint8_t ph[EL_HASH_BYTES];
    if (!b.deleted || (flags & 32)) {
        crypto_generichash (ph, sizeof ph, payload, payload_len, NULL, 0);
        if (flags & 32)
            ph[0] ^= 1;
        b.payload_hash = (ProtobufCBinaryData) { EL_HASH_BYTES, ph };
    }
    size_t extra_len = 0;
    const uint8_t *extra = (flags & 128) ? fz_bytes (in, 256, &extra_len) : NULL;
    size_t body_len = el__entry_body__get_packed_size (&b);
    uint8_t *body = malloc (body_len + extra_len + 1);
    if (!body)
        return -ENOMEM;
    el__entry_body__pack (&b, body);
    if (extra_len)
        memcpy (body + body_len, extra, extra_len);
    body_len += extra_len;
    bool stub = flags & 16;
    uint8_t hash[EL_HASH_BYTES];
    int rc = fz_entry_pack (fz_keys[signer], body, body_len, stub ? NULL : payload,
                            stub ? 0 : payload_len, stub, ret, ret_len, hash);
    free (body);
    if (rc == 0) {
        c->seq = b.seq;
        memcpy (c->hash, hash, EL_HASH_BYTES);
    }
    return rc;
}

/* ------------------------------------------------------------ records */

static inline uint8_t *
fz_pack (const ProtobufCMessage *m, size_t *ret_len)
{
    size_t len = protobuf_c_message_get_packed_size (m);
    uint8_t *buf = malloc (len ? len : 1);
    FZ_CHECK (buf);
    protobuf_c_message_pack (m, buf);
    *ret_len = len;
    return buf;
}

static inline uint8_t *
fz_site_payload (int site, El__SiteStatus status, size_t *ret_len)
{
    El__Site s = EL__SITE__INIT;
    s.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[site]->pk };
    s.name = (char *) (site == FZ_A ? "Fablab A" : site == FZ_B ? "Tiers-lieu B" : "Site S");
    s.kind = EL__SITE_KIND__PERIPHERAL;
    s.status = status;
    return fz_pack (&s.base, ret_len);
}

/* ------------------------------------------------------------ the base state */

#define FZ_BASE_MAX 16

typedef struct {
    uint8_t *data[FZ_BASE_MAX];
    size_t len[FZ_BASE_MAX];
    size_t n;
    fz_chain_t chains[FZ_SIGNERS];      /* after the base */
} fz_base_t;

static fz_base_t fz_base;

static inline void
fz_base_add (int signer, El__Kind kind, const char *key, const ProtobufCMessage *rec)
{
    size_t plen = 0;
    uint8_t *payload = rec ? fz_pack (rec, &plen) : NULL;
    FZ_CHECK (fz_base.n < FZ_BASE_MAX);
    FZ_CHECK (fz_entry_make (signer, &fz_base.chains[signer], kind, key, !rec, payload, plen,
                             &fz_base.data[fz_base.n], &fz_base.len[fz_base.n])
              == 0);
    fz_base.n++;
    free (payload);
}

/* Broker admits A, B and S; A publishes an equipment (bookable by the network)
 * and an event; S publishes a laser cutter. */
static inline void
fz_base_init (void)
{
    fz_keys_init ();
    if (fz_base.n)
        return;
    for (int s = FZ_A; s < FZ_SIGNERS; s++) {
        size_t len;
        uint8_t *p = fz_site_payload (s, EL__SITE_STATUS__ACTIVE, &len);
        char key[EL_KEY_TEXT_BYTES];
        el_key_to_text (fz_keys[s]->pk, key);
        FZ_CHECK (fz_base.n < FZ_BASE_MAX);
        FZ_CHECK (fz_entry_make (FZ_BROKER, &fz_base.chains[FZ_BROKER], EL__KIND__SITE, key,
                                 false, p, len, &fz_base.data[fz_base.n],
                                 &fz_base.len[fz_base.n])
                  == 0);
        fz_base.n++;
        free (p);
    }
    El__Equipment eq = EL__EQUIPMENT__INIT;
    eq.name = (char *) "Prusa MK4";
    eq.category = (char *) "3d_printer";
    eq.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    eq.bookable_by = EL__SHARING__SHARING_NETWORK;
    fz_base_add (FZ_A, EL__KIND__EQUIPMENT, "prusa-1", &eq.base);
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) "open-day@a";
    ev.summary = (char *) "Open day";
    ev.dtstart_us = FZ_T0 + INT64_C (86400000000);
    ev.dtend_us = ev.dtstart_us + INT64_C (7200000000);
    ev.tzid = (char *) "Europe/Paris";
    ev.rrule = (char *) "FREQ=WEEKLY;COUNT=3";
    fz_base_add (FZ_A, EL__KIND__EVENT, "open-day@a", &ev.base);
    El__Equipment laser = EL__EQUIPMENT__INIT;
    laser.name = (char *) "Trotec";
    laser.category = (char *) "laser_cutter";
    laser.status = EL__EQUIPMENT_STATUS__AVAILABLE;
    laser.bookable_by = EL__SHARING__SHARING_NETWORK;
    laser.required_training = (char *) "laser_cutter";
    fz_base_add (FZ_S, EL__KIND__EQUIPMENT, "laser-1", &laser.base);
}

/* ------------------------------------------------------------ a fresh store */

static char fz_dir[256];

static inline void
fz_rmdir_files (void)
{
    static const char *const files[] = { "data.mdb", "lock.mdb", ".compact/data.mdb",
                                         ".compact/lock.mdb", ".compact" };
    char path[320];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf (path, sizeof path, "%s/%s", fz_dir, files[i]);
        if (remove (path) != 0 && errno != ENOENT)
            FZ_CHECK (!"cannot clean the fuzz store directory");
    }
}

static int
fz_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

/* The whole directory (stores, socket files, what a target left). */
static void
fz_atexit (void)
{
    if (fz_dir[0])
        nftw (fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The store directory: under /dev/shm when there is one (tmpfs: no disk
 * writes per input), else $TMPDIR or /tmp. Removed at exit. */
static inline void
fz_dir_init (void)
{
    if (fz_dir[0])
        return;
    const char *base = access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv ("TMPDIR");
    snprintf (fz_dir, sizeof fz_dir, "%s/el_fuzz.XXXXXX", base && *base ? base : "/tmp");
    FZ_CHECK (mkdtemp (fz_dir));
    atexit (fz_atexit);
}

/* A fresh store holding the base (and nothing else), accepting the broker's
 * network, requiring attestation as the daemons do. */
static inline el_store_t *
fz_store_fresh (void)
{
    fz_base_init ();
    fz_dir_init ();
    fz_rmdir_files ();
    el_store_config_t cfg = {
        .no_sync = true,
        .map_bytes_initial = 1u << 20,
        .map_bytes_max = 64u << 20,
        .require_attestation = true,
    };
    el_store_t *store = NULL;
    FZ_CHECK (el_store_open (fz_dir, &cfg, &store) == 0);
    FZ_CHECK (el_store_accept_network (store, fz_keys[FZ_BROKER]->pk) == 0);
    int status[FZ_BASE_MAX];
    FZ_CHECK (el_store_apply (store, (const uint8_t *const *) fz_base.data, fz_base.len,
                              fz_base.n, status, NULL)
              == 0);
    for (size_t i = 0; i < fz_base.n; i++)
        FZ_CHECK (status[i] == EL_APPLIED);
    return store;
}

/* ------------------------------------------------------------ store invariants */

typedef struct {
    uint64_t next_seq;
    uint8_t prev_hash[EL_HASH_BYTES];
    const uint8_t *origin;
} fz_walk_t;

static int
fz_walk_entry (void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    fz_walk_t *w = arg;
    el_entry_t *e = NULL;
    FZ_CHECK (el_entry_parse (data, len, &e) == 0);     /* stored entries parse */
    FZ_CHECK (seq == w->next_seq && e->seq == seq);     /* no holes */
    FZ_CHECK (memcmp (e->origin, w->origin, EL_KEY_BYTES) == 0);
    FZ_CHECK (memcmp (e->prev, w->prev_hash, EL_HASH_BYTES) == 0); /* chain holds */
    memcpy (w->prev_hash, e->hash, EL_HASH_BYTES);
    w->next_seq++;
    el_entry_destroy (&e);
    return 0;
}

static int
fz_record_ok (void *arg, const el_entry_t *e)
{
    (void) arg;
    FZ_CHECK (e && e->body && !e->is_stub && !e->body->deleted);
    return 0;
}

static int
fz_timed_ok (void *arg, const el_entry_t *e, const uint8_t *cursor, size_t cursor_len)
{
    FZ_CHECK (cursor && cursor_len > 1 + 8 + EL_KEY_BYTES && cursor_len <= EL_STORE_CURSOR_MAX);
    return fz_record_ok (arg, e);
}

/* Every head's log parses, has no hole and chains up to the head's hash;
 * records and time indexes can be read. */
static inline void
fz_store_check (el_store_t *store)
{
    el_head_t *heads = NULL;
    size_t n = 0;
    FZ_CHECK (el_store_heads (store, &heads, &n) == 0);
    for (size_t i = 0; i < n; i++) {
        fz_walk_t w = { .next_seq = 1, .origin = heads[i].origin };
        while (w.next_seq <= heads[i].seq) {
            size_t got = 0;
            FZ_CHECK (el_store_entries_after (store, heads[i].origin, w.next_seq - 1,
                                              EL_STORE_PAGE_MAX, fz_walk_entry, &w, &got)
                      == 0);
            if (!got)
                break;
        }
        FZ_CHECK (w.next_seq == heads[i].seq + 1);
        if (heads[i].seq)
            FZ_CHECK (memcmp (w.prev_hash, heads[i].hash, EL_HASH_BYTES) == 0);
    }
    free (heads);
    for (int k = EL__KIND__SITE; k <= EL__KIND__BOOKING; k++)
        FZ_CHECK (el_store_records (store, (El__Kind) k, NULL, fz_record_ok, NULL) == 0);
    FZ_CHECK (el_store_window (store, EL__KIND__EVENT, INT64_MIN, INT64_MAX, NULL, 0,
                               fz_timed_ok, NULL)
              == 0);
    FZ_CHECK (el_store_window (store, EL__KIND__BOOKING, INT64_MIN, INT64_MAX, NULL, 0,
                               fz_timed_ok, NULL)
              == 0);
}

#endif
