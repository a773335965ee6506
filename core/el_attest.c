/* el_attest.c — see el_attest.h. */
#include "el_attest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool
s_is_federation (const char *key)
{
    return !strncmp (key, EL_ATTEST_FEDERATION_PREFIX, strlen (EL_ATTEST_FEDERATION_PREFIX));
}

int
el_attest_parse (const el_entry_t *e, const uint8_t network[EL_KEY_BYTES],
                uint8_t ret_site[EL_KEY_BYTES], El__SiteStatus *ret_status)
{
    if (!e || e->is_stub || !e->body || e->body->kind != EL__KIND__SITE
        || memcmp (e->origin, network, EL_KEY_BYTES))
        return EL_ENOTFOUND;
    uint8_t site[EL_KEY_BYTES];
    const char *key = e->body->key;
    if (key && s_is_federation (key))
        key += strlen (EL_ATTEST_FEDERATION_PREFIX);
    if (!key || el_key_from_text (key, site) < 0)
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

El__SiteKind
el_attest_kind (const el_entry_t *e)
{
    if (e && e->body && e->body->key && s_is_federation (e->body->key))
        return EL__SITE_KIND__FEDERATED;
    if (!e || e->is_stub || !e->body || e->body->deleted || !e->payload)
        return EL__SITE_KIND__SITE_KIND_UNSPECIFIED;
    El__Site *rec = el__site__unpack (&el_pb_allocator, e->payload_len, e->payload);
    if (!rec)
        return EL__SITE_KIND__SITE_KIND_UNSPECIFIED;
    El__SiteKind kind = rec->kind;
    el__site__free_unpacked (rec, &el_pb_allocator);
    return kind;
}

typedef struct {
    const uint8_t *broker;
    el_attest_each_fn *fn;
    void *arg;
} s_each_t;

static int
s_each_record (void *arg, const el_entry_t *e)
{
    s_each_t *each = arg;
    uint8_t site[EL_KEY_BYTES];
    El__SiteStatus status;
    if (el_attest_parse (e, each->broker, site, &status) != 0)
        return 0;               /* not an admission record: skip */
    const char *name = "";
    El__Site *rec = el__site__unpack (&el_pb_allocator, e->payload_len,
                                      e->payload);
    if (rec && rec->name)
        name = rec->name;
    El__SiteKind kind = s_is_federation (e->body->key) ? EL__SITE_KIND__FEDERATED
                      : rec ? rec->kind : EL__SITE_KIND__SITE_KIND_UNSPECIFIED;
    int stop = each->fn (each->arg, site, status, kind, name);
    if (rec)
        el__site__free_unpacked (rec, &el_pb_allocator);
    return stop;
}

int
el_attest_each (el_store_t *store, const uint8_t broker[EL_KEY_BYTES], el_attest_each_fn *fn,
               void *arg)
{
    s_each_t each = { broker, fn, arg };
    return el_store_records (store, EL__KIND__SITE, broker, s_each_record, &each);
}

int
el_attest_status (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
                 const uint8_t site[EL_KEY_BYTES], El__SiteStatus *ret_status)
{
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (site, key);
    el_entry_t *e = NULL;
    int rc = el_store_record_get (store, EL__KIND__SITE, broker, key, &e);
    if (rc < 0)
        return rc;
    uint8_t got[EL_KEY_BYTES];
    rc = el_attest_parse (e, broker, got, ret_status);
    el_entry_destroy (&e);
    return rc;
}
