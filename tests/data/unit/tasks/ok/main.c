#include <stdio.h>

double kernel(int n);

int main(void) {
  int n = 0;
  if (scanf("%d", &n) != 1) return 1;
  printf("%.6f\n", kernel(n));
  return 0;
}
