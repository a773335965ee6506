/* el_recur.h — occurrences of an RFC 5545 RRULE inside a window, for the web
 * endpoint's agenda pages.
 *
 * Times are *local* seconds: the wall clock of the event's zone counted as if
 * it were UTC (seconds since 1970-01-01T00:00 local), so that a weekly event
 * keeps its hour across daylight-time changes; the caller converts each
 * occurrence back with el_tz_local_to_utc().
 *
 * Supported (what calendars of fablabs use): FREQ=DAILY, WEEKLY, MONTHLY,
 * YEARLY; INTERVAL; COUNT; UNTIL (a UTC "...Z" date-time, a local date-time
 * or a date); WKST; BYDAY (weekdays; with an ordinal such as 2SA or -1SU in
 * MONTHLY and in YEARLY with BYMONTH); BYMONTHDAY (MONTHLY, YEARLY);
 * BYMONTH (YEARLY). Any other part makes the rule unsupported (-ENOTSUP):
 * the caller shows the first occurrence only. Pure; any thread. */
#ifndef EL_RECUR_H
#define EL_RECUR_H

#include <stddef.h>
#include <stdint.h>

#include "el_tz.h"

#define EL_RECUR_TEXT_MAX  1000        /* bytes of an RRULE value */
#define EL_RECUR_STEPS_MAX 10000       /* periods walked before giving up (a rule
                                        * without COUNT starts near the window) */

/** Occurrences of @p rrule starting at @p dtstart (local seconds) that
 * start in [@p from, @p to) (local seconds), oldest first, at most @p max,
 * into @p out; dtstart is always the first occurrence, on the rule or not,
 * and COUNT counts it. @p tz converts a UTC UNTIL to
 * local time (NULL: UTC).
 * @param[out] ret_n occurrences written
 * @return 0; -ENOTSUP (a part this reader does not handle); EL_EINVAL
 *         (not an RRULE); EL_ETOOBIG (more than @p max in the window: the
 *         first @p max are written). */
int el_recur_expand (const char *rrule, int64_t dtstart, const el_tz_t *tz, int64_t from,
                     int64_t to, int64_t *out, size_t max, size_t *ret_n);

#endif
