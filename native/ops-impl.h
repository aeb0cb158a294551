// Element-wise kernels of ops.ts on wide vectors, with the WebAssembly kernels' bits: SwiGLU forward and backward.
// Each element takes the same operations in the same order as the wasm kernel's vector body (its scalar tail
// computes the same per element); the sigmoid's exp is attention-impl.h's expv. Compiled within gemm-avx512.cc
// / gemm-avx2.cc after attention-impl.h.

namespace vtb {

/** −x by flipping the sign bit (f32x4.neg; 0 − x would turn −0 into +0). */
static inline Vec::T neg(Vec::T x) {
#if defined(VTB_AVX512)
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
#else
  return _mm256_xor_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
#endif
}

static inline Vec::T vdiv(Vec::T a, Vec::T b) {
#if defined(VTB_AVX512)
  return _mm512_div_ps(a, b);
#else
  return _mm256_div_ps(a, b);
#endif
}

/** ops.ts swigluFwd: h = (g·σ(g))·u with σ(g) = 1/(1 + exp(−g)). */
static void swigluFwd(const float* g, const float* u, float* h, int n) {
  const Vec::T one = Vec::set1(1.0f);
  for (int i = 0; i < n; i += Vec::W) {
    const Vec::Mask m = Vec::mask(n - i);
    const Vec::T gv = Vec::maskLoad(g + i, m);
    const Vec::T sg = vdiv(one, Vec::add(one, expv(neg(gv))));
    Vec::maskStore(h + i, m, Vec::mul(Vec::mul(gv, sg), Vec::maskLoad(u + i, m)));
  }
}

/** ops.ts swigluBwd: du = (dh·g)·σ, dg = ((dh·u)·σ)·(1 + g·(1 − σ)). */
static void swigluBwd(const float* g, const float* u, const float* dh, float* dg, float* du, int n) {
  const Vec::T one = Vec::set1(1.0f);
  for (int i = 0; i < n; i += Vec::W) {
    const Vec::Mask m = Vec::mask(n - i);
    const Vec::T gv = Vec::maskLoad(g + i, m);
    const Vec::T sg = vdiv(one, Vec::add(one, expv(neg(gv))));
    const Vec::T d = Vec::maskLoad(dh + i, m);
    const Vec::T uv = Vec::maskLoad(u + i, m);
    Vec::maskStore(du + i, m, Vec::mul(Vec::mul(d, gv), sg));
    Vec::maskStore(dg + i, m, Vec::mul(Vec::mul(Vec::mul(d, uv), sg), Vec::add(one, Vec::mul(gv, vsub(one, sg)))));
  }
}

}  // namespace vtb

extern "C" void VTB_SWIGLU_FWD(const float* g, const float* u, float* h, int n) { vtb::swigluFwd(g, u, h, n); }
extern "C" void VTB_SWIGLU_BWD(const float* g, const float* u, const float* dh, float* dg, float* du, int n) { vtb::swigluBwd(g, u, dh, dg, du, n); }
