/* el_control.c — see el_control.h. */
#include "el_control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "el_zmq.h"

#define S_ROUTE_MAX 256         /* bytes of a ROUTER routing id */

typedef struct s_block {
    struct s_block *next;
} s_block_t;

/* Where a reply goes: the request's route, delimiter and id. */
typedef struct {
    bool used;                  /* (deferred slots) a request waits here */
    uint8_t route[S_ROUTE_MAX];
    size_t route_len;
    bool delim;
    uint64_t id;
} s_route_t;

struct el_control {
    void *socket;
    char *ipc_path;             /* socket file of an ipc:// endpoint, else NULL */
    char *link_path;            /* a long ipc:// path: the symlink to ipc_path, else NULL */
    char *short_dir;            /* ... and the short folder ipc_path is in, else NULL */
    bool bound;                 /* ipc_path is ours to remove */
    el_control_fn *fn;
    void *arg;
    s_block_t *arena;           /* allocations of the reply being built */
    el_control_stats_t stats;
    bool in_handler;            /* a handler runs: its arena is in use */
    s_route_t current;          /* the request being handled */
    s_route_t deferred[EL_CONTROL_DEFER_MAX];   /* requests answered later */
};

void *
el_control_alloc (el_control_t *self, size_t size)
{
    s_block_t *b = calloc (1, sizeof (s_block_t) + size + 16);
    if (!b)
        return NULL;
    b->next = self->arena;
    self->arena = b;
    /* keep the user part aligned like malloc's */
    return (char *) b + ((sizeof (s_block_t) + 15) & ~(size_t) 15);
}

char *
el_control_strdup (el_control_t *self, const char *text)
{
    size_t len = strlen (text);
    char *copy = el_control_alloc (self, len + 1);
    if (copy)
        memcpy (copy, text, len + 1);
    return copy;
}

static void
s_arena_free (el_control_t *self)
{
    while (self->arena) {
        s_block_t *next = self->arena->next;
        free (self->arena);
        self->arena = next;
    }
}

/* Bind @p endpoint; the socket file never exists with a wider mode, not
 * even for a moment. @return 0, -errno. */
static int
s_bind (el_control_t *self, const char *endpoint)
{
    mode_t old = umask (0117);
    int brc = zmq_bind (self->socket, endpoint);
    int berr = errno;
    umask (old);
    if (brc != 0)
        return -berr;
    self->bound = true;
    if (self->ipc_path && chmod (self->ipc_path, EL_CONTROL_FILE_MODE) != 0)
        return -errno;
    return 0;
}

/* An ipc:// path longer than the kernel binds: bind in a short private
 * folder and leave a symbolic link at the long path. @return 0, -errno. */
static int
s_bind_long (el_control_t *self, const char *long_path)
{
    const char *base = getenv ("XDG_RUNTIME_DIR");
    if (!base || base[0] != '/' || strlen (base) > 64 || access (base, W_OK | X_OK) != 0)
        base = "/tmp";
    char dir[128], path[160], endpoint[170];
    snprintf (dir, sizeof dir, "%s/entrelab-XXXXXX", base);
    if (!mkdtemp (dir))
        return -errno;
    self->short_dir = strdup (dir);
    snprintf (path, sizeof path, "%s/control.sock", dir);
    snprintf (endpoint, sizeof endpoint, "ipc://%s", path);
    free (self->ipc_path);
    self->ipc_path = strdup (path);
    if (!self->short_dir || !self->ipc_path)
        return -ENOMEM;
    if (chmod (dir, EL_CONTROL_DIR_MODE) != 0)
        return -errno;
    int rc = s_bind (self, endpoint);
    if (rc < 0)
        return rc;
    struct stat st;
    if (lstat (long_path, &st) == 0 && (S_ISLNK (st.st_mode) || S_ISSOCK (st.st_mode)))
        unlink (long_path);             /* left by a daemon that did not stop cleanly */
    if (symlink (path, long_path) != 0)
        return -errno;
    self->link_path = strdup (long_path);
    return self->link_path ? 0 : -ENOMEM;
}

