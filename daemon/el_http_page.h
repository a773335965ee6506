/* el_http_page.h — what the web endpoint (el_http.h) serves, rendered from
 * a snapshot: the decoded events, equipment and sites, copied out of the
 * store by the reactor. A snapshot is immutable once published; renderers
 * read it from any thread. Every string is owned by the snapshot, UTF-8 as
 * the records hold it (not yet escaped: each renderer escapes for its
 * format). Internal to daemon/. */
#ifndef EL_HTTP_PAGE_H
#define EL_HTTP_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_tz.h"

typedef struct {
    char *uid, *summary, *description, *tzid, *rrule, *location, *category, *url;
    const char *site_name;              /* into the snapshot's sites, or "" */
    char site[EL_KEY_TEXT_BYTES];       /* hosting site id, base64url */
    int64_t start_us, end_us;           /* UTC µs since the Unix epoch; end 0 = none */
    char *recurrence_id;                /* value text, "" = none */
    char **rdate, **exdate;             /* value texts (UTC "...Z", dates, periods) */
    size_t rdate_n, exdate_n;
    const el_tz_t *tz;                  /* the zone of tzid, while the role runs; NULL =
                                         * times written in UTC */
    int32_t start_off, end_off;         /* seconds east of UTC of the event's zone (tzid)
                                         * at start and end; 0 for UTC, floating, all-day
                                         * or a zone the system does not know */
    int64_t modified_us;                /* its entry's time, µs */
    bool all_day;
    uint32_t capacity, sequence;
    int status;                         /* El__EventStatus */
} el_http_event_t;

typedef struct {
    char *key, *name, *category, *make, *model, *training, *location;
    const char *owner_name;             /* into the snapshot's sites, or "" */
    char owner[EL_KEY_TEXT_BYTES];
    const char *status;                 /* static: available, in_use, maintenance,
                                         * out_of_order, unknown (stale or unset) */
    const char *bookable_by;            /* static: site, network, federation */
    El__Equipment *record;              /* the record as stored (its status for
                                         * el_booking_busy) */
    int64_t modified_us;
} el_http_equipment_t;

/* A confirmed booking that has not ended yet (who booked is not kept). */
typedef struct {
    uint8_t owner[EL_KEY_BYTES];        /* the machine's owner, who wrote the answer */
    El__Booking *record;
} el_http_booking_t;

typedef struct {
    char *name, *town, *url, *services, *opening_hours; /* services joined by ", " */
    char id[EL_KEY_TEXT_BYTES];
    uint8_t key[EL_KEY_BYTES];
    const char *kind;                   /* static: central, peripheral, federated, broker, "" */
    const el_tz_t *tz;                  /* its zone while the role runs; NULL = UTC */
    char zone[EL_TZ_NAME_MAX];          /* the name of tz; "UTC" when NULL */
    bool active;
    int64_t modified_us;
} el_http_site_t;

/* One occurrence on the agenda pages: an event, or one date of a recurring
 * event (its RRULE expanded in its zone, EXDATEs and moved occurrences left
 * out), inside the snapshot's window. */
typedef struct {
    const el_http_event_t *ev;          /* into the snapshot's events */
    int64_t start_us, end_us;           /* UTC µs; end 0 = none */
    int32_t start_off, end_off;         /* seconds east of UTC in the event's zone */
} el_http_occ_t;

typedef struct {
    el_http_event_t *events;            /* by start time */
    size_t events_n;
    el_http_occ_t *occ;                 /* by start time, starting in [occ_from_us, occ_to_us) */
    size_t occ_n;
    int64_t occ_from_us, occ_to_us;
    el_http_equipment_t *equipment;     /* by owner name, then name */
    size_t equipment_n;
    el_http_site_t *sites;              /* by name */
    size_t sites_n;
    el_http_booking_t *bookings;        /* confirmed, not ended when built; any order */
    size_t bookings_n;
    int64_t modified_us;                /* latest entry time of all the above; 0 = none */
    int64_t built_us;                   /* when the reactor built it, µs since the epoch */
} el_http_snap_t;

void el_http_snap_free (el_http_snap_t *snap);

/* A growing byte buffer. On allocation failure it stops growing and sets
 * `failed`; callers check that once at the end. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} el_sb_t;

void el_sb_put (el_sb_t *sb, const char *s, size_t len);
void el_sb_puts (el_sb_t *sb, const char *s);
void el_sb_printf (el_sb_t *sb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* What a request asked for: the filters (NULL = all) and the language. */
typedef struct {
    const char *site;                   /* a site's name or id */
    const char *category;               /* an event category, case-insensitive */
    const char *host;                   /* the request's Host when it is a plain host[:port]
                                         * (for webcal:// links); NULL otherwise */
    bool french;
    bool equipment;                     /* the machines are listed (http_equipment) */
    int64_t now_us;
    const char *owner, *key;            /* /equipment/OWNER/KEY: the machine */
    int weeks;                          /* its availability, 1..EL_HTTP_WEEKS_MAX */
} el_http_query_t;

#define EL_HTTP_WEEKS_DEFAULT 4
#define EL_HTTP_WEEKS_MAX     12

/** Site @p key of the snapshot's directory, or NULL. */
const el_http_site_t *el_http_site_find (const el_http_snap_t *s,
                                         const uint8_t key[EL_KEY_BYTES]);

/** The machine /equipment/OWNER/KEY names (q->owner: its owner's id,
 * q->key: its record key), or NULL. */
const el_http_equipment_t *el_http_machine (const el_http_snap_t *s, const el_http_query_t *q);

/** Does @p ev pass the filters of @p q? */
bool el_http_event_match (const el_http_event_t *ev, const el_http_query_t *q);

/* Renderers: append the body to @p sb. */
void el_http_render_ics (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb);
void el_http_render_events_json (const el_http_snap_t *s, el_sb_t *sb);
void el_http_render_equipment_json (const el_http_snap_t *s, el_sb_t *sb);
void el_http_render_sites_json (const el_http_snap_t *s, el_sb_t *sb);
/** @p embed: the compact fragment for an iframe (no navigation). */
void el_http_render_agenda (const el_http_snap_t *s, const el_http_query_t *q, bool embed,
                            el_sb_t *sb);
void el_http_render_equipment (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb);
void el_http_render_sites (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb);
/** One machine's availability for q->weeks from q->now_us (el_booking_busy):
 * its bookings' times, maintenance, its owner's opening hours, in the
 * owner's zone. The caller checked el_http_machine() is not NULL. */
void el_http_render_machine (const el_http_snap_t *s, const el_http_query_t *q, el_sb_t *sb);

#endif
