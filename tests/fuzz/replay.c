/* replay.c — a main() for the fuzz targets in builds without libFuzzer (gcc,
 * CI): runs LLVMFuzzerTestOneInput over every file given (files or
 * directories, one level deep), then over deterministic random mutations of
 * them (bit flips, byte and integer overwrites, inserts, erases, copies,
 * crossovers), so that a regression in a decoder shows up in ctest without
 * clang. Reproducible: the mutations follow --seed (default 1).
 *
 *   fuzz_X_replay [-n MUTATIONS] [-s SEED] [-m MAX_BYTES] [-o PATH]... PATH...
 *
 * Every PATH must exist: a missing one is an error (exit 1). A path given
 * with -o is optional input (real test data kept outside the repository):
 * when one is missing, nothing runs and the program exits 77 (skipped),
 * saying which.
 *
 * When an input crashes (an ASan report, an abort, a signal), it is written
 * to ./replay-crash-<pid>, so it can be added to the corpus. Reports that
 * end the process otherwise (UBSan's halt_on_error) bypass that: rerun with
 * FUZZ_DUMP=FILE, which writes every input to FILE before running it.
 * FUZZ_SEED=N overrides -s.
 * Exit 0 when every input ran, 1 on a missing PATH or an unreadable file, 77
 * when an optional path is missing; a crash ends the process as it would
 * anyway. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));
void __sanitizer_set_death_callback (void (*cb) (void)) __attribute__ ((weak));

#define S_INPUTS_MAX 4096
#define S_FILE_MAX   (8u << 20)

typedef struct {
    uint8_t *data;
    size_t len;
} s_input_t;

static s_input_t s_inputs[S_INPUTS_MAX];
static size_t s_n_inputs;

/* the input being run, for the crash dump */
static const uint8_t *s_cur;
static size_t s_cur_len;
static const char *s_cur_name;

static void
s_dump (void)
{
    if (!s_cur)
        return;
    char path[64];
    snprintf (path, sizeof path, "replay-crash-%ld", (long) getpid ());
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < s_cur_len) {
            ssize_t n = write (fd, s_cur + off, s_cur_len - off);
            if (n <= 0)
                break;
            off += (size_t) n;
        }
        close (fd);
    }
    /* async-signal-safe enough for a dying process */
    const char *msg = "replay: crashing input written to ./";
    if (write (2, msg, strlen (msg)) < 0 || write (2, path, strlen (path)) < 0
        || write (2, " (", 2) < 0 || write (2, s_cur_name, strlen (s_cur_name)) < 0
        || write (2, ")\n", 2) < 0)
        return;
    s_cur = NULL;
}

static void
s_on_signal (int sig)
{
    s_dump ();
    signal (sig, SIG_DFL);
    raise (sig);
}

static int
s_load_file (const char *path)
{
    struct stat st;
    if (stat (path, &st) != 0 || !S_ISREG (st.st_mode) || (size_t) st.st_size > S_FILE_MAX)
        return 0;
    if (s_n_inputs == S_INPUTS_MAX)
        return 0;
    FILE *f = fopen (path, "rb");
    if (!f)
        return -errno;
    uint8_t *data = malloc ((size_t) st.st_size + 1);
    size_t len = data ? fread (data, 1, (size_t) st.st_size, f) : 0;
    fclose (f);
    if (!data)
        return -ENOMEM;
    s_inputs[s_n_inputs++] = (s_input_t) { data, len };
    return 0;
}

static int
s_cmp_name (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
s_load (const char *path)
{
    struct stat st;
    if (stat (path, &st) != 0)
        return -errno;
    if (!S_ISDIR (st.st_mode))
        return s_load_file (path);
    DIR *d = opendir (path);
    if (!d)
        return -errno;
    char *names[S_INPUTS_MAX];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir (d)) && n < S_INPUTS_MAX) {
        if (de->d_name[0] == '.')
            continue;
        size_t len = strlen (path) + strlen (de->d_name) + 2;
        names[n] = malloc (len);
        if (!names[n])
            break;
        snprintf (names[n], len, "%s/%s", path, de->d_name);
        n++;
    }
    closedir (d);
    qsort (names, n, sizeof *names, s_cmp_name);    /* same order on every machine */
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = s_load_file (names[i]);
        free (names[i]);
    }
    return rc;
}

