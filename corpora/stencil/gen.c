/*
 * Input generator for the stencil task.
 * Usage: gen SIZE SEED   (SIZE = grid side N in 1..4096, SEED = integer >= 0)
 * Writes one problem to stdout; output depends only on (SIZE, SEED).
 * The number of time steps is T = 2 * N (at least 1), so the work grows as N^3.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double next_unit(void) /* uniform in [0, 1) */
{
    return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    long long size, seed;
    if (argc != 3 || !parse_int(argv[1], 1, 4096, &size) ||
        !parse_int(argv[2], 0, 4000000000000000000LL, &seed)) {
        fprintf(stderr, "usage: %s SIZE SEED   (SIZE in 1..4096, SEED >= 0)\n", argv[0]);
        return 2;
    }
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 0x1234567ULL;

    int n = (int)size;
    int steps = 2 * n;
    double alpha = 0.15 + 0.1 * next_unit(); /* in [0.15, 0.25) */
    printf("%d %d\n%.17g\n", n, steps, alpha);
    printf("%.17g %.17g %.17g %.17g\n", 100.0 * next_unit(), 100.0 * next_unit(),
           100.0 * next_unit(), 100.0 * next_unit());

    int interior = n > 2 ? n - 2 : 0;
    long spots = interior > 0 ? 1 + (long)interior * interior / 64 : 0;
    printf("%ld\n", spots);
    for (long s = 0; s < spots; s++) {
        int i = 1 + (int)(next_u64() % (uint64_t)interior);
        int j = 1 + (int)(next_u64() % (uint64_t)interior);
        double value = -50.0 + 250.0 * next_unit();
        printf("%d %d %.17g\n", i, j, value);
    }
    return 0;
}
