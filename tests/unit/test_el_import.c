/* test_el_import.c — equipment CSV, fablabs.io JSON and Fab Manager member imports.
 *
 * Without arguments: the synthetic cases. With --real: the real files of
 * ../shared/data/real only, or exit 77 (skipped) with a message when that
 * folder is absent; ctest runs both, as unit_test_el_import and
 * unit_test_el_import_real. Expected line numbers of the real files were
 * found by reading them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "el_import.h"

/* ------------------------------------------------------------ helpers */

static char *
s_read (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek (f, 0, SEEK_END) == 0) {
        long n = ftell (f);
        rewind (f);
        buf = malloc ((size_t) n + 1);
        if (buf && fread (buf, 1, (size_t) n, f) == (size_t) n) {
            buf[n] = '\0';
            *len = (size_t) n;
        } else {
            free (buf);
            buf = NULL;
        }
    }
    fclose (f);
    return buf;
}

static bool
s_has_problem (const el_import_t *imp, uint32_t line, bool skipped, const char *needle)
{
    for (size_t i = 0; i < imp->problems.n; i++) {
        const el_import_problem_t *p = &imp->problems.items[i];
        if (p->line == line && p->skipped == skipped && strstr (p->reason, needle))
            return true;
    }
    return false;
}

static void
s_dump_problems (const el_import_t *imp)
{
    for (size_t i = 0; i < imp->problems.n; i++)
        fprintf (stderr, "  line %u %s: %s\n", imp->problems.items[i].line,
                 imp->problems.items[i].skipped ? "skipped" : "note", imp->problems.items[i].reason);
}

static ssize_t
s_key_index (const el_import_t *imp, const char *key)
{
    for (size_t i = 0; i < imp->n; i++)
        if (strcmp (imp->keys[i], key) == 0)
            return (ssize_t) i;
    return -1;
}

static const El__Equipment *
s_eq (const el_import_t *imp, const char *key)
{
    ssize_t i = s_key_index (imp, key);
    if (i < 0)
        fprintf (stderr, "no equipment with key %s\n", key);
    assert_true (i >= 0);
    return imp->equipment[i];
}

/* With the defaults: these files test other things than the required columns. */
static el_import_t *
s_equipment_ok (const char *text)
{
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    const el_equipment_import_opts_t defaults = { .defaults = true };
    int rc = el_import_equipment_csv_opts (text, strlen (text), &defaults, &imp, &err);
    if (rc)
        fprintf (stderr, "refused: %d line %u %s\n", rc, err.line, err.reason);
    assert_int_equal (rc, 0);
    return imp;
}

/* ------------------------------------------------------------ categories */

static void
test_categories (void **state)
{
    (void) state;
    assert_string_equal (el_equipment_category ("laser_cutter"), "laser_cutter");
    assert_string_equal (el_equipment_category ("D\xC3\xA9" "coupe laser"), "laser_cutter");
    assert_string_equal (el_equipment_category ("laser"), "laser_cutter");
    assert_string_equal (el_equipment_category ("three_d_printing"), "3d_printer");
    assert_string_equal (el_equipment_category ("Imprimante 3D"), "3d_printer");
    assert_string_equal (el_equipment_category ("3D-printer"), "3d_printer");
    assert_string_equal (el_equipment_category ("TOUR"), "lathe");
    assert_string_equal (el_equipment_category ("Tour \xC3\xA0 m\xC3\xA9taux"), "lathe");
    assert_string_equal (el_equipment_category ("cnc_milling"), "cnc_mill");
    assert_string_equal (el_equipment_category ("precision_milling"), "pcb_mill");
    assert_string_equal (el_equipment_category ("vinyl_cutting"), "vinyl_cutter");
    assert_string_equal (el_equipment_category ("circuit_production"), "electronics_bench");
    assert_string_equal (el_equipment_category ("Machine \xC3\xA0 coudre"), "sewing_machine");
    assert_null (el_equipment_category ("bio_lab"));
    assert_null (el_equipment_category (""));
    assert_null (el_equipment_category (NULL));
    assert_string_equal (el_equipment_category_label ("3d_printer"), "3D printer");
    assert_string_equal (el_equipment_category_label ("unknown_thing"), "unknown_thing");
}

/* ------------------------------------------------------------ equipment CSV */

