/* el_cli.h — the `entrelab` command line: its context, options, daemon calls.
 *
 * The CLI never opens the store: every command is one or a few control
 * requests (proto/el_control.proto, proto/el_cli.proto) to the daemon whose
 * state directory `--node DIR` (or ENTRELAB_NODE) names. Records are built
 * here as protobuf and sent with WriteRequest; the daemon signs them.
 *
 * Output: each command builds one JSON document; `--json` prints it, else a
 * table or a record view rendered from it (el_cli_out.h), or one line for
 * writes. Errors: one line "entrelab: <reason>" on stderr (and, with --json,
 * {"error": "<reason>"} on stdout); exit 2 for bad input (nothing was sent),
 * 1 when the daemon refused or could not be reached.
 *
 * Commands are tables of el_cli_cmd_t, one per area (el_cli_site.c,
 * el_cli_event.c, el_cli_equipment.c, el_cli_booking.c, el_cli_member.c);
 * tools/main.c dispatches them. One thread. */
#ifndef EL_CLI_H
#define EL_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_cli.pb-c.h"
#include "el_cli_out.h"
#include "el_cli_time.h"
#include "el_control.pb-c.h"
#include "el_entry.h"

#define EL_CLI_EXIT_FAIL     1          /* the daemon refused, failed or is unreachable */
#define EL_CLI_EXIT_USAGE    2          /* bad input: nothing was written */
#define EL_CLI_BAD           (-1000000) /* return code of el_cli_bad(): exit 2 */
#define EL_CLI_TIMEOUT_MS    10000      /* default wait for a daemon's reply, ms */
#define EL_CLI_OPTS_MAX      48         /* options of one command */
#define EL_CLI_POS_MAX       8          /* positional arguments of one command */
#define EL_CLI_LIST_MAX      64         /* values of one repeatable option */
#define EL_CLI_RECORDS_MAX   1000000    /* records one listing fetches, at most */
#define EL_CLI_PAGE          1000       /* records per List page */
#define EL_CLI_ERR_MAX       512        /* bytes of the one-line reason */
#define EL_CLI_CONFIG_NAME   "entrelab.conf" /* config file in a state directory */

typedef struct {
    const char *program;                /* argv[0] */
    const char *node;                   /* --node / ENTRELAB_NODE: state dir, config or endpoint */
    char endpoint[1100];                /* control endpoint, resolved lazily */
    bool json;
    int timeout_ms;
    void *zctx;                         /* created on the first call */
    int64_t now_us;                     /* the command's "now" */
    char err[EL_CLI_ERR_MAX];
    uint64_t next_id;
    /* cached daemon facts (el_cli_self) */
    bool have_self;
    uint8_t self_id[EL_KEY_BYTES];
    uint8_t network[EL_KEY_BYTES];
    char role[16];
    bool admitted;
    json_t *sites;                      /* el_cli_sites() cache: array of objects */
    /* time zones (RFC 5545 §3.2.19 TZID names, el_cli_zone_setup) */
    char zone[EL_CLI_ZONE_MAX];         /* times are read and shown here */
    char user_zone[EL_CLI_ZONE_MAX];    /* the caller's own (TZ, else the machine's) */
} el_cli_t;

/* ------------------------------------------------------------ options */

typedef enum {
    EL_CLI_OPT_VALUE = 0,               /* --name VALUE (once) */
    EL_CLI_OPT_SWITCH = 1,              /* --name */
    EL_CLI_OPT_LIST = 2,                /* --name VALUE, repeatable */
} el_cli_opt_kind_t;

typedef struct {
    const char *name;                   /* without "--" */
    el_cli_opt_kind_t kind;
    const char *arg;                    /* placeholder in help, e.g. "DATE" */
    const char *help;
} el_cli_optspec_t;

typedef struct {
    const char *name;
    const char *value;                  /* VALUE: last value; SWITCH: "" when set */
    const char *list[EL_CLI_LIST_MAX];
    size_t n;                           /* times given */
} el_cli_optval_t;

