/* el_keytext.h — keys as people type them: base64url with two check characters.
 *
 * A site id is 32 bytes, written for machines as 43 characters of unpadded
 * base64url (el_key_to_text: record keys, logs, JSON). Keys are also read out
 * over the phone and copied from e-mails into configurations and commands;
 * for those, the checked form adds two characters:
 *
 *   checked  = the 43 characters ‖ c0 c1       (45 characters)
 *
 * With v_i the base64url value (0..63) of character i and C = 64·c0 + c1,
 * the check makes  Σ_{i<43} (2i+3)·v_i + C ≡ 0 (mod 4096).  The weights
 * (3, 5, ... 87 for the key, 64 for c0, 1 for c1) are distinct, each is odd
 * or 64, and no two differ by a multiple of 128; a change of a character
 * value is below 64 in size. So one wrong character anywhere (check
 * characters included) and any swap of two different characters anywhere
 * change the sum by a non-multiple of 4096: both are always refused, never
 * read as another key.
 *
 * The 43-character form without check stays accepted (existing
 * configurations); el_keytext_decode() says when it was used, so that a
 * program talking to a person can note it.
 *
 * Pure functions: no I/O but el_keytext_resolve()'s key file, no state, any
 * thread. */
#ifndef EL_KEYTEXT_H
#define EL_KEYTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "el_entry.h"

#define EL_KEYTEXT_LEN    45                    /* characters of the checked form */
#define EL_KEYTEXT_BYTES  (EL_KEYTEXT_LEN + 1)  /* with its NUL */

/** The checked text of @p key into @p out (45 characters + NUL). */
void el_keytext_encode (const uint8_t key[EL_KEY_BYTES], char out[EL_KEYTEXT_BYTES]);

/** Parse a key typed by a person: the checked form, or the 43-character form
 * without check; spaces and tabs around it are ignored.
 * @param[out] ret_unchecked  may be NULL; true when the form without check was given
 * @param[out] ret_why        may be NULL; on error, why, for a message that
 *                            names the setting ("its check characters do not
 *                            match: a character is wrong or two are swapped"); static
 * @return 0; EL_EKEYFORMAT (not a key, or a check that does not match). */
int el_keytext_decode (const char *text, uint8_t key[EL_KEY_BYTES], bool *ret_unchecked,
                       const char **ret_why);

/** A key given as text (either form, el_keytext_decode) or as the path of a
 * ".pub" or secret key file (el_key_resolve). A text that looks like a
 * checked key but whose check does not match is refused, never tried as a
 * path. @p ret_unchecked and @p ret_why as el_keytext_decode() (a key file is
 * not "unchecked").
 * @return 0, EL_EKEYFORMAT, -errno (the file cannot be read). */
int el_keytext_resolve (const char *text_or_path, uint8_t key[EL_KEY_BYTES],
                        bool *ret_unchecked, const char **ret_why);

#endif
