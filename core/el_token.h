/* el_token.h — the invite token format and the join signature.
 *
 *   token   "elinv1." + unpadded base64url of el.InviteToken {join endpoint,
 *           broker key, 32-byte secret, expiry, name} (proto/el_cli.proto).
 *   join    a JoinRequest (one frame, at most EL_JOIN_FRAME_MAX bytes) signed
 *           by the joining site key over "entrelab-join-v1" ‖ broker key ‖ secret,
 *           sent over CURVE to the broker's join endpoint (ZAP domain
 *           EL_JOIN_DOMAIN).
 *
 * Shared by the broker (broker/el_invite.h, broker/el_join.h) and the joining
 * site (client/el_join_call.h). Pure functions: no I/O, any thread. */
#ifndef EL_TOKEN_H
#define EL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "el_cli.pb-c.h"
#include "el_entry.h"

#define EL_INVITE_PREFIX          "elinv1."
#define EL_INVITE_SECRET_BYTES    32
#define EL_INVITE_TOKEN_MAX       4096      /* bytes of token text */
#define EL_INVITE_TTL_DEFAULT_US  (7LL * 24 * 3600 * 1000000)   /* 7 days */
#define EL_INVITE_TTL_MAX_US      (90LL * 24 * 3600 * 1000000)  /* 90 days */
#define EL_JOIN_DOMAIN            "entrelab-join"
#define EL_JOIN_FRAME_MAX         4096      /* bytes of a JoinRequest / JoinReply */
#define EL_JOIN_TIMEOUT_MS        10000     /* client wait for the reply, ms */


/** Text form of @p t. @param[out] ret malloc'd, NUL-terminated; caller frees.
 * @return 0, EL_ETOOBIG, -ENOMEM. */
int el_token_encode (const El__InviteToken *t, char **ret);

/** Parse token text (surrounding white space ignored) and check its fields'
 * sizes. @param[out] ret free with el__invite_token__free_unpacked(, &el_pb_allocator).
 * @return 0, EL_EINVAL (not a token), EL_ETOOBIG. */
int el_token_decode (const char *text, El__InviteToken **ret);

/** Sign / verify a join: Ed25519 over "entrelab-join-v1" ‖ broker ‖ secret.
 * @return 0; verify: EL_EBADSIG. */
int el_token_join_sign (const el_keypair_t *site, const uint8_t broker[EL_KEY_BYTES],
                         const uint8_t secret[EL_INVITE_SECRET_BYTES], uint8_t sig[EL_SIG_BYTES]);
int el_token_join_verify (const uint8_t site[EL_KEY_BYTES], const uint8_t broker[EL_KEY_BYTES],
                           const uint8_t secret[EL_INVITE_SECRET_BYTES],
                           const uint8_t sig[EL_SIG_BYTES]);

#endif
