/* el_entry.c — site keys, signed entries, hashes (see el_entry.h). */
#include "el_entry.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_SECRET_TAG "entrelab-secret-v1 "
#define S_KEYFILE_MAX 512       /* bytes read from a key file */

static void *
s_pb_alloc (void *data, size_t size)
{
    (void) data;
    return malloc (size);
}

static void
s_pb_free (void *data, void *ptr)
{
    (void) data;
    free (ptr);
}

ProtobufCAllocator el_pb_allocator = { s_pb_alloc, s_pb_free, NULL };

int
el_crypto_init (void)
{
    return sodium_init () < 0 ? -EIO : 0;
}

int64_t
el_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
el_clock_wall (void *arg)
{
    (void) arg;
    return el_now_us ();
}

/* ------------------------------------------------------------ keys */

static int
s_keypair_alloc (el_keypair_t **ret)
{
    el_keypair_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->sk = sodium_malloc (EL_SECRET_BYTES);
    if (!self->sk) {
        free (self);
        return -ENOMEM;
    }
    *ret = self;
    return 0;
}

int
el_keypair_generate (el_keypair_t **ret)
{
    el_keypair_t *self;
    int rc = s_keypair_alloc (&self);
    if (rc < 0)
        return rc;
    crypto_sign_keypair (self->pk, self->sk);
    *ret = self;
    return 0;
}

int
el_keypair_from_seed (const uint8_t seed[32], el_keypair_t **ret)
{
    el_keypair_t *self;
    int rc = s_keypair_alloc (&self);
    if (rc < 0)
        return rc;
    crypto_sign_seed_keypair (self->pk, self->sk, seed);
    *ret = self;
    return 0;
}

void
el_keypair_destroy (el_keypair_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_keypair_t *self = *self_p;
    sodium_free (self->sk);     /* wipes before freeing */
    sodium_memzero (self, sizeof *self);
    free (self);
    *self_p = NULL;
}

