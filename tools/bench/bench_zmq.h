/* bench_zmq.h — CURVE DEALER/ROUTER set-up shared by raw_curve and floor_rtt.
 *
 * The receiver binds a ROUTER as CURVE server on tcp://127.0.0.1 (a port the
 * kernel picks); the sender connects a DEALER as CURVE client. No ZAP handler
 * is installed: libzmq then admits any client key, which costs nothing per
 * message (ZAP runs once per connection). Threading: a socket belongs to the
 * thread that made it, as libzmq requires. */
#ifndef BENCH_ZMQ_H
#define BENCH_ZMQ_H

#define BENCH_Z85_KEY 41   /* bytes: 40 Z85 characters + NUL */

typedef struct {
    char server_public[BENCH_Z85_KEY];
    char server_secret[BENCH_Z85_KEY];
    char client_public[BENCH_Z85_KEY];
    char client_secret[BENCH_Z85_KEY];
} bench_curve_keys_t;

/** Make fresh server and client key pairs. @return 0 or -errno. */
int bench_curve_keys_make (bench_curve_keys_t *keys);

/** New ROUTER, CURVE server, bound to tcp://127.0.0.1:*.
 * @param[out] ret   the socket, caller closes with zmq_close()
 * @param[out] port  the TCP port bound
 * @return 0 or -errno (reason printed). */
int bench_curve_router (void *ctx, const bench_curve_keys_t *keys, void **ret, int *port);

/** New DEALER, CURVE client, connected to tcp://127.0.0.1:@p port.
 * @return 0 or -errno (reason printed). */
int bench_curve_dealer (void *ctx, const bench_curve_keys_t *keys, int port, void **ret);

#endif
