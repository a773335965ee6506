/* el_testctl — test-only client of the daemons' control API, below the
 * `entrelab` CLI and without its checks. Prints JSON on stdout, one document
 * per call.
 *
 *   el_testctl keygen PATH                          new key file (+ PATH.pub), prints the id
 *   el_testctl ENDPOINT status                      status as JSON
 *   el_testctl ENDPOINT heads                       heads as JSON
 *   el_testctl ENDPOINT write KIND PREFIX COUNT [BATCH]
 *                                                   COUNT records PREFIX-000000.. (Event
 *                                                   payloads for kind event), BATCH per request
 *   el_testctl ENDPOINT get KIND ORIGIN KEY         one record as JSON (exit 3 when absent)
 *   el_testctl ENDPOINT count KIND                  number of live records of KIND
 *   el_testctl ENDPOINT window KIND FROM_US TO_US PAGE [CURSOR_HEX]
 *                                                   window listing (ListRequest.window) by
 *                                                   pages of PAGE from CURSOR_HEX (raw
 *                                                   after_time): {"keys":[...],"pages":n}
 *   el_testctl ENDPOINT admit KEY NAME | revoke KEY
 *   el_testctl ENDPOINT book KEY OWNER EQUIPMENT START_US END_US [MEMBER [TRAINING...]]
 *                                                   one BookingRequest record KEY, as the
 *                                                   CLI writes it, without the CLI's checks
 *                                                   (a slot already over, say)
 * Exit: 0 ok, 1 error reply or failure (reason on stderr), 2 usage, 3 not found. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_control_call.h"
#include "el_entry.h"

#define S_TIMEOUT_MS 20000

static void
s_key (const ProtobufCBinaryData *b, char out[EL_KEY_TEXT_BYTES])
{
    if (b->len == EL_KEY_BYTES)
        el_key_to_text (b->data, out);
    else
        snprintf (out, EL_KEY_TEXT_BYTES, "%s", "");
}

static void
s_hex (const ProtobufCBinaryData *b)
{
    for (size_t i = 0; i < b->len; i++)
        printf ("%02x", b->data[i]);
}

static int
s_kind (const char *text, El__Kind *ret)
{
    static const struct { const char *n; El__Kind k; } kinds[] = {
        { "site", EL__KIND__SITE }, { "event", EL__KIND__EVENT },
        { "member", EL__KIND__MEMBER }, { "equipment", EL__KIND__EQUIPMENT },
        { "booking_request", EL__KIND__BOOKING_REQUEST }, { "booking", EL__KIND__BOOKING },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp (text, kinds[i].n)) {
            *ret = kinds[i].k;
            return 0;
        }
    return -EINVAL;
}

static int
s_call (void *ctx, const char *ep, El__ControlRequest *req, El__ControlReply **ret)
{
    int rc = el_control_call (ctx, ep, req, S_TIMEOUT_MS, ret);
    if (rc < 0) {
        fprintf (stderr, "el_testctl: %s: %s\n", ep, el_strerror (rc));
        return 1;
    }
    if ((*ret)->code != 0) {
        fprintf (stderr, "el_testctl: %s (%s)\n", (*ret)->text, el_strcode ((*ret)->code));
        int code = (*ret)->code == EL_ENOTFOUND ? 3 : 1;
        el__control_reply__free_unpacked (*ret, &el_pb_allocator);
        *ret = NULL;
        return code;
    }
    return 0;
}

/* A map<string, uint64> of the status (every one has this entry layout) as a
 * JSON object: ,"NAME":{...} */
static void
s_print_reasons (const char *name, El__SyncStatus__RejectedByReasonEntry *const *v, size_t n)
{
    printf (",\"%s\":{", name);
    for (size_t i = 0; i < n; i++)
        printf ("%s\"%s\":%" PRIu64, i ? "," : "", v[i]->key, v[i]->value);
    printf ("}");
}

