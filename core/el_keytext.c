/* el_keytext.c — see el_keytext.h. */
#include "el_keytext.h"

#include <string.h>

#include "el_error.h"

#define S_MOD      4096u
#define S_KEY_LEN  (EL_KEY_TEXT_BYTES - 1)      /* 43 */

static const char s_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The base64url value of @p c, or -1. */
static int
s_value (char c)
{
    const char *p = c ? strchr (s_alphabet, c) : NULL;
    return p ? (int) (p - s_alphabet) : -1;
}

/* Σ (2i+3)·v_i over the 43 key characters, mod S_MOD; -1 when one is not base64url. */
static int
s_sum (const char *text)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < S_KEY_LEN; i++) {
        int v = s_value (text[i]);
        if (v < 0)
            return -1;
        sum = (sum + (2 * i + 3) * (unsigned) v) % S_MOD;
    }
    return (int) sum;
}

void
el_keytext_encode (const uint8_t key[EL_KEY_BYTES], char out[EL_KEYTEXT_BYTES])
{
    el_key_to_text (key, out);
    unsigned check = (S_MOD - (unsigned) s_sum (out)) % S_MOD;
    out[S_KEY_LEN] = s_alphabet[check >> 6];
    out[S_KEY_LEN + 1] = s_alphabet[check & 63];
    out[S_KEY_LEN + 2] = '\0';
}

static int
s_fail (const char **ret_why, const char *why)
{
    if (ret_why)
        *ret_why = why;
    return EL_EKEYFORMAT;
}

int
el_keytext_decode (const char *text, uint8_t key[EL_KEY_BYTES], bool *ret_unchecked,
                   const char **ret_why)
{
    if (!text)
        return s_fail (ret_why, "no key given");
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen (text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    char buf[EL_KEYTEXT_BYTES];
    if (len != S_KEY_LEN && len != EL_KEYTEXT_LEN)
        return s_fail (ret_why, "a key is 45 characters of base64url (A-Z a-z 0-9 - _), "
                                "or 43 in the older form without check");
    memcpy (buf, text, len);
    buf[len] = '\0';
    int sum = s_sum (buf);
    if (sum < 0)
        return s_fail (ret_why, "it holds a character that is not base64url "
                                "(A-Z a-z 0-9 - _)");
    if (len == EL_KEYTEXT_LEN) {
        int c0 = s_value (buf[S_KEY_LEN]), c1 = s_value (buf[S_KEY_LEN + 1]);
        if (c0 < 0 || c1 < 0
            || ((unsigned) sum + 64u * (unsigned) c0 + (unsigned) c1) % S_MOD != 0)
            return s_fail (ret_why, "its check characters do not match: a character is "
                                    "wrong or two are swapped");
        buf[S_KEY_LEN] = '\0';
    }
    uint8_t k[EL_KEY_BYTES];
    if (el_key_from_text (buf, k) < 0)
        return s_fail (ret_why, "its last character is not one a key ends with");
    memcpy (key, k, EL_KEY_BYTES);
    if (ret_unchecked)
        *ret_unchecked = len == S_KEY_LEN;
    return 0;
}

int
el_keytext_resolve (const char *text_or_path, uint8_t key[EL_KEY_BYTES], bool *ret_unchecked,
                    const char **ret_why)
{
    const char *why = NULL;
    int rc = el_keytext_decode (text_or_path, key, ret_unchecked, &why);
    if (rc == 0)
        return 0;
    size_t len = text_or_path ? strlen (text_or_path) : 0;
    if (len == EL_KEYTEXT_LEN && s_sum (text_or_path) >= 0)
        return s_fail (ret_why, why);   /* a checked key with a typo, not a file name */
    bool padded = el_key_from_text (text_or_path, key) == 0;   /* e.g. "KEY=" */
    rc = padded ? 0 : el_key_resolve (text_or_path, key);
    if (rc == 0) {
        if (ret_unchecked)
            *ret_unchecked = padded;
        return 0;
    }
    if (rc == EL_EKEYFORMAT)
        return s_fail (ret_why, "neither a key (45 characters of base64url) nor a key file");
    if (ret_why)
        *ret_why = "cannot be read as a key file";
    return rc;
}
