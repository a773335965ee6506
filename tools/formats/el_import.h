/* el_import.h — equipment and member imports: records from files people have.
 *
 * Three formats, each turned into el.Equipment or el.Member records
 * (proto/entrelab.proto) with a record key, plus a list of the rows that
 * could not be used, by line number. A file that cannot be read at all
 * (not CSV/JSON, wrong header, unterminated quote, over the size cap) is
 * refused whole: nothing half-imported.
 *
 * 1. Equipment CSV (RFC 4180: comma-separated, "double quotes" around a field
 *    holding commas, quotes ("" inside) or line breaks; CRLF or LF; UTF-8,
 *    optional byte-order mark; a header row separated by ';' switches the
 *    whole file to ';', as French spreadsheets save CSV). The first row
 *    names the columns, in any order; `name`, `bookable_by` and
 *    `required_training` are required (the last two decide who may use a
 *    machine: a file without them is refused, naming them, unless the
 *    caller asks for the defaults, el_equipment_import_opts_t), the others
 *    optional (docs/FORMATS.md says the same for people):
 *
 *      name,category,make,model,status,bookable_by,required_training,location,hourly_rate,currency,description
 *      Tour à métaux,lathe,Cazeneuve,HB 500,available,network,lathe,"Atelier, rez-de-chaussée",18.50,EUR,"Tour conventionnel"
 *
 *    name               1..200 bytes, required
 *    category           a controlled category or a synonym (el_equipment_category());
 *                       anything else becomes `other`, the text kept in category_original
 *    make, model        free text
 *    status             available | in_use | maintenance | out_of_order ("" = unspecified;
 *                       French: disponible, occupé, en maintenance, hors service, en panne)
 *    bookable_by        site | network | federation ("" = network, as `equipment add`)
 *    required_training  a training name (normally a category); "" = none
 *    location           free text (room, building)
 *    hourly_rate        decimal, '.' or ',' before at most 2 decimals ("18.50"); "" = 0
 *    currency           ISO 4217 code, 3 letters ("" = EUR when a rate is given)
 *    description        free text; may hold line breaks
 *    id                 optional record key; default: the name in lower-case ASCII
 *                       ("tour-a-metaux"), "-2", "-3" ... added to repeated names
 *
 *    A row is reported and skipped when it has another number of fields than
 *    the header, no name, or a value above that cannot be read. Blank lines
 *    are ignored. Unknown columns are reported once and ignored.
 *
 * 2. fablabs.io labs export (JSON array of labs, as the directory exported
 *    them): each lab's `capabilities` ("three_d_printing;cnc_milling;laser;
 *    vinyl_cutting;precision_milling;circuit_production") become one
 *    equipment item per capability, named "<category name> — <lab name>",
 *    located at the lab's address; key "<lab slug>/<capability>", the slug
 *    taken from the lab's fablabs.io url. A lab without a name or without
 *    capabilities is reported (its line in the file) and yields nothing.
 *
 * 3. Fab Manager member CSV (its "import members" format: `;`-separated,
 *    RFC 4180 quoting, 36 columns id;gender;first_name;last_name;username;
 *    email;...;group;tags;trainings;...). Only what the roster needs is
 *    kept: display_name = first_name + " " + last_name (or username),
 *    roles = [group], trainings = the `trainings` ids mapped through the
 *    caller's table (else "fabmanager-training-<id>"; a non-numeric entry is
 *    taken as a training name), sharing = SHARING_SITE; home_site and
 *    valid_until are left for the caller. No e-mail, phone,
 *    address or birth date is kept. A row shorter than the header is reported
 *    (imported when it still has a name); a row without a name, or longer
 *    than the header, is reported and skipped.
 *    Member keys hold no personal data: "m-" + 32 hex digits of
 *    BLAKE2b-128(salt ‖ identity), identity = external_id, else e-mail, else
 *    username, else the display name. Pass a site-local secret as salt so that
 *    keys cannot be matched against a list of e-mails.
 *
 * Threads: no global state; functions are reentrant. No logging. */
#ifndef EL_IMPORT_H
#define EL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_error.h"
#include "el_text.h"
#include "entrelab.pb-c.h"

#define EL_IMPORT_MAX_BYTES     (16u << 20)  /* input file, bytes */
#define EL_IMPORT_MAX_RECORDS   20000        /* records produced by one import */
#define EL_IMPORT_MAX_FIELDS    64           /* CSV fields per row */
#define EL_IMPORT_MAX_FIELD     (16u << 10)  /* one CSV field, bytes */
#define EL_IMPORT_REASON_BYTES  EL_PROBLEM_REASON_BYTES

/** A row that could not be (fully) used (tools/formats/el_text.h): its line
 * is where the row (CSV record, JSON lab) starts. */
