/* el_token.c — see el_token.h. */
#include "el_token.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_SIG_CONTEXT       "entrelab-join-v1"

/* ------------------------------------------------------------ tokens */

int
el_token_encode (const El__InviteToken *t, char **ret)
{
    size_t len = el__invite_token__get_packed_size (t);
    size_t b64 = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (len > EL_INVITE_TOKEN_MAX || sizeof EL_INVITE_PREFIX + b64 > EL_INVITE_TOKEN_MAX)
        return EL_ETOOBIG;
    uint8_t *buf = malloc (len ? len : 1);
    char *text = malloc (sizeof EL_INVITE_PREFIX + b64);
    if (!buf || !text) {
        free (buf);
        free (text);
        return -ENOMEM;
    }
    el__invite_token__pack (t, buf);
    memcpy (text, EL_INVITE_PREFIX, sizeof EL_INVITE_PREFIX - 1);
    sodium_bin2base64 (text + sizeof EL_INVITE_PREFIX - 1, b64, buf, len,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free (buf);
    *ret = text;
    return 0;
}

int
el_token_decode (const char *text, El__InviteToken **ret)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    size_t len = strlen (text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r'
                   || text[len - 1] == '\t'))
        len--;
    if (len > EL_INVITE_TOKEN_MAX)
        return EL_ETOOBIG;
    size_t plen = sizeof EL_INVITE_PREFIX - 1;
    if (len <= plen || strncmp (text, EL_INVITE_PREFIX, plen))
        return EL_EINVAL;
    uint8_t *bin = malloc (len);
    if (!bin)
        return -ENOMEM;
    size_t bin_len = 0;
    int rc = EL_EINVAL;
    if (sodium_base642bin (bin, len, text + plen, len - plen, NULL, &bin_len, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        goto out;
    El__InviteToken *t = el__invite_token__unpack (&el_pb_allocator, bin_len, bin);
    if (!t)
        goto out;
    if (t->version != 1 || t->broker_key.len != EL_KEY_BYTES
        || t->secret.len != EL_INVITE_SECRET_BYTES || !t->join_endpoint
        || !strstr (t->join_endpoint, "://") || strlen (t->join_endpoint) > 1000) {
        el__invite_token__free_unpacked (t, &el_pb_allocator);
        goto out;
    }
    *ret = t;
    rc = 0;
out:
    free (bin);
    return rc;
}

static void
s_sig_msg (const uint8_t broker[EL_KEY_BYTES], const uint8_t secret[EL_INVITE_SECRET_BYTES],
           uint8_t out[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES])
{
    memcpy (out, S_SIG_CONTEXT, sizeof S_SIG_CONTEXT - 1);
    memcpy (out + sizeof S_SIG_CONTEXT - 1, broker, EL_KEY_BYTES);
    memcpy (out + sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES, secret, EL_INVITE_SECRET_BYTES);
}

int
el_token_join_sign (const el_keypair_t *site, const uint8_t broker[EL_KEY_BYTES],
                     const uint8_t secret[EL_INVITE_SECRET_BYTES], uint8_t sig[EL_SIG_BYTES])
{
    uint8_t msg[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES];
    s_sig_msg (broker, secret, msg);
    crypto_sign_detached (sig, NULL, msg, sizeof msg, site->sk);
    return 0;
}

int
el_token_join_verify (const uint8_t site[EL_KEY_BYTES], const uint8_t broker[EL_KEY_BYTES],
                       const uint8_t secret[EL_INVITE_SECRET_BYTES],
                       const uint8_t sig[EL_SIG_BYTES])
{
    uint8_t msg[sizeof S_SIG_CONTEXT - 1 + EL_KEY_BYTES + EL_INVITE_SECRET_BYTES];
    s_sig_msg (broker, secret, msg);
    return crypto_sign_verify_detached (sig, msg, sizeof msg, site) == 0 ? 0 : EL_EBADSIG;
}
