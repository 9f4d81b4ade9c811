/*
 * Matching words in a one-line summary ("initiated/0 ringing/1 ..."), as
 * the call tests print timelines. A word matches whole: "state/0" is not
 * found in "state/01".
 */
#ifndef VC_TEST_LINE_MATCH_H
#define VC_TEST_LINE_MATCH_H

#include <stdio.h>
#include <string.h>

/* Where `word` (n bytes) first stands whole in `line` at or after `from`;
 * NULL when it does not. */
static inline const char *word_at(const char *line, const char *from,
                                  const char *word, size_t n)
{
  char w[64];

  snprintf(w, sizeof(w), "%.*s", (int)n, word);
  for (const char *hit = strstr(from, w); hit != NULL;
       hit = strstr(hit + 1, w))
    if ((hit == line || hit[-1] == ' ') && (hit[n] == ' ' || hit[n] == '\0'))
      return hit;
  return NULL;
}

/* 1 when `words` (space-separated) stand in `line` in this order; says
 * which did not on stderr. */
static inline int in_order(const char *line, const char *words)
{
  const char *p = line;

  while (*words != '\0') {
    size_t n = strcspn(words, " ");
    const char *hit;
    if (n == 0) {
      words++;
      continue;
    }
    if ((hit = word_at(line, p, words, n)) == NULL) {
      fprintf(stderr, "  '%.*s' not found in order in: %s\n", (int)n, words,
              line);
      return 0;
    }
    p = hit + n;
    words += n + (words[n] == ' ');
  }
  return 1;
}

/* How many times `word` stands whole in `line`. */
static inline int count_of(const char *line, const char *word)
{
  size_t n = strlen(word);
  int k = 0;

  for (const char *hit = word_at(line, line, word, n); hit != NULL;
       hit = word_at(line, hit + 1, word, n))
    k++;
  return k;
}

#endif
