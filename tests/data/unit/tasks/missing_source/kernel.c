/* EVOLVE-BLOCK-START */
double kernel(int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += i;
  return sum;
}
/* EVOLVE-BLOCK-END */
