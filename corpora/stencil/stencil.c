/*
 * stencil: explicit 2D heat diffusion (5-point Jacobi) on an N x N grid.
 *
 * Input (stdin, whitespace separated):
 *   N T                      grid size (1..4096) and number of time steps (0..100000)
 *   alpha                    diffusion number, 0 < alpha <= 0.25 (stability limit)
 *   top bottom left right    fixed (Dirichlet) boundary temperatures, each in [-1e6, 1e6]
 *   K                        number of initial hot/cold spots (0..1000000)
 *   i j value   (K times)    initial temperature in [-1e6, 1e6] of interior cell
 *                            (i, j), 1 <= i, j <= N-2 (a later spot overrides)
 * Nothing but whitespace may follow.
 *
 * The interior starts at 0 except for the spots; the boundary rows/columns
 * keep their temperatures for the whole run. Each step computes
 *   v[i][j] = u[i][j] + alpha * (u[i-1][j] + u[i+1][j] + u[i][j-1] + u[i][j+1] - 4 u[i][j])
 * for every interior cell, then copies v back into u.
 *
 * Output: a few summary statistics of the final grid and an 8 x 8 set of
 * sample temperatures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hot computation: may be changed as long as results stay the same ---- */
// EVOLVE-BLOCK-START

/* Index of cell (i, j) in a row-major n x n grid. */
static int cell(int n, int i, int j)
{
    return i * n + j;
}

/* One Jacobi step: read the old grid u, write the new interior into v. */
static void jacobi_step(const double *u, double *v, int n, double alpha)
{
    for (int i = 1; i < n - 1; i++) {
        for (int j = 1; j < n - 1; j++) {
            double center = u[cell(n, i, j)];
            double north = u[cell(n, i - 1, j)];
            double south = u[cell(n, i + 1, j)];
            double west = u[cell(n, i, j - 1)];
            double east = u[cell(n, i, j + 1)];
            v[cell(n, i, j)] = center + alpha * (north + south + west + east - 4.0 * center);
        }
    }
}

/*
 * Advance the grid `steps` time steps in place. `scratch` is a second
 * n x n buffer whose contents on entry equal `grid` (so the boundary cells
 * are already right in both).
 */
void simulate(double *grid, double *scratch, int n, int steps, double alpha)
{
    for (int t = 0; t < steps; t++) {
        jacobi_step(grid, scratch, n, alpha);
        /* copy the new state back */
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                grid[cell(n, i, j)] = scratch[cell(n, i, j)];
            }
        }
    }
}

// EVOLVE-BLOCK-END
/* ---- end of the hot computation ---- */

static void fail(const char *msg)
{
    fprintf(stderr, "stencil: %s\n", msg);
    exit(1);
}

int main(void)
{
    int n, steps, spots;
    double alpha, top, bottom, left, right;

    if (scanf("%d %d", &n, &steps) != 2)
        fail("expected 'N T' on the first line");
    if (n < 1 || n > 4096)
        fail("N must be in 1..4096");
    if (steps < 0 || steps > 100000)
        fail("T must be in 0..100000");
    if (scanf("%lf", &alpha) != 1)
        fail("expected alpha");
    if (!(alpha > 0.0 && alpha <= 0.25))
        fail("alpha must be in (0, 0.25]");
    if (scanf("%lf %lf %lf %lf", &top, &bottom, &left, &right) != 4)
        fail("expected four boundary temperatures");
    if (!(fabs(top) <= 1e6 && fabs(bottom) <= 1e6 && fabs(left) <= 1e6 && fabs(right) <= 1e6))
        fail("boundary temperatures must be in [-1e6, 1e6]");
    if (scanf("%d", &spots) != 1 || spots < 0 || spots > 1000000)
        fail("expected a spot count K in 0..1000000");

    size_t cells = (size_t)n * (size_t)n;
    double *grid = calloc(cells, sizeof *grid);
    double *scratch = calloc(cells, sizeof *scratch);
    if (!grid || !scratch)
        fail("out of memory");

    for (int j = 0; j < n; j++) {
        grid[(size_t)0 * n + j] = top;
        grid[(size_t)(n - 1) * n + j] = bottom;
    }
    for (int i = 1; i < n - 1; i++) {
        grid[(size_t)i * n + 0] = left;
        grid[(size_t)i * n + (n - 1)] = right;
    }
    for (int s = 0; s < spots; s++) {
        int i, j;
        double value;
        if (scanf("%d %d %lf", &i, &j, &value) != 3)
            fail("truncated spot list");
        if (i < 1 || i > n - 2 || j < 1 || j > n - 2)
            fail("spot outside the interior");
        if (!(fabs(value) <= 1e6))
            fail("spot temperature must be in [-1e6, 1e6]");
        grid[(size_t)i * n + j] = value;
    }
    char extra;
    if (scanf(" %c", &extra) == 1)
        fail("unexpected data after the spot list");
    memcpy(scratch, grid, cells * sizeof *grid);

    simulate(grid, scratch, n, steps, alpha);

    double sum = 0.0, sumsq = 0.0, maxv = grid[0], minv = grid[0];
    for (size_t c = 0; c < cells; c++) {
        double x = grid[c];
        sum += x;
        sumsq += x * x;
        if (x > maxv)
            maxv = x;
        if (x < minv)
            minv = x;
    }
    printf("n %d steps %d\n", n, steps);
    printf("sum %.15e\n", sum);
    printf("sumsq %.15e\n", sumsq);
    printf("min %.15e\n", minv);
    printf("max %.15e\n", maxv);
    printf("center %.15e\n", grid[(size_t)(n / 2) * n + n / 2]);
    printf("samples\n");
    for (int a = 0; a < 8; a++) {
        int i = (int)((long)a * (n - 1) / 7);
        for (int b = 0; b < 8; b++) {
            int j = (int)((long)b * (n - 1) / 7);
            printf("%s%.12e", b ? " " : "", grid[(size_t)i * n + j]);
        }
        printf("\n");
    }
    free(grid);
    free(scratch);
    return 0;
}
