// The elementwise loops of batch norm and ReLU, written once as plain C and compiled once per
// instruction set: conv_generic.c, conv_avx2.c and conv_avx512.c include this file with
// CK_CONV_BODY defined, a suffix S, and (for the x86 levels) a target attribute on every
// function. Compiled on its own, it is empty.
#ifdef CK_CONV_BODY

#include <stdint.h>

#define CK_CAT2(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(f) CK_CAT(f, CK_SUFFIX)

// Sums of a run in 16 float lanes (vectors of any width; floating-point sums are not reassociated
// by the compiler, so the lanes are explicit) over blocks of at most 1024 values, added up in double.
#define CK_LANES 16
static inline void CK_NAME(run_moments)(const float *restrict x, int64_t n, float shift, double *sum, double *sumsq) {
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {
        const int64_t i1 = n - i0 < 1024 ? n : i0 + 1024;
        float s[CK_LANES] = {0}, q[CK_LANES] = {0};
        int64_t i = i0;
        for (; i + CK_LANES <= i1; i += CK_LANES) {
            for (int j = 0; j < CK_LANES; j++) {
                const float d = x[i + j] - shift;
                s[j] += d;
                q[j] += d * d;
            }
        }
        float st = 0, qt = 0;
        for (; i < i1; i++) {
            const float d = x[i] - shift;
            st += d;
            qt += d * d;
        }
        for (int j = 0; j < CK_LANES; j++) { st += s[j]; qt += q[j]; }
        *sum += st;
        *sumsq += qt;
    }
}

void CK_NAME(ck_channel_moments)(const float *x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                                 const float *shift, double *sum, double *sumsq) {
    for (int64_t c = c0; c < c1; c++) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < batch; n++)
            CK_NAME(run_moments)(x + (n * channels + c) * inner, inner, shift[c], &s, &q);
        sum[c] = s;
        sumsq[c] = q;
    }
}

static inline void CK_NAME(run_grad_sums)(const float *restrict g, const float *restrict x, int64_t n, float shift,
                                          double *sum_g, double *sum_gx) {
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {
        const int64_t i1 = n - i0 < 1024 ? n : i0 + 1024;
        float s[CK_LANES] = {0}, q[CK_LANES] = {0};
        int64_t i = i0;
        for (; i + CK_LANES <= i1; i += CK_LANES) {
            for (int j = 0; j < CK_LANES; j++) {
                s[j] += g[i + j];
                q[j] += g[i + j] * (x[i + j] - shift);
            }
        }
        float st = 0, qt = 0;
        for (; i < i1; i++) {
            st += g[i];
            qt += g[i] * (x[i] - shift);
        }
        for (int j = 0; j < CK_LANES; j++) { st += s[j]; qt += q[j]; }
        *sum_g += st;
        *sum_gx += qt;
    }
}

void CK_NAME(ck_channel_grad_sums)(const float *g, const float *x, int64_t batch, int64_t channels, int64_t inner,
                                   int64_t c0, int64_t c1, const float *shift, double *sum_g, double *sum_gx) {
    for (int64_t c = c0; c < c1; c++) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < batch; n++) {
            int64_t o = (n * channels + c) * inner;
            CK_NAME(run_grad_sums)(g + o, x + o, inner, shift[c], &s, &q);
        }
        sum_g[c] = s;
        sum_gx[c] = q;
    }
}

void CK_NAME(ck_channel_affine)(const float *x, float *y, int64_t batch, int64_t channels, int64_t inner,
                                int64_t c0, int64_t c1, const float *scale, const float *shift, int relu) {
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t c = c0; c < c1; c++) {
            const float *restrict xs = x + (n * channels + c) * inner;
            float *restrict ys = y + (n * channels + c) * inner;
            const float k = scale[c], b = shift[c];
            if (relu) {
                for (int64_t i = 0; i < inner; i++) {
                    float v = xs[i] * k + b;
                    ys[i] = v > 0 || v != v ? v : 0;
                }
            } else {
                for (int64_t i = 0; i < inner; i++) ys[i] = xs[i] * k + b;
            }
        }
    }
}

void CK_NAME(ck_channel_affine2)(const float *g, const float *x, float *dx, int64_t batch, int64_t channels, int64_t inner,
                                 int64_t c0, int64_t c1, const float *a, const float *b, const float *k) {
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t c = c0; c < c1; c++) {
            const int64_t o = (n * channels + c) * inner;
            const float *restrict gs = g + o, *restrict xs = x + o;
            float *restrict ds = dx + o;
            const float ac = a[c], bc = b[c], kc = k[c];
            for (int64_t i = 0; i < inner; i++) ds[i] = ac * gs[i] + (bc * xs[i] + kc);
        }
    }
}

void CK_NAME(ck_relu)(const float *restrict x, float *restrict y, int64_t n) {
    // Swift's max(x, 0) is `0 >= x ? 0 : x`: NaN stays, −0 becomes +0.
    for (int64_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? 0.0f : x[i];
}

void CK_NAME(ck_relu_backward)(const float *restrict g, const float *restrict x, float *restrict dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : 0.0f;
}

#undef CK_LANES
#undef CK_NAME
#undef CK_CAT
#undef CK_CAT2
#endif
