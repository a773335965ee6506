/* test_el_config.c — INI file and flags, defaults, validation. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "el_config.h"

typedef struct {
    char dir[64];
    char ini[128];
    char key_text[EL_KEY_TEXT_BYTES];
    char key2_text[EL_KEY_TEXT_BYTES];
    char pub_path[160];
    uint8_t key[EL_KEY_BYTES];
} s_fix_t;

static int
s_setup (void **state)
{
    s_fix_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    snprintf (f->dir, sizeof f->dir, "/tmp/el-config-XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    snprintf (f->ini, sizeof f->ini, "%s/node.ini", f->dir);
    el_keypair_t *kp = NULL;
    assert_int_equal (el_keypair_generate (&kp), 0);
    memcpy (f->key, kp->pk, EL_KEY_BYTES);
    el_key_to_text (kp->pk, f->key_text);
    char secret[128];
    snprintf (secret, sizeof secret, "%s/broker.key", f->dir);
    assert_int_equal (el_keypair_save (kp, secret, false), 0);
    snprintf (f->pub_path, sizeof f->pub_path, "%s.pub", secret);
    el_keypair_destroy (&kp);
    assert_int_equal (el_keypair_generate (&kp), 0);
    el_key_to_text (kp->pk, f->key2_text);
    el_keypair_destroy (&kp);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fix_t *f = *state;
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

static void
s_write (const char *path, const char *text)
{
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
}

static void
test_defaults_and_finish (void **state)
{
    (void) state;
    el_config_t cfg;
    el_config_init (&cfg);
    assert_int_equal (cfg.log_level, EL_LOG_INFO);
    assert_true (cfg.durable);
    assert_true (cfg.heartbeat_ivl_ms > 0 && cfg.heartbeat_timeout_ms > cfg.heartbeat_ivl_ms);
    char err[EL_CONFIG_ERR_MAX];
    /* nothing set: state_dir is required */
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "state_dir"));
    assert_int_equal (el_config_set (&cfg, "state_dir", "/var/lib/x", err, sizeof err), 0);
    /* a broker needs a listen endpoint, a node connect + broker_key */
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "listen"));
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_BROKER, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "connect"));
    assert_int_equal (el_config_set (&cfg, "listen", "tcp://127.0.0.1:7400", err, sizeof err), 0);
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err), 0);
    assert_string_equal (cfg.key_file, "/var/lib/x/key");
    assert_string_equal (cfg.control, "ipc:///var/lib/x/control.sock");
}

static void
test_ini_file (void **state)
{
    s_fix_t *f = *state;
    char text[1024];
    snprintf (text, sizeof text,
              "; a site\n"
              "[daemon]\n"
              "state_dir = %s/state\n"
              "connect = tcp://hub.example.org:7400\n"
              "broker_key = %s\n"
              "listen = tcp://0.0.0.0:7401\n"
              "log_level = debug\n"
              "peer = %s@tcp://10.0.0.2:7401\n"
              "peer = %s\n"
              "[limits]\n"
              "heartbeat_ivl_ms = 1000\n"
              "heartbeat_timeout_ms = 4000\n"
              "hwm = 500\n"
              "map_max_mb = 128\n"
              "durable = false\n",
              f->dir, f->pub_path, f->key_text, f->key2_text);
    s_write (f->ini, text);
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    assert_int_equal (el_config_load (&cfg, f->ini, err, sizeof err), 0);
    assert_true (cfg.has_broker_key);
    assert_memory_equal (cfg.broker_key, f->key, EL_KEY_BYTES);   /* resolved from the .pub */
    assert_string_equal (cfg.connect, "tcp://hub.example.org:7400");
    assert_int_equal (cfg.listen_n, 1);
    assert_int_equal (cfg.log_level, EL_LOG_DEBUG);
    assert_int_equal (cfg.peers_n, 2);
    assert_memory_equal (cfg.peers[0].key, f->key, EL_KEY_BYTES);
    assert_string_equal (cfg.peers[0].endpoint, "tcp://10.0.0.2:7401");
    assert_string_equal (cfg.peers[1].endpoint, "");     /* admit only */
    assert_int_equal (cfg.heartbeat_ivl_ms, 1000);
    assert_int_equal (cfg.hwm, 500);
    assert_int_equal (cfg.map_max_mb, 128);
    assert_false (cfg.durable);
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_BROKER, err, sizeof err), 0);
}

