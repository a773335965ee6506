/* el_invite.h — invite tokens and the broker's join endpoint.
 *
 * `entrelab invite` on the broker makes a one-time token; `entrelab join
 * TOKEN` on a new site redeems it: the site gets admitted (the broker writes
 * its Site entry, as `entrelab admit` does) and learns where to sync.
 *
 *   token   "elinv1." + unpadded base64url of el.InviteToken {join endpoint,
 *           broker key, 32-byte secret, expiry, name} (proto/el_cli.proto).
 *   broker  keeps only BLAKE2b-256(secret) in its store's meta, as
 *           "invite.<hex>" -> el.InviteRecord; a record is marked used once.
 *   join    the broker's main ROUTER admits only known site keys (ZAP); a
 *           new site's key is unknown, so redemption happens on a separate
 *           join endpoint: a CURVE server (the broker's key) whose own ZAP
 *           handler accepts any client key for domain EL_JOIN_DOMAIN, at most
 *           EL_JOIN_HANDSHAKES_PER_MIN handshakes per minute and address.
 *           It answers nothing but a JoinRequest: one frame, at most
 *           EL_JOIN_FRAME_MAX bytes, signed by the joining key over
 *           "entrelab-join-v1" ‖ broker key ‖ secret; redemptions are limited
 *           to EL_JOIN_REDEEMS_PER_MIN per address and EL_JOIN_REDEEMS_BURST
 *           overall per second window; anything else is dropped unanswered.
 *
 * The join listener runs in its own thread with its own ZeroMQ context (its
 * ZAP handler must not be the daemon's) and never touches the store: it
 * hands each valid redemption to the daemon's reactor as a RedeemRequest on
 * the control socket, so the store keeps a single writer thread.
 *
 * Token and signature helpers are pure; el_invite_create/el_invite_redeem
 * run in the daemon's reactor thread. */
#ifndef EL_INVITE_H
#define EL_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_cli.pb-c.h"
#include "el_entry.h"
#include "el_store.h"
#include "el_sync.h"

#define EL_INVITE_PREFIX          "elinv1."
#define EL_INVITE_SECRET_BYTES    32
#define EL_INVITE_TOKEN_MAX       4096                          /* bytes of token text */
#define EL_INVITE_TTL_DEFAULT_US  (7LL * 24 * 3600 * 1000000)   /* 7 days */
#define EL_INVITE_TTL_MAX_US      (90LL * 24 * 3600 * 1000000)  /* 90 days */
#define EL_INVITE_META_JOIN       "invite.join_listen"          /* meta: join bind endpoint */
#define EL_JOIN_DOMAIN            "entrelab-join"
#define EL_JOIN_FRAME_MAX         4096      /* bytes of a JoinRequest / JoinReply */
#define EL_JOIN_HANDSHAKES_PER_MIN 60       /* CURVE handshakes per address per minute */
#define EL_JOIN_REDEEMS_PER_MIN   10        /* redemptions per address per minute */
#define EL_JOIN_REDEEMS_BURST     20        /* redemptions per second, all addresses */
#define EL_JOIN_ADDRESSES_MAX     1024      /* addresses tracked by the rate limits */
#define EL_JOIN_TIMEOUT_MS        10000     /* client wait for the reply, ms */

/* ------------------------------------------------------------ tokens */

/** Text form of @p t. @param[out] ret malloc'd, NUL-terminated; caller frees.
 * @return 0, EL_ETOOBIG, -ENOMEM. */
int el_invite_token_encode (const El__InviteToken *t, char **ret);

/** Parse token text (surrounding white space ignored) and check its fields'
 * sizes. @param[out] ret free with el__invite_token__free_unpacked(, &el_pb_allocator).
 * @return 0, EL_EINVAL (not a token), EL_ETOOBIG. */
int el_invite_token_decode (const char *text, El__InviteToken **ret);

/** Sign / verify a join: Ed25519 over "entrelab-join-v1" ‖ broker ‖ secret.
 * @return 0; verify: EL_EBADSIG. */
