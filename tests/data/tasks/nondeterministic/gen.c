/* Input generator for the tiny test task: SIZE pseudo-random integers. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: gen SIZE SEED\n");
    return 2;
  }
  long size = atol(argv[1]);
  unsigned long long state = strtoull(argv[2], NULL, 10) * 2654435761ULL + 1;
  printf("%ld\n", size);
  for (long i = 0; i < size; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    printf("%u\n", (unsigned)(state >> 40) % 1000);
  }
  return 0;
}