static void
test_flags_override_file (void **state)
{
    s_fix_t *f = *state;
    char text[512];
    snprintf (text, sizeof text, "[daemon]\nstate_dir = /from/file\nlog_level = warn\n"
              "broker_key = %s\nconnect = tcp://a:1\n", f->key_text);
    s_write (f->ini, text);
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    /* --config comes last on the line, yet the flags before it still win */
    char *argv[] = { "prog", "--state-dir", "/from/flag", "--log-level=error",
                     "--peer", f->key2_text, "--config", f->ini, NULL };
    assert_int_equal (el_config_from_args (&cfg, 8, argv, NULL, NULL, NULL, err, sizeof err), 0);
    assert_string_equal (cfg.state_dir, "/from/flag");
    assert_int_equal (cfg.log_level, EL_LOG_ERROR);
    assert_string_equal (cfg.connect, "tcp://a:1");
    assert_int_equal (cfg.peers_n, 1);
    assert_string_equal (cfg.config_file, f->ini);     /* the file, for the daemon's check */
}

/* A configuration file or state folder that its group or others may write is
 * refused, with the path, the mode and the fix; one that cannot be read says why. */
static void
test_check_private (void **state)
{
    s_fix_t *f = *state;
    char err[EL_CONFIG_ERR_MAX] = "";
    s_write (f->ini, "[daemon]\n");
    assert_int_equal (chmod (f->ini, 0600), 0);
    assert_int_equal (el_config_check_private (f->ini, err, sizeof err), 0);
    assert_int_equal (chmod (f->ini, 0640), 0);         /* readable by the group: fine */
    assert_int_equal (el_config_check_private (f->ini, err, sizeof err), 0);
    assert_int_equal (chmod (f->ini, 0620), 0);
    assert_int_equal (el_config_check_private (f->ini, err, sizeof err), -EPERM);
    assert_non_null (strstr (err, f->ini));
    assert_non_null (strstr (err, "writable by its group (mode 0620)"));
    assert_non_null (strstr (err, "chmod go-w"));
    assert_int_equal (chmod (f->ini, 0602), 0);
    assert_int_equal (el_config_check_private (f->ini, err, sizeof err), -EPERM);
    assert_non_null (strstr (err, "writable by others"));
    /* through a symbolic link: the file it names counts */
    char link[200];
    snprintf (link, sizeof link, "%s/link.ini", f->dir);
    assert_int_equal (symlink (f->ini, link), 0);
    assert_int_equal (el_config_check_private (link, err, sizeof err), -EPERM);
    assert_int_equal (chmod (f->ini, 0600), 0);
    assert_int_equal (el_config_check_private (link, err, sizeof err), 0);
    /* a folder */
    assert_int_equal (chmod (f->dir, 0700), 0);
    assert_int_equal (el_config_check_private (f->dir, err, sizeof err), 0);
    assert_int_equal (chmod (f->dir, 01777), 0);
    assert_int_equal (el_config_check_private (f->dir, err, sizeof err), -EPERM);
    assert_int_equal (chmod (f->dir, 0700), 0);
    char missing[200];
    snprintf (missing, sizeof missing, "%s/missing", f->dir);
    assert_int_equal (el_config_check_private (missing, err, sizeof err), -ENOENT);
    assert_non_null (strstr (err, missing));
}

typedef struct {
    int calls;
    bool help;
    char admit[64];
} s_extra_t;

static int
s_extra (void *arg, const char *name, const char *value)
{
    s_extra_t *x = arg;
    x->calls++;
    if (!strcmp (name, "help")) {
        assert_null (value);
        x->help = true;
        return 0;
    }
    if (!strcmp (name, "admit")) {
        snprintf (x->admit, sizeof x->admit, "%s", value);
        return 0;
    }
    return -ENOENT;
}

