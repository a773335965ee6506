/* el_wire.h — reading the protobuf wire format of proto/entrelab.proto
 * without unpacking it: the zero-copy peeks of the receive and send paths,
 * and the checks that must come before protobuf-c allocates anything.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/ — each
 * field is a varint tag (field number << 3 | wire type) then its value;
 * length-delimited values (wire type 2) carry a varint length first.
 * Field numbers are named after entrelab.proto below, so a change of the
 * schema shows here.
 *
 * Pure functions on caller-owned bytes: no allocation, any thread. Pointers
 * returned point into the caller's buffer. These functions find fields; they
 * do not validate a message: what they accept, the store or protobuf-c
 * still checks. */
#ifndef EL_WIRE_H
#define EL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"

/* Wire types. */
#define EL_WIRE_VARINT  0
#define EL_WIRE_I64     1
#define EL_WIRE_LEN     2
#define EL_WIRE_I32     5
#define EL_WIRE_TAG(field, type) ((uint8_t) ((field) << 3 | (type)))   /* fields 1..15 */

/* Field numbers of proto/entrelab.proto. */
enum {
    EL_WIRE_MSG_HELLO = 1,          /* Msg.hello (oneof m) */
    EL_WIRE_MSG_ENTRIES = 2,        /* Msg.entries */
    EL_WIRE_MSG_CREDIT = 3,         /* Msg.credit */
    EL_WIRE_MSG_ERROR = 4,          /* Msg.error */
    EL_WIRE_MSG_HUB = 5,            /* Msg.hub */
    EL_WIRE_HUB_HEADS = 2,          /* Hub.heads, repeated Head */
    EL_WIRE_HELLO_SENDER = 2,       /* Hello.sender, 32 bytes */
    EL_WIRE_HELLO_KINDS = 4,        /* Hello.kinds, repeated */
    EL_WIRE_HELLO_HEADS = 5,        /* Hello.heads, repeated Head */
    EL_WIRE_HELLO_NETWORKS = 7,     /* Hello.networks, repeated bytes */
    EL_WIRE_ENTRIES_ENTRY = 1,      /* Entries.entries, repeated bytes */
    EL_WIRE_ENTRY_BODY = 1,         /* Entry.body */
    EL_WIRE_ENTRY_PAYLOAD = 4,      /* Entry.payload */
    EL_WIRE_ENTRY_STUB = 5,         /* Entry.stub */
    EL_WIRE_BODY_ORIGIN = 1,        /* EntryBody.origin */
    EL_WIRE_BODY_SEQ = 2,           /* EntryBody.seq */
    EL_WIRE_BODY_NETWORK = 4,       /* EntryBody.network */
    EL_WIRE_BODY_KIND = 6,          /* EntryBody.kind */
    EL_WIRE_BODY_PAYLOAD_HASH = 9,  /* EntryBody.payload_hash */
};

/** Read a varint at *@p p (at most 10 bytes, before @p end); advance *@p p.
 * @return false when it runs past @p end or over 64 bits. */
bool el_wire_varint (const uint8_t **p, const uint8_t *end, uint64_t *ret);

/** A length prefix as protobuf-c reads it: at most 5 bytes, at most INT_MAX,
 * the value within the buffer. Advances *@p p. */
bool el_wire_len_prefix (const uint8_t **p, const uint8_t *end, size_t *ret);

/** Read the next field at *@p p: its number, wire type, and its value (the
 * bytes of a length-delimited field in @p ret_data / its length in
 * @p ret_v; a varint's value in @p ret_v). Advances *@p p past it.
 * @return false when the bytes there are not a well-formed field. */
bool el_wire_next (const uint8_t **p, const uint8_t *end, uint32_t *ret_field,
                   unsigned *ret_type, const uint8_t **ret_data, uint64_t *ret_v);

/** Walk the top-level fields of one message in [@p p, @p end): the last
 * length-delimited field @p want_len (its bytes, may be NULL) and the last
 * varint field @p want_varint (may be NULL). Field 0 matches nothing.
 * @return false when the bytes are not a well-formed field sequence. */
bool el_wire_fields (const uint8_t *p, const uint8_t *end, uint32_t want_len,
                     const uint8_t **ret_data, size_t *ret_len, uint32_t want_varint,
                     uint64_t *ret_varint);

/** How many times field @p field occurs at the top level of [@p p, @p end),
 * counting at most @p stop_at (then it stops reading). @return the count, or
 * SIZE_MAX when the bytes are not a well-formed field sequence. */
size_t el_wire_count (const uint8_t *p, const uint8_t *end, uint32_t field, size_t stop_at);

/** The entries of a frame that is exactly one Msg.entries whose Entries holds
 * nothing but field 1 (bytes): the common frame, read without copying. With
 * @p entries NULL only counts.
 * @param max  most entries accepted (EL_BATCH_MAX)
 * @return the number of entries (1..max; pointers into @p frame), or 0 for
 *         any other frame, which the caller decodes with protobuf-c (so every
 *         unusual or invalid frame takes the general path). */
size_t el_wire_entries_peek (const uint8_t *frame, size_t len, size_t max,
                             const uint8_t **entries, size_t *lens);

/** Origin (EL_KEY_BYTES, into @p data) and seq of serialized Entry bytes,
 * without allocating or hashing. Only for bookkeeping: the store validates.
 * @return false when they cannot be read. */
bool el_wire_entry_peek (const uint8_t *data, size_t len, const uint8_t **ret_origin,
                         uint64_t *ret_seq);

/** The network (EL_KEY_BYTES, into @p data) of serialized Entry bytes.
 * @return 0, EL_EPROTO. */
int el_wire_entry_network (const uint8_t *data, size_t len, const uint8_t **ret_network);

/** Kind and stub flag of serialized Entry bytes. @return 0, EL_EPROTO. */
int el_wire_entry_kind (const uint8_t *data, size_t len, El__Kind *ret_kind, bool *ret_stub);

/** Is this frame a Msg whose first field is its hello (protobuf-c writes the
 * one set field of a oneof alone)? */
bool el_wire_is_hello (const uint8_t *data, size_t len);

/** The sender of a Hello frame (Msg.hello.sender), read without unpacking
 * the heads it may carry. @return 0, EL_EPROTO (not a Hello, no 32-byte
 * sender, malformed). */
int el_wire_hello_sender (const uint8_t *data, size_t len, uint8_t ret[EL_KEY_BYTES]);

#endif
