/* bench_http.c — HTTP/1.1 keep-alive load generator (see bench_http.h). */
#include "bench_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        int e = -errno;
        close (fd);
        return e;
    }
    return fd;
}

/* A connection's receive buffer: what was read past the last response. */
typedef struct {
    char *buf;
    size_t len, cap;
} s_conn_t;

static int
s_fill (int fd, s_conn_t *c)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        if (cap > BENCH_HTTP_HEAD_MAX + BENCH_HTTP_BODY_MAX)
            return -EMSGSIZE;
        char *nb = realloc (c->buf, cap);
        if (!nb)
            return -ENOMEM;
        c->buf = nb;
        c->cap = cap;
    }
    ssize_t n = read (fd, c->buf + c->len, c->cap - c->len);
    if (n == 0)
        return -ECONNRESET;
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    c->len += (size_t) n;
    return 0;
}

/* Read one response: its status and body length, a copy of the body when
 * @p ret_copy is not NULL (caller frees); consumes it from @p c. */
static int
s_response (int fd, s_conn_t *c, int *ret_status, size_t *ret_body, char **ret_copy)
{
    const char *end = NULL;
    for (;;) {
        end = c->len ? memmem (c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        if (c->len > BENCH_HTTP_HEAD_MAX)
            return -EPROTO;
        int rc = s_fill (fd, c);
        if (rc < 0)
            return rc;
    }
    size_t head = (size_t) (end - c->buf) + 4;
    char *h = malloc (head + 1);
    if (!h)
        return -ENOMEM;
    memcpy (h, c->buf, head);
    h[head] = '\0';
    int status = 0;
    size_t body = 0;
    if (sscanf (h, "HTTP/1.%*d %d", &status) != 1) {
        free (h);
        return -EPROTO;
    }
    for (char *line = h;;) {
        char *nl = strstr (line, "\r\n");
        if (!nl)
            break;
        *nl = '\0';
        if (!strncasecmp (line, "Content-Length:", 15))
            body = strtoull (line + 15, NULL, 10);
        line = nl + 2;
    }
    free (h);
    if (body > BENCH_HTTP_BODY_MAX)
        return -EPROTO;
    while (c->len < head + body) {
        int rc = s_fill (fd, c);
        if (rc < 0)
            return rc;
    }
    if (ret_copy) {
        *ret_copy = malloc (body + 1);
        if (!*ret_copy)
            return -ENOMEM;
        memcpy (*ret_copy, c->buf + head, body);
        (*ret_copy)[body] = '\0';
    }
    memmove (c->buf, c->buf + head + body, c->len - head - body);
    c->len -= head + body;
    *ret_status = status;
    *ret_body = body;
    return 0;
}

static int
s_send_get (int fd, const char *path)
{
    char req[1024];
    int n = snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Accept-Language: en\r\n\r\n", path);
    if (n < 0 || (size_t) n >= sizeof req)
        return -EINVAL;
    return bench_write_all (fd, req, (size_t) n);
}

typedef struct {
    int port;
    const char *path;
    size_t want_len;
    int64_t until_ns;
    atomic_uint_fast64_t *done;
    atomic_int *failed;
    int rc;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    s_conn_t c = { 0 };
    int fd = s_connect (w->port);
    w->rc = fd < 0 ? fd : 0;
    while (w->rc == 0 && !atomic_load (w->failed) && bench_now_ns () < w->until_ns) {
        int status = 0;
        size_t len = 0;
        w->rc = s_send_get (fd, w->path);
        if (w->rc == 0)
            w->rc = s_response (fd, &c, &status, &len, NULL);
        if (w->rc == 0 && (status != 200 || (w->want_len && len != w->want_len))) {
            bench_error ("GET %s: status %d, %zu bytes (want 200, %zu bytes)", w->path, status,
                         len, w->want_len);
            w->rc = -EPROTO;
        }
        if (w->rc == 0)
            atomic_fetch_add (w->done, 1);
    }
    if (w->rc < 0 && w->rc != -EPROTO && !atomic_load (w->failed))
        bench_error ("GET %s on port %d: %s after %llu requests in all", w->path, w->port,
                     strerror (-w->rc), (unsigned long long) atomic_load (w->done));
    if (w->rc < 0)
        atomic_store (w->failed, 1);
    if (fd >= 0)
        close (fd);
    free (c.buf);
    return NULL;
}

int
bench_http_load (int port, const char *path, int clients, double seconds, size_t want_len,
                 double *ret_per_s, uint64_t *ret_n)
{
    if (clients < 1 || clients > BENCH_HTTP_CLIENTS_MAX || seconds <= 0)
        return -EINVAL;
    atomic_uint_fast64_t done = 0;
    atomic_int failed = 0;
    s_worker_t w[BENCH_HTTP_CLIENTS_MAX];
    pthread_t t[BENCH_HTTP_CLIENTS_MAX];
    int64_t t0 = bench_now_ns ();
    int64_t until = t0 + (int64_t) (seconds * 1e9);
    int started = 0, rc = 0;
    for (int i = 0; i < clients; i++) {
        w[i] = (s_worker_t) { port, path, want_len, until, &done, &failed, 0 };
        if (pthread_create (&t[i], NULL, s_worker, &w[i]) != 0) {
            atomic_store (&failed, 1);
            rc = -EAGAIN;
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join (t[i], NULL);
        if (rc == 0 && w[i].rc < 0)
            rc = w[i].rc;
    }
    int64_t t1 = bench_now_ns ();
    if (rc < 0)
        return rc;
    *ret_n = atomic_load (&done);
    *ret_per_s = (double) *ret_n / ((double) (t1 - t0) / 1e9);
    return 0;
}

int
bench_http_get (int port, const char *path, char **ret, size_t *ret_len)
{
    s_conn_t c = { 0 };
    int fd = s_connect (port);
    if (fd < 0)
        return fd;
    int status = 0;
    char *body = NULL;
    int rc = s_send_get (fd, path);
    if (rc == 0)
        rc = s_response (fd, &c, &status, ret_len, &body);
    close (fd);
    free (c.buf);
    if (rc == 0 && status != 200) {
        bench_error ("GET %s: status %d", path, status);
        rc = -EPROTO;
    }
    if (rc < 0) {
        free (body);
        return rc;
    }
    *ret = body;
    return 0;
}
