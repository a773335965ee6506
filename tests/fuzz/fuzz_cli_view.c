/* fuzz_cli_view.c — libFuzzer target for what the `entrelab` command line
 * shows of records other sites wrote: a hostile (but admitted) site can put
 * any bytes that decode as its record type into an Event, Equipment, Member,
 * BookingRequest, Booking or Site payload, with any key; the daemon stores
 * and lists them, and the CLI renders them (tables, JSON, recurrence
 * expansion, iCalendar export).
 *
 * A fake daemon (a ROUTER on an ipc:// socket, in a thread) answers the
 * CLI's Status, List and Get requests with the records built from the input;
 * the real read-only commands run in-process against it: event list (now
 * and over all time), event show, event export, equipment list/show,
 * bookings list (also filtered), member list, sites, status; in table or
 * JSON form.
 * Standard output goes to /dev/null.
 *
 * Input: u8 flags (1: --json), then up to S_RECORDS_MAX records:
 *   u8 kind (1..6; 0 and others modulo 7 too), u8 origin (< 0x80: one of the fixed keys; else 32 bytes
 *   follow), key (u16 len + bytes), u64 seq, u64 time_us, payload (u16 len
 *   + bytes). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_cli.h"
#include "el_control.h"
#include "el_control_call.h"
#include "fuzz_util.h"

#define S_RECORDS_MAX 24

typedef struct {
    El__RecordView v;
    uint8_t origin[EL_KEY_BYTES], network[EL_KEY_BYTES], hash[EL_HASH_BYTES];
    char key[FZ_KEY_MAX + 1];
    uint8_t payload[FZ_PAYLOAD_MAX];
} s_record_t;

static s_record_t s_records[S_RECORDS_MAX];
static size_t s_n_records;
static char s_endpoint[400];
static void *s_ctx;
static pthread_t s_thread;
static bool s_started;

/* ------------------------------------------------------------ the fake daemon */

/* Does a live "federation:" Site record of the broker name @p network (a
 * network ours federates with, whose directory its own broker attests)? */
static bool
s_federated (const uint8_t network[EL_KEY_BYTES])
{
    bool found = false;
    for (size_t i = 0; i < s_n_records && !found; i++) {
        const s_record_t *r = &s_records[i];
        if (r->v.kind != EL__KIND__SITE || memcmp (r->origin, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES)
            || strncmp (r->key, "federation:", 11) != 0)
            continue;
        El__Site *site = el__site__unpack (NULL, r->v.payload.len, r->v.payload.data);
        found = site && site->status != EL__SITE_STATUS__REVOKED
                && site->site_key.len == EL_KEY_BYTES
                && !memcmp (site->site_key.data, network, EL_KEY_BYTES);
        el__site__free_unpacked (site, NULL);
    }
    return found;
}

static void
s_answer (const El__ControlRequest *req, El__ControlReply *reply, El__RecordView **views,
          El__ListReply *lr, El__GetReply *gr, El__StatusReply *st)
{
    reply->id = req->id;
    switch (req->r_case) {
    case EL__CONTROL_REQUEST__R_STATUS:
        st->self_id = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_S]->pk };
        st->network = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_BROKER]->pk };
        st->role = (char *) "node";
        st->admitted = true;
        reply->r_case = EL__CONTROL_REPLY__R_STATUS;
        reply->status = st;
        break;
    case EL__CONTROL_REQUEST__R_LIST: {
        /* the directory is what the broker attested, or a network it attests as
         * federated attested in turn, never what any site wrote */
        if (req->list->kind == EL__KIND__SITE)
            FZ_CHECK (req->list->origin.len == EL_KEY_BYTES
                      && (!memcmp (req->list->origin.data, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES)
                          || s_federated (req->list->origin.data)));
        size_t n = 0;
        for (size_t i = 0; i < s_n_records; i++)
            if (s_records[i].v.kind == req->list->kind
                && (!req->list->origin.len
                    || !memcmp (req->list->origin.data, s_records[i].origin, EL_KEY_BYTES)))
                views[n++] = &s_records[i].v;
        lr->records = views;
        lr->n_records = n;
        reply->r_case = EL__CONTROL_REPLY__R_LIST;
        reply->list = lr;
        break;
    }
    case EL__CONTROL_REQUEST__R_GET:
        for (size_t i = 0; i < s_n_records; i++)
            if (s_records[i].v.kind == req->get->kind && !strcmp (s_records[i].key, req->get->key)
                && (!req->get->origin.len
                    || !memcmp (req->get->origin.data, s_records[i].origin, EL_KEY_BYTES))) {
                gr->record = &s_records[i].v;
                reply->r_case = EL__CONTROL_REPLY__R_GET;
                reply->get = gr;
                return;
            }
        reply->code = EL_ENOTFOUND;
        reply->text = (char *) "not found";
        break;
    default:
        reply->code = EL_EINVAL;
        reply->text = (char *) "not in this fake daemon";
        break;
    }
}

