/* peer_http_static — nginx_static_req_per_s: the peer of http_agenda_req_per_s.
 * nginx (Debian's nginx-light, deploy/install-deps.sh --bench) serves FILE
 * (the broker's /agenda.ics as el_bench_http -o wrote it) as a static file
 * from 127.0.0.1, one worker process, like entrelab's web endpoint which
 * answers from one thread; the same load as el_bench_http (C keep-alive
 * clients for S seconds after a one second warm-up, every response 200 with
 * the file's length). Prints `nginx_static_req_per_s=` once per run.
 * Exit 77 when nginx is not installed.
 *
 *   peer_http_static -f FILE [-d DIR] [-c CLIENTS] [-s SECONDS] [-R RUNS] [-n NGINX] */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_http.h"
#include "bench_util.h"

#define START_MS 10000

static const char *const s_nginx_paths[] = { "/usr/sbin/nginx", "/usr/local/sbin/nginx",
                                             "/usr/bin/nginx" };

static int
s_copy (const char *from, const char *to, size_t *ret_len)
{
    int in = open (from, O_RDONLY);
    if (in < 0)
        return -errno;
    int out = open (to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        int e = -errno;
        close (in);
        return e;
    }
    char buf[65536];
    size_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read (in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        rc = bench_write_all (out, buf, (size_t) n);
        if (rc < 0)
            break;
        total += (size_t) n;
    }
    close (in);
    if (close (out) < 0 && rc == 0)
        rc = -errno;
    *ret_len = total;
    return rc;
}

/* nginx.conf in @p dir: @p port on loopback, root dir/www, nothing logged
 * per request, every temporary path under dir. */
static int
s_conf (const char *dir, int port)
{
    char path[BENCH_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/nginx.conf", dir);
    FILE *f = fopen (path, "w");
    if (!f)
        return -errno;
    fprintf (f,
             "%s"
             "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
             "events { worker_connections 1024; }\n"
             "http {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n"
             "  keepalive_requests 100000000;\n  keepalive_timeout 65;\n"
             "  types { text/calendar ics; }\n"
             "  client_body_temp_path %s/tmp;\n  proxy_temp_path %s/tmp;\n"
             "  fastcgi_temp_path %s/tmp;\n  uwsgi_temp_path %s/tmp;\n  scgi_temp_path %s/tmp;\n"
             "  server {\n    listen 127.0.0.1:%d;\n    root %s/www;\n  }\n}\n",
             geteuid () == 0 ? "user root root;\n" : "", dir, dir, dir, dir, dir, dir, dir, port,
             dir);
    return fclose (f) == 0 ? 0 : -errno;
}

static pid_t
s_nginx_start (const char *nginx, const char *dir)
{
    char conf[BENCH_PATH_MAX + 16], prefix[BENCH_PATH_MAX + 2];
    snprintf (conf, sizeof conf, "%s/nginx.conf", dir);
    snprintf (prefix, sizeof prefix, "%s/", dir);
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid == 0) {
        execl (nginx, nginx, "-q", "-p", prefix, "-c", conf, "-e", "stderr", (char *) NULL);
        _exit (127);
    }
    return pid;
}

int
main (int argc, char **argv)
{
    const char *file = NULL, *base = NULL, *nginx = NULL;
    uint64_t clients = 16, millis = 5000, runs = 3;
    for (;;) {
        int opt = getopt (argc, argv, "f:d:c:s:R:n:h");
        if (opt == -1)
            break;
        int bad = 0;
        switch (opt) {
        case 'f': file = optarg; break;
        case 'd': base = optarg; break;
        case 'n': nginx = optarg; break;
        case 'c': bad = bench_parse_u64 (optarg, "-c", 1, BENCH_HTTP_CLIENTS_MAX, &clients); break;
        case 's': bad = bench_parse_seconds (optarg, "-s", 600, &millis); break;
        case 'R': bad = bench_parse_u64 (optarg, "-R", 1, 100, &runs); break;
        default:
            fprintf (stderr, "usage: peer_http_static -f FILE [-d DIR] [-c CLIENTS] [-s SECONDS] "
                             "[-R RUNS] [-n NGINX]\n");
            return opt == 'h' ? 0 : 2;
        }
        if (bad < 0)
            return 2;
    }
    if (!file) {
        bench_error ("-f FILE is required (the feed el_bench_http -o wrote)");
        return 2;
    }
    for (size_t i = 0; !nginx && i < sizeof s_nginx_paths / sizeof s_nginx_paths[0]; i++)
        if (access (s_nginx_paths[i], X_OK) == 0)
            nginx = s_nginx_paths[i];
    if (!nginx || access (nginx, X_OK) != 0) {
        bench_error ("nginx not installed (deploy/install-deps.sh --bench installs nginx-light)");
        return BENCH_EXIT_UNAVAILABLE;
    }
    char dir[BENCH_PATH_MAX], www[BENCH_PATH_MAX + 8], tmp[BENCH_PATH_MAX + 8];
    char served[BENCH_PATH_MAX + 32];
    if (bench_mkdtemp (base, "nginx.", dir) < 0)
        return 1;
    snprintf (www, sizeof www, "%s/www", dir);
    snprintf (tmp, sizeof tmp, "%s/tmp", dir);
    snprintf (served, sizeof served, "%s/agenda.ics", www);
    int rc = 1, port = 0;
    size_t len = 0;
    pid_t pid = -1;
    int err = mkdir (www, 0755) < 0 || mkdir (tmp, 0700) < 0 ? -errno : 0;
    if (err == 0)
        err = s_copy (file, served, &len);
    if (err < 0) {
        bench_error ("%s: %s", file, strerror (-err));
        goto out;
    }
    if (bench_free_tcp_port (&port) < 0 || s_conf (dir, port) < 0)
        goto out;
    pid = s_nginx_start (nginx, dir);
    if (pid < 0 || bench_wait_tcp (port, START_MS) < 0) {
        bench_error ("nginx did not start on port %d", port);
        goto out;
    }
    double per_s = 0;
    uint64_t n = 0;
    if (bench_http_load (port, "/agenda.ics", (int) clients, 1.0, len, &per_s, &n) < 0)
        goto out;
    for (uint64_t r = 0; r < runs; r++) {
        if (bench_http_load (port, "/agenda.ics", (int) clients, (double) millis / 1000.0, len,
                             &per_s, &n) < 0)
            goto out;
        printf ("nginx_static_req_per_s=%.0f\n", per_s);
        fflush (stdout);
        fprintf (stderr, "peer_http_static: run %llu: %llu requests of %zu bytes\n",
                 (unsigned long long) r + 1, (unsigned long long) n, len);
    }
    rc = 0;
out:
    if (pid > 0) {
        kill (pid, SIGTERM);
        bench_wait_child (pid, 10000);
    }
    bench_rm_rf (dir);
    return rc;
}
