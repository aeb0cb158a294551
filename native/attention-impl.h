// The engine's training attention (src/engine/assembly/attention.ts attnFwd and attnBwd) on wide vectors, with the
// WebAssembly kernels' bits: the same products through the same GEMM (gemm-impl.h), and the same softmax and
// dS arithmetic element by element. What fixes the bits there, and what this code repeats:
//  - the exp is attention.ts's expv (Cephes expf: clamp, Cody–Waite reduction, Estrin polynomial) with every
//    multiply and add separate, in the same order, on each element (16 or 8 at once instead of 4);
//  - sums over a row are the wasm kernel's: four lane sums (lane i takes j ≡ i mod 4, in increasing j), then
//    ((l0 + l1) + l2) + l3, then the last n mod 4 one by one. They run here on 4-lane vectors, as in wasm;
//  - max is WebAssembly's (−0 below +0; the largest value of a row does not depend on the order).
// Compiled within gemm-avx512.cc / gemm-avx2.cc after gemm-impl.h (Vec and VTB_FN(gemm) come from there).

namespace vtb {

#if defined(VTB_AVX512)
static inline __m512i asInt(Vec::T v) { return _mm512_castps_si512(v); }
static inline Vec::T asFloat(__m512i v) { return _mm512_castsi512_ps(v); }
static inline __m512i addI(__m512i a, int32_t b) { return _mm512_add_epi32(a, _mm512_set1_epi32(b)); }
static inline __m512i shl23(__m512i a) { return _mm512_slli_epi32(a, 23); }
static inline Vec::T vmax(Vec::T a, Vec::T b) { return _mm512_max_ps(a, b); }
static inline Vec::T vmin(Vec::T a, Vec::T b) { return _mm512_min_ps(a, b); }
static inline Vec::T vsub(Vec::T a, Vec::T b) { return _mm512_sub_ps(a, b); }
#else
static inline __m256i asInt(Vec::T v) { return _mm256_castps_si256(v); }
static inline Vec::T asFloat(__m256i v) { return _mm256_castsi256_ps(v); }
static inline __m256i addI(__m256i a, int32_t b) { return _mm256_add_epi32(a, _mm256_set1_epi32(b)); }
static inline __m256i shl23(__m256i a) { return _mm256_slli_epi32(a, 23); }
static inline Vec::T vmax(Vec::T a, Vec::T b) { return _mm256_max_ps(a, b); }
static inline Vec::T vmin(Vec::T a, Vec::T b) { return _mm256_min_ps(a, b); }
static inline Vec::T vsub(Vec::T a, Vec::T b) { return _mm256_sub_ps(a, b); }
#endif

/** simd.ts EXPK: the same decimal constants, rounded to double then to float as AssemblyScript's f32 data. */
static const float EXPK[13] = {
  (float)-87.0, (float)88.0, (float)1.44269504088896341, (float)0.693359375, (float)-2.12194440e-4,
  (float)1.9875691500e-4, (float)1.3981999507e-3, (float)8.3334519073e-3, (float)4.1665795894e-2, (float)1.6666665459e-1, (float)5.0000001201e-1,
  (float)1.0, (float)12582912.0,
};

/** simd.ts expv, lane by lane. max(k, x) and min(k, x) keep a NaN x, as WebAssembly's min and max do. */
static inline Vec::T expv(Vec::T x) {
  const Vec::T xc = vmin(Vec::set1(EXPK[1]), vmax(Vec::set1(EXPK[0]), x));
  const Vec::T t = Vec::add(Vec::mul(xc, Vec::set1(EXPK[2])), Vec::set1(EXPK[12]));
  const Vec::T n = vsub(t, Vec::set1(EXPK[12]));
  Vec::T r = vsub(xc, Vec::mul(n, Vec::set1(EXPK[3])));
  r = vsub(r, Vec::mul(n, Vec::set1(EXPK[4])));
  const Vec::T r2 = Vec::mul(r, r);
  const Vec::T pa = Vec::add(Vec::mul(Vec::set1(EXPK[5]), r), Vec::set1(EXPK[6]));
  const Vec::T pb = Vec::add(Vec::mul(Vec::set1(EXPK[7]), r), Vec::set1(EXPK[8]));
  const Vec::T pc = Vec::add(Vec::mul(Vec::set1(EXPK[9]), r), Vec::set1(EXPK[10]));
  Vec::T p = Vec::add(Vec::mul(Vec::add(Vec::mul(pa, r2), pb), r2), pc);
  p = Vec::add(Vec::add(Vec::mul(p, r2), r), Vec::set1(EXPK[11]));
  const Vec::T scale = asFloat(shl23(addI(asInt(t), 127 - 0x4B400000)));
  return Vec::mul(p, scale);
}

/** WebAssembly's f32.max on non-NaN values: the larger, +0 above −0 (a NaN is passed on). */
static inline float wmax(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a == b) {
    uint32_t x, y;
    __builtin_memcpy(&x, &a, 4);
    __builtin_memcpy(&y, &b, 4);
    x &= y;
    __builtin_memcpy(&a, &x, 4);
    return a;
  }
  return a > b ? a : b;
}

