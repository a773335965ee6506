/* test_el_tz.c — UTC offsets from the system's TZif files: both sides of
 * daylight-time transitions in the file's table and, past it, in its footer
 * rule; southern and fractional zones; names that must not open a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "el_error.h"
#include "el_tz.h"

/* Expected offsets, from Python's zoneinfo on the same tzdata. */
static const struct {
    const char *zone;
    int64_t t;
    int32_t off;
} s_cases[] = {
    { "Europe/Paris", 1806195599LL, 3600 },      /* 2027-03-28T00:59:59Z */
    { "Europe/Paris", 1806195600LL, 7200 },      /* 2027-03-28T01:00:00Z */
    { "Europe/Paris", 1824944399LL, 7200 },      /* 2027-10-31T00:59:59Z */
    { "Europe/Paris", 1824944400LL, 3600 },      /* 2027-10-31T01:00:00Z */
    { "Europe/Paris", 2531955599LL, 3600 },      /* 2050-03-27T00:59:59Z: footer rule */
    { "Europe/Paris", 2531955600LL, 7200 },      /* 2050-03-27T01:00:00Z */
    { "Europe/Paris", 2550704399LL, 7200 },      /* 2050-10-30T00:59:59Z */
    { "Europe/Paris", 2550704400LL, 3600 },      /* 2050-10-30T01:00:00Z */
    { "Europe/Paris", -2208988800LL, 561 },      /* 1900-01-01: local mean time */
    { "America/New_York", 2540246400LL, -14400 },/* 2050-07-01T00:00:00Z */
    { "America/New_York", 2524608000LL, -18000 },/* 2050-01-01T00:00:00Z */
    { "Australia/Sydney", 2524608000LL, 39600 }, /* 2050-01-01: southern summer */
    { "Australia/Sydney", 2540246400LL, 36000 }, /* 2050-07-01 */
    { "Australia/Sydney", 1806767999LL, 39600 }, /* 2027-04-03T15:59:59Z */
    { "Australia/Sydney", 1806768000LL, 36000 }, /* 2027-04-03T16:00:00Z */
    { "Asia/Kolkata", 1798761600LL, 19800 },     /* 2027-01-01: +05:30, no DST */
    { "UTC", 1798761600LL, 0 },
};

static void
test_offsets (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        el_tz_t *tz = NULL;
        assert_int_equal (el_tz_load (s_cases[i].zone, &tz), 0);
        int32_t got = el_tz_offset (tz, s_cases[i].t);
        if (got != s_cases[i].off)
            fail_msg ("%s at %lld: %d, want %d", s_cases[i].zone, (long long) s_cases[i].t,
                      got, s_cases[i].off);
        el_tz_destroy (&tz);
        assert_null (tz);
    }
}

static void
test_bad_names (void **state)
{
    (void) state;
    static const char *const bad[] = {
        "", "../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "Europe/Paris\n",
        "Europe Paris", "Europe/Paris;rm", "zone.tab",
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        el_tz_t *tz = NULL;
        assert_int_equal (el_tz_load (bad[i], &tz), EL_EINVAL);
        assert_null (tz);
    }
    el_tz_t *tz = NULL;
    assert_int_equal (el_tz_load ("Mars/Olympus_Mons", &tz), -ENOENT);
    /* a file that is not TZif */
    assert_int_equal (el_tz_load ("leapseconds", &tz), EL_EPROTO);
    assert_null (tz);
    el_tz_destroy (&tz);            /* NULL accepted */
}

int
main (void)
{
    if (access (EL_TZ_DIR "/Europe/Paris", R_OK) != 0 || access (EL_TZ_DIR "/leapseconds", R_OK)) {
        printf ("SKIP: no tzdata in " EL_TZ_DIR " (Debian's tzdata package)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_offsets),
        cmocka_unit_test (test_bad_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
