/* el_zap.h — the daemons' ZAP handler (ZeroMQ RFC 27), CURVE keys only.
 *
 * Bound on inproc://zeromq.zap.01 before any CURVE server socket binds; those
 * sockets set ZMQ_ZAP_DOMAIN = EL_ZAP_DOMAIN and ZMQ_ZAP_ENFORCE_DOMAIN, so
 * libzmq refuses every handshake when no handler is bound (a daemon whose ZAP
 * handler is not running serves nobody). It admits a client whose CURVE
 * public key derives from an allowed Ed25519 site key, and answers with
 * User-Id = the site id in base64url, which the daemon reads back from each
 * received frame (zmq_msg_gets "User-Id"). Everything else gets 400 (500 for
 * a request that is not RFC 27). The allow list is one policy: another can be
 * given (el_zap_new_policy()), so every ZAP handler of entrelab is this one.
 *
 * The handler runs in the daemon's reactor thread: el_zap_handle() is called
 * when zmq_poll reports the socket readable; libzmq's I/O thread waits for the
 * answer meanwhile. The allow list is changed by the same thread. */
#ifndef EL_ZAP_H
#define EL_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"

#define EL_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define EL_ZAP_DOMAIN   "entrelab"
#define EL_ZAP_KEYS_MAX 65536           /* allowed keys */
#define EL_ZAP_BATCH    64              /* requests per el_zap_handle() */
#define EL_ZAP_DOMAIN_MAX 64            /* bytes of a ZAP domain, with its NUL */
#define EL_ZAP_USER_MAX 64              /* bytes of a User-Id, with its NUL */

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93       /* libzmq >= 4.3 (draft API name) */
#endif

typedef struct el_zap el_zap_t;

/** One decision, reported to the daemon for its log and counters.
 * @p site is NULL when the client's CURVE key maps to no known site.
 * @p address is the client's IP address text as libzmq gave it. */
typedef void (el_zap_decision_fn) (void *arg, bool allowed, const uint8_t curve_pk[32],
                                   const uint8_t *site, const char *address,
                                   const char *reason);

/** Decide on a well-formed CURVE request of the handler's domain (the
 * handler itself refuses every other request). Admit: return true and write
 * the User-Id text into @p user_id; refuse: return false. Either way
 * @p ret_reason gets a short reason for the decision callback (static
 * storage; on refusal also the ZAP status text), @p ret_site may be set to
 * the site key the client is (borrowed until the next call).
 * @p address is the client's address as libzmq gave it (control characters
 * replaced). Called in the thread that calls el_zap_handle(). */
typedef bool (el_zap_policy_fn) (void *arg, const uint8_t curve_pk[32], const char *address,
                                 char user_id[EL_ZAP_USER_MAX], const uint8_t **ret_site,
                                 const char **ret_reason);

/** Bind the handler with the allow-list policy (el_zap_allow) for domain
 * EL_ZAP_DOMAIN; User-Id = the site id in base64url. @param ctx zmq context
 * (borrowed). @param fn optional decision callback.
 * @return 0, -EADDRINUSE (another handler is bound in this context), -errno, -ENOMEM. */
int el_zap_new (void *ctx, el_zap_decision_fn *fn, void *arg, el_zap_t **ret);

/** Bind the handler with another policy, for @p domain (< EL_ZAP_DOMAIN_MAX
 * bytes): e.g. the broker's join endpoint, which admits any key at a limited
 * rate. @p policy NULL = the allow list. @return as el_zap_new(), EL_EINVAL. */
int el_zap_new_policy (void *ctx, const char *domain, el_zap_policy_fn *policy, void *policy_arg,
                       el_zap_decision_fn *fn, void *arg, el_zap_t **ret);
void el_zap_destroy (el_zap_t **self_p);

/** The REP socket, for zmq_poll (ZMQ_POLLIN). Borrowed. */
void *el_zap_socket (el_zap_t *self);

/** Answer up to EL_ZAP_BATCH pending requests. @return number answered, -errno. */
int el_zap_handle (el_zap_t *self);

/** Allow @p site (an Ed25519 key). Idempotent.
 * @return 0, EL_ETOOBIG (EL_ZAP_KEYS_MAX reached), EL_EKEYFORMAT (no Curve25519 form). */
int el_zap_allow (el_zap_t *self, const uint8_t site[EL_KEY_BYTES]);
/** Stop allowing @p site (existing connections are not touched). */
void el_zap_deny (el_zap_t *self, const uint8_t site[EL_KEY_BYTES]);
bool el_zap_is_allowed (const el_zap_t *self, const uint8_t site[EL_KEY_BYTES]);
size_t el_zap_count (const el_zap_t *self);

typedef struct {
    uint64_t requests, allowed, denied, malformed;
} el_zap_stats_t;
void el_zap_stats (const el_zap_t *self, el_zap_stats_t *ret);

/** Set the options a CURVE server socket of ours needs: ZMQ_CURVE_SERVER,
 * our secret key, ZMQ_ZAP_DOMAIN = @p domain (EL_ZAP_DOMAIN for the sync
 * endpoints) and ZMQ_ZAP_ENFORCE_DOMAIN.
 * @return 0, -errno (e.g. libzmq built without CURVE). */
int el_zap_server_setup (void *socket, const char secret_z85[EL_Z85_BYTES], const char *domain);

#endif
