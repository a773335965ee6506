/* el_hostile — test-only hostile peer for hostile.py: connects to a daemon's
 * sync ROUTER as an admitted site (its key file) and attacks it with what a
 * buggy or malicious peer could send. The daemon must stay up, keep serving
 * the connection's next session, and answer each attack the way the
 * protocol says (an Error, a dropped frame or a closed connection, never a
 * crash). hostile.py checks the daemon afterwards (status, replication,
 * clean exit under ASan).
 *
 *   el_hostile KEYFILE SERVER_KEY ENDPOINT NETWORK_KEY SCENARIO [N]
 * Scenarios:
 *   before-hello  Entries, Credit, Error and a 3-part message before any Hello,
 *                 then a Hello: the daemon must answer it with its own
 *   garbage       after a session starts: N (default 300) random frames
 *                 (random sizes, random first byte), each followed by nothing;
 *                 then a Hello must still be answered
 *   heads         a Hello with EL_SYNC_HELLO_HEADS_MAX + 1 heads, then one of a
 *                 million empty heads: each refused with an Error; then one
 *                 with EL_SYNC_HELLO_HEADS_MAX heads (origins half random, half
 *                 the network's, random seqs and hashes), three times: served
 *   limits        Credit of UINT64_MAX five times; an Entries frame of 4097
 *                 entries (over EL_BATCH_MAX): an Error is expected; then a
 *                 new session and 8 frames of 4096 junk entries at once: each
 *                 must be credited back (its entries refused one by one)
 *   malformed     N rounds (default 20) of six malformed frames, each after a
 *                 Hello the daemon answered: Entries frames whose outer or inner
 *                 length prefix declares more bytes than the frame holds, one cut
 *                 in half, an unterminated varint, a length of 2^32 (each must be
 *                 answered with an Error), and a Hello cut in half (dropped); prints
 *                 {"malformed_frames":6N,"errors":5N} for hostile.py, which checks
 *                 that the daemon's status counts them by reason, for this peer
 *                 and in total, and that its log does not say so once per frame
 *   oversize      after a Hello, a frame over EL_FRAME_MAX: libzmq (ZMQ_MAXMSGSIZE)
 *                 closes the connection, which libzmq 4.3 reports only as a
 *                 disconnect (hostile.py checks the disconnects counted); a new
 *                 connection's Hello must then be answered
 *   flood         N (default 1100, more than EL_NODE_LINKS_MAX) connections
 *                 at once, each sending a Hello, held 5 s, then closed; a new
 *                 connection must then be served (its Hello answered)
 *   flood-junk    the same with N = 1500, each sending a junk frame instead (no
 *                 session, but a link each: the table fills up)
 *   join          ENDPOINT is the broker's join endpoint and N an invite token:
 *                 a stranger (fresh key) sends junk frames, a 3-part message, a
 *                 malformed JoinRequest and a well-signed one for an unknown
 *                 invite — none may be answered — then a frame over
 *                 EL_JOIN_FRAME_MAX; then KEYFILE's site redeems the token and
 *                 must be admitted (the attack stays under the per-address
 *                 limit of EL_JOIN_REDEEMS_PER_MIN)
 * Exit 0 when the scenario ran and every expected answer came, 1 otherwise. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "el_entry.h"
#include "el_join_call.h"
#include "el_join.h"
#include "el_sync.h"

#define S_WAIT_MS 30000

static el_keypair_t *s_kp;
static uint8_t s_server[EL_KEY_BYTES], s_network[EL_KEY_BYTES];
static char s_pub[EL_Z85_BYTES], s_sec[EL_Z85_BYTES], s_srv[EL_Z85_BYTES];
static const char *s_endpoint;

static void *
s_connect (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    if (!s)
        return NULL;
    int timeout = S_WAIT_MS, zero = 0;
    int64_t max = 3 * (int64_t) EL_FRAME_MAX;
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, s_srv, 40);
    zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, s_pub, 40);
    zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, s_sec, 40);
    if (zmq_connect (s, s_endpoint) != 0) {
        zmq_close (s);
        return NULL;
    }
    return s;
}

static int
s_send_msg (void *s, const El__Msg *m)
{
    size_t len = el__msg__get_packed_size (m);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -1;
    el__msg__pack (m, buf);
    int rc = zmq_send (s, buf, len, 0);
    free (buf);
    return rc < 0 ? -1 : 0;
}

static int
s_send_hello (void *s, uint64_t credit, El__Head **heads, size_t n_heads)
{
    El__Hello h = EL__HELLO__INIT;
    h.version = EL_PROTOCOL_VERSION;
    h.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, s_kp->pk };
    h.network = (ProtobufCBinaryData) { EL_KEY_BYTES, s_network };
    h.credit = credit;
    h.heads = heads;
    h.n_heads = n_heads;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    return s_send_msg (s, &m);
}

/* Wait for a frame of kind @p want (Entries and Credit are skipped unless
 * wanted). @return 0 got it, -1 timeout or another Error than wanted. */
