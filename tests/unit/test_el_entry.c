/* test_el_entry.c — keys, signed entries, hashes, caps, golden vectors. */
#include <errno.h>
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
#include <sodium.h>

#include "el_entry.h"

static el_keypair_t *
s_key (uint8_t fill)
{
    uint8_t seed[32];
    memset (seed, fill, sizeof seed);
    el_keypair_t *kp = NULL;
    assert_int_equal (el_keypair_from_seed (seed, &kp), 0);
    return kp;
}

static void
s_build (const el_keypair_t *kp, uint64_t seq, const char *key, const char *payload,
         uint8_t **data, size_t *len)
{
    el_entry_fields_t f = { .seq = seq, .time_us = 1767225600000000LL,
                            .kind = EL__KIND__EVENT, .key = key,
                            .payload = (const uint8_t *) payload,
                            .payload_len = payload ? strlen (payload) : 0 };
    memset (f.network, 0x42, sizeof f.network);
    assert_int_equal (el_entry_build (kp, &f, data, len, NULL), 0);
}

static void
test_sign_verify_roundtrip (void **state)
{
    (void) state;
    el_keypair_t *kp = s_key (1);
    uint8_t *data;
    size_t len;
    uint8_t want_hash[EL_HASH_BYTES];
    el_entry_fields_t f = { .seq = 7, .kind = EL__KIND__MEMBER, .key = "m-1",
                            .payload = (const uint8_t *) "hello", .payload_len = 5 };
    memset (f.prev, 9, sizeof f.prev);
    memset (f.network, 3, sizeof f.network);
    assert_int_equal (el_entry_build (kp, &f, &data, &len, want_hash), 0);

    el_entry_t *e = NULL;
    assert_int_equal (el_entry_parse (data, len, &e), 0);
    assert_int_equal (el_entry_verify (e), 0);
    assert_false (e->is_stub);
    assert_int_equal (e->seq, 7);
    assert_memory_equal (e->origin, kp->pk, EL_KEY_BYTES);
    assert_memory_equal (e->prev, f.prev, EL_HASH_BYTES);
    assert_memory_equal (e->network, f.network, EL_KEY_BYTES);
    assert_memory_equal (e->hash, want_hash, EL_HASH_BYTES);
    assert_string_equal (e->body->key, "m-1");
    assert_int_equal (e->body->kind, EL__KIND__MEMBER);
    assert_int_equal (e->payload_len, 5);
    assert_memory_equal (e->payload, "hello", 5);
    assert_int_equal (e->raw_len, len);
    assert_memory_equal (e->raw, data, len);

    /* the hash is BLAKE2b-256 of signature then body, computed here from
     * the bytes as they sit in the packed entry (tests/vectors checks the
     * same without libsodium) */
    uint8_t h[EL_HASH_BYTES];
    size_t sl = e->pb->sig.len, bl = e->pb->body.len;
    assert_int_equal (sl, EL_SIG_BYTES);
    uint8_t *cat = malloc (sl + bl);
    assert_non_null (cat);
    memcpy (cat, e->pb->sig.data, sl);
    memcpy (cat + sl, e->pb->body.data, bl);
    assert_int_equal (crypto_generichash (h, sizeof h, cat, sl + bl, NULL, 0), 0);
    free (cat);
    assert_memory_equal (h, want_hash, EL_HASH_BYTES);
    assert_int_equal (crypto_sign_verify_detached (e->pb->sig.data, e->pb->body.data, bl, kp->pk),
                      0);

    /* a stub keeps body and signature: origin, seq, prev, hash all check */
    uint8_t *stub;
    size_t stub_len;
    assert_int_equal (el_entry_stub_pack (e, &stub, &stub_len), 0);
    el_entry_t *s = NULL;
    assert_int_equal (el_entry_parse (stub, stub_len, &s), 0);
    assert_true (s->is_stub);
    assert_int_equal (s->seq, 7);
    assert_memory_equal (s->hash, want_hash, EL_HASH_BYTES);
    assert_memory_equal (s->origin, kp->pk, EL_KEY_BYTES);
    assert_memory_equal (s->prev, f.prev, EL_HASH_BYTES);
    assert_null (s->payload);
    assert_null (memmem (stub, stub_len, "hello", 5));
    assert_int_equal (el_entry_verify (s), 0);
    el_entry_destroy (&s);
    free (stub);

    el_entry_destroy (&e);
    el_entry_destroy (&e);      /* twice is harmless */
    free (data);
    el_keypair_destroy (&kp);
    el_keypair_destroy (&kp);
}

