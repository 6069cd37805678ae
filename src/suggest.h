/*
 * "Did you mean": the candidates closest to a mistyped word, by
 * Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours each cost one), as
 * git's "The most similar command is" does.
 */
#ifndef JANEE_SUGGEST_H
#define JANEE_SUGGEST_H

#include "common.h"

struct buf;

/* The distance between a and b, case-sensitive; capped at 255. */
int janee_edit_distance(const char *a, const char *b);

/*
 * The indices (into idx, at most `most`) of the candidates nearest to
 * word, nearest first, that are close enough to be a slip: a distance of
 * at most a third of the longer word and at least 1 (a candidate that
 * starts with word counts as 1).  NULL candidates and duplicates are
 * skipped.  Returns how many.
 */
size_t janee_nearest(const char *word, const char *const *cands, size_t n,
    size_t most, size_t *idx);

/*
 * Append to out the candidates (n of them, NULL entries skipped) nearest
 * to word (janee_nearest), each quoted, joined by ", ": at most `most`
 * (and 8).  Returns how many were appended (0: none close).
 */
int janee_suggest(const char *word, const char *const *cands, size_t n,
    size_t most, struct buf *out);

/*
 * For a message that word is not one of a list of `what` ("allowed
 * scopes"): the whole list when it is short, "allowed scopes: a, b, c";
 * else the closest few and how many there are, "did you mean 'x'? (40
 * allowed scopes", or "nothing close (40 allowed scopes",
 * leaving the parenthesis open for the caller to say where to see them
 * all.  Returns 1 when the parenthesis was opened, 0 when not, negative
 * on failure.
 */
int janee_suggest_list(const char *word, const char *const *cands, size_t n,
    const char *what, struct buf *out);

#endif