static int
s_expect_ex (void *s, El__Msg__MCase want, const char *what, bool errors_ok)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, s, 0) < 0) {
            zmq_msg_close (&m);
            fprintf (stderr, "el_hostile: no %s from the daemon (%s)\n", what,
                     zmq_strerror (errno));
            return -1;
        }
        El__Msg *msg = zmq_msg_size (&m)
                           ? el__msg__unpack (&el_pb_allocator, zmq_msg_size (&m),
                                              zmq_msg_data (&m))
                           : NULL;
        zmq_msg_close (&m);
        if (!msg)
            continue;                   /* keepalive */
        El__Msg__MCase c = msg->m_case;
        el__msg__free_unpacked (msg, &el_pb_allocator);
        if (c == want)
            return 0;
        if (c == EL__MSG__M_ERROR && want != EL__MSG__M_ERROR && !errors_ok) {
            fprintf (stderr, "el_hostile: an Error instead of the %s\n", what);
            return -1;
        }
    }
}

static int
s_expect (void *s, El__Msg__MCase want, const char *what)
{
    return s_expect_ex (s, want, what, false);
}

static uint64_t
s_rand64 (void)
{
    uint64_t v;
    randombytes_buf (&v, sizeof v);
    return v;
}

/* ------------------------------------------------------------ scenarios */

static int
s_before_hello (void *ctx)
{
    void *s = s_connect (ctx);
    if (!s)
        return -1;
    uint8_t junk[64];
    randombytes_buf (junk, sizeof junk);
    ProtobufCBinaryData one = { sizeof junk, junk };
    El__Entries es = EL__ENTRIES__INIT;
    es.entries = &one;
    es.n_entries = 1;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    int rc = s_send_msg (s, &m);
    El__Credit c = EL__CREDIT__INIT;
    c.entries = UINT64_MAX;
    m.m_case = EL__MSG__M_CREDIT;
    m.credit = &c;
    rc |= s_send_msg (s, &m);
    El__Error e = EL__ERROR__INIT;
    e.code = EL__ERROR_CODE__ERROR_PROTOCOL;
    e.text = (char *) "before hello";
    m.m_case = EL__MSG__M_ERROR;
    m.error = &e;
    rc |= s_send_msg (s, &m);
    /* a three-part message: the daemon takes one frame per message */
    rc |= zmq_send (s, junk, 10, ZMQ_SNDMORE) < 0;
    rc |= zmq_send (s, junk, 20, ZMQ_SNDMORE) < 0;
    rc |= zmq_send (s, junk, 30, 0) < 0;
    rc |= s_send_hello (s, 64, NULL, 0);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_HELLO, "Hello after frames sent before ours");
    zmq_close (s);
    return rc;
}

static int
s_garbage (void *ctx, long n)
{
    void *s = s_connect (ctx);
    if (!s)
        return -1;
    int rc = s_send_hello (s, 64, NULL, 0);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_HELLO, "Hello");
    uint8_t *buf = malloc (70000);
    for (long i = 0; rc == 0 && i < n; i++) {
        size_t len = 1 + s_rand64 () % (i % 10 ? 512 : 65536);
        randombytes_buf (buf, len);
        if (i % 3 == 0)
            buf[0] = 0x12;              /* field 2 (entries): passes the first byte */
        if (zmq_send (s, buf, len, 0) < 0)
            rc = -1;
    }
    free (buf);
    /* a fresh session on the same connection must still be served */
    if (rc == 0)
        rc = s_send_hello (s, 64, NULL, 0);
    if (rc == 0)
        rc = s_expect_ex (s, EL__MSG__M_HELLO, "Hello after the garbage", true);
    zmq_close (s);
    return rc;
}

