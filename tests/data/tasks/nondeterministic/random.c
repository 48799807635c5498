/* A task whose baseline prints something different on every run: it cannot
 * serve as a reference, and task check must say so. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* EVOLVE-BLOCK-START */
static long noise(void) { return (long)getpid() ^ (long)clock(); }
/* EVOLVE-BLOCK-END */

int main(void) {
  printf("%ld\n", noise());
  return 0;
}
