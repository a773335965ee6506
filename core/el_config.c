/* el_config.c — see el_config.h. */
#include "el_config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "el_keytext.h"

static void
s_err (char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, err_size, fmt, ap);
    va_end (ap);
}

void
el_config_init (el_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->log_level = EL_LOG_INFO;
    cfg->heartbeat_ivl_ms = 2000;
    cfg->heartbeat_timeout_ms = 10000;
    cfg->heartbeat_ttl_ms = 20000;
    cfg->reconnect_ivl_ms = 200;
    cfg->reconnect_ivl_max_ms = 5000;
    cfg->hwm = 1000;
    cfg->durable = true;
    cfg->http_equipment = true;
}

static int
s_copy (char *dst, const char *value, char *err, size_t err_size, const char *name)
{
    size_t len = strlen (value);
    if (len == 0) {
        s_err (err, err_size, "%s: empty value", name);
        return EL_EINVAL;
    }
    if (len >= EL_CONFIG_PATH_MAX) {
        s_err (err, err_size, "%s: longer than %d bytes", name, EL_CONFIG_PATH_MAX - 1);
        return EL_ETOOBIG;
    }
    memcpy (dst, value, len + 1);
    return 0;
}

static int
s_int (const char *value, long long lo, long long hi, long long *ret)
{
    if (!*value)
        return EL_EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll (value, &end, 10);
    if (errno || !end || *end != '\0' || v < lo || v > hi)
        return EL_EINVAL;
    *ret = v;
    return 0;
}

static int
s_bool (const char *value, bool *ret)
{
    if (!strcmp (value, "true") || !strcmp (value, "yes") || !strcmp (value, "1")
        || !strcmp (value, "on")) {
        *ret = true;
        return 0;
    }
    if (!strcmp (value, "false") || !strcmp (value, "no") || !strcmp (value, "0")
        || !strcmp (value, "off")) {
        *ret = false;
        return 0;
    }
    return EL_EINVAL;
}

int
el_config_peer_parse (const char *text, el_config_peer_t *ret)
{
    el_config_peer_t peer;
    memset (&peer, 0, sizeof peer);
    const char *at = strchr (text, '@');
    size_t key_len = at ? (size_t) (at - text) : strlen (text);
    char key_text[EL_KEYTEXT_BYTES + 8];
    if (key_len == 0 || key_len >= sizeof key_text)
        return EL_EKEYFORMAT;
    memcpy (key_text, text, key_len);
    key_text[key_len] = '\0';
    int rc = el_keytext_decode (key_text, peer.key, NULL, NULL);
    if (rc < 0 && key_len != EL_KEYTEXT_LEN)
        rc = el_key_from_text (key_text, peer.key);     /* the older form, padded */
    if (rc < 0)
        return rc;
    if (at) {
        size_t ep_len = strlen (at + 1);
        if (ep_len == 0 || ep_len >= sizeof peer.endpoint || !strstr (at + 1, "://"))
            return EL_EINVAL;
        memcpy (peer.endpoint, at + 1, ep_len + 1);
    }
    *ret = peer;
    return 0;
}

typedef struct {
    const char *name;
    long long lo, hi;
    size_t offset;
    int width;          /* 4 = int, 8 = uint64_t, 's' = size_t */
} s_num_key_t;

#define S_NUM(n, lo, hi, w) { #n, lo, hi, offsetof (el_config_t, n), w }
static const s_num_key_t s_num_keys[] = {
    S_NUM (heartbeat_ivl_ms, 100, 3600000, 4),
    S_NUM (heartbeat_timeout_ms, 100, 3600000, 4),
    S_NUM (heartbeat_ttl_ms, 100, 6553500, 4),
    S_NUM (reconnect_ivl_ms, 10, 3600000, 4),
    S_NUM (reconnect_ivl_max_ms, 0, 3600000, 4),
    S_NUM (hwm, 10, 1000000, 4),
    S_NUM (map_max_mb, 1, 1 << 24, 8),
    S_NUM (credit, 1, 1 << 24, 8),
    S_NUM (batch, 1, EL_BATCH_MAX, 's'),
};