/* A Hello of @p n empty heads, written byte by byte (protobuf-c would not
 * pack empty sub-messages for us this cheaply): 2 bytes a head. */
static int
s_send_empty_heads (void *s, size_t n)
{
    size_t body = 2 + 2 + EL_KEY_BYTES + 2 + EL_KEY_BYTES + 2 * n;
    uint8_t *buf = malloc (16 + body);
    if (!buf)
        return -1;
    uint8_t *p = buf;
    *p++ = 0x0a;                                /* Msg.hello */
    for (size_t v = body; ; v >>= 7) {          /* its length */
        *p++ = (uint8_t) (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        if (v <= 0x7f)
            break;
    }
    *p++ = 0x08;                                /* Hello.version */
    *p++ = EL_PROTOCOL_VERSION;
    *p++ = 0x12;                                /* Hello.sender */
    *p++ = EL_KEY_BYTES;
    memcpy (p, s_kp->pk, EL_KEY_BYTES);
    p += EL_KEY_BYTES;
    *p++ = 0x1a;                                /* Hello.network */
    *p++ = EL_KEY_BYTES;
    memcpy (p, s_network, EL_KEY_BYTES);
    p += EL_KEY_BYTES;
    for (size_t i = 0; i < n; i++) {            /* Hello.heads, empty */
        *p++ = 0x2a;
        *p++ = 0;
    }
    int rc = zmq_send (s, buf, (size_t) (p - buf), 0) < 0 ? -1 : 0;
    free (buf);
    return rc;
}

static int
s_heads (void *ctx)
{
    enum { N = EL_SYNC_HELLO_HEADS_MAX + 1 };
    El__Head *heads = calloc (N, sizeof *heads);
    El__Head **hp = calloc (N, sizeof *hp);
    uint8_t (*bufs)[EL_KEY_BYTES + EL_HASH_BYTES] = calloc (N, sizeof *bufs);
    void *s = s_connect (ctx);
    int rc = heads && hp && bufs && s ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < N; i++) {
        el__head__init (&heads[i]);
        hp[i] = &heads[i];
        randombytes_buf (bufs[i], sizeof bufs[i]);
        if (i % 2)
            memcpy (bufs[i], s_network, EL_KEY_BYTES);
        heads[i].origin = (ProtobufCBinaryData) { EL_KEY_BYTES, bufs[i] };
        heads[i].hash = (ProtobufCBinaryData) { EL_HASH_BYTES, bufs[i] + EL_KEY_BYTES };
        heads[i].seq = i % 4 ? 1 + s_rand64 () % 8 : s_rand64 ();
    }
    /* over the limit: refused with an Error before anything is unpacked */
    if (rc == 0)
        rc = s_send_hello (s, 64, hp, N);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_ERROR, "Error for a Hello over EL_SYNC_HELLO_HEADS_MAX");
    if (rc == 0)
        rc = s_send_empty_heads (s, 1000000);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_ERROR, "Error for a Hello of a million empty heads");
    /* at the limit: served, three times over */
    for (int round = 0; rc == 0 && round < 3; round++) {
        rc = s_send_hello (s, 64, hp, N - 1);
        if (rc == 0)
            rc = s_expect (s, EL__MSG__M_HELLO, "Hello after one with EL_SYNC_HELLO_HEADS_MAX heads");
    }
    if (s)
        zmq_close (s);
    free (bufs);
    free (hp);
    free (heads);
    return rc;
}

