/* el_uplink.h — the uplink role of entrelab-node (daemon/el_role.h): the
 * site belongs to the network of the broker named by broker_key, reaches it
 * through `connect` (a DEALER, CURVE client with the broker's key; ZAP lets
 * the broker in when it connects to our --listen endpoints), and sends the
 * hub's requests (admit, revoke, invites) back with a message saying where
 * they belong.
 *
 * Threading: the daemon's reactor thread. */
#ifndef EL_UPLINK_H
#define EL_UPLINK_H

#include "el_role.h"

extern const el_role_ops_t el_uplink_role;

#endif
