/* el_tz.c — TZif reader (el_tz.h), RFC 8536. */
#include "el_tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "el_error.h"

typedef el_tz_change_t s_rule_t;

struct el_tz {
    int64_t *times;             /* transitions, ascending */
    uint8_t *types;             /* type index after each transition */
    int32_t *offs;              /* utoff of each type */
    uint8_t *isdst;
    size_t n_times, n_types;
    int32_t first_off;          /* before the first transition */
    bool has_rule;              /* footer parsed */
    bool has_dst;
    int32_t std_off, dst_off;   /* seconds east */
    s_rule_t start, end;
};

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t
s_be64 (const uint8_t *p)
{
    return (int64_t) ((uint64_t) s_be32 (p) << 32 | s_be32 (p + 4));
}

static bool
s_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len >= EL_TZ_NAME_MAX || name[0] == '/' || strstr (name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ POSIX TZ footer */

/* [+-]hh[:mm[:ss]] -> seconds; NULL when not a number. */
static const char *
s_hms (const char *p, int32_t *ret)
{
    int sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (*p < '0' || *p > '9')
        return NULL;
    int32_t v[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        while (*p >= '0' && *p <= '9' && v[i] < 1000)
            v[i] = v[i] * 10 + (*p++ - '0');
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    *ret = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *
s_abbr (const char *p)
{
    if (*p == '<') {
        const char *e = strchr (p, '>');
        return e ? e + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* "Mm.w.d[/time]" */
static const char *
s_rule (const char *p, s_rule_t *r)
{
    if (*p != 'M')
        return NULL;
    int n = 0;
    if (sscanf (p + 1, "%d.%d.%d%n", &r->month, &r->week, &r->wday, &n) != 3 || n <= 0)
        return NULL;
    p += 1 + n;
    if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->wday < 0
        || r->wday > 6)
        return NULL;
    r->secs = 7200;
    if (*p == '/')
        p = s_hms (p + 1, &r->secs);
    return p;
}

static void
s_footer (el_tz_t *tz, const char *p)
{
    int32_t off;
    p = s_abbr (p);
    if (!p)
        return;
    p = s_hms (p, &off);
    if (!p)
        return;
    tz->std_off = -off;
    tz->dst_off = tz->std_off + 3600;
    if (*p == '\0' || *p == '\n') {
        tz->has_rule = true;
        return;
    }
    p = s_abbr (p);
    if (!p)
        return;
    if (*p != ',') {
        p = s_hms (p, &off);
        if (!p)
            return;
        tz->dst_off = -off;
    }
    if (*p != ',')
        return;
    p = s_rule (p + 1, &tz->start);
    if (!p || *p != ',')
        return;
    p = s_rule (p + 1, &tz->end);
    if (!p)
        return;
    tz->has_dst = tz->has_rule = true;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static int64_t
s_days (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t
s_year_of (int64_t t)
{
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

int
el_tz_change_day (const el_tz_change_t *r, int64_t year)
{
    int64_t first = s_days (year, r->month, 1);
    int wd_first = (int) (((first % 7) + 11) % 7);      /* 1970-01-01 was a Thursday */
    int day = 1 + (r->wday - wd_first + 7) % 7 + (r->week - 1) * 7;
    int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int dim = mdays[r->month - 1];
    if (r->month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        dim = 29;
    while (day > dim)
        day -= 7;
    return day;
}

/* Local seconds since the epoch (wall clock as if UTC) of rule @p r in @p year. */
static int64_t
s_rule_local (const s_rule_t *r, int64_t year)
{
    return s_days (year, r->month, el_tz_change_day (r, year)) * 86400 + r->secs;
}

static int32_t
s_rule_offset (const el_tz_t *tz, int64_t t)
{
    if (!tz->has_dst)
        return tz->std_off;
    int64_t year = s_year_of (t + tz->std_off);
    int64_t start = s_rule_local (&tz->start, year) - tz->std_off;
    int64_t end = s_rule_local (&tz->end, year) - tz->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

/* ------------------------------------------------------------ TZif */

static int
s_read (const char *path, uint8_t **ret, size_t *ret_len)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    uint8_t *buf = malloc (EL_TZ_FILE_MAX);
    if (!buf) {
        close (fd);
        return -ENOMEM;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read (fd, buf + len, EL_TZ_FILE_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t) n;
        if (len == EL_TZ_FILE_MAX)
            break;
    }
    close (fd);
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* Parse the data block at @p p (counts from the header before it); @p w is
 * 4 (v1) or 8 (v2+). @return bytes of the block, or 0 when it does not fit. */
static size_t
s_block (el_tz_t *tz, const uint8_t *p, size_t avail, const uint32_t c[6], size_t w)
{
    size_t timecnt = c[3], typecnt = c[4];
    size_t need = timecnt * w + timecnt + typecnt * 6 + c[5] + c[2] * (w + 4) + c[1] + c[0];
    if (need > avail || typecnt == 0 || typecnt > 256 || timecnt > 100000)
        return 0;
    tz->times = calloc (timecnt + 1, sizeof *tz->times);
    tz->types = calloc (timecnt + 1, 1);
    tz->offs = calloc (typecnt, sizeof *tz->offs);
    tz->isdst = calloc (typecnt, 1);
    if (!tz->times || !tz->types || !tz->offs || !tz->isdst)
        return 0;
    for (size_t i = 0; i < timecnt; i++)
        tz->times[i] = w == 8 ? s_be64 (p + i * 8) : (int32_t) s_be32 (p + i * 4);
    const uint8_t *idx = p + timecnt * w, *ti = idx + timecnt;
    for (size_t i = 0; i < timecnt; i++)
        tz->types[i] = idx[i] < typecnt ? idx[i] : 0;
    for (size_t i = 0; i < typecnt; i++) {
        tz->offs[i] = (int32_t) s_be32 (ti + i * 6);
        tz->isdst[i] = ti[i * 6 + 4];
    }
    tz->first_off = tz->offs[0];        /* type 0 is for times before the first transition */
    tz->n_times = timecnt;
    tz->n_types = typecnt;
    return need;
}

static int
s_parse (el_tz_t *tz, const uint8_t *buf, size_t len)
{
    if (len < 44 || memcmp (buf, "TZif", 4))
        return EL_EPROTO;
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = s_be32 (buf + 20 + 4 * i);
    size_t v1 = (size_t) c[3] * 5 + (size_t) c[4] * 6 + c[5] + (size_t) c[2] * 8 + c[1] + c[0];
    if (buf[4] < '2') {
        return s_block (tz, buf + 44, len - 44, c, 4) ? 0 : EL_EPROTO;
    }
    size_t h2 = 44 + v1;
    if (len < h2 + 44 || memcmp (buf + h2, "TZif", 4))
        return EL_EPROTO;
    for (int i = 0; i < 6; i++)
        c[i] = s_be32 (buf + h2 + 20 + 4 * i);
    size_t used = s_block (tz, buf + h2 + 44, len - h2 - 44, c, 8);
    if (!used)
        return EL_EPROTO;
    size_t at = h2 + 44 + used;
    if (at + 2 <= len && buf[at] == '\n') {
        char footer[128];
        size_t n = 0;
        for (at++; at < len && buf[at] != '\n' && n + 1 < sizeof footer; at++)
            footer[n++] = (char) buf[at];
        footer[n] = '\0';
        s_footer (tz, footer);
    }
    return 0;
}

int
el_tz_load (const char *name, el_tz_t **ret)
{
    if (!s_name_ok (name))
        return EL_EINVAL;
    char path[sizeof EL_TZ_DIR + EL_TZ_NAME_MAX + 1];
    snprintf (path, sizeof path, "%s/%s", EL_TZ_DIR, name);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = s_read (path, &buf, &len);
    if (rc < 0)
        return rc;
    el_tz_t *tz = calloc (1, sizeof *tz);
    rc = tz ? s_parse (tz, buf, len) : -ENOMEM;
    free (buf);
    if (rc < 0) {
        el_tz_destroy (&tz);
        return rc;
    }
    *ret = tz;
    return 0;
}

int32_t
el_tz_offset (const el_tz_t *tz, int64_t t)
{
    if (tz->n_times == 0 || t < tz->times[0])
        return tz->n_times == 0 && tz->has_rule ? s_rule_offset (tz, t) : tz->first_off;
    if (t >= tz->times[tz->n_times - 1] && tz->has_rule)
        return s_rule_offset (tz, t);
    size_t lo = 0, hi = tz->n_times;   /* times[lo] <= t < times[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offs[tz->types[lo]];
}

int64_t
el_tz_local_to_utc (const el_tz_t *tz, int64_t local)
{
    if (!tz)
        return local;
    /* the offsets a day before and a day after: each is right if it holds
     * at the instant it gives */
    int32_t o1 = el_tz_offset (tz, local - 86400), o2 = el_tz_offset (tz, local + 86400);
    bool ok1 = el_tz_offset (tz, local - o1) == o1, ok2 = el_tz_offset (tz, local - o2) == o2;
    if (ok1 && ok2)
        return local - (o1 > o2 ? o1 : o2);     /* repeated: the first instance */
    if (ok2 && !ok1)
        return local - o2;
    return local - o1;                          /* or skipped: the offset before */
}

int
el_tz_rule (const el_tz_t *tz, el_tz_rule_t *ret)
{
    if (!tz->has_rule)
        return EL_ENOTFOUND;
    *ret = (el_tz_rule_t) { tz->std_off, tz->dst_off, tz->has_dst, tz->start, tz->end };
    return 0;
}

void
el_tz_destroy (el_tz_t **self_p)
{
    el_tz_t *tz = *self_p;
    if (!tz)
        return;
    free (tz->times);
    free (tz->types);
    free (tz->offs);
    free (tz->isdst);
    free (tz);
    *self_p = NULL;
}
