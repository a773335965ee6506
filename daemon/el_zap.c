/* el_zap.c — see el_zap.h. */
#include "el_zap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_util.h"

#define S_FRAMES_MAX 8          /* frames of one ZAP request we look at */
#define S_FRAME_BYTES 256       /* bytes of one request frame we keep */

typedef struct {
    uint8_t curve[32];
    uint8_t site[EL_KEY_BYTES];
} s_key_t;

struct el_zap {
    void *socket;
    char domain[EL_ZAP_DOMAIN_MAX];
    el_zap_policy_fn *policy;
    void *policy_arg;
    el_zap_decision_fn *fn;
    void *arg;
    el_vec_t keys;              /* s_key_t, sorted by curve key, at most EL_ZAP_KEYS_MAX */
    el_zap_stats_t stats;
};

static el_zap_policy_fn s_allow_list;

int
el_zap_new (void *ctx, el_zap_decision_fn *fn, void *arg, el_zap_t **ret)
{
    return el_zap_new_policy (ctx, EL_ZAP_DOMAIN, NULL, NULL, fn, arg, ret);
}

int
el_zap_new_policy (void *ctx, const char *domain, el_zap_policy_fn *policy, void *policy_arg,
                   el_zap_decision_fn *fn, void *arg, el_zap_t **ret)
{
    int rc = EL_EINVAL;
    if (strlen (domain) >= EL_ZAP_DOMAIN_MAX)
        goto out;
    rc = -ENOMEM;
    el_zap_t *self = calloc (1, sizeof *self);
    if (!self)
        goto out;
    memcpy (self->domain, domain, strlen (domain) + 1);
    self->policy = policy ? policy : s_allow_list;
    self->policy_arg = policy ? policy_arg : self;
    self->fn = fn;
    self->arg = arg;
    el_vec_init (&self->keys, sizeof (s_key_t), EL_ZAP_KEYS_MAX);
    self->socket = zmq_socket (ctx, ZMQ_REP);
    if (!self->socket) {
        rc = -errno;
        goto out_free;
    }
    int zero = 0;
    zmq_setsockopt (self->socket, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (self->socket, EL_ZAP_ENDPOINT) != 0) {
        rc = -errno;
        goto out_close;
    }
    *ret = self;
    return 0;
out_close:
    zmq_close (self->socket);
out_free:
    free (self);
out:
    return rc;
}

void
el_zap_destroy (el_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_zap_t *self = *self_p;
    if (self->socket)
        zmq_close (self->socket);
    el_vec_free (&self->keys);
    free (self);
    *self_p = NULL;
}

void *
el_zap_socket (el_zap_t *self)
{
    return self->socket;
}

static const s_key_t *
s_key (const el_zap_t *self, size_t i)
{
    return el_vec_at (&self->keys, i);
}

