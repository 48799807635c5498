#include <math.h>

struct point {
  double x, y;
};

/* EVOLVE-BLOCK-START */
double norm2(struct point p, double z) {
  return (p.x * p.x) + (p.y * p.y) + (z * z) + pow(z, 3);
}

int isq(int k) { return (int)pow(k, 2); }
/* EVOLVE-BLOCK-END */

double outside(double z) { return pow(z, 2); }
