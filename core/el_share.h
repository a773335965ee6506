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

/* ------------------------------------------------------------ federation */

/* Kinds as bits (1u << kind). */
#define EL_SHARE_KINDS_ALL ((1u << EL__KIND__SITE) | (1u << EL__KIND__EVENT)                 \
                            | (1u << EL__KIND__MEMBER) | (1u << EL__KIND__EQUIPMENT)         \
                            | (1u << EL__KIND__BOOKING_REQUEST) | (1u << EL__KIND__BOOKING))
/* What a link shares and accepts unless told: all but members. */
#define EL_SHARE_KINDS_DEFAULT (EL_SHARE_KINDS_ALL & ~(1u << EL__KIND__MEMBER))

/* The kinds a link names, as people write them: "events", "equipment",
 * "bookings" (requests and answers), "members", "sites". */
#define EL_SHARE_KIND_NAMES 5

/** The kind bits of @p name. @return 0, EL_EINVAL (no such name). */
int el_share_kind_parse (const char *name, uint32_t *ret_bits);

/** Name @p i (< EL_SHARE_KIND_NAMES) and its bits. Static storage. */
const char *el_share_kind_name (size_t i, uint32_t *ret_bits);

/** One federation link: the other network and, per kind, what we send it
 * and what we take from it. */
typedef struct {
    uint8_t network[EL_KEY_BYTES];      /* the other network's id (its broker's key) */
    uint32_t share, accept;             /* bits (1u << kind) */
} el_share_link_t;

/** The links of a network with others (borrowed by the functions below). */
typedef struct {
    uint8_t own[EL_KEY_BYTES];          /* our network */
    const el_share_link_t *links;
    size_t n;
} el_share_federation_t;

/** The federation's share policy, an el_sync_share_fn with @p arg an
 * el_share_federation_t: to our own network's peers, el_share_by_level; to a
 * linked network's peers: Site records always (trust is built on them), a
 * kind only when the link shares it, a member only at the federation level,
 * a machine only when bookable by the federation; to anyone else, stubs. */
EL_NODISCARD bool el_share_federated (void *arg, uint64_t peer,
                                      const uint8_t peer_network[EL_KEY_BYTES],
                                      const el_entry_t *e);

/** The federation's relay policy, an el_sync_relay_fn with @p arg an
 * el_share_federation_t: to a peer of another network go our own network's
 * entries only; a third network's entries reach it from that network, if
 * they are linked, never through us (so each network's share policy holds). */
bool el_relay_federated (void *arg, const uint8_t peer_network[EL_KEY_BYTES],
                         const uint8_t entry_network[EL_KEY_BYTES]);

/** The federation's accept policy, an el_sync_accept_fn with @p arg an
 * el_share_federation_t: from a linked network's peer, a stub or a
 * tombstone always (no record in it; it keeps the chain whole), Site records
 * always, a payload only of a kind the link accepts, a member's only at the
 * federation level.
 * @return 0 or EL_EPOLICY. */
int el_accept_federated (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                         const uint8_t *data, size_t len);

#endif
