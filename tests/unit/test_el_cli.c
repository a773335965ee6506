/* test_el_cli.c — the command line's pure parts: dates, durations, option
 * parsing, table and record rendering from JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "el_cli.h"
#include "el_import.h"

#define US 1000000LL

static void
s_tz (const char *tz)
{
    setenv ("TZ", tz, 1);
    tzset ();
}

static int64_t
s_parse_ok (const char *text)
{
    int64_t us = -1;
    char err[256] = "";
    int rc = el_cli_time_parse (text, 42, &us, err, sizeof err);
    if (rc != 0)
        fail_msg ("'%s' refused: %s", text, err);
    return us;
}

static void
s_parse_bad (const char *text, const char *reason_part)
{
    int64_t us = 12345;
    char err[256] = "";
    assert_int_equal (el_cli_time_parse (text, 42, &us, err, sizeof err), EL_EINVAL);
    assert_int_equal (us, 12345);           /* untouched on failure */
    if (!strstr (err, reason_part))
        fail_msg ("'%s': reason '%s' lacks '%s'", text, err, reason_part);
    assert_null (strchr (err, '\n'));
}

static void
test_utc_and_offsets (void **state)
{
    (void) state;
    s_tz ("Europe/Paris");
    const int64_t t = 1799762400LL * US;    /* 2027-01-12T14:00:00Z */
    assert_int_equal (s_parse_ok ("2027-01-12T14:00:00Z"), t);
    assert_int_equal (s_parse_ok ("2027-01-12 14:00Z"), t);
    assert_int_equal (s_parse_ok ("2027-01-12T15:00:00+01:00"), t);
    assert_int_equal (s_parse_ok ("2027-01-12T15:00+0100"), t);
    assert_int_equal (s_parse_ok ("2027-01-12T09:30-04:30"), t);
    assert_int_equal (s_parse_ok ("2027-01-12T14:00:00.25Z"), t + 250000);
    assert_int_equal (s_parse_ok ("now"), 42);
    assert_int_equal (s_parse_ok ("1970-01-01T00:00:00Z"), 0);
    assert_int_equal (s_parse_ok ("2028-02-29T00:00:00Z"), 1835395200LL * US);
}

static void
test_local_time (void **state)
{
    (void) state;
    s_tz ("Europe/Paris");
    /* winter: UTC+1; summer: UTC+2 */
    assert_int_equal (s_parse_ok ("2027-01-12 14:00"), 1799762400LL * US - 3600 * US);
    assert_int_equal (s_parse_ok ("2027-07-12 14:00"), 1815393600LL * US);  /* 12:00Z */
    assert_int_equal (s_parse_ok ("2027-01-12"), (1799712000LL - 3600) * US);
    /* 2027-10-31 02:30 happens twice: the earlier (summer time) instant */
    assert_int_equal (s_parse_ok ("2027-10-31 02:30"), 1824942600LL * US);  /* 00:30Z */
    /* 2027-03-28 02:30 does not exist */
    s_parse_bad ("2027-03-28 02:30", "does not exist");
    s_tz ("UTC");
    assert_int_equal (s_parse_ok ("2027-01-12 14:00"), 1799762400LL * US);
}

static void
test_bad_dates (void **state)
{
    (void) state;
    s_tz ("UTC");
    s_parse_bad ("", "empty");
    s_parse_bad ("tomorrow", "expected YYYY-MM-DD");
    s_parse_bad ("2027-1-12", "expected");
    s_parse_bad ("2027-01-12 14", "expected");
    s_parse_bad ("2027-01-12 14:00 extra", "expected");
    s_parse_bad ("2027-13-01", "no such day");
    s_parse_bad ("2027-02-29", "no such day");
    s_parse_bad ("2027-04-31 10:00", "no such day");
    s_parse_bad ("2027-01-12 24:00", "no such day");
    s_parse_bad ("2027-01-12 12:60", "no such day");
    s_parse_bad ("1969-12-31 23:00", "no such day");
    s_parse_bad ("2027-01-12T14:00+15:00", "offset");
}

