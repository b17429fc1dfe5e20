// Vector math, written once with GCC/Clang vector extensions and compiled per ISA: each
// vmath_<isa>.c defines CK_TARGET (target attribute), CK_VW (lanes) and CK_SUFFIX, then
// includes this file. Expressions such as a·b + c are contracted to FMA where the target has it
// (-ffp-contract=on is Clang's default for C).
//
// Accuracy (worst case over dense sweeps against Double references, every ISA; KernelTests
// checks slightly looser bounds):
//   exp      1.01 ulp; 0 below -104, +Inf above 88.72, subnormal results kept in between
//   tanh     1.5 ulp (odd polynomial below 0.625, else (1-e)/(1+e) with e = exp(-2|x|))
//   sigmoid  2.3 ulp on both tails (e/(1+e) or 1/(1+e), e = exp(-|x|): no overflow)
//   erf      1.5e-7 absolute (x·P(x²) below 1, else 1 - exp(-x²)·P(1/(1+x/2)))
//   GELU     1.7e-7·max(1, |y|): erf form through erfc for x < 0, tanh form as x·sigmoid(2v),
//            so neither cancels on the negative tail
// NaN in gives NaN out everywhere: clamps are written as compare-and-select, which keeps NaN.
#include <math.h>
#include <stdint.h>
#include <string.h>

#define CK_CAT2(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(f) CK_CAT(f, CK_SUFFIX)
#define CK_INLINE static inline __attribute__((always_inline)) CK_TARGET

typedef float vf __attribute__((vector_size(CK_VW * 4)));
typedef int32_t vi __attribute__((vector_size(CK_VW * 4)));

