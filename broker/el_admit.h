/* el_admit.h — the broker admits and revokes its sites: it writes the Site
 * entries that core/el_attest.h reads.
 *
 * Used by the broker's hub role (control requests) and by
 * `entrelab-broker --admit/--revoke` when no daemon runs. One thread. */
#ifndef EL_ADMIT_H
#define EL_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "el_attest.h"
#include "el_sync.h"


/** Write the broker-signed Site entry for @p site with @p status.
 * @param tmpl   optional record to start from (name, town, ...); borrowed
 * @param name   optional; overrides tmpl's name; UTF-8, <= EL_SITE_NAME_MAX bytes
 * @param kind   SITE_KIND_UNSPECIFIED keeps tmpl's kind (PERIPHERAL when none)
 * @param[out] ret_seq optional: seq of the broker's entry
 * @return 0, EL_EINVAL (name too long, site = broker), el_sync_write() errors. */
int el_admit_write (el_sync_t *sync, const el_keypair_t *broker, const uint8_t site[EL_KEY_BYTES],
                    const El__Site *tmpl, const char *name, El__SiteKind kind,
                    El__SiteStatus status, uint64_t *ret_seq);

/** Revoke @p site, keeping what the current record says about it. The
 * record names the site's head in our store (revoked_head): every store
 * keeps the site's entries up to it, written while it was admitted, and
 * refuses later ones; a site never heard from gets 0 (all refused).
 * @return as el_admit_write(), store errors reading the head. */
int el_admit_revoke (el_sync_t *sync, el_store_t *store, const el_keypair_t *broker,
                     const uint8_t site[EL_KEY_BYTES], uint64_t *ret_seq);

#endif
