/* el_control_call.c — see el_control_call.h. */
#include "el_control_call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

int
el_control_endpoint_resolve (const char *endpoint, char *out, size_t size)
{
    if (strncmp (endpoint, "ipc://", 6) || strlen (endpoint + 6) <= EL_IPC_PATH_MAX) {
        if (strlen (endpoint) >= size)
            return -ENAMETOOLONG;
        memcpy (out, endpoint, strlen (endpoint) + 1);
        return 0;
    }
    const char *path = endpoint + 6;
    char target[EL_IPC_PATH_MAX + 2];
    ssize_t n = readlink (path, target, sizeof target);
    if (n <= 0 || (size_t) n > EL_IPC_PATH_MAX)
        return -ENAMETOOLONG;
    target[n] = '\0';
    int w = snprintf (out, size, "ipc://%s", target);
    return w < 0 || (size_t) w >= size ? -ENAMETOOLONG : 0;
}

int
el_control_call (void *ctx, const char *endpoint, const El__ControlRequest *req,
                 int timeout_ms, El__ControlReply **ret)
{
    int rc = -ENOMEM;
    char followed[EL_CONTROL_ENDPOINT_MAX];
    if (!strncmp (endpoint, "ipc://", 6)) {
        if (access (endpoint + 6, F_OK) != 0)
            return errno == EACCES ? -EACCES : -ECONNREFUSED;
        /* connecting to a socket file takes write permission on it; without,
         * libzmq would retry in silence until the timeout */
        if (access (endpoint + 6, W_OK) != 0 && errno == EACCES)
            return -EACCES;
    }
    rc = el_control_endpoint_resolve (endpoint, followed, sizeof followed);
    if (rc < 0)
        return rc;
    endpoint = followed;
    rc = -ENOMEM;
    void *s = zmq_socket (ctx, ZMQ_REQ);
    if (!s)
        return -errno;
    int zero = 0;
    int64_t max = EL_CONTROL_FRAME_MAX;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (zmq_connect (s, endpoint) != 0) {
        rc = -errno;
        goto out_close;
    }
    size_t len = el__control_request__get_packed_size (req);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        goto out_close;
    el__control_request__pack (req, buf);
    int n = zmq_send (s, buf, len, 0);
    free (buf);
    if (n < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        goto out_close;
    }
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, s, 0) < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        zmq_msg_close (&msg);
        goto out_close;
    }
    El__ControlReply *reply =
        el__control_reply__unpack (&el_pb_allocator, zmq_msg_size (&msg), zmq_msg_data (&msg));
    zmq_msg_close (&msg);
    if (!reply) {
        rc = EL_EPROTO;
        goto out_close;
    }
    *ret = reply;
    rc = 0;
out_close:
    zmq_close (s);
    return rc;
}