int
el_config_set (el_config_t *cfg, const char *name_in, const char *value, char *err,
               size_t err_size)
{
    char name[64];
    size_t len = strlen (name_in);
    if (len >= sizeof name)
        return -ENOENT;
    for (size_t i = 0; i <= len; i++)
        name[i] = name_in[i] == '-' ? '_' : name_in[i];
    if (!value)
        value = "";

    if (!strcmp (name, "state_dir"))
        return s_copy (cfg->state_dir, value, err, err_size, name);
    if (!strcmp (name, "key_file"))
        return s_copy (cfg->key_file, value, err, err_size, name);
    if (!strcmp (name, "connect")) {
        if (!strstr (value, "://")) {
            s_err (err, err_size, "connect: not an endpoint: %s", value);
            return EL_EINVAL;
        }
        return s_copy (cfg->connect, value, err, err_size, name);
    }
    if (!strcmp (name, "control")) {
        if (!strstr (value, "://")) {
            s_err (err, err_size, "control: not an endpoint: %s", value);
            return EL_EINVAL;
        }
        return s_copy (cfg->control, value, err, err_size, name);
    }
    if (!strcmp (name, "listen")) {
        if (!strstr (value, "://")) {
            s_err (err, err_size, "listen: not an endpoint: %s", value);
            return EL_EINVAL;
        }
        if (cfg->listen_n >= EL_CONFIG_LISTEN_MAX) {
            s_err (err, err_size, "listen: more than %d endpoints", EL_CONFIG_LISTEN_MAX);
            return EL_ETOOBIG;
        }
        int rc = s_copy (cfg->listen[cfg->listen_n], value, err, err_size, name);
        if (rc == 0)
            cfg->listen_n++;
        return rc;
    }
    if (!strcmp (name, "http_listen") || !strcmp (name, "metrics_listen")) {
        char *to = name[0] == 'h' ? cfg->http_listen : cfg->metrics_listen;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        if (!value[0]) {
            to[0] = '\0';
            return 0;
        }
        if (strlen (value) >= EL_CONFIG_HTTP_MAX
            || el_config_http_parse (value, &addr, &addr_len) < 0) {
            s_err (err, err_size, "%s: %s (expected ADDR:PORT, e.g. 127.0.0.1:8080 "
                                  "or [::1]:8080)", name, value);
            return EL_EINVAL;
        }
        memcpy (to, value, strlen (value) + 1);
        return 0;
    }
    if (!strcmp (name, "broker_key")) {
        const char *why = NULL;
        int rc = el_keytext_resolve (value, cfg->broker_key, NULL, &why);
        if (rc < 0) {
            s_err (err, err_size, "broker_key: %s: %s", value, why ? why : el_strerror (rc));
            return EL_EINVAL;
        }
        cfg->has_broker_key = true;
        return 0;
    }
    if (!strcmp (name, "log_level")) {
        if (el_log_level_parse (value, &cfg->log_level) < 0) {
            s_err (err, err_size, "log_level: %s (error, warn, info, debug)", value);
            return EL_EINVAL;
        }
        return 0;
    }
    if (!strcmp (name, "peer")) {
        if (cfg->peers_n >= EL_CONFIG_PEERS_MAX) {
            s_err (err, err_size, "peer: more than %d peers", EL_CONFIG_PEERS_MAX);
            return EL_ETOOBIG;
        }
        int rc = el_config_peer_parse (value, &cfg->peers[cfg->peers_n]);
        if (rc == EL_EKEYFORMAT) {
            char key_text[EL_KEYTEXT_BYTES + 8] = "";
            const char *why = "not a key";
            size_t len = strcspn (value, "@");
            if (len < sizeof key_text) {
                memcpy (key_text, value, len);
                key_text[len] = '\0';
                uint8_t k[EL_KEY_BYTES];
                (void) el_keytext_decode (key_text, k, NULL, &why);
            }
            s_err (err, err_size, "peer: %s: the key: %s (expected KEY@ENDPOINT or KEY)", value,
                   why);
            return EL_EINVAL;
        }
        if (rc < 0) {
            s_err (err, err_size, "peer: %s: expected KEY@ENDPOINT or KEY", value);
            return EL_EINVAL;
        }
        cfg->peers_n++;
        return 0;
    }
    if (!strcmp (name, "timezone")) {
        if (!el_config_timezone_ok (value)) {
            s_err (err, err_size, "timezone: %s is not a zone name (e.g. Europe/Paris)", value);
            return EL_EINVAL;
        }
        return s_copy (cfg->timezone, value, err, err_size, name);
    }
    if (!strcmp (name, "http_equipment")) {
        if (s_bool (value, &cfg->http_equipment) < 0) {
            s_err (err, err_size, "http_equipment: %s (true or false)", value);
            return EL_EINVAL;
        }
        return 0;
    }
    if (!strcmp (name, "durable")) {
        if (s_bool (value, &cfg->durable) < 0) {
            s_err (err, err_size, "durable: %s (true or false)", value);
            return EL_EINVAL;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof s_num_keys / sizeof s_num_keys[0]; i++) {
        const s_num_key_t *k = &s_num_keys[i];
        if (strcmp (name, k->name))
            continue;
        long long v;
        if (s_int (value, k->lo, k->hi, &v) < 0) {
            s_err (err, err_size, "%s: %s (integer %lld..%lld)", name, value, k->lo, k->hi);
            return EL_EINVAL;
        }
        char *field = (char *) cfg + k->offset;
        if (k->width == 4)
            *(int *) field = (int) v;
        else if (k->width == 8)
            *(uint64_t *) field = (uint64_t) v;
        else
            *(size_t *) field = (size_t) v;
        return 0;
    }
    s_err (err, err_size, "unknown setting: %s", name_in);
    return -ENOENT;
}

typedef struct {
    el_config_t *cfg;
    char *err;
    size_t err_size;
    int rc;
} s_ini_t;

static int
s_ini_handler (void *user, const char *section, const char *name, const char *value)
{
    s_ini_t *ini = user;
    char msg[EL_CONFIG_ERR_MAX];
    if (*section && strcmp (section, "daemon") && strcmp (section, "limits")
        && strcmp (section, "node") && strcmp (section, "broker")) {
        s_err (ini->err, ini->err_size, "unknown section [%s]", section);
        ini->rc = EL_EINVAL;
        return 0;
    }
    msg[0] = '\0';
    int rc = el_config_set (ini->cfg, name, value, msg, sizeof msg);
    if (rc < 0) {
        s_err (ini->err, ini->err_size, "%s", msg);
        ini->rc = rc == -ENOENT ? EL_EINVAL : rc;
        return 0;
    }
    return 1;
}

int
el_config_load (el_config_t *cfg, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        int rc = -errno;
        s_err (err, err_size, "%s: %s", path, strerror (errno));
        return rc;
    }
    char msg[EL_CONFIG_ERR_MAX] = "";
    s_ini_t ini = { cfg, msg, sizeof msg, 0 };
    int line = ini_parse_file (f, s_ini_handler, &ini);
    fclose (f);
    if (ini.rc < 0) {
        s_err (err, err_size, "%s: %s", path, msg);
        return ini.rc;
    }
    if (line != 0) {
        s_err (err, err_size, "%s: line %d: syntax error", path, line);
        return EL_EINVAL;
    }
    return 0;
}

