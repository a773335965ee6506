/* el_http.c — the web endpoint (el_http.h): snapshots built in the reactor,
 * served by libmicrohttpd's own thread. */
#include "el_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "el_error.h"
#include "el_http_page.h"
#include "el_http_req.h"
#include "el_log.h"
#include "el_node.h"
#include "el_recur.h"
#include "el_tz.h"
#include "entrelab.pb-c.h"

/* HTTP statuses counted for /metrics; anything else is counted as "other". */
static const unsigned s_statuses[] = { 200, 304, 400, 404, 405, 414, 431, 500, 503 };
#define S_STATUSES (sizeof s_statuses / sizeof s_statuses[0])

#define S_ZONES_MAX 32          /* time zones remembered (each event names one) */
#define S_LAG_MAX   256         /* peers whose lag in seconds is followed */

#define S_CACHE_SLOTS 5         /* bodies kept per snapshot: agenda.ics (fr, en), api x3 */

/* A published snapshot and its references (the HTTP thread's requests and
 * the responses still sending one of its cached bodies). */
typedef struct {
    el_http_snap_t snap;
    int refs;                           /* under el_http_t.lock */
    struct el_http *owner;
    struct {
        char *data;                     /* NULL until first rendered; under the lock */
        size_t len;
        char etag[2 * 16 + 3];
    } cache[S_CACHE_SLOTS];
} s_ref_t;

typedef struct el_http {
    el_node_t *node;                    /* reactor thread only */
    bool equipment;                     /* http_equipment, copied at start for the HTTP thread */
    struct MHD_Daemon *mhd;             /* http_listen: every route; NULL when unset */
    struct MHD_Daemon *mhd_metrics;     /* metrics_listen: /metrics alone; NULL when unset */
    pthread_mutex_t lock;               /* guards current, current->refs, metrics */
    s_ref_t *current;
    char *metrics;                      /* rendered store/sync counters, NUL-terminated */
    bool dirty;                         /* an entry changed what the snapshot shows */
    int64_t built_mono_us, metrics_mono_us;
    atomic_uint_fast64_t requests[S_STATUSES + 1];
    struct {
        char name[EL_TZ_NAME_MAX];
        el_tz_t *tz;                    /* NULL: the system does not know it */
    } zones[S_ZONES_MAX];               /* reactor thread only */
    size_t zones_n;
    struct {
        uint8_t key[EL_KEY_BYTES];
        int64_t caught_up_us;           /* last render it lacked nothing, µs since the epoch */
    } lag[S_LAG_MAX];                   /* reactor thread only; the peers seen lately */
    size_t lag_n;
} el_http_t;

static int64_t
s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ snapshot (reactor thread) */

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

void
el_http_snap_free (el_http_snap_t *s)
{
    for (size_t i = 0; i < s->events_n; i++) {
        el_http_event_t *e = &s->events[i];
        free (e->uid); free (e->summary); free (e->description); free (e->tzid);
        free (e->rrule); free (e->location); free (e->category); free (e->url);
        free (e->recurrence_id);
        for (size_t j = 0; j < e->rdate_n; j++)
            free (e->rdate[j]);
        for (size_t j = 0; j < e->exdate_n; j++)
            free (e->exdate[j]);
        free (e->rdate);
        free (e->exdate);
    }
    for (size_t i = 0; i < s->equipment_n; i++) {
        el_http_equipment_t *e = &s->equipment[i];
        free (e->key); free (e->name); free (e->category); free (e->make);
        free (e->model); free (e->training); free (e->location);
        if (e->record)
            el__equipment__free_unpacked (e->record, NULL);
    }
    for (size_t i = 0; i < s->bookings_n; i++)
        el__booking__free_unpacked (s->bookings[i].record, NULL);
    free (s->bookings);
    for (size_t i = 0; i < s->sites_n; i++) {
        el_http_site_t *e = &s->sites[i];
        free (e->name); free (e->town); free (e->url); free (e->services);
        free (e->opening_hours);
    }
    free (s->events);
    free (s->occ);
    free (s->equipment);
    free (s->sites);
    memset (s, 0, sizeof *s);
}

typedef struct {
    el_http_t *self;
    el_http_snap_t *s;
    size_t cap;
    const uint8_t *network;
    int rc;
    int64_t now_us;
} s_build_t;

/* Make room for one more element of @p size in *arr. */
static void *
s_slot (void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *a = realloc (*arr, c * size);
        if (!a)
            return NULL;
        *arr = a;
        *cap = c;
    }
    void *slot = (char *) *arr + *n * size;
    memset (slot, 0, size);
    (*n)++;
    return slot;
}

static const char *
s_site_kind (int k)
{
    switch (k) {
    case EL__SITE_KIND__CENTRAL: return "central";
    case EL__SITE_KIND__PERIPHERAL: return "peripheral";
    case EL__SITE_KIND__FEDERATED: return "federated";
    case EL__SITE_KIND__BROKER: return "broker";
    default: return "";
    }
}

static const el_tz_t *s_zone (el_http_t *self, const char *name, el_tz_t **tmp);

