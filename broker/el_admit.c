/* el_admit.c — see el_admit.h. */
#include "el_admit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
el_admit_write (el_sync_t *sync, const el_keypair_t *broker, const uint8_t site[EL_KEY_BYTES],
                const El__Site *tmpl, const char *name, El__SiteKind kind, El__SiteStatus status,
                uint64_t *ret_seq)
{
    if (!memcmp (site, broker->pk, EL_KEY_BYTES))
        return EL_EINVAL;
    if (name && strlen (name) > EL_ADMIT_NAME_MAX)
        return EL_EINVAL;
    El__Site rec = EL__SITE__INIT;
    if (tmpl)
        rec = *tmpl;            /* shallow: borrowed fields, packed below */
    rec.base.descriptor = &el__site__descriptor;
    rec.site_key.data = (uint8_t *) site;
    rec.site_key.len = EL_KEY_BYTES;
    if (name)
        rec.name = (char *) name;
    if (!rec.name)
        rec.name = (char *) "";
    if (kind != EL__SITE_KIND__SITE_KIND_UNSPECIFIED)
        rec.kind = kind;
    if (rec.kind == EL__SITE_KIND__SITE_KIND_UNSPECIFIED)
        rec.kind = EL__SITE_KIND__PERIPHERAL;
    rec.status = status;
    size_t len = el__site__get_packed_size (&rec);
    if (len > EL_PAYLOAD_MAX)
        return EL_ETOOBIG;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__site__pack (&rec, buf);
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_record_t r = {
        .kind = EL__KIND__SITE,
        .key = key,
        .deleted = false,
        .payload = buf,
        .payload_len = len,
    };
    int rc = el_sync_write (sync, broker, &r, 1, ret_seq);
    free (buf);
    return rc;
}

int
el_admit_revoke (el_sync_t *sync, el_store_t *store, const el_keypair_t *broker,
                 const uint8_t site[EL_KEY_BYTES], uint64_t *ret_seq)
{
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_entry_t *e = NULL;
    El__Site *cur = NULL;
    if (el_store_record_get (store, EL__KIND__SITE, broker->pk, key, &e) == 0 && e->body)
        cur = el__site__unpack (&el_pb_allocator, e->payload_len, e->payload);
    int rc = el_admit_write (sync, broker, site, cur, NULL,
                             EL__SITE_KIND__SITE_KIND_UNSPECIFIED, EL__SITE_STATUS__REVOKED,
                             ret_seq);
    if (cur)
        el__site__free_unpacked (cur, &el_pb_allocator);
    el_entry_destroy (&e);
    return rc;
}

int
el_admit_parse (const el_entry_t *e, const uint8_t network[EL_KEY_BYTES],
                uint8_t ret_site[EL_KEY_BYTES], El__SiteStatus *ret_status)
{
    if (!e || e->is_stub || !e->body || e->body->kind != EL__KIND__SITE
        || memcmp (e->origin, network, EL_KEY_BYTES))
        return EL_ENOTFOUND;
    uint8_t site[EL_KEY_BYTES];
    if (!e->body->key || el_key_from_text (e->body->key, site) < 0)
        return EL_EPROTO;
    if (e->body->deleted) {
        memcpy (ret_site, site, EL_KEY_BYTES);
        *ret_status = EL__SITE_STATUS__REVOKED;
        return 0;
    }
    El__Site *rec = el__site__unpack (&el_pb_allocator, e->payload_len,
                                      e->payload);
    if (!rec)
        return EL_EPROTO;
    int rc = EL_EPROTO;
    if (rec->site_key.len == EL_KEY_BYTES && !memcmp (rec->site_key.data, site, EL_KEY_BYTES)) {
        memcpy (ret_site, site, EL_KEY_BYTES);
        *ret_status = rec->status;
        rc = 0;
    }
    el__site__free_unpacked (rec, &el_pb_allocator);
    return rc;
}

typedef struct {
    const uint8_t *broker;
    el_admit_each_fn *fn;
    void *arg;
} s_each_t;

static int
s_each_record (void *arg, const el_entry_t *e)
{
    s_each_t *each = arg;
    uint8_t site[EL_KEY_BYTES];
    El__SiteStatus status;
    if (el_admit_parse (e, each->broker, site, &status) != 0)
        return 0;               /* not an admission record: skip */
    const char *name = "";
    El__Site *rec = el__site__unpack (&el_pb_allocator, e->payload_len,
                                      e->payload);
    if (rec && rec->name)
        name = rec->name;
    int stop = each->fn (each->arg, site, status, name);
    if (rec)
        el__site__free_unpacked (rec, &el_pb_allocator);
    return stop;
}

int
el_admit_each (el_store_t *store, const uint8_t broker[EL_KEY_BYTES], el_admit_each_fn *fn,
               void *arg)
{
    s_each_t each = { broker, fn, arg };
    return el_store_records (store, EL__KIND__SITE, broker, s_each_record, &each);
}

int
el_admit_status (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
                 const uint8_t site[EL_KEY_BYTES], El__SiteStatus *ret_status)
{
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_entry_t *e = NULL;
    int rc = el_store_record_get (store, EL__KIND__SITE, broker, key, &e);
    if (rc < 0)
        return rc;
    uint8_t got[EL_KEY_BYTES];
    rc = el_admit_parse (e, broker, got, ret_status);
    el_entry_destroy (&e);
    return rc;
}
