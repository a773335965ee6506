/* el_zmq.h — libzmq helpers the daemons' sockets share.
 *
 * Any thread, on a socket that thread owns (libzmq sockets are not
 * thread-safe). */
#ifndef EL_ZMQ_H
#define EL_ZMQ_H

#include <stdbool.h>
#include <stddef.h>

/** Does the message being received on @p socket have more frames
 * (ZMQ_RCVMORE)? False also when libzmq cannot say. */
bool el_zmq_more (void *socket);

/** Receive and drop the remaining frames of the message being received on
 * @p socket (without blocking). @return the number of frames dropped. */
size_t el_zmq_drain (void *socket);

#endif
