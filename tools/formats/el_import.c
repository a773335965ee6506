/* el_import.c — equipment CSV, fablabs.io JSON and Fab Manager member CSV
 * imports (see el_import.h). JSON is read by jansson; the RFC 4180 reader
 * here is small on purpose: one record at a time, bounded fields. */
#include "el_import.h"
#include "el_text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define S_NAME_MAX      200   /* equipment / member name, bytes */
#define S_TRAINING_MAX  64    /* one training name, bytes */
#define S_RATE_MAX      INT64_C(100000000000)   /* hourly rate cap, cents */

/* ================================================================ text helpers */

/* Is @p s valid UTF-8 without control characters (HTAB always allowed,
 * LF when @p newlines)? */
static bool
s_text_ok (const char *s, bool newlines)
{
    const uint8_t *p = (const uint8_t *) s;
    size_t left = strlen (s);
    while (left > 0) {
        uint8_t c = *p;
        if ((c < 0x20 && c != '\t' && !(newlines && c == '\n')) || c == 0x7F)
            return false;
        size_t n = el_text_utf8_seq (p, left);
        if (n == 0 || (n == 2 && c == 0xC2 && p[1] <= 0x9F))   /* C1 controls */
            return false;
        p += n;
        left -= n;
    }
    return true;
}

/* Trim ASCII white space in place; returns s. */
static char *
s_trim (char *s)
{
    size_t n = strlen (s);
    while (n > 0 && isspace ((unsigned char) s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace ((unsigned char) s[i]))
        i++;
    if (i)
        memmove (s, s + i, n - i + 1);
    return s;
}

/* ASCII letter for a Latin-1 letter encoded C3 xx / C5 9x, or 0. */
static const char *
s_deaccent (const uint8_t *p)
{
    if (p[0] == 0xC5 && (p[1] == 0x93 || p[1] == 0x92))
        return p[1] == 0x93 ? "oe" : "OE";
    if (p[0] != 0xC3 || p[1] < 0x80 || p[1] > 0xBF)
        return NULL;
    static const char *const map[64] = {
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
        "D", "N", "O", "O", "O", "O", "O", NULL, "O", "U", "U", "U", "U", "Y", NULL, "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", NULL, "y" };
    return map[p[1] - 0x80];
}

/* Lower-case ASCII of @p in with accents removed; runs of anything else
 * become one @p sep. At most out_size - 1 bytes. */
static void
s_fold_ascii (const char *in, char *out, size_t out_size, char sep)
{
    size_t o = 0;
    bool pending = false;
    const uint8_t *p = (const uint8_t *) in;
    while (*p && o + 3 < out_size) {
        const char *rep = NULL;
        char one[2] = { 0, 0 };
        size_t adv = 1;
        if (isalnum (*p)) {
            one[0] = (char) tolower (*p);
            rep = one;
        } else if (*p >= 0xC0 && p[1]) {
            rep = s_deaccent (p);
            adv = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        }
        if (rep) {
            if (pending && o > 0)
                out[o++] = sep;
            pending = false;
            for (size_t i = 0; rep[i] && o + 2 < out_size; i++)
                out[o++] = (char) tolower ((unsigned char) rep[i]);
        } else {
            pending = true;
        }
        for (size_t i = 0; i < adv && *p; i++)
            p++;
    }
    out[o] = '\0';
}

/* ================================================================ categories */

typedef struct {
    const char *synonym;    /* as s_fold_ascii (.., '_') leaves it */
    const char *category;
} s_syn_t;

static const s_syn_t s_synonyms[] = {
    { "3d_printer", "3d_printer" }, { "3d_printers", "3d_printer" },
    { "3d_printing", "3d_printer" }, { "three_d_printing", "3d_printer" },
    { "3d", "3d_printer" }, { "imprimante_3d", "3d_printer" },
    { "imprimantes_3d", "3d_printer" }, { "impression_3d", "3d_printer" },
    { "printer_3d", "3d_printer" }, { "fdm_printer", "3d_printer" },
    { "resin_printer", "3d_printer" }, { "sla_printer", "3d_printer" },
    { "3d_scanner", "3d_scanner" }, { "scanner_3d", "3d_scanner" },
    { "three_d_scanning", "3d_scanner" }, { "3d_scanning", "3d_scanner" },
    { "laser_cutter", "laser_cutter" }, { "laser", "laser_cutter" },
    { "laser_cutting", "laser_cutter" }, { "lasercutter", "laser_cutter" },
    { "decoupe_laser", "laser_cutter" }, { "decoupeuse_laser", "laser_cutter" },
    { "graveuse_laser", "laser_cutter" }, { "laser_engraver", "laser_cutter" },
    { "cnc_mill", "cnc_mill" }, { "cnc_milling", "cnc_mill" },
    { "milling_machine", "cnc_mill" }, { "mill", "cnc_mill" }, { "fraiseuse", "cnc_mill" },
    { "fraiseuse_numerique", "cnc_mill" }, { "fraiseuse_cnc", "cnc_mill" }, { "cnc", "cnc_mill" },
    { "cnc_router", "cnc_router" }, { "router", "cnc_router" }, { "shopbot", "cnc_router" },
    { "defonceuse_numerique", "cnc_router" }, { "large_format_cnc", "cnc_router" },
    { "pcb_mill", "pcb_mill" }, { "precision_milling", "pcb_mill" },
    { "pcb_milling", "pcb_mill" }, { "circuit_milling", "pcb_mill" },
    { "lathe", "lathe" }, { "metal_lathe", "lathe" }, { "wood_lathe", "lathe" },
    { "tour", "lathe" }, { "tour_a_metaux", "lathe" }, { "tour_a_bois", "lathe" },
    { "vinyl_cutter", "vinyl_cutter" }, { "vinyl_cutting", "vinyl_cutter" },
    { "vinyl", "vinyl_cutter" }, { "plotter", "vinyl_cutter" },
    { "cutting_plotter", "vinyl_cutter" }, { "plotter_de_decoupe", "vinyl_cutter" },
    { "decoupe_vinyle", "vinyl_cutter" }, { "traceur_de_decoupe", "vinyl_cutter" },
    { "electronics_bench", "electronics_bench" }, { "electronics", "electronics_bench" },
    { "circuit_production", "electronics_bench" }, { "electronique", "electronics_bench" },
    { "soldering_station", "electronics_bench" },
    { "station_de_soudure", "electronics_bench" },
    { "sewing_machine", "sewing_machine" }, { "sewing", "sewing_machine" },
    { "machine_a_coudre", "sewing_machine" }, { "couture", "sewing_machine" },
    { "embroidery_machine", "embroidery_machine" }, { "embroidery", "embroidery_machine" },
    { "brodeuse", "embroidery_machine" },
    { "other", "other" }, { "autre", "other" },
};

static const struct {
    const char *category, *label;
} s_labels[] = {
    { "3d_printer", "3D printer" },       { "3d_scanner", "3D scanner" },
    { "laser_cutter", "Laser cutter" },   { "cnc_mill", "CNC mill" },
    { "cnc_router", "CNC router" },       { "pcb_mill", "PCB mill" },
    { "lathe", "Lathe" },                 { "vinyl_cutter", "Vinyl cutter" },
    { "electronics_bench", "Electronics bench" },
    { "sewing_machine", "Sewing machine" }, { "embroidery_machine", "Embroidery machine" },
    { "other", "Other" },
};

const char *
el_equipment_category (const char *text)
{
    if (!text)
        return NULL;
    char key[64];
    s_fold_ascii (text, key, sizeof key, '_');
    for (size_t i = 0; i < sizeof s_synonyms / sizeof s_synonyms[0]; i++)
        if (strcmp (key, s_synonyms[i].synonym) == 0)
            return s_synonyms[i].category;
    return NULL;
}

const char *
el_equipment_category_label (const char *category)
{
    for (size_t i = 0; i < sizeof s_labels / sizeof s_labels[0]; i++)
        if (category && strcmp (category, s_labels[i].category) == 0)
            return s_labels[i].label;
    return category;
}

/* ================================================================ result */

typedef enum { S_EQUIPMENT, S_MEMBERS } s_kind_t;

typedef struct {
    char **slots;
    size_t cap;    /* power of two */
    size_t n;
} s_keyset_t;

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (uint8_t) *s;
        h *= 1099511628211ull;
    }
    return h;
}

