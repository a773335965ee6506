/* el_control.h — the daemon's control API transport (proto/el_control.proto).
 *
 * Server: a ROUTER bound on the control endpoint (ipc://<state_dir>/control.sock
 * by default; the socket file is created with mode 0660 so only the daemon's
 * user and group may talk to it). Each request frame holds one
 * el.ControlRequest; the handler fills an el.ControlReply, which is packed and
 * sent back on the same route. Requests are handled in the daemon's reactor
 * thread, one at a time, between sync work.
 *
 * Client: el_control_call(), a blocking request/reply for the CLI and tests.
 *
 * Threading: an el_control_t belongs to the thread that created it. */
#ifndef EL_CONTROL_H
#define EL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_control.pb-c.h"

#define EL_CONTROL_FRAME_MAX    (32u << 20) /* one request or reply, bytes */
#define EL_CONTROL_LIST_DEFAULT 1000        /* records per list page */
#define EL_CONTROL_LIST_MAX     10000       /* records per list page, at most */
#define EL_CONTROL_BATCH        16          /* requests handled per el_control_handle() */
#define EL_CONTROL_FILE_MODE    0660        /* mode of an ipc:// socket file */

typedef struct el_control el_control_t;

/** Handle one request. Build the reply's nested messages with el_control_alloc()
 * and el_control_strdup(): that memory is freed after the reply is sent.
 * @return 0 or an error code: the reply's code (its text defaults to
 *         el_strerror(code) unless the handler set one). */
typedef int (el_control_fn) (void *arg, el_control_t *ctl, const El__ControlRequest *req,
                             El__ControlReply *reply);

/** Bind the control socket on @p endpoint. For ipc:// the file gets mode
 * EL_CONTROL_FILE_MODE (created under a restrictive umask, then chmod'ed).
 * @param ctx zmq context (borrowed). @param[out] ret caller owns.
 * @return 0, -errno (bind failed, e.g. -EADDRINUSE), -ENOMEM. */
int el_control_new (void *ctx, const char *endpoint, el_control_fn *fn, void *arg,
                    el_control_t **ret);

/** Close the socket (linger 0) and remove an ipc:// socket file; accepts NULL. */
void el_control_destroy (el_control_t **self_p);

/** The ROUTER socket, for zmq_poll (ZMQ_POLLIN). Borrowed. */
void *el_control_socket (el_control_t *self);

/** Handle up to EL_CONTROL_BATCH pending requests without blocking.
 * Malformed requests get a reply with EL_EPROTO; oversized ones are dropped.
 * @return number handled (>= 0), or -errno on a socket failure. */
int el_control_handle (el_control_t *self);

/** Zeroed memory that lives until the current reply is sent. NULL on ENOMEM. */
void *el_control_alloc (el_control_t *self, size_t size);
/** Copy of @p text with the same lifetime as el_control_alloc(). NULL on ENOMEM. */
char *el_control_strdup (el_control_t *self, const char *text);

/** Requests served and refused since start. */
typedef struct {
    uint64_t requests, malformed, dropped;
} el_control_stats_t;
void el_control_stats (const el_control_t *self, el_control_stats_t *ret);

/** Client: send @p req to the daemon at @p endpoint and wait for its reply.
 * @param timeout_ms  how long to wait for the reply, ms
 * @param[out] ret    caller frees with el__control_reply__free_unpacked(r, &el_pb_allocator)
 * @return 0 (the reply may still carry an error code), -ECONNREFUSED (no ipc
 *         socket file), -ETIMEDOUT, EL_EPROTO (malformed reply), -ENOMEM, -errno. */
int el_control_call (void *ctx, const char *endpoint, const El__ControlRequest *req,
                     int timeout_ms, El__ControlReply **ret);

#endif