static void
test_extra_flags_and_switches (void **state)
{
    (void) state;
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    static const char *const switches[] = { "help", NULL };
    s_extra_t x = { 0 };
    char *argv[] = { "prog", "--help", "--admit", "site.pub", "--state-dir", "/s", NULL };
    assert_int_equal (el_config_from_args (&cfg, 6, argv, switches, s_extra, &x, err, sizeof err), 0);
    assert_true (x.help);
    assert_string_equal (x.admit, "site.pub");
    assert_string_equal (cfg.state_dir, "/s");
    char *bad[] = { "prog", "--frobnicate", "1", NULL };
    assert_int_equal (el_config_from_args (&cfg, 3, bad, switches, s_extra, &x, err, sizeof err),
                      EL_EINVAL);
    assert_non_null (strstr (err, "frobnicate"));
}

static void
test_bad_values (void **state)
{
    s_fix_t *f = *state;
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX];
    assert_int_equal (el_config_set (&cfg, "log_level", "loud", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "hwm", "12abc", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "hwm", "-5", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "hwm", "", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "heartbeat_ivl_ms", "99999999999", err, sizeof err),
                      EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "connect", "hub.example.org", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "broker_key", "not-a-key", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "peer", "short@tcp://x:1", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "durable", "maybe", err, sizeof err), EL_EINVAL);
    assert_int_equal (el_config_set (&cfg, "no_such_key", "1", err, sizeof err), -ENOENT);
    /* a site's time zone: a zone name, never a path */
    assert_string_equal (cfg.timezone, "");
    assert_int_equal (el_config_set (&cfg, "timezone", "America/New_York", err, sizeof err), 0);
    assert_string_equal (cfg.timezone, "America/New_York");
    assert_int_equal (el_config_set (&cfg, "timezone", "Etc/GMT+5", err, sizeof err), 0);
    const char *bad_zones[] = { "", "../../etc/passwd", "/etc/localtime", "Europe/Paris;x",
                                "Europe Paris", ".hidden",
                                "A123456789012345678901234567890123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof bad_zones / sizeof bad_zones[0]; i++) {
        assert_int_equal (el_config_set (&cfg, "timezone", bad_zones[i], err, sizeof err),
                          EL_EINVAL);
        assert_non_null (strstr (err, "timezone"));
    }
    assert_string_equal (cfg.timezone, "Etc/GMT+5");
    char peer[128];
    snprintf (peer, sizeof peer, "%s@not-an-endpoint", f->key_text);
    assert_int_equal (el_config_set (&cfg, "peer", peer, err, sizeof err), EL_EINVAL);
    /* lists are bounded */
    for (int i = 0; i < EL_CONFIG_LISTEN_MAX; i++)
        assert_int_equal (el_config_set (&cfg, "listen", "tcp://*:1", err, sizeof err), 0);
    assert_int_equal (el_config_set (&cfg, "listen", "tcp://*:1", err, sizeof err), EL_ETOOBIG);
    /* long values are refused, not cut */
    char *huge = malloc (EL_CONFIG_PATH_MAX + 10);
    assert_non_null (huge);
    memset (huge, 'a', EL_CONFIG_PATH_MAX + 9);
    huge[EL_CONFIG_PATH_MAX + 9] = '\0';
    assert_int_equal (el_config_set (&cfg, "state_dir", huge, err, sizeof err), EL_ETOOBIG);
    free (huge);
    /* the same peer twice */
    el_config_init (&cfg);
    assert_int_equal (el_config_set (&cfg, "state_dir", "/s", err, sizeof err), 0);
    assert_int_equal (el_config_set (&cfg, "listen", "tcp://*:1", err, sizeof err), 0);
    assert_int_equal (el_config_set (&cfg, "peer", f->key_text, err, sizeof err), 0);
    assert_int_equal (el_config_set (&cfg, "peer", f->key_text, err, sizeof err), 0);
    assert_int_equal (el_config_finish (&cfg, EL_CONFIG_NEEDS_LISTEN, err, sizeof err), EL_EINVAL);
}