static void
test_every_flipped_bit_rejected (void **state)
{
    (void) state;
    el_keypair_t *kp = s_key (2);
    uint8_t *data;
    size_t len;
    s_build (kp, 1, "ev-1", "Initiation impression 3D", &data, &len);
    el_entry_t *e = NULL;
    assert_int_equal (el_entry_parse (data, len, &e), 0);
    uint8_t orig_hash[EL_HASH_BYTES];
    memcpy (orig_hash, e->hash, sizeof orig_hash);
    el_entry_destroy (&e);

    /* one flipped bit anywhere in the body or the signature: refused */
    for (size_t bit = 0; bit < len * 8; bit++) {
        data[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        el_entry_t *x = NULL;
        int rc = el_entry_parse (data, len, &x);
        if (rc == 0)
            rc = el_entry_verify (x);
        /* the one change that still verifies is the entry's own stub (its
         * payload dropped, e.g. the payload's tag turned into the stub flag):
         * same signed body, same hash, no payload */
        bool own_stub = rc == 0 && x->is_stub && !x->payload
                        && memcmp (x->hash, orig_hash, EL_HASH_BYTES) == 0;
        el_entry_destroy (&x);
        if (rc == 0 && !own_stub)
            fail_msg ("bit %zu flipped still parses and verifies", bit);
        data[bit / 8] ^= (uint8_t) (1u << (bit % 8));
    }
    el_entry_t *again = NULL;
    assert_int_equal (el_entry_parse (data, len, &again), 0);
    assert_int_equal (el_entry_verify (again), 0);
    assert_memory_equal (again->hash, orig_hash, EL_HASH_BYTES);
    el_entry_destroy (&again);
    free (data);
    el_keypair_destroy (&kp);
}

static void
test_payload_bound_by_hash (void **state)
{
    (void) state;
    el_keypair_t *kp = s_key (4);
    uint8_t *data;
    size_t len;
    s_build (kp, 1, "m-7", "Jeanne Coutelier", &data, &len);
    el_entry_t *e = NULL;

    /* a relay that edits the payload is caught: it no longer matches its signed hash */
    uint8_t *p = memmem (data, len, "Jeanne", 6);
    assert_non_null (p);
    p[0] = 'J' ^ 0x20;
    assert_int_equal (el_entry_parse (data, len, &e), EL_EBADSIG);
    p[0] = 'J';

    /* a stub flag with the payload still present is malformed */
    assert_int_equal (el_entry_parse (data, len, &e), 0);
    El__Entry bad = *e->pb;
    bad.stub = true;
    uint8_t out[1024];
    size_t olen = el__entry__pack (&bad, out);
    el_entry_t *x = NULL;
    assert_int_equal (el_entry_parse (out, olen, &x), EL_EPROTO);

    /* a tombstone's stub is the tombstone itself (nothing to remove) */
    el_entry_fields_t f = { .seq = 2, .kind = EL__KIND__MEMBER, .key = "m-7", .deleted = true };
    uint8_t *tdata;
    size_t tlen;
    assert_int_equal (el_entry_build (kp, &f, &tdata, &tlen, NULL), 0);
    el_entry_t *t = NULL;
    assert_int_equal (el_entry_parse (tdata, tlen, &t), 0);
    uint8_t *sdata;
    size_t slen;
    assert_int_equal (el_entry_stub_pack (t, &sdata, &slen), 0);
    assert_int_equal (slen, tlen);
    assert_memory_equal (sdata, tdata, tlen);
    free (sdata);
    el_entry_destroy (&t);
    free (tdata);
    el_entry_destroy (&e);
    free (data);
    el_keypair_destroy (&kp);
}

static void
test_caps_and_malformed (void **state)
{
    (void) state;
    el_keypair_t *kp = s_key (3);
    uint8_t *data;
    size_t len;
    el_entry_t *e = NULL;

    /* payload over its cap is refused at build */
    size_t big = EL_PAYLOAD_MAX + 1;
    uint8_t *payload = calloc (1, big);
    assert_non_null (payload);
    el_entry_fields_t f = { .seq = 1, .kind = EL__KIND__EVENT, .key = "k",
                            .payload = payload, .payload_len = big };
    assert_int_equal (el_entry_build (kp, &f, &data, &len, NULL), EL_ETOOBIG);
    free (payload);

    /* invalid keys and seq 0 */
    f = (el_entry_fields_t) { .seq = 0, .kind = EL__KIND__EVENT, .key = "k" };
    assert_int_equal (el_entry_build (kp, &f, &data, &len, NULL), EL_EINVAL);
    f = (el_entry_fields_t) { .seq = 1, .kind = EL__KIND__EVENT, .key = "" };
    assert_int_equal (el_entry_build (kp, &f, &data, &len, NULL), EL_EINVAL);
    f = (el_entry_fields_t) { .seq = 1, .kind = EL__KIND__EVENT, .key = "a\nb" };
    assert_int_equal (el_entry_build (kp, &f, &data, &len, NULL), EL_EINVAL);
    char longkey[EL_RECORD_KEY_MAX + 2];
    memset (longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    f = (el_entry_fields_t) { .seq = 1, .kind = EL__KIND__EVENT, .key = longkey };
    assert_int_equal (el_entry_build (kp, &f, &data, &len, NULL), EL_EINVAL);

    /* oversized and garbage input never unpacks */
    uint8_t *huge = calloc (1, EL_ENTRY_MAX + 1);
    assert_int_equal (el_entry_parse (huge, EL_ENTRY_MAX + 1, &e), EL_ETOOBIG);
    free (huge);
    assert_int_equal (el_entry_parse ((const uint8_t *) "", 0, &e), EL_EPROTO);
    const uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3 };
    assert_int_equal (el_entry_parse (garbage, sizeof garbage, &e), EL_EPROTO);
    assert_null (e);

    /* a body with a short origin is malformed even with a valid signature */
    El__EntryBody b = EL__ENTRY_BODY__INIT;
    uint8_t z[32] = { 0 };
    b.origin.data = kp->pk;
    b.origin.len = 31;
    b.seq = 1;
    b.prev.data = z;
    b.prev.len = 32;
    b.network.data = z;
    b.network.len = 32;
    b.kind = EL__KIND__EVENT;
    b.key = "k";
    uint8_t body[256], sig[64], out[512];
    size_t blen = el__entry_body__pack (&b, body);
    crypto_sign_detached (sig, NULL, body, blen, kp->sk);
    El__Entry en = EL__ENTRY__INIT;
    en.body.data = body;
    en.body.len = blen;
    en.sig.data = sig;
    en.sig.len = 64;
    size_t olen = el__entry__pack (&en, out);
    assert_int_equal (el_entry_parse (out, olen, &e), EL_EPROTO);
    el_keypair_destroy (&kp);
}

static void
test_key_files_and_text (void **state)
{
    (void) state;
    char dir[] = "/tmp/el-entry-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path[256], pub[256];
    snprintf (path, sizeof path, "%s/site.key", dir);
    snprintf (pub, sizeof pub, "%s/site.key.pub", dir);

    el_keypair_t *kp = NULL, *back = NULL;
    assert_int_equal (el_keypair_generate (&kp), 0);
    assert_int_equal (el_keypair_save (kp, path, false), 0);
    assert_int_equal (el_keypair_save (kp, path, false), -EEXIST);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);

    assert_int_equal (el_keypair_load (path, &back), 0);
    assert_memory_equal (back->pk, kp->pk, EL_KEY_BYTES);
    assert_memory_equal (back->sk, kp->sk, EL_SECRET_BYTES);
    el_keypair_destroy (&back);

    /* resolve from text, .pub file and secret file */
    uint8_t k[EL_KEY_BYTES];
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (kp->pk, text);
    assert_int_equal (strlen (text), 43);
    assert_int_equal (el_key_resolve (text, k), 0);
    assert_memory_equal (k, kp->pk, EL_KEY_BYTES);
    memset (k, 0, sizeof k);
    assert_int_equal (el_key_resolve (pub, k), 0);
    assert_memory_equal (k, kp->pk, EL_KEY_BYTES);
    memset (k, 0, sizeof k);
    assert_int_equal (el_key_resolve (path, k), 0);
    assert_memory_equal (k, kp->pk, EL_KEY_BYTES);
    assert_int_equal (el_key_from_text ("not-a-key", k), EL_EKEYFORMAT);
    assert_int_equal (el_key_from_text ("", k), EL_EKEYFORMAT);
    text[10] = '*';
    assert_int_equal (el_key_from_text (text, k), EL_EKEYFORMAT);

    /* refused when readable by others, as ssh does */
    assert_int_equal (chmod (path, 0644), 0);
    assert_int_equal (el_keypair_load (path, &back), EL_EKEYPERM);
    assert_null (back);
    assert_int_equal (chmod (path, 0600), 0);

    /* a corrupted file is refused, not used */
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs ("entrelab-secret-v1 AAAA\n", fp);
    fclose (fp);
    assert_int_equal (el_keypair_load (path, &back), EL_EKEYFORMAT);

    /* CURVE keys derive from the identity */
    char cpub[EL_Z85_BYTES], csec[EL_Z85_BYTES], cpub2[EL_Z85_BYTES];
    assert_int_equal (el_keypair_curve_z85 (kp, cpub, csec), 0);
    assert_int_equal (strlen (cpub), 40);
    assert_int_equal (el_key_curve_z85 (kp->pk, cpub2), 0);
    assert_string_equal (cpub, cpub2);

    el_keypair_destroy (&kp);
    unlink (path);
    unlink (pub);
    rmdir (dir);
}

