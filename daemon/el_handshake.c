/* el_handshake.c — caps on inbound connections in handshake (see el_handshake.h). */
#include "el_handshake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "el_error.h"
#include "el_log.h"
#include "el_util.h"

typedef struct {
    int fd;                     /* -1 = picked, about to be removed */
    el_handshake_peer_t peer;
    int64_t accepted_us;
    uint64_t order;             /* accept order: lower = older */
    bool heavy;                 /* counts against the caps */
} s_conn_t;

typedef struct {
    size_t next, end;           /* conns[next..end): one address's, oldest first */
} s_group_t;

struct el_handshake {
    size_t open_max, per_addr_max;
    int64_t expire_us;
    s_conn_t conns[EL_HANDSHAKE_SLOTS];
    s_group_t groups[EL_HANDSHAKE_SLOTS];   /* el_handshake_pick's, by address */
    el_handshake_victim_t victims[EL_HANDSHAKE_SLOTS];
    size_t n;                   /* used slots, packed at the front */
    uint64_t order;
    el_handshake_stats_t stats;
    int64_t log_window_us[EL_HANDSHAKE_REASONS];
    uint64_t log_suppressed[EL_HANDSHAKE_REASONS];
};

el_handshake_t *
el_handshake_new (size_t open_max, size_t per_addr_max, int64_t expire_us)
{
    el_handshake_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->open_max = open_max ? open_max : 1;
    self->per_addr_max = per_addr_max ? per_addr_max : 1;
    self->expire_us = expire_us;
    for (size_t i = 0; i < EL_HANDSHAKE_REASONS; i++)
        self->log_window_us[i] = INT64_MIN / 2;
    return self;
}

void
el_handshake_destroy (el_handshake_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static void
s_remove_at (el_handshake_t *self, size_t i)
{
    self->conns[i] = self->conns[self->n - 1];
    self->n--;
}

bool
el_handshake_ended (el_handshake_t *self, int fd)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->conns[i].fd == fd) {
            s_remove_at (self, i);
            return true;
        }
    return false;
}

int
el_handshake_add (el_handshake_t *self, int fd, const el_handshake_peer_t *peer,
                  int64_t now_us)
{
    el_handshake_ended (self, fd);
    self->stats.accepted++;
    if (self->n == EL_HANDSHAKE_SLOTS)
        return EL_ETOOBIG;
    s_conn_t *c = &self->conns[self->n++];
    c->fd = fd;
    c->peer = *peer;
    c->accepted_us = now_us;
    c->order = self->order++;
    c->heavy = false;
    return 0;
}

void
el_handshake_set_heavy (el_handshake_t *self, int fd, bool heavy)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->conns[i].fd == fd)
            self->conns[i].heavy = heavy;
}

static bool
s_same_addr (const el_handshake_peer_t *a, const el_handshake_peer_t *b)
{
    return a->family == b->family && memcmp (a->addr, b->addr, sizeof a->addr) == 0;
}

/* heavy ones first, then by address, oldest first */
static int
s_cmp_conn (const void *x, const void *y)
{
    const s_conn_t *a = x, *b = y;
    if (a->heavy != b->heavy)
        return a->heavy ? -1 : 1;
    if (a->peer.family != b->peer.family)
        return a->peer.family < b->peer.family ? -1 : 1;
    int c = memcmp (a->peer.addr, b->peer.addr, sizeof a->peer.addr);
    if (c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

static size_t
s_take (el_handshake_t *self, s_group_t *g, el_handshake_reason_t reason,
        el_handshake_victim_t *ret, size_t n, size_t cap)
{
    s_conn_t *c = &self->conns[g->next++];
    if (n < cap)
        ret[n] = (el_handshake_victim_t) { .fd = c->fd, .peer = c->peer, .reason = reason };
    c->fd = -1;
    return n + 1;
}

/* The address holding the most (ties: whose oldest is oldest). */
static s_group_t *
s_most_crowded (el_handshake_t *self, s_group_t *groups, size_t ng)
{
    s_group_t *best = NULL;
    for (size_t i = 0; i < ng; i++) {
        s_group_t *g = &groups[i];
        if (g->next == g->end)
            continue;
        size_t held = g->end - g->next;
        size_t best_held = best ? best->end - best->next : 0;
        if (!best || held > best_held
            || (held == best_held
                && self->conns[g->next].order < self->conns[best->next].order))
            best = g;
    }
    return best;
}

size_t
el_handshake_pick (el_handshake_t *self, int64_t now_us, el_handshake_victim_t *ret,
                   size_t cap)
{
    size_t i = 0;
    while (i < self->n)
        if (now_us - self->conns[i].accepted_us > self->expire_us)
            s_remove_at (self, i);
        else
            i++;
    size_t heavy = 0;
    for (i = 0; i < self->n; i++)
        heavy += self->conns[i].heavy;
    if (heavy <= self->open_max && heavy <= self->per_addr_max)
        return 0;
    qsort (self->conns, self->n, sizeof self->conns[0], s_cmp_conn);
    size_t ng = 0, n = 0, held = heavy;
    for (i = 0; i < heavy; i++) {
        if (ng == 0 || !s_same_addr (&self->conns[i].peer,
                                     &self->conns[self->groups[ng - 1].next].peer))
            self->groups[ng++] = (s_group_t) { .next = i, .end = i };
        self->groups[ng - 1].end = i + 1;
    }
    for (size_t k = 0; k < ng; k++)
        while (self->groups[k].end - self->groups[k].next > self->per_addr_max) {
            n = s_take (self, &self->groups[k], EL_HANDSHAKE_PER_ADDRESS, ret, n, cap);
            held--;
        }
    for (; held > self->open_max; held--)
        n = s_take (self, s_most_crowded (self, self->groups, ng), EL_HANDSHAKE_TOTAL, ret,
                    n, cap);
    i = 0;
    while (i < self->n)
        if (self->conns[i].fd < 0)
            s_remove_at (self, i);
        else
            i++;
    return n < cap ? n : cap;
}

void
el_handshake_count (el_handshake_t *self, el_handshake_reason_t reason)
{
    self->stats.refused[reason]++;
    self->stats.refused_total++;
}

void
el_handshake_stats (const el_handshake_t *self, el_handshake_stats_t *ret)
{
    *ret = self->stats;
    ret->open = self->n;
}

long
el_handshake_wait_ms (const el_handshake_t *self)
{
    return self->n > self->open_max || self->n > self->per_addr_max ? EL_HANDSHAKE_CHECK_MS : -1;
}

const char *
el_handshake_reason_name (el_handshake_reason_t reason)
{
    switch (reason) {
    case EL_HANDSHAKE_PER_ADDRESS:
        return "per_address";
    case EL_HANDSHAKE_TOTAL:
        return "total";
    case EL_HANDSHAKE_TABLE_FULL:
        return "table_full";
    default:
        return "other";
    }
}

/* ------------------------------------------------------------ socket side */

static int
s_peer_of (int fd, el_handshake_peer_t *ret)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername (fd, (struct sockaddr *) &ss, &len) != 0)
        return -errno;
    memset (ret, 0, sizeof *ret);
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) &ss;
        ret->family = AF_INET;
        memcpy (ret->addr, &in->sin_addr, 4);
        ret->port = ntohs (in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &ss;
        ret->family = AF_INET6;
        memcpy (ret->addr, &in6->sin6_addr, 16);
        ret->port = ntohs (in6->sin6_port);
    } else {
        ret->family = ss.ss_family;     /* ipc: one "address" for all */
    }
    return 0;
}

