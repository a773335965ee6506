/* el_join_call.c — see el_join_call.h. */
#include "el_join_call.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <zmq.h>

/* ------------------------------------------------------------ client */

int
el_join_call (void *ctx, const El__InviteToken *token, const el_keypair_t *site,
              const char *name, const char *timezone, int timeout_ms, El__JoinReply **ret)
{
    char server[EL_Z85_BYTES], pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
    int rc = el_key_curve_z85 (token->broker_key.data, server);
    if (rc < 0)
        return rc;
    rc = el_keypair_curve_z85 (site, pub, sec);
    if (rc < 0)
        return rc;
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    if (!s) {
        rc = -errno;
        goto out;
    }
    int zero = 0;
    int64_t max = EL_JOIN_FRAME_MAX;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, server, 40) != 0
        || zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0
        || zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40) != 0
        || zmq_connect (s, token->join_endpoint) != 0) {
        rc = -errno;
        goto out_close;
    }
    El__JoinRequest jr = EL__JOIN_REQUEST__INIT;
    uint8_t sig[EL_SIG_BYTES];
    el_token_join_sign (site, token->broker_key.data, token->secret.data, sig);
    jr.version = 1;
    jr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) site->pk };
    jr.secret = token->secret;
    jr.name = (char *) (name ? name : "");
    jr.timezone = (char *) (timezone ? timezone : "");
    jr.sig = (ProtobufCBinaryData) { EL_SIG_BYTES, sig };
    uint8_t buf[EL_JOIN_FRAME_MAX];
    size_t len = el__join_request__get_packed_size (&jr);
    if (len > sizeof buf) {
        rc = EL_ETOOBIG;
        goto out_close;
    }
    el__join_request__pack (&jr, buf);
    /* DEALER queues until the handshake completes */
    int sndtimeo = timeout_ms;
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (zmq_send (s, buf, len, 0) < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        goto out_close;
    }
    zmq_pollitem_t item = { s, 0, ZMQ_POLLIN, 0 };
    int n = zmq_poll (&item, 1, timeout_ms);
    if (n < 0) {
        rc = -errno;
        goto out_close;
    }
    if (n == 0) {
        rc = -ETIMEDOUT;
        goto out_close;
    }
    int got = zmq_recv (s, buf, sizeof buf, 0);
    if (got < 0) {
        rc = -errno;
        goto out_close;
    }
    if ((size_t) got > sizeof buf) {
        rc = EL_ETOOBIG;
        goto out_close;
    }
    El__JoinReply *r = el__join_reply__unpack (&el_pb_allocator, (size_t) got, buf);
    if (!r) {
        rc = EL_EPROTO;
        goto out_close;
    }
    if (r->code == 0 && (!r->sync_endpoint || !strstr (r->sync_endpoint, "://")
                         || r->network.len != EL_KEY_BYTES
                         || memcmp (r->network.data, token->broker_key.data, EL_KEY_BYTES))) {
        el__join_reply__free_unpacked (r, &el_pb_allocator);
        rc = EL_EPROTO;
        goto out_close;
    }
    *ret = r;
    rc = 0;
out_close:
    zmq_close (s);
out:
    sodium_memzero (sec, sizeof sec);
    return rc;
}