/* Borrowing set of keys. @return 1 added, 0 present, -ENOMEM. */
static int
s_keyset_add (s_keyset_t *ks, char *key)
{
    if ((ks->n + 1) * 2 > ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 64;
        char **slots = calloc (cap, sizeof *slots);
        if (!slots)
            return -ENOMEM;
        for (size_t i = 0; i < ks->cap; i++) {
            if (!ks->slots[i])
                continue;
            size_t j = s_hash (ks->slots[i]) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = ks->slots[i];
        }
        free (ks->slots);
        ks->slots = slots;
        ks->cap = cap;
    }
    size_t j = s_hash (key) & (ks->cap - 1);
    while (ks->slots[j]) {
        if (strcmp (ks->slots[j], key) == 0)
            return 0;
        j = (j + 1) & (ks->cap - 1);
    }
    ks->slots[j] = key;
    ks->n++;
    return 1;
}

static bool
s_keyset_has (const s_keyset_t *ks, const char *key)
{
    if (!ks->cap)
        return false;
    size_t j = s_hash (key) & (ks->cap - 1);
    while (ks->slots[j]) {
        if (strcmp (ks->slots[j], key) == 0)
            return true;
        j = (j + 1) & (ks->cap - 1);
    }
    return false;
}

typedef struct {
    s_kind_t kind;
    el_import_t *out;
    size_t cap;
    s_keyset_t keys;
} s_build_t;

static int
s_problem (s_build_t *b, uint32_t line, bool skipped, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_problem (s_build_t *b, uint32_t line, bool skipped, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc = el_problems_vadd (&b->out->problems, line, skipped, fmt, ap);
    va_end (ap);
    return rc;
}

static void
s_free_record (s_kind_t kind, void *rec)
{
    if (!rec)
        return;
    if (kind == S_EQUIPMENT)
        el__equipment__free_unpacked (rec, NULL);
    else
        el__member__free_unpacked (rec, NULL);
}

void
el_import_destroy (el_import_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_import_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        if (self->keys)
            free (self->keys[i]);
        if (self->equipment)
            s_free_record (S_EQUIPMENT, self->equipment[i]);
        if (self->members)
            s_free_record (S_MEMBERS, self->members[i]);
    }
    free (self->keys);
    free (self->lines);
    free (self->equipment);
    free (self->members);
    el_problems_free (&self->problems);
    free (self);
    *self_p = NULL;
}

El__Equipment *
el_import_take_equipment (el_import_t *self, size_t i)
{
    if (!self || !self->equipment || i >= self->n)
        return NULL;
    El__Equipment *r = self->equipment[i];
    self->equipment[i] = NULL;
    return r;
}

El__Member *
el_import_take_member (el_import_t *self, size_t i)
{
    if (!self || !self->members || i >= self->n)
        return NULL;
    El__Member *r = self->members[i];
    self->members[i] = NULL;
    return r;
}

static int
s_build_init (s_build_t *b, s_kind_t kind)
{
    *b = (s_build_t) { .kind = kind };
    b->out = calloc (1, sizeof *b->out);
    return b->out ? 0 : -ENOMEM;
}

static void
s_build_fini (s_build_t *b)
{
    free (b->keys.slots);
    el_import_destroy (&b->out);
}

/* Append a record; takes @p rec and @p key (also on failure). */
static int
s_build_add (s_build_t *b, void *rec, char *key, uint32_t line)
{
    el_import_t *o = b->out;
    int rc = EL_ETOOBIG;
    if (o->n >= EL_IMPORT_MAX_RECORDS)
        goto out_free;
    rc = -ENOMEM;
    if (o->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char **keys = realloc (o->keys, cap * sizeof *keys);
        if (!keys)
            goto out_free;
        o->keys = keys;
        uint32_t *lines = realloc (o->lines, cap * sizeof *lines);
        if (!lines)
            goto out_free;
        o->lines = lines;
        void **recs = realloc (b->kind == S_EQUIPMENT ? (void *) o->equipment : (void *) o->members,
                               cap * sizeof *recs);
        if (!recs)
            goto out_free;
        if (b->kind == S_EQUIPMENT)
            o->equipment = (El__Equipment **) recs;
        else
            o->members = (El__Member **) recs;
        b->cap = cap;
    }
    if (s_keyset_add (&b->keys, key) < 0)
        goto out_free;
    o->keys[o->n] = key;
    o->lines[o->n] = line;
    if (b->kind == S_EQUIPMENT)
        o->equipment[o->n] = rec;
    else
        o->members[o->n] = rec;
    o->n++;
    return 0;
out_free:
    s_free_record (b->kind, rec);
    free (key);
    return rc;
}