static void
test_equipment_csv_good (void **state)
{
    (void) state;
    /* BOM, CRLF, columns in another order, quoted fields with commas, quotes
     * and a line break, synonyms, an unknown category, repeated names */
    const char *text =
        "\xEF\xBB\xBF" "name,category,make,model,status,bookable_by,required_training,location,"
        "hourly_rate,currency,description\r\n"                                      /* 1 */
        "Tour \xC3\xA0 m\xC3\xA9taux,Tour,Cazeneuve,HB 500,disponible,network,lathe,"
        "\"Atelier, rez-de-chauss\xC3\xA9" "e\",\"18,50\",,\"Tour \"\"parall\xC3\xA8le\"\"\r\n"
        "sur deux lignes\"\r\n"                                                      /* 2-3 */
        "Prusa MK4,Imprimante 3D,Prusa,MK4,available,site,,Salle 2,2,EUR,\r\n"       /* 4 */
        "Prusa MK4,3d_printer,Prusa,MK4,in use,federation,,Salle 2,,,\r\n"          /* 5 */
        "\r\n"                                                                       /* 6 */
        "Scie \xC3\xA0 ruban,Scie \xC3\xA0 ruban,,,maintenance,,,,,,\r\n"            /* 7 */
        "Brodeuse,,,,hors service,,,,0.5,CHF,\r\n";                                  /* 8 */
    el_import_t *imp = s_equipment_ok (text);
    s_dump_problems (imp);
    assert_int_equal (imp->problems.n, 0);
    assert_int_equal (imp->n, 5);
    assert_null (imp->members);

    const El__Equipment *e = s_eq (imp, "tour-a-metaux");
    assert_string_equal (e->name, "Tour \xC3\xA0 m\xC3\xA9taux");
    assert_string_equal (e->category, "lathe");
    assert_string_equal (e->category_original, "");
    assert_string_equal (e->make, "Cazeneuve");
    assert_int_equal (e->status, EL__EQUIPMENT_STATUS__AVAILABLE);
    assert_int_equal (e->bookable_by, EL__SHARING__SHARING_NETWORK);
    assert_string_equal (e->required_training, "lathe");
    assert_string_equal (e->location, "Atelier, rez-de-chauss\xC3\xA9" "e");
    assert_int_equal (e->hourly_rate_cents, 1850);
    assert_string_equal (e->currency, "EUR");
    assert_string_equal (e->description, "Tour \"parall\xC3\xA8le\"\nsur deux lignes");
    assert_int_equal (imp->lines[0], 2);

    e = s_eq (imp, "prusa-mk4");
    assert_string_equal (e->category, "3d_printer");
    assert_int_equal (e->hourly_rate_cents, 200);
    assert_int_equal (e->bookable_by, EL__SHARING__SHARING_SITE);
    assert_int_equal (imp->lines[1], 4);
    e = s_eq (imp, "prusa-mk4-2");
    assert_int_equal (e->status, EL__EQUIPMENT_STATUS__IN_USE);
    assert_int_equal (e->bookable_by, EL__SHARING__SHARING_FEDERATION);
    assert_string_equal (e->currency, "");   /* no rate, no currency */

    e = s_eq (imp, "scie-a-ruban");
    assert_string_equal (e->category, "other");
    assert_string_equal (e->category_original, "Scie \xC3\xA0 ruban");
    assert_int_equal (e->status, EL__EQUIPMENT_STATUS__MAINTENANCE);
    assert_int_equal (imp->lines[3], 7);

    e = s_eq (imp, "brodeuse");
    assert_string_equal (e->category, "other");        /* empty category */
    assert_int_equal (e->status, EL__EQUIPMENT_STATUS__OUT_OF_ORDER);
    assert_int_equal (e->hourly_rate_cents, 50);
    assert_string_equal (e->currency, "CHF");

    El__Equipment *taken = el_import_take_equipment (imp, 0);
    assert_non_null (taken);
    assert_null (imp->equipment[0]);
    el__equipment__free_unpacked (taken, NULL);
    el_import_destroy (&imp);
    el_import_destroy (&imp);
}

static void
test_equipment_csv_bad_rows (void **state)
{
    (void) state;
    const char *text =
        "id,name,category,status,bookable_by,hourly_rate,currency,description,colour\n" /* 1 */
        "a,Bon,laser,available,site,10,EUR,ok,red\n"                                /* 2 */
        "b,Trop court,laser\n"                                                      /* 3 */
        "c,,laser,available,site,,,,\n"                                             /* 4 */
        "d,Statut,laser,cass\xC3\xA9,site,,,,\n"                                    /* 5 */
        "e,R\xC3\xA9seau,laser,available,village,,,,\n"                             /* 6 */
        "f,Tarif,laser,available,site,12.345,,,\n"                                  /* 7 */
        "g,Tarif2,laser,available,site,-3,,,\n"                                     /* 8 */
        "h,Devise,laser,available,site,3,euro,,\n"                                  /* 9 */
        "i,Multi,laser,available,site,,,\"une\n"                                    /* 10 */
        "description\n"                                                             /* 11 */
        "sur trois\",\n"                                                            /* 12 */
        "j,Pas UTF-8 \xC3\x28,laser,,,,,,\n"                                        /* 13 */
        "k,\"Quote\"x,laser,,,,,,\n"                                                /* 14 */
        "a,Doublon,laser,,,,,,\n"                                                   /* 15 */
        "l,Bon aussi,cnc,,,,,,\n";                                                  /* 16 */
    el_import_t *imp = s_equipment_ok (text);
    s_dump_problems (imp);
    assert_int_equal (imp->n, 3);
    assert_string_equal (imp->keys[0], "a");
    assert_string_equal (imp->keys[1], "i");
    assert_string_equal (imp->keys[2], "l");
    assert_int_equal (imp->lines[1], 10);
    assert_int_equal (imp->lines[2], 16);
    assert_string_equal (imp->equipment[1]->description, "une\ndescription\nsur trois");
    assert_true (s_has_problem (imp, 1, false, "\"colour\" is not known"));
    assert_true (s_has_problem (imp, 3, true, "3 fields, the header has 9"));
    assert_true (s_has_problem (imp, 4, true, "no name"));
    assert_true (s_has_problem (imp, 5, true, "status"));
    assert_true (s_has_problem (imp, 6, true, "bookable_by"));
    assert_true (s_has_problem (imp, 7, true, "hourly_rate"));
    assert_true (s_has_problem (imp, 8, true, "hourly_rate"));
    assert_true (s_has_problem (imp, 9, true, "currency"));
    assert_true (s_has_problem (imp, 13, true, "not UTF-8"));
    assert_true (s_has_problem (imp, 14, true, "after a closing quote"));
    assert_true (s_has_problem (imp, 15, true, "used by an earlier row"));
    assert_int_equal (imp->problems.n, 11);
    el_import_destroy (&imp);
}

