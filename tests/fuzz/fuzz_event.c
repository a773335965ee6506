/* fuzz_event.c — libFuzzer target for what the iCalendar module does with
 * Event records other sites wrote (tools/formats/el_ics.h: "records from any site:
 * validated here"): any bytes that decode as el.Event — any times from -2^63
 * to 2^63-1, any rrule, tzid, rdate, exdate, recurrence-id or VTIMEZONE text
 * — go through el_ics_expand(), el_ics_agenda(), el_ics_export() (whose
 * output must import again), el_ics_event_key() and the comparisons.
 *
 * Input: up to 4 events, each u16 len + el.Event bytes; then u64 from_us and
 * u64 span (µs) of the window (reduced to at most ~10 years). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_ics.h"
#include "fuzz_util.h"

#define S_EVENTS 4

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fz_t in = { data, size };
    El__Event *ev[S_EVENTS];
    size_t n = 0;
    while (n < S_EVENTS && in.n > 16) {
        size_t len;
        const uint8_t *p = fz_bytes (&in, EL_PAYLOAD_MAX, &len);
        El__Event *e = el__event__unpack (NULL, len, p);    /* as the CLI does */
        if (e)
            ev[n++] = e;
    }
    int64_t from = (int64_t) fz_u64 (&in);
    uint64_t span = fz_u64 (&in) % (UINT64_C (10) * 366 * 86400 * 1000000);
    if (from > INT64_MAX - (int64_t) span - 1)
        from = INT64_MAX - (int64_t) span - 1;
    int64_t to = from + (int64_t) span + 1;
    if (fz_u8 (&in) & 1) {      /* most often: a window around the events */
        from = FZ_T0 - INT64_C (86400000000) * 30;
        to = FZ_T0 + INT64_C (86400000000) * 400;
    }
    int64_t starts[64];
    el_ics_occurrence_t occ[64];
    for (size_t i = 0; i < n; i++) {
        size_t got = 0;
        if (el_ics_expand (ev[i], (const El__Event *const *) ev, n, from, to, starts, 64, &got)
            == 0) {
            FZ_CHECK (got <= 64);
            for (size_t k = 1; k < got; k++)
                FZ_CHECK (starts[k - 1] < starts[k]);
        }
        char key[EL_RECORD_KEY_MAX + 1];
        if (el_ics_event_key (ev[i], key, sizeof key) == 0)
            FZ_CHECK (key[0] && strlen (key) <= EL_RECORD_KEY_MAX);
        (void) el_ics_event_is_newer (ev[i], ev[(i + 1) % n]);
        FZ_CHECK (el_ics_event_same (ev[i], ev[i]));
        /* (NULL happens without ENOMEM: protobuf-c unpacks a tag 0 written
         * as 0x80 0x00, keeps it as an unknown field, packs it as 0x00, and
         * refuses that; nothing outside el_ics uses dup) */
        El__Event *dup = el_ics_event_dup (ev[i]);
        FZ_CHECK (!dup || el_ics_event_same (ev[i], dup));
        el_ics_event_destroy (&dup);
    }
    size_t got = 0;
    if (el_ics_agenda ((const El__Event *const *) ev, n, from, to, occ, 64, &got) == 0)
        for (size_t k = 1; k < got; k++)
            FZ_CHECK (occ[k - 1].start_us <= occ[k].start_us);
    char *text = NULL;
    size_t len = 0, degraded = 0;
    if (el_ics_export ((const El__Event *const *) ev, n, FZ_T0, &text, &len, &degraded) == 0) {
        el_ics_import_t *back = NULL;
        el_ics_error_t err;
        if (el_ics_import (text, len, &back, &err) != 0 && n > degraded) {
            fprintf (stderr, "export does not import again: line %u: %s\n", err.line,
                     err.reason);
            FZ_CHECK (!"our own export imports again");
        }
        el_ics_import_destroy (&back);
        free (text);
    }
    for (size_t i = 0; i < n; i++)
        el__event__free_unpacked (ev[i], NULL);
    return 0;
}