static void
test_http_listen (void **state)
{
    (void) state;
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX];
    assert_string_equal (cfg.http_listen, "");
    assert_int_equal (el_config_set (&cfg, "http-listen", "127.0.0.1:8080", err, sizeof err), 0);
    assert_string_equal (cfg.http_listen, "127.0.0.1:8080");
    struct sockaddr_storage sa;
    socklen_t len = 0;
    assert_int_equal (el_config_http_parse ("10.1.2.3:65535", &sa, &len), 0);
    const struct sockaddr_in *in4 = (const struct sockaddr_in *) &sa;
    assert_true (sa.ss_family == AF_INET && len == sizeof *in4);
    assert_int_equal (ntohs (in4->sin_port), 65535);
    assert_int_equal (in4->sin_addr.s_addr, htonl (0x0a010203));
    assert_int_equal (el_config_http_parse ("[::1]:8080", &sa, &len), 0);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &sa;
    assert_true (sa.ss_family == AF_INET6 && len == sizeof *in6);
    assert_int_equal (ntohs (in6->sin6_port), 8080);
    assert_true (IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr));
    assert_int_equal (el_config_set (&cfg, "http_listen", "[::]:8081", err, sizeof err), 0);
    assert_int_equal (el_config_set (&cfg, "http_listen", "127.0.0.1:8080", err, sizeof err), 0);
    static const char *const bad[] = {
        "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:80a", "localhost:8080", "256.0.0.1:80", "tcp://127.0.0.1:80",
        "127.0.0.1:99999999999999999999", "::1:8080", "[::1]", "[::1:8080", "[]:8080",
        "[127.0.0.1]:80", "[::g]:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal (el_config_set (&cfg, "http_listen", bad[i], err, sizeof err), EL_EINVAL);
        assert_non_null (strstr (err, "http_listen"));
        /* a refused value leaves the setting as it was */
        assert_string_equal (cfg.http_listen, "127.0.0.1:8080");
    }
    assert_true (cfg.http_equipment);
    assert_int_equal (el_config_set (&cfg, "http_equipment", "false", err, sizeof err), 0);
    assert_false (cfg.http_equipment);
    assert_int_equal (el_config_set (&cfg, "http_equipment", "maybe", err, sizeof err), EL_EINVAL);
    /* empty turns the endpoint off */
    assert_int_equal (el_config_set (&cfg, "http_listen", "", err, sizeof err), 0);
    assert_string_equal (cfg.http_listen, "");
}

static void
test_bad_files (void **state)
{
    s_fix_t *f = *state;
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX];
    char missing[160];
    snprintf (missing, sizeof missing, "%s/absent.ini", f->dir);
    assert_int_equal (el_config_load (&cfg, missing, err, sizeof err), -ENOENT);
    s_write (f->ini, "[daemon]\nstate_dir = /x\nfrob = 1\n");
    assert_int_equal (el_config_load (&cfg, f->ini, err, sizeof err), EL_EINVAL);
    assert_non_null (strstr (err, "frob"));
    s_write (f->ini, "[weird]\nstate_dir = /x\n");
    assert_int_equal (el_config_load (&cfg, f->ini, err, sizeof err), EL_EINVAL);
    s_write (f->ini, "[daemon]\nthis line has no equals sign\n");
    assert_int_equal (el_config_load (&cfg, f->ini, err, sizeof err), EL_EINVAL);
}

/* deploy/examples/NAME as a user makes it live, written to @p out: the
 * broker_key line holds @p broker_key, and each commented-out "; peer = ..."
 * line is uncommented with @p peer_key in place of its "<...>" placeholder.
 * Everything else is the file as shipped. */