CK_INLINE vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
CK_INLINE void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
CK_INLINE vf vsplat(float s) { return (vf){0} + s; }
// m ? a : b, lane-wise (m is all-ones or zero per lane, as comparisons produce).
CK_INLINE vf vsel(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
CK_INLINE vf vabs(vf x) { return (vf)((vi)x & 0x7fffffff); }
CK_INLINE vf vcopysign(vf mag, vf sgn) { return (vf)(((vi)mag & 0x7fffffff) | ((vi)sgn & (int32_t)0x80000000)); }
CK_INLINE float hsum(vf v) { float s = 0; for (int i = 0; i < CK_VW; i++) s += v[i]; return s; }
CK_INLINE float hmax(vf v) { float m = v[0]; for (int i = 1; i < CK_VW; i++) m = v[i] > m ? v[i] : m; return m; }

CK_INLINE vf vexp_(vf x) {
    const vf hi = vsplat(88.8f), lo = vsplat(-104.0f);
    x = vsel(x > hi, hi, x);
    x = vsel(x < lo, lo, x);
    // n = round(x / ln 2) by the 1.5·2^23 trick (no rounding instruction needed on baseline x86).
    const vf magic = vsplat(12582912.0f);
    vf n = (x * 1.44269504088896341f + magic) - magic;
    vf r = x - n * 0.693359375f;          // Cody-Waite: ln 2 = 0.693359375 - 2.12194440e-4
    r = r - n * -2.12194440e-4f;
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    // 2^n in two halves so that n in [-150, 128] stays in the normal range of each factor:
    // results underflow gradually and overflow to +Inf exactly when exp does.
    vi ni = __builtin_convertvector(n, vi);
    vi n1 = ni >> 1, n2 = ni - n1;
    return p * (vf)((n1 + 127) << 23) * (vf)((n2 + 127) << 23);
}

CK_INLINE vf vtanh_(vf x) {
    vf a = vabs(x);
    vf z = a * a;
    vf p = vsplat(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    vf small = p * z * a + a;
    vf e = vexp_(-2.0f * a);              // ≤ 1: never overflows
    vf big = (1.0f - e) / (1.0f + e);
    return vcopysign(vsel(a < 0.625f, small, big), x);
}

// e^{-|x|}-based logistic: both branches divide by 1 + e with e ≤ 1.
CK_INLINE vf vsigmoid_(vf x) {
    vf e = vexp_(-vabs(x));
    return vsel(x >= 0.0f, vsplat(1.0f), e) / (1.0f + e);
}

// erf(a) = a·P(a²) for |a| < 1 (relative error 1.2e-9 before rounding).
CK_INLINE vf erf_small(vf a) {
    vf z = a * a;
    vf p = vsplat(7.854220893932506e-05f);
    p = p * z - 0.0008010311285033822f;
    p = p * z + 0.005188342649489641f;
    p = p * z - 0.02685382030904293f;
    p = p * z + 0.1128358542919159f;
    p = p * z - 0.3761262595653534f;
    p = p * z + 1.1283791065216064f;
    return a * p;
}

// erfc(a) for 1 ≤ a (clamped to 10, where erfc is below the smallest subnormal):
// exp(-a²)·erfcx(a), erfcx fitted as a polynomial in t = 1/(1 + a/2) (relative error 6e-9).
CK_INLINE vf erfc_large(vf a) {
    const vf ten = vsplat(10.0f);
    a = vsel(a > ten, ten, a);
    vf t = 1.0f / (1.0f + 0.5f * a);
    vf p = vsplat(0.08089692890644073f);
    p = p * t - 0.18505942821502686f;
    p = p * t + 0.02508639544248581f;
    p = p * t + 0.10532249510288239f;
    p = p * t + 0.1580508053302765f;
    p = p * t + 0.25296464562416077f;
    p = p * t + 0.28099125623703003f;
    p = p * t + 0.28219935297966003f;
    p = p * t - 4.101498234376777e-06f;
    return vexp_(-(a * a)) * p;
}

CK_INLINE vf verf_(vf x) {
    vf a = vabs(x);
    vf big = 1.0f - erfc_large(a);
    return vcopysign(vsel(a < 1.0f, erf_small(a), big), x);
}

CK_INLINE vf vgelu_erf_(vf x) {
    vf u = x * 0.70710678118654752f;
    vf a = vabs(u);
    vf e = erfc_large(a);                       // erfc(|u|)
    vf one_plus_erf = vsel(a < 1.0f, 1.0f + erf_small(u), vsel(x > 0.0f, 2.0f - e, e));
    vf y = 0.5f * x * one_plus_erf;
    return vsel(x < -14.0f, vsplat(-0.0f), y); // e underflows; avoids -Inf·0
}

CK_INLINE vf vgelu_tanh_(vf x) {
    // 1 + tanh(v) = 2·sigmoid(2v), v = √(2/π)(x + 0.044715x³)
    vf z = 1.5957691216057308f * x * (1.0f + 0.044715f * (x * x));
    vf y = x * vsigmoid_(z);
    return vsel(x < -11.0f, vsplat(-0.0f), y); // sigmoid underflows; avoids -Inf·0
}

// Applies f to n floats; the tail goes through a padded buffer so that every lane computes.
#define CK_MAP(name, f)                                                                            \
    CK_TARGET void CK_NAME(name)(const float *x, float *y, int64_t n) {                             \
        int64_t i = 0;                                                                             \
        for (; i + CK_VW <= n; i += CK_VW) vstore(y + i, f(vload(x + i)));                         \
        if (i < n) {                                                                               \
            float buf[CK_VW] = {0};                                                                \
            memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));                                   \
            vf r = f(vload(buf));                                                                  \
            memcpy(y + i, &r, (size_t)(n - i) * sizeof(float));                                    \
        }                                                                                          \
    }

CK_MAP(ck_vexp, vexp_)
CK_MAP(ck_vtanh, vtanh_)
CK_MAP(ck_verf, verf_)
CK_MAP(ck_vsigmoid, vsigmoid_)
CK_MAP(ck_vgelu_erf, vgelu_erf_)
CK_MAP(ck_vgelu_tanh, vgelu_tanh_)

// Loads lanes [i, n) of x and fills the rest with `fill`.
CK_INLINE vf vload_tail(const float *x, int64_t count, float fill) {
    float buf[CK_VW];
    for (int j = 0; j < CK_VW; j++) buf[j] = j < count ? x[j] : fill;
    return vload(buf);
}

CK_INLINE float row_max(const float *x, int64_t n) {
    vf m = vsplat(-INFINITY);
    int64_t i = 0;
    for (; i + CK_VW <= n; i += CK_VW) { vf v = vload(x + i); m = vsel(v > m, v, m); }
    if (i < n) { vf v = vload_tail(x + i, n - i, -INFINITY); m = vsel(v > m, v, m); }
    return hmax(m);
}