static int
s_limits (void *ctx)
{
    void *s = s_connect (ctx);
    if (!s)
        return -1;
    int rc = s_send_hello (s, 64, NULL, 0);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_HELLO, "Hello");
    El__Credit c = EL__CREDIT__INIT;
    c.entries = UINT64_MAX;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_CREDIT;
    m.credit = &c;
    for (int i = 0; rc == 0 && i < 5; i++)
        rc = s_send_msg (s, &m);
    /* 4097 one-byte entries: over EL_BATCH_MAX */
    enum { N = EL_BATCH_MAX + 1 };
    static ProtobufCBinaryData items[N];
    static uint8_t byte = 0x0a;
    for (size_t i = 0; i < N; i++)
        items[i] = (ProtobufCBinaryData) { 1, &byte };
    El__Entries es = EL__ENTRIES__INIT;
    es.entries = items;
    es.n_entries = N;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    if (rc == 0)
        rc = s_send_msg (s, &m);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_ERROR, "Error for 4097 entries in one frame");
    /* a new session; then 8 full frames of junk entries, sent without
     * waiting: each is refused entry by entry and credited back */
    if (rc == 0)
        rc = s_send_hello (s, 64, NULL, 0);
    if (rc == 0)
        rc = s_expect (s, EL__MSG__M_HELLO, "Hello of the second session");
    es.n_entries = EL_BATCH_MAX;
    for (int i = 0; rc == 0 && i < 8; i++)
        rc = s_send_msg (s, &m);
    for (int i = 0; rc == 0 && i < 8; i++)
        rc = s_expect (s, EL__MSG__M_CREDIT, "Credit for a frame of junk entries");
    zmq_close (s);
    return rc;
}

/* Send a Hello on @p s and wait for the daemon's (an Error still in flight is
 * skipped). */
static int
s_new_session (void *s)
{
    int rc = s_send_hello (s, 64, NULL, 0);
    return rc == 0 ? s_expect_ex (s, EL__MSG__M_HELLO, "Hello", true) : rc;
}

static int
s_malformed (void *ctx, long rounds)
{
    void *s = s_connect (ctx);
    if (!s)
        return -1;
    /* Msg.entries (field 2): length 100, 4 bytes held */
    static const uint8_t outer_lies[] = { 0x12, 100, 0x0a, 0x02, 'a', 'b' };
    /* one Entries.entry (field 1) of 80 bytes, 2 held */
    static const uint8_t inner_lies[] = { 0x12, 0x04, 0x0a, 0x50, 'a', 'b' };
    /* an unterminated varint where the length goes */
    static const uint8_t varint[] = { 0x12, 0xff, 0xff, 0xff };
    /* a length of 2^32 */
    static const uint8_t huge[] = { 0x12, 0x80, 0x80, 0x80, 0x80, 0x10, 0x0a, 0x00 };
    /* a whole Entries frame of one 64-byte entry, cut in half */
    uint8_t whole[2 + 2 + 64] = { 0x12, 66, 0x0a, 64 };
    randombytes_buf (whole + 4, 64);
    /* a Hello cut in half */
    El__Hello h = EL__HELLO__INIT;
    h.version = EL_PROTOCOL_VERSION;
    h.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, s_kp->pk };
    h.network = (ProtobufCBinaryData) { EL_KEY_BYTES, s_network };
    h.credit = 64;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    uint8_t hello[256];
    size_t hello_len = el__msg__get_packed_size (&m);
    if (hello_len > sizeof hello) {
        zmq_close (s);
        return -1;
    }
    el__msg__pack (&m, hello);
    const struct {
        const uint8_t *data;
        size_t len;
        bool error;                     /* an Error is expected */
    } frames[] = {
        { outer_lies, sizeof outer_lies, true },
        { inner_lies, sizeof inner_lies, true },
        { whole, sizeof whole / 2, true },
        { varint, sizeof varint, true },
        { huge, sizeof huge, true },
        { hello, hello_len / 2, false },
    };
    const size_t n = sizeof frames / sizeof *frames;
    int rc = 0;
    long sent = 0, errors = 0;
    for (long r = 0; rc == 0 && r < rounds; r++)
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = s_new_session (s);
            if (rc == 0)
                rc = zmq_send (s, frames[i].data, frames[i].len, 0) < 0 ? -1 : 0;
            sent += rc == 0;
            if (rc == 0 && frames[i].error) {
                rc = s_expect (s, EL__MSG__M_ERROR, "Error for a malformed frame");
                errors += rc == 0;
            }
        }
    if (rc == 0)                        /* still served */
        rc = s_new_session (s);
    zmq_close (s);
    printf ("{\"malformed_frames\":%ld,\"errors\":%ld}\n", sent, errors);
    return rc;
}

/* A frame over EL_FRAME_MAX after a session started: libzmq (ZMQ_MAXMSGSIZE)
 * closes the connection; a new connection must be served. */