static void
test_equipment_csv_semicolons_and_nul (void **state)
{
    (void) state;
    /* as a French spreadsheet saves it: ';' and a decimal comma */
    const char *text = "\r\nName;Category;hourly_rate;Currency\r\n"
                       "Fraiseuse;fraiseuse;\"12,5\";EUR\r\n";
    el_import_t *imp = s_equipment_ok (text);
    assert_int_equal (imp->n, 1);
    assert_int_equal (imp->problems.n, 0);
    assert_string_equal (imp->equipment[0]->category, "cnc_mill");
    assert_int_equal (imp->equipment[0]->hourly_rate_cents, 1250);
    assert_int_equal (imp->lines[0], 3);
    el_import_destroy (&imp);

    static const char nul[] = "name,model,bookable_by,required_training\nA,x\0y,,\nB,z,,\n";
    el_import_error_t err;
    assert_int_equal (el_import_equipment_csv (nul, sizeof nul - 1, &imp, &err), 0);
    assert_int_equal (imp->n, 1);
    assert_string_equal (imp->keys[0], "b");
    assert_true (s_has_problem (imp, 2, true, "NUL"));
    el_import_destroy (&imp);
}

static void
test_equipment_csv_refused (void **state)
{
    (void) state;
    const struct {
        const char *text;
        uint32_t line;
        const char *needle;
    } cases[] = {
        { "", 0, "empty" },
        { "\n\n", 0, "empty" },
        { "category,make\nlaser,Trotec\n", 1, "header row must name the columns" },
        { "name,make,name\nx,y,z\n", 1, "appears twice" },
        { "name,description\nok,fine\nx,\"never closed\nat all\n", 3, "never closed" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        el_import_t *imp = NULL;
        el_import_error_t err = { 0 };
        int rc = el_import_equipment_csv (cases[i].text, strlen (cases[i].text), &imp, &err);
        if (rc != EL_EINVAL || err.line != cases[i].line || !strstr (err.reason, cases[i].needle))
            fprintf (stderr, "case %zu: rc %d line %u %s\n", i, rc, err.line, err.reason);
        assert_int_equal (rc, EL_EINVAL);
        assert_null (imp);
        assert_int_equal (err.line, cases[i].line);
        assert_non_null (strstr (err.reason, cases[i].needle));
    }
    el_import_t *imp = NULL;
    el_import_error_t err;
    assert_int_equal (el_import_equipment_csv ("name\n", EL_IMPORT_MAX_BYTES + 1, &imp, &err),
                      EL_ETOOBIG);
    assert_null (imp);
}

/* The columns that decide who may use a machine: a file without them is
 * refused, naming them, unless the defaults are asked for; the defaults and
 * an empty bookable_by cell are those of `entrelab equipment add`. */
static void
test_equipment_csv_required_columns (void **state)
{
    (void) state;
    const struct {
        const char *text;
        uint32_t line;
        const char *names, *not_named;
    } cases[] = {
        { "name,category\nTour,lathe\n", 1, "no required_training, bookable_by columns", NULL },
        { "\nname,category,bookable_by\nTour,lathe,site\n", 2, "no required_training column",
          "bookable_by" },
        { "name;required_training\nTour;lathe\n", 1, "no bookable_by column",
          "required_training" },
    };
    const el_equipment_import_opts_t defaults = { .defaults = true };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        el_import_t *imp = NULL;
        el_import_error_t err = { 0 };
        size_t len = strlen (cases[i].text);
        assert_int_equal (el_import_equipment_csv (cases[i].text, len, &imp, &err), EL_EINVAL);
        assert_null (imp);
        assert_int_equal (err.line, cases[i].line);
        assert_non_null (strstr (err.reason, cases[i].names));
        assert_non_null (strstr (err.reason, "--defaults"));
        /* what is missing is said before the first ':' (then come the defaults) */
        char missing[sizeof err.reason];
        snprintf (missing, sizeof missing, "%s", err.reason);
        assert_non_null (strchr (missing, ':'));
        *strchr (missing, ':') = '\0';
        assert_non_null (strstr (missing, cases[i].names));
        if (cases[i].not_named)
            assert_null (strstr (missing, cases[i].not_named));
        /* the same file with the defaults */
        assert_int_equal (el_import_equipment_csv_opts (cases[i].text, len, &defaults, &imp,
                                                        &err), 0);
        assert_int_equal (imp->n, 1);
        assert_int_equal (imp->problems.n, 0);
        el_import_destroy (&imp);
    }
    /* what the defaults are */
    el_import_t *imp = s_equipment_ok ("name,category\nTour,lathe\n");
    assert_int_equal (imp->equipment[0]->bookable_by, EL__SHARING__SHARING_NETWORK);
    assert_int_equal (imp->equipment[0]->bookable_by, EL_IMPORT_DEFAULT_BOOKABLE_BY);
    assert_string_equal (imp->equipment[0]->required_training, "");
    el_import_destroy (&imp);
    /* with the columns, no defaults needed; an empty bookable_by is the default too */
    const char *full = "name,bookable_by,required_training\nTour,,lathe\nLaser,site,\n";
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_equipment_csv (full, strlen (full), &imp, &err), 0);
    assert_int_equal (imp->n, 2);
    assert_int_equal (imp->equipment[0]->bookable_by, EL__SHARING__SHARING_NETWORK);
    assert_string_equal (imp->equipment[0]->required_training, "lathe");
    assert_int_equal (imp->equipment[1]->bookable_by, EL__SHARING__SHARING_SITE);
    assert_string_equal (imp->equipment[1]->required_training, "");
    el_import_destroy (&imp);
    /* a file that cannot be read says so first */
    const char *broken = "name,description\nok,fine\nx,\"never closed\nat all\n";
    assert_int_equal (el_import_equipment_csv (broken, strlen (broken), &imp, &err), EL_EINVAL);
    assert_non_null (strstr (err.reason, "never closed"));
}

