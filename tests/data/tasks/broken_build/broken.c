/* A task whose baseline does not compile: task check and run must refuse it
 * and show the compiler's own message. */
#include <stdio.h>

/* EVOLVE-BLOCK-START */
static int answer(void) { return 42 }
/* EVOLVE-BLOCK-END */

int main(void) {
  printf("%d\n", answer());
  return 0;
}
