/* el_util.h — small helpers every layer shares: big-endian integers, the
 * clock type, a growable vector with a maximum (as curl's dynbuf).
 *
 * No I/O, no process-wide state; any thread (a vector belongs to its owner). */
#ifndef EL_UTIL_H
#define EL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ big-endian */

/** Write @p v at @p p as 8 bytes, most significant first (store keys and
 * values sort by it). */
static inline void
el_be64_put (uint8_t p[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

/** Read 8 bytes at @p p, most significant first. */
static inline uint64_t
el_be64_get (const uint8_t p[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ------------------------------------------------------------ clock */

/** @p end - @p start when @p end is after @p start, else 0; saturated at
 * INT64_MAX (both in the same unit, e.g. µs). */
static inline int64_t
el_span_us (int64_t start, int64_t end)
{
    if (end <= start)
        return 0;
    uint64_t d = (uint64_t) end - (uint64_t) start;
    return d > INT64_MAX ? INT64_MAX : (int64_t) d;
}

/** A clock: µs since the Unix epoch; @p arg is the clock's own state.
 * Library code that must replay identically (the sync core) reads no clock
 * of its own: it is handed one of these (the daemons pass el_clock_wall of
 * core/el_entry.h; the simulator and tests their own). */
typedef int64_t (el_clock_fn) (void *arg);

/* ------------------------------------------------------------ vector */

/** A growable array of fixed-size items that never holds more than the
 * maximum it was created with: exceeding it is an error the caller sees, so
 * a limit is enforced here and not remembered at each realloc.
 * Fields are read-only for users; `items` moves when the vector grows. */
typedef struct {
    void *items;                /* n * item_size bytes, malloc'd; NULL while empty */
    size_t n;                   /* items held */
    size_t cap;                 /* items allocated */
    size_t max;                 /* items allowed, at most */
    size_t item_size;           /* bytes per item */
} el_vec_t;

/** Empty vector of items of @p item_size bytes, at most @p max of them. */
void el_vec_init (el_vec_t *self, size_t item_size, size_t max);

/** Append one item (copied from @p item, or zeroed when NULL).
 * @param[out] ret optional: where the new item lives (valid until the next
 *             push or free).
 * @return 0, -ENOBUFS (the vector holds max items), -ENOMEM. */
int el_vec_push (el_vec_t *self, const void *item, void **ret);

/** Insert one item at @p index (<= n), moving the later ones up; as
 * el_vec_push() otherwise (keeps a sorted vector sorted).
 * @return 0, -ENOBUFS (max reached), -ENOMEM. */
int el_vec_insert (el_vec_t *self, size_t index, const void *item, void **ret);

/** Remove item @p index (< n), moving the later ones down. */
void el_vec_remove (el_vec_t *self, size_t index);

/** Item @p i (< n). */
static inline void *
el_vec_at (const el_vec_t *self, size_t i)
{
    return (uint8_t *) self->items + i * self->item_size;
}

/** Forget the items, keep the allocation. */
void el_vec_clear (el_vec_t *self);

/** Free the items; the vector is empty and usable again. */
void el_vec_free (el_vec_t *self);

#endif
