/* test_el_record.c — core/el_record.h: the kind table (names both ways,
 * descriptors matching the generated code), the payload check (a real
 * record of each kind passes, bytes that do not decode fail, unknown kinds
 * pass). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "el_record.h"

static void
test_kind_names (void **state)
{
    (void) state;
    static const struct {
        El__Kind kind;
        const char *name;
        const ProtobufCMessageDescriptor *d;
    } want[] = {
        { EL__KIND__SITE, "site", &el__site__descriptor },
        { EL__KIND__EVENT, "event", &el__event__descriptor },
        { EL__KIND__MEMBER, "member", &el__member__descriptor },
        { EL__KIND__EQUIPMENT, "equipment", &el__equipment__descriptor },
        { EL__KIND__BOOKING_REQUEST, "booking_request", &el__booking_request__descriptor },
        { EL__KIND__BOOKING, "booking", &el__booking__descriptor },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_true (el_record_kind_is_known (want[i].kind));
        assert_string_equal (el_record_kind_name (want[i].kind), want[i].name);
        El__Kind k = EL__KIND__KIND_UNSPECIFIED;
        assert_int_equal (el_record_kind_parse (want[i].name, &k), 0);
        assert_int_equal (k, want[i].kind);
        assert_ptr_equal (el_record_descriptor (want[i].kind), want[i].d);
    }
    El__Kind k = EL__KIND__EVENT;
    assert_int_equal (el_record_kind_parse ("events", &k), EL_EINVAL);
    assert_int_equal (el_record_kind_parse (NULL, &k), EL_EINVAL);
    assert_int_equal (k, EL__KIND__EVENT);                  /* untouched on failure */
    assert_false (el_record_kind_is_known (EL__KIND__KIND_UNSPECIFIED));
    assert_false (el_record_kind_is_known ((El__Kind) 99));
    assert_string_equal (el_record_kind_name ((El__Kind) 99), "unknown");
    assert_null (el_record_descriptor ((El__Kind) 99));
}

static void
test_payload_check (void **state)
{
    (void) state;
    El__Event ev = EL__EVENT__INIT;
    ev.summary = "Réunion publique";
    size_t len = el__event__get_packed_size (&ev);
    uint8_t *buf = malloc (len);
    el__event__pack (&ev, buf);
    assert_int_equal (el_record_payload_check (EL__KIND__EVENT, buf, len), 0);
    free (buf);
    static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
    for (int k = EL__KIND__SITE; k <= EL_RECORD_KIND_KNOWN_MAX; k++)
        assert_int_equal (el_record_payload_check ((El__Kind) k, junk, sizeof junk), EL_EPROTO);
    /* a newer peer's kind is relayed, not read */
    assert_int_equal (el_record_payload_check ((El__Kind) 99, junk, sizeof junk), 0);
    /* an empty payload is a valid (all-default) record */
    assert_int_equal (el_record_payload_check (EL__KIND__MEMBER, NULL, 0), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_kind_names),
        cmocka_unit_test (test_payload_check),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