/* ------------------------------------------------------------ mutations */

static uint64_t s_rng;

static uint64_t
s_rand (void)
{
    /* xorshift64* */
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 0x2545f4914f6cdd1dull;
}

static size_t
s_below (size_t n)
{
    return n ? (size_t) (s_rand () % n) : 0;
}

/* One mutation of buf[0..*len) in place; the buffer holds @p cap bytes. */
static void
s_mutate (uint8_t *buf, size_t *len, size_t cap)
{
    static const uint64_t interesting[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff,
                                            0x7fffffff, 0x80000000u, 0xffffffffu,
                                            0x7fffffffffffffffull, 0xffffffffffffffffull };
    size_t n = *len;
    switch (s_rand () % 11) {
    case 0:     /* flip a bit */
        if (n)
            buf[s_below (n)] ^= (uint8_t) (1u << s_below (8));
        break;
    case 1:     /* random byte */
        if (n)
            buf[s_below (n)] = (uint8_t) s_rand ();
        break;
    case 2: {   /* interesting integer, 1/2/4/8 bytes little-endian */
        size_t w = (size_t) 1 << s_below (4);
        if (n >= w) {
            uint64_t v = interesting[s_below (sizeof interesting / sizeof *interesting)];
            size_t at = s_below (n - w + 1);
            for (size_t i = 0; i < w; i++)
                buf[at + i] = (uint8_t) (v >> (8 * i));
        }
        break;
    }
    case 3: {   /* insert random bytes */
        size_t k = 1 + s_below (8);
        if (n + k <= cap) {
            size_t at = s_below (n + 1);
            memmove (buf + at + k, buf + at, n - at);
            for (size_t i = 0; i < k; i++)
                buf[at + i] = (uint8_t) s_rand ();
            *len = n + k;
        }
        break;
    }
    case 4: {   /* erase a range */
        if (n) {
            size_t at = s_below (n), k = 1 + s_below (n - at < 16 ? n - at : 16);
            memmove (buf + at, buf + at + k, n - at - k);
            *len = n - k;
        }
        break;
    }
    case 5: {   /* duplicate a range */
        if (n) {
            size_t at = s_below (n), k = 1 + s_below (n - at < 64 ? n - at : 64);
            if (n + k <= cap) {
                size_t to = s_below (n + 1);
                uint8_t tmp[64];
                memcpy (tmp, buf + at, k);
                memmove (buf + to + k, buf + to, n - to);
                memcpy (buf + to, tmp, k);
                *len = n + k;
            }
        }
        break;
    }
    case 6: {   /* overwrite with a range of another input (crossover) */
        const s_input_t *o = &s_inputs[s_below (s_n_inputs)];
        if (n && o->len) {
            size_t from = s_below (o->len), k = 1 + s_below (o->len - from);
            size_t at = s_below (n);
            if (k > n - at)
                k = n - at;
            memcpy (buf + at, o->data + from, k);
        }
        break;
    }
    case 7: {   /* insert a range of another input */
        const s_input_t *o = &s_inputs[s_below (s_n_inputs)];
        if (o->len) {
            size_t from = s_below (o->len), k = 1 + s_below (o->len - from);
            if (n + k <= cap) {
                size_t at = s_below (n + 1);
                memmove (buf + at + k, buf + at, n - at);
                memcpy (buf + at, o->data + from, k);
                *len = n + k;
            }
        }
        break;
    }
    case 8:     /* truncate */
        *len = s_below (n + 1);
        break;
    case 9: {   /* a long varint (protobuf lengths, tags) */
        static const uint8_t v[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
        if (n >= sizeof v) {
            size_t at = s_below (n - sizeof v + 1);
            memcpy (buf + at, v, 1 + s_below (sizeof v));
        }
        break;
    }
    default:    /* increment or decrement a byte */
        if (n)
            buf[s_below (n)] += s_rand () & 1 ? 1 : 0xff;
        break;
    }
}

static const char *s_dump_path;    /* FUZZ_DUMP: every input written here first */

static void
s_run (const uint8_t *data, size_t len, const char *name)
{
    if (s_dump_path) {
        FILE *f = fopen (s_dump_path, "wb");
        if (f) {
            fwrite (data, 1, len, f);
            fclose (f);
        }
    }
    /* a private copy, so reads past the end are caught by ASan */
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        abort ();
    memcpy (copy, data, len);
    s_cur = copy;
    s_cur_len = len;
    s_cur_name = name;
    LLVMFuzzerTestOneInput (copy, len);
    s_cur = NULL;
    free (copy);
}

int
main (int argc, char **argv)
{
    unsigned long mutations = 1000, seed = 1, max_bytes = 65536;
    const char *optional[64];
    size_t n_optional = 0;
    int opt;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize (&argc, &argv);
    while ((opt = getopt (argc, argv, "n:s:m:o:")) != -1) {
        switch (opt) {
        case 'n': mutations = strtoul (optarg, NULL, 10); break;
        case 's': seed = strtoul (optarg, NULL, 10); break;
        case 'm': max_bytes = strtoul (optarg, NULL, 10); break;
        case 'o':
            if (n_optional < sizeof optional / sizeof *optional) {
                optional[n_optional++] = optarg;
                break;
            }
            /* fall through */
        default:
            fprintf (stderr, "usage: %s [-n MUTATIONS] [-s SEED] [-m MAX_BYTES] [-o PATH]... "
                     "PATH...\n", argv[0]);
            return 2;
        }
    }
    /* optional input first: when some is absent, the run is a skip, not a pass */
    int absent = 0;
    for (size_t i = 0; i < n_optional; i++) {
        struct stat st;
        if (stat (optional[i], &st) != 0) {
            printf ("SKIP: %s: %s (optional input)\n", optional[i], strerror (errno));
            absent++;
        }
    }
    if (absent)
        return 77;
    for (size_t i = 0; i < n_optional; i++) {
        int rc = s_load (optional[i]);
        if (rc < 0) {
            fprintf (stderr, "replay: %s: %s\n", optional[i], strerror (-rc));
            return 1;
        }
    }
    s_dump_path = getenv ("FUZZ_DUMP");
    if (getenv ("FUZZ_SEED"))
        seed = strtoul (getenv ("FUZZ_SEED"), NULL, 10);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback (s_dump);
    signal (SIGABRT, s_on_signal);
    signal (SIGSEGV, s_on_signal);
    signal (SIGBUS, s_on_signal);
    signal (SIGFPE, s_on_signal);
    for (int i = optind; i < argc; i++) {
        int rc = s_load (argv[i]);
        if (rc < 0) {
            fprintf (stderr, "replay: %s: %s\n", argv[i], strerror (-rc));
            return 1;
        }
    }
    if (s_n_inputs == 0) {     /* no corpus yet: mutate the empty input */
        s_inputs[0] = (s_input_t) { malloc (1), 0 };
        if (!s_inputs[0].data)
            return 1;
        s_n_inputs = 1;
    }
    for (size_t i = 0; i < s_n_inputs; i++)
        s_run (s_inputs[i].data, s_inputs[i].len, "corpus file");
    s_rng = seed * 0x9e3779b97f4a7c15ull + 1;
    uint8_t *buf = malloc (max_bytes + 1);
    if (!buf)
        return 1;
    for (unsigned long m = 0; m < mutations; m++) {
        const s_input_t *in = &s_inputs[s_below (s_n_inputs)];
        size_t len = in->len < max_bytes ? in->len : max_bytes;
        memcpy (buf, in->data, len);
        for (size_t k = 1 + s_below (4); k > 0; k--)
            s_mutate (buf, &len, max_bytes);
        s_run (buf, len, "mutation");
    }
    free (buf);
    for (size_t i = 0; i < s_n_inputs; i++)
        free (s_inputs[i].data);
    fprintf (stderr, "replay: %zu inputs, %lu mutations (seed %lu): no crash\n", s_n_inputs,
             mutations, seed);
    return 0;
}
