/* fuzz_config.c — libFuzzer target for the daemons' settings (core/el_config.h):
 * the bytes as an INI file (el_config_load), as command-line flags (one per
 * line, el_config_from_args), as a secret or public key file
 * (el_keypair_load, el_key_resolve) and as a peer "KEY@ENDPOINT" text. Whatever is
 * accepted must leave the settings within their documented limits, and
 * el_config_finish() must accept or refuse it for what each daemon needs.
 * Inputs naming /dev, /proc or /sys are skipped: a key path may be opened
 * (broker_key = FILE), and a device could block the harness; for the same
 * reason a --config flag is replaced by a switch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "el_config.h"
#include "fuzz_util.h"

#define S_ARGS_MAX 64

static void
s_check (el_config_t *cfg)
{
    FZ_CHECK (cfg->listen_n <= EL_CONFIG_LISTEN_MAX && cfg->peers_n <= EL_CONFIG_PEERS_MAX);
    FZ_CHECK (memchr (cfg->state_dir, 0, sizeof cfg->state_dir)
              && memchr (cfg->key_file, 0, sizeof cfg->key_file)
              && memchr (cfg->connect, 0, sizeof cfg->connect)
              && memchr (cfg->control, 0, sizeof cfg->control));
    for (size_t i = 0; i < cfg->listen_n; i++)
        FZ_CHECK (strstr (cfg->listen[i], "://"));
    for (size_t i = 0; i < cfg->peers_n; i++)
        FZ_CHECK (!cfg->peers[i].endpoint[0] || strstr (cfg->peers[i].endpoint, "://"));
    FZ_CHECK (cfg->batch <= EL_BATCH_MAX);
    FZ_CHECK (cfg->log_level >= EL_LOG_ERROR && cfg->log_level <= EL_LOG_DEBUG);
    static const unsigned needs[] = { EL_CONFIG_NEEDS_BROKER, EL_CONFIG_NEEDS_LISTEN };
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
        el_config_t c = *cfg;
        char err[EL_CONFIG_ERR_MAX];
        err[0] = '\0';
        if (el_config_finish (&c, needs[i], err, sizeof err) == 0) {
            FZ_CHECK (c.state_dir[0] && c.key_file[0] && c.control[0]);
            FZ_CHECK (needs[i] == EL_CONFIG_NEEDS_LISTEN ? c.listen_n > 0
                                                         : c.connect[0] && c.has_broker_key);
        } else {
            FZ_CHECK (err[0]);
        }
    }
}

static int
s_extra (void *arg, const char *name, const char *value)
{
    (void) arg;
    if (!strcmp (name, "admit"))
        return value && value[0] ? 0 : EL_EINVAL;
    if (!strcmp (name, "foreground"))
        return 0;
    return -ENOENT;
}

static bool
s_mentions (const uint8_t *data, size_t size, const char *what)
{
    size_t n = strlen (what);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp (data + i, what, n))
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 65536 || s_mentions (data, size, "/dev") || s_mentions (data, size, "/proc")
        || s_mentions (data, size, "/sys"))
        return 0;
    fz_keys_init ();
    fz_dir_init ();
    char err[EL_CONFIG_ERR_MAX];

    /* 1. an INI file */
    char path[320];
    snprintf (path, sizeof path, "%s/fuzz.conf", fz_dir);
    FILE *f = fopen (path, "w");
    FZ_CHECK (f);
    FZ_CHECK (fwrite (data, 1, size, f) == size);
    FZ_CHECK (fclose (f) == 0);
    el_config_t cfg;
    el_config_init (&cfg);
    err[0] = '\0';
    if (el_config_load (&cfg, path, err, sizeof err) == 0)
        s_check (&cfg);
    else
        FZ_CHECK (err[0]);
    remove (path);

    /* 2. flags, one per line */
    char *copy = malloc (size + 1);
    FZ_CHECK (copy);
    memcpy (copy, data, size);
    copy[size] = '\0';
    char *argv[S_ARGS_MAX + 1];
    int argc = 0;
    argv[argc++] = (char *) "entrelab-node";
    for (char *s = copy, *nl; argc < S_ARGS_MAX && s; s = nl) {
        nl = strchr (s, '\n');
        if (nl)
            *nl++ = '\0';
        /* --config would read a file the input names: not here */
        argv[argc++] = strncmp (s, "--config", 8) ? s : (char *) "--foreground";
    }
    argv[argc] = NULL;
    static const char *const switches[] = { "foreground", NULL };
    el_config_init (&cfg);
    err[0] = '\0';
    if (el_config_from_args (&cfg, argc, argv, switches, s_extra, NULL, err, sizeof err) == 0)
        s_check (&cfg);
    else
        FZ_CHECK (err[0]);

    /* 3. the same bytes as a secret key file and as a public key file */
    FILE *k = fopen (path, "w");
    FZ_CHECK (k);
    FZ_CHECK (fwrite (data, 1, size, k) == size);
    FZ_CHECK (fclose (k) == 0);
    FZ_CHECK (chmod (path, 0600) == 0);
    el_keypair_t *kp = NULL;
    if (el_keypair_load (path, &kp) == 0) {
        uint8_t pk[EL_KEY_BYTES];
        FZ_CHECK (el_key_resolve (path, pk) == 0 && !memcmp (pk, kp->pk, EL_KEY_BYTES));
        el_keypair_destroy (&kp);
    }
    uint8_t key[EL_KEY_BYTES];
    el_ignore (el_key_resolve (path, key));     /* any answer will do: only a crash is a finding */
    remove (path);

    /* 4. a peer */
    el_config_peer_t peer;
    if (el_config_peer_parse (copy, &peer) == 0)
        FZ_CHECK (!peer.endpoint[0] || strstr (peer.endpoint, "://"));
    free (copy);
    return 0;
}