static void
s_example_filled (const char *name, const char *broker_key, const char *peer_key,
                  const char *out)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/deploy/examples/%s", EL_SOURCE_DIR, name);
    FILE *in = fopen (path, "r");
    if (!in) {
        print_message ("example %s absent\n", path);
        fail ();
    }
    FILE *fp = fopen (out, "w");
    assert_non_null (fp);
    char line[1024];
    while (fgets (line, sizeof line, in)) {
        const char *lt = strchr (line, '<'), *gt = lt ? strchr (lt, '>') : NULL;
        if (!strncmp (line, "broker_key", 10))
            fprintf (fp, "broker_key = %s\n", broker_key);
        else if (!strncmp (line, "; peer = ", 9) && lt && gt)
            fprintf (fp, "peer = %.*s%s%s", (int) (lt - line - 9), line + 9, peer_key, gt + 1);
        else
            fputs (line, fp);
    }
    fclose (in);
    fclose (fp);
}

static void
test_example_configs_load (void **state)
{
    s_fix_t *f = *state;
    /* every shipped example, read by the daemons' own loader */
    static const struct {
        const char *name;
        unsigned needs;             /* what its daemon needs (el_config_needs_t) */
        const char *state_dir, *listen, *connect, *peer_endpoint;
    } ex[] = {
        { "broker.ini", EL_CONFIG_NEEDS_LISTEN, "/var/lib/entrelab-broker", "tcp://0.0.0.0:7400", "",
          "tcp://other-hub.example.org:7400" },
        { "site-a.ini", EL_CONFIG_NEEDS_BROKER, "/var/lib/entrelab", NULL, "tcp://hub.example.org:7400",
          "tcp://site-b.example.org:7401" },
        { "site-b.ini", EL_CONFIG_NEEDS_BROKER, "/var/lib/entrelab", "tcp://0.0.0.0:7401",
          "tcp://hub.example.org:7400", "" },
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        char path[1024], err[EL_CONFIG_ERR_MAX] = "";
        el_config_t cfg;
        /* as shipped: a broker's example runs; a site's refuses the placeholder
         * broker key with a message naming the setting */
        snprintf (path, sizeof path, "%s/deploy/examples/%s", EL_SOURCE_DIR, ex[i].name);
        el_config_init (&cfg);
        int rc = el_config_load (&cfg, path, err, sizeof err);
        if (ex[i].needs == EL_CONFIG_NEEDS_LISTEN) {
            if (rc != 0)
                print_message ("%s: %s\n", ex[i].name, err);
            assert_int_equal (rc, 0);
            assert_int_equal (el_config_finish (&cfg, ex[i].needs, err, sizeof err), 0);
        } else {
            assert_int_equal (rc, EL_EINVAL);
            assert_non_null (strstr (err, "broker_key"));
        }
        /* filled in as its comments say: every setting loads, the result is
         * what the file says and is enough for its daemon */
        s_example_filled (ex[i].name, f->key_text, f->key2_text, f->ini);
        el_config_init (&cfg);
        rc = el_config_load (&cfg, f->ini, err, sizeof err);
        if (rc != 0)
            print_message ("%s (filled in): %s\n", ex[i].name, err);
        assert_int_equal (rc, 0);
        assert_int_equal (el_config_finish (&cfg, ex[i].needs, err, sizeof err), 0);
        assert_string_equal (cfg.state_dir, ex[i].state_dir);
        assert_string_equal (cfg.connect, ex[i].connect);
        assert_int_equal (cfg.listen_n, ex[i].listen ? 1 : 0);
        if (ex[i].listen)
            assert_string_equal (cfg.listen[0], ex[i].listen);
        assert_int_equal (cfg.has_broker_key, ex[i].needs == EL_CONFIG_NEEDS_BROKER);
        if (ex[i].needs == EL_CONFIG_NEEDS_BROKER)
            assert_memory_equal (cfg.broker_key, f->key, EL_KEY_BYTES);
        assert_int_equal (cfg.peers_n, 1);
        assert_string_equal (cfg.peers[0].endpoint, ex[i].peer_endpoint);
        assert_int_equal (cfg.log_level, EL_LOG_INFO);
        assert_true (cfg.durable);
    }
}

int
main (void)
{
    if (el_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_defaults_and_finish, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ini_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flags_override_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_check_private, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_extra_flags_and_switches, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_values, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_http_listen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_example_configs_load, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
