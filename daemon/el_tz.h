/* el_tz.h — UTC offsets of IANA time zones, read from the system's TZif
 * files (RFC 8536), without touching the process's TZ.
 *
 * The web endpoint shows an event's times in its own zone (the Event's
 * tzid). localtime_r() would need setenv("TZ"), which is not thread-safe in
 * a daemon with other threads; this reader is pure: a loaded zone is
 * immutable and may be read from any thread.
 *
 * A time after the file's last transition follows the POSIX TZ rule of its
 * footer (version 2+ files; "Mm.w.d[/time]" rules, as every zone of tzdata
 * uses); a time before the first transition takes local time type 0
 * (RFC 8536 section 3.2). */
#ifndef EL_TZ_H
#define EL_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define EL_TZ_DIR       "/usr/share/zoneinfo"
#define EL_TZ_NAME_MAX  64              /* bytes of a zone name, NUL included */
#define EL_TZ_FILE_MAX  (256u << 10)    /* bytes of a TZif file read */

typedef struct el_tz el_tz_t;

/** Load zone @p name ("Europe/Paris", "UTC") from EL_TZ_DIR.
 * @param[out] ret caller owns; el_tz_destroy().
 * @return 0; EL_EINVAL (not a zone name: empty, too long, "..", a leading
 *         '/', characters other than letters, digits, '/', '_', '-', '+');
 *         -ENOENT and other -errno (no such file); EL_EPROTO (not TZif);
 *         -ENOMEM. */
int el_tz_load (const char *name, el_tz_t **ret);

/** Seconds east of UTC in zone @p tz at @p t (seconds since the Unix epoch). */
int32_t el_tz_offset (const el_tz_t *tz, int64_t t);

/* A zone's rule of today, from its TZif footer: what a VTIMEZONE needs. */
typedef struct {
    int month;                  /* 1..12 */
    int week;                   /* 1..4, 5 = last */
    int wday;                   /* 0 = Sunday */
    int32_t secs;               /* local time of day of the change, seconds */
} el_tz_change_t;

typedef struct {
    int32_t std_off, dst_off;   /* seconds east of UTC */
    bool has_dst;               /* false: std_off all year */
    el_tz_change_t start, end;  /* to daylight time (in standard time), back (in daylight) */
} el_tz_rule_t;

/** The zone's current rule. @return 0, EL_ENOTFOUND (the file has no footer
 * rule that this reader understands). */
int el_tz_rule (const el_tz_t *tz, el_tz_rule_t *ret);

/** Day of the month (1..31) on which @p c falls in @p year. */
int el_tz_change_day (const el_tz_change_t *c, int64_t year);

/** UTC seconds of local wall-clock seconds @p local (counted as if UTC) in
 * @p tz (NULL: UTC). A time skipped by a change to daylight time is taken
 * with the offset before the change; a repeated one, its first instance. */
int64_t el_tz_local_to_utc (const el_tz_t *tz, int64_t local);

/** Free; accepts NULL; sets *self_p = NULL. */
void el_tz_destroy (el_tz_t **self_p);

#endif
