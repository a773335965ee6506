/* el_ics.h — iCalendar (RFC 5545) import and export of el.Event records.
 *
 * All iCalendar parsing, recurrence iteration and time-zone arithmetic is
 * libical's (3.0): this module only checks a file's structure and bytes,
 * maps VEVENT components to el.Event records (proto/entrelab.proto), and
 * maps them back.
 *
 * How an event's times are stored (el.Event fields):
 *   - DTSTART/DTEND with TZID: dtstart_us/dtend_us are the UTC instants, tzid
 *     the zone name. A TZID that names a zone of libical's builtin database
 *     (the system zoneinfo, e.g. "Europe/Paris") is resolved there, even when
 *     the file carries its own VTIMEZONE, so that import, expansion and export
 *     agree. Any other TZID is resolved with the file's VTIMEZONE, whose text
 *     is kept in extensions[EL_ICS_EXT_VTIMEZONE] for expansion and export.
 *     A TZID found in neither but that is a Windows zone name (§3.2.19 leaves
 *     the text to the writer; Outlook writes "Romance Standard Time") is
 *     mapped to its IANA zone as CLDR's windowsZones table does
 *     (el_ics_windows_zone()). Any other TZID is reported, and the time is
 *     read as a floating one.
 *   - UTC ("...Z"): tzid "".
 *   - floating (no zone, RFC 5545 §3.3.5 form #1): a wall-clock time in the
 *     importing site's zone when el_ics_import_in_zone() is given one: the
 *     instant there, tzid = that zone, so that a weekly 19:00 stays 19:00
 *     across DST changes. Without a site zone (el_ics_import()), the
 *     wall-clock time is stored as if it were UTC, floating = true.
 *   - all-day (VALUE=DATE): 00:00 UTC of the date, all_day = true; dtend_us
 *     is the exclusive end date (00:00 UTC), as in the file.
 *   - DURATION instead of DTEND: dtend_us = dtstart + duration, days and
 *     weeks counted in the event's own zone (RFC 5545 §3.3.6: nominal days).
 *   - no DTEND and no DURATION: dtend_us = 0.
 *   - RRULE: libical's normalised RECUR text. RDATE, EXDATE, RECURRENCE-ID:
 *     one value text per value; a DATE-TIME with a TZID is normalised to UTC
 *     ("20121105T180000Z") so that each text stands alone; UTC, floating and
 *     DATE values are kept as written; a PERIOD is "start/end" or
 *     "start/duration" with the start normalised the same way.
 *
 * A TZID of UTC (or GMT) is stored as UTC; one in libical's own
 * "/freeassociation.sourceforge.net/Europe/Paris" form as "Europe/Paris".
 *
 * Text (SUMMARY, DESCRIPTION, LOCATION, ...) is stored unescaped, UTF-8 as
 * in the file (libical drops white space at the end of a value).
 * CATEGORIES: the first category only. Non-standard properties read and
 * written: X-ENTRELAB-CAPACITY (capacity), X-ENTRELAB-SITE (site id,
 * unpadded base64url).
 *
 * Threads: libical keeps a process-wide cache of builtin time zones and is
 * not thread-safe; call every function of this module from one thread.
 * No logging of our own (libical itself prints a warning to stderr on a few
 * malformed inputs); no other global state. */
#ifndef EL_ICS_H
#define EL_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"     /* EL_RECORD_KEY_MAX, EL_PAYLOAD_MAX, EL_KEY_BYTES */
#include "el_error.h"
#include "el_text.h"
#include "entrelab.pb-c.h"

#define EL_ICS_MAX_BYTES     (8u << 20)  /* input .ics size cap, bytes */
#define EL_ICS_MAX_EVENTS    20000       /* VEVENTs in one file */
#define EL_ICS_MAX_DEPTH     8           /* component nesting (VCALENDAR > VEVENT > VALARM ...) */
#define EL_ICS_REASON_BYTES  EL_PROBLEM_REASON_BYTES
#define EL_ICS_EXPAND_STEPS  200000      /* recurrence iterations per expansion call */
#define EL_ICS_LINE_OCTETS   75          /* RFC 5545 §3.1 content line limit, octets without CRLF */