/* ------------------------------------------------------------ golden vectors */

static void
s_hex (FILE *fp, const char *name, const uint8_t *p, size_t n)
{
    fprintf (fp, "%s ", name);
    for (size_t i = 0; i < n; i++)
        fprintf (fp, "%02x", p[i]);
    fputc ('\n', fp);
}

/* The vectors: fixed seeds and fields; Ed25519 is deterministic, so the bytes
 * are too. Compared with tests/vectors/entries.txt by the test; written there
 * only by `test_el_entry --write-vectors FILE`, never by a test run. */
static char *
s_vectors_text (size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream (&buf, &len);
    assert_non_null (fp);
    fprintf (fp, "# entrelab golden vectors v1: Entry bytes = el.Entry (proto/entrelab.proto)\n"
                 "# seed: Ed25519 seed (crypto_sign_seed_keypair); hash = BLAKE2b-256(sig || body)\n");
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    uint8_t network[EL_KEY_BYTES];
    memset (network, 0xb0, sizeof network);
    const struct { uint8_t seed; const char *key; const char *payload; bool deleted; } v[] = {
        { 0x01, "atelier-tour", "Tour conventionnel Cazeneuve, atelier central", false },
        { 0x01, "atelier-tour", "Tour conventionnel — maintenance prévue 🛠", false },
        { 0x01, "atelier-tour", NULL, true },
        { 0x02, "cao-2027-01", "Formation CAO", false },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t seed[32];
        memset (seed, v[i].seed, sizeof seed);
        el_keypair_t *kp = NULL;
        assert_int_equal (el_keypair_from_seed (seed, &kp), 0);
        uint64_t seq = v[i].seed == 1 ? i + 1 : 1;
        if (seq == 1)
            memset (prev, 0, sizeof prev);
        el_entry_fields_t f = { .seq = seq, .time_us = 1798761600000000LL + (int64_t) i,
                                .kind = EL__KIND__EQUIPMENT, .key = v[i].key,
                                .deleted = v[i].deleted,
                                .payload = (const uint8_t *) v[i].payload,
                                .payload_len = v[i].payload ? strlen (v[i].payload) : 0 };
        memcpy (f.prev, prev, sizeof prev);
        memcpy (f.network, network, sizeof network);
        uint8_t *data, hash[EL_HASH_BYTES];
        size_t len;
        assert_int_equal (el_entry_build (kp, &f, &data, &len, hash), 0);
        fprintf (fp, "\nvector %zu\n", i + 1);
        s_hex (fp, "seed", seed, 32);
        s_hex (fp, "origin", kp->pk, 32);
        fprintf (fp, "seq %llu\n", (unsigned long long) seq);
        s_hex (fp, "prev", prev, 32);
        s_hex (fp, "network", network, 32);
        fprintf (fp, "time_us %lld\nkind EQUIPMENT\nkey %s\ndeleted %s\n",
                 (long long) f.time_us, v[i].key, v[i].deleted ? "true" : "false");
        s_hex (fp, "payload", f.payload, f.payload_len);
        s_hex (fp, "entry", data, len);
        s_hex (fp, "hash", hash, sizeof hash);
        memcpy (prev, hash, sizeof prev);
        free (data);
        el_keypair_destroy (&kp);
    }
    fclose (fp);
    *ret_len = len;
    return buf;
}

