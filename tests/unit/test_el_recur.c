/* test_el_recur.c — RRULE occurrences against dates computed by hand, the
 * rules of the demo calendars, windows, COUNT and UNTIL (UTC through the
 * zone), and the parts this reader refuses. Local times across DST, and
 * local-to-UTC conversion around the changes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "el_error.h"
#include "el_recur.h"
#include "el_tz.h"

/* local seconds of Y-M-D h:m (days_from_civil, independent of el_recur's) */
static int64_t
s_at (int y, int m, int d, int h, int mi)
{
    int64_t yy = y - (m <= 2);
    int64_t era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400 + h * 3600 + mi * 60;
}

static void
s_expect (const char *rule, int64_t start, const el_tz_t *tz, int64_t from, int64_t to,
          const int64_t *want, size_t want_n)
{
    int64_t got[64];
    size_t n = 99;
    int rc = el_recur_expand (rule, start, tz, from, to, got, 64, &n);
    if (rc != 0 || n != want_n)
        fail_msg ("%s: rc %d, %zu occurrences, want %zu", rule, rc, n, want_n);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg ("%s: occurrence %zu is %lld, want %lld", rule, i, (long long) got[i],
                      (long long) want[i]);
}

static void
test_rules (void **state)
{
    (void) state;
    const int64_t all0 = s_at (2000, 1, 1, 0, 0), all1 = s_at (2100, 1, 1, 0, 0);
    /* 2027-03-11 is a Thursday */
    int64_t s = s_at (2027, 3, 11, 18, 0);
    const int64_t w4[] = { s, s_at (2027, 3, 18, 18, 0), s_at (2027, 3, 25, 18, 0),
                           s_at (2027, 4, 1, 18, 0) };
    s_expect ("FREQ=WEEKLY;COUNT=4", s, NULL, all0, all1, w4, 4);
    /* the window cuts, COUNT still counts from the start */
    s_expect ("FREQ=WEEKLY;COUNT=4", s, NULL, s_at (2027, 3, 20, 0, 0), all1, w4 + 2, 2);
    s_expect ("FREQ=WEEKLY;COUNT=4", s, NULL, all0, s_at (2027, 3, 18, 18, 0), w4, 1);
    /* every other Friday until 2027-04-10 (a date: the whole day) */
    int64_t f = s_at (2027, 3, 12, 15, 0);
    const int64_t fr[] = { f, s_at (2027, 3, 26, 15, 0), s_at (2027, 4, 9, 15, 0) };
    s_expect ("FREQ=WEEKLY;INTERVAL=2;UNTIL=20270410", f, NULL, all0, all1, fr, 3);
    /* BYDAY with two days, starting on the second of them */
    int64_t tu = s_at (2027, 1, 14, 9, 0);               /* Thursday */
    const int64_t tt[] = { tu, s_at (2027, 1, 19, 9, 0), s_at (2027, 1, 21, 9, 0) };
    s_expect ("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3", tu, NULL, all0, all1, tt, 3);
    /* the second Saturday of each month (demo: cafe reparation) */
    int64_t sa = s_at (2027, 1, 9, 14, 0);
    const int64_t m2[] = { sa, s_at (2027, 2, 13, 14, 0), s_at (2027, 3, 13, 14, 0) };
    s_expect ("FREQ=MONTHLY;BYDAY=2SA;COUNT=3", sa, NULL, all0, all1, m2, 3);
    /* last Sunday of March and October, yearly */
    int64_t ls = s_at (2027, 3, 28, 2, 0);
    const int64_t ly[] = { ls, s_at (2028, 3, 26, 2, 0), s_at (2029, 3, 25, 2, 0) };
    s_expect ("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3", ls, NULL, all0, all1, ly, 3);
    /* a DTSTART off the rule (the third Saturday) still comes first and counts */
    int64_t off = s_at (2026, 12, 19, 10, 0);
    const int64_t o3[] = { off, s_at (2027, 1, 9, 10, 0), s_at (2027, 2, 13, 10, 0) };
    s_expect ("FREQ=MONTHLY;BYDAY=2SA;COUNT=3", off, NULL, all0, all1, o3, 3);
    s_expect ("FREQ=MONTHLY;BYDAY=2SA;COUNT=1", off, NULL, all0, all1, o3, 1);
    /* a rule without COUNT that began long ago still reaches the window (the
     * walk starts near it); with COUNT it walks from the start, and a series
     * longer than the walk shows nothing rather than blocking the caller */
    int64_t old_start = s_at (1900, 1, 1, 9, 0);             /* a Monday */
    const int64_t dl[] = { s_at (2027, 3, 1, 9, 0), s_at (2027, 3, 2, 9, 0) };
    s_expect ("FREQ=DAILY", old_start, NULL, dl[0], dl[1] + 1, dl, 2);
    const int64_t mo[] = { s_at (2027, 3, 1, 9, 0), s_at (2027, 3, 8, 9, 0) };
    s_expect ("FREQ=WEEKLY;BYDAY=MO", old_start, NULL, mo[0], mo[1] + 1, mo, 2);
    const int64_t fi[] = { s_at (2027, 3, 1, 9, 0) };
    s_expect ("FREQ=MONTHLY;BYMONTHDAY=1", old_start, NULL, fi[0] - 86400, fi[0] + 86400, fi, 1);
    const int64_t ny[] = { s_at (2027, 1, 1, 9, 0) };
    s_expect ("FREQ=YEARLY", old_start, NULL, ny[0] - 86400, ny[0] + 86400, ny, 1);
    s_expect ("FREQ=DAILY;COUNT=99999", old_start, NULL, dl[0], dl[1] + 1, dl, 0);
    /* the 31st: months without one are skipped */
    int64_t j31 = s_at (2027, 1, 31, 10, 0);
    const int64_t d31[] = { j31, s_at (2027, 3, 31, 10, 0), s_at (2027, 5, 31, 10, 0) };
    s_expect ("FREQ=MONTHLY;COUNT=3", j31, NULL, all0, all1, d31, 3);
    const int64_t dd[] = { s_at (2027, 2, 27, 8, 0), s_at (2027, 3, 1, 8, 0) };
    s_expect ("FREQ=DAILY;INTERVAL=2;COUNT=2", dd[0], NULL, all0, all1, dd, 2);
}