// Σ exp(x - mx), optionally storing the exponentials to y.
CK_INLINE float row_exp_sum(const float *x, float *y, int64_t n, float mx, int store) {
    vf s0 = vsplat(0.0f), s1 = s0;
    vf vm = vsplat(mx);
    int64_t i = 0;
    for (; i + 2 * CK_VW <= n; i += 2 * CK_VW) {
        vf e0 = vexp_(vload(x + i) - vm), e1 = vexp_(vload(x + i + CK_VW) - vm);
        if (store) { vstore(y + i, e0); vstore(y + i + CK_VW, e1); }
        s0 += e0;
        s1 += e1;
    }
    for (; i < n; i += CK_VW) {
        int64_t cnt = n - i < CK_VW ? n - i : CK_VW;
        vf e = vexp_(vload_tail(x + i, cnt, -INFINITY) - vm); // padding: exp(-Inf) = 0
        if (store) memcpy(y + i, &e, (size_t)cnt * sizeof(float));
        s0 += e;
    }
    return hsum(s0 + s1);
}

CK_TARGET void CK_NAME(ck_softmax_rows)(const float *x, float *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++, x += cols, y += cols) {
        float mx = row_max(x, cols);
        if (mx == -INFINITY) { memset(y, 0, (size_t)cols * sizeof(float)); continue; }
        float s = row_exp_sum(x, y, cols, mx, 1);
        vf inv = vsplat(1.0f / s);
        int64_t i = 0;
        for (; i + CK_VW <= cols; i += CK_VW) vstore(y + i, vload(y + i) * inv);
        for (; i < cols; i++) y[i] *= inv[0];
    }
}

CK_TARGET void CK_NAME(ck_log_softmax_rows)(const float *x, float *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++, x += cols, y += cols) {
        float mx = row_max(x, cols);
        if (mx == -INFINITY) { for (int64_t i = 0; i < cols; i++) y[i] = -INFINITY; continue; }
        float ls = logf(row_exp_sum(x, NULL, cols, mx, 0));
        // (x - max) - log Σ: subtracting max first keeps small differences exact for large logits.
        vf vm = vsplat(mx), vl = vsplat(ls);
        int64_t i = 0;
        for (; i + CK_VW <= cols; i += CK_VW) vstore(y + i, (vload(x + i) - vm) - vl);
        for (; i < cols; i++) y[i] = (x[i] - mx) - ls;
    }
}

CK_TARGET int CK_NAME(ck_all_finite)(const float *x, int64_t n) {
    // x·0 is 0 for finite x and NaN for ±Inf or NaN; NaN is sticky in the sums. Checked per
    // block so that a bad gradient is reported without reading the rest.
    int64_t i = 0;
    while (i + 4 * CK_VW <= n) {
        vf a0 = vsplat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        int64_t end = n - i > 4096 ? i + 4096 : n;
        for (; i + 4 * CK_VW <= end; i += 4 * CK_VW) {
            a0 += vload(x + i) * 0.0f;
            a1 += vload(x + i + CK_VW) * 0.0f;
            a2 += vload(x + i + 2 * CK_VW) * 0.0f;
            a3 += vload(x + i + 3 * CK_VW) * 0.0f;
        }
        vf a = (a0 + a1) + (a2 + a3);
        if (hsum(a) != 0.0f) return 0;
    }
    for (; i < n; i++) if (x[i] * 0.0f != 0.0f) return 0;
    return 1;
}

CK_TARGET float CK_NAME(ck_dot)(const float *x, const float *y, int64_t n) {
    vf s0 = vsplat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 * CK_VW <= n; i += 4 * CK_VW) {
        s0 += vload(x + i) * vload(y + i);
        s1 += vload(x + i + CK_VW) * vload(y + i + CK_VW);
        s2 += vload(x + i + 2 * CK_VW) * vload(y + i + 2 * CK_VW);
        s3 += vload(x + i + 3 * CK_VW) * vload(y + i + 3 * CK_VW);
    }
    for (; i + CK_VW <= n; i += CK_VW) s0 += vload(x + i) * vload(y + i);
    float s = hsum((s0 + s1) + (s2 + s3));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

CK_TARGET void CK_NAME(ck_axpy)(float a, const float *x, float *y, int64_t n) {
    vf va = vsplat(a);
    int64_t i = 0;
    for (; i + 2 * CK_VW <= n; i += 2 * CK_VW) {
        vstore(y + i, va * vload(x + i) + vload(y + i));
        vstore(y + i + CK_VW, va * vload(x + i + CK_VW) + vload(y + i + CK_VW));
    }
    for (; i + CK_VW <= n; i += CK_VW) vstore(y + i, va * vload(x + i) + vload(y + i));
    for (; i < n; i++) y[i] = a * x[i] + y[i];
}
