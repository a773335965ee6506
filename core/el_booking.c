/* el_booking.c — the owner's booking policy (see el_booking.h). */
#include "el_booking.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
el_booking_key (const uint8_t origin[EL_KEY_BYTES], const char *request_key,
                char out[EL_BOOKING_KEY_MAX])
{
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (origin, text);
    int n = snprintf (out, EL_BOOKING_KEY_MAX, "%s:%s", text, request_key);
    if (n < 0 || n > EL_RECORD_KEY_MAX)
        return EL_ETOOBIG;
    return 0;
}

bool
el_booking_holds (const El__Booking *b, const char *equipment_key, int64_t start_us,
                  int64_t end_us)
{
    return b->status == EL__BOOKING_STATUS__BOOKING_CONFIRMED && b->equipment_key
           && strcmp (b->equipment_key, equipment_key) == 0 && b->start_us < end_us
           && start_us < b->end_us;
}

const char *
el_busy_kind_name (el_busy_kind_t kind)
{
    switch (kind) {
    case EL_BUSY_BOOKED: return "booked";
    case EL_BUSY_MAINTENANCE: return "maintenance";
    case EL_BUSY_OUT_OF_ORDER: return "out_of_order";
    default: return "unknown";
    }
}

static int
s_busy_cmp (const void *a, const void *b)
{
    const el_busy_t *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    if (x->end_us != y->end_us)
        return x->end_us < y->end_us ? -1 : 1;
    return (int) x->kind - (int) y->kind;
}

int
el_booking_busy (const El__Equipment *eq, const char *key, const El__Booking *const *bookings,
                 size_t n, int64_t now_us, int64_t from_us, int64_t to_us, el_busy_t *out,
                 size_t max, size_t *ret_n)
{
    if (!eq || !key || (n && !bookings) || (max && !out) || !ret_n || from_us >= to_us)
        return EL_EINVAL;
    size_t got = 0;
    bool stale = eq->status_valid_until_us && eq->status_valid_until_us <= now_us;
    el_busy_kind_t down = EL_BUSY_BOOKED;     /* = not down */
    if (eq->status == EL__EQUIPMENT_STATUS__MAINTENANCE)
        down = EL_BUSY_MAINTENANCE;
    else if (eq->status == EL__EQUIPMENT_STATUS__OUT_OF_ORDER)
        down = EL_BUSY_OUT_OF_ORDER;
    if (down != EL_BUSY_BOOKED && !stale) {
        int64_t start = now_us > from_us ? now_us : from_us;
        int64_t end = eq->status_valid_until_us && eq->status_valid_until_us < to_us
                          ? eq->status_valid_until_us
                          : to_us;
        if (start < end) {
            if (got == max)
                return EL_ETOOBIG;
            out[got++] = (el_busy_t) { start, end, down };
        }
    }
    for (size_t i = 0; i < n; i++) {
        const El__Booking *b = bookings[i];
        if (!b || !el_booking_holds (b, key, from_us, to_us))
            continue;
        if (got == max)
            return EL_ETOOBIG;
        out[got++] = (el_busy_t) { b->start_us > from_us ? b->start_us : from_us,
                                   b->end_us < to_us ? b->end_us : to_us, EL_BUSY_BOOKED };
    }
    if (got > 1)
        qsort (out, got, sizeof *out, s_busy_cmp);
    *ret_n = got;
    return 0;
}

typedef struct {
    const char *equipment_key;
    int64_t start_us, end_us;
    int found;
} s_overlap_t;

static int
s_overlap_fn (void *arg, const el_entry_t *e)
{
    s_overlap_t *o = arg;
    El__Booking *b = el__booking__unpack (&el_pb_allocator, e->payload_len,
                                          e->payload);
    if (!b)
        return 0;               /* the store refuses undecodable payloads; be safe */
    if (el_booking_holds (b, o->equipment_key, o->start_us, o->end_us))
        o->found = 1;
    el__booking__free_unpacked (b, &el_pb_allocator);
    return o->found;
}

int
el_booking_overlaps (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                     const char *equipment_key, int64_t start_us, int64_t end_us)
{
    s_overlap_t o = { equipment_key, start_us, end_us, 0 };
    int rc = el_store_records (store, EL__KIND__BOOKING, owner, s_overlap_fn, &o);
    return rc < 0 ? rc : o.found;
}