/* Index of the first key >= @p curve. */
static size_t
s_lower (const el_zap_t *self, const uint8_t curve[32])
{
    size_t lo = 0, hi = self->keys.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp (s_key (self, mid)->curve, curve, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const s_key_t *
s_find (const el_zap_t *self, const uint8_t curve[32])
{
    size_t i = s_lower (self, curve);
    if (i < self->keys.n && !memcmp (s_key (self, i)->curve, curve, 32))
        return s_key (self, i);
    return NULL;
}

int
el_zap_allow (el_zap_t *self, const uint8_t site[EL_KEY_BYTES])
{
    s_key_t k;
    if (el_key_curve (site, k.curve) < 0)
        return EL_EKEYFORMAT;
    size_t i = s_lower (self, k.curve);
    if (i < self->keys.n && !memcmp (s_key (self, i)->curve, k.curve, 32))
        return 0;
    memcpy (k.site, site, EL_KEY_BYTES);
    int rc = el_vec_insert (&self->keys, i, &k, NULL);
    return rc == -ENOBUFS ? EL_ETOOBIG : rc;
}

void
el_zap_deny (el_zap_t *self, const uint8_t site[EL_KEY_BYTES])
{
    uint8_t curve[32];
    if (el_key_curve (site, curve) < 0)
        return;
    size_t i = s_lower (self, curve);
    if (i < self->keys.n && !memcmp (s_key (self, i)->curve, curve, 32))
        el_vec_remove (&self->keys, i);
}

bool
el_zap_is_allowed (const el_zap_t *self, const uint8_t site[EL_KEY_BYTES])
{
    uint8_t curve[32];
    return el_key_curve (site, curve) == 0 && s_find (self, curve) != NULL;
}

size_t
el_zap_count (const el_zap_t *self)
{
    return self->keys.n;
}

void
el_zap_stats (const el_zap_t *self, el_zap_stats_t *ret)
{
    *ret = self->stats;
}

/* The daemon's policy: a key of the allow list, named by its site id. */
static bool
s_allow_list (void *arg, const uint8_t curve_pk[32], const char *address,
              char user_id[EL_ZAP_USER_MAX], const uint8_t **ret_site, const char **ret_reason)
{
    el_zap_t *self = arg;
    (void) address;
    const s_key_t *k = s_find (self, curve_pk);
    if (!k) {
        *ret_reason = "unknown_key";
        return false;
    }
    el_key_to_text (k->site, user_id);
    *ret_site = k->site;
    *ret_reason = "known_key";
    return true;
}

static int
s_send_reply (void *socket, const uint8_t *request_id, size_t id_len, const char *code,
              const char *text, const char *user_id)
{
    int f = ZMQ_SNDMORE | ZMQ_DONTWAIT;
    if (zmq_send (socket, "1.0", 3, f) < 0
        || zmq_send (socket, request_id, id_len, f) < 0
        || zmq_send (socket, code, strlen (code), f) < 0
        || zmq_send (socket, text, strlen (text), f) < 0
        || zmq_send (socket, user_id, strlen (user_id), f) < 0
        || zmq_send (socket, "", 0, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

int
el_zap_handle (el_zap_t *self)
{
    int handled = 0;
    for (int r = 0; r < EL_ZAP_BATCH; r++) {
        uint8_t frames[S_FRAMES_MAX][S_FRAME_BYTES];
        size_t lens[S_FRAMES_MAX];
        size_t n = 0;
        bool truncated = false;
        int more = 1;
        while (more) {
            uint8_t scratch[S_FRAME_BYTES];
            uint8_t *dst = n < S_FRAMES_MAX ? frames[n] : scratch;
            int len = zmq_recv (self->socket, dst, S_FRAME_BYTES, n == 0 ? ZMQ_DONTWAIT : 0);
            if (len < 0) {
                if (n == 0 && errno == EAGAIN)
                    return handled;
                return -errno;
            }
            if ((size_t) len > S_FRAME_BYTES)
                truncated = true;
            if (n < S_FRAMES_MAX)
                lens[n] = (size_t) len > S_FRAME_BYTES ? S_FRAME_BYTES : (size_t) len;
            n++;
            size_t size = sizeof more;
            if (zmq_getsockopt (self->socket, ZMQ_RCVMORE, &more, &size) != 0)
                more = 0;
        }
        self->stats.requests++;
        handled++;
        /* RFC 27: version, request id, domain, address, identity, mechanism, credentials */
        static const uint8_t no_id[1] = { 0 };
        const uint8_t *request_id = n >= 2 ? frames[1] : no_id;
        size_t id_len = n >= 2 ? lens[1] : 0;
        char address[64] = "";
        if (n >= 4) {
            size_t a = lens[3] < sizeof address - 1 ? lens[3] : sizeof address - 1;
            memcpy (address, frames[3], a);
            address[a] = '\0';
            for (size_t i = 0; i < a; i++)
                if ((unsigned char) address[i] < ' ' || address[i] == ' ')
                    address[i] = '?';
        }
        if (n < 7 || n > S_FRAMES_MAX || truncated || lens[0] != 3
            || memcmp (frames[0], "1.0", 3)) {
            self->stats.malformed++;
            self->stats.denied++;
            s_send_reply (self->socket, request_id, id_len, "500", "malformed request", "");
            if (self->fn)
                self->fn (self->arg, false, NULL, NULL, address, "malformed");
            continue;
        }
        if (lens[2] != strlen (self->domain) || memcmp (frames[2], self->domain, lens[2])
            || lens[5] != 5 || memcmp (frames[5], "CURVE", 5) || n != 7 || lens[6] != 32) {
            self->stats.denied++;
            s_send_reply (self->socket, request_id, id_len, "400", "CURVE only", "");
            if (self->fn)
                self->fn (self->arg, false, NULL, NULL, address, "mechanism");
            continue;
        }
        char user_id[EL_ZAP_USER_MAX] = "";
        const uint8_t *site = NULL;
        const char *reason = "refused";
        bool ok = self->policy (self->policy_arg, frames[6], address, user_id, &site, &reason);
        if (ok)
            self->stats.allowed++;
        else
            self->stats.denied++;
        s_send_reply (self->socket, request_id, id_len, ok ? "200" : "400",
                      ok ? "OK" : reason, ok ? user_id : "");
        if (self->fn)
            self->fn (self->arg, ok, frames[6], site, address, reason);
    }
    return handled;
}

int
el_zap_server_setup (void *socket, const char secret_z85[EL_Z85_BYTES], const char *domain)
{
    int one = 1;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, secret_z85, 40) != 0
        || zmq_setsockopt (socket, ZMQ_ZAP_DOMAIN, domain, strlen (domain)) != 0
        || zmq_setsockopt (socket, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        return -errno;
    return 0;
}