/** extensions key holding the VTIMEZONE text of a zone that is not builtin. */
#define EL_ICS_EXT_VTIMEZONE "ics.vtimezone"
/** extensions key holding every CATEGORIES value of an event that has more
 * than one, as one CATEGORIES value text ("a,b\\,c"); the first is also
 * the record's category. Export writes them all while it still is. */
#define EL_ICS_EXT_CATEGORIES "ics.categories"
/** extensions key of an event whose end was given as a DURATION: its value
 * text, a space and the span it gave in µs ("PT1H30M 5400000000"). Export
 * writes DURATION again while the event still spans that much, else DTEND. */
#define EL_ICS_EXT_DURATION "ics.duration"

/** A problem found while importing (tools/formats/el_text.h): its line is
 * the 1-based physical line of the property when known, else of the event's
 * BEGIN:VEVENT; skipped = the event was not imported. */
typedef el_problem_t el_ics_problem_t;

/** A file-level refusal: nothing was imported (tools/formats/el_text.h). */
typedef el_file_error_t el_ics_error_t;

/** The result of el_ics_import(). Read-only for the caller. */
typedef struct {
    El__Event **events;          /* n_events records, in file order; owned */
    uint32_t *lines;             /* n_events: line of each event's BEGIN:VEVENT */
    size_t n_events;
    el_problems_t problems;      /* in file order; beyond EL_PROBLEMS_MAX only counted */
} el_ics_import_t;

/** Parse a whole iCalendar text into events.
 *
 * Accepts a VCALENDAR (or several, or bare VEVENTs), UTF-8 with or without a
 * byte-order mark, CRLF or LF line ends, folded lines (space or tab).
 * The file is refused (EL_EINVAL, @p err filled) when it is empty, is not
 * iCalendar, holds a NUL or another control character (other than HTAB),
 * holds bytes that are not UTF-8, or when its BEGIN/END lines do not nest.
 * Inside a good file, an event that cannot be imported (no DTSTART, a DTSTART,
 * DTEND, DURATION, RRULE, RDATE, EXDATE or RECURRENCE-ID that libical cannot
 * read, a date or time that does not exist — 31 February, month 13, hour 25,
 * minute 60 (RFC 5545 §3.3.4, §3.3.12; second 60, a leap second, is a time) —
 * a DTEND before its DTSTART (§3.8.2.2), a repeated UID + RECURRENCE-ID, over
 * EL_PAYLOAD_MAX once packed) is skipped and reported with the line of the
 * faulty property; nothing is moved to a nearby date. The others are imported. A duplicated UID keeps the
 * newer version (el_ics_event_is_newer(), else the first).
 * An event without UID gets a stable one derived from its content (see
 * el_ics_event_derive_uid()).
 *
 * @param data  the file's bytes (need not be NUL-terminated); borrowed
 * @param len   bytes, at most EL_ICS_MAX_BYTES
 * @param[out] ret  on success only; caller owns, el_ics_import_destroy()
 * @param[out] err  optional (may be NULL); written when EL_EINVAL or EL_ETOOBIG
 * @return 0 (possibly with skipped events: see ret->problems); EL_EINVAL
 *         (file refused); EL_ETOOBIG (over EL_ICS_MAX_BYTES or
 *         EL_ICS_MAX_EVENTS); -ENOMEM; -EIO (libsodium failed to initialise). */
int el_ics_import (const char *data, size_t len, el_ics_import_t **ret, el_ics_error_t *err);

/** el_ics_import() for a site in zone @p site_tzid (an IANA name of the
 * zone database, e.g. "Europe/Paris"): floating times (RFC 5545 §3.3.5,
 * form 1) and times in an unknown TZID are wall-clock times in that zone
 * and are stored with that tzid; the problems say so for an unknown TZID.
 * NULL, "" or a UTC zone: as el_ics_import() (floating kept floating).
 * @return as el_ics_import(); EL_EINVAL with @p err when @p site_tzid is
 *         not a zone of the database. */