static int
s_oversize (void *ctx)
{
    void *s = s_connect (ctx);
    if (!s)
        return -1;
    int rc = s_new_session (s);
    size_t len = (size_t) EL_FRAME_MAX + 4096;
    uint8_t *big = rc == 0 ? calloc (1, len) : NULL;
    if (big) {
        big[0] = 0x12;
        rc = zmq_send (s, big, len, 0) < 0 ? -1 : 0;
    }
    free (big);
    sleep (1);
    zmq_close (s);
    s = rc == 0 ? s_connect (ctx) : NULL;
    if (s) {
        rc = s_new_session (s);
        zmq_close (s);
    }
    return rc;
}

static int
s_flood (void *ctx, long n, bool junk)
{
    void **socks = calloc ((size_t) n, sizeof *socks);
    if (!socks)
        return -1;
    int rc = 0;
    long opened = 0;
    for (long i = 0; i < n; i++) {
        socks[i] = s_connect (ctx);
        if (!socks[i]) {
            fprintf (stderr, "el_hostile: socket %ld: %s\n", i, zmq_strerror (errno));
            rc = -1;
            break;
        }
        opened++;
        int hwm_timeout = 0;
        zmq_setsockopt (socks[i], ZMQ_SNDTIMEO, &hwm_timeout, sizeof hwm_timeout);
        /* queued until connected */
        if (junk)
            (void) zmq_send (socks[i], "\x12\x00", 2, 0);
        else
            (void) s_send_hello (socks[i], 64, NULL, 0);
    }
    sleep (5);
    for (long i = 0; i < opened; i++)
        zmq_close (socks[i]);
    free (socks);
    printf ("{\"flood_connections\":%ld}\n", opened);
    /* the daemon must serve a new connection once the flood is gone (its idle
     * probes free the links of closed connections) */
    void *s = rc == 0 ? s_connect (ctx) : NULL;
    if (rc == 0 && !s)
        rc = -1;
    for (int attempt = 0; rc == 0 && attempt < 3; attempt++) {
        rc = s_send_hello (s, 64, NULL, 0);
        if (rc == 0)
            rc = s_expect_ex (s, EL__MSG__M_HELLO, "Hello after the flood", true);
        if (rc == 0)
            break;
        if (attempt < 2)
            rc = 0;
    }
    if (s)
        zmq_close (s);
    return rc;
}

static int
s_join_request (void *s, const el_keypair_t *kp, const uint8_t secret[EL_INVITE_SECRET_BYTES],
                size_t secret_len)
{
    uint8_t sig[EL_SIG_BYTES];
    el_token_join_sign (kp, s_server, secret, sig);
    El__JoinRequest jr = EL__JOIN_REQUEST__INIT;
    jr.version = 1;
    jr.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, (uint8_t *) kp->pk };
    jr.secret = (ProtobufCBinaryData) { secret_len, (uint8_t *) secret };
    jr.sig = (ProtobufCBinaryData) { EL_SIG_BYTES, sig };
    uint8_t buf[512];
    size_t len = el__join_request__get_packed_size (&jr);
    if (len > sizeof buf)
        return -1;
    el__join_request__pack (&jr, buf);
    return zmq_send (s, buf, len, 0) < 0 ? -1 : 0;
}

