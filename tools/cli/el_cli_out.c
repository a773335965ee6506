/* el_cli_out.c — see el_cli_out.h. */
#include "el_cli_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "el_cli_time.h"

const json_t *
el_cli_field (const json_t *obj, const char *path)
{
    char name[128];
    const json_t *cur = obj;
    while (cur && *path) {
        const char *dot = strchr (path, '.');
        size_t len = dot ? (size_t) (dot - path) : strlen (path);
        if (len >= sizeof name || !json_is_object (cur))
            return NULL;
        memcpy (name, path, len);
        name[len] = '\0';
        cur = json_object_get (cur, name);
        path += len + (dot ? 1 : 0);
    }
    return cur;
}

size_t
el_cli_text_width (const char *text)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w++;
    return w;
}

/* Append @p text to out (bounded), control characters as spaces. */
static void
s_append (char *out, size_t size, size_t *len, const char *text)
{
    for (const unsigned char *p = (const unsigned char *) text; *p && *len + 1 < size; p++)
        out[(*len)++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char) *p;
    out[*len] = '\0';
}

static void
s_scalar (const json_t *v, char *buf, size_t size)
{
    if (json_is_string (v))
        snprintf (buf, size, "%s", json_string_value (v));
    else if (json_is_integer (v))
        snprintf (buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    else if (json_is_real (v))
        snprintf (buf, size, "%g", json_real_value (v));
    else if (json_is_true (v))
        snprintf (buf, size, "yes");
    else if (json_is_false (v))
        snprintf (buf, size, "no");
    else
        snprintf (buf, size, "-");
}

/* Cut @p out to @p max code points, ending with "…". */
static void
s_cut (char *out, size_t size, size_t max)
{
    if (!max || el_cli_text_width (out) <= max)
        return;
    size_t w = 0, i = 0;
    for (; out[i]; i++) {
        if (((unsigned char) out[i] & 0xC0) != 0x80) {
            if (w == max - 1)
                break;
            w++;
        }
    }
    if (i + 4 <= size)
        memcpy (out + i, "\xe2\x80\xa6", 4);
}

/* The field "x_date" beside time field "x_us", or NULL. */
static const json_t *
s_date_of (const json_t *obj, const char *field)
{
    char name[128];
    size_t len = strlen (field);
    if (len < 3 || len + 3 > sizeof name || strcmp (field + len - 3, "_us") != 0)
        return NULL;
    snprintf (name, sizeof name, "%.*s_date", (int) (len - 3), field);
    return el_cli_field (obj, name);
}

void
el_cli_cell (const json_t *obj, const el_cli_col_t *col, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    const json_t *v = el_cli_field (obj, col->field);
    char buf[EL_CLI_CELL_MAX];
    const json_t *date = col->kind == EL_CLI_COL_WHEN ? s_date_of (obj, col->field) : NULL;
    if (json_is_string (date)) {
        s_append (out, size, &len, json_string_value (date));
    } else if (col->kind == EL_CLI_COL_TIME || col->kind == EL_CLI_COL_WHEN) {
        if (json_is_integer (v) && json_integer_value (v) != 0) {
            char t[EL_CLI_TIME_TEXT_MAX];
            el_cli_time_table (json_integer_value (v), t);
            s_append (out, size, &len, t);
        } else
            s_append (out, size, &len, "-");
    } else if (json_is_array (v)) {
        size_t i;
        const json_t *item;
        json_array_foreach (v, i, item) {
            if (i)
                s_append (out, size, &len, ", ");
            s_scalar (item, buf, sizeof buf);
            s_append (out, size, &len, buf);
        }
        if (json_array_size (v) == 0)
            s_append (out, size, &len, "-");
    } else {
        s_scalar (v, buf, sizeof buf);
        s_append (out, size, &len, buf[0] ? buf : "-");
    }
    s_cut (out, size, col->max_width);
}

static void
s_pad (FILE *f, size_t n)
{
    while (n--)
        fputc (' ', f);
}

int
el_cli_table_print (FILE *f, const json_t *rows, const el_cli_col_t *cols, size_t n_cols)
{
    if (!json_is_array (rows))
        return -EINVAL;
    size_t n_rows = json_array_size (rows);
    size_t *width = calloc (n_cols, sizeof *width);
    char *cells = malloc ((n_rows ? n_rows : 1) * n_cols * EL_CLI_CELL_MAX);
    if (!width || !cells) {
        free (width);
        free (cells);
        return -ENOMEM;
    }
    for (size_t c = 0; c < n_cols; c++)
        width[c] = el_cli_text_width (cols[c].header);
    for (size_t r = 0; r < n_rows; r++)
        for (size_t c = 0; c < n_cols; c++) {
            char *cell = cells + (r * n_cols + c) * EL_CLI_CELL_MAX;
            el_cli_cell (json_array_get (rows, r), &cols[c], cell, EL_CLI_CELL_MAX);
            size_t w = el_cli_text_width (cell);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t c = 0; c < n_cols; c++) {
        fputs (cols[c].header, f);
        if (c + 1 < n_cols)
            s_pad (f, width[c] - el_cli_text_width (cols[c].header) + 2);
    }
    fputc ('\n', f);
    for (size_t r = 0; r < n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = cells + (r * n_cols + c) * EL_CLI_CELL_MAX;
            fputs (cell, f);
            if (c + 1 < n_cols)
                s_pad (f, width[c] - el_cli_text_width (cell) + 2);
        }
        fputc ('\n', f);
    }
    free (width);
    free (cells);
    return 0;
}

int
el_cli_record_print (FILE *f, const json_t *obj, const el_cli_col_t *cols, size_t n_cols)
{
    size_t label = 0;
    for (size_t c = 0; c < n_cols; c++)
        if (el_cli_field (obj, cols[c].field) && el_cli_text_width (cols[c].header) > label)
            label = el_cli_text_width (cols[c].header);
    char cell[EL_CLI_CELL_MAX];
    for (size_t c = 0; c < n_cols; c++) {
        if (!el_cli_field (obj, cols[c].field))
            continue;
        el_cli_cell (obj, &cols[c], cell, sizeof cell);
        fprintf (f, "%s:", cols[c].header);
        s_pad (f, label - el_cli_text_width (cols[c].header) + 1);
        fprintf (f, "%s\n", cell);
    }
    return 0;
}

int
el_cli_json_print (FILE *f, const json_t *doc)
{
    if (json_dumpf (doc, f, JSON_INDENT (2)) != 0)
        return -EIO;
    fputc ('\n', f);
    return 0;
}