void
el_key_to_text (const uint8_t key[EL_KEY_BYTES], char out[EL_KEY_TEXT_BYTES])
{
    sodium_bin2base64 (out, EL_KEY_TEXT_BYTES, key, EL_KEY_BYTES,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int
s_b64_decode (const char *text, uint8_t *out, size_t want)
{
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin (out, want, text, strlen (text), " \t\r\n=", &len, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return EL_EKEYFORMAT;
    if (len != want)
        return EL_EKEYFORMAT;
    /* only whitespace or padding may follow */
    for (; end && *end; end++)
        if (!strchr (" \t\r\n=", *end))
            return EL_EKEYFORMAT;
    return 0;
}

int
el_key_from_text (const char *text, uint8_t key[EL_KEY_BYTES])
{
    uint8_t tmp[EL_KEY_BYTES];
    if (!text || strlen (text) > 128)
        return EL_EKEYFORMAT;
    int rc = s_b64_decode (text, tmp, sizeof tmp);
    if (rc == 0)
        memcpy (key, tmp, EL_KEY_BYTES);
    return rc;
}

int
el_key_from_field (const ProtobufCBinaryData *field, uint8_t key[EL_KEY_BYTES])
{
    if (field->len != EL_KEY_BYTES)
        return EL_EINVAL;
    memcpy (key, field->data, EL_KEY_BYTES);
    return 0;
}

/* Read at most S_KEYFILE_MAX bytes of @p path into @p buf (NUL-terminated). */
static int
s_read_small (int fd, char *buf, size_t size)
{
    size_t got = 0;
    while (got < size - 1) {
        ssize_t n = read (fd, buf + got, size - 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t) n;
    }
    buf[got] = 0;
    if (memchr (buf, 0, got))
        return EL_EKEYFORMAT;
    return 0;
}

int
el_keypair_load (const char *path, el_keypair_t **ret)
{
    int rc;
    char buf[S_KEYFILE_MAX];
    el_keypair_t *self = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    struct stat st;
    if (fstat (fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    if (!S_ISREG (st.st_mode)) {
        rc = EL_EKEYFORMAT;
        goto out_close;
    }
    if (st.st_mode & 077) {
        rc = EL_EKEYPERM;
        goto out_close;
    }
    rc = s_read_small (fd, buf, sizeof buf);
    if (rc < 0)
        goto out_close;
    if (strncmp (buf, S_SECRET_TAG, strlen (S_SECRET_TAG)) != 0) {
        rc = EL_EKEYFORMAT;
        goto out_wipe;
    }
    rc = s_keypair_alloc (&self);
    if (rc < 0)
        goto out_wipe;
    rc = s_b64_decode (buf + strlen (S_SECRET_TAG), self->sk, EL_SECRET_BYTES);
    if (rc < 0)
        goto out_free;
    /* the public key is the second half of libsodium's secret key; check it
     * matches the seed so a corrupted file is not silently used */
    uint8_t pk[EL_KEY_BYTES], seed[32];
    crypto_sign_ed25519_sk_to_seed (seed, self->sk);
    uint8_t *sk2 = sodium_malloc (EL_SECRET_BYTES);
    if (!sk2) {
        rc = -ENOMEM;
        goto out_free;
    }
    crypto_sign_seed_keypair (pk, sk2, seed);
    sodium_memzero (seed, sizeof seed);
    bool same = sodium_memcmp (sk2, self->sk, EL_SECRET_BYTES) == 0;
    sodium_free (sk2);
    if (!same) {
        rc = EL_EKEYFORMAT;
        goto out_free;
    }
    memcpy (self->pk, pk, EL_KEY_BYTES);
    *ret = self;
    self = NULL;
    rc = 0;
out_free:
    el_keypair_destroy (&self);
out_wipe:
    sodium_memzero (buf, sizeof buf);
out_close:
    close (fd);
out:
    return rc;
}

static int
s_write_all (int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write (fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

static int
s_write_file (const char *path, const char *data, size_t len, mode_t mode, bool overwrite)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (overwrite ? O_TRUNC : O_EXCL);
    int fd = open (path, flags, mode);
    if (fd < 0)
        return -errno;
    int rc = fchmod (fd, mode) < 0 ? -errno : 0;
    if (rc == 0)
        rc = s_write_all (fd, data, len);
    if (rc == 0 && fsync (fd) < 0)
        rc = -errno;
    if (close (fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int
el_keypair_save (const el_keypair_t *self, const char *path, bool overwrite)
{
    int rc = -ENOMEM;
    size_t plen = strlen (path);
    char *pub_path = malloc (plen + 5);
    if (!pub_path)
        goto out;
    memcpy (pub_path, path, plen);
    memcpy (pub_path + plen, ".pub", 5);

    char line[S_KEYFILE_MAX];
    size_t tag = strlen (S_SECRET_TAG);
    memcpy (line, S_SECRET_TAG, tag);
    sodium_bin2base64 (line + tag, sizeof line - tag - 1, self->sk, EL_SECRET_BYTES,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t len = strlen (line);
    line[len++] = '\n';
    rc = s_write_file (path, line, len, 0600, overwrite);
    sodium_memzero (line, sizeof line);
    if (rc < 0)
        goto out_free;

    char text[EL_KEY_TEXT_BYTES + 1];
    el_key_to_text (self->pk, text);
    len = strlen (text);
    text[len++] = '\n';
    rc = s_write_file (pub_path, text, len, 0644, true);
out_free:
    free (pub_path);
out:
    return rc;
}

int
el_key_resolve (const char *text_or_path, uint8_t key[EL_KEY_BYTES])
{
    if (!text_or_path)
        return EL_EKEYFORMAT;
    if (el_key_from_text (text_or_path, key) == 0)
        return 0;
    int fd = open (text_or_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? EL_EKEYFORMAT : -errno;
    char buf[S_KEYFILE_MAX];
    int rc = s_read_small (fd, buf, sizeof buf);
    close (fd);
    if (rc < 0)
        return rc;
    if (strncmp (buf, S_SECRET_TAG, strlen (S_SECRET_TAG)) == 0) {
        uint8_t sk[EL_SECRET_BYTES];
        rc = s_b64_decode (buf + strlen (S_SECRET_TAG), sk, sizeof sk);
        if (rc == 0)
            crypto_sign_ed25519_sk_to_pk (key, sk);
        sodium_memzero (sk, sizeof sk);
        sodium_memzero (buf, sizeof buf);
        return rc;
    }
    return el_key_from_text (buf, key);
}

int
el_key_curve (const uint8_t pk[EL_KEY_BYTES], uint8_t curve_pk[32])
{
    return crypto_sign_ed25519_pk_to_curve25519 (curve_pk, pk) == 0 ? 0 : EL_EKEYFORMAT;
}

int
el_key_curve_z85 (const uint8_t pk[EL_KEY_BYTES], char public_z85[EL_Z85_BYTES])
{
    uint8_t curve[32];
    if (el_key_curve (pk, curve) < 0)
        return EL_EKEYFORMAT;
    return zmq_z85_encode (public_z85, curve, 32) ? 0 : EL_EKEYFORMAT;
}

int
el_keypair_curve_z85 (const el_keypair_t *self, char public_z85[EL_Z85_BYTES],
                      char secret_z85[EL_Z85_BYTES])
{
    uint8_t curve_sk[32];
    int rc = el_key_curve_z85 (self->pk, public_z85);
    if (rc < 0)
        return rc;
    if (crypto_sign_ed25519_sk_to_curve25519 (curve_sk, self->sk) != 0)
        return EL_EKEYFORMAT;
    rc = zmq_z85_encode (secret_z85, curve_sk, 32) ? 0 : EL_EKEYFORMAT;
    sodium_memzero (curve_sk, sizeof curve_sk);
    return rc;
}

/* ------------------------------------------------------------ entries */

void
el_entry_hash (const uint8_t *sig, size_t sig_len, const uint8_t *body, size_t body_len,
               uint8_t out[EL_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, EL_HASH_BYTES);
    crypto_generichash_update (&st, sig, sig_len);
    crypto_generichash_update (&st, body, body_len);
    crypto_generichash_final (&st, out, EL_HASH_BYTES);
}

static bool
s_key_is_valid (const char *key, size_t len)
{
    if (len == 0 || len > EL_RECORD_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) key[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

int
el_entry_build (const el_keypair_t *kp, const el_entry_fields_t *f, uint8_t **ret_data,
                size_t *ret_len, uint8_t ret_hash[EL_HASH_BYTES])
{
    int rc = EL_EINVAL;
    uint8_t *body = NULL, *out = NULL;
    if (!f->key || f->seq == 0 || f->kind == EL__KIND__KIND_UNSPECIFIED)
        goto out;
    if (!s_key_is_valid (f->key, strlen (f->key)))
        goto out;
    if (f->deleted && f->payload_len) 
        goto out;
    rc = EL_ETOOBIG;
    if (f->payload_len > EL_PAYLOAD_MAX)
        goto out;

    uint8_t payload_hash[EL_HASH_BYTES];
    if (!f->deleted)
        crypto_generichash (payload_hash, sizeof payload_hash, f->payload, f->payload_len,
                            NULL, 0);
    El__EntryBody b = EL__ENTRY_BODY__INIT;
    b.origin.data = (uint8_t *) kp->pk;
    b.origin.len = EL_KEY_BYTES;
    b.seq = f->seq;
    b.prev.data = (uint8_t *) f->prev;
    b.prev.len = EL_HASH_BYTES;
    b.network.data = (uint8_t *) f->network;
    b.network.len = EL_KEY_BYTES;
    b.time_us = f->time_us;
    b.kind = f->kind;
    b.key = (char *) f->key;
    b.deleted = f->deleted;
    if (!f->deleted) {
        b.payload_hash.data = payload_hash;
        b.payload_hash.len = EL_HASH_BYTES;
    }

    rc = -ENOMEM;
    size_t body_len = el__entry_body__get_packed_size (&b);
    body = malloc (body_len);
    if (!body)
        goto out;
    el__entry_body__pack (&b, body);

    uint8_t sig[EL_SIG_BYTES];
    crypto_sign_detached (sig, NULL, body, body_len, kp->sk);

    El__Entry e = EL__ENTRY__INIT;
    e.body.data = body;
    e.body.len = body_len;
    e.sig.data = sig;
    e.sig.len = EL_SIG_BYTES;
    e.payload.data = (uint8_t *) f->payload;
    e.payload.len = f->payload_len;
    size_t len = el__entry__get_packed_size (&e);
    rc = EL_ETOOBIG;
    if (len > EL_ENTRY_MAX)
        goto out_free;
    rc = -ENOMEM;
    out = malloc (len);
    if (!out)
        goto out_free;
    el__entry__pack (&e, out);
    if (ret_hash)
        el_entry_hash (sig, EL_SIG_BYTES, body, body_len, ret_hash);
    *ret_data = out;
    *ret_len = len;
    rc = 0;
out_free:
    free (body);
out:
    return rc;
}

static int
s_entry_check (el_entry_t *self)
{
    El__Entry *pb = self->pb;
    if (pb->sig.len != EL_SIG_BYTES || pb->body.len == 0 || pb->body.len > EL_ENTRY_MAX)
        return EL_EPROTO;
    if (pb->payload.len > EL_PAYLOAD_MAX)
        return EL_ETOOBIG;
    if (pb->stub && pb->payload.len)
        return EL_EPROTO;
    self->body = el__entry_body__unpack (&el_pb_allocator, pb->body.len, pb->body.data);
    if (!self->body)
        return EL_EPROTO;
    El__EntryBody *b = self->body;
    if (b->origin.len != EL_KEY_BYTES || b->prev.len != EL_HASH_BYTES
        || b->network.len != EL_KEY_BYTES || b->seq == 0)
        return EL_EPROTO;
    if (b->kind == EL__KIND__KIND_UNSPECIFIED || !b->key
        || !s_key_is_valid (b->key, strlen (b->key)))
        return EL_EPROTO;
    /* a tombstone has no payload; anything else binds its payload by hash */
    if (b->deleted ? (b->payload_hash.len || pb->payload.len || pb->stub)
                   : b->payload_hash.len != EL_HASH_BYTES)
        return EL_EPROTO;
    if (!b->deleted && !pb->stub) {
        uint8_t h[EL_HASH_BYTES];
        crypto_generichash (h, sizeof h, pb->payload.data, pb->payload.len, NULL, 0);
        if (sodium_memcmp (h, b->payload_hash.data, EL_HASH_BYTES) != 0)
            return EL_EBADSIG;
    }
    self->is_stub = pb->stub;
    self->origin = b->origin.data;
    self->seq = b->seq;
    self->prev = b->prev.data;
    self->network = b->network.data;
    self->payload = pb->payload.len ? pb->payload.data : NULL;
    self->payload_len = pb->payload.len;
    el_entry_hash (pb->sig.data, pb->sig.len, pb->body.data, pb->body.len, self->hash);
    return 0;
}

int
el_entry_parse (const uint8_t *data, size_t len, el_entry_t **ret)
{
    int rc;
    if (len > EL_ENTRY_MAX)
        return EL_ETOOBIG;
    if (len == 0 || !data)
        return EL_EPROTO;
    el_entry_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    rc = -ENOMEM;
    self->raw = malloc (len);
    if (!self->raw)
        goto out_destroy;
    memcpy (self->raw, data, len);
    self->raw_len = len;
    rc = EL_EPROTO;
    self->pb = el__entry__unpack (&el_pb_allocator, len, self->raw);
    if (!self->pb)
        goto out_destroy;
    rc = s_entry_check (self);
    if (rc < 0)
        goto out_destroy;
    *ret = self;
    return 0;
out_destroy:
    el_entry_destroy (&self);
    return rc;
}

int
el_entry_verify (const el_entry_t *self)
{
    const El__Entry *pb = self->pb;
    if (crypto_sign_verify_detached (pb->sig.data, pb->body.data, pb->body.len, self->origin) != 0)
        return EL_EBADSIG;
    return 0;
}

const uint8_t *
el_entry_payload_hash (const el_entry_t *self)
{
    return !self->is_stub && self->body->payload_hash.len == EL_HASH_BYTES
               ? self->body->payload_hash.data : NULL;
}

void
el_entry_destroy (el_entry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_entry_t *self = *self_p;
    if (self->body)
        el__entry_body__free_unpacked (self->body, &el_pb_allocator);
    if (self->pb)
        el__entry__free_unpacked (self->pb, &el_pb_allocator);
    free (self->raw);
    free (self);
    *self_p = NULL;
}

int
el_entry_stub_pack (const el_entry_t *self, uint8_t **ret_data, size_t *ret_len)
{
    El__Entry e = EL__ENTRY__INIT;
    e.body = self->pb->body;
    e.sig = self->pb->sig;
    e.stub = !self->body->deleted;     /* a tombstone has nothing to remove */
    size_t len = el__entry__get_packed_size (&e);
    uint8_t *out = malloc (len);
    if (!out)
        return -ENOMEM;
    el__entry__pack (&e, out);
    *ret_data = out;
    *ret_len = len;
    return 0;
}
