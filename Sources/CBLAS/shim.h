#include <cblas.h>
#include <lapacke.h>
// Declared here too: the cblas.h alternative may come from a BLAS without these.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