static void
s_print_status (const El__StatusReply *s)
{
    char a[EL_KEY_TEXT_BYTES], b[EL_KEY_TEXT_BYTES];
    s_key (&s->self_id, a);
    s_key (&s->network, b);
    printf ("{\"self\":\"%s\",\"network\":\"%s\",\"role\":\"%s\",\"admitted\":%s,", a, b,
            s->role, s->admitted ? "true" : "false");
    const El__StoreStatus *st = s->store;
    printf ("\"store\":{\"applied\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"rejected\":%" PRIu64
            ",\"forks\":%" PRIu64 ",\"commits\":%" PRIu64 ",\"origins\":%" PRIu64
            ",\"entries\":%" PRIu64 "},",
            st->applied, st->duplicates, st->rejected, st->forks, st->commits, st->origins,
            st->entries);
    const El__SyncStatus *sy = s->sync;
    printf ("\"sync\":{\"frames_in\":%" PRIu64 ",\"frames_out\":%" PRIu64 ",\"entries_in\":%"
            PRIu64 ",\"entries_out\":%" PRIu64 ",\"applied\":%" PRIu64 ",\"duplicates\":%"
            PRIu64 ",\"rejected\":%" PRIu64 ",\"forks\":%" PRIu64 ",\"sessions_ended\":%"
            PRIu64 ",\"frames_dropped\":%" PRIu64 ",\"auth_failures\":%" PRIu64
            ",\"disconnects\":%" PRIu64 ",\"rejected_by_reason\":{",
            sy->frames_in, sy->frames_out, sy->entries_in, sy->entries_out, sy->applied,
            sy->duplicates, sy->rejected, sy->forks, sy->sessions_ended, sy->frames_dropped,
            sy->auth_failures, sy->disconnects);
    for (size_t i = 0; i < sy->n_rejected_by_reason; i++)
        printf ("%s\"%s\":%" PRIu64, i ? "," : "", sy->rejected_by_reason[i]->key,
                sy->rejected_by_reason[i]->value);
    printf ("},\"frames_refused\":%" PRIu64, sy->frames_refused);
    s_print_reasons ("frames_refused_by_reason",
                     (El__SyncStatus__RejectedByReasonEntry *const *) sy->frames_refused_by_reason,
                     sy->n_frames_refused_by_reason);
    s_print_reasons ("ended_by_reason",
                     (El__SyncStatus__RejectedByReasonEntry *const *) sy->ended_by_reason,
                     sy->n_ended_by_reason);
    printf ("},\"peers\":[");
    for (size_t i = 0; i < s->n_peers; i++) {
        const El__PeerStatus *p = s->peers[i];
        s_key (&p->key, a);
        printf ("%s{\"key\":\"%s\",\"role\":\"%s\",\"endpoint\":\"%s\",\"outbound\":%s,"
                "\"connected\":%s,\"hello_received\":%s,\"last_seen_us\":%" PRId64
                ",\"auth_failures\":%" PRIu64 ",\"disconnects\":%" PRIu64 ",\"sessions\":%"
                PRIu64 ",\"behind\":%" PRIu64 ",\"entries_sent\":%" PRIu64
                ",\"entries_received\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"frames_refused\":%" PRIu64,
                i ? "," : "", a, p->role, p->endpoint, p->outbound ? "true" : "false",
                p->connected ? "true" : "false", p->hello_received ? "true" : "false",
                p->last_seen_us, p->auth_failures, p->disconnects, p->sessions, p->behind,
                p->entries_sent, p->entries_received, p->rejected, p->frames_refused);
        s_print_reasons ("rejected_by_reason",
                         (El__SyncStatus__RejectedByReasonEntry *const *) p->rejected_by_reason,
                         p->n_rejected_by_reason);
        s_print_reasons ("frames_refused_by_reason",
                         (El__SyncStatus__RejectedByReasonEntry *const *)
                             p->frames_refused_by_reason,
                         p->n_frames_refused_by_reason);
        printf ("}");
    }
    printf ("]}\n");
}