/* ------------------------------------------------------------ fablabs.io JSON */

static void
test_fablabs_json_synthetic (void **state)
{
    (void) state;
    const char *text =
        "[\n"                                                                        /* 1 */
        "  {\"name\": \"Lab \\u00c9t\\u00e9\", \"url\": \"https://www.fablabs.io/labs/labete\",\n" /* 2 */
        "   \"capabilities\": \"three_d_printing;laser;laser;bio_lab\",\n"          /* 3 */
        "   \"address_1\": \"1 rue des Forges\", \"postal_code\": \"63300\", \"city\": \"Thiers\"},\n" /* 4 */
        "  42,\n"                                                                    /* 5 */
        "  {\"name\": \"\", \"capabilities\": \"laser\"},\n"                         /* 6 */
        "  {\"name\": \"Sans machines\", \"capabilities\": null},\n"                  /* 7 */
        "  {\"name\": \"Bizarre\", \"capabilities\": 7},\n"                           /* 8 */
        "  {\"name\": \"Vide\", \"capabilities\": \" ; \"},\n"                        /* 9 */
        "  {\"name\": \"Lab [2], \\\"quoted\\\"\", \"capabilities\": \"cnc_milling\"}\n" /* 10 */
        "]\n";
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_fablabs_json (text, strlen (text), NULL, &imp, &err), 0);
    s_dump_problems (imp);
    assert_int_equal (imp->n, 4);
    const El__Equipment *e = s_eq (imp, "labete/three_d_printing");
    assert_string_equal (e->name, "3D printer \xE2\x80\x94 Lab \xC3\x89t\xC3\xA9");
    assert_string_equal (e->category, "3d_printer");
    assert_string_equal (e->location, "1 rue des Forges, 63300 Thiers");
    assert_int_equal (e->n_extensions, 1);
    assert_string_equal (e->extensions[0]->key, "fablabs_io.url");
    e = s_eq (imp, "labete/bio_lab");
    assert_string_equal (e->category, "other");
    assert_string_equal (e->category_original, "bio_lab");
    e = s_eq (imp, "lab-2-quoted/cnc_milling");
    assert_string_equal (e->name, "CNC mill \xE2\x80\x94 Lab [2], \"quoted\"");
    assert_int_equal (imp->lines[0], 2);
    assert_int_equal (imp->lines[3], 10);
    assert_true (s_has_problem (imp, 5, true, "not a JSON object"));
    assert_true (s_has_problem (imp, 6, true, "no name"));
    assert_true (s_has_problem (imp, 7, true, "no capabilities"));
    assert_true (s_has_problem (imp, 8, true, "not a text"));
    assert_true (s_has_problem (imp, 9, true, "no capabilities"));
    assert_int_equal (imp->problems.n, 5);
    el_import_destroy (&imp);

    /* one lab only */
    assert_int_equal (el_import_fablabs_json (text, strlen (text), "LABETE", &imp, &err), 0);
    assert_int_equal (imp->n, 3);
    assert_int_equal (imp->problems.n, 0);
    el_import_destroy (&imp);
    assert_int_equal (el_import_fablabs_json (text, strlen (text), "nowhere", &imp, &err),
                      EL_ENOTFOUND);
    assert_null (imp);

    /* refused files */
    const char *bad = "[\n {\"name\": \"x\",\n  \"capabilities\": \"laser\"\n ,]\n";
    assert_int_equal (el_import_fablabs_json (bad, strlen (bad), NULL, &imp, &err), EL_EINVAL);
    assert_null (imp);
    assert_int_equal (err.line, 4);
    assert_non_null (strstr (err.reason, "not JSON"));
    assert_int_equal (el_import_fablabs_json ("{\"a\": 1}", 8, NULL, &imp, &err), EL_EINVAL);
    assert_non_null (strstr (err.reason, "array"));
    assert_int_equal (el_import_fablabs_json ("[\"\\u0000\"]", 10, NULL, &imp, &err), EL_EINVAL);
    assert_int_equal (el_import_fablabs_json ("[]", 2, NULL, &imp, &err), 0);
    assert_int_equal (imp->n, 0);
    el_import_destroy (&imp);
}

