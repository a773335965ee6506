/* entrelab — the coordinators' command line, a client of one daemon's control
 * socket (docs/ARCHITECTURE.md "Control protocol"). Dispatches
 * `entrelab <words> [options]` to the command tables of tools/cli/el_cli_*.c. See docs/CLI.md for every command with an example. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_cli.h"
#include "el_cli_suggest.h"
#include "el_version.h"

static const el_cli_cmd_t *const s_tables[] = {
    el_cli_site_cmds, el_cli_event_cmds, el_cli_event_import_cmds, el_cli_equipment_cmds,
    el_cli_equipment_import_cmds, el_cli_booking_cmds, el_cli_member_cmds,
    el_cli_member_import_cmds, el_cli_federation_cmds,
};
#define S_TABLES (sizeof s_tables / sizeof s_tables[0])

/* Does @p words ("event add") match argv[0..]? @return words consumed, 0 if not. */
static int
s_match (const char *words, int argc, char **argv)
{
    int used = 0;
    const char *w = words;
    while (*w) {
        size_t len = strcspn (w, " ");
        if (used >= argc || strlen (argv[used]) != len || strncmp (argv[used], w, len))
            return 0;
        used++;
        w += len;
        while (*w == ' ')
            w++;
    }
    return used;
}

/* Does any command start with the word argv[0]? */
static bool
s_is_group (const char *word)
{
    size_t len = strlen (word);
    for (size_t t = 0; t < S_TABLES; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++)
            if (!strncmp (c->words, word, len) && (c->words[len] == ' ' || !c->words[len]))
                return true;
    return false;
}

/* Word @p w (0: the command, 1: its subcommand) of every command whose
 * first word is @p group (any when NULL), each once, into @p out. */
static size_t
s_words (const char *group, int w, char out[][EL_CLI_SUGGEST_WORD_MAX], size_t max)
{
    size_t n = 0;
    for (size_t t = 0; t < S_TABLES; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words && n < max; c++) {
            const char *sp = strchr (c->words, ' ');
            size_t l0 = sp ? (size_t) (sp - c->words) : strlen (c->words);
            if (group && (strlen (group) != l0 || strncmp (c->words, group, l0)))
                continue;
            const char *word = w == 0 ? c->words : sp ? sp + 1 : NULL;
            size_t len = w == 0 ? l0 : word ? strcspn (word, " ") : 0;
            if (!word || len == 0 || len >= EL_CLI_SUGGEST_WORD_MAX)
                continue;
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = strlen (out[i]) == len && !strncmp (out[i], word, len);
            if (!seen) {
                memcpy (out[n], word, len);
                out[n++][len] = '\0';
            }
        }
    return n;
}

/* "unknown command", with the nearest command when one is near enough. */
static int
s_unknown (el_cli_t *cli, int n, char **rest)
{
    enum { MAX = 128 };
    static char words[MAX][EL_CLI_SUGGEST_WORD_MAX];
    const char *cands[MAX];
    bool sub = n > 1 && s_is_group (rest[0]);
    size_t k = s_words (sub ? rest[0] : NULL, sub ? 1 : 0, words, MAX);
    for (size_t i = 0; i < k; i++)
        cands[i] = words[i];
    const char *near = el_cli_nearest (sub ? rest[1] : rest[0], cands, k);
    if (near)
        return el_cli_bad (cli, "unknown command '%s%s%s'; did you mean '%s%s%s'? "
                                "(see entrelab --help)",
                           rest[0], sub ? " " : "", sub ? rest[1] : "", sub ? rest[0] : "",
                           sub ? " " : "", near);
    return el_cli_bad (cli, "unknown command '%s%s%s' (see entrelab --help)", rest[0],
                       sub ? " " : "", sub ? rest[1] : "");
}

static void
s_usage (const char *group)
{
    printf ("usage: entrelab [--node DIR] [--json] [--timeout SECONDS] [--tz ZONE] <command> "
            "[options]\n"
            "       entrelab --version\n\n");
    if (!group)
        printf ("The coordinators' command line of an entrelab network: it talks to the\n"
                "daemon of --node DIR (or $ENTRELAB_NODE) over its control socket.\n\n");
    printf ("commands:\n");
    for (size_t t = 0; t < S_TABLES; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++) {
            if (group && strncmp (c->words, group, strlen (group)))
                continue;
            char left[64];
            snprintf (left, sizeof left, "%s%s%s", c->words, c->positional ? " " : "",
                      c->positional ? c->positional : "");
            printf ("  %-34s %s\n", left, c->summary);
        }
    printf ("\n`entrelab <command> --help` shows a command's options and an example.\n"
            "Exit status: 0 success, 1 the daemon refused or is unreachable, 2 bad input.\n");
}

