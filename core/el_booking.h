/* el_booking.h — the owner's booking policy (docs/ARCHITECTURE.md "Records":
 * bookings are decided by the machine's owner alone).
 *
 * A BookingRequest entry is written by the requesting site; the equipment's
 * owner answers with its own Booking entry, keyed by
 * "<request origin base64url>:<request key>". The owner decides requests in
 * the order its store applied them, so two sites can never both hold a slot.
 *
 * Policy `auto`: decline when the equipment is unknown or not bookable by the
 * requester (Equipment.bookable_by: SITE = the owner's own requests, NETWORK
 * or unspecified = requests of the owner's network, FEDERATION = any), in
 * maintenance or out of order, when the member lacks the required training,
 * when the slot is empty or reversed, when it ended before the decision
 * ("slot in the past": a request answered late, after the owner was offline,
 * is declined too), when the member's membership (as the requester attests
 * it in BookingRequest.member_valid_until_us) has expired or ends before the
 * slot does, or when it overlaps a confirmed booking of the same equipment;
 * otherwise confirm. Policy `manual`: requests wait for
 * a coordinator's confirm/decline; confirming a member who lacks the
 * required training (el_booking_lacks_training) needs force, as does an
 * overlap.
 *
 * Sans I/O: reads the store, returns the answer; the daemon writes it.
 * Threading: the store's thread. */
#ifndef EL_BOOKING_H
#define EL_BOOKING_H

#include <stdbool.h>
#include <stdint.h>

#include "el_store.h"

#define EL_BOOKING_KEY_MAX  (EL_KEY_TEXT_BYTES + EL_RECORD_KEY_MAX + 1)  /* bytes incl. NUL */
#define EL_BOOKING_SPAN_MAX (31LL * 24 * 3600 * 1000000)  /* longest slot, µs (31 days) */

typedef enum { EL_BOOKING_POLICY_AUTO = 0, EL_BOOKING_POLICY_MANUAL = 1 } el_booking_policy_t;

/** Key of the owner's Booking answering request (@p origin, @p request_key):
 * "<origin base64url>:<request_key>" into @p out (EL_BOOKING_KEY_MAX bytes).
 * @return 0, EL_ETOOBIG when it would exceed EL_RECORD_KEY_MAX. */
int el_booking_key (const uint8_t origin[EL_KEY_BYTES], const char *request_key,
                    char out[EL_BOOKING_KEY_MAX]);

/** Decide a request under the `auto` policy (callers check
 * el_booking_is_answered() first and decide requests one at a time, writing
 * each answer before deciding the next).
 * @param owner    this site's id; the request must name it as equipment_owner
 * @param request  a parsed BOOKING_REQUEST entry (borrowed)
 * @param[out] ret an El__Booking whose strings point into @p request (valid
 *                 while it lives), into @p equipment_key_buf, or at static
 *                 text (reason); status is BOOKING_CONFIRMED or
 *                 BOOKING_DECLINED with a reason
 * @param equipment_key_buf  caller's buffer, EL_RECORD_KEY_MAX + 1 bytes
 * @return 0, EL_EINVAL (not a live request naming @p owner, or a payload that
 *         does not decode), MDB_* on store errors. */
int el_booking_decide (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                       const el_entry_t *request, El__Booking *ret,
                       char equipment_key_buf[EL_RECORD_KEY_MAX + 1]);

/** el_booking_decide() at time @p now_us (µs since the Unix epoch) instead
 * of the clock: what is "in the past" or "expired" is judged against it.
 * Same parameters and results otherwise. */
int el_booking_decide_at (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                          const el_entry_t *request, int64_t now_us, El__Booking *ret,
                          char equipment_key_buf[EL_RECORD_KEY_MAX + 1]);

/** The training @p eq requires that a member holding @p trainings (@p n of
 * them) lacks, or NULL (none required, or held). Pure; the text points into
 * @p eq. The requester's CLI checks a member before it asks, the owner's
 * coordinator before confirming by hand. */
const char *el_booking_missing_training (const El__Equipment *eq, char *const *trainings,
                                         size_t n);

/** The training that @p owner's equipment named in request @p r requires and
 * that the member of @p r lacks, copied into @p training (@p size bytes,
 * truncated).
 * @return 1 lacking, 0 not (none required, held, or the equipment is
 *         unknown or unreadable), < 0 store error. */
int el_booking_lacks_training (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                               const El__BookingRequest *r, char *training, size_t size);

/** Is a Booking already written by @p owner for this request?
 * @return 1 yes, 0 no, < 0 store error. */
int el_booking_is_answered (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                            const el_entry_t *request);

/** Does [start, end) overlap a confirmed booking of @p owner's @p equipment_key?
 * @return 1 yes, 0 no, < 0 store error. */
int el_booking_overlaps (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                         const char *equipment_key, int64_t start_us, int64_t end_us);

/** Does the owner's answer @p b hold @p equipment_key during part of
 * [@p start_us, @p end_us)? True for a confirmed booking of that machine
 * overlapping the slot. Pure. */
bool el_booking_holds (const El__Booking *b, const char *equipment_key, int64_t start_us,
                       int64_t end_us);

#define EL_BOOKING_BUSY_MAX 4096   /* periods one availability view holds */

/** Why a machine is not free during an el_busy_t period. */
typedef enum {
    EL_BUSY_BOOKED = 1,            /* a confirmed booking (who booked is not said) */
    EL_BUSY_MAINTENANCE = 2,       /* status maintenance */
    EL_BUSY_OUT_OF_ORDER = 3,      /* status out of order */
} el_busy_kind_t;

typedef struct {
    int64_t start_us, end_us;      /* UTC µs since the Unix epoch, end exclusive */
    el_busy_kind_t kind;
} el_busy_t;

/** Name of @p kind: "booked", "maintenance", "out_of_order". Static text. */
const char *el_busy_kind_name (el_busy_kind_t kind);

/** A machine's availability over [@p from_us, @p to_us): the periods it is
 * not free, sorted by start and clipped to the window. They are its
 * confirmed bookings (times only) and, while its status says maintenance or
 * out of order and is not stale at @p now_us (status_valid_until_us, 0 = no
 * end), the status from now until it ends (or @p to_us). The web endpoint's
 * machine page and `entrelab equipment availability` both use it. Pure.
 * @param eq        the machine's record (borrowed)
 * @param key       its record key
 * @param bookings  the owner's Booking answers (any machine: others are
 *                  skipped), @p n of them, borrowed
 * @param out       caller's array of @p max entries
 * @param[out] ret_n periods written
 * @return 0; EL_EINVAL (from >= to, or a NULL argument); EL_ETOOBIG (more
 *         than @p max periods in the window: nothing written). */
int el_booking_busy (const El__Equipment *eq, const char *key, const El__Booking *const *bookings,
                     size_t n, int64_t now_us, int64_t from_us, int64_t to_us, el_busy_t *out,
                     size_t max, size_t *ret_n);

/** Callback for el_booking_pending(): a request naming the owner, not yet answered. */
typedef int (el_booking_request_fn) (void *arg, const el_entry_t *request);

/** Every live, unanswered request naming @p owner, oldest (entry time_us) first,
 * at most @p max. Used at start-up: requests made while the owner was offline.
 * @return 0, -ENOMEM, MDB_*. */
int el_booking_pending (el_store_t *store, const uint8_t owner[EL_KEY_BYTES], size_t max,
                        el_booking_request_fn *fn, void *arg);

#endif