int el_ics_import_in_zone (const char *data, size_t len, const char *site_tzid,
                           el_ics_import_t **ret, el_ics_error_t *err);

/** The IANA zone of a Windows zone name ("Romance Standard Time" ->
 * "Europe/Paris", any case), from CLDR's windowsZones mapping (territory
 * 001) for the common zones; NULL when not in the table. */
const char *el_ics_windows_zone (const char *tzid);

/** Free an import result; accepts NULL; sets *self_p = NULL. */
void el_ics_import_destroy (el_ics_import_t **self_p);

/** Take event @p i out of @p self (the caller then owns it; free with
 * el_ics_event_destroy()); the slot becomes NULL. @return the event or NULL. */
El__Event *el_ics_import_take (el_ics_import_t *self, size_t i);

/** Free an event built by this module (or by el__event__unpack with the
 * default allocator); accepts NULL; sets *ev_p = NULL. */
void el_ics_event_destroy (El__Event **ev_p);

/** Deep copy of @p ev (malloc'd like the import's events).
 * @return the copy, or NULL when out of memory. */
El__Event *el_ics_event_dup (const El__Event *ev);

/** Render events as one RFC 5545 VCALENDAR.
 *
 * Each event becomes a VEVENT with UID, DTSTAMP, SEQUENCE, STATUS (CANCELLED
 * for cancelled events), DTSTART (TZID, UTC, floating or VALUE=DATE as
 * stored) and DTEND in the same form, RRULE, RDATE, EXDATE, RECURRENCE-ID,
 * text properties, LAST-MODIFIED; one VTIMEZONE per zone used (with the zone
 * name as TZID). Lines end in CRLF and are folded at EL_ICS_LINE_OCTETS
 * octets, never inside a UTF-8 character. The output parses back with
 * el_ics_import() to the same events (el_ics_event_same()).
 * Events that cannot be written (RRULE text libical cannot read, unknown zone
 * without its VTIMEZONE text) are written in UTC or without the unreadable
 * property and counted in @p ret_degraded; control characters and invalid
 * UTF-8 in text fields are replaced (U+FFFD), also counted; an event whose
 * dtstart is outside years 1-9999 is left out, also counted. Sub-second
 * parts of times are dropped (iCalendar counts seconds).
 *
 * @param events    n borrowed events (records from any site: validated here)
 * @param now_us    DTSTAMP for events whose last_modified_us is 0, µs since the epoch
 * @param[out] ret_text  NUL-terminated, malloc'd; caller frees
 * @param[out] ret_len   bytes, without the NUL
 * @param[out] ret_degraded optional: events written with a loss
 * @return 0, -ENOMEM, EL_ETOOBIG (more than EL_ICS_MAX_EVENTS). */
int el_ics_export (const El__Event *const *events, size_t n, int64_t now_us,
                   char **ret_text, size_t *ret_len, size_t *ret_degraded);

/** Start times of @p ev's occurrences that overlap [@p from_us, @p to_us).
 *
 * Recurrences (RRULE, RDATE, EXDATE) are expanded in the event's own zone,
 * so a weekly 18:30 Europe/Paris event stays at 18:30 local across DST
 * changes. An occurrence lasts dtend_us - dtstart_us (one day for an all-day
 * event without end, zero for a timed one); a zero-length occurrence overlaps
 * when from_us <= start < to_us. DTSTART is always the first occurrence.
 * An occurrence whose original start equals the RECURRENCE-ID of one of
 * @p overrides (events of the same uid) is left out: list those overrides as
 * single events. An event with recurrence_id set is itself a single event.
 *
 * @param overrides  optional, n_overrides borrowed events
 * @param ret_starts caller's array of @p max entries: UTC µs, ascending, unique
 * @param[out] ret_n occurrences written
 * @return 0; EL_ETOOBIG when more than @p max occurrences overlap the window
 *         or more than EL_ICS_EXPAND_STEPS iterations were needed (nothing
 *         written); EL_EINVAL (from_us >= to_us, an rrule, zone or date
 *         text libical cannot read, or a rule no date satisfies, such as
 *         FREQ=MONTHLY;BYDAY=8TH, checked before libical would search for it
 *         for centuries); -ENOMEM. */
