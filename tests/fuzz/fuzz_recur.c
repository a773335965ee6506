/* fuzz_recur.c — libFuzzer target for the web endpoint's RRULE reader
 * (daemon/el_recur.h), which expands rules other sites wrote: any rule text,
 * any start and window (local seconds over the whole int64 range reduced so
 * that µs still fit), with and without a zone. The occurrences must be
 * inside the window, ascending, at or after the start, and no more than
 * room was given.
 *
 * Input: u64 dtstart, u64 from, u16 span (days), u8 flags (1: Europe/Paris
 * when the system has it), then the rule text (up to EL_RECUR_TEXT_MAX + 8
 * bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_recur.h"
#include "el_tz.h"
#include "fuzz_util.h"

#define S_SECS_MAX (INT64_MAX / 1000000 - 86400 * 4000)  /* seconds whose µs fit */

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static el_tz_t *paris;
    static int loaded;
    if (!loaded) {
        loaded = 1;
        if (el_tz_load ("Europe/Paris", &paris) != 0)
            paris = NULL;
    }
    fz_t in = { data, size };
    int64_t start = (int64_t) (fz_u64 (&in) % (2 * (uint64_t) S_SECS_MAX)) - S_SECS_MAX;
    int64_t from = (int64_t) (fz_u64 (&in) % (2 * (uint64_t) S_SECS_MAX)) - S_SECS_MAX;
    int64_t to = from + (int64_t) (fz_u16 (&in) % 4000) * 86400;
    const el_tz_t *tz = fz_u8 (&in) & 1 ? paris : NULL;
    char rule[EL_RECUR_TEXT_MAX + 9];
    size_t len = in.n < sizeof rule - 1 ? in.n : sizeof rule - 1;
    memcpy (rule, in.p, len);
    rule[len] = '\0';
    int64_t out[16];
    size_t n = 99;
    el_recur_expand (rule, start, tz, from, to, out, 16, &n);
    FZ_CHECK (n <= 16);
    for (size_t i = 0; i < n; i++) {
        FZ_CHECK (out[i] >= from && out[i] < to && out[i] >= start);
        FZ_CHECK (i == 0 || out[i] > out[i - 1]);
    }
    return 0;
}
