#include <string.h>

/* EVOLVE-BLOCK-START */
int count_vowels(const char *s) {
  int n = 0;
  const size_t s_len = strlen(s);
  for (size_t i = 0; i < s_len; ++i) {
    if (strchr("aeiou", s[i])) ++n;
  }
  return n;
}

void upcase(char *s) {
  for (size_t i = 0; i < strlen(s); ++i) {
    if (s[i] >= 'a' && s[i] <= 'z') s[i] -= 32;
  }
}

void truncate_at_space(char *s) {
  for (size_t i = 0; i < strlen(s); ++i) {
    if (s[i] == ' ') memset(s + i, 0, 1);
  }
}
/* EVOLVE-BLOCK-END */
