/* el_admit.h — minimal admission: a network's broker attests its sites.
 *
 * Admitting a site = the broker writes a Site entry (kind SITE, origin =
 * network = the broker's key, record key = base64url of the site key,
 * payload el.Site with site_key and status ACTIVE). Revoking = the same
 * record with status REVOKED. Stores with require_attestation refuse entries
 * of an origin without an active Site entry of its network's broker, and the
 * daemons drop a revoked site's connections (node/el_node.h).
 *
 * Used by the broker's reactor (control requests) and by
 * `entrelab-broker --admit/--revoke` when no daemon runs. One thread. */
#ifndef EL_ADMIT_H
#define EL_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_store.h"
#include "el_sync.h"

#define EL_ADMIT_NAME_MAX 200   /* bytes of a site name */

/** Write the broker-signed Site entry for @p site with @p status.
 * @param tmpl   optional record to start from (name, town, ...); borrowed
 * @param name   optional; overrides tmpl's name; UTF-8, <= EL_ADMIT_NAME_MAX bytes
 * @param kind   SITE_KIND_UNSPECIFIED keeps tmpl's kind (PERIPHERAL when none)
 * @param[out] ret_seq optional: seq of the broker's entry
 * @return 0, EL_EINVAL (name too long, site = broker), el_sync_write() errors. */
int el_admit_write (el_sync_t *sync, const el_keypair_t *broker, const uint8_t site[EL_KEY_BYTES],
                    const El__Site *tmpl, const char *name, El__SiteKind kind,
                    El__SiteStatus status, uint64_t *ret_seq);

/** Revoke @p site, keeping what the current record says about it.
 * @return as el_admit_write(). */
int el_admit_revoke (el_sync_t *sync, el_store_t *store, const el_keypair_t *broker,
                     const uint8_t site[EL_KEY_BYTES], uint64_t *ret_seq);

/** Is @p e a Site entry of @p network's broker? Then its site key and status
 * (a tombstone counts as REVOKED).
 * @return 0 yes; EL_ENOTFOUND not such an entry; EL_EPROTO malformed payload. */
int el_admit_parse (const el_entry_t *e, const uint8_t network[EL_KEY_BYTES],
                    uint8_t ret_site[EL_KEY_BYTES], El__SiteStatus *ret_status);

/** Called for each Site record of a broker. Return non-zero to stop. */
typedef int (el_admit_each_fn) (void *arg, const uint8_t site[EL_KEY_BYTES],
                                El__SiteStatus status, const char *name);

/** Each live Site record written by @p broker, in key order. @return 0, store errors. */
int el_admit_each (el_store_t *store, const uint8_t broker[EL_KEY_BYTES], el_admit_each_fn *fn,
                   void *arg);

/** Status of @p site according to @p broker's record.
 * @return 0 with *ret_status; EL_ENOTFOUND (never admitted). */
int el_admit_status (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
                     const uint8_t site[EL_KEY_BYTES], El__SiteStatus *ret_status);

#endif