typedef el_problem_t el_import_problem_t;

/** Why a whole file was refused (tools/formats/el_text.h). */
typedef el_file_error_t el_import_error_t;

/** Result of an import. Read-only for the caller. */
typedef struct {
    size_t n;                        /* records */
    char **keys;                     /* n record keys (entry keys), unique within the import */
    uint32_t *lines;                 /* n: line of the row each record came from */
    El__Equipment **equipment;       /* n records of an equipment import, else NULL */
    El__Member **members;            /* n records of a member import, else NULL */
    el_problems_t problems;          /* in line order; beyond EL_PROBLEMS_MAX only counted */
} el_import_t;

/** Options of el_import_fabmanager_members(). */
typedef struct {
    const uint8_t *salt;             /* key salt (see above); may be NULL */
    size_t salt_len;                 /* bytes */
    const char *const *trainings;    /* NULL-terminated "id=name" pairs; may be NULL */
} el_member_import_opts_t;

/* An empty or absent bookable_by: the default of `entrelab equipment add`. */
#define EL_IMPORT_DEFAULT_BOOKABLE_BY  EL__SHARING__SHARING_NETWORK

/** Options of el_import_equipment_csv_opts(). */
typedef struct {
    bool defaults;      /* a header without required_training or bookable_by imports
                           with the defaults (none; EL_IMPORT_DEFAULT_BOOKABLE_BY)
                           instead of being refused */
} el_equipment_import_opts_t;

/** Import an equipment CSV (format 1 above), with @p opts (NULL: no
 * defaults, a header without required_training or bookable_by is refused:
 * EL_EINVAL, @p err names the missing columns, its line is the header's).
 * The rest as el_import_equipment_csv(). */
int el_import_equipment_csv_opts (const char *data, size_t len,
                                  const el_equipment_import_opts_t *opts, el_import_t **ret,
                                  el_import_error_t *err);

/** Import an equipment CSV (format 1 above), without defaults.
 * @param data  borrowed bytes, need not be NUL-terminated
 * @param len   bytes, at most EL_IMPORT_MAX_BYTES
 * @param[out] ret  on success; caller owns, el_import_destroy()
 * @param[out] err  optional; written when the file is refused
 * @return 0 (see ret->problems for skipped rows); EL_EINVAL (file refused);
 *         EL_ETOOBIG (over EL_IMPORT_MAX_BYTES or EL_IMPORT_MAX_RECORDS); -ENOMEM. */
int el_import_equipment_csv (const char *data, size_t len, el_import_t **ret,
                             el_import_error_t *err);

/** Import a fablabs.io labs export (format 2 above).
 * @param lab  optional: only the lab whose fablabs.io slug or name (ASCII
 *             case-insensitive) equals it; NULL = every lab
 * @return as el_import_equipment_csv(); EL_ENOTFOUND when @p lab matches no lab. */
int el_import_fablabs_json (const char *data, size_t len, const char *lab, el_import_t **ret,
                            el_import_error_t *err);

/** Import a Fab Manager member CSV (format 3 above). @p opts may be NULL.
 * @return as el_import_equipment_csv(); -EIO when libsodium fails to initialise. */
int el_import_fabmanager_members (const char *data, size_t len,
                                  const el_member_import_opts_t *opts, el_import_t **ret,
                                  el_import_error_t *err);

/** Free; accepts NULL; sets *self_p = NULL. Records taken out with
 * el_import_take_*() are not freed. */
void el_import_destroy (el_import_t **self_p);

/** Take record @p i (caller then owns it; free with el__equipment__free_unpacked
 * / el__member__free_unpacked (rec, NULL)); the slot becomes NULL. */
El__Equipment *el_import_take_equipment (el_import_t *self, size_t i);
El__Member *el_import_take_member (el_import_t *self, size_t i);

/** Read a whole file for one of the importers here or el_ics_import().
 * Reads until the end (pipes too), refusing more than @p max bytes.
 * @param[out] ret      malloc'd, NUL-terminated; caller frees
 * @param[out] ret_len  bytes, without that NUL
 * @return 0, -errno from open/read, EL_ETOOBIG (over @p max bytes), -ENOMEM. */
int el_import_read_file (const char *path, size_t max, char **ret, size_t *ret_len);

/** The controlled equipment category for @p text (a category, a fablabs.io
 * capability, or an English or French synonym; case, spaces and hyphens
 * ignored), e.g. "Découpe laser" -> "laser_cutter", "three_d_printing" ->
 * "3d_printer". @return a static string, or NULL when unknown. */
const char *el_equipment_category (const char *text);

/** Human name of a controlled category ("3d_printer" -> "3D printer"), or @p category. */
const char *el_equipment_category_label (const char *category);

#endif
