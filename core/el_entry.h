/* el_entry.h — site identities, signed entries, their hashes and size caps.
 *
 * Shapes (docs/ARCHITECTURE.md "Entries", "Trust model"):
 *   site id  = Ed25519 public key, EL_KEY_BYTES (32) bytes;
 *   secret   = libsodium Ed25519 secret key (seed ‖ pk), 64 bytes, in sodium_malloc memory;
 *   entry    = protobuf el.Entry { body = serialized el.EntryBody, sig = 64-byte
 *              signature over body, payload = the record, stub flag };
 *   hash     = BLAKE2b-256 (crypto_generichash, 32 bytes) over sig ‖ body;
 *   payload  bound to the body by body.payload_hash = BLAKE2b-256(payload);
 *   stub     the same entry with its payload removed: still hashes, links and
 *            verifies; only the record's bytes are gone.
 * Text form of a key: unpadded base64url (RFC 4648 §5), 43 characters.
 *
 * Library code: no logging, no global state other than libsodium's own (call
 * el_crypto_init() once before anything else). All functions are reentrant;
 * objects are not shared between threads without the caller's locking. */
#ifndef EL_ENTRY_H
#define EL_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_error.h"
#include "el_util.h"      /* el_clock_fn */
#include "entrelab.pb-c.h"

#define EL_KEY_BYTES       32     /* Ed25519 public key = site id, bytes */
#define EL_SECRET_BYTES    64     /* Ed25519 secret key, bytes */
#define EL_SIG_BYTES       64     /* Ed25519 signature, bytes */
#define EL_HASH_BYTES      32     /* BLAKE2b-256 digest, bytes */
#define EL_KEY_TEXT_BYTES  44     /* base64url text of a key + NUL, bytes */
#define EL_Z85_BYTES       41     /* Z85 text of a 32-byte key + NUL, bytes */

#define EL_PROTOCOL_VERSION 1

/* Caps, checked before any unpack. */
/* One wire Msg, bytes (ZMQ_MAXMSGSIZE). libzmq applies it to handshake
 * commands too, so it is also what a stranger can make a daemon hold per
 * connection before authentication (el_handshake.h caps those connections).
 * Every honest frame fits: an Entries batch stops two entries short of it
 * (el_sync.c S_FRAME_BUDGET, entries of EL_ENTRY_MAX), a Hello of
 * EL_SYNC_HELLO_HEADS_MAX heads is ~1.35 MB; el_sync.c asserts both. */
#define EL_FRAME_MAX       (2u << 20)
#define EL_ENTRY_MAX       (128u << 10) /* one serialized Entry, bytes */
#define EL_PAYLOAD_MAX     (64u << 10) /* one record payload, bytes */
#define EL_RECORD_KEY_MAX  200         /* record key, bytes (UTF-8, no control chars) */
#define EL_BATCH_MAX       4096        /* entries in one Entries message */

/* ------------------------------------------------------------ crypto */

/** Initialise libsodium. Call once per process before any other el_ function.
 * @return 0, or -EIO when sodium_init() fails (fatal for callers). */
EL_NODISCARD
int el_crypto_init (void);

/* ------------------------------------------------------------ keys */

/** A site's key pair. sk lives in sodium_malloc memory, wiped on destroy. */
typedef struct {
    uint8_t pk[EL_KEY_BYTES];
    uint8_t *sk;                /* EL_SECRET_BYTES, sodium_malloc'd */
} el_keypair_t;

/** New random key pair. @param[out] ret caller owns; el_keypair_destroy().
 * @return 0, -ENOMEM. */
EL_NODISCARD
int el_keypair_generate (el_keypair_t **ret);

/** Deterministic key pair from a 32-byte seed (test vectors, fixtures).
 * @return 0, -ENOMEM. */
EL_NODISCARD
int el_keypair_from_seed (const uint8_t seed[32], el_keypair_t **ret);

/** Wipe and free *self_p; accepts NULL; sets *self_p = NULL. */
void el_keypair_destroy (el_keypair_t **self_p);

/** Write the secret key file @p path (mode 0600, created exclusively unless
 * @p overwrite) and the public key file "<path>.pub" (0644, base64url + "\n").
 * Secret file format: one line "entrelab-secret-v1 <base64url of 64 bytes>\n".
 * @return 0, -EEXIST, -errno from open/write/fsync. */
int el_keypair_save (const el_keypair_t *self, const char *path, bool overwrite);

/** Read a secret key file written by el_keypair_save().
 * @return 0; EL_EKEYPERM when the file is readable or writable by group or
 *         others (as ssh refuses such files); EL_EKEYFORMAT; -errno; -ENOMEM. */
EL_NODISCARD
int el_keypair_load (const char *path, el_keypair_t **ret);

/** Base64url (unpadded) text of a 32-byte key into @p out (44 bytes with NUL). */
void el_key_to_text (const uint8_t key[EL_KEY_BYTES], char out[EL_KEY_TEXT_BYTES]);

/** Parse a base64url key (43 chars, optional padding/whitespace around).
 * @return 0, EL_EKEYFORMAT. */
EL_NODISCARD
int el_key_from_text (const char *text, uint8_t key[EL_KEY_BYTES]);

/** A key field of a message (bytes on the wire, proto/el_control.proto):
 * exactly EL_KEY_BYTES bytes. @return 0, EL_EINVAL (another length). */
int el_key_from_field (const ProtobufCBinaryData *field, uint8_t key[EL_KEY_BYTES]);

