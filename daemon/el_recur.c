/* el_recur.c — RRULE occurrences in a window (el_recur.h). */
#include "el_recur.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "el_error.h"

#define S_LIST_MAX 32           /* values of one BY* part */
/* candidate days of one period: 12 months of BYMONTHDAY + every BYDAY (5 a month) + dtstart's */
#define S_DAYS_MAX (12 * (S_LIST_MAX + 5 * S_LIST_MAX + 1))

typedef enum { S_DAILY, S_WEEKLY, S_MONTHLY, S_YEARLY } s_freq_t;

typedef struct {
    s_freq_t freq;
    int64_t interval;
    int64_t count;              /* 0 = none */
    bool has_until;
    int64_t until;              /* local seconds, inclusive */
    int wkst;                   /* 0 = Sunday */
    int byday_wd[S_LIST_MAX], byday_n[S_LIST_MAX];   /* weekday, ordinal (0 = every) */
    size_t n_byday;
    int bymonthday[S_LIST_MAX];
    size_t n_bymonthday;
    int bymonth[S_LIST_MAX];
    size_t n_bymonth;
} s_rule_t;

/* ------------------------------------------------------------ civil dates */

static int64_t
s_days (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
s_civil (int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
s_wday (int64_t days)
{
    return (int) (((days % 7) + 11) % 7);      /* 1970-01-01 was a Thursday */
}

static int
s_month_len (int64_t y, int m)
{
    static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ------------------------------------------------------------ parsing */

static int
s_weekday (const char *p)
{
    static const char *const names[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
    for (int i = 0; i < 7; i++)
        if (!strncmp (p, names[i], 2))
            return i;
    return -1;
}

/* Comma-separated integers of @p v into @p out (at most S_LIST_MAX). */
static int
s_ints (const char *v, int lo, int hi, int *out, size_t *n)
{
    *n = 0;
    while (*v) {
        char *end;
        long x = strtol (v, &end, 10);
        if (end == v || x < lo || x > hi || x == 0 || *n == S_LIST_MAX)
            return EL_EINVAL;
        out[(*n)++] = (int) x;
        v = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return EL_EINVAL;
    }
    return *n ? 0 : EL_EINVAL;
}

static int
s_byday (s_rule_t *r, const char *v)
{
    r->n_byday = 0;
    while (*v) {
        char *end;
        long ord = strtol (v, &end, 10);
        if (ord < -53 || ord > 53 || r->n_byday == S_LIST_MAX)
            return EL_EINVAL;
        int wd = s_weekday (end);
        if (wd < 0)
            return EL_EINVAL;
        r->byday_wd[r->n_byday] = wd;
        r->byday_n[r->n_byday++] = (int) ord;
        v = end + 2;
        if (*v == ',')
            v++;
        else if (*v)
            return EL_EINVAL;
    }
    return r->n_byday ? 0 : EL_EINVAL;
}

/* UNTIL: YYYYMMDD, YYYYMMDDTHHMMSS (local) or ...Z (UTC, made local by @p tz). */
static int
s_until (s_rule_t *r, const char *v, const el_tz_t *tz)
{
    int y, mo, d, h = 23, mi = 59, s = 59;
    size_t len = strlen (v);
    if (len < 8 || strspn (v, "0123456789") < 8)
        return EL_EINVAL;
    y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
    mo = (v[4] - '0') * 10 + (v[5] - '0');
    d = (v[6] - '0') * 10 + (v[7] - '0');
    if (len > 8) {
        if (len < 15 || v[8] != 'T' || strspn (v + 9, "0123456789") != 6)
            return EL_EINVAL;
        h = (v[9] - '0') * 10 + (v[10] - '0');
        mi = (v[11] - '0') * 10 + (v[12] - '0');
        s = (v[13] - '0') * 10 + (v[14] - '0');
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return EL_EINVAL;
    r->until = s_days (y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    if (len == 16 && v[15] == 'Z')
        r->until += tz ? el_tz_offset (tz, r->until) : 0;
    else if (len != 8 && len != 15)
        return EL_EINVAL;
    r->has_until = true;
    return 0;
}

static int
s_part (s_rule_t *r, const char *name, const char *v, const el_tz_t *tz)
{
    if (!strcmp (name, "FREQ")) {
        static const char *const f[] = { "DAILY", "WEEKLY", "MONTHLY", "YEARLY" };
        for (int i = 0; i < 4; i++)
            if (!strcmp (v, f[i])) {
                r->freq = (s_freq_t) i;
                return 1;
            }
        return -ENOTSUP;        /* SECONDLY, MINUTELY, HOURLY */
    }
    if (!strcmp (name, "INTERVAL") || !strcmp (name, "COUNT")) {
        char *end;
        long long x = strtoll (v, &end, 10);
        if (*end || x < 1 || x > 100000)
            return EL_EINVAL;
        *(name[0] == 'I' ? &r->interval : &r->count) = x;
        return 0;
    }
    if (!strcmp (name, "UNTIL"))
        return s_until (r, v, tz);
    if (!strcmp (name, "WKST")) {
        r->wkst = s_weekday (v);
        return r->wkst < 0 || v[2] ? EL_EINVAL : 0;
    }
    if (!strcmp (name, "BYDAY"))
        return s_byday (r, v);
    if (!strcmp (name, "BYMONTHDAY"))
        return s_ints (v, -31, 31, r->bymonthday, &r->n_bymonthday);
    if (!strcmp (name, "BYMONTH"))
        return s_ints (v, 1, 12, r->bymonth, &r->n_bymonth);
    return -ENOTSUP;
}

static int
s_parse (const char *text, const el_tz_t *tz, s_rule_t *r)
{
    char buf[EL_RECUR_TEXT_MAX + 1];
    size_t len = strlen (text);
    if (len == 0 || len > EL_RECUR_TEXT_MAX)
        return EL_EINVAL;
    memcpy (buf, text, len + 1);
    *r = (s_rule_t) { .interval = 1, .wkst = 1 };
    bool freq = false;
    char *save = NULL;
    for (char *part = strtok_r (buf, ";", &save); part; part = strtok_r (NULL, ";", &save)) {
        char *eq = strchr (part, '=');
        if (!eq)
            return EL_EINVAL;
        *eq = '\0';
        int rc = s_part (r, part, eq + 1, tz);
        if (rc < 0)
            return rc;
        if (rc == 1)
            freq = true;
    }
    if (!freq || (r->count && r->has_until))
        return EL_EINVAL;
    /* an ordinal BYDAY belongs to MONTHLY, or YEARLY within BYMONTH */
    for (size_t i = 0; i < r->n_byday; i++)
        if (r->byday_n[i] && (r->freq == S_DAILY || r->freq == S_WEEKLY
                              || (r->freq == S_YEARLY && !r->n_bymonth)))
            return -ENOTSUP;
    if (r->n_bymonthday && r->freq != S_MONTHLY && r->freq != S_YEARLY)
        return -ENOTSUP;
    if (r->n_bymonth && r->freq != S_YEARLY)
        return -ENOTSUP;
    return 0;
}

/* ------------------------------------------------------------ expansion */

static int
s_cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Days (since the epoch) of month (y, m) that the rule picks; @p sday is
 * dtstart's day of the month. */
static size_t
s_month_days (const s_rule_t *r, int64_t y, int m, int sday, int64_t *out)
{
    int len = s_month_len (y, m);
    int64_t first = s_days (y, m, 1);
    size_t n = 0;
    for (size_t i = 0; i < r->n_bymonthday; i++) {
        int d = r->bymonthday[i] > 0 ? r->bymonthday[i] : len + 1 + r->bymonthday[i];
        if (d >= 1 && d <= len)
            out[n++] = first + d - 1;
    }
    for (size_t i = 0; i < r->n_byday && !r->n_bymonthday; i++) {
        int off = (r->byday_wd[i] - s_wday (first) + 7) % 7;   /* first such weekday */
        int count = (len - 1 - off) / 7 + 1;
        int ord = r->byday_n[i];
        for (int k = 0; k < count; k++) {
            bool pick = ord == 0 || (ord > 0 && k == ord - 1) || (ord < 0 && k == count + ord);
            if (pick)
                out[n++] = first + off + 7 * k;
        }
    }
    if (!r->n_bymonthday && !r->n_byday && sday <= len)
        out[n++] = first + sday - 1;
    return n;
}

/* Candidate days of period @p k (sorted); @p sd is dtstart's day number. */
static size_t
s_period (const s_rule_t *r, int64_t k, int64_t sd, int64_t *out)
{
    int64_t y;
    int m, d;
    s_civil (sd, &y, &m, &d);
    size_t n = 0;
    if (r->freq == S_DAILY) {
        int64_t day = sd + k * r->interval;
        bool pick = r->n_byday == 0;
        for (size_t i = 0; i < r->n_byday && !pick; i++)
            pick = r->byday_wd[i] == s_wday (day);
        if (pick)
            out[n++] = day;
    } else if (r->freq == S_WEEKLY) {
        int64_t week0 = sd - (s_wday (sd) - r->wkst + 7) % 7;
        int64_t ws = week0 + 7 * k * r->interval;
        if (!r->n_byday)
            out[n++] = sd + 7 * k * r->interval;
        for (size_t i = 0; i < r->n_byday; i++)
            out[n++] = ws + (r->byday_wd[i] - r->wkst + 7) % 7;
    } else if (r->freq == S_MONTHLY) {
        int64_t mi = (int64_t) m - 1 + k * r->interval;
        n = s_month_days (r, y + s_floor_div (mi, 12), (int) (mi - 12 * s_floor_div (mi, 12)) + 1,
                          d, out);
    } else {
        int64_t yy = y + k * r->interval;
        if (!r->n_bymonth)
            n = s_month_days (r, yy, m, d, out);
        for (size_t i = 0; i < r->n_bymonth; i++)
            n += s_month_days (r, yy, r->bymonth[i], d, out + n);
    }
    qsort (out, n, sizeof *out, s_cmp64);
    return n;
}

/* Without COUNT, nothing before the window matters: the first period that
 * may reach day @p from_day, a period early (0 when the window starts before
 * dtstart's day @p sd). */
static int64_t
s_skip (const s_rule_t *r, int64_t sd, int64_t from_day)
{
    if (from_day <= sd)
        return 0;
    int64_t y0, y1;
    int m0, m1, d0, d1;
    s_civil (sd, &y0, &m0, &d0);
    s_civil (from_day, &y1, &m1, &d1);
    int64_t periods;
    switch (r->freq) {
    case S_DAILY: periods = from_day - sd; break;
    case S_WEEKLY: periods = (from_day - sd) / 7; break;
    case S_MONTHLY: periods = (y1 - y0) * 12 + (m1 - m0); break;
    default: periods = y1 - y0; break;
    }
    int64_t k = periods / r->interval - 1;
    return k > 0 ? k : 0;
}

int
el_recur_expand (const char *rrule, int64_t dtstart, const el_tz_t *tz, int64_t from,
                 int64_t to, int64_t *out, size_t max, size_t *ret_n)
{
    s_rule_t r;
    *ret_n = 0;
    int rc = s_parse (rrule, tz, &r);
    if (rc < 0)
        return rc;
    int64_t sd = s_floor_div (dtstart, 86400), tod = dtstart - sd * 86400;
    /* DTSTART is always the first occurrence, even off the rule (RFC 5545
     * §3.3.10: it counts for COUNT) */
    int64_t seen = 1;
    if (dtstart >= from && dtstart < to) {
        if (max == 0)
            return EL_ETOOBIG;
        out[(*ret_n)++] = dtstart;
    }
    if (r.count == 1 || dtstart >= to)
        return 0;
    static _Thread_local int64_t days[S_DAYS_MAX];
    int64_t k0 = r.count ? 0 : s_skip (&r, sd, s_floor_div (from, 86400));
    for (int64_t k = k0; k < k0 + EL_RECUR_STEPS_MAX; k++) {
        size_t n = s_period (&r, k, sd, days);
        if (n && days[0] * 86400 + tod >= to)
            return 0;
        for (size_t i = 0; i < n; i++) {
            int64_t t = days[i] * 86400 + tod;
            if (t <= dtstart || (i && days[i] == days[i - 1]))
                continue;
            if ((r.count && seen >= r.count) || (r.has_until && t > r.until) || t >= to)
                return 0;
            seen++;
            if (t < from)
                continue;
            if (*ret_n == max)
                return EL_ETOOBIG;
            out[(*ret_n)++] = t;
        }
        if (r.count && seen >= r.count)
            return 0;
    }
    return 0;
}
