/* el_text.c — UTF-8 text helpers shared by the importers (see el_text.h). */
#include "el_text.h"

#include <errno.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

size_t
el_text_utf8_seq (const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void
el_text_copy (char *dst, size_t size, const char *src)
{
    size_t len = strlen (src);
    if (len >= size) {
        len = size - 1;
        while (len > 0 && ((uint8_t) src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy (dst, src, len);
    dst[len] = '\0';
}

void
el_text_vformat (char *dst, size_t size, const char *fmt, va_list ap)
{
    char buf[EL_TEXT_FORMAT_BYTES];
    vsnprintf (buf, sizeof buf, fmt, ap);
    el_text_copy (dst, size, buf);
}

/* ------------------------------------------------------------ problems */

int
el_problems_vadd (el_problems_t *self, uint32_t line, bool skipped, const char *fmt, va_list ap)
{
    if (self->n >= EL_PROBLEMS_MAX) {
        self->dropped++;
        return 0;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        el_problem_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        self->items = items;
        self->cap = cap;
    }
    el_problem_t *p = &self->items[self->n++];
    p->line = line;
    p->skipped = skipped;
    el_text_vformat (p->reason, sizeof p->reason, fmt, ap);
    return 0;
}

int
el_problems_add (el_problems_t *self, uint32_t line, bool skipped, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = el_problems_vadd (self, line, skipped, fmt, ap);
    va_end (ap);
    return rc;
}

void
el_problems_free (el_problems_t *self)
{
    free (self->items);
    *self = (el_problems_t) { 0 };
}

void
el_file_error_set (el_file_error_t *err, uint32_t line, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start (ap, fmt);
    el_text_vformat (err->reason, sizeof err->reason, fmt, ap);
    va_end (ap);
    err->line = line;
}
