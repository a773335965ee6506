/* test_el_daemon.c — the start shared by the daemons' main() (daemon/el_daemon.h):
 * switches, extra flags, exit statuses of --help, --version and bad arguments,
 * --print-id's key, the log level. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "el_daemon.h"
#include "el_log.h"

static int s_usage_calls;
static FILE *s_usage_out;

static void
s_usage (FILE *out)
{
    s_usage_calls++;
    s_usage_out = out;
}

typedef struct {
    const char *admit;
    int calls;
} s_extra_t;

static int
s_extra (void *arg, const char *name, const char *value)
{
    s_extra_t *x = arg;
    x->calls++;
    if (!strcmp (name, "admit")) {
        x->admit = value;
        return 0;
    }
    return -ENOENT;
}

static int
s_start (int argc, char **argv, el_config_t *cfg, el_daemon_flags_t *flags, s_extra_t *x)
{
    s_usage_calls = 0;
    s_usage_out = NULL;
    memset (flags, 0, sizeof *flags);
    return el_daemon_start ("test-daemon", s_usage, argc, argv, cfg, flags, x ? s_extra : NULL,
                            x);
}

static void
test_go (void **state)
{
    (void) state;
    el_config_t cfg;
    el_daemon_flags_t flags;
    s_extra_t x = { 0 };
    char *argv[] = { "d", "--print-id", "--state-dir", "/nonexistent-el", "--admit", "K",
                     "--log-level", "debug", NULL };
    assert_int_equal (s_start (8, argv, &cfg, &flags, &x), EL_DAEMON_GO);
    assert_true (flags.print_id);
    assert_false (flags.help);
    assert_false (flags.version);
    assert_string_equal (x.admit, "K");
    assert_int_equal (x.calls, 1);                  /* switches are not passed on */
    assert_string_equal (cfg.state_dir, "/nonexistent-el");
    assert_int_equal (cfg.log_level, EL_LOG_DEBUG);
    assert_int_equal (s_usage_calls, 0);
    el_log_set_level (EL_LOG_INFO);
}

static void
test_help_version (void **state)
{
    (void) state;
    el_config_t cfg;
    el_daemon_flags_t flags;
    char *help[] = { "d", "--help", NULL };
    assert_int_equal (s_start (2, help, &cfg, &flags, NULL), 0);
    assert_int_equal (s_usage_calls, 1);
    assert_ptr_equal (s_usage_out, stdout);
    char *version[] = { "d", "--version", NULL };
    assert_int_equal (s_start (2, version, &cfg, &flags, NULL), 0);
    assert_true (flags.version);
    assert_int_equal (s_usage_calls, 0);
}

static void
test_bad_args (void **state)
{
    (void) state;
    el_config_t cfg;
    el_daemon_flags_t flags;
    s_extra_t x = { 0 };
    /* without an extra handler, --admit is unknown */
    char *admit[] = { "d", "--admit", "K", NULL };
    assert_int_equal (s_start (3, admit, &cfg, &flags, NULL), 2);
    assert_int_equal (s_usage_calls, 1);
    assert_ptr_equal (s_usage_out, stderr);
    char *unknown[] = { "d", "--no-such-flag", NULL };
    assert_int_equal (s_start (2, unknown, &cfg, &flags, &x), 2);
    assert_ptr_equal (s_usage_out, stderr);
    char *bad[] = { "d", "--log-level", "loud", NULL };
    assert_int_equal (s_start (3, bad, &cfg, &flags, &x), 2);
    char *stray[] = { "d", "stray", NULL };
    assert_int_equal (s_start (2, stray, &cfg, &flags, &x), 2);
}

static void
test_print_id (void **state)
{
    (void) state;
    char dir[] = "/tmp/el-daemon-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char key[64];
    snprintf (key, sizeof key, "%s/key", dir);
    assert_int_equal (el_daemon_print_id ("test-daemon", key), 0);   /* creates it */
    assert_int_equal (access (key, F_OK), 0);
    assert_int_equal (el_daemon_print_id ("test-daemon", key), 0);   /* reads it */
    char missing[96];
    snprintf (missing, sizeof missing, "%s/no-dir/key", dir);
    assert_int_equal (el_daemon_print_id ("test-daemon", missing), 1);
    char pub[72];
    snprintf (pub, sizeof pub, "%s.pub", key);
    unlink (pub);
    unlink (key);
    assert_int_equal (rmdir (dir), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_go),
        cmocka_unit_test (test_help_version),
        cmocka_unit_test (test_bad_args),
        cmocka_unit_test (test_print_id),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
