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
    if (name && strlen (name) > EL_SITE_NAME_MAX)
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
    El__Site rec = EL__SITE__INIT;
    if (cur)
        rec = *cur;             /* shallow: cur's fields, borrowed until packed */
    el_head_t head;
    int rc = el_store_head (store, site, &head);
    if (rc == 0)
        rec.revoked_head = head.seq;
    else if (rc != EL_ENOTFOUND)
        goto out;
    rc = el_admit_write (sync, broker, site, &rec, NULL, EL__SITE_KIND__SITE_KIND_UNSPECIFIED,
                         EL__SITE_STATUS__REVOKED, ret_seq);
out:
    if (cur)
        el__site__free_unpacked (cur, &el_pb_allocator);
    el_entry_destroy (&e);
    return rc;
}