int el_invite_join_sign (const el_keypair_t *site, const uint8_t broker[EL_KEY_BYTES],
                         const uint8_t secret[EL_INVITE_SECRET_BYTES], uint8_t sig[EL_SIG_BYTES]);
int el_invite_join_verify (const uint8_t site[EL_KEY_BYTES], const uint8_t broker[EL_KEY_BYTES],
                           const uint8_t secret[EL_INVITE_SECRET_BYTES],
                           const uint8_t sig[EL_SIG_BYTES]);

/* ------------------------------------------------------------ broker side */

/** Make an invite: a fresh secret, its record in meta. Sets the token fields
 * (secret, expiry, name; the caller fills endpoint and key).
 * @param ttl_us validity, µs (0 = EL_INVITE_TTL_DEFAULT_US; at most EL_INVITE_TTL_MAX_US)
 * @param[out] secret EL_INVITE_SECRET_BYTES
 * @return 0, EL_EINVAL (ttl), store errors. */
int el_invite_create (el_store_t *store, int64_t now_us, int64_t ttl_us, const char *name,
                      El__SiteKind kind, const char *sync_endpoint,
                      uint8_t secret[EL_INVITE_SECRET_BYTES], int64_t *ret_expires_us);

/** Redeem: check the secret's record (known, unused, unexpired) and that the
 * broker holds no Site record for @p site (an invite never re-admits a
 * revoked site nor renames an admitted one: `entrelab admit` does that), mark
 * the invite used, admit @p site (el_admit_write, status ACTIVE). A refused
 * redemption leaves the invite unused, so its rightful holder can still
 * redeem it.
 * @param name  "" or NULL = the invite's name
 * @param[out] ret_sync_endpoint malloc'd copy of the invite's sync endpoint
 * @param[out] ret_name malloc'd: the name the site was admitted with
 * @param err  one-line reason on refusal
 * @return 0; EL_ENOTFOUND (unknown secret), EL_EINVAL (used, expired, key
 *         already admitted or revoked; err says which), el_admit_write() and
 *         store errors. */
int el_invite_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker,
                      int64_t now_us, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                      const uint8_t site[EL_KEY_BYTES], const char *name, uint64_t *ret_seq,
                      char **ret_sync_endpoint, char **ret_name, char *err, size_t err_size);

/* ------------------------------------------------------------ join listener */

typedef struct el_join el_join_t;

/** Start the join listener thread bound on @p bind (e.g. tcp://0.0.0.0:7401).
 * @param broker   the broker's key pair (borrowed during the call; the thread
 *                 keeps its own copy of the CURVE secret)
 * @param control  the daemon's control endpoint, where redemptions go
 * @return 0, -errno (bind failed: -EADDRINUSE ...), -ENOMEM. */
int el_join_new (const char *bind, const el_keypair_t *broker, const char *control,
                 el_join_t **ret);

/** Stop the thread, close its sockets and context; accepts NULL. */
void el_join_destroy (el_join_t **self_p);

/** The endpoint as bound (a tcp port 0 resolved). Borrowed. */
const char *el_join_endpoint (const el_join_t *self);

/** Counters of the listener, read from any thread (relaxed). */
typedef struct {
    uint64_t handshakes_allowed, handshakes_refused, redeemed, refused, dropped;
} el_join_stats_t;
void el_join_stats (el_join_t *self, el_join_stats_t *ret);

/* ------------------------------------------------------------ client */

/** The new site's side: connect to the join endpoint of @p token as a CURVE
 * client with @p site's key, send a signed JoinRequest, wait for the reply.
 * @param[out] ret free with el__join_reply__free_unpacked(, &el_pb_allocator);
 *                 its code says whether the broker admitted the site
 * @return 0 (see ret->code), -ETIMEDOUT (no answer: unreachable, refused
 *         handshake, rate-limited, or the request was dropped), -errno. */
int el_join_call (void *ctx, const El__InviteToken *token, const el_keypair_t *site,
                  const char *name, int timeout_ms, El__JoinReply **ret);

#endif
