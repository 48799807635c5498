/* EVOLVE-BLOCK-START */
void matmul(int n, const double *a, const double *b, double *c) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      #pragma GCC unroll 4
      for (int k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
}

void scale(double *v, int n) {
#pragma GCC unroll 8
  for (int i = 0; i < n; ++i) v[i] *= 2;
}
/* EVOLVE-BLOCK-END */

void outside(double *v, int n) {
  for (int i = 0; i < n; ++i) v[i] = 0;
}