/* ------------------------------------------------------------ Fab Manager members */

static const char s_fm_header[] =
    "id;gender;first_name;last_name;username;email;password;external_id;birthdate;address;"
    "phone;group;tags;trainings;website;job;interests;softwares;allow_contact;allow_newsletter;"
    "organization_name;organization_address;facebook;twitter;googleplus;viadeo;linkedin;"
    "instagram;youtube;vimeo;dailymotion;github;echosciences;pinterest;lastfm;flickr\n";

static void
test_members_synthetic (void **state)
{
    (void) state;
    char text[4096];
    snprintf (text, sizeof text, "%s"
              ";female;Ana\xC3\xAFs;Duval;aduval;Ana.Duval@example.org;;;;;;"
              "standard;;1,4,laser;;;;;;;;;;;;;;;;;;;;;;\n"                       /* 2 */
              ";male;\"Jean; dit \"\"Jeannot\"\"\";Roche;;;;EXT9;;;;admin;;;;;;;;;;;;;;;;;;;;;;;;\n" /* 3 */
              ";;;;;ana.duval@EXAMPLE.org;;;;;;standard;;;;;;;;;;;;;;;;;;;;;;;;\n"   /* 4: no name */
              ";;Zo\xC3\xA9;;;zoe@example.org;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;extra\n" /* 5: 37 fields */
              ";;Ana\xC3\xAFs;Duval;;ana.duval@example.ORG;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;\n" /* 6: same e-mail */
              ";female;Lou;Martin;lmartin\n",                                        /* 7: short */
              s_fm_header);
    const char *map[] = { "1=3d_printer", "4=lathe", "40=nope", NULL };
    el_member_import_opts_t opts = { .salt = (const uint8_t *) "site-secret", .salt_len = 11,
                                     .trainings = map };
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_fabmanager_members (text, strlen (text), &opts, &imp, &err), 0);
    s_dump_problems (imp);
    assert_int_equal (imp->n, 3);
    assert_null (imp->equipment);
    const El__Member *m = imp->members[0];
    assert_string_equal (m->display_name, "Ana\xC3\xAFs Duval");
    assert_int_equal (m->n_roles, 1);
    assert_string_equal (m->roles[0], "standard");
    assert_int_equal (m->n_trainings, 3);
    assert_string_equal (m->trainings[0], "3d_printer");
    assert_string_equal (m->trainings[1], "lathe");
    assert_string_equal (m->trainings[2], "laser_cutter");
    assert_int_equal (m->sharing, EL__SHARING__SHARING_SITE);
    assert_string_equal (m->contact, "");
    m = imp->members[1];
    assert_string_equal (m->display_name, "Jean; dit \"Jeannot\" Roche");
    assert_string_equal (m->roles[0], "admin");
    assert_int_equal (imp->lines[2], 7);
    assert_string_equal (imp->members[2]->display_name, "Lou Martin");
    for (size_t i = 0; i < imp->n; i++) {
        assert_int_equal (strncmp (imp->keys[i], "m-", 2), 0);
        assert_int_equal (strlen (imp->keys[i]), 34);
        assert_null (strstr (imp->keys[i], "duval"));
    }
    assert_true (s_has_problem (imp, 4, true, "no name"));
    assert_true (s_has_problem (imp, 5, true, "37 fields, the header has 36"));
    assert_true (s_has_problem (imp, 6, true, "same member as an earlier row"));
    assert_true (s_has_problem (imp, 7, false, "short row: 5 of 36"));
    assert_int_equal (imp->problems.n, 4);

    /* the same file with another salt: other keys */
    el_member_import_opts_t other = opts;
    other.salt = (const uint8_t *) "another-site";
    other.salt_len = 12;
    el_import_t *imp2 = NULL;
    assert_int_equal (el_import_fabmanager_members (text, strlen (text), &other, &imp2, &err), 0);
    assert_string_not_equal (imp->keys[0], imp2->keys[0]);
    El__Member *taken = el_import_take_member (imp2, 0);
    assert_non_null (taken);
    el__member__free_unpacked (taken, NULL);
    el_import_destroy (&imp2);
    el_import_destroy (&imp);

    const char *not_fm = "name,category\nx,y\n";
    assert_int_equal (el_import_fabmanager_members (not_fm, strlen (not_fm), NULL, &imp, &err),
                      EL_EINVAL);
    assert_int_equal (err.line, 1);
    assert_null (imp);
}

