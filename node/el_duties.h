/* el_duties.h — what a daemon does for the coordinators besides syncing:
 * the owner's booking answers, erasure compaction, invites, and
 * the control requests of proto/el_cli.proto.
 *
 * After each committed apply (el_sync_on_applied; local writes included):
 *   - each newly stored BOOKING_REQUEST naming one of this site's machines is
 *     answered under the `auto` policy: el_booking_decide(), then the Booking
 *     entry is written with el_sync_write() before the next request is
 *     decided, so two requests for one slot can never both be confirmed;
 *     `manual` leaves them for `entrelab bookings confirm|decline`;
 *   - a withdrawn request (its tombstone) cancels this site's confirmed answer;
 *   - a MEMBER tombstone (the store already turned the record's entries into
 *     stubs) triggers el_store_compact(), so the erased bytes leave data.mdb.
 *     A flag in meta ("duties.compact") survives a crash between the two and
 *     the compaction runs at the next start.
 * At start: requests that arrived while this site was offline or under
 * `manual` (el_booking_pending) are answered when the policy is `auto`; a
 * broker with a kept join endpoint setting starts its join listener.
 *
 * The policy lives in the store (meta "booking.policy": "auto" | "manual";
 * default auto) and is set with PolicyRequest (`entrelab bookings policy`).
 *
 * Hooks in the daemon (node/el_node.c): el_duties_new() once the store, sync
 * and config are ready; el_duties_on_applied() from its applied callback;
 * el_duties_control() for control requests it does not handle itself;
 * el_duties_destroy() at shutdown.
 *
 * Threading: the daemon's reactor thread (the join listener runs its own
 * thread, see broker/el_invite.h, and reaches us through the control socket). */
#ifndef EL_DUTIES_H
#define EL_DUTIES_H

#include <stdbool.h>
#include <stdint.h>

#include "el_config.h"
#include "el_control.h"
#include "el_store.h"
#include "el_sync.h"

#define EL_DUTIES_PENDING_MAX  4096     /* waiting requests answered per pass (64 passes) */
#define EL_DUTIES_META_POLICY  "booking.policy"
#define EL_DUTIES_META_COMPACT "duties.compact"
#define EL_DUTIES_META_REVOKED "node.revoked"   /* 8 bytes: µs (big-endian) when this site
                                                   learned it was revoked; 0 = not revoked */
#define EL_DUTIES_REVOKED_TEXT "this site was revoked by its network's broker: its new " \
    "entries are refused everywhere (ask the broker's coordinator)"

typedef struct el_duties el_duties_t;

typedef struct {
    el_store_t *store;          /* borrowed, outlives the duties */
    el_sync_t *sync;            /* borrowed */
    const el_keypair_t *kp;     /* this daemon's key pair, borrowed */
    el_role_t role;
    const el_config_t *cfg;     /* borrowed: control endpoint, listen endpoints */
    int64_t (*now_us) (void);   /* optional clock for booking decisions (µs since the
                                   epoch; tests); NULL = el_now_us */
} el_duties_env_t;

/** Start: read the policy, finish an interrupted compaction, answer waiting
 * requests (auto), start a broker's join listener when one is configured.
 * Failures of these start-up passes are logged, not fatal.
 * @return 0, -ENOMEM. */
int el_duties_new (const el_duties_env_t *env, el_duties_t **ret);

/** Stop the join listener; accepts NULL; sets *self_p = NULL. */
void el_duties_destroy (el_duties_t **self_p);

/** The daemon's applied callback forwards here (same arguments as
 * el_sync_applied_fn). Re-entrant calls caused by our own writes are ignored. */
void el_duties_on_applied (el_duties_t *self, uint64_t from_peer,
                           const el_entry_t *const *entries, const int *status, size_t n);

/** Revocation of this site, as the daemon learns it: its broker ended our
 * session with an Error REVOKED, or a broker-signed Site entry revoking us
 * was stored (revoked = true); a newer entry admitting us again
 * (revoked = false). Kept in meta EL_DUTIES_META_REVOKED, so it survives
 * restarts (the revoked site's key is refused by the broker from then on, so
 * it may never receive the revoking entry itself). While revoked, booking
 * answers are neither decided nor written (EL_EREVOKED, with
 * EL_DUTIES_REVOKED_TEXT as the reply text); the daemon refuses local writes.
 * @return 0, store errors (the state is kept in memory all the same). */
int el_duties_set_revoked (el_duties_t *self, bool revoked, int64_t now_us);

/** µs since the Unix epoch when this site learned it was revoked; 0 = it is
 * not (or @p self is NULL). */
int64_t el_duties_revoked_since (const el_duties_t *self);

/** Handle PolicyRequest, AnswerRequest, InviteRequest, RedeemRequest (any
 * other request: EL_EINVAL "unknown request"). Same contract as el_control_fn.
 * @return 0 or the reply's error code. */
int el_duties_control (el_duties_t *self, el_control_t *ctl, const El__ControlRequest *req,
                       El__ControlReply *reply);

#endif
