/* el_zmq.c — see el_zmq.h. */
#include "el_zmq.h"

#include <zmq.h>

bool
el_zmq_more (void *socket)
{
    int more = 0;
    size_t size = sizeof more;
    return zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &size) == 0 && more;
}

size_t
el_zmq_drain (void *socket)
{
    size_t dropped = 0;
    while (el_zmq_more (socket)) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        int rc = zmq_msg_recv (&m, socket, ZMQ_DONTWAIT);
        zmq_msg_close (&m);
        if (rc < 0)
            break;
        dropped++;
    }
    return dropped;
}
