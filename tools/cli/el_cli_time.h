/* el_cli_time.h — the command line's dates, times and durations.
 *
 * Local time is the zone of the TZ environment variable, which the command
 * line sets to the zone it shows times in (el_cli_zone_setup(), el_cli.h).
 *
 * Input (ISO 8601 profile, RFC 3339 §5.6 plus the forms people type):
 *   "2027-01-12 14:00"            local time
 *   "2027-01-12T14:00:30"         local time, with seconds
 *   "2027-01-12T14:00:00Z"        UTC
 *   "2027-01-12T14:00+01:00"      fixed offset (also +0100, +01)
 *   "2027-01-12"                  00:00 local time of that day
 *   "now"                         the caller's clock
 * A local time that does not exist (skipped by a clock change) is refused;
 * one that exists twice takes the earlier instant (the one still on summer
 * time), as RFC 5545 §3.3.5 does.
 * Durations: a positive sum of <n>w, <n>d, <n>h, <n>m, <n>s ("90m", "1h30m",
 * "7d"); a bare number is seconds.
 *
 * Output: table form "2027-01-12 14:00" (seconds shown only when not zero)
 * and JSON form "2027-01-12T14:00:00+01:00", both in local time.
 *
 * Times are µs since the Unix epoch (UTC). Years 1970..9999.
 * Thread-safe apart from TZ changes (localtime_r, mktime). */
#ifndef EL_CLI_TIME_H
#define EL_CLI_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_CLI_TIME_TEXT_MAX  64    /* bytes of a formatted time, incl. NUL */

/** Parse @p text (forms above) into µs since the epoch.
 * @param now_us what "now" means, µs since the epoch
 * @param err    one-line reason on failure (may be NULL)
 * @return 0, EL_EINVAL. *ret_us is written only on success. */
int el_cli_time_parse (const char *text, int64_t now_us, int64_t *ret_us, char *err,
                       size_t err_size);

/** Parse a duration into µs (> 0, at most 100 years). @return 0, EL_EINVAL. */
int el_cli_duration_parse (const char *text, int64_t *ret_us, char *err, size_t err_size);

/** Table form, local time: "2027-01-12 14:00" or "2027-01-12 14:00:30". */
void el_cli_time_table (int64_t us, char out[EL_CLI_TIME_TEXT_MAX]);

/** JSON form, local time with its offset: "2027-01-12T14:00:00+01:00". */
void el_cli_time_iso (int64_t us, char out[EL_CLI_TIME_TEXT_MAX]);

/* All-day events (RFC 5545 §3.3.4 DATE values, §3.6.1 VEVENT): a date is
 * stored as 00:00 UTC of that date and means the same calendar day in every
 * zone. To compare it with instants, an instant is turned into its local
 * wall clock read as UTC ("wall µs"): the date of an instant is then
 * floor(wall / 1 day), whatever the viewer's zone. */

/** The local wall clock of instant @p us, as µs read as UTC
 * (us + the local UTC offset at that instant). */
int64_t el_cli_time_wall (int64_t us);

/** The instant at which the local wall clock shows @p wall_us (read as
 * UTC): the earlier one when it shows it twice, the first instant after a
 * clock change that skipped it. */
int64_t el_cli_time_of_wall (int64_t wall_us);

/** "2027-09-01": the date of a DATE value stored as 00:00 UTC of that day
 * (the UTC date of @p us, whatever the local zone). */
void el_cli_date_text (int64_t us, char out[EL_CLI_TIME_TEXT_MAX]);

/** The IANA name of the zone times are shown in ("Europe/Paris"): the TZ
 * environment variable when it names a zone of the system's zone database
 * (/usr/share/zoneinfo), else the machine's zone (/etc/timezone, else the
 * target of /etc/localtime), else "UTC".
 * @param out  at least EL_CLI_ZONE_MAX bytes */
void el_cli_time_zone (char *out, size_t size);

#define EL_CLI_ZONE_MAX 64    /* bytes of a zone name, incl. NUL */

/** Is @p name a zone of the system's zone database (a plain name such as
 * "Europe/Paris" whose file is in /usr/share/zoneinfo)? */
bool el_cli_time_zone_known (const char *name);

#endif