static int
s_site_cb (void *arg, const el_entry_t *e)
{
    s_build_t *b = arg;
    if (memcmp (e->origin, b->network, EL_KEY_BYTES) || !e->payload)
        return 0;              /* only the attestations of our network's broker */
    El__Site *p = el__site__unpack (NULL, e->payload_len, e->payload);
    if (!p)
        return 0;
    if (p->site_key.len != EL_KEY_BYTES) {
        el__site__free_unpacked (p, NULL);
        return 0;
    }
    el_http_site_t *x = s_slot ((void **) &b->s->sites, &b->s->sites_n, &b->cap, sizeof *x);
    if (!x) {
        el__site__free_unpacked (p, NULL);
        b->rc = -ENOMEM;
        return 1;
    }
    memcpy (x->key, p->site_key.data, EL_KEY_BYTES);
    el_key_to_text (x->key, x->id);
    size_t slen = 1;
    for (size_t i = 0; i < p->n_services; i++)
        slen += strlen (p->services[i]) + 2;
    x->services = calloc (1, slen);
    size_t at = 0;
    for (size_t i = 0; x->services && i < p->n_services; i++) {
        size_t len = strlen (p->services[i]);
        if (i) {
            memcpy (x->services + at, ", ", 2);
            at += 2;
        }
        memcpy (x->services + at, p->services[i], len);
        at += len;
    }
    x->name = s_dup (p->name);
    x->town = s_dup (p->town);
    x->url = s_dup (p->url);
    x->opening_hours = s_dup (p->opening_hours);
    x->kind = s_site_kind (p->kind);
    if (p->timezone && p->timezone[0]) {
        el_tz_t *tmp = NULL;
        const el_tz_t *tz = s_zone (b->self, p->timezone, &tmp);
        x->tz = tmp ? NULL : tz;       /* a zone freed below must not be kept */
        el_tz_destroy (&tmp);
    }
    snprintf (x->zone, sizeof x->zone, "%s", x->tz ? p->timezone : "UTC");
    x->active = p->status != EL__SITE_STATUS__REVOKED;
    x->modified_us = e->body->time_us;
    el__site__free_unpacked (p, NULL);
    if (!x->services || !x->name || !x->town || !x->url || !x->opening_hours)
        b->rc = -ENOMEM;
    return b->rc;
}

static const char *
s_site_name (const el_http_snap_t *s, const uint8_t *key)
{
    const el_http_site_t *site = el_http_site_find (s, key);
    return site ? site->name : "";
}

static char **
s_dup_list (char **src, size_t n)
{
    char **l = calloc (n ? n : 1, sizeof *l);
    for (size_t i = 0; l && i < n; i++)
        l[i] = s_dup (src[i]);
    return l;
}

/* RECURRENCE-ID, RDATE and EXDATE value texts of @p p into @p x. */
static int
s_event_dates (el_http_event_t *x, const El__Event *p)
{
    x->recurrence_id = s_dup (p->recurrence_id);
    x->rdate = s_dup_list (p->rdate, p->n_rdate);
    if (x->rdate)
        x->rdate_n = p->n_rdate;
    x->exdate = s_dup_list (p->exdate, p->n_exdate);
    if (x->exdate)
        x->exdate_n = p->n_exdate;
    bool ok = x->recurrence_id && x->rdate && x->exdate;
    for (size_t i = 0; ok && i < x->rdate_n; i++)
        ok = x->rdate[i] != NULL;
    for (size_t i = 0; ok && i < x->exdate_n; i++)
        ok = x->exdate[i] != NULL;
    return ok ? 0 : -ENOMEM;
}

/* The zone @p name, loaded once and kept (a name the system does not know
 * is remembered as such); NULL for "" and unknown names. When the cache is
 * full the zone is loaded for this call only and handed in *tmp to free. */
static const el_tz_t *
s_zone (el_http_t *self, const char *name, el_tz_t **tmp)
{
    if (strlen (name) >= EL_TZ_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < self->zones_n; i++)
        if (!strcmp (self->zones[i].name, name))
            return self->zones[i].tz;
    el_tz_t *tz = NULL;
    if (el_tz_load (name, &tz) < 0)
        tz = NULL;
    if (self->zones_n == S_ZONES_MAX) {
        *tmp = tz;
        return tz;
    }
    snprintf (self->zones[self->zones_n].name, EL_TZ_NAME_MAX, "%s", name);
    self->zones[self->zones_n++].tz = tz;
    return tz;
}

/* The event's offsets at its start and end, in its own zone. */
static void
s_event_zone (el_http_t *self, el_http_event_t *x, bool floating)
{
    if (x->all_day || floating || !x->tzid[0])
        return;
    el_tz_t *tmp = NULL;
    const el_tz_t *tz = s_zone (self, x->tzid, &tmp);
    if (tz) {
        x->start_off = el_tz_offset (tz, x->start_us / 1000000);
        x->end_off = x->end_us ? el_tz_offset (tz, x->end_us / 1000000) : x->start_off;
    }
    x->tz = tmp ? NULL : tz;   /* a zone freed below must not be kept */
    el_tz_destroy (&tmp);
}

static int
s_event_cb (void *arg, const el_entry_t *e)
{
    s_build_t *b = arg;
    if (!e->payload)
        return 0;
    El__Event *p = el__event__unpack (NULL, e->payload_len, e->payload);
    if (!p)
        return 0;
    el_http_event_t *x = s_slot ((void **) &b->s->events, &b->s->events_n, &b->cap, sizeof *x);
    if (!x) {
        el__event__free_unpacked (p, NULL);
        b->rc = -ENOMEM;
        return 1;
    }
    const uint8_t *site = p->site.len == EL_KEY_BYTES ? p->site.data : e->origin;
    el_key_to_text (site, x->site);
    x->site_name = s_site_name (b->s, site);
    x->uid = s_dup (p->uid && p->uid[0] ? p->uid : e->body->key);
    x->summary = s_dup (p->summary);
    x->description = s_dup (p->description);
    x->tzid = s_dup (p->tzid);
    x->rrule = s_dup (p->rrule);
    x->location = s_dup (p->location);
    x->category = s_dup (p->category);
    x->url = s_dup (p->url);
    x->start_us = p->dtstart_us;
    x->end_us = p->dtend_us;
    x->all_day = p->all_day;
    x->capacity = p->capacity;
    x->sequence = p->sequence;
    x->status = p->status;
    x->modified_us = e->body->time_us;
    bool floating = p->floating;
    int rc = s_event_dates (x, p);
    el__event__free_unpacked (p, NULL);
    if (rc < 0)
        b->rc = rc;
    if (x->tzid)
        s_event_zone (b->self, x, floating);
    if (!x->uid || !x->summary || !x->description || !x->tzid || !x->rrule || !x->location
        || !x->category || !x->url)
        b->rc = -ENOMEM;
    return b->rc;
}

static const char *
s_equipment_status (const El__Equipment *p, int64_t now_us)
{
    if (p->status_valid_until_us && p->status_valid_until_us < now_us)
        return "unknown";
    switch (p->status) {
    case EL__EQUIPMENT_STATUS__AVAILABLE: return "available";
    case EL__EQUIPMENT_STATUS__IN_USE: return "in_use";
    case EL__EQUIPMENT_STATUS__MAINTENANCE: return "maintenance";
    case EL__EQUIPMENT_STATUS__OUT_OF_ORDER: return "out_of_order";
    default: return "unknown";
    }
}

