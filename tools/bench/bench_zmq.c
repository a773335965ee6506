/* bench_zmq.c — see bench_zmq.h. */
#include "bench_zmq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "bench_util.h"

int
bench_curve_keys_make (bench_curve_keys_t *keys)
{
    if (zmq_curve_keypair (keys->server_public, keys->server_secret) != 0
        || zmq_curve_keypair (keys->client_public, keys->client_secret) != 0) {
        bench_error ("zmq_curve_keypair: %s (libzmq built without CURVE?)",
                     zmq_strerror (zmq_errno ()));
        return -zmq_errno ();
    }
    return 0;
}

static int
s_set (void *sock, int opt, const void *val, size_t len, const char *name)
{
    if (zmq_setsockopt (sock, opt, val, len) != 0) {
        int rc = -zmq_errno ();
        bench_error ("zmq_setsockopt %s: %s", name, zmq_strerror (-rc));
        return rc;
    }
    return 0;
}

int
bench_curve_router (void *ctx, const bench_curve_keys_t *keys, void **ret, int *port)
{
    int rc;
    int one = 1, linger = 0;
    void *sock = zmq_socket (ctx, ZMQ_ROUTER);
    if (!sock) {
        rc = -zmq_errno ();
        bench_error ("zmq_socket ROUTER: %s", zmq_strerror (-rc));
        goto out;
    }
    rc = s_set (sock, ZMQ_CURVE_SERVER, &one, sizeof one, "CURVE_SERVER");
    if (rc >= 0)
        rc = s_set (sock, ZMQ_CURVE_SECRETKEY, keys->server_secret, 40, "CURVE_SECRETKEY");
    if (rc >= 0)
        rc = s_set (sock, ZMQ_LINGER, &linger, sizeof linger, "LINGER");
    if (rc < 0)
        goto out_close;
    if (zmq_bind (sock, "tcp://127.0.0.1:*") != 0) {
        rc = -zmq_errno ();
        bench_error ("zmq_bind: %s", zmq_strerror (-rc));
        goto out_close;
    }
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        rc = -zmq_errno ();
        bench_error ("ZMQ_LAST_ENDPOINT: %s", zmq_strerror (-rc));
        goto out_close;
    }
    const char *colon = strrchr (endpoint, ':');
    int p = 0;
    if (!colon || sscanf (colon + 1, "%d", &p) != 1 || p <= 0 || p > 65535) {
        rc = -EPROTO;
        bench_error ("cannot read the port of %s", endpoint);
        goto out_close;
    }
    *port = p;
    *ret = sock;
    return 0;
out_close:
    zmq_close (sock);
out:
    return rc;
}

int
bench_curve_dealer (void *ctx, const bench_curve_keys_t *keys, int port, void **ret)
{
    int rc;
    int linger = 0;
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    if (!sock) {
        rc = -zmq_errno ();
        bench_error ("zmq_socket DEALER: %s", zmq_strerror (-rc));
        goto out;
    }
    rc = s_set (sock, ZMQ_CURVE_SERVERKEY, keys->server_public, 40, "CURVE_SERVERKEY");
    if (rc >= 0)
        rc = s_set (sock, ZMQ_CURVE_PUBLICKEY, keys->client_public, 40, "CURVE_PUBLICKEY");
    if (rc >= 0)
        rc = s_set (sock, ZMQ_CURVE_SECRETKEY, keys->client_secret, 40, "CURVE_SECRETKEY");
    if (rc >= 0)
        rc = s_set (sock, ZMQ_LINGER, &linger, sizeof linger, "LINGER");
    if (rc < 0)
        goto out_close;
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    if (zmq_connect (sock, endpoint) != 0) {
        rc = -zmq_errno ();
        bench_error ("zmq_connect %s: %s", endpoint, zmq_strerror (-rc));
        goto out_close;
    }
    *ret = sock;
    return 0;
out_close:
    zmq_close (sock);
out:
    return rc;
}
