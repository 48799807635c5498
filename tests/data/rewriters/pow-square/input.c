#include <math.h>

struct point {
  double x, y;
};

/* EVOLVE-BLOCK-START */
double norm2(struct point p, double z) {
  return pow(p.x, 2) + pow(p.y, 2.0) + pow(z, 2) + pow(z, 3);
}

int isq(int k) { return (int)pow(k, 2); }
/* EVOLVE-BLOCK-END */

double outside(double z) { return pow(z, 2); }
