/* el_log.c — see el_log.h. */
#include "el_log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "el_entry.h"

static el_log_level_t s_level = EL_LOG_INFO;

/* atomic: the reactor changes the level on a reload while other threads log */
void
el_log_set_level (el_log_level_t level)
{
    if (level >= EL_LOG_ERROR && level <= EL_LOG_DEBUG)
        __atomic_store_n (&s_level, level, __ATOMIC_RELAXED);
}

el_log_level_t
el_log_level (void)
{
    return __atomic_load_n (&s_level, __ATOMIC_RELAXED);
}

int
el_log_enabled (el_log_level_t level)
{
    return level <= el_log_level ();
}

void
el_log (el_log_level_t level, const char *event, const char *fmt, ...)
{
    if (!el_log_enabled (level))
        return;
    char line[EL_LOG_LINE_MAX];
    int n = snprintf (line, sizeof line, "%s event=%s", el_log_level_name (level),
                      event ? event : "unknown");
    if (n < 0)
        return;
    if (fmt && (size_t) n < sizeof line - 1) {
        line[n++] = ' ';
        va_list ap;
        va_start (ap, fmt);
        int m = vsnprintf (line + n, sizeof line - (size_t) n, fmt, ap);
        va_end (ap);
        if (m < 0)
            m = 0;
        n += m;
    }
    if ((size_t) n >= sizeof line - 1) {
        n = sizeof line - 1;
        memcpy (line + n - 3, "...", 3);
    }
    line[n] = '\n';
    fwrite (line, 1, (size_t) n + 1, stderr);
    fflush (stderr);
}

static int
s_is_safe (unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

const char *
el_log_quote (const char *text, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    if (!text)
        text = "";
    bool safe = *text != '\0';
    for (const char *p = text; *p; p++)
        if (!s_is_safe ((unsigned char) *p) && (unsigned char) *p < 0x80)
            safe = false;
    size_t o = 0;
    if (safe) {
        snprintf (buf, size, "%s", text);
        return buf;
    }
    if (size < 3) {
        buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (const char *p = text; *p && o + 3 < size; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c < ' ' || c == 0x7f) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char) c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *
el_log_fpr (const uint8_t key[32], char buf[EL_LOG_FPR_BYTES])
{
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (key, text);
    memcpy (buf, text, EL_LOG_FPR_BYTES - 1);
    buf[EL_LOG_FPR_BYTES - 1] = '\0';
    return buf;
}
