/* el_control_call.h — a blocking request/reply to a daemon's control socket
 * (proto/el_control.proto; the server is daemon/el_control.h), for the CLI,
 * the broker's join listener and tests. Any thread with its own ZeroMQ
 * context. */
#ifndef EL_CONTROL_CALL_H
#define EL_CONTROL_CALL_H

#include "el_control_proto.h"

/** Bytes of an endpoint el_control_endpoint_resolve() writes, with its NUL. */
#define EL_CONTROL_ENDPOINT_MAX 1100

/** The endpoint to connect to for the daemon's control endpoint @p endpoint:
 * the same text, except an ipc:// path longer than EL_IPC_PATH_MAX, which is
 * the daemon's symbolic link to its socket in a short folder: its target.
 * For clients that connect their own socket (el_control_call() does this).
 * @param size  bytes of @p out (EL_CONTROL_ENDPOINT_MAX is enough)
 * @return 0, -ENAMETOOLONG (a long path that is not such a link; @p out too
 *         small). Any thread. */
int el_control_endpoint_resolve (const char *endpoint, char *out, size_t size);

/** Client: send @p req to the daemon at @p endpoint and wait for its reply.
 * @param timeout_ms  how long to wait for the reply, ms
 * @param[out] ret    caller frees with el__control_reply__free_unpacked(r, &el_pb_allocator)
 * An ipc:// path longer than EL_IPC_PATH_MAX is followed: it is the daemon's
 * symbolic link to its socket in a short folder.
 * @return 0 (the reply may still carry an error code), -ECONNREFUSED (no ipc
 *         socket file), -EACCES (no permission to reach it: a folder on the path,
 *         or write permission on the socket file), -ENAMETOOLONG (a
 *         long path that is not such a link), -ETIMEDOUT, EL_EPROTO (malformed
 *         reply), -ENOMEM, -errno. */
int el_control_call (void *ctx, const char *endpoint, const El__ControlRequest *req,
                     int timeout_ms, El__ControlReply **ret);

#endif