static void *
s_daemon (void *arg)
{
    void *router = arg;
    for (;;) {
        zmq_msg_t route, delim, body;
        zmq_msg_init (&route);
        zmq_msg_init (&delim);
        zmq_msg_init (&body);
        int rc;
        while ((rc = zmq_msg_recv (&route, router, 0)) < 0 && errno == EINTR)
            ;                           /* libFuzzer's SIGALRM */
        if (rc < 0 || zmq_msg_recv (&delim, router, 0) < 0
            || zmq_msg_recv (&body, router, 0) < 0) {
            zmq_msg_close (&route);
            zmq_msg_close (&delim);
            zmq_msg_close (&body);
            break;                      /* context terminated */
        }
        El__ControlRequest *req = el__control_request__unpack (
            &el_pb_allocator, zmq_msg_size (&body), zmq_msg_data (&body));
        FZ_CHECK (req);                 /* the CLI sends well-formed requests */
        El__ControlReply reply = EL__CONTROL_REPLY__INIT;
        El__RecordView *views[S_RECORDS_MAX];
        El__ListReply lr = EL__LIST_REPLY__INIT;
        El__GetReply gr = EL__GET_REPLY__INIT;
        El__StatusReply st = EL__STATUS_REPLY__INIT;
        s_answer (req, &reply, views, &lr, &gr, &st);
        size_t len;
        uint8_t *buf = fz_pack (&reply.base, &len);
        zmq_msg_send (&route, router, ZMQ_SNDMORE);
        zmq_send (router, "", 0, ZMQ_SNDMORE);
        zmq_send (router, buf, len, 0);
        free (buf);
        el__control_request__free_unpacked (req, &el_pb_allocator);
        zmq_msg_close (&route);
        zmq_msg_close (&delim);
        zmq_msg_close (&body);
    }
    zmq_close (router);
    return NULL;
}

static void
s_stop (void)
{
    if (!s_started)
        return;
    zmq_ctx_shutdown (s_ctx);
    pthread_join (s_thread, NULL);
    zmq_ctx_term (s_ctx);
}

static void
s_start (void)
{
    fz_keys_init ();
    fz_dir_init ();
    if (!getenv ("FUZZ_VERBOSE"))
        FZ_CHECK (freopen ("/dev/null", "w", stdout));
    snprintf (s_endpoint, sizeof s_endpoint, "ipc://%s/control.sock", fz_dir);
    s_ctx = zmq_ctx_new ();
    FZ_CHECK (s_ctx);
    void *router = zmq_socket (s_ctx, ZMQ_ROUTER);
    FZ_CHECK (router && zmq_bind (router, s_endpoint) == 0);
    FZ_CHECK (pthread_create (&s_thread, NULL, s_daemon, router) == 0);
    s_started = true;
    atexit (s_stop);
}

/* ------------------------------------------------------------ the commands */

static const el_cli_cmd_t *const s_tables[] = {
    el_cli_site_cmds, el_cli_event_cmds, el_cli_event_import_cmds, el_cli_equipment_cmds,
    el_cli_booking_cmds, el_cli_member_cmds,
};

static const el_cli_cmd_t *
s_find (const char *words)
{
    for (size_t t = 0; t < sizeof s_tables / sizeof *s_tables; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++)
            if (!strcmp (c->words, words))
                return c;
    FZ_CHECK (!"command not found");
    return NULL;
}