static int
s_join (void *ctx, const char *token_text)
{
    El__InviteToken *token = NULL;
    if (el_token_decode (token_text, &token) < 0) {
        fprintf (stderr, "el_hostile: not an invite token\n");
        return -1;
    }
    el_keypair_t *stranger = NULL;
    int rc = el_keypair_generate (&stranger);
    void *s = NULL;
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES];
    if (rc == 0)
        rc = el_keypair_curve_z85 (stranger, pub, sec);
    if (rc == 0) {
        s = zmq_socket (ctx, ZMQ_DEALER);
        int timeout = 3000, zero = 0;
        zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, s_srv, 40);
        zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40);
        rc = zmq_connect (s, s_endpoint) == 0 ? 0 : -1;
    }
    uint8_t junk[600];
    for (int i = 0; rc == 0 && i < 3; i++) {
        randombytes_buf (junk, sizeof junk);
        rc = zmq_send (s, junk, 1 + s_rand64 () % sizeof junk, 0) < 0 ? -1 : 0;
    }
    if (rc == 0)    /* dropped before it counts */
        rc = zmq_send (s, junk, 5, ZMQ_SNDMORE) < 0 || zmq_send (s, junk, 5, 0) < 0 ? -1 : 0;
    uint8_t secret[EL_INVITE_SECRET_BYTES];
    randombytes_buf (secret, sizeof secret);
    if (rc == 0)
        rc = s_join_request (s, stranger, secret, 7);                 /* bad size */
    if (rc == 0)
        rc = s_join_request (s, stranger, secret, sizeof secret);     /* unknown invite */
    if (rc == 0) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, s, 0) >= 0) {
            fprintf (stderr, "el_hostile: the join endpoint answered a stranger (%zu bytes)\n",
                     zmq_msg_size (&m));
            rc = -1;
        }
        zmq_msg_close (&m);
    }
    if (rc == 0) {      /* over EL_JOIN_FRAME_MAX: dropped, or the connection closed */
        uint8_t *big = calloc (1, 4 * EL_JOIN_FRAME_MAX);
        rc = big && zmq_send (s, big, 4 * EL_JOIN_FRAME_MAX, 0) >= 0 ? 0 : -1;
        free (big);
    }
    if (s)
        zmq_close (s);
    el_keypair_destroy (&stranger);
    /* the rightful holder still joins */
    El__JoinReply *reply = NULL;
    if (rc == 0 && el_join_call (ctx, token, s_kp, "after the attack", NULL, S_WAIT_MS,
                                    &reply) < 0) {
        fprintf (stderr, "el_hostile: the invite's holder got no answer after the attack\n");
        rc = -1;
    }
    if (reply && reply->code != 0) {
        fprintf (stderr, "el_hostile: join refused after the attack: %s\n",
                 reply->text ? reply->text : "");
        rc = -1;
    }
    if (reply)
        el__join_reply__free_unpacked (reply, &el_pb_allocator);
    el__invite_token__free_unpacked (token, &el_pb_allocator);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf (stderr, "usage: el_hostile KEYFILE SERVER_KEY ENDPOINT NETWORK_KEY SCENARIO [N]\n");
        return 2;
    }
    if (el_crypto_init () != 0)
        return 1;
    if (el_keypair_load (argv[1], &s_kp) < 0 || el_key_resolve (argv[2], s_server) < 0
        || el_key_resolve (argv[4], s_network) < 0
        || el_keypair_curve_z85 (s_kp, s_pub, s_sec) < 0 || el_key_curve_z85 (s_server, s_srv) < 0) {
        fprintf (stderr, "el_hostile: bad key arguments\n");
        return 2;
    }
    s_endpoint = argv[3];
    const char *scenario = argv[5];
    long n = argc == 7 && strcmp (argv[5], "join") ? strtol (argv[6], NULL, 10) : 0;
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 8192);
    int rc;
    if (!strcmp (scenario, "before-hello"))
        rc = s_before_hello (ctx);
    else if (!strcmp (scenario, "garbage"))
        rc = s_garbage (ctx, n ? n : 300);
    else if (!strcmp (scenario, "heads"))
        rc = s_heads (ctx);
    else if (!strcmp (scenario, "limits"))
        rc = s_limits (ctx);
    else if (!strcmp (scenario, "oversize"))
        rc = s_oversize (ctx);
    else if (!strcmp (scenario, "malformed"))
        rc = s_malformed (ctx, n ? n : 20);
    else if (!strcmp (scenario, "flood"))
        rc = s_flood (ctx, n ? n : 1100, false);
    else if (!strcmp (scenario, "join") && argc == 7)
        rc = s_join (ctx, argv[6]);
    else if (!strcmp (scenario, "flood-junk"))
        rc = s_flood (ctx, n ? n : 1500, true);
    else {
        fprintf (stderr, "el_hostile: unknown scenario %s\n", scenario);
        rc = -2;
    }
    zmq_ctx_term (ctx);
    el_keypair_destroy (&s_kp);
    if (rc == 0)
        printf ("{\"scenario\":\"%s\",\"result\":\"ok\"}\n", scenario);
    return rc == 0 ? 0 : rc == -2 ? 2 : 1;
}
