/*
 * Input generator for the kmer task.
 * Usage: gen SIZE SEED   (SIZE = number of bases, 0..100000000; SEED = integer >= 0)
 *
 * Writes k on the first line, then FASTA records holding about SIZE bases in
 * total: a GC-biased Markov background with inserted copies of a few mutated
 * repeat families (soft-masked, i.e. lower case), microsatellites (short
 * tandem repeats), runs of N and occasional IUPAC ambiguity codes.
 * k depends on the seed only: k = K_TABLE[SEED % 8]
 * (seed 0 -> 12, 1 -> 1, 2 -> 5, 3 -> 17, 4 -> 32, 5 -> 31, 6 -> 8, 7 -> 12).
 * Deterministic in (SIZE, SEED).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int K_TABLE[8] = {12, 1, 5, 17, 32, 31, 8, 12};

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_u64() % n);
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

static const char BASES[4] = {'A', 'C', 'G', 'T'};

/* Output buffer with FASTA line wrapping. */
static int line_len, column;

static void put_base(char c)
{
    putchar(c);
    if (++column == line_len) {
        putchar('\n');
        column = 0;
    }
}

static void end_record(void)
{
    if (column > 0)
        putchar('\n');
    column = 0;
}

#define FAMILIES 24
#define MAX_FAMILY_LEN 400

int main(int argc, char **argv)
{
    long long size, seed;
    if (argc != 3 || !parse_int(argv[1], 0, 100000000, &size) ||
        !parse_int(argv[2], 0, 4000000000000000000LL, &seed)) {
        fprintf(stderr, "usage: %s SIZE SEED   (SIZE = bases, 0..100000000; SEED >= 0)\n", argv[0]);
        return 2;
    }
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 0x5EEDULL;
    printf("%d\n", K_TABLE[seed % 8]);

    /* repeat families */
    static char family[FAMILIES][MAX_FAMILY_LEN];
    int family_len[FAMILIES];
    for (int f = 0; f < FAMILIES; f++) {
        family_len[f] = 20 + (int)below(MAX_FAMILY_LEN - 20);
        for (int i = 0; i < family_len[f]; i++)
            family[f][i] = BASES[below(4)];
    }

    /* records: a few long ones plus short ones */
    long long remaining = size;
    int record = 0;
    line_len = 60 + 10 * (int)below(3);
    while (remaining > 0 || record == 0) {
        long long len = remaining;
        if (remaining > 1000 && below(4) != 0)
            len = remaining / (2 + below(4)) + below(100);
        if (len > remaining)
            len = remaining;
        printf(">seq%d synthetic record %d len=%lld\n", record, record, len);
        record++;
        long long written = 0;
        int prev = (int)below(4);
        while (written < len) {
            unsigned what = below(1000);
            if (what < 6) { /* repeat family copy, soft-masked, ~3% mutated */
                int f = (int)below(FAMILIES);
                for (int i = 0; i < family_len[f] && written < len; i++, written++) {
                    char c = family[f][i];
                    if (below(100) < 3)
                        c = BASES[below(4)];
                    put_base((char)(c - 'A' + 'a'));
                }
            } else if (what < 8) { /* microsatellite */
                static const char *const motifs[] = {"CA", "TA", "GAA", "AT", "CAG", "TTAGGG", "A", "GATA"};
                const char *m = motifs[below(8)];
                int mlen = (int)strlen(m);
                int copies = 5 + (int)below(40);
                for (int r = 0; r < copies * mlen && written < len; r++, written++)
                    put_base(m[r % mlen]);
            } else if (what < 9) { /* run of N */
                int run = 1 + (int)below(200);
                for (int r = 0; r < run && written < len; r++, written++)
                    put_base(below(10) ? 'N' : 'n');
            } else if (what < 10) { /* single ambiguity code */
                static const char iupac[] = "RYSWKMBDHV";
                put_base(iupac[below(10)]);
                written++;
            } else { /* GC-biased Markov background, a short stretch of it */
                for (int r = 0; r < 8 && written < len; r++, written++) {
                    unsigned u = below(100);
                    int b;
                    if (u < 30)
                        b = prev; /* homopolymer tendency */
                    else if (u < 58)
                        b = 1 + (int)below(2); /* C or G */
                    else
                        b = below(2) ? 0 : 3; /* A or T */
                    prev = b;
                    put_base(BASES[b]);
                }
            }
        }
        end_record();
        remaining -= len;
        if (size == 0)
            break;
    }
    return 0;
}
