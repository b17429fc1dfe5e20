// Instruction-set detection and the process-wide "ISA in use" switch.
//
// The level is read by every kernel call, so it lives in one relaxed atomic: tests lower it
// from several threads while other tests run kernels, and any value they see is a valid one.
#include "ckernels.h"
#include "qgemm_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int detect(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV),
    // so a VM that hides AVX-512 state correctly falls back.
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!avx2) return CK_ISA_GENERIC;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
        return CK_ISA_AVX512;
    return CK_ISA_AVX2;
#else
    return CK_ISA_GENERIC;
#endif
}

// -1 until first use; then the detected level and the level in use.
static _Atomic int g_detected = -1;
static _Atomic int g_active = -1;

int ck_detected_isa(void) {
    int d = atomic_load_explicit(&g_detected, memory_order_relaxed);
    if (d < 0) {
        d = detect();
        atomic_store_explicit(&g_detected, d, memory_order_relaxed);
    }
    return d;
}

// AVX-512 VNNI (int8 dot products), beside the level: -1 until first use, then 0 or 1. An
// atomic for the same reason as the level: first calls may come from several threads at once
// (they compute the same value).
static _Atomic int g_vnni = -1;

int ck_vnni_detected(void) {
    int v = atomic_load_explicit(&g_vnni, memory_order_relaxed);
    if (v < 0) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
#else
        v = 0;
#endif
        atomic_store_explicit(&g_vnni, v, memory_order_relaxed);
    }
    return v;
}

int ck_isa_from_name(const char *name) {
    if (name == NULL) return -1;
    if (strcmp(name, "generic") == 0) return CK_ISA_GENERIC;
    if (strcmp(name, "avx2") == 0) return CK_ISA_AVX2;
    if (strcmp(name, "avx512") == 0) return CK_ISA_AVX512;
    return -1;
}

const char *ck_isa_name(int isa) {
    switch (isa) {
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

int ck_active_isa(void) {
    int a = atomic_load_explicit(&g_active, memory_order_relaxed);
    if (a >= 0) return a;
    int d = ck_detected_isa();
    int want = ck_isa_from_name(getenv("SIAMESE_ISA"));
    a = (want >= 0 && want < d) ? want : d;
    // Two first callers may race here; both compute the same value.
    int expected = -1;
    if (!atomic_compare_exchange_strong(&g_active, &expected, a)) a = expected;
    return a;
}

int ck_set_isa(int isa) {
    int d = ck_detected_isa();
    if (isa < CK_ISA_GENERIC) isa = CK_ISA_GENERIC;
    if (isa > d) isa = d;
    atomic_store_explicit(&g_active, isa, memory_order_relaxed);
    return isa;
}
