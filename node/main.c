/* entrelab-node — one per site: local store, control socket, sync with its
 * broker and optional direct peers. See core/el_config.h for every setting
 * and deploy/RUNNING.md for a walk-through. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "el_config.h"
#include "el_daemon.h"
#include "el_duties.h"
#include "el_http.h"
#include "el_uplink.h"

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
    el_config_t cfg;
    el_daemon_flags_t flags = { false, false, false };
    int rc = el_daemon_start ("entrelab-node", s_usage, argc, argv, &cfg, &flags, NULL, NULL);
    if (rc != EL_DAEMON_GO)
        return rc;
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
        return el_daemon_print_id ("entrelab-node", cfg.key_file);
    }
    char err[EL_CONFIG_ERR_MAX] = "";
    rc = el_config_finish (&cfg, EL_CONFIG_NEEDS_BROKER, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "entrelab-node: %s\n", err);
        return 2;
    }
    static const el_role_ops_t *const roles[] = { &el_site_role, &el_uplink_role,
                                                  &el_http_role };
    return el_daemon_run (&cfg, EL_CONFIG_NEEDS_BROKER, "node", roles,
                          sizeof roles / sizeof roles[0]);
}