static void
test_until_utc (void **state)
{
    (void) state;
    el_tz_t *paris = NULL;
    if (el_tz_load ("Europe/Paris", &paris) != 0)
        skip ();
    /* weekly Thursday 18:30 Paris until 2027-06-24T16:30:00Z, which is 18:30
     * summer time: the last occurrence is kept */
    int64_t s = s_at (2027, 6, 10, 18, 30);
    const int64_t w[] = { s, s_at (2027, 6, 17, 18, 30), s_at (2027, 6, 24, 18, 30) };
    s_expect ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20270624T163000Z", s, paris, 0, INT64_MAX / 2, w, 3);
    /* local to UTC around the changes of 2027 (28 March, 31 October) */
    assert_int_equal (el_tz_local_to_utc (paris, s_at (2027, 3, 11, 18, 0)),
                      s_at (2027, 3, 11, 17, 0));
    assert_int_equal (el_tz_local_to_utc (paris, s_at (2027, 4, 1, 18, 0)),
                      s_at (2027, 4, 1, 16, 0));
    /* 02:30 on 28 March does not exist: the offset before the change */
    assert_int_equal (el_tz_local_to_utc (paris, s_at (2027, 3, 28, 2, 30)),
                      s_at (2027, 3, 28, 1, 30));
    /* 02:30 on 31 October happens twice: the first, in summer time */
    assert_int_equal (el_tz_local_to_utc (paris, s_at (2027, 10, 31, 2, 30)),
                      s_at (2027, 10, 31, 0, 30));
    assert_int_equal (el_tz_local_to_utc (NULL, 12345), 12345);
    el_tz_destroy (&paris);
}

static void
test_refused (void **state)
{
    (void) state;
    int64_t out[4];
    size_t n;
    static const char *const unsupported[] = {
        "FREQ=HOURLY;COUNT=3", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU", "FREQ=WEEKLY;BYHOUR=9",
        "FREQ=WEEKLY;BYDAY=2MO", "FREQ=DAILY;BYMONTH=3",
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        assert_int_equal (el_recur_expand (unsupported[i], 0, NULL, 0, 1000000, out, 4, &n),
                          -ENOTSUP);
    static const char *const bad[] = {
        "", "COUNT=3", "FREQ=WEEKLY;COUNT=0", "FREQ=WEEKLY;COUNT=3;UNTIL=20270101",
        "FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;UNTIL=2027", "FREQ=WEEKLY;INTERVAL=-1",
        "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ", "FREQ=WEEKLY;WKST=MONDAY",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (el_recur_expand (bad[i], 0, NULL, 0, 1000000, out, 4, &n) != EL_EINVAL)
            fail_msg ("'%s' accepted", bad[i]);
    /* more occurrences than room: the first ones, EL_ETOOBIG */
    assert_int_equal (el_recur_expand ("FREQ=DAILY", 0, NULL, 0, 10 * 86400, out, 4, &n),
                      EL_ETOOBIG);
    assert_int_equal (n, 4);
    assert_int_equal (out[3], 3 * 86400);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rules),
        cmocka_unit_test (test_until_utc),
        cmocka_unit_test (test_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