static void
s_build_finish (s_build_t *b, el_import_t **ret)
{
    if (b->kind == S_EQUIPMENT && !b->out->equipment)
        b->out->equipment = calloc (1, sizeof *b->out->equipment);
    if (b->kind == S_MEMBERS && !b->out->members)
        b->out->members = calloc (1, sizeof *b->out->members);
    *ret = b->out;
    b->out = NULL;
    free (b->keys.slots);
    b->keys.slots = NULL;
}

/* ================================================================ CSV (RFC 4180) */

typedef struct {
    const char *buf;
    size_t len, off;
    uint32_t line;        /* line of buf[off] */
    char sep;
} s_csv_t;

typedef struct {
    char *text;           /* the fields, each NUL-terminated, back to back */
    size_t len, cap;
    size_t offs[EL_IMPORT_MAX_FIELDS];
    size_t n;             /* fields seen (more than EL_IMPORT_MAX_FIELDS are only counted) */
    uint32_t line;        /* first line of the record */
    const char *fault;    /* a row-level fault, or NULL */
} s_row_t;

static int
s_row_put (s_row_t *r, char c)
{
    if (r->len + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        char *t = realloc (r->text, cap);
        if (!t)
            return -ENOMEM;
        r->text = t;
        r->cap = cap;
    }
    r->text[r->len++] = c;
    return 0;
}

static const char *
s_field (const s_row_t *r, size_t i)
{
    return i < r->n && i < EL_IMPORT_MAX_FIELDS ? r->text + r->offs[i] : "";
}

/* Read one record. @return 1, 0 at the end, EL_EINVAL (err set), -ENOMEM. */
static int
s_csv_next (s_csv_t *c, s_row_t *r, el_import_error_t *err)
{
    if (c->off >= c->len)
        return 0;
    r->len = 0;
    r->n = 0;
    r->line = c->line;
    r->fault = NULL;
    for (;;) {
        size_t field_start = r->len;
        size_t field_bytes = 0;
        bool keep = r->n < EL_IMPORT_MAX_FIELDS;
        if (keep)
            r->offs[r->n] = r->len;
#define S_PUT(ch)                                                                        \
    do {                                                                                 \
        if ((ch) == '\0' && !r->fault)                                                   \
            r->fault = "NUL byte in a field";                                            \
        if (keep && field_bytes < EL_IMPORT_MAX_FIELD) {                                 \
            if (s_row_put (r, (ch)) < 0)                                                 \
                return -ENOMEM;                                                          \
        } else if (keep && !r->fault) {                                                  \
            r->fault = "a field is longer than the cap";                                 \
        }                                                                                \
        field_bytes++;                                                                   \
    } while (0)
        if (c->off < c->len && c->buf[c->off] == '"') {
            uint32_t qline = c->line;
            c->off++;
            for (;;) {
                if (c->off >= c->len) {
                    el_file_error_set (err, qline, "quoted field never closed");
                    return EL_EINVAL;
                }
                char ch = c->buf[c->off];
                if (ch == '"') {
                    if (c->off + 1 < c->len && c->buf[c->off + 1] == '"') {
                        S_PUT ('"');
                        c->off += 2;
                        continue;
                    }
                    c->off++;
                    break;
                }
                if (ch == '\r' && c->off + 1 < c->len && c->buf[c->off + 1] == '\n') {
                    S_PUT ('\n');
                    c->off += 2;
                    c->line++;
                    continue;
                }
                if (ch == '\n')
                    c->line++;
                S_PUT (ch);
                c->off++;
            }
            /* only a separator or the line end may follow */
            bool junk = false;
            while (c->off < c->len && c->buf[c->off] != c->sep && c->buf[c->off] != '\n'
                   && !(c->buf[c->off] == '\r' && c->off + 1 < c->len && c->buf[c->off + 1] == '\n')) {
                junk = true;
                c->off++;
            }
            if (junk && !r->fault)
                r->fault = "text after a closing quote";
        } else {
            while (c->off < c->len) {
                char ch = c->buf[c->off];
                if (ch == c->sep || ch == '\n'
                    || (ch == '\r' && c->off + 1 < c->len && c->buf[c->off + 1] == '\n'))
                    break;
                S_PUT (ch);
                c->off++;
            }
        }
#undef S_PUT
        if (keep) {
            if (s_row_put (r, '\0') < 0)
                return -ENOMEM;
        } else {
            r->len = field_start;
        }
        r->n++;
        if (c->off >= c->len)
            return 1;
        char ch = c->buf[c->off];
        if (ch == c->sep) {
            c->off++;
            if (c->off >= c->len) {          /* a separator ends the file: one empty field */
                if (r->n < EL_IMPORT_MAX_FIELDS) {
                    r->offs[r->n] = r->len;
                    if (s_row_put (r, '\0') < 0)
                        return -ENOMEM;
                }
                r->n++;
                return 1;
            }
            continue;
        }
        c->off += ch == '\r' ? 2 : 1;
        c->line++;
        return 1;
    }
}

static bool
s_row_blank (const s_row_t *r)
{
    for (size_t i = 0; i < r->n && i < EL_IMPORT_MAX_FIELDS; i++) {
        const char *f = s_field (r, i);
        for (; *f; f++)
            if (!isspace ((unsigned char) *f))
                return false;
    }
    return r->n <= 1;
}

static void
s_csv_init (s_csv_t *c, const char *data, size_t len, char sep)
{
    *c = (s_csv_t) { .buf = data, .len = len, .line = 1, .sep = sep };
    if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
        c->off = 3;
}

