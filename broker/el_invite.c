/* el_invite.c — see el_invite.h. */
#include "el_invite.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_admit.h"
#include "el_control.h"
#include "el_config.h"   /* el_config_timezone_ok */
#include "el_zap.h"     /* ZMQ_ZAP_ENFORCE_DOMAIN on libzmq without the draft API */

#define S_SIG_CONTEXT       "entrelab-join-v1"
#define S_META_PREFIX       "invite."
#define S_ZAP_ENDPOINT      "inproc://zeromq.zap.01"
#define S_STOP_ENDPOINT     "inproc://el-join-stop"
#define S_CONTROL_TIMEOUT_MS 5000
#define S_ROUTE_MAX         256
#define S_ADDR_MAX          64

/* ------------------------------------------------------------ broker side */

static void
s_meta_name (const uint8_t secret[EL_INVITE_SECRET_BYTES], char out[sizeof S_META_PREFIX + 64])
{
    uint8_t h[32];
    crypto_generichash (h, sizeof h, secret, EL_INVITE_SECRET_BYTES, NULL, 0);
    memcpy (out, S_META_PREFIX, sizeof S_META_PREFIX - 1);
    sodium_bin2hex (out + sizeof S_META_PREFIX - 1, 65, h, sizeof h);
}

static int
s_record_put (el_store_t *store, const char *name, const El__InviteRecord *r)
{
    size_t len = el__invite_record__get_packed_size (r);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__invite_record__pack (r, buf);
    int rc = el_store_meta_put (store, name, buf, len);
    free (buf);
    return rc;
}

int
el_invite_create (el_store_t *store, int64_t now_us, int64_t ttl_us, const char *name,
                  El__SiteKind kind, const char *sync_endpoint,
                  uint8_t secret[EL_INVITE_SECRET_BYTES], int64_t *ret_expires_us)
{
    if (ttl_us == 0)
        ttl_us = EL_INVITE_TTL_DEFAULT_US;
    if (ttl_us < 0 || ttl_us > EL_INVITE_TTL_MAX_US)
        return EL_EINVAL;
    uint8_t s[EL_INVITE_SECRET_BYTES];
    randombytes_buf (s, sizeof s);
    El__InviteRecord r = EL__INVITE_RECORD__INIT;
    r.created_us = now_us;
    r.expires_us = now_us + ttl_us;
    r.name = (char *) (name ? name : "");
    r.kind = kind;
    r.sync_endpoint = (char *) (sync_endpoint ? sync_endpoint : "");
    char meta[sizeof S_META_PREFIX + 64];
    s_meta_name (s, meta);
    int rc = s_record_put (store, meta, &r);
    if (rc < 0)
        return rc;
    memcpy (secret, s, sizeof s);
    sodium_memzero (s, sizeof s);
    *ret_expires_us = r.expires_us;
    return 0;
}

static char *
s_dup (const char *text)
{
    return strdup (text ? text : "");
}

/* EL_EINVAL with the reason in @p err when the broker already holds a Site
 * record for @p site (admitted or revoked); 0 for a key it never admitted. */
static int
s_known_site (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
              const uint8_t site[EL_KEY_BYTES], el_invite_refusal_t *why, char *err,
              size_t err_size)
{
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_entry_t *e = NULL;
    int rc = el_store_record_get (store, EL__KIND__SITE, broker, key, &e);
    if (rc == EL_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    uint8_t got[EL_KEY_BYTES];
    El__SiteStatus status;
    rc = el_attest_parse (e, broker, got, &status);
    if (rc == EL_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    El__Site *rec = e->payload ? el__site__unpack (&el_pb_allocator, e->payload_len, e->payload)
                               : NULL;
    const char *was = rec && rec->name && rec->name[0] ? rec->name : NULL;
    *why = status == EL__SITE_STATUS__ACTIVE ? EL_INVITE_ADMITTED : EL_INVITE_REVOKED;
    if (status == EL__SITE_STATUS__ACTIVE)
        snprintf (err, err_size, "this site is already admitted%s%.*s%s; an invite is for a "
                  "new site only", was ? " as '" : "", EL_SITE_NAME_MAX, was ? was : "",
                  was ? "'" : "");
    else
        snprintf (err, err_size, "this site was revoked; only the broker's coordinator can "
                  "admit it again (entrelab admit)");
    if (rec)
        el__site__free_unpacked (rec, &el_pb_allocator);
    rc = EL_EINVAL;
out:
    el_entry_destroy (&e);
    return rc;
}

static int s_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker,
                     int64_t now_us, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                     const uint8_t site[EL_KEY_BYTES], const char *name,
                     const char *timezone, uint64_t *ret_seq,
                     char **ret_sync_endpoint, char **ret_name, el_invite_refusal_t *why,
                     char *err, size_t err_size);

int
el_invite_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker,
                  int64_t now_us, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                  const uint8_t site[EL_KEY_BYTES], const char *name, const char *timezone,
                  uint64_t *ret_seq, char **ret_sync_endpoint, char **ret_name,
                  el_invite_refusal_t *ret_refusal, char *err, size_t err_size)
{
    el_invite_refusal_t why = EL_INVITE_UNKNOWN;
    int rc = s_redeem (store, sync, broker, now_us, secret, site, name, timezone, ret_seq,
                       ret_sync_endpoint, ret_name, &why, err, err_size);
    if (rc < 0 && ret_refusal)
        *ret_refusal = rc == EL_EINVAL || rc == EL_ENOTFOUND ? why : EL_INVITE_FAILED;
    return rc;
}

