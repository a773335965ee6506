/* el_attest.h — what a network's Site attestation is (the read side).
 *
 * A network's broker attests each of its sites with a Site entry: kind SITE,
 * origin = network = the broker's key, record key = base64url of the site
 * key, payload el.Site with site_key and status ACTIVE; revoking writes the
 * same record with status REVOKED (the write side is the broker's:
 * broker/el_admit.h). Stores opened with require_attestation refuse entries
 * of an origin without an active Site entry of its network's broker, and the
 * daemons drop a revoked site's connections.
 *
 * Pure reads of entries and of the store; the store's threading rules apply. */
#ifndef EL_ATTEST_H
#define EL_ATTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_store.h"

#define EL_SITE_NAME_MAX 200    /* bytes of a site name */
/* Record key prefix of a broker's Site record for another network's broker
 * it federates with ("federation:" + base64url key, kind FEDERATED): such a
 * record never attests an origin of our network, it tells our sites to
 * accept that network's entries. */
#define EL_ATTEST_FEDERATION_PREFIX "federation:"
/* What a revoked site is told when it writes. */
#define EL_REVOKED_TEXT "this site was revoked by its network's broker: its new " \
    "entries are refused everywhere (ask the broker's coordinator)"

/** Is @p e a Site entry of @p network's broker? Then its site key and status
 * (a tombstone counts as REVOKED). A federation record
 * (EL_ATTEST_FEDERATION_PREFIX) gives the other broker's key.
 * @return 0 yes; EL_ENOTFOUND not such an entry; EL_EPROTO malformed payload. */
int el_attest_parse (const el_entry_t *e, const uint8_t network[EL_KEY_BYTES],
                    uint8_t ret_site[EL_KEY_BYTES], El__SiteStatus *ret_status);

/** The kind a Site entry gives its site (PERIPHERAL, CENTRAL, FEDERATED: the
 * broker of a network ours federates with, ...); SITE_KIND_UNSPECIFIED for a
 * tombstone, a stub or a payload that does not decode. */
El__SiteKind el_attest_kind (const el_entry_t *e);

/** Called for each Site record of a broker. Return non-zero to stop. */
typedef int (el_attest_each_fn) (void *arg, const uint8_t site[EL_KEY_BYTES],
                                El__SiteStatus status, El__SiteKind kind, const char *name);

/** Each live Site record written by @p broker, in key order. @return 0, store errors. */
int el_attest_each (el_store_t *store, const uint8_t broker[EL_KEY_BYTES], el_attest_each_fn *fn,
                   void *arg);

/** Status of @p site according to @p broker's record.
 * @return 0 with *ret_status; EL_ENOTFOUND (never admitted). */
int el_attest_status (el_store_t *store, const uint8_t broker[EL_KEY_BYTES],
                     const uint8_t site[EL_KEY_BYTES], El__SiteStatus *ret_status);

#endif
