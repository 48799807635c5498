/* A small, fast task for ratchet's integration tests: a few passes of a
 * polynomial over an array of integers. */
#include <stdio.h>
#include <stdlib.h>

/* EVOLVE-BLOCK-START */
static unsigned long long churn(const unsigned* values, long n, int passes) {
  unsigned long long total = 0;
  for (int p = 0; p < passes; ++p) {
    for (long i = 0; i < n; ++i) {
      unsigned long long v = values[i] + (unsigned)p;
      total += v * v % 7919 + (v ^ (total >> 3));
    }
  }
  return total;
}
/* EVOLVE-BLOCK-END */

int main(void) {
  long n;
  if (scanf("%ld", &n) != 1 || n < 0) {
    fprintf(stderr, "tiny: bad input header\n");
    return 1;
  }
  unsigned* values = malloc(sizeof(unsigned) * (size_t)(n > 0 ? n : 1));
  if (!values) return 1;
  for (long i = 0; i < n; ++i) {
    if (scanf("%u", &values[i]) != 1) {
      fprintf(stderr, "tiny: input ends early\n");
      return 1;
    }
  }
  printf("%llu\n", churn(values, n, 40));
  free(values);
  return 0;
}
