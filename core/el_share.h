/* el_share.h — what may leave this site with its payload: the share
 * policies a sync core is configured with (el_sync_config_t.share,
 * core/el_sync.h). A policy that refuses sends the entry's stub (signed body,
 * no payload), so the peer's chain stays complete and checkable.
 *
 * Pure functions: any thread. */
#ifndef EL_SHARE_H
#define EL_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "el_entry.h"

/** The default policy (docs/ARCHITECTURE.md "Privacy"): a MEMBER
 * record travels by its sharing level. SITE (and unspecified, and a payload
 * that does not parse) never leaves with its payload: every peer gets stubs;
 * NETWORK: the payload goes to peers whose Hello network is the entry's
 * network, stubs to the others (federated peers); FEDERATION: everywhere.
 * Tombstones carry no payload and always go. Every other kind is shared.
 * Install with .share = el_share_by_level, .share_kinds =
 * EL_SHARE_BY_LEVEL_KINDS; @p arg is unused. */
EL_NODISCARD bool el_share_by_level (void *arg, uint64_t peer,
                                   const uint8_t peer_network[EL_KEY_BYTES],
                                   const el_entry_t *e);
#define EL_SHARE_BY_LEVEL_KINDS (1u << EL__KIND__MEMBER)

#endif