static void
s_run (bool json, const char *words, int argc, char **argv)
{
    el_cli_t cli;
    memset (&cli, 0, sizeof cli);
    cli.program = "entrelab";
    cli.node = s_endpoint;
    cli.json = json;
    cli.timeout_ms = 20000;
    cli.now_us = FZ_T0;
    cli.zctx = s_ctx;
    const el_cli_cmd_t *cmd = s_find (words);
    el_cli_args_t args;
    if (el_cli_parse (&cli, cmd, argc, argv, &args) == 0) {
        int rc = cmd->fn (&cli, &args);
        /* a daemon that answers is never "unreachable" */
        FZ_CHECK (rc != -ETIMEDOUT && rc != -ECONNREFUSED);
        /* (-EINTR: libFuzzer's SIGALRM cut a wait; not the CLI's fault) */
        FZ_CHECK (rc == 0 || cli.err[0]);
    }
    if (cli.sites)
        json_decref (cli.sites);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_started)
        s_start ();
    fz_t in = { data, size };
    bool json = fz_u8 (&in) & 1;
    s_n_records = 0;
    const char *first_key[8] = { 0 };
    while (in.n && s_n_records < S_RECORDS_MAX) {
        s_record_t *r = &s_records[s_n_records];
        el__record_view__init (&r->v);
        uint8_t k = fz_u8 (&in) % 7;
        r->v.kind = k ? (El__Kind) k : EL__KIND__EVENT;
        uint8_t o = fz_u8 (&in);
        if (o < 0x80)
            memcpy (r->origin, fz_keys[o % FZ_SIGNERS]->pk, EL_KEY_BYTES);
        else
            for (int i = 0; i < EL_KEY_BYTES; i++)
                r->origin[i] = fz_u8 (&in);
        memcpy (r->network, fz_keys[FZ_BROKER]->pk, EL_KEY_BYTES);
        memset (r->hash, (int) s_n_records, EL_HASH_BYTES);
        fz_text (&in, FZ_KEY_MAX, r->key);
        r->v.seq = fz_u64 (&in);
        r->v.time_us = (int64_t) fz_u64 (&in);
        size_t len;
        const uint8_t *p = fz_bytes (&in, FZ_PAYLOAD_MAX, &len);
        memcpy (r->payload, p, len);
        r->v.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, r->origin };
        r->v.network = (ProtobufCBinaryData) { EL_KEY_BYTES, r->network };
        r->v.hash = (ProtobufCBinaryData) { EL_HASH_BYTES, r->hash };
        r->v.payload = (ProtobufCBinaryData) { len, r->payload };
        r->v.key = r->key;
        if (!first_key[r->v.kind])
            first_key[r->v.kind] = r->key;
        s_n_records++;
    }
    char *none[] = { NULL };
    char *all[] = { (char *) "--all", NULL };
    char *wide[] = { (char *) "--from", (char *) "1970-01-02T00:00:00Z", (char *) "--to",
                     (char *) "2100-01-01T00:00:00Z", NULL };
    s_run (json, "event list", 0, none);
    s_run (json, "event list", 1, all);
    s_run (json, "event list", 4, wide);
    s_run (json, "event export", 0, none);
    s_run (json, "equipment list", 0, none);
    s_run (json, "bookings list", 0, none);
    char *filter[] = { (char *) "--equipment", (char *) "laser-1", (char *) "--status",
                       (char *) "pending", NULL };
    s_run (json, "bookings list", 4, filter);
    s_run (json, "member list", 0, none);
    s_run (json, "sites", 0, none);
    s_run (json, "status", 0, none);
    char *show[] = { NULL, NULL };
    if (first_key[EL__KIND__EVENT] && first_key[EL__KIND__EVENT][0]) {
        show[0] = (char *) first_key[EL__KIND__EVENT];
        s_run (json, "event show", 1, show);
    }
    if (first_key[EL__KIND__EQUIPMENT] && first_key[EL__KIND__EQUIPMENT][0]) {
        show[0] = (char *) first_key[EL__KIND__EQUIPMENT];
        s_run (json, "equipment show", 1, show);
    }
    return 0;
}
