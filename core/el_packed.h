/* el_packed.h — the stored form of an entry: its exact bytes, less the values
 * the store knows without them.
 *
 * Every entry of an origin repeats the origin's key and its network's key in
 * its body (EntryBody.origin, .network, 32 bytes each), and the body's
 * payload_hash (32 bytes) is BLAKE2b-256 of the payload the entry carries.
 * The store keeps those three out of the stored bytes and puts them back on
 * read, so that what it hands out (and forwards) is byte for byte what the
 * origin signed. Layout of a packed entry (docs/ARCHITECTURE.md "Store"):
 *
 *   byte 0        EL_PACKED_RAW: the Entry bytes follow unchanged, or
 *                 EL_PACKED_CUT: three 16-bit big-endian offsets follow
 *                 (origin, network, payload_hash), each the offset in the
 *                 full Entry bytes where that 32-byte value starts, 0 when the
 *                 value was kept; then the Entry bytes without the cut values.
 *
 * A value is cut only when its field occurs once, holds 32 bytes equal to
 * what the reader will put back (origin and network as given to
 * el_packed_encode(), payload_hash only beside the one payload it hashes),
 * and starts below 65,536; anything else (unknown or repeated fields, a stub's
 * payload_hash) stays in place, so every well-formed Entry round-trips.
 * Pure functions, no allocation, reentrant. */
#ifndef EL_PACKED_H
#define EL_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"

#define EL_PACKED_RAW     0
#define EL_PACKED_CUT     1
#define EL_PACKED_HEADER  7                       /* bytes: format + 3 offsets */
/* largest packed form of an Entry of at most EL_ENTRY_MAX bytes, bytes */
#define EL_PACKED_MAX     (EL_ENTRY_MAX + EL_PACKED_HEADER)

/** Pack the Entry bytes @p raw (@p len bytes, at most EL_ENTRY_MAX) into
 * @p out (@p cap bytes, at least @p len + EL_PACKED_HEADER).
 * @param origin   the entry's origin (what a reader supplies back)
 * @param network  the network the reader will supply back
 * @param payload_hash  the body's payload_hash as already checked against the
 *                 payload (el_entry_parse), or NULL: then it is kept
 * @param[out] ret_len bytes written
 * @return 0, EL_EINVAL (@p cap too small or @p len too large). */
EL_NODISCARD
int el_packed_encode (const uint8_t *raw, size_t len, const uint8_t origin[EL_KEY_BYTES],
                      const uint8_t network[EL_KEY_BYTES], const uint8_t *payload_hash,
                      uint8_t *out, size_t cap, size_t *ret_len);

/** The Entry bytes of packed form @p packed (@p len bytes) into @p out
 * (@p cap bytes; EL_ENTRY_MAX always suffices for what el_packed_encode()
 * wrote), given back the @p origin and @p network it was packed with.
 * @param payload_hash  NULL: a cut payload_hash is computed from the payload
 *               (BLAKE2b-256); else the value to put back (a caller that
 *               remembers it saves the hashing)
 * @param[out] ret_hash_off  may be NULL: where the put-back payload_hash sits
 *               in @p out, 0 when it was not cut
 * @return 0, EL_ESTORE (not a packed form this function wrote, or @p cap too
 *         small). */
EL_NODISCARD
int el_packed_decode (const uint8_t *packed, size_t len, const uint8_t origin[EL_KEY_BYTES],
                      const uint8_t network[EL_KEY_BYTES], const uint8_t *payload_hash,
                      uint8_t *out, size_t cap, size_t *ret_len, size_t *ret_hash_off);

#endif