/* ------------------------------------------------------------ mutations */

static uint64_t s_rng = 0x2545F4914F6CDD1Dull;

static uint32_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t) (s_rng >> 11);
}

typedef int (*s_import_fn) (const char *, size_t, el_import_t **, el_import_error_t *);

static int
s_import_labs (const char *d, size_t n, el_import_t **r, el_import_error_t *e)
{
    return el_import_fablabs_json (d, n, NULL, r, e);
}

static int
s_import_members (const char *d, size_t n, el_import_t **r, el_import_error_t *e)
{
    return el_import_fabmanager_members (d, n, NULL, r, e);
}

static void
s_mutate (const char *seed, s_import_fn fn, size_t rounds)
{
    static const char *const bits[] = { "\"", ",", ";", "\n", "\r\n", "\"\"", "\xC3\xA9",
                                        "\xC3", "{", "}", "[", "]", "\\u00e9", ":", "null", "\x01" };
    size_t seed_len = strlen (seed);
    char *buf = malloc (seed_len + 256);
    assert_non_null (buf);
    for (size_t r = 0; r < rounds; r++) {
        memcpy (buf, seed, seed_len);
        size_t len = seed_len;
        int edits = 1 + (int) (s_rand () % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = len ? s_rand () % len : 0;
            switch (s_rand () % 3) {
            case 0:
                buf[at] = (char) (s_rand () & 0xFF);
                break;
            case 1: {
                const char *b = bits[s_rand () % (sizeof bits / sizeof bits[0])];
                size_t bl = strlen (b);
                if (len + bl < seed_len + 250) {
                    memmove (buf + at + bl, buf + at, len - at);
                    memcpy (buf + at, b, bl);
                    len += bl;
                }
                break;
            }
            default:
                len = at;
            }
        }
        el_import_t *imp = NULL;
        el_import_error_t err = { 0 };
        int rc = fn (buf, len, &imp, &err);
        if (rc == 0) {
            assert_non_null (imp);
            for (size_t i = 0; i < imp->n; i++)
                assert_true (imp->keys[i][0] != '\0' && strlen (imp->keys[i]) <= EL_RECORD_KEY_MAX);
            el_import_destroy (&imp);
        } else {
            assert_null (imp);
            assert_true (err.reason[0] != '\0');
        }
    }
    free (buf);
}

static void
test_mutated_inputs_never_crash (void **state)
{
    (void) state;
    s_mutate ("name,category,status,hourly_rate,currency,description\n"
              "Tour,lathe,available,\"18,50\",EUR,\"a \"\"b\"\"\nc\"\n"
              "Laser,D\xC3\xA9" "coupe laser,,,,\n",
              el_import_equipment_csv, 3000);
    s_mutate ("[{\"name\": \"A\", \"url\": \"https://www.fablabs.io/labs/a\", "
              "\"capabilities\": \"laser;three_d_printing\", \"city\": \"T\"},\n"
              " {\"name\": \"B\", \"capabilities\": null}]\n",
              s_import_labs, 3000);
    char fm[2048];
    snprintf (fm, sizeof fm, "%s;f;A;B;ab;a@b.c;;;;;;standard;;1,2;;;;;;;;;;;;;;;;;;;;;;\n;;;;\n",
              s_fm_header);
    s_mutate (fm, s_import_members, 3000);
}

/* ------------------------------------------------------------ files */

static void
test_read_file (void **state)
{
    (void) state;
    char dir[] = "/tmp/el_import_test.XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path[128];
    snprintf (path, sizeof path, "%s/equipment.csv", dir);
    const char *text = "name,category,bookable_by,required_training\nTour,lathe,network,lathe\n";
    FILE *f = fopen (path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (text, 1, strlen (text), f), strlen (text));
    fclose (f);

    char *buf = NULL;
    size_t len = 0;
    assert_int_equal (el_import_read_file (path, 1024, &buf, &len), 0);
    assert_int_equal (len, strlen (text));
    assert_string_equal (buf, text);
    el_import_t *imp = NULL;
    el_import_error_t err;
    assert_int_equal (el_import_equipment_csv (buf, len, &imp, &err), 0);
    assert_int_equal (imp->n, 1);
    el_import_destroy (&imp);
    free (buf);

    buf = NULL;
    assert_int_equal (el_import_read_file (path, 10, &buf, &len), EL_ETOOBIG);
    assert_null (buf);
    assert_int_equal (el_import_read_file (path, strlen (text), &buf, &len), 0);   /* exactly max */
    free (buf);
    buf = NULL;
    char missing[160];
    snprintf (missing, sizeof missing, "%s/absent.csv", dir);
    assert_int_equal (el_import_read_file (missing, 1024, &buf, &len), -ENOENT);
    assert_null (buf);
    assert_int_equal (unlink (path), 0);
    assert_int_equal (rmdir (dir), 0);
}