static const char *
s_sharing (int v)
{
    switch (v) {
    case EL__SHARING__SHARING_NETWORK: return "network";
    case EL__SHARING__SHARING_FEDERATION: return "federation";
    default: return "site";
    }
}

static int
s_equipment_cb (void *arg, const el_entry_t *e)
{
    s_build_t *b = arg;
    if (!e->payload)
        return 0;
    El__Equipment *p = el__equipment__unpack (NULL, e->payload_len, e->payload);
    if (!p)
        return 0;
    el_http_equipment_t *x = s_slot ((void **) &b->s->equipment, &b->s->equipment_n, &b->cap,
                                     sizeof *x);
    if (!x) {
        el__equipment__free_unpacked (p, NULL);
        b->rc = -ENOMEM;
        return 1;
    }
    el_key_to_text (e->origin, x->owner);
    x->owner_name = s_site_name (b->s, e->origin);
    x->key = s_dup (e->body->key);
    x->name = s_dup (p->name);
    x->category = s_dup (p->category);
    x->make = s_dup (p->make);
    x->model = s_dup (p->model);
    x->training = s_dup (p->required_training);
    x->location = s_dup (p->location);
    x->status = s_equipment_status (p, b->now_us);
    x->bookable_by = s_sharing (p->bookable_by);
    x->modified_us = e->body->time_us;
    x->record = p;
    if (!x->key || !x->name || !x->category || !x->make || !x->model || !x->training
        || !x->location)
        b->rc = -ENOMEM;
    return b->rc;
}

static int
s_booking_cb (void *arg, const el_entry_t *e)
{
    s_build_t *b = arg;
    if (!e->payload)
        return 0;
    El__Booking *p = el__booking__unpack (NULL, e->payload_len, e->payload);
    if (!p)
        return 0;
    if (p->status != EL__BOOKING_STATUS__BOOKING_CONFIRMED || p->end_us <= b->now_us) {
        el__booking__free_unpacked (p, NULL);
        return 0;
    }
    el_http_booking_t *x = s_slot ((void **) &b->s->bookings, &b->s->bookings_n, &b->cap,
                                   sizeof *x);
    if (!x) {
        el__booking__free_unpacked (p, NULL);
        b->rc = -ENOMEM;
        return 1;
    }
    memcpy (x->owner, e->origin, EL_KEY_BYTES);
    x->record = p;
    return 0;
}

static int
s_cmp_event (const void *a, const void *b)
{
    const el_http_event_t *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return strcmp (x->uid, y->uid);
}

static int
s_cmp_site (const void *a, const void *b)
{
    const el_http_site_t *x = a, *y = b;
    return strcasecmp (x->name, y->name);
}

static int
s_cmp_equipment (const void *a, const void *b)
{
    const el_http_equipment_t *x = a, *y = b;
    int c = strcasecmp (x->owner_name, y->owner_name);
    return c ? c : strcasecmp (x->name, y->name);
}

/* A DATE or DATE-TIME value text: @p ret_s its seconds (local, or UTC when
 * @p ret_utc), @p ret_date for a date. @return false when it is neither. */
static bool
s_when (const char *v, int64_t *ret_s, bool *ret_utc, bool *ret_date)
{
    size_t len = strlen (v);
    struct tm tm = { 0 };
    const char *end = strptime (v, len == 8 ? "%Y%m%d" : "%Y%m%dT%H%M%S", &tm);
    if (!end || (*end && strcmp (end, "Z")))
        return false;
    *ret_s = (int64_t) timegm (&tm);
    *ret_utc = *end == 'Z';
    *ret_date = len == 8;
    return true;
}

/* Does value text @p v name the occurrence at @p utc (local @p local)? */
static bool
s_same_when (const char *v, int64_t utc, int64_t local)
{
    int64_t t;
    bool is_utc, is_date;
    if (!s_when (v, &t, &is_utc, &is_date))
        return false;
    if (is_date)
        return t / 86400 == (local >= 0 ? local : local - 86399) / 86400;
    return t == (is_utc ? utc : local);
}

/* The events that move one occurrence of another (RECURRENCE-ID). */
typedef struct {
    const el_http_event_t **ev;
    size_t n;
} s_moved_t;

/* Is the occurrence at @p utc of @p ev left out: an EXDATE, or moved by
 * another event of the same UID whose RECURRENCE-ID names it? */
static bool
s_left_out (const s_moved_t *moved, const el_http_event_t *ev, int64_t utc, int64_t local)
{
    for (size_t i = 0; i < ev->exdate_n; i++)
        if (s_same_when (ev->exdate[i], utc, local))
            return true;
    for (size_t i = 0; i < moved->n; i++) {
        const el_http_event_t *o = moved->ev[i];
        if (o != ev && !strcmp (o->uid, ev->uid) && s_same_when (o->recurrence_id, utc, local))
            return true;
    }
    return false;
}

static el_http_occ_t *
s_occ_add (el_http_snap_t *s, size_t *cap)
{
    return s_slot ((void **) &s->occ, &s->occ_n, cap, sizeof *s->occ);
}

/* The occurrences of recurring @p ev in the window; an RRULE this reader
 * does not expand gives its first date only. */
