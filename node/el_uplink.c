/* el_uplink.c — see el_uplink.h. */
#include "el_uplink.h"

#include <string.h>

#include "el_log.h"
#include "el_node.h"

static int
s_network (const el_config_t *cfg, const el_keypair_t *kp, uint8_t ret[EL_KEY_BYTES])
{
    if (!memcmp (cfg->broker_key, kp->pk, EL_KEY_BYTES)) {
        el_log (EL_LOG_ERROR, "config_invalid", "reason=broker_key_is_our_own_key");
        return EL_EINVAL;
    }
    memcpy (ret, cfg->broker_key, EL_KEY_BYTES);
    return 0;
}

static int
s_start (el_node_t *node, void **ret_state)
{
    const uint8_t *network = el_node_network (node);
    int rc = el_node_zap_allow (node, network);
    if (rc < 0)
        return rc;
    rc = el_node_uplink (node, network, el_node_config (node)->connect);
    if (rc < 0)
        return rc;
    *ret_state = NULL;
    return 0;
}

static int
s_text (el_control_t *ctl, El__ControlReply *reply, const char *text)
{
    reply->text = el_control_strdup (ctl, text);
    return EL_EINVAL;
}

static int
s_admit (void *state, el_control_t *ctl, const El__ControlRequest *req, El__ControlReply *reply)
{
    (void) state;
    (void) req;
    return s_text (ctl, reply, "admit and revoke are done on the broker");
}

static int
s_invite (void *state, el_control_t *ctl, const El__ControlRequest *req, El__ControlReply *reply)
{
    (void) state;
    (void) req;
    return s_text (ctl, reply, "invites are made on the broker");
}

static int
s_federate (void *state, el_control_t *ctl, const El__ControlRequest *req, El__ControlReply *reply)
{
    (void) state;
    (void) req;
    return s_text (ctl, reply, "federation links are made on the broker");
}

static const el_route_t s_routes[] = {
    { EL__CONTROL_REQUEST__R_FEDERATE, s_federate },
    { EL__CONTROL_REQUEST__R_FEDERATION, s_federate },
    { EL__CONTROL_REQUEST__R_ADMIT, s_admit },
    { EL__CONTROL_REQUEST__R_REVOKE, s_admit },
    { EL__CONTROL_REQUEST__R_INVITE, s_invite },
    { EL__CONTROL_REQUEST__R_REDEEM, s_invite },
};

const el_role_ops_t el_uplink_role = {
    .name = "uplink",
    .network = s_network,
    .start = s_start,
    .routes = s_routes,
    .routes_n = sizeof s_routes / sizeof s_routes[0],
};
