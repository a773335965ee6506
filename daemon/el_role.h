/* el_role.h — what a daemon does besides replicating: its roles.
 *
 * A daemon (el_node_t, daemon/el_node.h) is the reactor, the links and the
 * sessions; what differs between entrelab-node and entrelab-broker is the
 * list of roles it runs, each a table of functions (the kernel's
 * file_operations pattern). The reactor calls every role's hooks in list
 * order; no code outside a role asks which daemon it runs in.
 *
 *   entrelab-node    site role (daemon/el_site.h) + uplink role (node/el_uplink.h)
 *                  + http role (daemon/el_http.h, idle unless http_listen is set)
 *   entrelab-broker  site role + hub role (broker/el_hub.h) + http role
 *
 * Every hook is optional (NULL = nothing to do) and runs in the reactor
 * thread. A role's state is its own; it reaches the daemon through the
 * el_node_*() accessors of daemon/el_node.h, which stay valid from start()
 * to stop().
 *
 * Order at start-up: network() of the first role that has one, store and
 * sync open, ZAP, each role's start(), then on_site(at_start = true) for every
 * Site record of the network, then listen and connect. At shutdown: stop()
 * in reverse order, before the store closes. */
#ifndef EL_ROLE_H
#define EL_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_config.h"
#include "el_control.h"
#include "el_entry.h"

typedef struct el_node el_node_t;

/** One control request type a role answers (proto/el_control.proto's
 * ControlRequest oneof case). Same contract as el_control_fn. */
typedef int (el_route_fn) (void *state, el_control_t *ctl, const El__ControlRequest *req,
                           El__ControlReply *reply);
typedef struct {
    El__ControlRequest__RCase r_case;
    el_route_fn *fn;
} el_route_t;

typedef struct el_role_ops {
    /** Short name: "site", "uplink", "hub". Logs only. */
    const char *name;

    /** The network this daemon belongs to (the broker's key), written to
     * @p ret. @return 0, EL_EINVAL (with a log line). */
    int (*network) (const el_config_t *cfg, const el_keypair_t *kp, uint8_t ret[EL_KEY_BYTES]);

    /** Start: the store, sync core, ZAP and control socket exist.
     * @param[out] ret_state the role's state, given back to every hook
     * @return 0 or an error code: the daemon does not start. */
    int (*start) (el_node_t *node, void **ret_state);

    /** Stop and free the state; accepts *state_p == NULL; sets it to NULL. */
    void (*stop) (void **state_p);

    /** Entries committed by one apply (local writes included); same arguments
     * as el_sync_on_applied()'s callback. */
    void (*on_applied) (void *state, uint64_t from_peer, const el_entry_t *const *entries,
                        const int *status, size_t n);

    /** A Site record of our network's broker: found at start (@p at_start) or
     * newly stored; @p signed_us is its entry's time (0 at start). */
    void (*on_site) (void *state, const uint8_t site[EL_KEY_BYTES], El__SiteStatus status,
                     bool at_start, int64_t signed_us);

    /** A session with the link to @p peer ended with @p reason (an EL_E code);
     * @p by_peer: the peer sent the Error. @p uplink: the link to our broker. */
    void (*on_session_end) (void *state, const uint8_t peer[EL_KEY_BYTES], bool uplink,
                            int reason, bool by_peer);

    /** Control requests this role answers; the reactor's own come first. */
    const el_route_t *routes;
    size_t routes_n;

    /** Add to a status reply (rows of peers the reactor does not know, ...).
     * Allocate with el_control_alloc(). @return 0, -ENOMEM, store errors. */
    int (*status) (void *state, el_control_t *ctl, El__StatusReply *st);

    /** Once per reactor cycle, before the reactor sleeps: at least once a
     * second, and after every cycle that read sockets. Keep it short (the
     * reactor waits for it); work that can wait should check the time. */
    void (*tick) (void *state);
} el_role_ops_t;

#endif