const char *
el_invite_refusal_name (el_invite_refusal_t why)
{
    static const char *const names[] = {
        [EL_INVITE_UNKNOWN] = "unknown_invite", [EL_INVITE_USED] = "used",
        [EL_INVITE_EXPIRED] = "expired", [EL_INVITE_SELF] = "broker_key",
        [EL_INVITE_ADMITTED] = "already_admitted", [EL_INVITE_REVOKED] = "revoked",
        [EL_INVITE_BAD_NAME] = "invalid", [EL_INVITE_FAILED] = "failed",
    };
    if ((unsigned) why >= sizeof names / sizeof names[0] || !names[why])
        return "invalid";
    return names[why];
}

static int
s_redeem (el_store_t *store, el_sync_t *sync, const el_keypair_t *broker, int64_t now_us,
          const uint8_t secret[EL_INVITE_SECRET_BYTES], const uint8_t site[EL_KEY_BYTES],
          const char *name, const char *timezone, uint64_t *ret_seq, char **ret_sync_endpoint,
          char **ret_name, el_invite_refusal_t *why, char *err, size_t err_size)
{
    char meta[sizeof S_META_PREFIX + 64];
    s_meta_name (secret, meta);
    void *val = NULL;
    size_t len = 0;
    int rc = el_store_meta_get (store, meta, &val, &len);
    if (rc < 0)
        return rc;
    El__InviteRecord *r = el__invite_record__unpack (&el_pb_allocator, len, val);
    free (val);
    if (!r)
        return EL_ESTORE;
    if (r->used_us) {
        *why = EL_INVITE_USED;
        snprintf (err, err_size, "invite already used");
        rc = EL_EINVAL;
        goto out;
    }
    if (now_us >= r->expires_us) {
        *why = EL_INVITE_EXPIRED;
        snprintf (err, err_size, "invite expired");
        rc = EL_EINVAL;
        goto out;
    }
    if (!memcmp (site, broker->pk, EL_KEY_BYTES)) {
        *why = EL_INVITE_SELF;
        snprintf (err, err_size, "the broker cannot join its own network");
        rc = EL_EINVAL;
        goto out;
    }
    /* an invite admits a new key only: it never re-admits a revoked site
     * nor renames an admitted one (that is `entrelab admit` on the broker) */
    rc = s_known_site (store, broker->pk, site, why, err, err_size);
    if (rc < 0)
        goto out;
    const char *use_name = name && name[0] ? name : r->name;
    if (strlen (use_name) > EL_SITE_NAME_MAX) {
        *why = EL_INVITE_BAD_NAME;
        snprintf (err, err_size, "name longer than %d bytes", EL_SITE_NAME_MAX);
        rc = EL_EINVAL;
        goto out;
    }
    if (timezone && timezone[0] && !el_config_timezone_ok (timezone)) {
        *why = EL_INVITE_BAD_NAME;
        snprintf (err, err_size, "time zone '%s' is not a zone name", timezone);
        rc = EL_EINVAL;
        goto out;
    }
    El__Site tmpl = EL__SITE__INIT;    /* what the site says of itself */
    tmpl.timezone = (char *) (timezone ? timezone : "");
    r->used_us = now_us;
    r->used_by = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site };
    rc = s_record_put (store, meta, r);
    r->used_by = (ProtobufCBinaryData) { 0, NULL };
    if (rc < 0)
        goto out;
    *ret_sync_endpoint = s_dup (r->sync_endpoint);
    *ret_name = s_dup (use_name);
    if (!*ret_sync_endpoint || !*ret_name) {
        rc = -ENOMEM;
        goto out_undo;
    }
    rc = el_admit_write (sync, broker, site, &tmpl, use_name[0] ? use_name : NULL,
                         r->kind ? r->kind : EL__SITE_KIND__PERIPHERAL, EL__SITE_STATUS__ACTIVE,
                         ret_seq);
    if (rc == 0)
        goto out;
out_undo:
    free (*ret_sync_endpoint);
    free (*ret_name);
    *ret_sync_endpoint = *ret_name = NULL;
    r->used_us = 0;
    (void) s_record_put (store, meta, r);
out:
    el__invite_record__free_unpacked (r, &el_pb_allocator);
    return rc;
}
