/*
 * Input generator for the wordfreq task.
 * Usage: gen SIZE SEED   (SIZE = number of words in 0..50000000, SEED = integer >= 0)
 *
 * Writes a pseudo-random text of SIZE words drawn from a Zipf-like distribution
 * over a made-up vocabulary (whose size grows with SIZE). Words get mixed case,
 * punctuation, apostrophes, hyphens, numbers and a few UTF-8 (non-ASCII) letters;
 * lines wrap at irregular lengths. Deterministic in (SIZE, SEED).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double next_unit(void)
{
    return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
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

#define MAX_WORD 24

int main(int argc, char **argv)
{
    long long size, seed;
    if (argc != 3 || !parse_int(argv[1], 0, 50000000, &size) ||
        !parse_int(argv[2], 0, 4000000000000000000LL, &seed)) {
        fprintf(stderr, "usage: %s SIZE SEED   (SIZE = words, 0..50000000; SEED >= 0)\n", argv[0]);
        return 2;
    }
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 0xABCDEFULL;

    /* Vocabulary: syllable-ish lower-case words; duplicates are possible and harmless. */
    long vocab = 20 + size / 6;
    if (vocab > 200000)
        vocab = 200000;
    char (*words)[MAX_WORD + 1] = malloc((size_t)vocab * sizeof *words);
    double *cdf = malloc((size_t)vocab * sizeof *cdf);
    if (!words || !cdf) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    static const char *const onsets[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n",
                                         "p", "r", "s", "t", "v", "w", "z", "st", "th", "ch",
                                         "sh", "qu", "br", "pl", "gr", "", ""};
    static const char *const vowels[] = {"a", "e", "i", "o", "u", "y", "ea", "ou", "ai", "ee"};
    static const char *const codas[] = {"", "", "", "n", "r", "s", "t", "ng", "ck", "x", "l"};
    for (long w = 0; w < vocab; w++) {
        int syllables = 1 + (int)below(w < 100 ? 2 : 4);
        char *p = words[w];
        size_t len = 0;
        p[0] = '\0';
        for (int s = 0; s < syllables; s++) {
            const char *parts[3] = {onsets[below(sizeof onsets / sizeof *onsets)],
                                    vowels[below(sizeof vowels / sizeof *vowels)],
                                    codas[below(sizeof codas / sizeof *codas)]};
            for (int k = 0; k < 3; k++) {
                size_t l = strlen(parts[k]);
                if (len + l <= MAX_WORD) {
                    memcpy(p + len, parts[k], l);
                    len += l;
                    p[len] = '\0';
                }
            }
        }
    }
    double acc = 0.0;
    for (long w = 0; w < vocab; w++) {
        acc += 1.0 / pow((double)w + 2.7, 1.08);
        cdf[w] = acc;
    }

    int column = 0;
    int line_width = 40 + (int)below(60);
    for (long long i = 0; i < size; i++) {
        /* Zipf-like pick by inverse CDF */
        double target = next_unit() * acc;
        long lo = 0, hi = vocab - 1;
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (cdf[mid] < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        char buf[3 * MAX_WORD + 16];
        size_t len = strlen(words[lo]);
        memcpy(buf, words[lo], len + 1);

        unsigned style = below(1000);
        if (style < 120) { /* Capitalized */
            buf[0] = (char)(buf[0] - 'a' + 'A');
        } else if (style < 140) { /* ALL CAPS */
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)(buf[k] - 'a' + 'A');
        } else if (style < 150 && len > 1) { /* rAnDoM case */
            for (size_t k = 0; k < len; k++)
                if (below(2))
                    buf[k] = (char)(buf[k] - 'a' + 'A');
        }
        unsigned extra = below(1000);
        if (extra < 30 && len > 0) { /* contraction: don't -> "don" + "t" */
            static const char *const tails[] = {"'s", "'t", "'ll", "'re", "'d"};
            strcat(buf, tails[below(5)]);
        } else if (extra < 45) { /* hyphenated compound */
            strcat(buf, "-");
            strcat(buf, words[below((unsigned)(vocab < 500 ? vocab : 500))]);
        } else if (extra < 55) { /* a UTF-8 letter glued on: splits the word */
            static const char *const utf8[] = {"\xc3\xa9", "\xc3\xb1", "\xc3\xbc", "\xe2\x80\x99s"};
            strcat(buf, utf8[below(4)]);
        } else if (extra < 70) { /* a number instead of / next to the word */
            char num[16];
            snprintf(num, sizeof num, "%u", below(3000));
            if (below(2))
                strcat(buf, num);
            else
                strcpy(buf, num);
        }
        unsigned punct = below(1000);
        const char *after = "";
        const char *before = "";
        if (punct < 80)
            after = ",";
        else if (punct < 130)
            after = ".";
        else if (punct < 140)
            after = "!";
        else if (punct < 150)
            after = "?";
        else if (punct < 160)
            after = ";";
        else if (punct < 165)
            after = ":";
        else if (punct < 175) {
            before = "(";
            after = ")";
        } else if (punct < 185) {
            before = "\"";
            after = "\"";
        } else if (punct < 188)
            after = "...";

        size_t piece = strlen(before) + strlen(buf) + strlen(after);
        if (column > 0 && column + (int)piece + 1 > line_width) {
            fputs(below(20) == 0 ? "\n\n" : (below(50) == 0 ? " \r\n" : "\n"), stdout);
            column = 0;
            line_width = 40 + (int)below(60);
        } else if (column > 0) {
            fputs(below(40) == 0 ? "\t" : (below(30) == 0 ? "  " : " "), stdout);
            column += 1;
        }
        fputs(before, stdout);
        fputs(buf, stdout);
        fputs(after, stdout);
        column += (int)piece;
    }
    if (column > 0)
        fputs("\n", stdout);
    free(words);
    free(cdf);
    return 0;
}
