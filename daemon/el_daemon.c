/* el_daemon.c — the shared parts of the daemons' main() (see el_daemon.h). */
#include "el_daemon.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "el_entry.h"
#include "el_error.h"
#include "el_log.h"
#include "el_node.h"

typedef struct {
    el_daemon_flags_t *flags;
    el_config_extra_fn *extra;
    void *extra_arg;
} s_extra_t;

static const char *const s_switches[] = { "help", "version", "print-id", NULL };

/* The arguments of the start, read again on a reload (SIGHUP). */
static struct {
    int argc;
    char **argv;
    el_config_extra_fn *extra;
    void *extra_arg;
    unsigned needs;
} s_start_args;

static int
s_extra (void *arg, const char *name, const char *value)
{
    s_extra_t *x = arg;
    if (!strcmp (name, "help"))
        x->flags->help = true;
    else if (!strcmp (name, "version"))
        x->flags->version = true;
    else if (!strcmp (name, "print-id"))
        x->flags->print_id = true;
    else if (x->extra)
        return x->extra (x->extra_arg, name, value);
    else
        return -ENOENT;
    return 0;
}

int
el_daemon_start (const char *prog, void (*usage) (FILE *out), int argc, char **argv,
                 el_config_t *cfg, el_daemon_flags_t *flags, el_config_extra_fn *extra,
                 void *extra_arg)
{
    if (el_crypto_init () != 0) {
        fprintf (stderr, "error event=crypto_init_failed\n");
        return 1;
    }
    /* Frames of strangers and peers up to EL_FRAME_MAX come and go: give
     * every large buffer back to the system when freed. glibc would raise
     * its mmap threshold after the first such free and keep later ones in
     * the heap, so a flood's peak would stay as resident memory. */
    if (mallopt (M_MMAP_THRESHOLD, EL_DAEMON_MMAP_THRESHOLD) != 1)
        fprintf (stderr, "warn event=mallopt_failed\n");
    el_config_init (cfg);
    s_extra_t x = { flags, extra, extra_arg };
    s_start_args.argc = argc;
    s_start_args.argv = argv;
    s_start_args.extra = extra;
    s_start_args.extra_arg = extra_arg;
    char err[EL_CONFIG_ERR_MAX] = "";
    int rc = el_config_from_args (cfg, argc, argv, s_switches, s_extra, &x, err, sizeof err);
    if (rc < 0) {
        fprintf (stderr, "%s: %s\n", prog, err);
        usage (stderr);
        return 2;
    }
    if (flags->help) {
        usage (stdout);
        return 0;
    }
    if (flags->version) {
        printf ("%s %s (protocol %d)\n", prog, EL_VERSION, EL_PROTOCOL_VERSION);
        return 0;
    }
    el_log_set_level (cfg->log_level);
    return EL_DAEMON_GO;
}

int
el_daemon_print_id (const char *prog, const char *key_file)
{
    el_keypair_t *kp = NULL;
    int rc = el_node_load_key (key_file, &kp, NULL);
    if (rc < 0) {
        fprintf (stderr, "%s: %s: %s\n", prog, key_file, el_strerror (rc));
        return 1;
    }
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (kp->pk, text);
    printf ("%s\n", text);
    el_keypair_destroy (&kp);
    return 0;
}

/* The settings as a start with the same arguments would read them now: the
 * file of --config read again, the flags applied over it again. */
static int s_reread (el_config_t *ret, char *err, size_t err_size);

/* Tell the service manager (systemd's sd_notify protocol: NOTIFY_SOCKET,
 * a no-op without it) where the daemon is: READY=1 once it serves,
 * RELOADING=1 while it reads its configuration again, STOPPING=1 as it
 * shuts down. */
static void
s_notify (const char *state)
{
    int rc = sd_notify (0, state);
    if (rc < 0)
        el_log (EL_LOG_WARN, "notify_failed", "state=%s reason=%s", state, strerror (-rc));
}

static int
s_reload (void *arg, el_config_t *ret, char *err, size_t err_size)
{
    (void) arg;
    s_notify ("RELOADING=1\nSTATUS=reading the configuration again");
    int rc = s_reread (ret, err, err_size);
    s_notify ("READY=1\nSTATUS=serving");
    return rc;
}

static int
s_reread (el_config_t *ret, char *err, size_t err_size)
{
    el_daemon_flags_t flags = { false, false, false };
    s_extra_t x = { &flags, s_start_args.extra, s_start_args.extra_arg };
    el_config_init (ret);
    int rc = el_config_from_args (ret, s_start_args.argc, s_start_args.argv, s_switches,
                                  s_extra, &x, err, err_size);
    if (rc == 0)
        rc = el_config_finish (ret, s_start_args.needs, err, err_size);
    return rc;
}

int
el_daemon_run (const el_config_t *cfg, unsigned needs, const char *name,
               const el_role_ops_t *const *roles, size_t roles_n)
{
    el_node_t *node = NULL;
    int rc = el_node_new (cfg, name, roles, roles_n, &node);
    if (rc < 0)
        return 1;
    s_start_args.needs = needs;
    if (s_start_args.argv)
        el_node_on_reload (node, s_reload, NULL);
    s_notify ("READY=1\nSTATUS=serving");
    rc = el_node_run (node);
    s_notify ("STOPPING=1\nSTATUS=stopping");
    el_node_destroy (&node);
    return rc < 0 ? 1 : 0;
}
