/* el_cli_out.h — what the command line prints: tables and JSON documents.
 *
 * Every command builds its result as one JSON value (jansson); `--json`
 * prints that document, and the readable form is rendered from the same
 * value through a column list, so the two always agree: a table cell is the
 * named field of the row object, formatted by the column's kind.
 *
 * Cells: strings as they are (control characters shown as a space), numbers,
 * true/false as yes/no, null or absent as "-", arrays joined by ", ", time
 * columns read a field in µs since the epoch and show local time
 * (el_cli_time_table()); WHEN columns show the row's date text instead
 * when it has one (RFC 5545 §3.3.4 DATE: all-day events). Widths are counted in code points of UTF-8 text.
 * A column with a width limit cuts longer cells and ends them with "…".
 *
 * One thread (jansson values are not shared). */
#ifndef EL_CLI_OUT_H
#define EL_CLI_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define EL_CLI_CELL_MAX 1024     /* bytes of one rendered cell, incl. NUL */

typedef enum {
    EL_CLI_COL_TEXT = 0,        /* string, number, bool, array */
    EL_CLI_COL_TIME = 1,        /* integer µs since the epoch, 0 = "-" */
    EL_CLI_COL_WHEN = 2,        /* a TIME field "x_us"; a row holding the string field
                                   "x_date" (an all-day event) shows that date instead */
} el_cli_col_kind_t;

typedef struct {
    const char *header;         /* column title (table) or label (record view) */
    const char *field;          /* member name; "a.b" reads a nested object */
    el_cli_col_kind_t kind;
    size_t max_width;           /* code points; 0 = no limit */
} el_cli_col_t;

/** Text of @p col in row @p obj into @p out (EL_CLI_CELL_MAX bytes). */
void el_cli_cell (const json_t *obj, const el_cli_col_t *col, char *out, size_t size);

/** Display width of UTF-8 @p text, in code points. */
size_t el_cli_text_width (const char *text);

/** Print @p rows (an array of objects) as an aligned table with a header line.
 * @return 0, -ENOMEM, -EINVAL (rows is not an array). */
int el_cli_table_print (FILE *f, const json_t *rows, const el_cli_col_t *cols, size_t n_cols);

/** Print one object as "Label: value" lines in the order of @p cols
 * (columns whose field is absent are left out). @return 0. */
int el_cli_record_print (FILE *f, const json_t *obj, const el_cli_col_t *cols, size_t n_cols);

/** Print @p doc as one JSON document (2-space indent) and a newline.
 * @return 0, -EIO. */
int el_cli_json_print (FILE *f, const json_t *doc);

/** A field lookup with "a.b" paths. @return borrowed value or NULL. */
const json_t *el_cli_field (const json_t *obj, const char *path);

#endif