static int
s_occ_expand (el_http_snap_t *s, const el_http_event_t *ev, const s_moved_t *moved,
              size_t *cap)
{
    enum { MAX = 64 };
    int64_t local[MAX];
    size_t n = 0;
    int64_t start_l = ev->start_us / 1000000 + ev->start_off;
    int64_t dur_us = ev->end_us ? ev->end_us - ev->start_us : 0;
    int rc = el_recur_expand (ev->rrule, start_l, ev->tz, s->occ_from_us / 1000000 - 86400,
                              s->occ_to_us / 1000000 + 86400, local, MAX, &n);
    if (rc < 0 && rc != EL_ETOOBIG) {
        local[0] = start_l;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t utc = ev->all_day || !ev->tz ? local[i] - ev->start_off
                                             : el_tz_local_to_utc (ev->tz, local[i]);
        int64_t us = utc * 1000000;
        if (us < s->occ_from_us || us >= s->occ_to_us || s_left_out (moved, ev, utc, local[i]))
            continue;
        el_http_occ_t *o = s_occ_add (s, cap);
        if (!o)
            return -ENOMEM;
        *o = (el_http_occ_t) { ev, us, dur_us ? us + dur_us : 0, ev->start_off, ev->end_off };
        if (ev->tz && !ev->all_day) {
            o->start_off = el_tz_offset (ev->tz, utc);
            o->end_off = dur_us ? el_tz_offset (ev->tz, (us + dur_us) / 1000000) : o->start_off;
        }
    }
    return 0;
}

static int
s_cmp_occ (const void *a, const void *b)
{
    const el_http_occ_t *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return strcmp (x->ev->uid, y->ev->uid);
}

/* The agenda's occurrences: from yesterday (UTC) for the pages' days to
 * come, by start time. */
static int
s_occ_build (el_http_snap_t *s)
{
    size_t cap = 0;
    int64_t day_us = 86400LL * 1000000;
    s_moved_t moved = { calloc (s->events_n + 1, sizeof *moved.ev), 0 };
    if (!moved.ev)
        return -ENOMEM;
    for (size_t i = 0; i < s->events_n; i++)
        if (s->events[i].recurrence_id[0])
            moved.ev[moved.n++] = &s->events[i];
    s->occ_from_us = (s->built_us / day_us - 1) * day_us;
    s->occ_to_us = s->occ_from_us + (EL_HTTP_AGENDA_DAYS + 3) * day_us;
    for (size_t i = 0; i < s->events_n; i++) {
        const el_http_event_t *ev = &s->events[i];
        if (ev->rrule[0]) {
            int rc = s_occ_expand (s, ev, &moved, &cap);
            if (rc < 0) {
                free (moved.ev);
                return rc;
            }
            continue;
        }
        if (ev->start_us < s->occ_from_us || ev->start_us >= s->occ_to_us)
            continue;
        el_http_occ_t *o = s_occ_add (s, &cap);
        if (!o) {
            free (moved.ev);
            return -ENOMEM;
        }
        *o = (el_http_occ_t) { ev, ev->start_us, ev->end_us, ev->start_off, ev->end_off };
    }
    free (moved.ev);
    if (s->occ_n)
        qsort (s->occ, s->occ_n, sizeof *s->occ, s_cmp_occ);
    return 0;
}

/* Read the events, equipment and sites of the store into @p s. Sites first:
 * the others point to their site's name (a string of the snapshot, which
 * does not move when the arrays are sorted). */
static int
s_snap_build (el_http_t *self, el_http_snap_t *s)
{
    el_store_t *store = el_node_store (self->node);
    s_build_t b = { self, s, 0, el_node_network (self->node), 0, el_now_us () };
    int rc = el_store_records (store, EL__KIND__SITE, NULL, s_site_cb, &b);
    b.cap = 0;
    if (rc == 0 && b.rc == 0)
        rc = el_store_records (store, EL__KIND__EVENT, NULL, s_event_cb, &b);
    b.cap = 0;
    if (rc == 0 && b.rc == 0)
        rc = el_store_records (store, EL__KIND__EQUIPMENT, NULL, s_equipment_cb, &b);
    b.cap = 0;
    if (rc == 0 && b.rc == 0 && self->equipment)
        rc = el_store_records (store, EL__KIND__BOOKING, NULL, s_booking_cb, &b);
    if (rc == 0)
        rc = b.rc;
    if (rc < 0)
        return rc;
    if (s->sites_n)
        qsort (s->sites, s->sites_n, sizeof *s->sites, s_cmp_site);
    if (s->events_n)
        qsort (s->events, s->events_n, sizeof *s->events, s_cmp_event);
    if (s->equipment_n)
        qsort (s->equipment, s->equipment_n, sizeof *s->equipment, s_cmp_equipment);
    for (size_t i = 0; i < s->events_n; i++)
        if (s->events[i].modified_us > s->modified_us)
            s->modified_us = s->events[i].modified_us;
    for (size_t i = 0; i < s->equipment_n; i++)
        if (s->equipment[i].modified_us > s->modified_us)
            s->modified_us = s->equipment[i].modified_us;
    for (size_t i = 0; i < s->sites_n; i++)
        if (s->sites[i].modified_us > s->modified_us)
            s->modified_us = s->sites[i].modified_us;
    s->built_us = b.now_us;
    return s_occ_build (s);
}