/** Read a public key given as base64url text or as the path of a ".pub" or
 * secret key file. @return 0, EL_EKEYFORMAT, -errno. */
EL_NODISCARD
int el_key_resolve (const char *text_or_path, uint8_t key[EL_KEY_BYTES]);

/** CURVE (X25519) keys derived from the Ed25519 identity, as libzmq wants
 * them: Z85 text, 40 chars + NUL (ZeroMQ RFC 32).
 * @return 0, EL_EKEYFORMAT when the Ed25519 key has no Curve25519 form. */
EL_NODISCARD
int el_keypair_curve_z85 (const el_keypair_t *self, char public_z85[EL_Z85_BYTES],
                          char secret_z85[EL_Z85_BYTES]);
EL_NODISCARD
int el_key_curve_z85 (const uint8_t pk[EL_KEY_BYTES], char public_z85[EL_Z85_BYTES]);
/** Raw X25519 public key of an Ed25519 key (what ZAP reports as the client key). */
EL_NODISCARD
int el_key_curve (const uint8_t pk[EL_KEY_BYTES], uint8_t curve_pk[32]);

/* ------------------------------------------------------------ entries */

/** What an origin writes; el_entry_build() turns it into signed bytes. */
typedef struct {
    uint64_t seq;                       /* 1.. */
    uint8_t prev[EL_HASH_BYTES];        /* hash of seq-1, zeros for seq 1 */
    uint8_t network[EL_KEY_BYTES];      /* network (broker key) that admitted the origin */
    int64_t time_us;                    /* µs since the Unix epoch */
    El__Kind kind;
    const char *key;                    /* record key, 1..EL_RECORD_KEY_MAX bytes */
    bool deleted;                       /* tombstone */
    const uint8_t *payload;             /* borrowed; NULL/0 for a tombstone */
    size_t payload_len;                 /* bytes, <= EL_PAYLOAD_MAX */
} el_entry_fields_t;

/** Serialize, sign with @p kp (origin = kp->pk) and pack an el.Entry.
 * @param[out] ret_data  malloc'd Entry bytes, caller frees
 * @param[out] ret_hash  optional (may be NULL): the new entry's hash
 * @return 0, EL_ETOOBIG, EL_EINVAL (bad key, seq 0), -ENOMEM. */
EL_NODISCARD
int el_entry_build (const el_keypair_t *kp, const el_entry_fields_t *f,
                    uint8_t **ret_data, size_t *ret_len,
                    uint8_t ret_hash[EL_HASH_BYTES]);

/** A parsed entry. Points into `pb` and `body` (owned); `raw` is a private
 * copy of the Entry bytes exactly as received. Every field is set for a stub
 * too, except payload (NULL, 0). */
typedef struct {
    El__Entry *pb;              /* owned */
    El__EntryBody *body;        /* owned */
    bool is_stub;               /* payload removed */
    const uint8_t *origin;      /* EL_KEY_BYTES, into body */
    uint64_t seq;
    const uint8_t *prev;        /* EL_HASH_BYTES, into body */
    const uint8_t *network;     /* EL_KEY_BYTES, into body */
    const uint8_t *payload;     /* the record's bytes, into pb; NULL when empty or a stub */
    size_t payload_len;         /* bytes */
    uint8_t hash[EL_HASH_BYTES];
    uint8_t *raw;               /* owned copy of the Entry bytes */
    size_t raw_len;
} el_entry_t;

/** Parse Entry bytes: size caps first, then unpack, then every field's size
 * and range (origin/prev/network 32 bytes, sig 64, seq >= 1, key 1..200 bytes
 * without control characters, payload <= EL_PAYLOAD_MAX, tombstone without
 * payload or payload_hash, a stub without payload), then the payload against
 * body.payload_hash. Computes the hash. Does NOT check the signature.
 * @return 0, EL_ETOOBIG, EL_EPROTO, EL_EBADSIG (payload does not match its
 *         signed hash), -ENOMEM. */
EL_NODISCARD
int el_entry_parse (const uint8_t *data, size_t len, el_entry_t **ret);

/** Check the Ed25519 signature of a parsed entry (or stub) against its origin.
 * @return 0, EL_EBADSIG. */
EL_NODISCARD
int el_entry_verify (const el_entry_t *self);

/** The body's payload_hash, checked against the payload by el_entry_parse(),
 * or NULL when the entry carries no payload (a stub or a tombstone). */
const uint8_t *el_entry_payload_hash (const el_entry_t *self);

/** Free; accepts NULL; sets *self_p = NULL. */
void el_entry_destroy (el_entry_t **self_p);

/** Serialized el.Entry: the stub of @p self (body and sig, no payload).
 * @param[out] ret_data malloc'd, caller frees. @return 0, -ENOMEM. */
EL_NODISCARD
int el_entry_stub_pack (const el_entry_t *self, uint8_t **ret_data, size_t *ret_len);

/** BLAKE2b-256 over sig ‖ body. */
void el_entry_hash (const uint8_t *sig, size_t sig_len, const uint8_t *body,
                    size_t body_len, uint8_t out[EL_HASH_BYTES]);

/** protobuf-c allocator using malloc/free (no global state). */
extern ProtobufCAllocator el_pb_allocator;

/** µs since the Unix epoch, CLOCK_REALTIME. */
int64_t el_now_us (void);

/** el_now_us() as an el_clock_fn, for the daemons. @p arg is unused. */
int64_t el_clock_wall (void *arg);

#endif
