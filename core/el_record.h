/* el_record.h — the record kinds of proto/entrelab.proto, in one table:
 * each kind's name and the message its payload holds, and the check that a
 * payload decodes as its kind.
 *
 * Pure functions and static tables: any thread. */
#ifndef EL_RECORD_H
#define EL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"

/** The highest kind this version knows; entries of higher kinds are stored
 * and relayed verbatim (a newer peer's), their payload unchecked. */
#define EL_RECORD_KIND_KNOWN_MAX EL__KIND__BOOKING

/** Is @p kind one this version knows (SITE..EL_RECORD_KIND_KNOWN_MAX)? */
bool el_record_kind_is_known (El__Kind kind);

/** Name of a known kind: "site", "event", "member", "equipment",
 * "booking_request", "booking"; "unknown" for any other. Static storage. */
const char *el_record_kind_name (El__Kind kind);

/** The kind named @p name (as el_record_kind_name() writes it).
 * @return 0, EL_EINVAL (no such kind). */
int el_record_kind_parse (const char *name, El__Kind *ret);

/** The message a known kind's payload holds (El__Site, El__Event, ...), or
 * NULL for an unknown kind. */
const ProtobufCMessageDescriptor *el_record_descriptor (El__Kind kind);

/** How long one occurrence of @p e lasts, µs: dtend_us - dtstart_us
 * (el_span_us), or one day for an all-day event whose end is not after its
 * start (RFC 5545 §3.6.1: a DATE DTSTART without DTEND lasts a day). */
int64_t el_event_span_us (const El__Event *e);

/** Does @p payload (@p len bytes) decode as the record of @p kind? Unknown
 * kinds pass (a newer peer's records are relayed verbatim).
 * @return 0, EL_EPROTO. */
EL_NODISCARD int el_record_payload_check (El__Kind kind, const uint8_t *payload, size_t len);

#endif
