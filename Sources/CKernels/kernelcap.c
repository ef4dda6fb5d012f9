#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// The one CPU probe of this target, and OVERPARAM_KERNELS, which caps the kernel level below what
// the CPU has. Which kernels run, and which products go to OpenBLAS, decide a result's last bits
// (Engine.arithmetic), so "avx2" on an AVX-512 CPU computes what an AVX2 machine computes: a
// worker there can take up searches that AVX2 workers began, and a result from one machine can
// be checked on the other. "portable" runs no vector kernel. Both are read once per process;
// every kernel asks ck_isa_level (blascore.c probes further, for OpenBLAS's choice of its own).

static int setting = -2;  // not read yet

int ck_kernels_setting(void) {
    int v = __atomic_load_n(&setting, __ATOMIC_RELAXED);
    if (v == -2) {
        const char *s = getenv("OVERPARAM_KERNELS");
        if (!s || !*s) v = 3;
        else if (!strcmp(s, "avx512")) v = 2;
        else if (!strcmp(s, "avx2")) v = 1;
        else if (!strcmp(s, "portable")) v = 0;
        else v = -1;
        __atomic_store_n(&setting, v, __ATOMIC_RELAXED);
    }
    return v;
}

// An unreadable setting caps nothing here: the command line refuses it before any kernel runs.
int ck_kernels_allow(int level) {
    int v = ck_kernels_setting();
    return v < 0 || v >= level;
}

static int cpu = -1;

int ck_cpu_level(void) {
    int v = __atomic_load_n(&cpu, __ATOMIC_RELAXED);
    if (v < 0) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        v = !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 0 : __builtin_cpu_supports("avx512f") ? 2 : 1;
#else
        v = 0;
#endif
        __atomic_store_n(&cpu, v, __ATOMIC_RELAXED);
    }
    return v;
}

int ck_isa_level(void) {
    int level = ck_cpu_level();
    while (level > 0 && !ck_kernels_allow(level)) level--;
    return level;
}

int ck_avx512_available(void) { return ck_isa_level() == 2; }