typedef struct {
    el_cli_optval_t opts[EL_CLI_OPTS_MAX];
    size_t n_opts;
    const char *pos[EL_CLI_POS_MAX];
    size_t n_pos;
} el_cli_args_t;

typedef int (el_cli_fn) (el_cli_t *cli, const el_cli_args_t *args);

typedef struct {
    const char *words;                  /* "event add" */
    const char *positional;             /* e.g. "UID" or NULL */
    size_t min_pos, max_pos;
    const char *summary;                /* one line */
    const el_cli_optspec_t *opts;       /* terminated by { NULL } */
    el_cli_fn *fn;
    const char *example;                /* one command line */
} el_cli_cmd_t;

/** Value of option @p name, NULL when absent. */
const char *el_cli_opt (const el_cli_args_t *a, const char *name);
bool el_cli_has (const el_cli_args_t *a, const char *name);
/** Values of a repeatable option. @return count; *ret borrowed. */
size_t el_cli_opt_list (const el_cli_args_t *a, const char *name, const char *const **ret);

/** Parse @p argv (after the command words) against @p cmd.
 * @return 0, EL_CLI_BAD (cli->err says why). */
int el_cli_parse (el_cli_t *cli, const el_cli_cmd_t *cmd, int argc, char **argv,
                  el_cli_args_t *ret);

/** Print @p cmd's help (usage, options, example) to stdout. */
void el_cli_help (const el_cli_cmd_t *cmd);

/* ------------------------------------------------------------ errors */

