/* test_el_text.c — UTF-8 helpers shared by the importers (tools/formats/el_text.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "el_text.h"

static size_t
s_seq (const char *bytes, size_t left)
{
    return el_text_utf8_seq ((const uint8_t *) bytes, left);
}

static void
test_utf8_seq (void **state)
{
    (void) state;
    assert_int_equal (s_seq ("a", 1), 1);
    assert_int_equal (s_seq ("\x01", 1), 1);             /* controls are ASCII */
    assert_int_equal (s_seq ("\xC3\xA9", 2), 2);         /* é */
    assert_int_equal (s_seq ("\xE2\x82\xAC", 3), 3);     /* € */
    assert_int_equal (s_seq ("\xF0\x9F\x94\xA7", 4), 4); /* 🔧 */
    assert_int_equal (s_seq ("\xF4\x8F\xBF\xBF", 4), 4); /* U+10FFFF */
    /* invalid: stray continuation, overlong, surrogate, above U+10FFFF, cut */
    assert_int_equal (s_seq ("\x80", 1), 0);
    assert_int_equal (s_seq ("\xC0\xAF", 2), 0);
    assert_int_equal (s_seq ("\xC1\xBF", 2), 0);
    assert_int_equal (s_seq ("\xE0\x80\xAF", 3), 0);
    assert_int_equal (s_seq ("\xF0\x80\x80\xAF", 4), 0);
    assert_int_equal (s_seq ("\xED\xA0\x80", 3), 0);
    assert_int_equal (s_seq ("\xF4\x90\x80\x80", 4), 0);
    assert_int_equal (s_seq ("\xF5\x80\x80\x80", 4), 0);
    assert_int_equal (s_seq ("\xE2\x82\xAC", 2), 0);     /* runs past left */
    assert_int_equal (s_seq ("\xC3\x41", 2), 0);         /* bad continuation */
}

static void
test_copy (void **state)
{
    (void) state;
    char dst[6];
    el_text_copy (dst, sizeof dst, "abc");
    assert_string_equal (dst, "abc");
    el_text_copy (dst, sizeof dst, "abcdefgh");
    assert_string_equal (dst, "abcde");
    /* "abcd" + é would need 6 bytes + NUL: é is dropped whole, not split */
    el_text_copy (dst, sizeof dst, "abcd\xC3\xA9");
    assert_string_equal (dst, "abcd");
    el_text_copy (dst, sizeof dst, "ab\xE2\x82\xAC" "c");
    assert_string_equal (dst, "ab\xE2\x82\xAC");
    el_text_copy (dst, 1, "abc");
    assert_string_equal (dst, "");
}

static void
s_format (char *dst, size_t size, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
s_format (char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    el_text_vformat (dst, size, fmt, ap);
    va_end (ap);
}

static void
test_vformat (void **state)
{
    (void) state;
    char dst[8];
    s_format (dst, sizeof dst, "%s=%d", "n", 42);
    assert_string_equal (dst, "n=42");
    s_format (dst, sizeof dst, "%s", "caf\xC3\xA9 cr\xC3\xA8me");
    assert_string_equal (dst, "caf\xC3\xA9 c");   /* 7 bytes + NUL */
    s_format (dst, sizeof dst, "%s", "abcdef\xC3\xA9");
    assert_string_equal (dst, "abcdef");             /* é not split */
    /* the format buffer is EL_TEXT_FORMAT_BYTES: longer output is cut there */
    char big[EL_TEXT_FORMAT_BYTES * 2];
    char arg[EL_TEXT_FORMAT_BYTES + 100];
    memset (arg, 'x', sizeof arg - 1);
    arg[sizeof arg - 1] = '\0';
    s_format (big, sizeof big, "%s", arg);
    assert_int_equal (strlen (big), EL_TEXT_FORMAT_BYTES - 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_utf8_seq),
        cmocka_unit_test (test_copy),
        cmocka_unit_test (test_vformat),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
