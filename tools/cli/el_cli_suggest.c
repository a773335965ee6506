/* el_cli_suggest.c — the nearest known word (see el_cli_suggest.h). */
#include "el_cli_suggest.h"

#include <stdbool.h>
#include <string.h>

/* Optimal string alignment distance of a and b (each < EL_CLI_SUGGEST_WORD_MAX). */
static size_t
s_distance (const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[EL_CLI_SUGGEST_WORD_MAX + 1][EL_CLI_SUGGEST_WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *
el_cli_nearest (const char *word, const char *const *cands, size_t n)
{
    size_t lw = strlen (word);
    if (lw == 0 || lw >= EL_CLI_SUGGEST_WORD_MAX)
        return NULL;
    size_t limit = lw / 3 > 1 ? lw / 3 : 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    bool tie = false;
    for (size_t i = 0; i < n; i++) {
        size_t lc = strlen (cands[i]);
        if (lc >= EL_CLI_SUGGEST_WORD_MAX || !strcmp (cands[i], word))
            continue;
        size_t dist = s_distance (word, lw, cands[i], lc);
        if (dist < best_d) {
            best = cands[i];
            best_d = dist;
            tie = false;
        } else if (dist == best_d && best && strcmp (best, cands[i])) {
            tie = true;
        }
    }
    return tie ? NULL : best;
}