static void
s_addr_text (const el_handshake_peer_t *p, char *buf, size_t size)
{
    if ((p->family != AF_INET && p->family != AF_INET6)
        || !inet_ntop (p->family, p->addr, buf, (socklen_t) size))
        snprintf (buf, size, "unknown");
}

static void
s_log_refused (el_handshake_t *self, const el_handshake_peer_t *p,
               el_handshake_reason_t reason, int64_t now_us)
{
    if (now_us - self->log_window_us[reason] < (int64_t) EL_HANDSHAKE_LOG_S * 1000000) {
        self->log_suppressed[reason]++;
        return;
    }
    char a[INET6_ADDRSTRLEN];
    s_addr_text (p, a, sizeof a);
    el_log (EL_LOG_WARN, "handshake_refused",
            "address=%s reason=%s open=%zu refused=%" PRIu64 " unlogged=%" PRIu64, a,
            el_handshake_reason_name (reason), self->n, self->stats.refused[reason],
            self->log_suppressed[reason]);
    self->log_window_us[reason] = now_us;
    self->log_suppressed[reason] = 0;
}

static void
s_refuse (el_handshake_t *self, int fd, const el_handshake_peer_t *p,
          el_handshake_reason_t reason, int64_t now_us)
{
    if (shutdown (fd, SHUT_RDWR) != 0)
        return;                 /* gone already: nothing refused */
    el_handshake_count (self, reason);
    s_log_refused (self, p, reason, now_us);
}

void
el_handshake_on_accepted (el_handshake_t *self, int fd, int64_t now_us)
{
    el_handshake_peer_t p;
    if (fd < 0 || s_peer_of (fd, &p) != 0)
        return;                 /* closed already: libzmq reports its end */
    if (el_handshake_add (self, fd, &p, now_us) != 0)
        s_refuse (self, fd, &p, EL_HANDSHAKE_TABLE_FULL, now_us);
}

/* Bytes the peer sent on @p fd so far; 0 when unknown. */
static uint64_t
s_bytes_received (int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset (&ti, 0, sizeof ti);
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    return ti.tcpi_bytes_received;
}

size_t
el_handshake_enforce (el_handshake_t *self, int64_t now_us)
{
    size_t done = 0;
    if (self->n > self->open_max || self->n > self->per_addr_max)
        for (size_t i = 0; i < self->n; i++)
            if (!self->conns[i].heavy)
                self->conns[i].heavy =
                    s_bytes_received (self->conns[i].fd) > EL_HANDSHAKE_HEAVY_BYTES;
    size_t n = el_handshake_pick (self, now_us, self->victims, EL_HANDSHAKE_SLOTS);
    for (size_t i = 0; i < n; i++) {
        const el_handshake_victim_t *v = &self->victims[i];
        el_handshake_peer_t now;
        /* libzmq may have closed the fd and accepted another on it since */
        if (s_peer_of (v->fd, &now) != 0 || !s_same_addr (&v->peer, &now)
            || v->peer.port != now.port)
            continue;
        uint64_t before = self->stats.refused_total;
        s_refuse (self, v->fd, &v->peer, v->reason, now_us);
        done += self->stats.refused_total - before;
    }
    return done;
}