int
el_booking_is_answered (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                        const el_entry_t *request)
{
    char key[EL_BOOKING_KEY_MAX];
    if (el_booking_key (request->origin, request->body->key, key) < 0)
        return 0;
    el_entry_t *answer = NULL;
    int rc = el_store_record_get (store, EL__KIND__BOOKING, owner, key, &answer);
    el_entry_destroy (&answer);
    if (rc == EL_ENOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

const char *
el_booking_missing_training (const El__Equipment *eq, char *const *trainings, size_t n)
{
    if (!eq->required_training || !eq->required_training[0])
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp (trainings[i], eq->required_training) == 0)
            return NULL;
    return eq->required_training;
}

int
el_booking_lacks_training (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                           const El__BookingRequest *r, char *training, size_t size)
{
    el_entry_t *eq_entry = NULL;
    int rc = el_store_record_get (store, EL__KIND__EQUIPMENT, owner, r->equipment_key, &eq_entry);
    if (rc == EL_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    El__Equipment *eq = el__equipment__unpack (&el_pb_allocator, eq_entry->payload_len,
                                               eq_entry->payload);
    el_entry_destroy (&eq_entry);
    if (!eq)
        return 0;
    const char *missing = el_booking_missing_training (eq, r->member_trainings,
                                                       r->n_member_trainings);
    if (missing)
        snprintf (training, size, "%s", missing);
    el__equipment__free_unpacked (eq, &el_pb_allocator);
    return missing != NULL;
}

/* Equipment.bookable_by: SITE = the owner's own requests only; NETWORK (and
 * unspecified) = requests written in the owner's network; FEDERATION = any
 * request the owner accepted. */
static bool
s_may_book (const El__Equipment *eq, const el_entry_t *eq_entry, const el_entry_t *request)
{
    switch (eq->bookable_by) {
    case EL__SHARING__SHARING_FEDERATION:
        return true;
    case EL__SHARING__SHARING_SITE:
        return memcmp (request->origin, eq_entry->origin, EL_KEY_BYTES) == 0;
    default:
        return memcmp (request->network, eq_entry->network, EL_KEY_BYTES) == 0;
    }
}

static const char *
s_decline_reason (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                  const el_entry_t *request, const El__BookingRequest *r, int64_t now_us,
                  int *rc)
{
    *rc = 0;
    if (r->end_us <= r->start_us)
        return "end is not after start";
    /* unsigned: end > start, so the difference fits, and a hostile request
     * (start -2^63, end 2^63-1) cannot wrap it below the limit */
    if ((uint64_t) r->end_us - (uint64_t) r->start_us > (uint64_t) EL_BOOKING_SPAN_MAX)
        return "slot longer than 31 days";
    if (r->end_us <= now_us)
        return "slot in the past";
    if (r->member_valid_until_us && r->member_valid_until_us <= now_us)
        return "member's membership has expired";
    if (r->member_valid_until_us && r->member_valid_until_us < r->end_us)
        return "member's membership ends before the slot";
    el_entry_t *eq_entry = NULL;
    int grc = el_store_record_get (store, EL__KIND__EQUIPMENT, owner, r->equipment_key, &eq_entry);
    if (grc == EL_ENOTFOUND)
        return "unknown equipment";
    if (grc < 0) {
        *rc = grc;
        return NULL;
    }
    const char *reason = NULL;
    El__Equipment *eq = el__equipment__unpack (&el_pb_allocator, eq_entry->payload_len,
                                               eq_entry->payload);
    if (!eq) {
        reason = "equipment record unreadable";
        goto out;
    }
    if (!s_may_book (eq, eq_entry, request))
        reason = eq->bookable_by == EL__SHARING__SHARING_SITE
                 ? "equipment not bookable by other sites"
                 : "equipment not bookable outside its network";
    else if (eq->status == EL__EQUIPMENT_STATUS__MAINTENANCE)
        reason = "equipment in maintenance";
    else if (eq->status == EL__EQUIPMENT_STATUS__OUT_OF_ORDER)
        reason = "equipment out of order";
    else if (el_booking_missing_training (eq, r->member_trainings, r->n_member_trainings))
        reason = "member lacks the required training";
    if (reason)
        goto out_free;
    int orc = el_booking_overlaps (store, owner, r->equipment_key, r->start_us, r->end_us);
    if (orc < 0)
        *rc = orc;
    else if (orc > 0)
        reason = "slot overlaps a confirmed booking";
out_free:
    el__equipment__free_unpacked (eq, &el_pb_allocator);
out:
    el_entry_destroy (&eq_entry);
    return reason;
}

int
el_booking_decide (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                   const el_entry_t *request, El__Booking *ret,
                   char equipment_key_buf[EL_RECORD_KEY_MAX + 1])
{
    return el_booking_decide_at (store, owner, request, el_now_us (), ret, equipment_key_buf);
}

int
el_booking_decide_at (el_store_t *store, const uint8_t owner[EL_KEY_BYTES],
                      const el_entry_t *request, int64_t now_us, El__Booking *ret,
                      char equipment_key_buf[EL_RECORD_KEY_MAX + 1])
{
    if (request->is_stub || !request->body || request->body->deleted
        || request->body->kind != EL__KIND__BOOKING_REQUEST)
        return EL_EINVAL;
    El__BookingRequest *r = el__booking_request__unpack (&el_pb_allocator,
                                                         request->payload_len,
                                                         request->payload);
    if (!r)
        return EL_EINVAL;
    int rc = EL_EINVAL;
    if (r->equipment_owner.len != EL_KEY_BYTES
        || memcmp (r->equipment_owner.data, owner, EL_KEY_BYTES) != 0)
        goto out;
    const char *reason = s_decline_reason (store, owner, request, r, now_us, &rc);
    if (rc < 0)
        goto out;
    El__Booking b = EL__BOOKING__INIT;
    b.request_origin.data = (uint8_t *) request->origin;
    b.request_origin.len = EL_KEY_BYTES;
    b.request_key = request->body->key;
    rc = EL_EINVAL;
    size_t key_len = strlen (r->equipment_key);
    if (key_len > EL_RECORD_KEY_MAX)
        goto out;
    memcpy (equipment_key_buf, r->equipment_key, key_len + 1);   /* with its NUL */
    b.equipment_key = equipment_key_buf;
    b.start_us = r->start_us;
    b.end_us = r->end_us;
    b.status = reason ? EL__BOOKING_STATUS__BOOKING_DECLINED
                      : EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    b.reason = (char *) (reason ? reason : "");
    *ret = b;
    rc = 0;
out:
    el__booking_request__free_unpacked (r, &el_pb_allocator);
    return rc;
}

typedef struct {
    const uint8_t *owner;
    el_store_t *store;
    el_entry_t **found;
    size_t n, max;
    int rc;
} s_pending_t;

static int
s_pending_fn (void *arg, const el_entry_t *e)
{
    s_pending_t *p = arg;
    El__BookingRequest *r = el__booking_request__unpack (&el_pb_allocator, e->payload_len,
                                                         e->payload);
    if (!r)
        return 0;
    bool mine = r->equipment_owner.len == EL_KEY_BYTES
                && memcmp (r->equipment_owner.data, p->owner, EL_KEY_BYTES) == 0;
    el__booking_request__free_unpacked (r, &el_pb_allocator);
    if (!mine)
        return 0;
    int answered = el_booking_is_answered (p->store, p->owner, e);
    if (answered != 0) {
        if (answered < 0)
            p->rc = answered;
        return answered < 0;
    }
    el_entry_t *copy = NULL;
    int rc = el_entry_parse (e->raw, e->raw_len, &copy);
    if (rc < 0) {
        p->rc = rc;
        return 1;
    }
    p->found[p->n++] = copy;
    return p->n >= p->max;
}

static int
s_by_time (const void *a, const void *b)
{
    const el_entry_t *x = *(el_entry_t *const *) a, *y = *(el_entry_t *const *) b;
    if (x->body->time_us != y->body->time_us)
        return x->body->time_us < y->body->time_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
el_booking_pending (el_store_t *store, const uint8_t owner[EL_KEY_BYTES], size_t max,
                    el_booking_request_fn *fn, void *arg)
{
    if (max == 0)
        return 0;
    s_pending_t p = { owner, store, calloc (max, sizeof (el_entry_t *)), 0, max, 0 };
    if (!p.found)
        return -ENOMEM;
    int rc = el_store_records (store, EL__KIND__BOOKING_REQUEST, NULL, s_pending_fn, &p);
    if (rc == 0)
        rc = p.rc;
    if (rc == 0) {
        qsort (p.found, p.n, sizeof *p.found, s_by_time);
        for (size_t i = 0; i < p.n && rc == 0; i++)
            rc = fn (arg, p.found[i]);
    }
    for (size_t i = 0; i < p.n; i++)
        el_entry_destroy (&p.found[i]);
    free (p.found);
    return rc;
}