/* ------------------------------------------------------------ demo data */

static char *
s_demo (const char *site, const char *file, size_t *len)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/deploy/demo/%s/%s", EL_SOURCE_DIR, site, file);
    char *text = s_read (path, len);
    if (!text)
        fprintf (stderr, "missing %s\n", path);
    assert_non_null (text);
    return text;
}

static void
s_demo_site (const char *site, size_t n_equipment, size_t n_members)
{
    size_t len = 0;
    char *text = s_demo (site, "equipment.csv", &len);
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_equipment_csv (text, len, &imp, &err), 0);
    s_dump_problems (imp);
    assert_int_equal (imp->problems.n, 0);
    assert_int_equal (imp->n, n_equipment);
    for (size_t i = 0; i < imp->n; i++) {
        assert_string_not_equal (imp->equipment[i]->category, "other");
        assert_true (imp->equipment[i]->status != EL__EQUIPMENT_STATUS__EQUIPMENT_STATUS_UNSPECIFIED);
    }
    el_import_destroy (&imp);
    free (text);

    text = s_demo (site, "members.csv", &len);
    assert_int_equal (el_import_fabmanager_members (text, len, NULL, &imp, &err), 0);
    s_dump_problems (imp);
    assert_int_equal (imp->problems.n, 0);
    assert_int_equal (imp->n, n_members);
    for (size_t i = 0; i < imp->n; i++) {
        assert_true (imp->members[i]->n_roles == 1);
        for (size_t k = 0; k < imp->members[i]->n_trainings; k++)
            assert_non_null (el_equipment_category (imp->members[i]->trainings[k]));
    }
    el_import_destroy (&imp);
    free (text);
}

static void
test_demo_files_import_cleanly (void **state)
{
    (void) state;
    s_demo_site ("thiers-centre", 8, 16);
    s_demo_site ("celles-sur-durolle", 4, 9);
    s_demo_site ("saint-remy-sur-durolle", 4, 9);

    /* what the quickstart books: the central lathe, open to the network */
    size_t len = 0;
    char *text = s_demo ("thiers-centre", "equipment.csv", &len);
    el_import_t *imp = NULL;
    el_import_error_t err;
    assert_int_equal (el_import_equipment_csv (text, len, &imp, &err), 0);
    const El__Equipment *lathe = s_eq (imp, "tour-conventionnel");
    assert_string_equal (lathe->category, "lathe");
    assert_int_equal (lathe->bookable_by, EL__SHARING__SHARING_NETWORK);
    assert_string_equal (lathe->required_training, "lathe");
    assert_int_equal (lathe->status, EL__EQUIPMENT_STATUS__AVAILABLE);
    el_import_destroy (&imp);
    free (text);
}

/* ------------------------------------------------------------ real files */

static char s_real_dir[1024];

static char *
s_real (const char *rel, size_t *len)
{
    char path[1400];
    snprintf (path, sizeof path, "%s/%s", s_real_dir, rel);
    char *text = s_read (path, len);
    assert_non_null (text);
    return text;
}

static void
test_real_fablabs_io (void **state)
{
    (void) state;
    size_t len = 0;
    char *text = s_real ("labs/fablabs_io_france_2017.json", &len);
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_fablabs_json (text, len, NULL, &imp, &err), 0);
    /* 135 labs, one per line from line 2; 126 list capabilities, 480 in all
     * (three_d_printing 125, vinyl_cutting 87, cnc_milling 86, laser 84,
     * precision_milling 51, circuit_production 47); these 9 list none: */
    const uint32_t none[] = { 3, 4, 11, 35, 36, 41, 53, 72, 134 };
    s_dump_problems (imp);
    assert_int_equal (imp->n, 480);
    assert_int_equal (imp->problems.n, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal (imp->problems.items[i].line, none[i]);
        assert_true (imp->problems.items[i].skipped);
        assert_non_null (strstr (imp->problems.items[i].reason, "no capabilities"));
    }
    assert_true (s_has_problem (imp, 3, true, "FabLab Lille"));
    assert_true (s_has_problem (imp, 134, true, "RuralLab"));
    size_t by_cat[6] = { 0 };
    const char *cats[6] = { "3d_printer", "vinyl_cutter", "cnc_mill", "laser_cutter", "pcb_mill",
                            "electronics_bench" };
    for (size_t i = 0; i < imp->n; i++)
        for (size_t k = 0; k < 6; k++)
            by_cat[k] += strcmp (imp->equipment[i]->category, cats[k]) == 0;
    assert_int_equal (by_cat[0], 125);
    assert_int_equal (by_cat[1], 87);
    assert_int_equal (by_cat[2], 86);
    assert_int_equal (by_cat[3], 84);
    assert_int_equal (by_cat[4], 51);
    assert_int_equal (by_cat[5], 47);

    const El__Equipment *e = s_eq (imp, "fablablannion/three_d_printing");
    assert_string_equal (e->name, "3D printer \xE2\x80\x94 Fablab Lannion - KerNEL");
    assert_string_equal (e->location, "14 Rue de Beauchamp, 22300 Lannion");
    assert_int_equal (imp->lines[s_key_index (imp, "fablablannion/cnc_milling")], 2);
    e = s_eq (imp, "acolab/vinyl_cutting");
    assert_string_equal (e->category, "vinyl_cutter");
    assert_string_equal (e->location, "2 bis rue du Clos Perret, 63000 Clermont-Ferrand");
    assert_int_equal (imp->lines[s_key_index (imp, "acolab/vinyl_cutting")], 130);
    el_import_destroy (&imp);

    assert_int_equal (el_import_fablabs_json (text, len, "faclab", &imp, &err), 0);
    assert_int_equal (imp->n, 6);
    assert_int_equal (imp->lines[0], 58);
    el_import_destroy (&imp);
    free (text);

    /* another directory's schema: no capabilities anywhere, every lab reported */
    text = s_real ("labs/archipel_fablabs_auvergne_labs.json", &len);
    assert_int_equal (el_import_fablabs_json (text, len, NULL, &imp, &err), 0);
    assert_int_equal (imp->n, 0);
    const uint32_t lab_lines[] = { 2, 10, 18, 26, 34, 42, 50, 58 };
    assert_int_equal (imp->problems.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal (imp->problems.items[i].line, lab_lines[i]);
    el_import_destroy (&imp);
    free (text);
}