static int
s_write (void *ctx, const char *ep, El__Kind kind, const char *prefix, long count, long batch)
{
    if (batch <= 0 || batch > 4096)
        batch = 500;
    uint64_t last = 0;
    for (long done = 0; done < count;) {
        long n = count - done < batch ? count - done : batch;
        El__RecordWrite *recs = calloc ((size_t) n, sizeof *recs);
        El__RecordWrite **ptrs = calloc ((size_t) n, sizeof *ptrs);
        char (*keys)[64] = calloc ((size_t) n, 64);
        uint8_t (*payloads)[256] = calloc ((size_t) n, 256);
        if (!recs || !ptrs || !keys || !payloads) {
            free (recs), free (ptrs), free (keys), free (payloads);
            return 1;
        }
        for (long i = 0; i < n; i++) {
            el__record_write__init (&recs[i]);
            snprintf (keys[i], 64, "%s-%06ld", prefix, done + i);
            recs[i].kind = kind;
            recs[i].key = keys[i];
            El__Event ev = EL__EVENT__INIT;
            ev.uid = keys[i];
            ev.summary = (char *) "integration test event";
            ev.dtstart_us = 1767225600000000LL + (done + i) * 3600000000LL;
            ev.dtend_us = ev.dtstart_us + 3600000000LL;
            size_t len = 0;
            if (kind == EL__KIND__EVENT) {
                len = el__event__get_packed_size (&ev);
                el__event__pack (&ev, payloads[i]);
            }
            recs[i].payload = (ProtobufCBinaryData) { len, payloads[i] };
            ptrs[i] = &recs[i];
        }
        El__WriteRequest w = EL__WRITE_REQUEST__INIT;
        w.records = ptrs;
        w.n_records = (size_t) n;
        El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
        req.id = (uint64_t) done + 1;
        req.r_case = EL__CONTROL_REQUEST__R_WRITE;
        req.write = &w;
        El__ControlReply *reply = NULL;
        int rc = s_call (ctx, ep, &req, &reply);
        free (recs), free (ptrs), free (keys), free (payloads);
        if (rc)
            return rc;
        last = reply->write ? reply->write->last_seq : 0;
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
        done += n;
    }
    printf ("{\"written\":%ld,\"last_seq\":%" PRIu64 "}\n", count, last);
    return 0;
}

static int
s_book (void *ctx, const char *ep, int argc, char **argv)
{
    uint8_t owner[EL_KEY_BYTES];
    if (el_key_resolve (argv[4], owner) < 0)
        return 2;
    El__BookingRequest r = EL__BOOKING_REQUEST__INIT;
    r.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, owner };
    r.equipment_key = argv[5];
    r.start_us = strtoll (argv[6], NULL, 10);
    r.end_us = strtoll (argv[7], NULL, 10);
    r.purpose = (char *) "";
    if (argc > 8)
        r.member = argv[8];
    if (argc > 9) {
        r.member_trainings = argv + 9;
        r.n_member_trainings = (size_t) (argc - 9);
    }
    size_t len = el__booking_request__get_packed_size (&r);
    uint8_t *payload = malloc (len ? len : 1);
    if (!payload)
        return 1;
    el__booking_request__pack (&r, payload);
    El__RecordWrite rec = EL__RECORD_WRITE__INIT, *recs[1] = { &rec };
    rec.kind = EL__KIND__BOOKING_REQUEST;
    rec.key = argv[3];
    rec.payload = (ProtobufCBinaryData) { len, payload };
    El__WriteRequest w = EL__WRITE_REQUEST__INIT;
    w.records = recs;
    w.n_records = 1;
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    req.id = 1;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &w;
    El__ControlReply *reply = NULL;
    int rc = s_call (ctx, ep, &req, &reply);
    free (payload);
    if (rc)
        return rc;
    printf ("{\"seq\":%" PRIu64 "}\n", reply->write ? reply->write->last_seq : 0);
    el__control_reply__free_unpacked (reply, &el_pb_allocator);
    return 0;
}