/**
 * ops.ts maxOf: the largest of n floats under WebAssembly's max, which does not depend on the order. The vector
 * max of x86 agrees on every value but a zero maximum (it may keep −0 where WebAssembly takes +0) and NaN (it may
 * drop one): those two cases are settled by the scalar emulation.
 */
static inline float maxOf(const float* p, int n) {
  Vec::T mv = Vec::set1(p[0]);
  bool nan = false;
  int i = 0;
  for (; i < n; i += Vec::W) {
    const Vec::Mask m = Vec::mask(n - i);
    // Masked-off lanes repeat p[0], which changes no maximum.
    Vec::T x = Vec::maskLoad(p + i, m);
#if defined(VTB_AVX512)
    x = _mm512_mask_blend_ps(m, Vec::set1(p[0]), x);
    nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) != 0;
#else
    x = _mm256_blendv_ps(Vec::set1(p[0]), x, _mm256_castsi256_ps(m));
    nan |= _mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)) != 0;
#endif
    mv = vmax(mv, x);
  }
  alignas(64) float l[Vec::W];
#if defined(VTB_AVX512)
  _mm512_store_ps(l, mv);
#else
  _mm256_store_ps(l, mv);
#endif
  float mx = l[0];
  for (int j = 1; j < Vec::W; j++) mx = l[j] > mx ? l[j] : mx;
  if (nan || mx == 0.0f) {
    mx = p[0];
    for (int j = 1; j < n; j++) mx = wmax(mx, p[j]);
  }
  return mx;
}

/** ops.ts scale: x[i] *= s. */
static inline void scaleRow(float* x, int n, float s) {
  const Vec::T sv = Vec::set1(s);
  int i = 0;
  for (; i + Vec::W <= n; i += Vec::W) Vec::maskStore(x + i, Vec::mask(Vec::W), Vec::mul(Vec::maskLoad(x + i, Vec::mask(Vec::W)), sv));
  if (i < n) {
    const Vec::Mask m = Vec::mask(n - i);
    Vec::maskStore(x + i, m, Vec::mul(Vec::maskLoad(x + i, m), sv));
  }
}

/** ops.ts expShiftSum: p[j] = exp(p[j] − mx) in place; returns the wasm kernel's sum of them (see the header). */
static inline float expShiftSum(float* p, int n, float mx) {
  const Vec::T m = Vec::set1(mx);
  int i = 0;
  for (; i < n; i += Vec::W) {
    const Vec::Mask k = Vec::mask(n - i);
    Vec::maskStore(p + i, k, expv(vsub(Vec::maskLoad(p + i, k), m)));
  }
  __m128 acc = _mm_setzero_ps();
  int j = 0;
  for (; j + 4 <= n; j += 4) acc = _mm_add_ps(acc, _mm_loadu_ps(p + j));
  alignas(16) float l[4];
  _mm_store_ps(l, acc);
  float sum = ((l[0] + l[1]) + l[2]) + l[3];
  for (; j < n; j++) sum += p[j];
  return sum;
}