int el_ics_expand (const El__Event *ev, const El__Event *const *overrides, size_t n_overrides,
                   int64_t from_us, int64_t to_us, int64_t *ret_starts, size_t max, size_t *ret_n);

/** The start of the occurrence of @p ev that the DATE or DATE-TIME value
 * text @p text names (an RDATE's or a RECURRENCE-ID's value, RFC 5545
 * §3.8.5.2, §3.8.4.4): a UTC time is that instant; a local time is in the
 * event's zone (floating: UTC clock, as the event's own times); a date in a
 * timed event is at DTSTART's time of day.
 * @param[out] ret_us UTC µs
 * @return 0; EL_EINVAL (NULL argument, a text that is not a DATE or
 *         DATE-TIME, or a zone libical cannot read); -ENOMEM. */
int el_ics_occurrence_start (const El__Event *ev, const char *text, int64_t *ret_us);

/** One occurrence in an agenda. */
typedef struct {
    size_t event;        /* index into the caller's events array */
    int64_t start_us;    /* UTC µs */
    int64_t end_us;      /* UTC µs, exclusive; == start_us for an event without end */
} el_ics_occurrence_t;

/** The agenda of a set of events: every occurrence overlapping
 * [@p from_us, @p to_us), sorted by start (then by event index).
 * Recurrence overrides (events with recurrence_id) replace the occurrence
 * of the event with the same uid that they name, as in el_ics_expand();
 * an override without its master is listed on its own. Cancelled events
 * (status CANCELLED, master or override) are listed: the caller shows them.
 * An all-day event without end lasts one day.
 * @param events   n borrowed events; NULL entries are ignored
 * @param ret      caller's array of @p max occurrences
 * @param[out] ret_n occurrences written
 * @return 0; EL_ETOOBIG (more than @p max, or an event needing more than
 *         EL_ICS_EXPAND_STEPS iterations; nothing written); EL_EINVAL
 *         (from_us >= to_us); -ENOMEM. An event whose rrule, zone or dates
 *         cannot be read contributes only its first occurrence. */
int el_ics_agenda (const El__Event *const *events, size_t n, int64_t from_us, int64_t to_us,
                   el_ics_occurrence_t *ret, size_t max, size_t *ret_n);

/** Should @p incoming replace @p current (same uid and recurrence_id)?
 * RFC 5546 §2.1.4 order: a higher sequence wins; at equal sequence, a later
 * last_modified_us wins; otherwise (same or older) re-importing is a no-op.
 * @return true when @p incoming is newer. */
bool el_ics_event_is_newer (const El__Event *current, const El__Event *incoming);

/** Do @p a and @p b hold the same event (every field, extensions in any order)? */
bool el_ics_event_same (const El__Event *a, const El__Event *b);

/** The record key of @p ev (an event's entry key is its uid): the uid, or
 * "uid#RECURRENCE-ID text" for a recurrence override. When that is longer than
 * EL_RECORD_KEY_MAX bytes: "uid-b2:" + 32 hex digits of its BLAKE2b-128.
 * @param out  EL_RECORD_KEY_MAX + 1 bytes
 * @return 0, EL_EINVAL (empty uid, or out_size < EL_RECORD_KEY_MAX + 1),
 *         -EIO (libsodium failed to initialise). */
int el_ics_event_key (const El__Event *ev, char *out, size_t out_size);

/** Stable uid for an event that has none: "el-" + 32 hex digits of the
 * BLAKE2b-128 of summary, dtstart_us, dtend_us, tzid, all_day, rrule,
 * recurrence_id, location and description, + "@entrelab".
 * @param out  at least 48 bytes. @return 0, EL_EINVAL (out too small), -EIO. */
int el_ics_event_derive_uid (const El__Event *ev, char *out, size_t out_size);

#endif
