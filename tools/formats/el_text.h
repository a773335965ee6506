/* el_text.h — what the importers (el_ics, el_import) share: UTF-8 text
 * helpers and the list of problems an import reports.
 *
 * The text helpers are pure functions on caller-owned buffers: no
 * allocation, no logging, no process-wide state; any thread may call them.
 * A problem list belongs to its import. UTF-8 as RFC 3629 defines it
 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
#ifndef EL_TEXT_H
#define EL_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
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

/* ------------------------------------------------------------ problems */

#define EL_PROBLEM_REASON_BYTES 200     /* one reason text, bytes with NUL */
#define EL_PROBLEMS_MAX         1000    /* problems kept per import; more are only counted */

/** Something an import could not (fully) use. */
typedef struct {
    uint32_t line;      /* 1-based line where it starts (of the property when
                           known); 0 = unknown */
    bool skipped;       /* true: nothing imported from it; false: imported
                           with the noted loss */
    char reason[EL_PROBLEM_REASON_BYTES];   /* UTF-8, NUL-terminated */
} el_problem_t;

/** The problems of one import, in the order found; zero-initialise. */
typedef struct {
    el_problem_t *items;        /* n of them, malloc'd */
    size_t n;
    size_t dropped;             /* problems beyond EL_PROBLEMS_MAX, counted only */
    size_t cap;                 /* items allocated */
} el_problems_t;

/** Add a problem, its reason formatted as el_text_vformat() does; beyond
 * EL_PROBLEMS_MAX it is only counted. @return 0, -ENOMEM. */
int el_problems_add (el_problems_t *self, uint32_t line, bool skipped, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
int el_problems_vadd (el_problems_t *self, uint32_t line, bool skipped, const char *fmt,
                      va_list ap) __attribute__ ((format (printf, 4, 0)));

/** Free the items; the list is empty again. */
void el_problems_free (el_problems_t *self);

/** Why a whole file was refused: nothing was imported. */
typedef struct {
    uint32_t line;      /* 1-based physical line; 0 = the whole file */
    char reason[EL_PROBLEM_REASON_BYTES];   /* UTF-8, NUL-terminated */
} el_file_error_t;

/** Fill @p err (when not NULL) with @p line and the formatted reason. */
void el_file_error_set (el_file_error_t *err, uint32_t line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
