#include "ckernels.h"
#include <stdlib.h>
#include <strings.h>

// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels from the CPU model number, and
// a release that predates the CPU falls back to its most basic x86-64 kernels: Debian 12's
// 0.3.21 on a model-207 Xeon (AVX-512) runs "Prescott" SSE3 sgemm at a quarter of the speed.
// Re-selecting by the CPU's features, before the first BLAS call, fixes that. Weak references:
// with another BLAS, or an OpenBLAS without DYNAMIC_ARCH, these are null and nothing happens.
extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *ck_blas_core_name(void) {
    return openblas_get_corename ? openblas_get_corename() : NULL;
}

const char *ck_blas_select_core(void) {
#if defined(__x86_64__)
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return NULL;
    if (getenv("OPENBLAS_CORETYPE")) return NULL;  // the user's choice stands
    // With OVERPARAM_KERNELS=avx2 OpenBLAS must not use AVX-512 either: the products it runs
    // then round as on an AVX2 machine of the same maker (AMD's detect as "Zen", Intel's as
    // "Haswell").
    const int avx512Allowed = ck_kernels_allow(2);
    static const char *const vectorCores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    const size_t avx2Cores = 2;
    const char *current = openblas_get_corename();
    for (size_t i = 0; i < sizeof vectorCores / sizeof *vectorCores; i++)
        if (current && strcasecmp(current, vectorCores[i]) == 0 && (avx512Allowed || i < avx2Cores)) return NULL;
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return NULL;
    const char *want = __builtin_cpu_is("amd") && !avx512Allowed ? "Zen" : "Haswell";
    if (avx512Allowed && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
        want = __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
    // OpenBLAS reads the core only from the environment; unset again so child processes detect
    // for themselves.
    setenv("OPENBLAS_CORETYPE", want, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return openblas_get_corename();
#else
    return NULL;
#endif
}