static void
test_real_fabmanager_members (void **state)
{
    (void) state;
    size_t len = 0;
    char *text = s_real ("members/fabmanager_members_import.csv", &len);
    const char *map[] = { "1=3d_printer", "2=laser_cutter", "5=cnc_mill", NULL };
    el_member_import_opts_t opts = { .salt = (const uint8_t *) "test", .salt_len = 4,
                                     .trainings = map };
    el_import_t *imp = NULL;
    el_import_error_t err = { 0 };
    assert_int_equal (el_import_fabmanager_members (text, len, &opts, &imp, &err), 0);
    s_dump_problems (imp);
    /* rows 2-4 complete; row 5 has 21 of 36 fields but a name; row 6 is an
     * update by id + e-mail (9 fields); row 7 is bare separators (7 fields) */
    assert_int_equal (imp->n, 4);
    assert_int_equal (imp->problems.n, 3);
    assert_true (s_has_problem (imp, 5, false, "short row: 21 of 36"));
    assert_true (s_has_problem (imp, 6, true, "no name"));
    assert_true (s_has_problem (imp, 7, true, "no name"));
    const El__Member *m = imp->members[0];
    assert_string_equal (m->display_name, "member001 example");
    assert_int_equal (m->n_roles, 1);
    assert_string_equal (m->roles[0], "standard");
    assert_int_equal (m->n_trainings, 3);
    assert_string_equal (m->trainings[0], "3d_printer");
    assert_string_equal (m->trainings[1], "laser_cutter");
    assert_string_equal (m->trainings[2], "cnc_mill");
    assert_int_equal (m->sharing, EL__SHARING__SHARING_SITE);
    assert_string_equal (m->contact, "");
    assert_int_equal (imp->members[1]->n_trainings, 1);
    assert_string_equal (imp->members[3]->display_name, "member004 example");
    assert_int_equal (imp->members[3]->n_trainings, 0);
    assert_int_equal (imp->lines[3], 5);
    for (size_t i = 0; i < imp->n; i++) {
        assert_null (strstr (imp->keys[i], "member"));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal (imp->keys[i], imp->keys[j]);
    }
    el_import_destroy (&imp);
    free (text);
}

int
main (int argc, char **argv)
{
    bool real_only = argc == 2 && !strcmp (argv[1], "--real");
    if (argc != 1 && !real_only) {
        fprintf (stderr, "usage: test_el_import [--real]\n");
        return 2;
    }
    const struct CMUnitTest synthetic[] = {
        cmocka_unit_test (test_categories),
        cmocka_unit_test (test_equipment_csv_good),
        cmocka_unit_test (test_equipment_csv_bad_rows),
        cmocka_unit_test (test_equipment_csv_semicolons_and_nul),
        cmocka_unit_test (test_equipment_csv_refused),
        cmocka_unit_test (test_equipment_csv_required_columns),
        cmocka_unit_test (test_fablabs_json_synthetic),
        cmocka_unit_test (test_members_synthetic),
        cmocka_unit_test (test_mutated_inputs_never_crash),
        cmocka_unit_test (test_read_file),
        cmocka_unit_test (test_demo_files_import_cleanly),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test (test_real_fablabs_io),
        cmocka_unit_test (test_real_fabmanager_members),
    };
    if (!real_only)
        return cmocka_run_group_tests_name ("el_import", synthetic, NULL, NULL) ? 1 : 0;
    snprintf (s_real_dir, sizeof s_real_dir, "%s", EL_SHARED_DATA);
    struct stat st;
    if (stat (s_real_dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        printf ("SKIP: %s is absent (real test data): the real-file cases did not run\n",
                s_real_dir);
        return 77;
    }
    return cmocka_run_group_tests_name ("el_import_real", real, NULL, NULL) ? 1 : 0;
}
