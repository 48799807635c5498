/*
 * matmul: dense double-precision matrix product C = A * B (N x N).
 *
 * Input (stdin, whitespace separated integers):
 *   N                        matrix size, 1..2048
 *   N*N entries of A         row-major, each an integer in [-1000000, 1000000]
 *   N*N entries of B         giving the value in thousandths (-731 means -0.731)
 * Nothing but whitespace may follow.
 *
 * Output: summary statistics of C (trace, sum, sum of absolute values,
 * Frobenius norm), the sum of each of a few rows, and 64 sampled entries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- hot computation: may be changed as long as results stay the same ---- */
// EVOLVE-BLOCK-START

/*
 * C = A * B for row-major n x n matrices. C is written completely
 * (its contents on entry are unspecified). A, B and C do not overlap.
 */
void matmul(const double *A, const double *B, double *C, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int k = 0; k < n; k++) {
                sum += A[i * n + k] * B[k * n + j];
            }
            C[i * n + j] = sum;
        }
    }
}

// EVOLVE-BLOCK-END
/* ---- end of the hot computation ---- */

static void fail(const char *msg)
{
    fprintf(stderr, "matmul: %s\n", msg);
    exit(1);
}

/* Whole of stdin in memory, NUL-terminated. */
static char *read_all(size_t *len_out)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        fail("out of memory");
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown)
                fail("out of memory");
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, stdin);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(stdin))
        fail("error reading stdin");
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* Parse the next decimal integer (optional sign) at *pos; 0 on failure. */
static int next_int(const char **pos, long *out)
{
    const char *p = *pos;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    int neg = 0;
    if (*p == '-' || *p == '+') {
        neg = (*p == '-');
        p++;
    }
    if (*p < '0' || *p > '9')
        return 0;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > 100000000L)
            return 0; /* far outside any valid value: reject before overflow */
        v = v * 10 + (*p - '0');
        p++;
    }
    if (*p != '\0' && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
        return 0;
    *out = neg ? -v : v;
    *pos = p;
    return 1;
}

static void read_matrix(const char **pos, double *M, size_t count)
{
    for (size_t c = 0; c < count; c++) {
        long v;
        if (!next_int(pos, &v))
            fail("truncated or malformed matrix entry");
        if (v < -1000000 || v > 1000000)
            fail("matrix entry out of range");
        M[c] = (double)v / 1000.0;
    }
}

int main(void)
{
    size_t len;
    char *text = read_all(&len);
    const char *pos = text;
    long nl;
    if (!next_int(&pos, &nl))
        fail("expected N");
    if (nl < 1 || nl > 2048)
        fail("N must be in 1..2048");
    int n = (int)nl;
    size_t count = (size_t)n * (size_t)n;
    double *A = malloc(count * sizeof *A);
    double *B = malloc(count * sizeof *B);
    double *C = malloc(count * sizeof *C);
    if (!A || !B || !C)
        fail("out of memory");
    read_matrix(&pos, A, count);
    read_matrix(&pos, B, count);
    while (*pos == ' ' || *pos == '\n' || *pos == '\t' || *pos == '\r')
        pos++;
    if (pos != text + len)
        fail("unexpected data after matrix B");
    free(text);

    matmul(A, B, C, n);

    double trace = 0.0, sum = 0.0, sumabs = 0.0, sumsq = 0.0;
    for (int i = 0; i < n; i++)
        trace += C[(size_t)i * n + i];
    for (size_t c = 0; c < count; c++) {
        sum += C[c];
        sumabs += fabs(C[c]);
        sumsq += C[c] * C[c];
    }
    printf("n %d\n", n);
    printf("trace %.15e\n", trace);
    printf("sum %.15e\n", sum);
    printf("sumabs %.15e\n", sumabs);
    printf("frobenius %.15e\n", sqrt(sumsq));
    printf("rowsums");
    for (int a = 0; a < 8; a++) {
        int i = (int)((long)a * (n - 1) / 7);
        double rs = 0.0;
        for (int j = 0; j < n; j++)
            rs += C[(size_t)i * n + j];
        printf(" %.12e", rs);
    }
    printf("\nsamples\n");
    for (int a = 0; a < 8; a++) {
        int i = (int)((long)a * (n - 1) / 7);
        for (int b = 0; b < 8; b++) {
            int j = (int)(((long)b * (n - 1) / 7 + a) % n);
            printf("%s%.12e", b ? " " : "", C[(size_t)i * n + j]);
        }
        printf("\n");
    }
    free(A);
    free(B);
    free(C);
    return 0;
}
