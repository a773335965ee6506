/* el_control.h — the daemon's control API transport (proto/el_control.proto).
 *
 * Server: a ROUTER bound on the control endpoint (ipc://<state_dir>/control.sock
 * by default; the socket file is created with mode 0660 so only the daemon's
 * user and group may talk to it). Each request frame holds one
 * el.ControlRequest; the handler fills an el.ControlReply, which is packed and
 * sent back on the same route. Requests are handled in the daemon's reactor
 * thread, one at a time, between sync work.
 *
 * Client: client/el_control_call.h.
 *
 * Threading: an el_control_t belongs to the thread that created it. */
#ifndef EL_CONTROL_H
#define EL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "el_control_proto.h"


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

/* A handler that cannot answer yet (a write waiting for its signatures)
 * keeps its request's route with el_control_defer() and returns
 * EL_CONTROL_DEFERRED; el_control_reply() sends the answer later, from the
 * same thread. At most EL_CONTROL_DEFER_MAX requests wait at a time. */
#define EL_CONTROL_DEFERRED  1
#define EL_CONTROL_DEFER_MAX (EL_CONTROL_WAITS_MAX + 64)  /* waits, and 64 writes */

/** Inside a handler: keep the current request's route and id for a later
 * el_control_reply(). @param[out] ret its token. @return 0, -EBUSY (as many
 * requests already wait: answer this one now). */
int el_control_defer (el_control_t *self, unsigned *ret);

/** Answer deferred request @p token with @p code (0 or an error code, as a
 * handler returns) and @p reply (its nested messages from el_control_alloc();
 * id and code are set here). Outside a handler the allocations are freed
 * once sent. @return 0, -EINVAL (no such request waits), -errno of the send. */
int el_control_reply (el_control_t *self, unsigned token, int code, El__ControlReply *reply);

/** Give up deferred request @p token without answering it (it is answered
 * by its handler after all). */
void el_control_forget (el_control_t *self, unsigned token);

/** Zeroed memory that lives until the current reply is sent. NULL on ENOMEM. */
void *el_control_alloc (el_control_t *self, size_t size);
/** Copy of @p text with the same lifetime as el_control_alloc(). NULL on ENOMEM. */
char *el_control_strdup (el_control_t *self, const char *text);

/** Requests served and refused since start. */
typedef struct {
    uint64_t requests, malformed, dropped;
} el_control_stats_t;
void el_control_stats (const el_control_t *self, el_control_stats_t *ret);

#endif