static void
s_release (el_http_t *self, s_ref_t *r)
{
    if (!r)
        return;
    pthread_mutex_lock (&self->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock (&self->lock);
    if (last) {
        for (size_t i = 0; i < S_CACHE_SLOTS; i++)
            free (r->cache[i].data);
        el_http_snap_free (&r->snap);
        free (r);
    }
}

static s_ref_t *
s_acquire (el_http_t *self)
{
    pthread_mutex_lock (&self->lock);
    s_ref_t *r = self->current;
    if (r)
        r->refs++;
    pthread_mutex_unlock (&self->lock);
    return r;
}

static int
s_publish (el_http_t *self)
{
    s_ref_t *r = calloc (1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int64_t t0 = s_mono_us ();
    int rc = s_snap_build (self, &r->snap);
    el_log (EL_LOG_DEBUG, "http_snapshot", "events=%zu occurrences=%zu equipment=%zu sites=%zu "
            "ms=%.1f rc=%d", r->snap.events_n, r->snap.occ_n, r->snap.equipment_n,
            r->snap.sites_n, (double) (s_mono_us () - t0) / 1000.0, rc);
    if (rc < 0) {
        el_http_snap_free (&r->snap);
        free (r);
        return rc;
    }
    r->refs = 1;
    r->owner = self;
    pthread_mutex_lock (&self->lock);
    s_ref_t *old = self->current;
    self->current = r;
    pthread_mutex_unlock (&self->lock);
    s_release (self, old);
    return 0;
}

/* ------------------------------------------------------------ metrics (reactor thread) */

static void
s_metric (el_sb_t *sb, const char *name, const char *type, const char *help, uint64_t v)
{
    el_sb_printf (sb, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
                  name, v);
}

/* Seconds @p p has lacked something this daemon holds: since the last
 * render that found it holding everything (since it was first seen, when
 * it never did); 0 when it lacks nothing. */
static int64_t
s_lag_seconds (el_http_t *self, const el_node_peer_t *p, int64_t now)
{
    size_t i = 0;
    while (i < self->lag_n && memcmp (self->lag[i].key, p->key, EL_KEY_BYTES))
        i++;
    if (i == self->lag_n) {
        if (self->lag_n == S_LAG_MAX)
            i = (size_t) (now % S_LAG_MAX);  /* forget one: its lag starts again */
        else
            self->lag_n++;
        memcpy (self->lag[i].key, p->key, EL_KEY_BYTES);
        self->lag[i].caught_up_us = now;
    }
    if (p->behind == 0)
        self->lag[i].caught_up_us = now;
    return (now - self->lag[i].caught_up_us) / 1000000;
}

/* The store's commit-time histogram (Prometheus: cumulative buckets in
 * seconds, _sum, _count). */
static void
s_metrics_commits (el_sb_t *sb, const el_store_stats_t *st)
{
    static const int64_t bounds[] = EL_STORE_COMMIT_BOUNDS_US;
    el_sb_puts (sb, "# HELP entrelab_store_commit_seconds Time of a store write transaction, "
                    "from begin to durable commit.\n"
                    "# TYPE entrelab_store_commit_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < EL_STORE_COMMIT_BUCKETS; i++) {
        cum += st->commit_us_buckets[i];
        if (i < sizeof bounds / sizeof bounds[0])
            el_sb_printf (sb, "entrelab_store_commit_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                          (double) bounds[i] / 1e6, cum);
        else
            el_sb_printf (sb, "entrelab_store_commit_seconds_bucket{le=\"+Inf\"} %" PRIu64
                          "\n", cum);
    }
    el_sb_printf (sb, "entrelab_store_commit_seconds_sum %.6f\n"
                      "entrelab_store_commit_seconds_count %" PRIu64 "\n",
                  (double) st->commit_us_sum / 1e6, cum);
}

/* Per peer with a session: entries it lacks, for how long, seconds since
 * its last frame. */
static void
s_metrics_peers (el_http_t *self, el_sb_t *sb)
{
    enum { MAX = 256 };
    static el_node_peer_t peers[MAX];     /* reactor thread only */
    size_t n = el_node_peers (self->node, peers, MAX);
    int64_t now = el_now_us ();
    el_sb_puts (sb, "# HELP entrelab_peer_lag_seconds Seconds a peer has lacked entries this "
                    "daemon holds (0 when it lacks none).\n"
                    "# TYPE entrelab_peer_lag_seconds gauge\n");
    for (size_t i = 0; i < n; i++) {
        char k[EL_KEY_TEXT_BYTES];
        el_key_to_text (peers[i].key, k);
        el_sb_printf (sb, "entrelab_peer_lag_seconds{peer=\"%s\"} %lld\n", k,
                      (long long) s_lag_seconds (self, &peers[i], now));
    }
    el_sb_puts (sb, "# HELP entrelab_peer_behind_entries Entries a peer lacks that this "
                    "daemon holds.\n# TYPE entrelab_peer_behind_entries gauge\n");
    for (size_t i = 0; i < n; i++) {
        char k[EL_KEY_TEXT_BYTES];
        el_key_to_text (peers[i].key, k);
        el_sb_printf (sb, "entrelab_peer_behind_entries{peer=\"%s\"} %" PRIu64 "\n", k,
                      peers[i].behind);
    }
    el_sb_puts (sb, "# HELP entrelab_peer_silent_seconds Seconds since a peer's last frame.\n"
                    "# TYPE entrelab_peer_silent_seconds gauge\n");
    for (size_t i = 0; i < n; i++) {
        char k[EL_KEY_TEXT_BYTES];
        el_key_to_text (peers[i].key, k);
        int64_t s = peers[i].last_seen_us ? (now - peers[i].last_seen_us) / 1000000 : 0;
        el_sb_printf (sb, "entrelab_peer_silent_seconds{peer=\"%s\"} %lld\n", k,
                      (long long) (s > 0 ? s : 0));
    }
}

/* The store's and sync core's counters, as Prometheus text; the HTTP
 * requests are added by the HTTP thread when it serves /metrics. */
static void
s_metrics_render (el_http_t *self)
{
    el_store_stats_t st;
    el_sync_stats_t sy;
    el_store_stats (el_node_store (self->node), &st);
    el_sync_stats (el_node_sync (self->node), &sy);
    uint64_t held = 0;
    el_head_t *heads = NULL;
    size_t heads_n = 0;
    if (el_store_heads (el_node_store (self->node), &heads, &heads_n) == 0)
        for (size_t i = 0; i < heads_n; i++)
            held += heads[i].seq;
    free (heads);
    el_sb_t sb = { 0 };
    s_metric (&sb, "entrelab_entries_held", "gauge",
              "Entries in the store (every origin's contiguous log).", held);
    s_metric (&sb, "entrelab_entries_applied_total", "counter",
              "Entries stored since start (local writes and received).", st.applied);
    s_metric (&sb, "entrelab_entries_duplicate_total", "counter",
              "Entries received that the store already held.", st.duplicates);
    s_metric (&sb, "entrelab_entries_received_total", "counter",
              "Entries received from peers.", sy.entries_in);
    s_metric (&sb, "entrelab_entries_sent_total", "counter", "Entries sent to peers.",
              sy.entries_out);
    s_metric (&sb, "entrelab_forks_total", "counter", "Forks detected.", st.forks);
    s_metric (&sb, "entrelab_store_commits_total", "counter", "Store write transactions.",
              st.commits);
    s_metrics_commits (&sb, &st);
    s_metric (&sb, "entrelab_store_map_bytes", "gauge", "Size of the store's map, bytes.",
              st.map_bytes);
    s_metric (&sb, "entrelab_peers_connected", "gauge", "Peers with an open sync session.",
              el_node_peers_connected (self->node));
    s_metrics_peers (self, &sb);
    el_handshake_stats_t hs;
    el_node_handshake_stats (self->node, &hs);
    s_metric (&sb, "entrelab_handshakes_open", "gauge",
              "Inbound connections in their ZMTP/CURVE handshake now.", (uint64_t) hs.open);
    el_sb_puts (&sb, "# HELP entrelab_handshakes_refused_total Inbound connections shut down "
                     "while in handshake, over a cap, by reason.\n"
                     "# TYPE entrelab_handshakes_refused_total counter\n");
    for (unsigned i = 0; i < EL_HANDSHAKE_REASONS; i++)
        el_sb_printf (&sb, "entrelab_handshakes_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                      el_handshake_reason_name ((el_handshake_reason_t) i), hs.refused[i]);
    el_sb_puts (&sb, "# HELP entrelab_entries_rejected_total Entries refused, by reason.\n"
                     "# TYPE entrelab_entries_rejected_total counter\n");
    for (unsigned i = 0; i < EL_ERROR_SLOTS; i++)
        if (sy.rejected_by_reason[i])
            el_sb_printf (&sb, "entrelab_entries_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
                          i ? el_strcode (el_error_of_slot (i)) : "other",
                          sy.rejected_by_reason[i]);
    if (sb.failed) {
        free (sb.data);
        return;
    }
    pthread_mutex_lock (&self->lock);
    char *old = self->metrics;
    self->metrics = sb.data;
    pthread_mutex_unlock (&self->lock);
    free (old);
}

/* ------------------------------------------------------------ requests (HTTP thread) */

static void
s_count (el_http_t *self, unsigned status)
{
    size_t i = 0;
    while (i < S_STATUSES && s_statuses[i] != status)
        i++;
    atomic_fetch_add (&self->requests[i], 1);
}

static enum MHD_Result
s_queue (el_http_t *self, struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    s_count (self, status);
    enum MHD_Result ok = MHD_queue_response (c, status, r);
    MHD_destroy_response (r);
    return ok;
}

static enum MHD_Result
s_plain (el_http_t *self, struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (strlen (text), (void *) text,
                                                              MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header (r, "Content-Type", "text/plain; charset=utf-8");
    if (status == 405)
        MHD_add_response_header (r, "Allow", "GET, HEAD");
    return s_queue (self, c, status, r);
}

static bool
s_french (struct MHD_Connection *c)
{
    return el_http_french (MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Accept-Language"));
}

static const char *
s_host (struct MHD_Connection *c)
{
    return el_http_host (MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Host"));
}

typedef el_http_route_t s_route_t;
#define s_routes el_http_routes
#define S_MACHINE_ROUTE (el_http_routes_n - 1)

static void
s_render (el_http_t *self, s_route_t route, const el_http_snap_t *s, const el_http_query_t *q,
          el_sb_t *sb)
{
    switch (route) {
    case EL_HTTP_ICS: el_http_render_ics (s, q, sb); break;
    case EL_HTTP_HTML: el_http_render_agenda (s, q, false, sb); break;
    case EL_HTTP_EMBED: el_http_render_agenda (s, q, true, sb); break;
    case EL_HTTP_EQUIP_HTML: el_http_render_equipment (s, q, sb); break;
    case EL_HTTP_SITES_HTML: el_http_render_sites (s, q, sb); break;
    case EL_HTTP_MACHINE_HTML: el_http_render_machine (s, q, sb); break;
    case EL_HTTP_EVENTS_JSON: el_http_render_events_json (s, sb); break;
    case EL_HTTP_EQUIP_JSON: el_http_render_equipment_json (s, sb); break;
    case EL_HTTP_SITES_JSON: el_http_render_sites_json (s, sb); break;
    case EL_HTTP_METRICS: {
        pthread_mutex_lock (&self->lock);
        el_sb_puts (sb, self->metrics ? self->metrics : "");
        pthread_mutex_unlock (&self->lock);
        el_sb_puts (sb, "# HELP entrelab_http_requests_total HTTP responses, by status.\n"
                        "# TYPE entrelab_http_requests_total counter\n");
        for (size_t i = 0; i <= S_STATUSES; i++) {
            uint64_t n = atomic_load (&self->requests[i]);
            if (i < S_STATUSES)
                el_sb_printf (sb, "entrelab_http_requests_total{status=\"%u\"} %" PRIu64 "\n",
                              s_statuses[i], n);
            else
                el_sb_printf (sb, "entrelab_http_requests_total{status=\"other\"} %" PRIu64
                              "\n", n);
        }
        break;
    }
    }
}

/* 304 when the client holds this body already: If-None-Match (a list of
 * ETags, or *) decides when present, else If-Modified-Since. */
static bool
s_not_modified (struct MHD_Connection *c, const char *etag, int64_t modified_s)
{
    const char *inm = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "If-None-Match");
    if (inm)
        return strstr (inm, etag) != NULL || !strcmp (inm, "*");
    const char *ims = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "If-Modified-Since");
    if (!ims || !modified_s)
        return false;
    struct tm tm = { 0 };
    const char *end = strptime (ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return false;
    return (int64_t) timegm (&tm) >= modified_s;
}

static void
s_headers (struct MHD_Response *r, const char *type, const char *etag, int64_t modified_s,
           bool cors)
{
    char date[64] = "";
    time_t t = (time_t) modified_s;
    struct tm tm;
    if (modified_s && gmtime_r (&t, &tm))
        strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (type)
        MHD_add_response_header (r, "Content-Type", type);
    if (etag) {
        MHD_add_response_header (r, "ETag", etag);
        MHD_add_response_header (r, "Cache-Control", "no-cache");
    }
    if (date[0])
        MHD_add_response_header (r, "Last-Modified", date);
    if (cors)
        MHD_add_response_header (r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header (r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (r, "Vary", "Accept-Language");
}

/* A rendered body: owned (free it), or borrowed from the snapshot's cache
 * (the snapshot's reference keeps it alive). */
typedef struct {
    char *data;
    size_t len;
    char etag[2 * 16 + 3];              /* "" for /metrics */
    bool owned;
} s_body_t;

/* The cache slot of a response that depends on nothing but the snapshot
 * (and the language, for the feed's name); -1 when it is not cached. */
static int
s_cache_slot (s_route_t rt, const el_http_query_t *q)
{
    bool filtered = (q->site && q->site[0]) || (q->category && q->category[0]);
    switch (rt) {
    case EL_HTTP_ICS: return filtered ? -1 : q->french ? 0 : 1;
    case EL_HTTP_EVENTS_JSON: return 2;
    case EL_HTTP_EQUIP_JSON: return 3;
    case EL_HTTP_SITES_JSON: return 4;
    default: return -1;
    }
}

static int
s_body (el_http_t *self, s_ref_t *ref, s_route_t rt, const el_http_query_t *q, s_body_t *b)
{
    int slot = s_cache_slot (rt, q);
    bool hit = false;
    pthread_mutex_lock (&self->lock);
    if (slot >= 0 && ref->cache[slot].data) {
        *b = (s_body_t) { ref->cache[slot].data, ref->cache[slot].len, "", false };
        memcpy (b->etag, ref->cache[slot].etag, sizeof b->etag);
        hit = true;
    }
    pthread_mutex_unlock (&self->lock);
    if (hit)
        return 0;
    el_sb_t sb = { 0 };
    s_render (self, rt, &ref->snap, q, &sb);
    if (!sb.data && !sb.failed)
        el_sb_put (&sb, "", 0);
    if (sb.failed) {
        free (sb.data);
        return -ENOMEM;
    }
    *b = (s_body_t) { sb.data, sb.len, "", true };
    if (rt != EL_HTTP_METRICS) {
        uint8_t h[16];
        char hex[2 * 16 + 1];
        crypto_generichash (h, sizeof h, (const uint8_t *) sb.data, sb.len, NULL, 0);
        sodium_bin2hex (hex, sizeof hex, h, sizeof h);
        snprintf (b->etag, sizeof b->etag, "\"%s\"", hex);
    }
    if (slot < 0)
        return 0;
    pthread_mutex_lock (&self->lock);
    if (!ref->cache[slot].data) {           /* first: the snapshot keeps it */
        ref->cache[slot].data = b->data;
        ref->cache[slot].len = b->len;
        memcpy (ref->cache[slot].etag, b->etag, sizeof b->etag);
        b->owned = false;
    } else {                                /* another request was quicker */
        free (b->data);
        *b = (s_body_t) { ref->cache[slot].data, ref->cache[slot].len, "", false };
        memcpy (b->etag, ref->cache[slot].etag, sizeof b->etag);
    }
    pthread_mutex_unlock (&self->lock);
    return 0;
}

/* A response that sent a cached body is gone: drop its snapshot reference. */
static void
s_unref (void *cls)
{
    s_ref_t *ref = cls;
    s_release (ref->owner, ref);
}

/* ?weeks=N of a machine page: 1..EL_HTTP_WEEKS_MAX, else the default. */
static int
s_weeks (struct MHD_Connection *c)
{
    return el_http_weeks (MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "weeks"));
}

static enum MHD_Result
s_answer (el_http_t *self, struct MHD_Connection *c, size_t route, const char *owner,
          const char *key)
{
    s_ref_t *ref = s_acquire (self);
    if (!ref)
        return s_plain (self, c, 503, "not ready\n");
    el_http_query_t q = {
        .site = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "site"),
        .category = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "category"),
        .host = s_host (c),
        .french = s_french (c),
        .equipment = self->equipment,
        .now_us = el_now_us (),
        .owner = owner,
        .key = key,
        .weeks = s_weeks (c),
    };
    s_route_t rt = s_routes[route].route;
    if (rt == EL_HTTP_MACHINE_HTML && !el_http_machine (&ref->snap, &q)) {
        s_release (self, ref);
        return s_plain (self, c, 404, "not found\n");
    }
    s_body_t b;
    int64_t modified_s = rt == EL_HTTP_METRICS ? 0 : ref->snap.modified_us / 1000000;
    if (s_body (self, ref, rt, &q, &b) < 0) {
        s_release (self, ref);
        return s_plain (self, c, 500, "out of memory\n");
    }
    if (b.etag[0] && s_not_modified (c, b.etag, modified_s)) {
        struct MHD_Response *r = MHD_create_response_from_buffer (0, (void *) "",
                                                                  MHD_RESPMEM_PERSISTENT);
        if (r)
            s_headers (r, NULL, b.etag, modified_s, true);
        if (b.owned)
            free (b.data);
        s_release (self, ref);
        return s_queue (self, c, 304, r);
    }
    struct MHD_Response *r;
    if (b.owned) {
        s_release (self, ref);
        r = MHD_create_response_from_buffer (b.len, b.data, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free (b.data);
    } else {                    /* the response holds the reference until it is freed */
        r = MHD_create_response_from_buffer_with_free_callback_cls (b.len, b.data, s_unref, ref);
        if (!r)
            s_release (self, ref);
    }
    if (!r)
        return MHD_NO;
    s_headers (r, s_routes[route].type, b.etag[0] ? b.etag : NULL, modified_s, true);
    return s_queue (self, c, 200, r);
}

/* Two calls per request, as libmicrohttpd means them: the first one has
 * the headers; answering there is an "early" response after which the
 * connection closes (right for a method we refuse). The answer comes on the
 * last call, once the request is whole, so the connection is kept alive for
 * the next request (calendar apps and browsers reuse it).
 * @return true when the request is whole and may be answered; else false
 *         and *ret is what the access handler returns now. */
static bool
s_whole (el_http_t *self, struct MHD_Connection *c, const char *method,
         size_t *upload_data_size, void **req_cls, enum MHD_Result *ret)
{
    *ret = MHD_YES;
    if (!*req_cls) {
        *req_cls = self;
        if (strcmp (method, MHD_HTTP_METHOD_GET) && strcmp (method, MHD_HTTP_METHOD_HEAD))
            *ret = s_plain (self, c, 405, "method not allowed: GET and HEAD only\n");
        return false;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;          /* a body sent with a GET is dropped */
        return false;
    }
    return true;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **req_cls)
{
    (void) version;
    (void) upload_data;
    el_http_t *self = cls;
    enum MHD_Result early;
    if (!s_whole (self, c, method, upload_data_size, req_cls, &early))
        return early;
    char owner[EL_KEY_TEXT_BYTES];
    const char *key = NULL;
    int route = el_http_route (url, self->equipment, owner, &key);
    if (route == EL_HTTP_TOO_LONG)
        return s_plain (self, c, 414, "URI too long\n");
    if (route < 0)
        return s_plain (self, c, 404, "not found\n");
    if ((size_t) route == S_MACHINE_ROUTE)
        return s_answer (self, c, (size_t) route, owner, key);
    return s_answer (self, c, (size_t) route, NULL, NULL);
}

/* metrics_listen: /metrics alone (GET, HEAD), everything else 404. */
static enum MHD_Result
s_access_metrics (void *cls, struct MHD_Connection *c, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_data_size,
                  void **req_cls)
{
    (void) version;
    (void) upload_data;
    el_http_t *self = cls;
    enum MHD_Result early;
    if (!s_whole (self, c, method, upload_data_size, req_cls, &early))
        return early;
    for (size_t i = 0; i < el_http_routes_n; i++)
        if (el_http_routes[i].route == EL_HTTP_METRICS && !strcmp (url, el_http_routes[i].path))
            return s_answer (self, c, i, NULL, NULL);
    return s_plain (self, c, 404, "not found: this address serves /metrics only\n");
}

/* ------------------------------------------------------------ role */

static int
s_listen (el_http_t *self, const char *text, MHD_AccessHandlerCallback access,
          struct MHD_Daemon **ret)
{
    struct sockaddr_storage sa;
    socklen_t sa_len;
    if (el_config_http_parse (text, &sa, &sa_len) < 0)
        return EL_EINVAL;
    bool v6 = sa.ss_family == AF_INET6;
    uint16_t port = ntohs (v6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                              : ((struct sockaddr_in *) &sa)->sin_port);
    errno = 0;
    *ret = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | (v6 ? MHD_USE_IPv6 : 0),
        port, NULL, NULL, access, self,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) &sa,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) EL_HTTP_CONN_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) EL_HTTP_TIMEOUT_S,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) EL_HTTP_PER_IP,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) EL_HTTP_CONNS,
        MHD_OPTION_END);
    if (!*ret)
        return errno ? -errno : -EADDRINUSE;
    return 0;
}

