/* test_el_util.c — core/el_util.h: big-endian integers (byte order and
 * round trip), the vector's maximum (an error, not growth), insert/remove
 * order, clear and free. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "el_util.h"

static void
test_be64 (void **state)
{
    (void) state;
    uint8_t b[8];
    el_be64_put (b, 0x0102030405060708ULL);
    static const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_memory_equal (b, want, 8);
    assert_true (el_be64_get (b) == 0x0102030405060708ULL);
    el_be64_put (b, UINT64_MAX);
    assert_true (el_be64_get (b) == UINT64_MAX);
    /* byte order sorts as the numbers do */
    uint8_t lo[8], hi[8];
    el_be64_put (lo, 255);
    el_be64_put (hi, 256);
    assert_true (memcmp (lo, hi, 8) < 0);
}

static void
test_vec_max (void **state)
{
    (void) state;
    el_vec_t v;
    el_vec_init (&v, sizeof (uint32_t), 20);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal (el_vec_push (&v, &i, NULL), 0);
    uint32_t x = 99;
    assert_int_equal (el_vec_push (&v, &x, NULL), -ENOBUFS);
    assert_int_equal (el_vec_insert (&v, 0, &x, NULL), -ENOBUFS);
    assert_int_equal (v.n, 20);
    assert_true (v.cap <= 20);                     /* never allocated beyond the max */
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal (*(uint32_t *) el_vec_at (&v, i), i);
    el_vec_clear (&v);
    assert_int_equal (v.n, 0);
    assert_int_equal (el_vec_push (&v, &x, NULL), 0);
    el_vec_free (&v);
    assert_null (v.items);
    assert_int_equal (v.max, 20);
}

static void
test_vec_insert_remove (void **state)
{
    (void) state;
    el_vec_t v;
    el_vec_init (&v, sizeof (int), 100);
    int vals[] = { 5, 1, 3 };
    assert_int_equal (el_vec_push (&v, &vals[0], NULL), 0);          /* 5 */
    assert_int_equal (el_vec_insert (&v, 0, &vals[1], NULL), 0);     /* 1 5 */
    void *slot = NULL;
    assert_int_equal (el_vec_insert (&v, 1, &vals[2], &slot), 0);    /* 1 3 5 */
    assert_ptr_equal (slot, el_vec_at (&v, 1));
    assert_int_equal (el_vec_insert (&v, 3, NULL, NULL), 0);         /* 1 3 5 0 */
    int want[] = { 1, 3, 5, 0 };
    assert_int_equal (v.n, 4);
    assert_memory_equal (v.items, want, sizeof want);
    el_vec_remove (&v, 1);                                           /* 1 5 0 */
    el_vec_remove (&v, 2);                                           /* 1 5 */
    int want2[] = { 1, 5 };
    assert_int_equal (v.n, 2);
    assert_memory_equal (v.items, want2, sizeof want2);
    el_vec_free (&v);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_be64),
        cmocka_unit_test (test_vec_max),
        cmocka_unit_test (test_vec_insert_remove),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