static void
test_durations (void **state)
{
    (void) state;
    int64_t us;
    char err[200];
    struct { const char *text; int64_t want; } ok[] = {
        { "90", 90 * US }, { "90s", 90 * US }, { "45m", 45 * 60 * US }, { "2h", 7200 * US },
        { "1h30m", 5400 * US }, { "7d", 7 * 86400 * US }, { "1w2d", 9 * 86400 * US },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal (el_cli_duration_parse (ok[i].text, &us, err, sizeof err), 0);
        assert_int_equal (us, ok[i].want);
    }
    const char *bad[] = { "", "0", "0s", "h", "2x", "-5m", "1.5h", "99999999999999999d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (el_cli_duration_parse (bad[i], &us, err, sizeof err), EL_EINVAL);
}

static void
test_format (void **state)
{
    (void) state;
    char out[EL_CLI_TIME_TEXT_MAX];
    s_tz ("Europe/Paris");
    el_cli_time_table (1799762400LL * US, out);
    assert_string_equal (out, "2027-01-12 15:00");
    el_cli_time_table (1799762400LL * US + 30 * US, out);
    assert_string_equal (out, "2027-01-12 15:00:30");
    el_cli_time_iso (1799762400LL * US, out);
    assert_string_equal (out, "2027-01-12T15:00:00+01:00");
    el_cli_time_iso (1815393600LL * US, out);
    assert_string_equal (out, "2027-07-12T14:00:00+02:00");
    /* what is printed parses back to the same instant */
    int64_t back;
    assert_int_equal (el_cli_time_parse (out, 0, &back, NULL, 0), 0);
    assert_int_equal (back, 1815393600LL * US);
    s_tz ("UTC");
    el_cli_time_iso (1799762400LL * US + 5, out);
    assert_string_equal (out, "2027-01-12T14:00:00.000005Z");
}

static void
test_table_and_record (void **state)
{
    (void) state;
    s_tz ("UTC");
    json_t *rows = json_pack ("[{s:s, s:I, s:[s,s], s:b}, {s:s, s:I, s:[], s:b}]",
                              "name", "Découpe laser", "start_us", (json_int_t) 1799762400LL * US,
                              "tags", "a", "b", "ok", 1,
                              "name", "line\nbreak", "start_us", (json_int_t) 0, "tags", "ok", 0);
    assert_non_null (rows);
    const el_cli_col_t cols[] = {
        { "NAME", "name", EL_CLI_COL_TEXT, 0 },
        { "START", "start_us", EL_CLI_COL_TIME, 0 },
        { "TAGS", "tags", EL_CLI_COL_TEXT, 0 },
        { "OK", "ok", EL_CLI_COL_TEXT, 0 },
        { "MISSING", "nope", EL_CLI_COL_TEXT, 0 },
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    assert_int_equal (el_cli_table_print (f, rows, cols, 5), 0);
    fclose (f);
    /* columns aligned by code points ("é" is one), control characters blanked */
    assert_string_equal (buf,
                         "NAME           START             TAGS  OK   MISSING\n"
                         "Découpe laser  2027-01-12 14:00  a, b  yes  -\n"
                         "line break     -                 -     no   -\n");
    free (buf);
    f = open_memstream (&buf, &len);
    assert_int_equal (el_cli_record_print (f, json_array_get (rows, 0), cols, 5), 0);
    fclose (f);
    assert_string_equal (buf, "NAME:  Découpe laser\nSTART: 2027-01-12 14:00\nTAGS:  a, b\n"
                              "OK:    yes\n");
    free (buf);
    /* width limit cuts with an ellipsis */
    el_cli_col_t cut = { "N", "name", EL_CLI_COL_TEXT, 5 };
    char cell[EL_CLI_CELL_MAX];
    el_cli_cell (json_array_get (rows, 0), &cut, cell, sizeof cell);
    assert_string_equal (cell, "Déco\xe2\x80\xa6");
    assert_int_equal (el_cli_text_width (cell), 5);
    /* nested fields */
    json_t *nested = json_pack ("{s:{s:i}}", "store", "entries", 7);
    el_cli_col_t nc = { "E", "store.entries", EL_CLI_COL_TEXT, 0 };
    el_cli_cell (nested, &nc, cell, sizeof cell);
    assert_string_equal (cell, "7");
    json_decref (nested);
    json_decref (rows);
}

/* All-day events are dates: the same day in every zone. */
static void
test_dates_in_every_zone (void **state)
{
    (void) state;
    const int64_t sep1 = 1819756800LL * US;      /* 2027-09-01T00:00:00Z: DATE 20270901 */
    char out[EL_CLI_TIME_TEXT_MAX];
    const char *zones[] = { "Europe/Paris", "America/New_York", "UTC", "Pacific/Kiritimati" };
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        s_tz (zones[i]);
        el_cli_date_text (sep1, out);
        assert_string_equal (out, "2027-09-01");
        el_cli_date_text (sep1 + 86400 * US - 1, out);
        assert_string_equal (out, "2027-09-01");
        /* local midnight of 1 Sep, read as a wall clock, is the stored date */
        int64_t midnight = el_cli_time_of_wall (sep1);
        assert_int_equal (el_cli_time_wall (midnight), sep1);
        el_cli_time_table (midnight, out);
        assert_string_equal (out, "2027-09-01 00:00");
    }
    /* the wall clock of an instant: Paris is UTC+2 in September, New York UTC-4 */
    s_tz ("Europe/Paris");
    assert_int_equal (el_cli_time_wall (sep1 - 7200 * US), sep1);   /* 31 Aug 22:00Z */
    assert_int_equal (el_cli_time_of_wall (sep1), sep1 - 7200 * US);
    s_tz ("America/New_York");
    assert_int_equal (el_cli_time_wall (sep1 + 4 * 3600 * US), sep1);
    /* a wall clock a clock change skipped: the first instant after the gap
     * (2027-03-14 02:30 in New York does not exist; 07:00Z is 03:00 EDT) */
    const int64_t gap = (1804989600LL + 1800) * US;  /* 2027-03-14T02:30Z as a wall clock */
    assert_int_equal (el_cli_time_of_wall (gap), 1805007600LL * US);
    /* twice (fall back, 2027-11-07 01:30): the earlier instant, on summer time */
    const int64_t twice = 1825551000LL * US;        /* 2027-11-07T01:30Z as a wall clock */
    assert_int_equal (el_cli_time_of_wall (twice), twice + 4 * 3600 * US);
}

/* A WHEN column shows an all-day row's date, a timed row's local time. */
static void
test_when_column (void **state)
{
    (void) state;
    s_tz ("America/New_York");
    json_t *rows = json_pack ("[{s:I, s:s}, {s:I}]", "start_us", (json_int_t) 1819756800LL * US,
                              "start_date", "2027-09-01", "start_us",
                              (json_int_t) 1819756800LL * US);
    const el_cli_col_t when = { "START", "start_us", EL_CLI_COL_WHEN, 0 };
    const el_cli_col_t time = { "START", "start_us", EL_CLI_COL_TIME, 0 };
    char cell[EL_CLI_CELL_MAX];
    el_cli_cell (json_array_get (rows, 0), &when, cell, sizeof cell);
    assert_string_equal (cell, "2027-09-01");
    el_cli_cell (json_array_get (rows, 1), &when, cell, sizeof cell);
    assert_string_equal (cell, "2027-08-31 20:00");
    el_cli_cell (json_array_get (rows, 0), &time, cell, sizeof cell);
    assert_string_equal (cell, "2027-08-31 20:00");
    json_decref (rows);
}

static void
test_options (void **state)
{
    (void) state;
    static const el_cli_optspec_t opts[] = {
        { "name", EL_CLI_OPT_VALUE, "TEXT", "" },
        { "role", EL_CLI_OPT_LIST, "ROLE", "" },
        { "force", EL_CLI_OPT_SWITCH, NULL, "" },
        { NULL, 0, NULL, NULL },
    };
    static const el_cli_cmd_t cmd = { "thing add", "KEY", 1, 1, "", opts, NULL, NULL };
    el_cli_t cli;
    memset (&cli, 0, sizeof cli);
    el_cli_args_t a;
    char *ok[] = { "k1", "--name", "--dashes--", "--role=x", "--role", "y", "--force" };
    assert_int_equal (el_cli_parse (&cli, &cmd, 7, ok, &a), 0);
    assert_string_equal (el_cli_opt (&a, "name"), "--dashes--");
    const char *const *roles;
    assert_int_equal (el_cli_opt_list (&a, "role", &roles), 2);
    assert_string_equal (roles[0], "x");
    assert_string_equal (roles[1], "y");
    assert_true (el_cli_has (&a, "force"));
    assert_int_equal (a.n_pos, 1);
    assert_string_equal (a.pos[0], "k1");
    /* a key's text may begin with "--": it is the argument, not an option */
    char dashed[] = "----AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw";
    char *key_arg[] = { dashed, "--force" };
    uint8_t k[EL_KEY_BYTES];
    assert_int_equal (el_key_from_text (dashed, k), 0);
    assert_int_equal (el_cli_parse (&cli, &cmd, 2, key_arg, &a), 0);
    assert_int_equal (a.n_pos, 1);
    assert_string_equal (a.pos[0], dashed);
    assert_true (el_cli_has (&a, "force"));
    struct { int argc; char *argv[5]; const char *why; } bad[] = {
        { 1, { "--bogus" }, "unknown option --bogus" },
        { 2, { "k", "--name" }, "needs a value" },
        { 5, { "k", "--name", "a", "--name", "b" }, "given twice" },
        { 2, { "k", "--force=1" }, "takes no value" },
        { 2, { "k", "k2" }, "unexpected argument" },
        { 0, { NULL }, "missing KEY" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli.err[0] = '\0';
        assert_int_equal (el_cli_parse (&cli, &cmd, bad[i].argc, bad[i].argv, &a), EL_CLI_BAD);
        if (!strstr (cli.err, bad[i].why))
            fail_msg ("case %zu: '%s' lacks '%s'", i, cli.err, bad[i].why);
    }
}

/* The CLI's category list is the importers' controlled list: every entry is
 * its own category, and the synonyms the importers know land in it. */
static void
test_categories_are_the_controlled_list (void **state)
{
    (void) state;
    size_t n = 0;
    for (; el_cli_equipment_categories[n]; n++)
        assert_string_equal (el_equipment_category (el_cli_equipment_categories[n]),
                             el_cli_equipment_categories[n]);
    assert_int_equal (n, 12);
    assert_string_equal (el_cli_equipment_categories[n - 1], "other");
    static const char *const synonyms[] = { "laser", "fraiseuse", "Imprimante 3D", "brodeuse",
                                            "soldering station", "tour", "autre" };
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
        const char *c = el_equipment_category (synonyms[i]);
        assert_non_null (c);
        bool listed = false;
        for (size_t k = 0; k < n; k++)
            listed |= !strcmp (c, el_cli_equipment_categories[k]);
        assert_true (listed);
    }
    assert_null (el_equipment_category ("chainsaw"));
}

int
main (void)
{
    assert_int_equal (el_crypto_init (), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_utc_and_offsets),
        cmocka_unit_test (test_local_time),
        cmocka_unit_test (test_bad_dates),
        cmocka_unit_test (test_durations),
        cmocka_unit_test (test_format),
        cmocka_unit_test (test_table_and_record),
        cmocka_unit_test (test_dates_in_every_zone),
        cmocka_unit_test (test_when_column),
        cmocka_unit_test (test_options),
        cmocka_unit_test (test_categories_are_the_controlled_list),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