/* Index of each wanted column in the header row, -1 when absent. */
static int
s_header (const s_row_t *r, const char *const *names, int *idx, size_t n_names, s_build_t *b,
          el_import_error_t *err, bool report_unknown)
{
    for (size_t k = 0; k < n_names; k++)
        idx[k] = -1;
    if (r->n > EL_IMPORT_MAX_FIELDS) {
        el_file_error_set (err, r->line, "header has %zu columns, over the cap of %d", r->n,
                 EL_IMPORT_MAX_FIELDS);
        return EL_EINVAL;
    }
    for (size_t i = 0; i < r->n; i++) {
        char col[64];
        el_text_copy (col, sizeof col, s_field (r, i));
        s_trim (col);
        for (char *p = col; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
        bool known = false;
        for (size_t k = 0; k < n_names; k++) {
            if (strcmp (col, names[k]) != 0)
                continue;
            if (idx[k] >= 0) {
                el_file_error_set (err, r->line, "column \"%s\" appears twice in the header", col);
                return EL_EINVAL;
            }
            idx[k] = (int) i;
            known = true;
        }
        if (!known && report_unknown && col[0] && s_text_ok (col, false)
            && s_problem (b, r->line, false, "column \"%s\" is not known: ignored", col) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* ================================================================ record helpers */

static int
s_set_str (char **field, const char *s)
{
    char *c = strdup (s ? s : "");
    if (!c)
        return -ENOMEM;
    if (*field && *field != protobuf_c_empty_string)
        free (*field);
    *field = c;
    return 0;
}

static int
s_push_str (char ***arr, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp ((*arr)[i], s) == 0)
            return 0;
    char **a = realloc (*arr, (*n + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    *arr = a;
    a[*n] = strdup (s);
    if (!a[*n])
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* Lower-case ASCII, '_' for separators: "In use" -> "in_use". */
static void
s_word (const char *in, char *out, size_t size)
{
    s_fold_ascii (in, out, size, '_');
}

/* A key from a name: lower-case ASCII words joined by '-'. Unique in @p b. */
static char *
s_unique_key (s_build_t *b, const char *base, uint32_t line)
{
    char stem[EL_RECORD_KEY_MAX - 12];
    s_fold_ascii (base, stem, sizeof stem, '-');
    if (!stem[0])
        snprintf (stem, sizeof stem, "row-%u", line);
    char key[EL_RECORD_KEY_MAX + 1];
    snprintf (key, sizeof key, "%s", stem);
    for (unsigned i = 2; s_keyset_has (&b->keys, key); i++)
        snprintf (key, sizeof key, "%s-%u", stem, i);
    return strdup (key);
}

static bool
s_key_ok (const char *key)
{
    size_t n = strlen (key);
    if (n == 0 || n > EL_RECORD_KEY_MAX)
        return false;
    return s_text_ok (key, false) && !strchr (key, '\t');
}

/* "18.50" / "18,5" / "18" -> cents. */
static bool
s_parse_rate (const char *s, int64_t *ret)
{
    int64_t units = 0, cents = 0;
    size_t i = 0, digits = 0, decimals = 0;
    while (isdigit ((unsigned char) s[i])) {
        units = units * 10 + (s[i] - '0');
        if (units * 100 > S_RATE_MAX)
            return false;
        i++;
        digits++;
    }
    if (s[i] == '.' || s[i] == ',') {
        i++;
        while (isdigit ((unsigned char) s[i])) {
            if (++decimals > 2)
                return false;
            cents = cents * 10 + (s[i] - '0');
            i++;
        }
        if (decimals == 0)
            return false;
        if (decimals == 1)
            cents *= 10;
    }
    if (s[i] != '\0' || digits == 0)
        return false;
    *ret = units * 100 + cents;
    return true;
}

/* ================================================================ equipment CSV */

enum { C_NAME, C_CATEGORY, C_MAKE, C_MODEL, C_STATUS, C_BOOKABLE, C_TRAINING, C_LOCATION,
       C_RATE, C_CURRENCY, C_DESCRIPTION, C_ID, C_COUNT };

static const char *const s_equipment_cols[C_COUNT] = {
    "name", "category", "make", "model", "status", "bookable_by", "required_training",
    "location", "hourly_rate", "currency", "description", "id" };

static int
s_status (const char *text, El__EquipmentStatus *ret)
{
    char w[40];
    s_word (text, w, sizeof w);
    static const struct {
        const char *word;
        El__EquipmentStatus status;
    } map[] = {
        { "", EL__EQUIPMENT_STATUS__EQUIPMENT_STATUS_UNSPECIFIED },
        { "available", EL__EQUIPMENT_STATUS__AVAILABLE },
        { "disponible", EL__EQUIPMENT_STATUS__AVAILABLE },
        { "in_use", EL__EQUIPMENT_STATUS__IN_USE },
        { "occupe", EL__EQUIPMENT_STATUS__IN_USE },
        { "maintenance", EL__EQUIPMENT_STATUS__MAINTENANCE },
        { "en_maintenance", EL__EQUIPMENT_STATUS__MAINTENANCE },
        { "out_of_order", EL__EQUIPMENT_STATUS__OUT_OF_ORDER },
        { "broken", EL__EQUIPMENT_STATUS__OUT_OF_ORDER },
        { "hors_service", EL__EQUIPMENT_STATUS__OUT_OF_ORDER },
        { "en_panne", EL__EQUIPMENT_STATUS__OUT_OF_ORDER },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp (w, map[i].word) == 0) {
            *ret = map[i].status;
            return 0;
        }
    return EL_EINVAL;
}

static int
s_sharing (const char *text, El__Sharing *ret)
{
    char w[40];
    s_word (text, w, sizeof w);
    if (!w[0])
        *ret = EL_IMPORT_DEFAULT_BOOKABLE_BY;     /* as `entrelab equipment add` */
    else if (strcmp (w, "site") == 0)
        *ret = EL__SHARING__SHARING_SITE;
    else if (strcmp (w, "network") == 0 || strcmp (w, "reseau") == 0)
        *ret = EL__SHARING__SHARING_NETWORK;
    else if (strcmp (w, "federation") == 0)
        *ret = EL__SHARING__SHARING_FEDERATION;
    else
        return EL_EINVAL;
    return 0;
}

/* Fill the category fields from free text. */
static int
s_set_category (El__Equipment *eq, const char *text)
{
    const char *cat = el_equipment_category (text);
    if (cat)
        return s_set_str (&eq->category, cat);
    if (s_set_str (&eq->category, "other") < 0)
        return -ENOMEM;
    return s_set_str (&eq->category_original, text);
}

/* One data row. Reports and returns 0 when the row is skipped. */
static int
s_equipment_row (s_build_t *b, const s_row_t *r, const int *idx, size_t n_cols)
{
    int rc = -ENOMEM;
    if (r->fault)
        return s_problem (b, r->line, true, "row skipped: %s", r->fault);
    if (r->n != n_cols)
        return s_problem (b, r->line, true, "row skipped: %zu fields, the header has %zu",
                          r->n, n_cols);
    char *f[C_COUNT];
    for (int k = 0; k < C_COUNT; k++) {
        f[k] = strdup (idx[k] >= 0 ? s_field (r, (size_t) idx[k]) : "");
        if (!f[k]) {
            while (k-- > 0)
                free (f[k]);
            return -ENOMEM;
        }
        if (k != C_DESCRIPTION)
            s_trim (f[k]);
    }
    El__Equipment *eq = NULL;
    char *key = NULL;
    const char *why = NULL;
    char whybuf[160];
    for (int k = 0; k < C_COUNT && !why; k++) {
        if (!s_text_ok (f[k], k == C_DESCRIPTION)) {
            snprintf (whybuf, sizeof whybuf, "%s is not UTF-8 text", s_equipment_cols[k]);
            why = whybuf;
        }
    }
    El__EquipmentStatus status = 0;
    El__Sharing sharing = 0;
    int64_t cents = 0;
    if (!why && !f[C_NAME][0])
        why = "no name";
    else if (!why && strlen (f[C_NAME]) > S_NAME_MAX)
        why = "name longer than 200 bytes";
    else if (!why && s_status (f[C_STATUS], &status) < 0) {
        snprintf (whybuf, sizeof whybuf, "status \"%.40s\" is not available, in_use, "
                                         "maintenance or out_of_order", f[C_STATUS]);
        why = whybuf;
    } else if (!why && s_sharing (f[C_BOOKABLE], &sharing) < 0) {
        snprintf (whybuf, sizeof whybuf, "bookable_by \"%.40s\" is not site, network or federation",
                  f[C_BOOKABLE]);
        why = whybuf;
    } else if (!why && f[C_RATE][0] && !s_parse_rate (f[C_RATE], &cents)) {
        snprintf (whybuf, sizeof whybuf, "hourly_rate \"%.40s\" is not an amount like 18.50",
                  f[C_RATE]);
        why = whybuf;
    } else if (!why && f[C_CURRENCY][0]
               && !(strlen (f[C_CURRENCY]) == 3 && isupper ((unsigned char) f[C_CURRENCY][0])
                    && isupper ((unsigned char) f[C_CURRENCY][1])
                    && isupper ((unsigned char) f[C_CURRENCY][2]))) {
        snprintf (whybuf, sizeof whybuf, "currency \"%.40s\" is not an ISO 4217 code like EUR",
                  f[C_CURRENCY]);
        why = whybuf;
    } else if (!why && f[C_ID][0] && !s_key_ok (f[C_ID])) {
        why = "id is not a usable key";
    } else if (!why && f[C_ID][0] && s_keyset_has (&b->keys, f[C_ID])) {
        snprintf (whybuf, sizeof whybuf, "id \"%.60s\" used by an earlier row", f[C_ID]);
        why = whybuf;
    }
    if (why) {
        rc = s_problem (b, r->line, true, "row skipped: %s", why);
        goto out;
    }
    eq = malloc (sizeof *eq);
    if (!eq)
        goto out;
    el__equipment__init (eq);
    if (s_set_str (&eq->name, f[C_NAME]) < 0 || s_set_str (&eq->make, f[C_MAKE]) < 0
        || s_set_str (&eq->model, f[C_MODEL]) < 0
        || s_set_str (&eq->description, f[C_DESCRIPTION]) < 0
        || s_set_str (&eq->location, f[C_LOCATION]) < 0)
        goto out;
    if (f[C_CATEGORY][0] ? s_set_category (eq, f[C_CATEGORY]) < 0
                         : s_set_str (&eq->category, "other") < 0)
        goto out;
    if (f[C_TRAINING][0]) {
        const char *t = el_equipment_category (f[C_TRAINING]);
        if (s_set_str (&eq->required_training, t ? t : f[C_TRAINING]) < 0)
            goto out;
    }
    eq->status = status;
    eq->bookable_by = sharing;
    eq->hourly_rate_cents = cents;
    if (s_set_str (&eq->currency, f[C_CURRENCY][0] ? f[C_CURRENCY] : cents ? "EUR" : "") < 0)
        goto out;
    key = f[C_ID][0] ? strdup (f[C_ID]) : s_unique_key (b, f[C_NAME], r->line);
    if (!key)
        goto out;
    rc = s_build_add (b, eq, key, r->line);
    eq = NULL;
    key = NULL;
out:
    if (eq)
        el__equipment__free_unpacked (eq, NULL);
    free (key);
    for (int k = 0; k < C_COUNT; k++)
        free (f[k]);
    return rc;
}

int
el_import_equipment_csv (const char *data, size_t len, el_import_t **ret, el_import_error_t *err)
{
    return el_import_equipment_csv_opts (data, len, NULL, ret, err);
}

/* Refuse a header without the columns that decide who may use a machine,
 * unless the defaults were asked for. @return 0 or EL_EINVAL (@p err set). */
static int
s_equipment_columns_required (const int *idx, uint32_t line,
                              const el_equipment_import_opts_t *opts, el_import_error_t *err)
{
    bool no_training = idx[C_TRAINING] < 0, no_bookable = idx[C_BOOKABLE] < 0;
    if ((!no_training && !no_bookable) || (opts && opts->defaults))
        return 0;
    el_file_error_set (err, line, "the header has no %s column%s: %s decide%s who may use a "
                       "machine; add %s, or import with --defaults (required_training: none, "
                       "bookable_by: network, as `equipment add`)",
                       no_training && no_bookable ? "required_training, bookable_by"
                       : no_training ? "required_training" : "bookable_by",
                       no_training && no_bookable ? "s" : "",
                       no_training && no_bookable ? "they" : "it",
                       no_training && no_bookable ? "" : "s",
                       no_training && no_bookable ? "them" : "it");
    return EL_EINVAL;
}

int
el_import_equipment_csv_opts (const char *data, size_t len,
                              const el_equipment_import_opts_t *opts, el_import_t **ret,
                              el_import_error_t *err)
{
    if (len > EL_IMPORT_MAX_BYTES) {
        el_file_error_set (err, 0, "file is %zu bytes, over the %u-byte cap", len, EL_IMPORT_MAX_BYTES);
        return EL_ETOOBIG;
    }
    s_build_t b;
    s_row_t row = { 0 };
    s_csv_t csv;
    int idx[C_COUNT];
    int rc = s_build_init (&b, S_EQUIPMENT);
    if (rc < 0)
        goto out;
    s_csv_init (&csv, data ? data : "", data ? len : 0, ',');
    do {
        rc = s_csv_next (&csv, &row, err);
    } while (rc == 1 && s_row_blank (&row) && s_field (&row, 0)[0] == '\0');
    if (rc == 1 && row.n == 1 && strchr (s_field (&row, 0), ';')) {
        /* a spreadsheet saved it with semicolons (the French default): read it so */
        uint32_t header_line = row.line;
        s_csv_init (&csv, data, len, ';');
        do {
            rc = s_csv_next (&csv, &row, err);
        } while (rc == 1 && row.line < header_line);
    }
    if (rc == 0) {
        el_file_error_set (err, 0, "empty file: no header row");
        rc = EL_EINVAL;
    }
    if (rc < 0)
        goto out;
    size_t n_cols = row.n;
    uint32_t header_line = row.line;
    rc = s_header (&row, s_equipment_cols, idx, C_COUNT, &b, err, true);
    if (rc < 0)
        goto out;
    if (idx[C_NAME] < 0) {
        el_file_error_set (err, row.line, "the header row must name the columns (name,category,make,"
                                "model,status,bookable_by,required_training,location,"
                                "hourly_rate,currency,description)");
        rc = EL_EINVAL;
        goto out;
    }
    for (;;) {
        rc = s_csv_next (&csv, &row, err);
        if (rc != 1)
            break;
        if (s_row_blank (&row))
            continue;
        rc = s_equipment_row (&b, &row, idx, n_cols);
        if (rc < 0)
            break;
    }
    if (rc == EL_ETOOBIG)
        el_file_error_set (err, row.line, "more than %d records", EL_IMPORT_MAX_RECORDS);
    if (rc == 0)        /* after the rows: a file that cannot be read says so first */
        rc = s_equipment_columns_required (idx, header_line, opts, err);
    if (rc < 0)
        goto out;
    s_build_finish (&b, ret);
    rc = 0;
out:
    free (row.text);
    s_build_fini (&b);
    return rc;
}

/* ================================================================ fablabs.io JSON */

/* Line of each top-level array element. jansson validated the text, so
 * only strings and nesting need tracking. @return elements found. */
static size_t
s_json_element_lines (const char *data, size_t len, uint32_t *lines, size_t max)
{
    size_t n = 0, i = 0;
    uint32_t line = 1;
    while (i < len && data[i] != '[') {
        if (data[i] == '\n')
            line++;
        i++;
    }
    int depth = 0;
    bool in_str = false, want = true;
    for (; i < len; i++) {
        char c = data[i];
        if (c == '\n')
            line++;
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (depth == 1 && want && c != ']') {
            if (n < max)
                lines[n] = line;
            n++;
            want = false;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (--depth == 0)
                break;
        } else if (c == ',' && depth == 1) {
            want = true;
        }
    }
    return n;
}

static const char *
s_json_str (json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_string (v) ? json_string_value (v) : NULL;
}

/* The lab's fablabs.io slug: the url's last path segment, else from the name. */
static void
s_lab_slug (json_t *lab, const char *name, char *out, size_t size)
{
    const char *url = s_json_str (lab, "url");
    const char *seg = url ? strstr (url, "/labs/") : NULL;
    if (seg) {
        seg += 6;
        size_t n = 0;
        while (seg[n] && (isalnum ((unsigned char) seg[n]) || seg[n] == '-' || seg[n] == '_'))
            n++;
        if (n > 0 && seg[n] == '\0' && n < size) {
            for (size_t i = 0; i < n; i++)
                out[i] = (char) tolower ((unsigned char) seg[i]);
            out[n] = '\0';
            return;
        }
    }
    s_fold_ascii (name, out, size, '-');
}

static bool
s_lab_matches (json_t *lab, const char *name, const char *want)
{
    char slug[96];
    s_lab_slug (lab, name, slug, sizeof slug);
    return strcasecmp (slug, want) == 0 || strcasecmp (name, want) == 0;
}

static int
s_lab_location (json_t *lab, char *out, size_t size)
{
    const char *addr = s_json_str (lab, "address_1");
    const char *pc = s_json_str (lab, "postal_code");
    const char *city = s_json_str (lab, "city");
    int n = snprintf (out, size, "%s%s%s%s%s", addr && addr[0] ? addr : "",
                      addr && addr[0] && ((pc && pc[0]) || (city && city[0])) ? ", " : "",
                      pc && pc[0] ? pc : "", pc && pc[0] && city && city[0] ? " " : "",
                      city ? city : "");
    return n < 0 ? EL_EINVAL : 0;
}

static int
s_lab_equipment (s_build_t *b, json_t *lab, const char *name, uint32_t line)
{
    json_t *caps = json_object_get (lab, "capabilities");
    if (!caps || json_is_null (caps))
        return s_problem (b, line, true, "lab \"%.80s\" lists no capabilities: no equipment", name);
    if (!json_is_string (caps))
        return s_problem (b, line, true, "lab \"%.80s\": capabilities is not a text", name);
    char slug[96];
    s_lab_slug (lab, name, slug, sizeof slug);
    if (!slug[0])
        snprintf (slug, sizeof slug, "lab-%u", line);
    char loc[512];
    s_lab_location (lab, loc, sizeof loc);
    const char *url = s_json_str (lab, "url");

    char *list = strdup (json_string_value (caps));
    if (!list)
        return -ENOMEM;
    int rc = 0;
    size_t made = 0;
    char *save = NULL;
    for (char *tok = strtok_r (list, ";,", &save); tok && rc == 0;
         tok = strtok_r (NULL, ";,", &save)) {
        s_trim (tok);
        if (!tok[0] || strlen (tok) > 64 || !s_text_ok (tok, false))
            continue;
        char key[EL_RECORD_KEY_MAX + 1];
        char word[72];
        s_word (tok, word, sizeof word);
        snprintf (key, sizeof key, "%s/%s", slug, word[0] ? word : "capability");
        if (s_keyset_has (&b->keys, key))
            continue;   /* listed twice */
        rc = -ENOMEM;
        El__Equipment *eq = malloc (sizeof *eq);
        if (!eq)
            break;
        el__equipment__init (eq);
        char ename[S_NAME_MAX + 1];
        const char *cat = el_equipment_category (tok);
        snprintf (ename, sizeof ename, "%s \xE2\x80\x94 %s",
                  el_equipment_category_label (cat ? cat : "other"), name);
        char desc[160];
        snprintf (desc, sizeof desc, "Listed as \"%.60s\" for this lab on fablabs.io", tok);
        char *k = strdup (key);
        if (!k || s_set_str (&eq->name, ename) < 0 || s_set_category (eq, tok) < 0
            || s_set_str (&eq->location, loc) < 0 || s_set_str (&eq->description, desc) < 0) {
            free (k);
            el__equipment__free_unpacked (eq, NULL);
            break;
        }
        eq->bookable_by = EL__SHARING__SHARING_SITE;
        if (url && s_text_ok (url, false)) {
            El__Equipment__ExtensionsEntry **a = malloc (sizeof *a);
            El__Equipment__ExtensionsEntry *e = malloc (sizeof *e);
            if (!a || !e) {
                free (a);
                free (e);
                free (k);
                el__equipment__free_unpacked (eq, NULL);
                break;
            }
            el__equipment__extensions_entry__init (e);
            e->key = strdup ("fablabs_io.url");
            e->value = strdup (url);
            a[0] = e;
            eq->extensions = a;
            eq->n_extensions = 1;
            if (!e->key || !e->value) {
                el__equipment__free_unpacked (eq, NULL);
                free (k);
                break;
            }
        }
        rc = s_build_add (b, eq, k, line);
        made++;
    }
    free (list);
    if (rc == 0 && made == 0)
        rc = s_problem (b, line, true, "lab \"%.80s\" lists no capabilities: no equipment", name);
    return rc;
}

int
el_import_fablabs_json (const char *data, size_t len, const char *lab, el_import_t **ret,
                        el_import_error_t *err)
{
    if (len > EL_IMPORT_MAX_BYTES) {
        el_file_error_set (err, 0, "file is %zu bytes, over the %u-byte cap", len, EL_IMPORT_MAX_BYTES);
        return EL_ETOOBIG;
    }
    s_build_t b;
    json_t *root = NULL;
    uint32_t *lines = NULL;
    int rc = s_build_init (&b, S_EQUIPMENT);
    if (rc < 0)
        goto out;
    if (data && len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    json_error_t jerr;
    root = json_loadb (data ? data : "", data ? len : 0, 0, &jerr);
    if (!root) {
        el_file_error_set (err, jerr.line > 0 ? (uint32_t) jerr.line : 0, "not JSON: %s", jerr.text);
        rc = EL_EINVAL;
        goto out;
    }
    if (!json_is_array (root)) {
        el_file_error_set (err, 1, "expected a JSON array of labs (fablabs.io export)");
        rc = EL_EINVAL;
        goto out;
    }
    size_t n = json_array_size (root);
    rc = -ENOMEM;
    lines = calloc (n ? n : 1, sizeof *lines);
    if (!lines)
        goto out;
    if (s_json_element_lines (data, len, lines, n) != n)
        memset (lines, 0, n * sizeof *lines);
    bool matched = false;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *l = json_array_get (root, i);
        if (!json_is_object (l)) {
            if (!lab)
                rc = s_problem (&b, lines[i], true, "lab %zu is not a JSON object", i + 1);
            continue;
        }
        const char *name = s_json_str (l, "name");
        char nbuf[S_NAME_MAX - 40];
        if (name) {
            el_text_copy (nbuf, sizeof nbuf, name);
            s_trim (nbuf);
        }
        if (!name || !nbuf[0] || !s_text_ok (nbuf, false)) {
            if (!lab)
                rc = s_problem (&b, lines[i], true, "lab %zu has no name", i + 1);
            continue;
        }
        if (lab && !s_lab_matches (l, nbuf, lab))
            continue;
        matched = true;
        rc = s_lab_equipment (&b, l, nbuf, lines[i]);
    }
    if (rc == EL_ETOOBIG)
        el_file_error_set (err, 0, "more than %d records", EL_IMPORT_MAX_RECORDS);
    if (rc < 0)
        goto out;
    if (lab && !matched) {
        el_file_error_set (err, 0, "no lab named \"%.80s\" in the file", lab);
        rc = EL_ENOTFOUND;
        goto out;
    }
    s_build_finish (&b, ret);
    rc = 0;
out:
    free (lines);
    if (root)
        json_decref (root);
    s_build_fini (&b);
    return rc;
}

/* ================================================================ Fab Manager members */

enum { M_ID, M_FIRST, M_LAST, M_USER, M_EMAIL, M_EXTERNAL, M_GROUP, M_TRAININGS, M_COUNT };

static const char *const s_member_cols[M_COUNT] = {
    "id", "first_name", "last_name", "username", "email", "external_id", "group", "trainings" };

static int
s_member_key (const el_member_import_opts_t *opts, const char *kind, const char *identity,
              char **ret)
{
    crypto_generichash_state st;
    uint8_t h[16];
    if (crypto_generichash_init (&st, NULL, 0, sizeof h) != 0)
        return -EIO;
    if (opts && opts->salt && opts->salt_len)
        crypto_generichash_update (&st, opts->salt, opts->salt_len);
    crypto_generichash_update (&st, (const uint8_t *) kind, strlen (kind) + 1);
    crypto_generichash_update (&st, (const uint8_t *) identity, strlen (identity));
    crypto_generichash_final (&st, h, sizeof h);
    char *key = malloc (2 + 32 + 1);
    if (!key)
        return -ENOMEM;
    memcpy (key, "m-", 2);
    sodium_bin2hex (key + 2, 33, h, sizeof h);
    *ret = key;
    return 0;
}

static int
s_member_trainings (El__Member *m, const char *list, const el_member_import_opts_t *opts)
{
    char *copy = strdup (list);
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r (copy, ",", &save); tok && rc == 0; tok = strtok_r (NULL, ",", &save)) {
        s_trim (tok);
        if (!tok[0] || strlen (tok) > S_TRAINING_MAX)
            continue;
        bool numeric = true;
        for (const char *p = tok; *p; p++)
            numeric = numeric && isdigit ((unsigned char) *p);
        char name[S_TRAINING_MAX + 32];
        if (numeric) {
            snprintf (name, sizeof name, "fabmanager-training-%s", tok);
            size_t tl = strlen (tok);
            for (size_t i = 0; opts && opts->trainings && opts->trainings[i]; i++) {
                const char *pair = opts->trainings[i];
                if (strncmp (pair, tok, tl) == 0 && pair[tl] == '=' && pair[tl + 1]) {
                    el_text_copy (name, sizeof name, pair + tl + 1);
                    break;
                }
            }
        } else {
            const char *cat = el_equipment_category (tok);
            if (cat)
                snprintf (name, sizeof name, "%s", cat);
            else
                s_word (tok, name, sizeof name);
        }
        if (name[0])
            rc = s_push_str (&m->trainings, &m->n_trainings, name);
    }
    free (copy);
    return rc;
}

static int
s_member_row (s_build_t *b, const s_row_t *r, const int *idx, size_t n_cols,
              const el_member_import_opts_t *opts)
{
    if (r->fault)
        return s_problem (b, r->line, true, "row skipped: %s", r->fault);
    if (r->n > n_cols)
        return s_problem (b, r->line, true, "row skipped: %zu fields, the header has %zu",
                          r->n, n_cols);
    int rc = -ENOMEM;
    char *f[M_COUNT];
    for (int k = 0; k < M_COUNT; k++) {
        f[k] = strdup (idx[k] >= 0 ? s_field (r, (size_t) idx[k]) : "");
        if (!f[k]) {
            while (k-- > 0)
                free (f[k]);
            return -ENOMEM;
        }
        s_trim (f[k]);
    }
    El__Member *m = NULL;
    char *key = NULL;
    char display[2 * S_NAME_MAX + 2];
    const char *why = NULL;
    for (int k = 0; k < M_COUNT && !why; k++)
        if (!s_text_ok (f[k], false))
            why = "a field is not UTF-8 text";
    snprintf (display, sizeof display, "%s%s%s", f[M_FIRST], f[M_FIRST][0] && f[M_LAST][0] ? " " : "",
              f[M_LAST]);
    if (!display[0])
        snprintf (display, sizeof display, "%s", f[M_USER]);
    bool short_row = r->n < n_cols;
    if (!why && !display[0])
        why = f[M_ID][0] || f[M_EMAIL][0]
                  ? "no name (a row that only updates an existing member by id or e-mail)"
                  : "no name";
    if (!why && strlen (display) > S_NAME_MAX)
        why = "name longer than 200 bytes";
    if (why) {
        rc = short_row ? s_problem (b, r->line, true, "row skipped: %s; short row, %zu of %zu fields",
                                    why, r->n, n_cols)
                       : s_problem (b, r->line, true, "row skipped: %s", why);
        goto out;
    }
    const char *kind = f[M_EXTERNAL][0] ? "external_id" : f[M_EMAIL][0] ? "email"
                     : f[M_USER][0] ? "username" : "name";
    char *identity = f[M_EXTERNAL][0] ? f[M_EXTERNAL] : f[M_EMAIL][0] ? f[M_EMAIL]
                   : f[M_USER][0] ? f[M_USER] : display;
    if (identity == f[M_EMAIL])
        for (char *p = identity; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
    rc = s_member_key (opts, kind, identity, &key);
    if (rc < 0)
        goto out;
    if (s_keyset_has (&b->keys, key)) {
        rc = s_problem (b, r->line, true, "row skipped: the same member as an earlier row");
        goto out;
    }
    rc = -ENOMEM;
    m = malloc (sizeof *m);
    if (!m)
        goto out;
    el__member__init (m);
    m->sharing = EL__SHARING__SHARING_SITE;
    if (s_set_str (&m->display_name, display) < 0)
        goto out;
    if (f[M_GROUP][0] && s_push_str (&m->roles, &m->n_roles, f[M_GROUP]) < 0)
        goto out;
    if (s_member_trainings (m, f[M_TRAININGS], opts) < 0)
        goto out;
    if (short_row) {
        rc = s_problem (b, r->line, false, "short row: %zu of %zu fields (the rest taken as empty)",
                        r->n, n_cols);
        if (rc < 0)
            goto out;
    }
    rc = s_build_add (b, m, key, r->line);
    m = NULL;
    key = NULL;
out:
    if (m)
        el__member__free_unpacked (m, NULL);
    free (key);
    for (int k = 0; k < M_COUNT; k++)
        free (f[k]);
    return rc;
}

int
el_import_fabmanager_members (const char *data, size_t len, const el_member_import_opts_t *opts,
                              el_import_t **ret, el_import_error_t *err)
{
    if (len > EL_IMPORT_MAX_BYTES) {
        el_file_error_set (err, 0, "file is %zu bytes, over the %u-byte cap", len, EL_IMPORT_MAX_BYTES);
        return EL_ETOOBIG;
    }
    if (sodium_init () < 0)
        return -EIO;
    s_build_t b;
    s_row_t row = { 0 };
    s_csv_t csv;
    int idx[M_COUNT];
    int rc = s_build_init (&b, S_MEMBERS);
    if (rc < 0)
        goto out;
    s_csv_init (&csv, data ? data : "", data ? len : 0, ';');
    do {
        rc = s_csv_next (&csv, &row, err);
    } while (rc == 1 && s_row_blank (&row) && s_field (&row, 0)[0] == '\0');
    if (rc == 0) {
        el_file_error_set (err, 0, "empty file: no header row");
        rc = EL_EINVAL;
    }
    if (rc < 0)
        goto out;
    size_t n_cols = row.n;
    rc = s_header (&row, s_member_cols, idx, M_COUNT, &b, err, false);
    if (rc < 0)
        goto out;
    if (idx[M_FIRST] < 0 || idx[M_LAST] < 0) {
        el_file_error_set (err, row.line, "not a Fab Manager member file: the header row (';'-separated) "
                                "needs first_name and last_name");
        rc = EL_EINVAL;
        goto out;
    }
    for (;;) {
        rc = s_csv_next (&csv, &row, err);
        if (rc != 1)
            break;
        if (s_row_blank (&row) && row.n <= 1)
            continue;
        rc = s_member_row (&b, &row, idx, n_cols, opts);
        if (rc < 0)
            break;
    }
    if (rc == EL_ETOOBIG)
        el_file_error_set (err, row.line, "more than %d records", EL_IMPORT_MAX_RECORDS);
    if (rc < 0)
        goto out;
    s_build_finish (&b, ret);
    rc = 0;
out:
    free (row.text);
    s_build_fini (&b);
    return rc;
}

/* ================================================================ files */

int
el_import_read_file (const char *path, size_t max, char **ret, size_t *ret_len)
{
    int rc = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0, cap = 64u << 10;
    char *buf = malloc (cap + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out_close;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                rc = EL_ETOOBIG;
                goto out_free;
            }
            size_t ncap = cap * 2;
            char *b = realloc (buf, ncap + 1);
            if (!b) {
                rc = -ENOMEM;
                goto out_free;
            }
            buf = b;
            cap = ncap;
        }
        ssize_t got = read (fd, buf + len, cap - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out_free;
        }
        if (got == 0)
            break;
        len += (size_t) got;
        if (len > max) {
            rc = EL_ETOOBIG;
            goto out_free;
        }
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    close (fd);
    return 0;
out_free:
    free (buf);
out_close:
    close (fd);
    return rc;
}