int
el_control_new (void *ctx, const char *endpoint, el_control_fn *fn, void *arg,
                el_control_t **ret)
{
    int rc = -ENOMEM;
    el_control_t *self = calloc (1, sizeof *self);
    if (!self)
        goto out;
    self->fn = fn;
    self->arg = arg;
    if (!strncmp (endpoint, "ipc://", 6)) {
        self->ipc_path = strdup (endpoint + 6);
        if (!self->ipc_path)
            goto out_free;
    }
    self->socket = zmq_socket (ctx, ZMQ_ROUTER);
    if (!self->socket) {
        rc = -errno;
        goto out_free;
    }
    int zero = 0;
    int64_t max = EL_CONTROL_FRAME_MAX;
    int hwm = 1000;
    zmq_setsockopt (self->socket, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->socket, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt (self->socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (self->ipc_path && strlen (self->ipc_path) > EL_IPC_PATH_MAX)
        rc = s_bind_long (self, endpoint + 6);
    else
        rc = s_bind (self, endpoint);
    if (rc < 0)
        goto out_destroy;
    *ret = self;
    return 0;
out_destroy:
    el_control_destroy (&self);
    return rc;
out_free:
    free (self->ipc_path);
    free (self);
out:
    return rc;
}

void
el_control_destroy (el_control_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_control_t *self = *self_p;
    if (self->socket)
        zmq_close (self->socket);
    if (self->ipc_path && self->bound)
        unlink (self->ipc_path);
    if (self->link_path)
        unlink (self->link_path);
    if (self->short_dir)
        rmdir (self->short_dir);
    s_arena_free (self);
    free (self->ipc_path);
    free (self->link_path);
    free (self->short_dir);
    free (self);
    *self_p = NULL;
}

void *
el_control_socket (el_control_t *self)
{
    return self->socket;
}

void
el_control_stats (const el_control_t *self, el_control_stats_t *ret)
{
    *ret = self->stats;
}

/* Receive one request: [route][empty?][body]. @return 1 got one, 0 none, <0 error. */
static int
s_recv (el_control_t *self, uint8_t *route, size_t *route_len, bool *delim, zmq_msg_t *body)
{
    int n = zmq_recv (self->socket, route, S_ROUTE_MAX, ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN ? 0 : -errno;
    if ((size_t) n > S_ROUTE_MAX || !el_zmq_more (self->socket)) {
        el_zmq_drain (self->socket);
        self->stats.dropped++;
        return -EAGAIN;
    }
    *route_len = (size_t) n;
    *delim = false;
    if (zmq_msg_recv (body, self->socket, ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_msg_size (body) == 0 && el_zmq_more (self->socket)) {
        *delim = true;
        zmq_msg_close (body);
        zmq_msg_init (body);
        if (zmq_msg_recv (body, self->socket, ZMQ_DONTWAIT) < 0)
            return -errno;
    }
    if (el_zmq_more (self->socket)) {
        el_zmq_drain (self->socket);
        self->stats.dropped++;
        return -EAGAIN;
    }
    return 1;
}

static int
s_send_reply (el_control_t *self, const uint8_t *route, size_t route_len, bool delim,
              const El__ControlReply *reply)
{
    size_t len = el__control_reply__get_packed_size (reply);
    if (len > EL_CONTROL_FRAME_MAX)
        return EL_ETOOBIG;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -ENOMEM;
    el__control_reply__pack (reply, buf);
    int rc = 0;
    if (zmq_send (self->socket, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -errno;
    else if (delim && zmq_send (self->socket, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -errno;
    else if (zmq_send (self->socket, buf, len, ZMQ_DONTWAIT) < 0)
        rc = -errno;
    free (buf);
    return rc;
}

int
el_control_defer (el_control_t *self, unsigned *ret)
{
    for (unsigned i = 0; i < EL_CONTROL_DEFER_MAX; i++)
        if (!self->deferred[i].used) {
            self->deferred[i] = self->current;
            self->deferred[i].used = true;
            *ret = i;
            return 0;
        }
    return -EBUSY;
}

void
el_control_forget (el_control_t *self, unsigned token)
{
    if (token < EL_CONTROL_DEFER_MAX)
        self->deferred[token].used = false;
}

int
el_control_reply (el_control_t *self, unsigned token, int code, El__ControlReply *reply)
{
    if (token >= EL_CONTROL_DEFER_MAX || !self->deferred[token].used)
        return -EINVAL;
    s_route_t *r = &self->deferred[token];
    r->used = false;
    reply->id = r->id;
    reply->code = code;
    if (code != 0 && (!reply->text || !reply->text[0]))
        reply->text = (char *) el_strerror (code);
    int rc = s_send_reply (self, r->route, r->route_len, r->delim, reply);
    if (!self->in_handler)
        s_arena_free (self);
    return rc;
}

int
el_control_handle (el_control_t *self)
{
    int handled = 0;
    for (int i = 0; i < EL_CONTROL_BATCH; i++) {
        uint8_t route[S_ROUTE_MAX];
        size_t route_len = 0;
        bool delim = false;
        zmq_msg_t body;
        zmq_msg_init (&body);
        int rc = s_recv (self, route, &route_len, &delim, &body);
        if (rc == 0) {
            zmq_msg_close (&body);
            break;
        }
        if (rc == -EAGAIN) {
            zmq_msg_close (&body);
            continue;
        }
        if (rc < 0) {
            zmq_msg_close (&body);
            return rc;
        }
        self->stats.requests++;
        El__ControlReply reply = EL__CONTROL_REPLY__INIT;
        El__ControlRequest *req = NULL;
        if (zmq_msg_size (&body) <= EL_CONTROL_FRAME_MAX)
            req = el__control_request__unpack (&el_pb_allocator, zmq_msg_size (&body),
                                               zmq_msg_data (&body));
        zmq_msg_close (&body);
        if (!req) {
            self->stats.malformed++;
            reply.code = EL_EPROTO;
            reply.text = (char *) "malformed request";
        } else {
            reply.id = req->id;
            if (req->r_case == EL__CONTROL_REQUEST__R__NOT_SET) {
                reply.code = EL_EINVAL;
                reply.text = (char *) "unknown request";
            } else {
                memcpy (self->current.route, route, route_len);
                self->current.route_len = route_len;
                self->current.delim = delim;
                self->current.id = req->id;
                self->in_handler = true;
                int code = self->fn (self->arg, self, req, &reply);
                self->in_handler = false;
                reply.code = code;
                reply.id = req->id;
            }
        }
        if (reply.code == EL_CONTROL_DEFERRED) {
            el__control_request__free_unpacked (req, &el_pb_allocator);
            s_arena_free (self);
            handled++;
            continue;
        }
        if (reply.code != 0 && (!reply.text || !reply.text[0]))
            reply.text = (char *) el_strerror (reply.code);
        int src = s_send_reply (self, route, route_len, delim, &reply);
        if (src == EL_ETOOBIG) {
            /* say so rather than leave the client waiting */
            El__ControlReply small = EL__CONTROL_REPLY__INIT;
            small.id = reply.id;
            small.code = EL_ETOOBIG;
            small.text = (char *) "reply too large: ask for a smaller page";
            s_send_reply (self, route, route_len, delim, &small);
        }
        if (req)
            el__control_request__free_unpacked (req, &el_pb_allocator);
        s_arena_free (self);
        handled++;
    }
    return handled;
}