static void
s_stop (void **state_p)
{
    el_http_t *self = *state_p;
    if (!self)
        return;
    if (self->mhd)
        MHD_stop_daemon (self->mhd);
    if (self->mhd_metrics)
        MHD_stop_daemon (self->mhd_metrics);
    s_release (self, self->current);
    free (self->metrics);
    for (size_t i = 0; i < self->zones_n; i++)
        el_tz_destroy (&self->zones[i].tz);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *state_p = NULL;
}

static int
s_start (el_node_t *node, void **ret_state)
{
    const el_config_t *cfg = el_node_config (node);
    *ret_state = NULL;
    if (!cfg->http_listen[0] && !cfg->metrics_listen[0])
        return 0;
    el_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->node = node;
    self->equipment = cfg->http_equipment;
    pthread_mutex_init (&self->lock, NULL);
    void *state = self;
    int rc = s_publish (self);
    const char *failed = cfg->http_listen;
    if (rc == 0) {
        s_metrics_render (self);
        self->built_mono_us = self->metrics_mono_us = s_mono_us ();
        if (cfg->http_listen[0])
            rc = s_listen (self, cfg->http_listen, s_access, &self->mhd);
    }
    if (rc == 0 && cfg->metrics_listen[0]) {
        failed = cfg->metrics_listen;
        rc = s_listen (self, cfg->metrics_listen, s_access_metrics, &self->mhd_metrics);
    }
    if (rc < 0) {
        el_log (EL_LOG_ERROR, "http_failed", "listen=%s reason=%s", failed, el_strerror (rc));
        s_stop (&state);
        return rc;
    }
    if (cfg->http_listen[0])
        el_log (EL_LOG_INFO, "http_listening", "listen=%s url=http://%s/", cfg->http_listen,
                cfg->http_listen);
    if (cfg->metrics_listen[0])
        el_log (EL_LOG_INFO, "metrics_listening", "listen=%s url=http://%s/metrics",
                cfg->metrics_listen, cfg->metrics_listen);
    *ret_state = self;
    return 0;
}

