/* entrelab-node — one per site: local store, control socket, sync with its
 * broker and optional direct peers. See node/el_config.h for every setting
 * and deploy/RUNNING.md for a walk-through. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "el_config.h"
#include "el_entry.h"
#include "el_log.h"
#include "el_node.h"

typedef struct {
    bool help, version, print_id;
} s_flags_t;

static int
s_extra (void *arg, const char *name, const char *value)
{
    s_flags_t *f = arg;
    (void) value;
    if (!strcmp (name, "help"))
        f->help = true;
    else if (!strcmp (name, "version"))
        f->version = true;
    else if (!strcmp (name, "print-id"))
        f->print_id = true;
    else
        return -ENOENT;
    return 0;
}

static void
s_usage (FILE *out)
{
    fputs ("usage: entrelab-node [--config FILE] [--state-dir DIR] [--connect ENDPOINT]\n"
           "                     [--broker-key KEY|FILE] [--listen ENDPOINT]...\n"
           "                     [--peer KEY@ENDPOINT|KEY]... [--control ENDPOINT]\n"
           "                     [--key-file FILE] [--log-level error|warn|info|debug]\n"
           "                     [--print-id] [--help] [--version]\n"
           "Every INI key of the config file is also a flag (state_dir = --state-dir);\n"
           "flags override the file. --print-id prints this site's id (creating the key\n"
           "in the state directory when absent) and exits.\n", out);
}

int
main (int argc, char **argv)
{
    if (el_crypto_init () != 0) {
        fprintf (stderr, "error event=crypto_init_failed\n");
        return 1;
    }
    el_config_t cfg;
    el_config_init (&cfg);
    s_flags_t flags = { false, false, false };
    static const char *const switches[] = { "help", "version", "print-id", NULL };
    char err[EL_CONFIG_ERR_MAX] = "";
    int rc = el_config_from_args (&cfg, argc, argv, switches, s_extra, &flags, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "entrelab-node: %s\n", err);
        s_usage (stderr);
        return 2;
    }
    if (flags.help) {
        s_usage (stdout);
        return 0;
    }
    if (flags.version) {
        printf ("entrelab-node 0.1.0 (protocol %d)\n", EL_PROTOCOL_VERSION);
        return 0;
    }
    el_log_set_level (cfg.log_level);
    if (flags.print_id) {
        if (!cfg.state_dir[0] && !cfg.key_file[0]) {
            fprintf (stderr, "entrelab-node: --print-id needs --state-dir or --key-file\n");
            return 2;
        }
        if (!cfg.key_file[0]) {
            size_t len = strlen (cfg.state_dir);
            if (len + 5 > sizeof cfg.key_file) {
                fprintf (stderr, "entrelab-node: state_dir too long\n");
                return 2;
            }
            memcpy (cfg.key_file, cfg.state_dir, len);
            memcpy (cfg.key_file + len, "/key", 5);
            mkdir (cfg.state_dir, 0700);
        }
        el_keypair_t *kp = NULL;
        rc = el_node_load_key (cfg.key_file, &kp, NULL);
        if (rc < 0) {
            fprintf (stderr, "entrelab-node: %s: %s\n", cfg.key_file, el_strerror (rc));
            return 1;
        }
        char text[EL_KEY_TEXT_BYTES];
        el_key_to_text (kp->pk, text);
        printf ("%s\n", text);
        el_keypair_destroy (&kp);
        return 0;
    }
    rc = el_config_finish (&cfg, EL_ROLE_NODE, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "entrelab-node: %s\n", err);
        return 2;
    }
    el_node_t *node = NULL;
    rc = el_node_new (&cfg, EL_ROLE_NODE, &node);
    if (rc < 0)
        return 1;
    rc = el_node_run (node);
    el_node_destroy (&node);
    return rc < 0 ? 1 : 0;
}