/** Bad input: record the reason, return EL_CLI_BAD (exit 2). */
int el_cli_bad (el_cli_t *cli, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/** Failure @p rc (< 0): record the reason, return @p rc (exit 1). */
int el_cli_fail (el_cli_t *cli, int rc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* ------------------------------------------------------------ daemon calls */

/** Send @p req (its id is set here) and wait for the reply. A reply with a
 * non-zero code becomes an error (its text is the reason) and is freed.
 * @param[out] ret on success; free with el_cli_reply_free().
 * @return 0, or the failure code with cli->err set. */
int el_cli_call (el_cli_t *cli, El__ControlRequest *req, El__ControlReply **ret);
/** el_cli_call() whose reply must be of case @p want: another is freed and
 * fails with EL_EPROTO, "the daemon's @p what reply is malformed". */
int el_cli_call_as (el_cli_t *cli, El__ControlRequest *req, El__ControlReply__RCase want,
                    const char *what, El__ControlReply **ret);
void el_cli_reply_free (El__ControlReply **reply_p);

/** The daemon's id, network and role (one Status call, cached). @return 0, errors. */
int el_cli_self (el_cli_t *cli);
/** One Status call, its reply checked (self_id and network of EL_KEY_BYTES) and
 * its facts cached as el_cli_self() caches them.
 * @param[out] ret_reply  on success; ->status is set; free with el_cli_reply_free()
 * @return 0, EL_EPROTO (malformed reply), errors of el_cli_call(). */
int el_cli_status (el_cli_t *cli, El__ControlReply **ret_reply);

/** Called for each record of a listing; @p v valid during the call. Non-zero stops. */
typedef int (el_cli_view_fn) (void *arg, const El__RecordView *v);

/** Every live record of @p kind (of @p origin, or all when NULL), paged.
 * @return 0, errors (cli->err set), or the callback's non-zero value. */
int el_cli_list (el_cli_t *cli, El__Kind kind, const uint8_t *origin, el_cli_view_fn *fn,
                 void *arg);

/** The EVENT or BOOKING records that may overlap [@p from_us, @p to_us) (µs
 * since the Unix epoch), paged, through the daemon's date index
 * (ListRequest.window, el_store_window): every event series, then single
 * records whose start is at most the longest span before @p from_us; the
 * window asked is one day wider on each side (an all-day event's dates are
 * 00:00 UTC, which callers compare in the viewer's zone). A superset: the
 * caller tests each occurrence. INT64_MIN / INT64_MAX: no bound.
 * @return as el_cli_list(). */
int el_cli_list_window (el_cli_t *cli, El__Kind kind, int64_t from_us, int64_t to_us,
                        el_cli_view_fn *fn, void *arg);

/** One record. @param origin NULL = this site.
 * @param[out] ret_reply holds *ret_view; free with el_cli_reply_free().
 * @return 0, EL_ENOTFOUND (cli->err not set), other errors (cli->err set). */
int el_cli_get (el_cli_t *cli, El__Kind kind, const uint8_t *origin, const char *key,
                El__ControlReply **ret_reply, const El__RecordView **ret_view);

/** The record of @p kind and @p key written by any origin the daemon holds
 * (GetRequest.any_origin: a point lookup per origin, no scan). The first
 * one is *ret_view, the others (*ret_reply)->get->others; free the reply with
 * el_cli_reply_free(). @return 0; EL_ENOTFOUND (no origin has it; no message
 * set); EL_EPROTO; errors of el_cli_call. */
int el_cli_get_any (el_cli_t *cli, El__Kind kind, const char *key, El__ControlReply **ret_reply,
                    const El__RecordView **ret_view);

/** This site's own record @p key of @p kind, decoded with @p desc.
 * Checks the key first (el_cli_check_key with @p key_what, e.g. "UID").
 * @param noun  record noun for messages: "unknown <noun> '<key>' (<hint>)",
 *              "<noun> '<key>' does not decode"
 * @param[out] reply  on success the reply; caller frees with el_cli_reply_free()
 * @param[out] ret    on success the record; caller frees with
 *                    protobuf_c_message_free_unpacked (*ret, &el_pb_allocator)
 * @return 0; EL_CLI_BAD (bad key, unknown record); EL_EPROTO; errors of el_cli_get. */
int el_cli_own (el_cli_t *cli, El__Kind kind, const ProtobufCMessageDescriptor *desc,
                const char *key_what, const char *noun, const char *hint, const char *key,
                El__ControlReply **reply, ProtobufCMessage **ret);

/** Set the string field @p *field of a record to @p value: borrowed when the
 * record was built here (@p owned false), else a strdup'd copy replacing (and
 * freeing) the old value of an unpacked record. @return 0, -ENOMEM. */
int el_cli_field_set (char **field, const char *value, bool owned);

/** Write one record as this site. @param[out] ret_seq optional. @return 0, errors. */
int el_cli_write (el_cli_t *cli, El__Kind kind, const char *key, const ProtobufCMessage *record,
                  bool deleted, uint64_t *ret_seq);

/* ------------------------------------------------------------ sites, keys */

/** The network's directory: every live Site record, as an array of objects
 * {key, name, kind, status, town, ...}; borrowed, cached. @return 0, errors. */
int el_cli_sites (el_cli_t *cli, const json_t **ret);

/** A site named by its key (base64url) or its exact name.
 * @return 0; EL_CLI_BAD "unknown site" / "ambiguous"; errors. */
int el_cli_site_resolve (el_cli_t *cli, const char *text, uint8_t ret[EL_KEY_BYTES]);

/** The directory's row (el_cli_sites) of site @p key; borrowed, cached.
 * @return the row, NULL when the site is not listed or the directory cannot
 *         be read (cli->err then says why). */
const json_t *el_cli_site_row (el_cli_t *cli, const uint8_t key[EL_KEY_BYTES]);

/** Name of site @p key from the directory, else its key's first 8 characters. */
const char *el_cli_site_name (el_cli_t *cli, const uint8_t key[EL_KEY_BYTES], char *buf,
                              size_t size);

/** base64url text of a key as a JSON string (new reference). */
json_t *el_cli_key_json (const uint8_t key[EL_KEY_BYTES]);

/** A fresh random record key: prefix + 16 hex digits. */
void el_cli_random_key (const char *prefix, char *out, size_t size);

/** Check a record key given by the user (1..EL_RECORD_KEY_MAX bytes, no control
 * characters, no ':' for request keys when @p no_colon). @return 0, EL_CLI_BAD. */
int el_cli_check_key (el_cli_t *cli, const char *what, const char *key, bool no_colon);

/** Time options: parse @p text or fail with "--name: reason". @return 0, EL_CLI_BAD. */
int el_cli_time_opt (el_cli_t *cli, const char *name, const char *text, int64_t *ret_us);

/** Choose the zone times are read and shown in, and make it the process's
 * local time (TZ): @p tz_opt (--tz) when given, else ENTRELAB_TZ, else the
 * `timezone` setting of the --node configuration (the zone of the site the
 * CLI talks to; for a --node given as an endpoint, the timezone of that
 * daemon's Site record), else the caller's TZ or the machine's zone. Fills
 * cli->zone and cli->user_zone (the zone before any of these).
 * @return 0; EL_CLI_BAD when --tz or ENTRELAB_TZ names no zone of the
 *         system's database. */
int el_cli_zone_setup (el_cli_t *cli, const char *tz_opt);

/** JSON time value: ISO text (el_cli_time_iso) or null for 0. */
json_t *el_cli_time_json (int64_t us);

/** The text field @p field of the JSON object @p row, "" when absent or not a
 * string (json_string() leaves out text that is not UTF-8, and other sites'
 * keys may be anything). Borrowed from @p row. */
const char *el_cli_row_text (const json_t *row, const char *field);

/* ------------------------------------------------------------ output */

/** Print @p doc: with --json the whole document; else the array @p rows_field
 * as a table, each time column's title followed by the zone its times are
 * in ("START (Europe/Paris)", cli->zone). Takes ownership of @p doc. @return 0. */
int el_cli_print_table (el_cli_t *cli, json_t *doc, const char *rows_field,
                        const el_cli_col_t *cols, size_t n_cols);
/** Print @p doc: with --json the whole document; else the object
 * @p obj_field ("" = the document) as "Label: value" lines, time labels
 * followed by their zone as in el_cli_print_table(). Takes @p doc. */
int el_cli_print_record (el_cli_t *cli, json_t *doc, const char *obj_field,
                         const el_cli_col_t *cols, size_t n_cols);
/** Print @p doc with --json, else the line @p fmt. Takes @p doc. */
int el_cli_print_line (el_cli_t *cli, json_t *doc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* ------------------------------------------------------------ areas */

extern const el_cli_cmd_t el_cli_federation_cmds[]; /* federate, unfederate, federation list */
extern const el_cli_cmd_t el_cli_site_cmds[];       /* init admit revoke invite join sites wait
                                                       status */
extern const el_cli_cmd_t el_cli_event_cmds[];      /* event add|update|cancel|remove|list|show */
extern const el_cli_cmd_t el_cli_equipment_cmds[];  /* equipment add|update|status|list|show|remove */
/** The controlled equipment categories (docs/CLI.md lists them), NULL-terminated:
 * the categories el_equipment_category() (tools/formats/el_import.h) maps to. */
extern const char *const el_cli_equipment_categories[];
extern const el_cli_cmd_t el_cli_booking_cmds[];    /* book, bookings list|confirm|decline|policy */
extern const el_cli_cmd_t el_cli_member_cmds[];     /* member add|update|list|remove */
/* el_cli_import.c: files in and out */
extern const el_cli_cmd_t el_cli_event_import_cmds[];     /* event import|export */
extern const el_cli_cmd_t el_cli_equipment_import_cmds[]; /* equipment import */
extern const el_cli_cmd_t el_cli_member_import_cmds[];    /* member import */

/** The machine @p key across the network (of owner @p site_text when given).
 * @param[out] ret optional: caller frees with el__equipment__free_unpacked(, &el_pb_allocator)
 * @return 0; EL_CLI_BAD "unknown equipment" / several owners; errors. */
int el_cli_equipment_find (el_cli_t *cli, const char *key, const char *site_text,
                           uint8_t ret_owner[EL_KEY_BYTES], El__Equipment **ret);

/** Names of enum values as the CLI shows them. */
const char *el_cli_sharing_name (El__Sharing s);
int el_cli_sharing_parse (el_cli_t *cli, const char *opt, const char *text, El__Sharing *ret);

#endif
