/* el_control_call.h — a blocking request/reply to a daemon's control socket
 * (proto/el_control.proto; the server is daemon/el_control.h), for the CLI,
 * the broker's join listener and tests. Any thread with its own ZeroMQ
 * context. */
#ifndef EL_CONTROL_CALL_H
#define EL_CONTROL_CALL_H

#include "el_control_proto.h"

/** Client: send @p req to the daemon at @p endpoint and wait for its reply.
 * @param timeout_ms  how long to wait for the reply, ms
 * @param[out] ret    caller frees with el__control_reply__free_unpacked(r, &el_pb_allocator)
 * @return 0 (the reply may still carry an error code), -ECONNREFUSED (no ipc
 *         socket file), -ETIMEDOUT, EL_EPROTO (malformed reply), -ENOMEM, -errno. */
int el_control_call (void *ctx, const char *endpoint, const El__ControlRequest *req,
                     int timeout_ms, El__ControlReply **ret);

#endif
