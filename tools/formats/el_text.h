/* el_text.h — UTF-8 text helpers shared by the importers (el_ics, el_import).
 *
 * Pure functions on caller-owned buffers: no allocation, no logging, no
 * process-wide state; any thread may call them. UTF-8 as RFC 3629 defines it
 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
#ifndef EL_TEXT_H
#define EL_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/** Length in bytes (1..4) of the valid UTF-8 sequence at @p p, or 0 when the
 * bytes there are not valid UTF-8 (RFC 3629 §3-4) or the sequence would run
 * past @p left bytes. An ASCII byte, control characters included, is 1.
 * @param left  bytes readable at @p p; must be >= 1 */
size_t el_text_utf8_seq (const uint8_t *p, size_t left);

/** Copy the NUL-terminated @p src into @p dst, cut to at most @p size - 1
 * bytes at a UTF-8 sequence boundary, NUL-terminated.
 * @param size  bytes of @p dst; must be > 0 */
void el_text_copy (char *dst, size_t size, const char *src);

/** Format @p fmt / @p ap (vsnprintf, at most EL_TEXT_FORMAT_BYTES - 1 bytes)
 * and copy the result into @p dst with el_text_copy(). */
#define EL_TEXT_FORMAT_BYTES 512
void el_text_vformat (char *dst, size_t size, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

#endif
