/* el_federation.h — links between our network and other fablab networks,
 * kept by our broker (the hub role, broker/el_hub.h).
 *
 * A link names the other network's broker (its key is that network's id),
 * where it listens, and per kind what we share with it and what we accept
 * from it. A kind crosses a link when the sender shares it and the receiver
 * accepts it; both brokers make their side with `entrelab federate`.
 *
 *   kinds     "events", "equipment", "bookings" (requests and answers),
 *             "members", "sites"; default share and accept: events,
 *             equipment, bookings, sites.
 *   sites     Site records always cross (whatever the policy says): they are
 *             how each side knows which sites the other network attests.
 *   members   cross only with the sharing level `federation`, and only when
 *             "members" is shared; a network-level member goes as its stub
 *             (signed body, no payload).
 *   equipment crosses when bookable by the federation; a machine bookable by
 *             the network or the site only goes as its stub.
 *   stubs     an entry the sender does not share goes as its stub, so the
 *             other side's copy of each origin's chain stays complete.
 *
 * Enforced on both sides: the sender's share policy (el_sync_set_policy),
 * and the receiver's accept policy, which refuses and counts (EL_EPOLICY)
 * what arrives with a payload outside what it accepts.
 *
 * Trust: while a link exists our broker lets the other broker through ZAP,
 * connects to it, and publishes a Site record "federation:<key>" of kind
 * FEDERATED, so that our sites accept entries of that network too; entries
 * of its sites are accepted where its broker's Site records attest them
 * (core/el_attest.h). Ending a link (unfederate) refuses the other
 * network's new entries from then on, at the broker and at our sites (the
 * record is revoked); what was already received is kept.
 *
 * Relaying: trust is not transitive and a network's entries cross only from
 * that network: a broker sends a federated peer its own network's entries
 * only (el_relay_federated); were an entry of a third network to arrive
 * anyway, it is refused (wrong network) unless we federate with that
 * network too.
 *
 * Links live in the store's meta ("federation.<key>" -> el.FederationLink),
 * so they survive restarts. Reactor thread only. */
#ifndef EL_FEDERATION_H
#define EL_FEDERATION_H

#include "el_node.h"

#define EL_FEDERATION_LINKS_MAX   EL_NODE_ROLE_LINKS_MAX   /* links per broker */
#define EL_FEDERATION_META_PREFIX "federation."

typedef struct el_federation el_federation_t;

/** Load the links of the store and make each: ZAP, connection, accepted
 * network, policies. A link that cannot be made is logged and kept.
 * @return 0, -ENOMEM. */
int el_federation_new (el_node_t *node, el_federation_t **ret);

/** Free; the links stay in the store. Accepts NULL; sets *self_p = NULL. */
void el_federation_destroy (el_federation_t **self_p);

/** FederateRequest: make, change or (remove) end a link. Same contract as
 * el_route_fn. @return 0, EL_EINVAL (bad key or kind, our own key, too many
 * links, no such link to end; the reply's text says which), store errors. */
int el_federation_federate (el_federation_t *self, el_control_t *ctl,
                            const El__FederateRequest *req, El__ControlReply *reply);

/** FederationRequest: the links and their state. @return 0, -ENOMEM. */
int el_federation_list (el_federation_t *self, el_control_t *ctl, El__ControlReply *reply);

#endif