/* The reference section of docs/CLI.md, from the same tables. */
static void
s_markdown (void)
{
    for (size_t t = 0; t < S_TABLES; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++) {
            printf ("### `entrelab %s%s%s`\n\n%s\n\n", c->words, c->positional ? " " : "",
                    c->positional ? c->positional : "", c->summary);
            if (c->opts && c->opts[0].name) {
                printf ("| option | meaning |\n|---|---|\n");
                for (const el_cli_optspec_t *o = c->opts; o->name; o++)
                    printf ("| `--%s%s%s`%s | %s |\n", o->name, o->arg ? " " : "",
                            o->arg ? o->arg : "", o->kind == EL_CLI_OPT_LIST
                            ? " (repeatable)" : "", o->help);
                printf ("\n");
            }
            if (c->example)
                printf ("```sh\n%s\n```\n\n", c->example);
        }
}

/* A bash completion script from the command tables (`entrelab
 * help-completion`; the build installs its output), so it cannot drift
 * from the commands and options it completes. */
static void
s_completion (void)
{
    enum { MAX = 128 };
    static char first[MAX][EL_CLI_SUGGEST_WORD_MAX], sub[MAX][EL_CLI_SUGGEST_WORD_MAX];
    size_t n = s_words (NULL, 0, first, MAX);
    printf ("# bash completion for entrelab; generated by `entrelab help-completion`\n"
            "_entrelab() {\n"
            "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "  local i=1 cmd='' sub='' opts=''\n"
            "  while [ $i -lt $COMP_CWORD ]; do\n"
            "    case \"${COMP_WORDS[i]}\" in\n"
            "      --node|--timeout|--tz) i=$((i + 2)); continue ;;\n"
            "      -*) ;;\n"
            "      *) if [ -z \"$cmd\" ]; then cmd=${COMP_WORDS[i]};\n"
            "         elif [ -z \"$sub\" ]; then sub=${COMP_WORDS[i]}; fi ;;\n"
            "    esac\n"
            "    i=$((i + 1))\n"
            "  done\n"
            "  case \"$prev\" in\n"
            "    --node) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
            "    --output|--key-file|--broker-key) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
            "  esac\n"
            "  if [ -z \"$cmd\" ]; then\n"
            "    COMPREPLY=($(compgen -W '--node --json --timeout --tz --help --version");
    for (size_t i = 0; i < n; i++)
        printf (" %s", first[i]);
    printf ("' -- \"$cur\")); return\n  fi\n  case \"$cmd\" in\n");
    for (size_t i = 0; i < n; i++) {
        size_t k = s_words (first[i], 1, sub, MAX);
        if (!k)
            continue;
        printf ("    %s) if [ -z \"$sub\" ]; then COMPREPLY=($(compgen -W '", first[i]);
        for (size_t j = 0; j < k; j++)
            printf ("%s%s", j ? " " : "", sub[j]);
        printf ("' -- \"$cur\")); return; fi ;;\n");
    }
    printf ("  esac\n  case \"$cmd $sub\" in\n");
    for (size_t t = 0; t < S_TABLES; t++)
        for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++) {
            printf (strchr (c->words, ' ') ? "    \"%s\") opts='--help" : "    \"%s \"*) opts='--help",
                    c->words);
            for (const el_cli_optspec_t *o = c->opts; o && o->name; o++)
                printf (" --%s", o->name);
            printf ("' ;;\n");
        }
    printf ("  esac\n"
            "  if [[ \"$cur\" == -* ]]; then\n"
            "    COMPREPLY=($(compgen -W \"$opts --node --json --timeout --tz\" -- \"$cur\"))\n"
            "  else\n"
            "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            "  fi\n"
            "}\n"
            "complete -F _entrelab entrelab\n");
}