int
main (int argc, char **argv)
{
    if (el_crypto_init () != 0)
        return 1;
    if (argc == 3 && !strcmp (argv[1], "keygen")) {
        el_keypair_t *kp = NULL;
        int rc = el_keypair_generate (&kp);
        if (rc == 0)
            rc = el_keypair_save (kp, argv[2], false);
        if (rc < 0) {
            fprintf (stderr, "el_testctl: keygen: %s\n", el_strerror (rc));
            el_keypair_destroy (&kp);
            return 1;
        }
        char text[EL_KEY_TEXT_BYTES];
        el_key_to_text (kp->pk, text);
        printf ("%s\n", text);
        el_keypair_destroy (&kp);
        return 0;
    }
    if (argc < 3) {
        fprintf (stderr, "usage: el_testctl ENDPOINT status|heads|write|get|count|admit|revoke|book"
                         " ...\n");
        return 2;
    }
    const char *ep = argv[1];
    const char *cmd = argv[2];
    void *ctx = zmq_ctx_new ();
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    req.id = 1;
    El__ControlReply *reply = NULL;
    int rc = 2;
    if (!strcmp (cmd, "status") && argc == 3) {
        El__StatusRequest s = EL__STATUS_REQUEST__INIT;
        req.r_case = EL__CONTROL_REQUEST__R_STATUS;
        req.status = &s;
        rc = s_call (ctx, ep, &req, &reply);
        if (!rc)
            s_print_status (reply->status);
    } else if (!strcmp (cmd, "heads") && argc == 3) {
        El__HeadsRequest h = EL__HEADS_REQUEST__INIT;
        req.r_case = EL__CONTROL_REQUEST__R_HEADS;
        req.heads = &h;
        rc = s_call (ctx, ep, &req, &reply);
        if (!rc) {
            printf ("{");
            for (size_t i = 0; i < reply->heads->n_heads; i++) {
                const El__HeadView *v = reply->heads->heads[i];
                char k[EL_KEY_TEXT_BYTES];
                s_key (&v->origin, k);
                printf ("%s\"%s\":{\"seq\":%" PRIu64 ",\"status\":%u,\"hash\":\"",
                        i ? "," : "", k, v->seq, v->status);
                s_hex (&v->hash);
                printf ("\"}");
            }
            printf ("}\n");
        }
    } else if (!strcmp (cmd, "write") && (argc == 6 || argc == 7)) {
        El__Kind kind;
        if (s_kind (argv[3], &kind) == 0)
            rc = s_write (ctx, ep, kind, argv[4], atol (argv[5]), argc == 7 ? atol (argv[6]) : 500);
    } else if (!strcmp (cmd, "get") && argc == 6) {
        El__Kind kind;
        uint8_t origin[EL_KEY_BYTES];
        El__GetRequest g = EL__GET_REQUEST__INIT;
        if (s_kind (argv[3], &kind) == 0 && el_key_from_text (argv[4], origin) == 0) {
            g.kind = kind;
            g.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, origin };
            g.key = argv[5];
            req.r_case = EL__CONTROL_REQUEST__R_GET;
            req.get = &g;
            rc = s_call (ctx, ep, &req, &reply);
            if (!rc) {
                const El__RecordView *v = reply->get->record;
                printf ("{\"key\":\"%s\",\"seq\":%" PRIu64 ",\"payload_bytes\":%zu}\n", v->key,
                        v->seq, v->payload.len);
            }
        }
    } else if (!strcmp (cmd, "count") && argc == 4) {
        El__Kind kind;
        if (s_kind (argv[3], &kind) == 0) {
            El__ListRequest l = EL__LIST_REQUEST__INIT;
            uint8_t cursor[EL_KEY_BYTES];
            char key[256] = "";
            uint64_t total = 0;
            bool more = true;
            rc = 0;
            while (more && rc == 0) {
                l.kind = kind;
                l.limit = EL_CONTROL_LIST_MAX;
                l.after_key = key;
                req.r_case = EL__CONTROL_REQUEST__R_LIST;
                req.list = &l;
                rc = s_call (ctx, ep, &req, &reply);
                if (rc)
                    break;
                total += reply->list->n_records;
                more = reply->list->more && reply->list->n_records > 0;
                if (more) {
                    const El__RecordView *v = reply->list->records[reply->list->n_records - 1];
                    memcpy (cursor, v->origin.data, EL_KEY_BYTES);
                    snprintf (key, sizeof key, "%s", v->key);
                    l.after_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, cursor };
                }
                el__control_reply__free_unpacked (reply, &el_pb_allocator);
                reply = NULL;
            }
            if (!rc)
                printf ("{\"count\":%" PRIu64 "}\n", total);
        }
    } else if (!strcmp (cmd, "window") && (argc == 7 || argc == 8)) {
        El__Kind kind;
        uint8_t cursor[512];
        size_t cursor_len = 0;
        if (argc == 8) {
            const char *h = argv[7];
            for (; h[0] && h[1] && cursor_len < sizeof cursor; h += 2)
                if (sscanf (h, "%2hhx", &cursor[cursor_len++]) != 1)
                    return 2;
        }
        if (s_kind (argv[3], &kind) == 0) {
            El__ListRequest l = EL__LIST_REQUEST__INIT;
            uint64_t pages = 0;
            bool more = true, first = true;
            rc = 0;
            printf ("{\"keys\":[");
            while (more && rc == 0) {
                l.kind = kind;
                l.limit = (uint32_t) atol (argv[6]);
                l.window = true;
                l.from_us = atoll (argv[4]);
                l.to_us = atoll (argv[5]);
                l.after_time = (ProtobufCBinaryData) { cursor_len, cursor };
                req.r_case = EL__CONTROL_REQUEST__R_LIST;
                req.list = &l;
                rc = s_call (ctx, ep, &req, &reply);
                if (rc)
                    break;
                pages++;
                for (size_t i = 0; i < reply->list->n_records; i++, first = false)
                    printf ("%s\"%s\"", first ? "" : ",", reply->list->records[i]->key);
                more = reply->list->more && reply->list->n_records > 0;
                if (more) {
                    cursor_len = reply->list->next.len < sizeof cursor ? reply->list->next.len
                                                                       : 0;
                    memcpy (cursor, reply->list->next.data, cursor_len);
                }
                el__control_reply__free_unpacked (reply, &el_pb_allocator);
                reply = NULL;
            }
            printf ("],\"pages\":%" PRIu64 "}\n", pages);
        }
    } else if (!strcmp (cmd, "book") && argc >= 8) {
        rc = s_book (ctx, ep, argc, argv);
    } else if ((!strcmp (cmd, "admit") && argc == 5) || (!strcmp (cmd, "revoke") && argc == 4)) {
        uint8_t site[EL_KEY_BYTES];
        El__AdmitRequest a = EL__ADMIT_REQUEST__INIT;
        El__RevokeRequest r = EL__REVOKE_REQUEST__INIT;
        if (el_key_resolve (argv[3], site) == 0) {
            if (!strcmp (cmd, "admit")) {
                a.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, site };
                a.name = argv[4];
                req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
                req.admit = &a;
            } else {
                r.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, site };
                req.r_case = EL__CONTROL_REQUEST__R_REVOKE;
                req.revoke = &r;
            }
            rc = s_call (ctx, ep, &req, &reply);
            if (!rc)
                printf ("{\"seq\":%" PRIu64 "}\n", reply->admit ? reply->admit->seq : 0);
        }
    }
    if (rc == 2)
        fprintf (stderr, "el_testctl: bad arguments for %s\n", cmd);
    if (reply)
        el__control_reply__free_unpacked (reply, &el_pb_allocator);
    zmq_ctx_term (ctx);
    return rc;
}