static void
test_golden_vectors (void **state)
{
    (void) state;
    size_t len;
    char *text = s_vectors_text (&len);
    const char *path = EL_SOURCE_DIR "/tests/vectors/entries.txt";
    FILE *fp = fopen (path, "r");
    assert_non_null (fp);
    char *want = calloc (1, len + 2);
    size_t got = fread (want, 1, len + 1, fp);
    fclose (fp);
    assert_int_equal (got, len);
    assert_memory_equal (want, text, len);

    /* and every vector's entry parses, verifies and hashes as written */
    char *line = strtok (want, "\n");
    uint8_t hash[EL_HASH_BYTES];
    el_entry_t *e = NULL;
    int checked = 0;
    for (; line; line = strtok (NULL, "\n")) {
        if (strncmp (line, "entry ", 6) == 0) {
            size_t hl = strlen (line + 6) / 2, bl;
            uint8_t *bin = malloc (hl);
            assert_int_equal (sodium_hex2bin (bin, hl, line + 6, hl * 2, NULL, &bl, NULL), 0);
            assert_int_equal (el_entry_parse (bin, bl, &e), 0);
            assert_int_equal (el_entry_verify (e), 0);
            free (bin);
        } else if (strncmp (line, "hash ", 5) == 0) {
            assert_non_null (e);
            assert_int_equal (sodium_hex2bin (hash, 32, line + 5, 64, NULL, NULL, NULL), 0);
            assert_memory_equal (e->hash, hash, 32);
            el_entry_destroy (&e);
            checked++;
        }
    }
    assert_int_equal (checked, 4);
    free (want);
    free (text);
}

