/* el_record.c — see el_record.h. */
#include "el_record.h"

#include <string.h>

static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *descriptor;
} s_kinds[] = {
    [EL__KIND__SITE] = { "site", &el__site__descriptor },
    [EL__KIND__EVENT] = { "event", &el__event__descriptor },
    [EL__KIND__MEMBER] = { "member", &el__member__descriptor },
    [EL__KIND__EQUIPMENT] = { "equipment", &el__equipment__descriptor },
    [EL__KIND__BOOKING_REQUEST] = { "booking_request", &el__booking_request__descriptor },
    [EL__KIND__BOOKING] = { "booking", &el__booking__descriptor },
};

_Static_assert (sizeof s_kinds / sizeof s_kinds[0] == EL_RECORD_KIND_KNOWN_MAX + 1,
                "a kind of entrelab.proto is missing from the table");

bool
el_record_kind_is_known (El__Kind kind)
{
    return kind >= EL__KIND__SITE && kind <= EL_RECORD_KIND_KNOWN_MAX;
}

const char *
el_record_kind_name (El__Kind kind)
{
    return el_record_kind_is_known (kind) ? s_kinds[kind].name : "unknown";
}

int
el_record_kind_parse (const char *name, El__Kind *ret)
{
    for (int k = EL__KIND__SITE; name && k <= EL_RECORD_KIND_KNOWN_MAX; k++) {
        if (!strcmp (name, s_kinds[k].name)) {
            *ret = (El__Kind) k;
            return 0;
        }
    }
    return EL_EINVAL;
}

const ProtobufCMessageDescriptor *
el_record_descriptor (El__Kind kind)
{
    return el_record_kind_is_known (kind) ? s_kinds[kind].descriptor : NULL;
}

int
el_record_payload_check (El__Kind kind, const uint8_t *payload, size_t len)
{
    if (!el_record_kind_is_known (kind))
        return 0;
    ProtobufCMessage *m = protobuf_c_message_unpack (s_kinds[kind].descriptor, &el_pb_allocator,
                                                     len, payload);
    if (!m)
        return EL_EPROTO;
    protobuf_c_message_free_unpacked (m, &el_pb_allocator);
    return 0;
}

int64_t
el_event_span_us (const El__Event *e)
{
    int64_t span = el_span_us (e->dtstart_us, e->dtend_us);
    return e->all_day && !span ? (int64_t) 86400 * 1000000 : span;
}
