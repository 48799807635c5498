/*
 * Input generator for the matmul task.
 * Usage: gen SIZE SEED   (SIZE = matrix side N in 1..2048, SEED = integer >= 0)
 * Writes N, then A and B (N*N integers each, in thousandths) to stdout.
 * Entries are uniform in [-1000, 1000] (i.e. [-1, 1]); every 17th row of A and
 * column of B is scaled down by 1/8 so values are not all of one magnitude.
 * Deterministic in (SIZE, SEED).
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

static void write_matrix(int n, int scale_rows)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            long v = (long)(next_u64() % 2001) - 1000;
            int line = scale_rows ? i : j;
            if (line % 17 == 5)
                v /= 8; /* occasional small-magnitude row (A) or column (B) */
            printf("%s%ld", j ? " " : "", v);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    long long size, seed;
    if (argc != 3 || !parse_int(argv[1], 1, 2048, &size) ||
        !parse_int(argv[2], 0, 4000000000000000000LL, &seed)) {
        fprintf(stderr, "usage: %s SIZE SEED   (SIZE in 1..2048, SEED >= 0)\n", argv[0]);
        return 2;
    }
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 0x7654321ULL;
    int n = (int)size;
    printf("%d\n", n);
    write_matrix(n, 1);
    write_matrix(n, 0);
    return 0;
}
