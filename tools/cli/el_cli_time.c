/* el_cli_time.c — see el_cli_time.h. */
#include "el_cli_time.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "el_error.h"

#define S_US 1000000LL
#define S_DURATION_MAX (100LL * 366 * 24 * 3600 * S_US)    /* µs, 100 years */

static void
s_err (char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, size, fmt, ap);
    va_end (ap);
}

/* Exactly @p n digits. */
static bool
s_digits (const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char) (*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *ret = v;
    return true;
}

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_month_days (int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_leap (y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
s_days_from_civil (int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The instant of local wall-clock time @p want; the earlier one when it
 * exists twice. @return false when it does not exist. */
static bool
s_local (const struct tm *want, time_t *ret)
{
    bool found = false;
    time_t best = 0;
    for (int dst = 0; dst <= 1; dst++) {
        struct tm tm = *want;
        tm.tm_isdst = dst;
        time_t t = mktime (&tm);
        if (t == (time_t) -1)
            continue;
        struct tm back;
        if (!localtime_r (&t, &back))
            continue;
        if (back.tm_year != want->tm_year || back.tm_mon != want->tm_mon
            || back.tm_mday != want->tm_mday || back.tm_hour != want->tm_hour
            || back.tm_min != want->tm_min || back.tm_sec != want->tm_sec)
            continue;
        if (!found || t < best)
            best = t;
        found = true;
    }
    if (found)
        *ret = best;
    return found;
}

int
el_cli_time_parse (const char *text, int64_t now_us, int64_t *ret_us, char *err,
                   size_t err_size)
{
    if (!text || !*text) {
        s_err (err, err_size, "empty date");
        return EL_EINVAL;
    }
    if (!strcmp (text, "now")) {
        *ret_us = now_us;
        return 0;
    }
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    int64_t frac_us = 0;
    bool utc = false;
    int offset_s = 0;
    if (!s_digits (&p, 4, &y) || *p++ != '-' || !s_digits (&p, 2, &mo) || *p++ != '-'
        || !s_digits (&p, 2, &d))
        goto bad;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            goto bad;
        p++;
        if (!s_digits (&p, 2, &h) || *p++ != ':' || !s_digits (&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (!s_digits (&p, 2, &s))
                goto bad;
            if (*p == '.' || *p == ',') {
                p++;
                if (!isdigit ((unsigned char) *p))
                    goto bad;
                int64_t scale = 100000;
                while (isdigit ((unsigned char) *p)) {
                    frac_us += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (*p == 'Z' || *p == 'z') {
            utc = true;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (!s_digits (&p, 2, &oh))
                goto bad;
            if (*p == ':')
                p++;
            if (isdigit ((unsigned char) *p) && !s_digits (&p, 2, &om))
                goto bad;
            if (oh > 14 || om > 59) {
                s_err (err, err_size, "bad date '%s': offset out of range", text);
                return EL_EINVAL;
            }
            utc = true;
            offset_s = sign * (oh * 3600 + om * 60);
        }
        if (*p)
            goto bad;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > s_month_days (y, mo)
        || h > 23 || mi > 59 || s > 59) {
        s_err (err, err_size, "bad date '%s': no such day or time", text);
        return EL_EINVAL;
    }
    int64_t secs;
    if (utc) {
        secs = s_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    } else {
        struct tm tm;
        memset (&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        time_t t;
        if (!s_local (&tm, &t)) {
            s_err (err, err_size, "bad date '%s': this local time does not exist (clock change)",
                   text);
            return EL_EINVAL;
        }
        secs = (int64_t) t;
    }
    if (secs < 0) {
        s_err (err, err_size, "bad date '%s': before 1970", text);
        return EL_EINVAL;
    }
    *ret_us = secs * S_US + frac_us;
    return 0;
bad:
    s_err (err, err_size,
           "bad date '%s': expected YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM] (e.g. \"2027-01-12 14:00\")",
           text);
    return EL_EINVAL;
}

int
el_cli_duration_parse (const char *text, int64_t *ret_us, char *err, size_t err_size)
{
    const char *p = text ? text : "";
    int64_t total = 0;
    bool any = false;
    while (*p) {
        if (!isdigit ((unsigned char) *p))
            goto bad;
        int64_t n = 0;
        while (isdigit ((unsigned char) *p)) {
            n = n * 10 + (*p - '0');
            if (n > S_DURATION_MAX / S_US)
                goto big;
            p++;
        }
        int64_t unit;
        switch (*p) {
        case 'w': unit = 7 * 86400; p++; break;
        case 'd': unit = 86400; p++; break;
        case 'h': unit = 3600; p++; break;
        case 'm': unit = 60; p++; break;
        case 's': unit = 1; p++; break;
        case '\0': unit = 1; break;
        default: goto bad;
        }
        if (n > (S_DURATION_MAX / S_US) / unit)
            goto big;
        total += n * unit * S_US;
        if (total > S_DURATION_MAX)
            goto big;
        any = true;
    }
    if (!any || total <= 0)
        goto bad;
    *ret_us = total;
    return 0;
bad:
    s_err (err, err_size, "bad duration '%s': expected e.g. 90m, 2h, 7d, 1h30m", text ? text : "");
    return EL_EINVAL;
big:
    s_err (err, err_size, "bad duration '%s': longer than 100 years", text);
    return EL_EINVAL;
}

static void
s_split (int64_t us, time_t *secs, int64_t *frac)
{
    int64_t s = us / S_US, f = us % S_US;
    if (f < 0) {
        f += S_US;
        s--;
    }
    *secs = (time_t) s;
    *frac = f;
}

void
el_cli_time_table (int64_t us, char out[EL_CLI_TIME_TEXT_MAX])
{
    time_t t;
    int64_t frac;
    s_split (us, &t, &frac);
    struct tm tm;
    if (!localtime_r (&t, &tm)) {
        snprintf (out, EL_CLI_TIME_TEXT_MAX, "?");
        return;
    }
    strftime (out, EL_CLI_TIME_TEXT_MAX, tm.tm_sec ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

void
el_cli_time_iso (int64_t us, char out[EL_CLI_TIME_TEXT_MAX])
{
    time_t t;
    int64_t frac;
    s_split (us, &t, &frac);
    struct tm tm;
    if (!localtime_r (&t, &tm)) {
        snprintf (out, EL_CLI_TIME_TEXT_MAX, "?");
        return;
    }
    char base[24], fr[16] = "", off[16];
    strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac)
        snprintf (fr, sizeof fr, ".%06lld", (long long) frac);
    long g = tm.tm_gmtoff;
    if (g == 0)
        snprintf (off, sizeof off, "Z");
    else
        snprintf (off, sizeof off, "%c%02d:%02d", g < 0 ? '-' : '+', (int) (labs (g) / 3600 % 100),
                  (int) (labs (g) % 3600 / 60));
    snprintf (out, EL_CLI_TIME_TEXT_MAX, "%s%s%s", base, fr, off);
}

int64_t
el_cli_time_wall (int64_t us)
{
    time_t t;
    int64_t frac;
    s_split (us, &t, &frac);
    struct tm tm;
    if (!localtime_r (&t, &tm))
        return us;
    return us + (int64_t) tm.tm_gmtoff * S_US;
}

int64_t
el_cli_time_of_wall (int64_t wall_us)
{
    time_t w;
    int64_t frac;
    s_split (wall_us, &w, &frac);
    struct tm tm;
    if (!gmtime_r (&w, &tm))
        return wall_us;
    tm.tm_isdst = -1;
    time_t t;
    if (s_local (&tm, &t))
        return (int64_t) t * S_US + frac;
    /* skipped by a clock change: the first instant after it (offsets move
     * by less than a day; before the gap the wall clock is below w) */
    int64_t lo = wall_us - 86400 * S_US, hi = wall_us + 86400 * S_US;
    while (hi - lo > S_US) {
        int64_t mid = lo + (hi - lo) / 2;
        if (el_cli_time_wall (mid) >= wall_us)
            hi = mid;
        else
            lo = mid;
    }
    return hi - hi % S_US;
}

void
el_cli_date_text (int64_t us, char out[EL_CLI_TIME_TEXT_MAX])
{
    time_t t;
    int64_t frac;
    s_split (us, &t, &frac);
    struct tm tm;
    if (!gmtime_r (&t, &tm)) {
        snprintf (out, EL_CLI_TIME_TEXT_MAX, "?");
        return;
    }
    strftime (out, EL_CLI_TIME_TEXT_MAX, "%Y-%m-%d", &tm);
}

#define S_ZONEINFO "/usr/share/zoneinfo/"

bool
el_cli_time_zone_known (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len >= EL_CLI_ZONE_MAX || name[0] == '/' || name[0] == '.'
        || strstr (name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (!(isalnum (c) || c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    char path[sizeof S_ZONEINFO + EL_CLI_ZONE_MAX];
    snprintf (path, sizeof path, "%s%s", S_ZONEINFO, name);
    return access (path, R_OK) == 0;
}

void
el_cli_time_zone (char *out, size_t size)
{
    const char *tz = getenv ("TZ");
    if (tz && *tz == ':')
        tz++;
    if (tz && el_cli_time_zone_known (tz)) {
        snprintf (out, size, "%s", tz);
        return;
    }
    char buf[256] = "";
    FILE *f = fopen ("/etc/timezone", "r");
    if (f) {
        if (!fgets (buf, sizeof buf, f))
            buf[0] = '\0';
        fclose (f);
        buf[strcspn (buf, " \t\r\n")] = '\0';
    }
    if (el_cli_time_zone_known (buf)) {
        snprintf (out, size, "%s", buf);
        return;
    }
    ssize_t n = readlink ("/etc/localtime", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    const char *z = strstr (buf, "zoneinfo/");
    if (z && el_cli_time_zone_known (z + 9)) {
        snprintf (out, size, "%s", z + 9);
        return;
    }
    snprintf (out, size, "UTC");
}
