/* test_el_keytext.c — keys as people type them (core/el_keytext.h).
 *
 * The checked form round-trips; the vectors below were computed outside this
 * code (the formula of el_keytext.h in a few lines of Python); every single
 * wrong character and every swap of two different characters of a checked
 * key is refused, never read as another key; the older 43-character form is
 * accepted and said to be unchecked; a checked key with a typo is never
 * tried as a file name; the daemons' settings (broker_key, peer) name the
 * setting and say why. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "el_config.h"
#include "el_error.h"
#include "el_keytext.h"

static const char s_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
test_vectors (void **state)
{
    (void) state;
    uint8_t key[EL_KEY_BYTES];
    char text[EL_KEYTEXT_BYTES];
    for (int i = 0; i < EL_KEY_BYTES; i++)
        key[i] = (uint8_t) i;
    el_keytext_encode (key, text);
    assert_string_equal (text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8nw");
    memset (key, 0xff, sizeof key);
    el_keytext_encode (key, text);
    assert_string_equal (text, "__________________________________________8TU");
    memset (key, 0, sizeof key);
    el_keytext_encode (key, text);
    assert_string_equal (text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

static void
test_round_trip_and_older_form (void **state)
{
    (void) state;
    for (int n = 0; n < 200; n++) {
        uint8_t key[EL_KEY_BYTES], back[EL_KEY_BYTES];
        randombytes_buf (key, sizeof key);
        char text[EL_KEYTEXT_BYTES], plain[EL_KEY_TEXT_BYTES];
        el_keytext_encode (key, text);
        assert_int_equal (strlen (text), EL_KEYTEXT_LEN);
        el_key_to_text (key, plain);
        assert_memory_equal (text, plain, EL_KEY_TEXT_BYTES - 1);    /* the key, then 2 */
        bool unchecked = true;
        assert_int_equal (el_keytext_decode (text, back, &unchecked, NULL), 0);
        assert_memory_equal (back, key, EL_KEY_BYTES);
        assert_false (unchecked);
        memset (back, 0, sizeof back);
        assert_int_equal (el_keytext_decode (plain, back, &unchecked, NULL), 0);
        assert_memory_equal (back, key, EL_KEY_BYTES);
        assert_true (unchecked);
        /* spaces around, as pasted */
        char padded[64];
        snprintf (padded, sizeof padded, "  %s\t", text);
        assert_int_equal (el_keytext_decode (padded, back, &unchecked, NULL), 0);
        assert_memory_equal (back, key, EL_KEY_BYTES);
    }
}

/* Every one-character change of a checked key, at every position (check
 * characters included), to every other character, is refused. */
static void
test_every_typo_refused (void **state)
{
    (void) state;
    for (int n = 0; n < 20; n++) {
        uint8_t key[EL_KEY_BYTES], out[EL_KEY_BYTES];
        randombytes_buf (key, sizeof key);
        char text[EL_KEYTEXT_BYTES];
        el_keytext_encode (key, text);
        for (int i = 0; i < EL_KEYTEXT_LEN; i++) {
            char was = text[i];
            for (int c = 0; c < 64; c++) {
                if (s_alphabet[c] == was)
                    continue;
                text[i] = s_alphabet[c];
                const char *why = NULL;
                memset (out, 0xaa, sizeof out);
                assert_int_equal (el_keytext_decode (text, out, NULL, &why), EL_EKEYFORMAT);
                assert_non_null (why);
                /* nothing was written to the key */
                for (int b = 0; b < EL_KEY_BYTES; b++)
                    assert_int_equal (out[b], 0xaa);
            }
            text[i] = was;
        }
        assert_int_equal (el_keytext_decode (text, out, NULL, NULL), 0);
    }
}

/* Every swap of two different characters, anywhere, is refused. */
static void
test_every_swap_refused (void **state)
{
    (void) state;
    for (int n = 0; n < 50; n++) {
        uint8_t key[EL_KEY_BYTES], out[EL_KEY_BYTES];
        randombytes_buf (key, sizeof key);
        char text[EL_KEYTEXT_BYTES];
        el_keytext_encode (key, text);
        for (int i = 0; i < EL_KEYTEXT_LEN; i++)
            for (int j = i + 1; j < EL_KEYTEXT_LEN; j++) {
                if (text[i] == text[j])
                    continue;
                char t = text[i];
                text[i] = text[j];
                text[j] = t;
                const char *why = NULL;
                assert_int_equal (el_keytext_decode (text, out, NULL, &why), EL_EKEYFORMAT);
                assert_non_null (strstr (why, "swapped"));
                text[j] = text[i];
                text[i] = t;
            }
    }
}

