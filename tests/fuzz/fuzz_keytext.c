/* fuzz_keytext.c — libFuzzer target for keys as people type them
 * (core/el_keytext.h). Three readings of the bytes:
 *   - as a text: el_keytext_decode() accepts or refuses it with a reason; a
 *     key it accepts encodes to a checked text that decodes to the same key;
 *   - as a key (first 32 bytes) and an edit: its checked text with one
 *     character replaced by another base64url character, or two different
 *     characters swapped, must be refused (the check's promise);
 *   - the checked text with spaces and tabs around it decodes to the key.
 * el_keytext_resolve() is not called: it opens a path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_keytext.h"
#include "fuzz_util.h"

#define S_TEXT_MAX 256

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
s_as_text (const uint8_t *data, size_t size)
{
    char text[S_TEXT_MAX + 1];
    size_t n = size < S_TEXT_MAX ? size : S_TEXT_MAX;
    memcpy (text, data, n);
    text[n] = '\0';
    uint8_t key[EL_KEY_BYTES], again[EL_KEY_BYTES];
    bool unchecked = false;
    const char *why = NULL;
    if (el_keytext_decode (text, key, &unchecked, &why) != 0) {
        FZ_CHECK (why && why[0]);
        return;
    }
    char out[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, out);
    FZ_CHECK (strlen (out) == EL_KEYTEXT_LEN);
    FZ_CHECK (el_keytext_decode (out, again, &unchecked, NULL) == 0 && !unchecked);
    FZ_CHECK (!memcmp (key, again, EL_KEY_BYTES));
}

static void
s_edits (const uint8_t *data, size_t size)
{
    if (size < EL_KEY_BYTES + 3)
        return;
    uint8_t key[EL_KEY_BYTES], got[EL_KEY_BYTES];
    memcpy (key, data, EL_KEY_BYTES);
    char text[EL_KEYTEXT_BYTES], edit[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, text);

    char padded[EL_KEYTEXT_BYTES + 8];
    snprintf (padded, sizeof padded, " \t%s\t ", text);
    FZ_CHECK (el_keytext_decode (padded, got, NULL, NULL) == 0
              && !memcmp (got, key, EL_KEY_BYTES));

    size_t i = data[EL_KEY_BYTES] % EL_KEYTEXT_LEN;
    size_t j = data[EL_KEY_BYTES + 1] % EL_KEYTEXT_LEN;
    char c = s_b64[data[EL_KEY_BYTES + 2] % 64];
    memcpy (edit, text, sizeof edit);
    edit[i] = c;
    if (c != text[i])            /* one wrong character: refused */
        FZ_CHECK (el_keytext_decode (edit, got, NULL, NULL) != 0);
    memcpy (edit, text, sizeof edit);
    edit[i] = text[j];
    edit[j] = text[i];
    if (text[i] != text[j])      /* two different characters swapped: refused */
        FZ_CHECK (el_keytext_decode (edit, got, NULL, NULL) != 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_as_text (data, size);
    s_edits (data, size);
    return 0;
}
