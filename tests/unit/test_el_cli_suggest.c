/* test_el_cli_suggest.c — "did you mean": the nearest word, or none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "el_cli_suggest.h"

static const char *const s_cmds[] = { "init", "admit", "revoke", "invite", "join", "sites",
                                      "status", "event", "equipment", "book", "bookings",
                                      "member", "federate", "unfederate", "federation" };
#define S_N (sizeof s_cmds / sizeof s_cmds[0])

static void
test_typos_found (void **state)
{
    (void) state;
    assert_string_equal (el_cli_nearest ("evnt", s_cmds, S_N), "event");        /* deletion */
    assert_string_equal (el_cli_nearest ("eventt", s_cmds, S_N), "event");      /* insertion */
    assert_string_equal (el_cli_nearest ("stauts", s_cmds, S_N), "status");     /* swap */
    assert_string_equal (el_cli_nearest ("bookngs", s_cmds, S_N), "bookings");
    assert_string_equal (el_cli_nearest ("equipmnet", s_cmds, S_N), "equipment");
    assert_string_equal (el_cli_nearest ("memebr", s_cmds, S_N), "member");
}

static void
test_nothing_near (void **state)
{
    (void) state;
    assert_null (el_cli_nearest ("xyzzy", s_cmds, S_N));
    assert_null (el_cli_nearest ("", s_cmds, S_N));
    assert_null (el_cli_nearest ("event", s_cmds, S_N));          /* itself is no suggestion */
    assert_null (el_cli_nearest ("ev", s_cmds, S_N));             /* 3 edits for 2 letters */
    /* as near to two words: no guess */
    static const char *const two[] = { "list", "lost" };
    assert_null (el_cli_nearest ("lust", two, 2));
    char longw[200];
    for (int i = 0; i < 199; i++)
        longw[i] = 'a';
    longw[199] = '\0';
    assert_null (el_cli_nearest (longw, s_cmds, S_N));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_typos_found),
        cmocka_unit_test (test_nothing_near),
    };
    return cmocka_run_group_tests_name ("el_cli_suggest", tests, NULL, NULL);
}
