/* el_cli_suggest.h — "did you mean": the nearest of a few known words to a
 * mistyped one (a command, a subcommand, an option), as git and cargo say. */
#ifndef EL_CLI_SUGGEST_H
#define EL_CLI_SUGGEST_H

#include <stddef.h>

#define EL_CLI_SUGGEST_WORD_MAX 64   /* bytes of a word compared; longer words match nothing */

/** The candidate nearest to @p word by optimal string alignment distance
 * (insertions, deletions, substitutions and swaps of two neighbours, each
 * one edit), when it is within max(1, strlen(word) / 3) edits and no other
 * candidate is as near; else NULL. Case matters. Pure; returns one of
 * @p cands (borrowed). */
const char *el_cli_nearest (const char *word, const char *const *cands, size_t n);

#endif