int
main (int argc, char **argv)
{
    if (el_crypto_init () < 0) {
        fprintf (stderr, "entrelab: libsodium failed to initialise\n");
        return EL_CLI_EXIT_FAIL;
    }
    el_cli_t cli;
    memset (&cli, 0, sizeof cli);
    cli.program = argv[0];
    cli.timeout_ms = EL_CLI_TIMEOUT_MS;
    cli.node = getenv ("ENTRELAB_NODE");
    cli.now_us = el_now_us ();

    char **rest = calloc ((size_t) argc + 1, sizeof *rest);
    if (!rest)
        return EL_CLI_EXIT_FAIL;
    int n = 0, rc = 0;
    bool help = false, bad = false;
    const char *tz = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp (a, "--")) {
            while (i < argc)
                rest[n++] = argv[i++];
            break;
        }
        if (!strcmp (a, "--version")) {
            printf ("entrelab %s (protocol %d)\n", EL_VERSION, EL_PROTOCOL_VERSION);
            goto out;
        }
        if (!strcmp (a, "--json"))
            cli.json = true;
        else if (!strcmp (a, "--help") || !strcmp (a, "-h"))
            help = true;
        else if (!strcmp (a, "--node") || !strcmp (a, "--timeout") || !strcmp (a, "--tz")) {
            if (i + 1 >= argc) {
                rc = el_cli_bad (&cli, "%s needs a value", a);
                bad = true;
                break;
            }
            if (!strcmp (a, "--node"))
                cli.node = argv[++i];
            else if (!strcmp (a, "--tz"))
                tz = argv[++i];
            else {
                char *end;
                long s = strtol (argv[++i], &end, 10);
                if (*end || s < 1 || s > 3600) {
                    rc = el_cli_bad (&cli, "--timeout: seconds, 1..3600");
                    bad = true;
                    break;
                }
                cli.timeout_ms = (int) s * 1000;
            }
        } else if (!strncmp (a, "--node=", 7))
            cli.node = a + 7;
        else if (!strncmp (a, "--tz=", 5))
            tz = a + 5;
        else
            rest[n++] = argv[i];
    }

    const el_cli_cmd_t *cmd = NULL;
    int used = 0;
    if (!bad) {
        for (size_t t = 0; t < S_TABLES; t++)
            for (const el_cli_cmd_t *c = s_tables[t]; c->words; c++) {
                int u = s_match (c->words, n, rest);
                if (u > used) {
                    used = u;
                    cmd = c;
                }
            }
        if (!cmd) {
            if (n == 0 || !strcmp (rest[0], "help")) {
                s_usage (NULL);
                rc = n == 0 && !help ? el_cli_bad (&cli, "no command given") : 0;
                goto out;
            }
            if (!strcmp (rest[0], "help-completion")) {
                s_completion ();
                goto out;
            }
            if (!strcmp (rest[0], "help-markdown")) {
                s_markdown ();
                goto out;
            }
            if (s_is_group (rest[0]) && (help || n == 1)) {
                s_usage (rest[0]);
                rc = help ? 0 : el_cli_bad (&cli, "%s: which one? (see entrelab %s --help)",
                                            rest[0], rest[0]);
                goto out;
            }
            rc = s_unknown (&cli, n, rest);
            goto out;
        }
        if (help) {
            el_cli_help (cmd);
            goto out;
        }
        el_cli_args_t *args = malloc (sizeof *args);
        if (!args) {
            rc = el_cli_fail (&cli, -ENOMEM, "out of memory");
            goto out;
        }
        rc = el_cli_zone_setup (&cli, tz);
        if (rc == 0)
            rc = el_cli_parse (&cli, cmd, n - used, rest + used, args);
        if (rc == 0)
            rc = cmd->fn (&cli, args);
        free (args);
    }
out:
    if (rc < 0) {
        if (!cli.err[0])
            snprintf (cli.err, sizeof cli.err, "%s", el_strerror (rc));
        fprintf (stderr, "entrelab: %s\n", cli.err);
        if (cli.json) {
            json_t *doc = json_pack ("{s:s}", "error", cli.err);
            if (doc)
                el_cli_json_print (stdout, doc);
            json_decref (doc);
        }
    }
    fflush (stdout);
    json_decref (cli.sites);
    if (cli.zctx)
        zmq_ctx_term (cli.zctx);
    free (rest);
    if (rc == EL_CLI_BAD)
        return EL_CLI_EXIT_USAGE;
    return rc < 0 ? EL_CLI_EXIT_FAIL : 0;
}
