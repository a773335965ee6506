/* el_hub.h — the hub role of entrelab-broker (daemon/el_role.h): every
 * hub-only duty of the network's broker.
 *
 *   network   the broker's own key is the network id;
 *   admission every site the broker attested (core/el_attest.h) passes ZAP;
 *             AdmitRequest / RevokeRequest write the Site entries
 *             (broker/el_admit.h);
 *   invites   InviteRequest makes a one-time token (broker/el_invite.h) and
 *             binds the join listener (broker/el_join.h) on the first one;
 *             the listener's RedeemRequest admits the new site; the join bind
 *             endpoint is kept in meta and bound again at start;
 *   status    the attested sites never seen since start are listed too;
 *   federation FederateRequest / FederationRequest: links with other
 *             networks' brokers (broker/el_federation.h).
 *
 * Threading: the daemon's reactor thread (the join listener runs its own). */
#ifndef EL_HUB_H
#define EL_HUB_H

#include "el_role.h"

extern const el_role_ops_t el_hub_role;

#endif