/** attention.ts softmaxInPlace. */
static inline void softmaxInPlace(float* p, int n) {
  const float sum = expShiftSum(p, n, maxOf(p, n));
  scaleRow(p, n, 1.0f / sum);
}

const int QB = 16;

/** attention.ts attnFwd (pointers are floats; strides in floats). */
template <bool FUSED>
static void attnFwd(const float* q, const float* k, const float* v, float* o, float* probs, float* kt, int B, int T, int nH, int nKv, int hd, float scale) {
  const int dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < nH; h++) {
      const ptrdiff_t kvo = (ptrdiff_t)(h / group) * hd;
      const float* kBase = k + (ptrdiff_t)b * T * kvDim + kvo;
      const float* vBase = v + (ptrdiff_t)b * T * kvDim + kvo;
      if (h % group == 0) {
        for (int j = 0; j < T; j++)
          for (int d = 0; d < hd; d++) kt[(ptrdiff_t)d * T + j] = kBase[(ptrdiff_t)j * kvDim + d];
      }
      float* pBase = probs + ((ptrdiff_t)b * nH + h) * T * T;
      const float* qBase = q + (ptrdiff_t)b * T * dim + (ptrdiff_t)h * hd;
      float* oBase = o + (ptrdiff_t)b * T * dim + (ptrdiff_t)h * hd;
      for (int t0 = 0; t0 < T; t0 += QB) {
        const int t1 = T < t0 + QB ? T : t0 + QB;
        float* pr0 = pBase + (ptrdiff_t)t0 * T;
        VTB_FN(gemm)(qBase + (ptrdiff_t)t0 * dim, dim, 1, kt, T, pr0, T, t1 - t0, hd, t1, 0, FUSED);
        for (int t = t0; t < t1; t++) {
          float* pr = pBase + (ptrdiff_t)t * T;
          const int n = t + 1;
          scaleRow(pr, n, scale);
          softmaxInPlace(pr, n);
          for (int j = n; j < T; j++) pr[j] = 0.0f;
        }
        VTB_FN(gemm)(pr0, T, 1, vBase, kvDim, oBase + (ptrdiff_t)t0 * dim, dim, t1 - t0, t1, hd, 0, FUSED);
      }
    }
  }
}

