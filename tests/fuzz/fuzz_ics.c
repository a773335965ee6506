/* fuzz_el_ics.c — libFuzzer target for the iCalendar importer: any bytes
 * must be imported or refused without a crash, leak or undefined behaviour;
 * what was imported must export, import again, and expand. */
#include <stdint.h>
#include <stdlib.h>

#include "el_ics.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    el_ics_import_t *imp = NULL;
    el_ics_error_t err;
    if (el_ics_import ((const char *) data, size, &imp, &err) != 0)
        return 0;
    for (size_t i = 0; i < imp->n_events; i++) {
        int64_t starts[64];
        size_t n = 0;
        (void) el_ics_expand (imp->events[i], (const El__Event *const *) imp->events,
                              imp->n_events, INT64_C (1767225600000000) /* 2026-01-01 */,
                              INT64_C (1830297600000000) /* 2028-01-01 */, starts, 64, &n);
    }
    el_ics_occurrence_t occ[128];
    size_t n_occ = 0;
    (void) el_ics_agenda ((const El__Event *const *) imp->events, imp->n_events,
                          INT64_C (1767225600000000), INT64_C (1830297600000000), occ, 128, &n_occ);
    char *out = NULL;
    size_t len = 0;
    if (el_ics_export ((const El__Event *const *) imp->events, imp->n_events, 0, &out, &len,
                       NULL) == 0) {
        el_ics_import_t *back = NULL;
        if (el_ics_import (out, len, &back, &err) != 0)
            abort ();   /* our own output must always import */
        el_ics_import_destroy (&back);
        free (out);
    }
    el_ics_import_destroy (&imp);
    return 0;
}