static void
test_not_keys (void **state)
{
    (void) state;
    uint8_t key[EL_KEY_BYTES];
    randombytes_buf (key, sizeof key);
    char text[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, text);
    const char *why = NULL;
    char cut[EL_KEYTEXT_BYTES];
    memcpy (cut, text, sizeof cut);
    cut[44] = '\0';                                     /* one character lost */
    assert_int_equal (el_keytext_decode (cut, key, NULL, &why), EL_EKEYFORMAT);
    assert_non_null (strstr (why, "45 characters"));
    char more[EL_KEYTEXT_BYTES + 1];
    snprintf (more, sizeof more, "%sA", text);           /* one too many */
    assert_int_equal (el_keytext_decode (more, key, NULL, NULL), EL_EKEYFORMAT);
    memcpy (cut, text, sizeof cut);
    cut[10] = '+';                                      /* base64, not base64url */
    assert_int_equal (el_keytext_decode (cut, key, NULL, &why), EL_EKEYFORMAT);
    assert_non_null (strstr (why, "base64url"));
    assert_int_equal (el_keytext_decode ("", key, NULL, NULL), EL_EKEYFORMAT);
    assert_int_equal (el_keytext_decode (NULL, key, NULL, NULL), EL_EKEYFORMAT);
}

/* Key files still work; a checked key with a typo is refused as such, even
 * when a file of that name exists. */
static void
test_resolve (void **state)
{
    (void) state;
    char dir[] = "/tmp/el-keytext-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char cwd[4096];
    assert_non_null (getcwd (cwd, sizeof cwd));
    assert_int_equal (chdir (dir), 0);
    el_keypair_t *kp = NULL;
    assert_int_equal (el_keypair_generate (&kp), 0);
    assert_int_equal (el_keypair_save (kp, "key", false), 0);
    uint8_t got[EL_KEY_BYTES];
    bool unchecked = true;
    assert_int_equal (el_keytext_resolve ("key.pub", got, &unchecked, NULL), 0);
    assert_memory_equal (got, kp->pk, EL_KEY_BYTES);
    assert_false (unchecked);
    char text[EL_KEYTEXT_BYTES];
    el_keytext_encode (kp->pk, text);
    assert_int_equal (el_keytext_resolve (text, got, &unchecked, NULL), 0);
    assert_false (unchecked);
    char typo[EL_KEYTEXT_BYTES];
    memcpy (typo, text, sizeof typo);
    typo[20] = typo[20] == 'A' ? 'B' : 'A';
    assert_int_equal (rename ("key.pub", typo), 0);     /* a file named like the typo */
    const char *why = NULL;
    assert_int_equal (el_keytext_resolve (typo, got, NULL, &why), EL_EKEYFORMAT);
    assert_non_null (strstr (why, "check characters"));
    assert_int_equal (el_keytext_resolve ("no-such-file", got, NULL, &why), EL_EKEYFORMAT);
    assert_non_null (strstr (why, "key file"));
    unlink (typo);
    unlink ("key");
    el_keypair_destroy (&kp);
    assert_int_equal (chdir (cwd), 0);
    rmdir (dir);
}

/* The settings people type keys into say which one is wrong, and why. */
static void
test_config_settings (void **state)
{
    (void) state;
    uint8_t key[EL_KEY_BYTES];
    randombytes_buf (key, sizeof key);
    char text[EL_KEYTEXT_BYTES], plain[EL_KEY_TEXT_BYTES], typo[EL_KEYTEXT_BYTES];
    el_keytext_encode (key, text);
    el_key_to_text (key, plain);
    memcpy (typo, text, sizeof typo);
    char t = typo[5];                                   /* two characters swapped */
    typo[5] = typo[6];
    typo[6] = t;
    if (typo[5] == typo[6])
        typo[5] = typo[5] == 'Q' ? 'R' : 'Q';
    el_config_t *cfg = malloc (sizeof *cfg);
    assert_non_null (cfg);
    el_config_init (cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    assert_int_equal (el_config_set (cfg, "broker_key", text, err, sizeof err), 0);
    assert_memory_equal (cfg->broker_key, key, EL_KEY_BYTES);
    assert_int_equal (el_config_set (cfg, "broker_key", plain, err, sizeof err), 0);
    assert_int_equal (el_config_set (cfg, "broker_key", typo, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "broker_key"));
    assert_non_null (strstr (err, "check characters do not match"));
    char peer[128];
    snprintf (peer, sizeof peer, "%s@tcp://127.0.0.1:7400", text);
    assert_int_equal (el_config_set (cfg, "peer", peer, err, sizeof err), 0);
    assert_memory_equal (cfg->peers[0].key, key, EL_KEY_BYTES);
    assert_int_equal (el_config_set (cfg, "peer", plain, err, sizeof err), 0);     /* older */
    snprintf (peer, sizeof peer, "%s@tcp://127.0.0.1:7400", typo);
    assert_int_equal (el_config_set (cfg, "peer", peer, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "peer"));
    assert_non_null (strstr (err, "check characters do not match"));
    free (cfg);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_vectors),
        cmocka_unit_test (test_round_trip_and_older_form),
        cmocka_unit_test (test_every_typo_refused),
        cmocka_unit_test (test_every_swap_refused),
        cmocka_unit_test (test_not_keys),
        cmocka_unit_test (test_resolve),
        cmocka_unit_test (test_config_settings),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
