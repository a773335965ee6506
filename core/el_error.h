/* el_error.h — entrelab status codes.
 *
 * Every entrelab function that can fail returns an int: 0 on success,
 * a negative errno (-ENOMEM, -EIO, ...) or one of the EL_E* codes below.
 * The EL_E* codes sit in a band below -30000, under LMDB's own
 * (MDB_KEYEXIST = -30799 ... MDB_LAST_ERRCODE), so the three spaces never
 * overlap. el_strerror() names all of them. Thread-safe; no state. */
#ifndef EL_ERROR_H
#define EL_ERROR_H

#define EL_EBASE        (-30900)
#define EL_ETOOBIG      (EL_EBASE - 1)  /* frame, entry, payload or key over its cap */
#define EL_EPROTO       (EL_EBASE - 2)  /* malformed protobuf or field of wrong size */
#define EL_EBADSIG      (EL_EBASE - 3)  /* Ed25519 signature does not verify */
#define EL_ENETWORK     (EL_EBASE - 4)  /* entry's network id is not one we accept */
#define EL_EGAP         (EL_EBASE - 5)  /* seq beyond head + 1: a hole in the origin's log */
#define EL_EFORK        (EL_EBASE - 6)  /* same (origin, seq), different hash */
#define EL_EPREV        (EL_EBASE - 7)  /* prev does not match the hash of seq - 1 */
#define EL_EQUARANTINE  (EL_EBASE - 8)  /* origin is quarantined after a fork */
#define EL_ESTORE       (EL_EBASE - 9)  /* store corrupt, foreign or wrong schema */
#define EL_EMAPFULL     (EL_EBASE - 10) /* store reached its configured map limit */
#define EL_EKEYPERM     (EL_EBASE - 11) /* secret key file readable by group/others */
#define EL_EKEYFORMAT   (EL_EBASE - 12) /* key text or key file malformed */
#define EL_EUNVERIFIED  (EL_EBASE - 13) /* stub or entry whose authenticity cannot be established */
#define EL_ENOTFOUND    (EL_EBASE - 14) /* no such record / entry */
#define EL_EREVOKED     (EL_EBASE - 15) /* origin's site was revoked */
#define EL_EVERSION     (EL_EBASE - 16) /* incompatible protocol version */
#define EL_ECREDIT      (EL_EBASE - 17) /* peer sent more entries than the credit granted */
#define EL_EINVAL       (EL_EBASE - 18) /* invalid argument from a user or file */
#define EL_ENOTADMITTED (EL_EBASE - 19) /* origin not attested by an accepted network */
#define EL_EPOLICY      (EL_EBASE - 20) /* outside the kinds a federation link agreed on */
#define EL_EFUTURE      (EL_EBASE - 21) /* entry dated too far after the receiver's clock */
#define EL_ENOTOWNER    (EL_EBASE - 22) /* a record its origin may not write: a Booking answering
                                         * a request made to another owner, a Site
                                         * record of a site (not a network authority) */
#define EL_ELAST        (EL_EBASE - 23)

/* Counters by reason: one slot per EL_E* code, slot 0 for any other code
 * (errno, LMDB). EL_ERROR_SLOTS slots. */
#define EL_ERROR_SLOTS  (EL_EBASE - EL_ELAST)

/** Slot of @p rc in a by-reason counter: 1..EL_ERROR_SLOTS-1 for an EL_E*
 * code, 0 for any other. */
static inline unsigned
el_error_slot (int rc)
{
    return rc < EL_EBASE && rc > EL_ELAST ? (unsigned) (EL_EBASE - rc) : 0;
}

/** The code of slot @p slot (> 0), as el_error_slot() gave it. */
static inline int
el_error_of_slot (unsigned slot)
{
    return EL_EBASE - (int) slot;
}

/* On a function whose result must not be dropped (as libsodium marks its
 * own): a constructor, a check, an apply. Dropping it is a warning, an error
 * under -Werror. Where dropping one is right, pass it to el_ignore() and say
 * why: GCC does not take a (void) cast as looking. */
#if defined(__GNUC__) || defined(__clang__)
#define EL_NODISCARD __attribute__ ((warn_unused_result))
#else
#define EL_NODISCARD
#endif

/** Drop a result of an EL_NODISCARD function, on purpose. */
static inline void
el_ignore (int rc)
{
    (void) rc;
}

/** Human-readable name of @p rc (0, -errno, EL_E*, or an LMDB MDB_* code).
 * @return a static string; never NULL. Thread-safe. */
const char *el_strerror (int rc);

/** Short machine name of @p rc for logs and counters ("bad_sig", "gap" ...).
 * @return a static string; never NULL. */
const char *el_strcode (int rc);

#endif
