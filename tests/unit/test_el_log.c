/* test_el_log.c — levels, value quoting, fingerprints, line format. */
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

#include "el_log.h"
#include "el_entry.h"

static void
test_levels (void **state)
{
    (void) state;
    el_log_level_t l;
    assert_int_equal (el_log_level_parse ("debug", &l), 0);
    assert_int_equal (l, EL_LOG_DEBUG);
    assert_int_equal (el_log_level_parse ("warning", &l), 0);
    assert_int_equal (l, EL_LOG_WARN);
    assert_int_equal (el_log_level_parse ("loud", &l), -EINVAL);
    assert_int_equal (el_log_level_parse (NULL, &l), -EINVAL);
    el_log_set_level (EL_LOG_WARN);
    assert_true (el_log_enabled (EL_LOG_ERROR));
    assert_true (el_log_enabled (EL_LOG_WARN));
    assert_false (el_log_enabled (EL_LOG_INFO));
    assert_string_equal (el_log_level_name (EL_LOG_INFO), "info");
}

static void
test_quote (void **state)
{
    (void) state;
    char buf[64];
    assert_string_equal (el_log_quote ("tcp://127.0.0.1:7400", buf, sizeof buf),
                         "tcp://127.0.0.1:7400");
    assert_string_equal (el_log_quote ("Fablab du Val", buf, sizeof buf), "\"Fablab du Val\"");
    assert_string_equal (el_log_quote ("a=b", buf, sizeof buf), "\"a=b\"");
    assert_string_equal (el_log_quote ("say \"hi\"\n", buf, sizeof buf), "\"say \\\"hi\\\"\\n\"");
    assert_string_equal (el_log_quote ("", buf, sizeof buf), "\"\"");
    assert_string_equal (el_log_quote (NULL, buf, sizeof buf), "\"\"");
    /* cut, still closed */
    char small[8];
    el_log_quote ("a b c d e f g h", small, sizeof small);
    assert_int_equal (small[0], '"');
    assert_int_equal (small[strlen (small) - 1], '"');
    assert_true (strlen (small) < sizeof small);
}

static void
test_line_format (void **state)
{
    (void) state;
    char path[] = "/tmp/el-log-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    fflush (stderr);
    int saved = dup (2);
    dup2 (fd, 2);
    el_log_set_level (EL_LOG_INFO);
    el_log (EL_LOG_INFO, "peer_connected", "peer=%s endpoint=%s", "AbCd12Ef", "tcp://x:1");
    el_log (EL_LOG_DEBUG, "hidden", "x=1");
    el_log (EL_LOG_ERROR, "stopped", NULL);
    char *big = malloc (EL_LOG_LINE_MAX * 2);
    memset (big, 'x', EL_LOG_LINE_MAX * 2 - 1);
    big[EL_LOG_LINE_MAX * 2 - 1] = '\0';
    el_log (EL_LOG_WARN, "long", "v=%s", big);
    free (big);
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    char text[EL_LOG_LINE_MAX * 3];
    lseek (fd, 0, SEEK_SET);
    ssize_t n = read (fd, text, sizeof text - 1);
    close (fd);
    unlink (path);
    assert_true (n > 0);
    text[n] = '\0';
    char *line2 = strchr (text, '\n');
    assert_non_null (line2);
    *line2++ = '\0';
    assert_string_equal (text, "info event=peer_connected peer=AbCd12Ef endpoint=tcp://x:1");
    char *line3 = strchr (line2, '\n');
    assert_non_null (line3);
    *line3++ = '\0';
    assert_string_equal (line2, "error event=stopped");
    char *end = strchr (line3, '\n');
    assert_non_null (end);
    *end = '\0';
    assert_int_equal (strlen (line3), EL_LOG_LINE_MAX - 1);
    assert_int_equal (strncmp (line3, "warn event=long v=xxx", 21), 0);
    assert_string_equal (line3 + strlen (line3) - 3, "...");
    assert_string_equal (end + 1, "");      /* the debug line was not written */
}

static void
test_fingerprint (void **state)
{
    (void) state;
    uint8_t key[32];
    memset (key, 0, sizeof key);
    char fpr[EL_LOG_FPR_BYTES], text[EL_KEY_TEXT_BYTES];
    el_key_to_text (key, text);
    el_log_fpr (key, fpr);
    assert_int_equal (strlen (fpr), 8);
    assert_int_equal (strncmp (fpr, text, 8), 0);
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_levels),
        cmocka_unit_test (test_quote),
        cmocka_unit_test (test_line_format),
        cmocka_unit_test (test_fingerprint),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
