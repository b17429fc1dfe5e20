// Vector math entry points: forward to the implementation for the ISA in use.
#include "ckernels.h"

#define CK_DECLARE(isa)                                                                            \
    void ck_vexp_##isa(const float *, float *, int64_t);                                           \
    void ck_vtanh_##isa(const float *, float *, int64_t);                                          \
    void ck_verf_##isa(const float *, float *, int64_t);                                           \
    void ck_vsigmoid_##isa(const float *, float *, int64_t);                                       \
    void ck_vgelu_erf_##isa(const float *, float *, int64_t);                                      \
    void ck_vgelu_tanh_##isa(const float *, float *, int64_t);                                     \
    void ck_softmax_rows_##isa(const float *, float *, int64_t, int64_t);                          \
    void ck_log_softmax_rows_##isa(const float *, float *, int64_t, int64_t);                      \
    int ck_all_finite_##isa(const float *, int64_t);                                               \
    float ck_dot_##isa(const float *, const float *, int64_t);                                     \
    void ck_axpy_##isa(float, const float *, float *, int64_t);

CK_DECLARE(generic)
#if defined(__x86_64__)
CK_DECLARE(avx2)
CK_DECLARE(avx512)
#define CK_DISPATCH(f, ...)                                                                        \
    switch (ck_active_isa()) {                                                                     \
    case CK_ISA_AVX512: return f##_avx512(__VA_ARGS__);                                            \
    case CK_ISA_AVX2: return f##_avx2(__VA_ARGS__);                                                \
    default: return f##_generic(__VA_ARGS__);                                                      \
    }
#else
#define CK_DISPATCH(f, ...) return f##_generic(__VA_ARGS__);
#endif

void ck_vexp(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_vexp, x, y, n) }
void ck_vtanh(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_vtanh, x, y, n) }
void ck_verf(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_verf, x, y, n) }
void ck_vsigmoid(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_vsigmoid, x, y, n) }
void ck_vgelu_erf(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_vgelu_erf, x, y, n) }
void ck_vgelu_tanh(const float *x, float *y, int64_t n) { CK_DISPATCH(ck_vgelu_tanh, x, y, n) }
void ck_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols) {
    CK_DISPATCH(ck_softmax_rows, x, y, rows, cols)
}
void ck_log_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols) {
    CK_DISPATCH(ck_log_softmax_rows, x, y, rows, cols)
}
int ck_all_finite(const float *x, int64_t n) { CK_DISPATCH(ck_all_finite, x, n) }
float ck_dot(const float *x, const float *y, int64_t n) { CK_DISPATCH(ck_dot, x, y, n) }
void ck_axpy(float a, const float *x, float *y, int64_t n) { CK_DISPATCH(ck_axpy, a, x, y, n) }
