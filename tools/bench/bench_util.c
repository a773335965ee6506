/* bench_util.c — see bench_util.h. */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t
bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
bench_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("error: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
}

int
bench_parse_u64 (const char *text, const char *what, uint64_t min, uint64_t max,
                 uint64_t *ret)
{
    char *end = NULL;
    errno = 0;
    if (!text || !*text || *text == '-')
        goto bad;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || *end || v < min || v > max)
        goto bad;
    *ret = v;
    return 0;
bad:
    bench_error ("%s: expected an integer in [%llu, %llu], got '%s'", what,
                 (unsigned long long) min, (unsigned long long) max, text ? text : "");
    return -EINVAL;
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

int64_t
bench_percentile (int64_t *samples, size_t n, double pct)
{
    qsort (samples, n, sizeof *samples, s_cmp_i64);
    /* nearest rank: the smallest value with at least pct% of samples <= it */
    size_t rank = (size_t) ((pct / 100.0) * (double) n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return samples[rank - 1];
}

int
bench_mkdtemp (const char *base_dir, const char *prefix, char *ret)
{
    const char *base = base_dir;
    if (!base || !*base)
        base = getenv ("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char path[BENCH_PATH_MAX];
    int n = snprintf (path, sizeof path, "%s/%sXXXXXX", base, prefix);
    if (n < 0 || (size_t) n >= sizeof path)
        return -ENAMETOOLONG;
    if (!mkdtemp (path))
        return -errno;
    memcpy (ret, path, (size_t) n + 1);
    return 0;
}

static int
s_rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    int rc = (type == FTW_DP) ? rmdir (path) : unlink (path);
    return rc < 0 ? -errno : 0;
}

int
bench_rm_rf (const char *dir)
{
    int rc = nftw (dir, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc == -1)
        return -errno;
    return rc;
}

int
bench_free_tcp_port (int *ret)
{
    int rc = 0;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0
        || getsockname (fd, (struct sockaddr *) &sa, &len) < 0) {
        rc = -errno;
        goto out_close;
    }
    *ret = ntohs (sa.sin_port);
out_close:
    close (fd);
    return rc;
}

int
bench_wait_tcp (int port, int timeout_ms)
{
    int64_t deadline = bench_now_ns () + (int64_t) timeout_ms * 1000000;
    while (bench_now_ns () < deadline) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -errno;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
        sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = connect (fd, (struct sockaddr *) &sa, sizeof sa);
        close (fd);
        if (rc == 0)
            return 0;
        usleep (20 * 1000);
    }
    return -ETIMEDOUT;
}

int
bench_write_all (int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
bench_read_all (int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EPIPE;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
bench_wait_child (pid_t pid, int timeout_ms)
{
    int64_t deadline = bench_now_ns () + (int64_t) timeout_ms * 1000000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == pid)
            break;
        if (bench_now_ns () >= deadline) {
            kill (pid, SIGKILL);
            if (waitpid (pid, &status, 0) < 0)
                return -errno;
            break;
        }
        usleep (5 * 1000);
    }
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return -ECHILD;
}

void
bench_fill (uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t) (x >> 24);
    }
}

int
bench_parse_seconds (const char *text, const char *what, double max, uint64_t *ret_ms)
{
    char *end;
    double s = strtod (text, &end);
    if (end == text || *end || !(s > 0) || s > max) {
        bench_error ("%s: seconds in (0, %g], not '%s'", what, max, text);
        return -EINVAL;
    }
    *ret_ms = (uint64_t) (s * 1000);
    return 0;
}