static bool
s_is_switch (const char *name, const char *const *switches)
{
    for (size_t i = 0; switches && switches[i]; i++)
        if (!strcmp (name, switches[i]))
            return true;
    return false;
}

int
el_config_check_private (const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        int rc = -errno;
        s_err (err, err_size, "%s: %s", path, strerror (errno));
        return rc;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        s_err (err, err_size, "%s is writable by %s (mode %04o): refused; chmod go-w %s",
               path, st.st_mode & S_IWOTH ? "others" : "its group",
               (unsigned) (st.st_mode & 07777), path);
        return -EPERM;
    }
    return 0;
}

int
el_config_from_args (el_config_t *cfg, int argc, char **argv, const char *const *switches,
                     el_config_extra_fn *extra, void *arg, char *err, size_t err_size)
{
    /* Pass 1: the file, so that flags override it whatever their order. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *path = NULL;
        if (!strcmp (a, "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp (a, "--config=", 9))
            path = a + 9;
        if (path) {
            int rc = el_config_load (cfg, path, err, err_size);
            if (rc < 0)
                return rc;
            if (strlen (path) >= sizeof cfg->config_file) {
                s_err (err, err_size, "--config: path too long");
                return EL_ETOOBIG;
            }
            snprintf (cfg->config_file, sizeof cfg->config_file, "%s", path);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp (a, "--", 2) || !a[2]) {
            s_err (err, err_size, "unexpected argument: %s", a);
            return EL_EINVAL;
        }
        char name[64];
        const char *value = NULL;
        const char *eq = strchr (a + 2, '=');
        size_t len = eq ? (size_t) (eq - a - 2) : strlen (a + 2);
        if (len >= sizeof name) {
            s_err (err, err_size, "unknown flag: %s", a);
            return EL_EINVAL;
        }
        memcpy (name, a + 2, len);
        name[len] = '\0';
        bool is_switch = s_is_switch (name, switches);
        if (eq)
            value = eq + 1;
        else if (!is_switch) {
            if (i + 1 >= argc) {
                s_err (err, err_size, "--%s needs a value", name);
                return EL_EINVAL;
            }
            value = argv[++i];
        }
        if (!strcmp (name, "config"))
            continue;
        int rc = -ENOENT;
        if (!is_switch) {
            char msg[EL_CONFIG_ERR_MAX];
            msg[0] = '\0';
            rc = el_config_set (cfg, name, value, msg, sizeof msg);
            if (rc < 0 && rc != -ENOENT) {
                s_err (err, err_size, "--%s", msg);
                return rc;
            }
        }
        if (rc == -ENOENT && extra)
            rc = extra (arg, name, value);
        if (rc == -ENOENT) {
            s_err (err, err_size, "unknown flag: --%s", name);
            return EL_EINVAL;
        }
        if (rc < 0) {
            s_err (err, err_size, "--%s: %s", name, el_strerror (rc));
            return rc;
        }
    }
    return 0;
}

int
el_config_finish (el_config_t *cfg, unsigned needs, char *err, size_t err_size)
{
    if (!cfg->state_dir[0]) {
        s_err (err, err_size, "state_dir is required (--state-dir DIR)");
        return EL_EINVAL;
    }
    if (!cfg->key_file[0]) {
        if (snprintf (cfg->key_file, sizeof cfg->key_file, "%s/key", cfg->state_dir)
            >= (int) sizeof cfg->key_file) {
            s_err (err, err_size, "state_dir too long");
            return EL_EINVAL;
        }
    }
    if (!cfg->control[0]) {
        if (snprintf (cfg->control, sizeof cfg->control, "ipc://%s/control.sock",
                      cfg->state_dir) >= (int) sizeof cfg->control) {
            s_err (err, err_size, "state_dir too long");
            return EL_EINVAL;
        }
    }
    if (needs & EL_CONFIG_NEEDS_BROKER) {
        if (!cfg->connect[0]) {
            s_err (err, err_size, "a node needs its broker's endpoint (--connect ENDPOINT)");
            return EL_EINVAL;
        }
        if (!cfg->has_broker_key) {
            s_err (err, err_size, "a node needs its broker's key (--broker-key KEY|FILE)");
            return EL_EINVAL;
        }
    }
    if ((needs & EL_CONFIG_NEEDS_LISTEN) && cfg->listen_n == 0) {
        s_err (err, err_size, "a broker needs an endpoint to bind (--listen ENDPOINT)");
        return EL_EINVAL;
    }
    if (cfg->heartbeat_timeout_ms < cfg->heartbeat_ivl_ms) {
        s_err (err, err_size, "heartbeat_timeout_ms below heartbeat_ivl_ms");
        return EL_EINVAL;
    }
    for (size_t i = 0; i < cfg->peers_n; i++)
        for (size_t j = i + 1; j < cfg->peers_n; j++)
            if (!memcmp (cfg->peers[i].key, cfg->peers[j].key, EL_KEY_BYTES)) {
                s_err (err, err_size, "peer listed twice");
                return EL_EINVAL;
            }
    return 0;
}

/* ------------------------------------------------------------ log levels */

static const char *const s_level_names[] = { "error", "warn", "info", "debug" };

int
el_log_level_parse (const char *text, el_log_level_t *ret)
{
    for (int i = 0; i <= (int) EL_LOG_DEBUG; i++) {
        if (text && strcmp (text, s_level_names[i]) == 0) {
            *ret = (el_log_level_t) i;
            return 0;
        }
    }
    if (text && strcmp (text, "warning") == 0) {
        *ret = EL_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

const char *
el_log_level_name (el_log_level_t level)
{
    if (level < EL_LOG_ERROR || level > EL_LOG_DEBUG)
        return "info";
    return s_level_names[level];
}

bool
el_config_timezone_ok (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len >= EL_CONFIG_TZ_MAX || name[0] == '/' || name[0] == '.'
        || strstr (name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

int
el_config_http_parse (const char *text, struct sockaddr_storage *ret, socklen_t *ret_len)
{
    char host[EL_CONFIG_HTTP_MAX];
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text || (size_t) (colon - text) >= sizeof host)
        return EL_EINVAL;
    bool v6 = text[0] == '[';
    const char *h = text + (v6 ? 1 : 0);
    size_t hl = (size_t) (colon - h) - (v6 ? 1 : 0);
    if (v6 && (colon[-1] != ']' || colon - 1 <= h))
        return EL_EINVAL;
    memcpy (host, h, hl);
    host[hl] = '\0';
    const char *p = colon + 1;
    unsigned long port = 0;
    if (!*p)
        return EL_EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return EL_EINVAL;
        port = port * 10 + (unsigned long) (*p - '0');
        if (port > 65535)
            return EL_EINVAL;
    }
    if (port == 0)
        return EL_EINVAL;
    memset (ret, 0, sizeof *ret);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) ret;
        if (inet_pton (AF_INET6, host, &a->sin6_addr) != 1)
            return EL_EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons ((uint16_t) port);
        *ret_len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *) ret;
        if (inet_pton (AF_INET, host, &a->sin_addr) != 1)
            return EL_EINVAL;
        a->sin_family = AF_INET;
        a->sin_port = htons ((uint16_t) port);
        *ret_len = sizeof *a;
    }
    return 0;
}
