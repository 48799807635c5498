#include <stddef.h>

/* EVOLVE-BLOCK-START */
void saxpy(float *__restrict__ y, const float* __restrict__ x, float a, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float sum(const float *x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

void swap_first(int *a, int *b) {
  int **pa = &a;
  int t = **pa;
  *a = *b;
  *b = t;
}
/* EVOLVE-BLOCK-END */

void outside(int *a, int *b) { *a = *b; }
