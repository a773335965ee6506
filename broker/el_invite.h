/* el_invite.h — the broker's invites.
 *
 * `entrelab invite` on the broker makes a one-time token (core/el_token.h);
 * `entrelab join TOKEN` on a new site redeems it through the join endpoint
 * (broker/el_join.h): the site gets admitted (the broker writes its Site
 * entry, as `entrelab admit` does) and learns where to sync.
 *
 * The broker keeps only BLAKE2b-256(secret) in its store's meta, as
 * "invite.<hex>" -> el.InviteRecord; a record is marked used once.
 *
 * Runs in the daemon's reactor thread (the store's writer). */
#ifndef EL_INVITE_H
#define EL_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "el_store.h"
#include "el_sync.h"
#include "el_token.h"

#define EL_INVITE_META_JOIN       "invite.join_listen"          /* meta: join bind endpoint */

/* Why a redemption was refused. */
typedef enum {
    EL_INVITE_UNKNOWN = 0,      /* no invite with that secret */
    EL_INVITE_USED,
    EL_INVITE_EXPIRED,
    EL_INVITE_SELF,             /* the broker's own key */
    EL_INVITE_ADMITTED,         /* the key is already admitted */
    EL_INVITE_REVOKED,          /* the key was revoked */
    EL_INVITE_BAD_NAME,         /* name over EL_SITE_NAME_MAX bytes */
    EL_INVITE_FAILED,           /* a store or write error, not a refusal */
} el_invite_refusal_t;


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
 * @param timezone  the site's time zone for its Site record (an IANA name,
 *              checked by el_config_timezone_ok()); "" or NULL = not said
 * @param[out] ret_sync_endpoint malloc'd copy of the invite's sync endpoint
 * @param[out] ret_name malloc'd: the name the site was admitted with
 * @param[out] ret_refusal optional: why it was refused (a value; the text is for people)
 * @param err  one-line reason on refusal
 * @return 0; EL_ENOTFOUND (unknown secret), EL_EINVAL (used, expired, key
 *         already admitted or revoked; err says which), el_admit_write() and
 *         store errors. */
int el_invite_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker,
                      int64_t now_us, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                      const uint8_t site[EL_KEY_BYTES], const char *name,
                      const char *timezone, uint64_t *ret_seq, char **ret_sync_endpoint,
                      char **ret_name, el_invite_refusal_t *ret_refusal, char *err,
                      size_t err_size);

/** Short name of a refusal for logs ("used", "expired", ...). Static storage. */
const char *el_invite_refusal_name (el_invite_refusal_t why);

#endif