static void
s_on_applied (void *state, uint64_t from_peer, const el_entry_t *const *entries,
              const int *status, size_t n)
{
    (void) from_peer;
    el_http_t *self = state;
    if (!self)
        return;
    for (size_t i = 0; i < n && !self->dirty; i++) {
        El__Kind k = entries[i]->body->kind;
        if (status[i] == EL_APPLIED
            && (k == EL__KIND__EVENT || k == EL__KIND__EQUIPMENT || k == EL__KIND__SITE
                || k == EL__KIND__BOOKING))
            self->dirty = true;
    }
}

static void
s_tick (void *state)
{
    el_http_t *self = state;
    if (!self)
        return;
    int64_t now = s_mono_us ();
    /* the agenda's window follows the days even when nothing changes */
    if (self->current && el_now_us () - self->current->snap.built_us >= EL_HTTP_WINDOW_S * 1000000LL)
        self->dirty = true;
    if (self->dirty && now - self->built_mono_us >= EL_HTTP_REFRESH_MS * 1000) {
        int rc = s_publish (self);
        if (rc < 0)
            el_log (EL_LOG_WARN, "http_snapshot_failed", "reason=%s", el_strerror (rc));

        self->dirty = false;
        self->built_mono_us = now;
    }
    if (now - self->metrics_mono_us >= EL_HTTP_METRICS_MS * 1000) {
        s_metrics_render (self);
        self->metrics_mono_us = now;
    }
}

const el_role_ops_t el_http_role = {
    .name = "http",
    .start = s_start,
    .stop = s_stop,
    .on_applied = s_on_applied,
    .tick = s_tick,
};
