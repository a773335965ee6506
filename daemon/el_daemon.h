/* el_daemon.h — what the main() of entrelab-node and entrelab-broker share:
 * the start (libsodium, settings from argv, --help, --version), --print-id
 * and the run of the reactor. Writes to stdout/stderr; call from main() only
 * (one thread). */
#ifndef EL_DAEMON_H
#define EL_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

#include "el_config.h"
#include "el_role.h"

#define EL_DAEMON_MMAP_THRESHOLD (128 << 10)  /* bytes: larger allocations are mmapped
                                                (mallopt M_MMAP_THRESHOLD) */

/** el_daemon_start() returns this when main() should go on. */
#define EL_DAEMON_GO (-1)

/** The switches every daemon takes (no value). */
typedef struct {
    bool help, version, print_id;
} el_daemon_flags_t;

/** Initialise libsodium, then @p cfg (el_config_init) from @p argc / @p argv
 * (el_config_from_args): the switches --help, --version and --print-id set
 * @p flags; every other flag that is not a setting goes to @p extra (may be NULL).
 * Answers --help (@p usage on stdout) and --version ("PROG VERSION (protocol N)", EL_VERSION of core/el_version.h.in),
 * then sets the log level of @p cfg.
 * @param prog   program name, prefix of every message ("entrelab-node")
 * @param usage  prints the usage text on the stream it is given
 * @return EL_DAEMON_GO to go on; else the exit status for main(): 0 (help,
 *         version), 1 (libsodium failed), 2 (bad arguments: the reason, then
 *         the usage on stderr). */
int el_daemon_start (const char *prog, void (*usage) (FILE *out), int argc, char **argv,
                     el_config_t *cfg, el_daemon_flags_t *flags, el_config_extra_fn *extra,
                     void *extra_arg);

/** Load (creating when absent) the key pair of @p key_file and print its public
 * key as text on stdout. @return the exit status for main(): 0, or 1 with
 * "PROG: FILE: reason" on stderr. */
int el_daemon_print_id (const char *prog, const char *key_file);

/** Run the reactor of @p cfg with @p roles until SIGINT/SIGTERM (el_node_new,
 * el_node_run, el_node_destroy). @p name and @p roles as el_node_new().
 * On SIGHUP the daemon reloads its configuration (el_node_on_reload): the
 * arguments given to el_daemon_start() are applied again to fresh defaults
 * (so the --config file is read again and flags still override it), then
 * checked with el_config_finish(@p needs), the el_config_needs_t flags main()
 * finished @p cfg with. @p argv of el_daemon_start() must live until this
 * returns (main's argv does).
 * Service manager: with NOTIFY_SOCKET set (systemd's Type=notify), READY=1
 * is sent once the daemon serves (store open, sockets bound, roles
 * started), RELOADING=1 then READY=1 around a reload, STOPPING=1 when a
 * signal ends the reactor (sd_notify(3); nothing is sent without it).
 * @return the exit status for main(): 0 or 1. */
int el_daemon_run (const el_config_t *cfg, unsigned needs, const char *name,
                   const el_role_ops_t *const *roles, size_t roles_n);

#endif