static void
test_strerror (void **state)
{
    (void) state;
    for (int c = EL_EBASE - 1; c > EL_ELAST; c--) {
        assert_string_not_equal (el_strerror (c), "unknown error");
        assert_string_not_equal (el_strcode (c), "unknown");
    }
    assert_string_equal (el_strerror (0), "success");
    assert_string_equal (el_strerror (-ENOENT), strerror (ENOENT));
}

/* `--write-vectors FILE`: the vectors' text to FILE, and no test run. */
static int
s_write_vectors (const char *path)
{
    size_t len;
    char *text = s_vectors_text (&len);
    FILE *fp = fopen (path, "w");
    int rc = fp && fwrite (text, 1, len, fp) == len ? 0 : 1;
    if (fp && fclose (fp) != 0)
        rc = 1;
    free (text);
    if (rc)
        fprintf (stderr, "test_el_entry: cannot write %s\n", path);
    else
        printf ("test_el_entry: vectors written to %s\n", path);
    return rc;
}

int
main (int argc, char **argv)
{
    assert_int_equal (el_crypto_init (), 0);
    if (argc == 3 && !strcmp (argv[1], "--write-vectors"))
        return s_write_vectors (argv[2]);
    if (argc != 1) {
        fprintf (stderr, "usage: test_el_entry [--write-vectors FILE]\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sign_verify_roundtrip),
        cmocka_unit_test (test_every_flipped_bit_rejected),
        cmocka_unit_test (test_payload_bound_by_hash),
        cmocka_unit_test (test_caps_and_malformed),
        cmocka_unit_test (test_key_files_and_text),
        cmocka_unit_test (test_golden_vectors),
        cmocka_unit_test (test_strerror),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