/** attention.ts attnBwd. */
template <bool FUSED>
static void attnBwd(const float* q, const float* k, const float* v, const float* probs, const float* dout, float* dq, float* dk, float* dv, float* tmp, float* vt, int B, int T, int nH, int nKv, int hd, float scale) {
  const int dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  for (ptrdiff_t i = 0; i < (ptrdiff_t)B * T * kvDim; i++) dk[i] = 0.0f, dv[i] = 0.0f;
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < nH; h++) {
      const ptrdiff_t kvo = (ptrdiff_t)(h / group) * hd, qo = (ptrdiff_t)h * hd;
      const float* kBase = k + (ptrdiff_t)b * T * kvDim + kvo;
      const float* vBase = v + (ptrdiff_t)b * T * kvDim + kvo;
      const float* pBase = probs + ((ptrdiff_t)b * nH + h) * T * T;
      const float* qBase = q + (ptrdiff_t)b * T * dim + qo;
      const float* doBase = dout + (ptrdiff_t)b * T * dim + qo;
      if (h % group == 0) {
        for (int j = 0; j < T; j++)
          for (int d = 0; d < hd; d++) vt[(ptrdiff_t)d * T + j] = vBase[(ptrdiff_t)j * kvDim + d];
      }
      const Vec::T scv = Vec::set1(scale);
      for (int t = 0; t < T; t++) {
        const float* pr = pBase + (ptrdiff_t)t * T;
        float* dsr = tmp + (ptrdiff_t)t * T;
        const int n = t + 1;
        if (t % QB == 0) VTB_FN(gemm)(doBase + (ptrdiff_t)t * dim, dim, 1, vt, T, dsr, T, QB < T - t ? QB : T - t, hd, T < t + QB ? T : t + QB, 0, FUSED);
        // s = Σ P·dP: four lane sums with the build's multiply-add, then the wasm order.
        __m128 sv = _mm_setzero_ps();
        int j = 0;
        for (; j + 4 <= n; j += 4) {
          const __m128 pv = _mm_loadu_ps(pr + j), dv4 = _mm_loadu_ps(dsr + j);
          sv = FUSED ? _mm_fmadd_ps(pv, dv4, sv) : _mm_add_ps(sv, _mm_mul_ps(pv, dv4));
        }
        alignas(16) float l[4];
        _mm_store_ps(l, sv);
        float s = ((l[0] + l[1]) + l[2]) + l[3];
        for (; j < n; j++) s = s + pr[j] * dsr[j];
        // dS = (P·(dP − s))·scale element by element (the vector body and the scalar tail compute the same).
        const Vec::T svv = Vec::set1(s);
        for (int i = 0; i < n; i += Vec::W) {
          const Vec::Mask m = Vec::mask(n - i);
          Vec::maskStore(dsr + i, m, Vec::mul(Vec::mul(Vec::maskLoad(pr + i, m), vsub(Vec::maskLoad(dsr + i, m), svv)), scv));
        }
        for (int jz = n; jz < T; jz++) dsr[jz] = 0.0f;
      }
      float* dqBase = dq + (ptrdiff_t)b * T * dim + qo;
      float* dkBase = dk + (ptrdiff_t)b * T * kvDim + kvo;
      float* dvBase = dv + (ptrdiff_t)b * T * kvDim + kvo;
      for (int t0 = 0; t0 < T; t0 += QB) {
        const int rows = (T < t0 + QB ? T : t0 + QB) - t0;
        VTB_FN(gemm)(tmp + (ptrdiff_t)t0 * T, T, 1, kBase, kvDim, dqBase + (ptrdiff_t)t0 * dim, dim, rows, t0 + rows, hd, 0, FUSED);
        const ptrdiff_t col = (ptrdiff_t)t0 * T + t0;
        VTB_FN(gemm)(tmp + col, 1, T, qBase + (ptrdiff_t)t0 * dim, dim, dkBase + (ptrdiff_t)t0 * kvDim, kvDim, rows, T - t0, hd, 1, FUSED);
        VTB_FN(gemm)(pBase + col, 1, T, doBase + (ptrdiff_t)t0 * dim, dim, dvBase + (ptrdiff_t)t0 * kvDim, kvDim, rows, T - t0, hd, 1, FUSED);
      }
    }
  }
}

}  // namespace vtb

extern "C" void VTB_FN(attn_fwd)(const float* q, const float* k, const float* v, float* o, float* probs, float* kt, int B, int T, int nH, int nKv, int hd, float scale, int fused) {
  if (fused) vtb::attnFwd<true>(q, k, v, o, probs, kt, B, T, nH, nKv, hd, scale);
  else vtb::attnFwd<false>(q, k, v, o, probs, kt, B, T, nH, nKv, hd, scale);
}

extern "C" void VTB_FN(attn_bwd)(const float* q, const float* k, const float* v, const float* probs, const float* dout, float* dq, float* dk, float* dv, float* tmp, float* vt, int B, int T, int nH, int nKv, int hd, float scale, int fused) {
  if (fused) vtb::attnBwd<true>(q, k, v, probs, dout, dq, dk, dv, tmp, vt, B, T, nH, nKv, hd, scale);
  else vtb::attnBwd<false>(q, k, v, probs, dout, dq, dk, dv, tmp, vt, B, T, nH, nKv, hd, scale);
}
