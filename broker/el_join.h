/* el_join.h — the broker's join endpoint.
 *
 * The broker's main ROUTER admits only known site keys (ZAP); a new site's
 * key is unknown, so redemption happens on a separate join endpoint: a CURVE
 * server (the broker's key) whose own ZAP handler accepts any client key for
 * domain EL_JOIN_DOMAIN, at most EL_JOIN_HANDSHAKES_PER_MIN handshakes per
 * minute and address. It answers nothing but a JoinRequest (core/el_token.h);
 * redemptions are limited to EL_JOIN_REDEEMS_PER_MIN attempts per address
 * (whatever they hold) and EL_JOIN_REDEEMS_BURST valid requests (well-formed,
 * signed by the connection's key) overall per second window, so junk from
 * many addresses does not spend the overall budget; anything else is dropped
 * unanswered.
 *
 * The join listener runs in its own thread with its own ZeroMQ context (its
 * ZAP handler must not be the daemon's) and never touches the store: it
 * hands each valid redemption to the daemon's reactor as a RedeemRequest on
 * the control socket, so the store keeps a single writer thread. */
#ifndef EL_JOIN_H
#define EL_JOIN_H

#include <stdint.h>

#include "el_attest.h"
#include "el_token.h"

#define EL_JOIN_HANDSHAKES_PER_MIN 60       /* CURVE handshakes per address per minute */
#define EL_JOIN_REDEEMS_PER_MIN   10        /* redemptions per address per minute */
#define EL_JOIN_REDEEMS_BURST     20        /* valid redemptions per second, all addresses */
#define EL_JOIN_ADDRESSES_MAX     1024      /* addresses tracked by the rate limits */


typedef struct el_join el_join_t;

/** Start the join listener thread bound on @p bind (e.g. tcp://0.0.0.0:7401).
 * @param broker   the broker's key pair (borrowed during the call; the thread
 *                 keeps its own copy of the CURVE secret)
 * @param control  the daemon's control endpoint, where redemptions go
 * @return 0, -errno (bind failed: -EADDRINUSE ...), -ENOMEM. */
int el_join_new (const char *bind, const el_keypair_t *broker, const char *control,
                 el_join_t **ret);

/** Stop the thread, close its sockets and context; accepts NULL. */
void el_join_destroy (el_join_t **self_p);

/** The endpoint as bound (a tcp port 0 resolved). Borrowed. */
const char *el_join_endpoint (const el_join_t *self);

/** Counters of the listener, read from any thread (relaxed). */
typedef struct {
    uint64_t handshakes_allowed, handshakes_refused, redeemed, refused, dropped;
} el_join_stats_t;
void el_join_stats (el_join_t *self, el_join_stats_t *ret);

#endif
