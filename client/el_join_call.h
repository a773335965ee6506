/* el_join_call.h — a new site redeems an invite at its broker's join endpoint
 * (token and signature: core/el_token.h). Blocking; any thread with its own
 * ZeroMQ context. */
#ifndef EL_JOIN_CALL_H
#define EL_JOIN_CALL_H

#include "el_token.h"


/** The new site's side: connect to the join endpoint of @p token as a CURVE
 * client with @p site's key, send a signed JoinRequest, wait for the reply.
 * @param name      "" or NULL: the invite's name
 * @param timezone  the site's time zone for its Site record (IANA name);
 *                  "" or NULL: not said
 * @param[out] ret free with el__join_reply__free_unpacked(, &el_pb_allocator);
 *                 its code says whether the broker admitted the site
 * @return 0 (see ret->code), -ETIMEDOUT (no answer: unreachable, refused
 *         handshake, rate-limited, or the request was dropped), -errno. */
int el_join_call (void *ctx, const El__InviteToken *token, const el_keypair_t *site,
                  const char *name, const char *timezone, int timeout_ms, El__JoinReply **ret);


#endif
