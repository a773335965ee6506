/* fuzz_el_import.c — libFuzzer target for the three record imports. The
 * first byte picks the decoder (equipment CSV, fablabs.io JSON, Fab Manager
 * member CSV); the rest is the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_import.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    el_import_t *imp = NULL;
    el_import_error_t err;
    int rc;
    switch (data[0] % 3) {
    case 0:
        rc = el_import_equipment_csv (text, len, &imp, &err);
        break;
    case 1:
        rc = el_import_fablabs_json (text, len, NULL, &imp, &err);
        break;
    default: {
        const char *map[] = { "1=3d_printer", NULL };
        el_member_import_opts_t opts = { .salt = data, .salt_len = 1, .trainings = map };
        rc = el_import_fabmanager_members (text, len, &opts, &imp, &err);
    }
    }
    if (rc == 0) {
        for (size_t i = 0; i < imp->n; i++)
            if (!imp->keys[i][0] || strlen (imp->keys[i]) > EL_RECORD_KEY_MAX)
                abort ();
        el_import_destroy (&imp);
    }
    return 0;
}
