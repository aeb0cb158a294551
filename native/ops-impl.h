// Kernels of ops.ts and gemm.ts on wide vectors, with the WebAssembly kernels' bits: SwiGLU forward and backward,
// RMSNorm backward, AdamW, transpose. Each element takes the same operations in the same order as the wasm
// kernel (where its vector body and scalar tail differ, as in AdamW, the same split); the sigmoid's exp is attention-impl.h's expv. Compiled within gemm-avx512.cc
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

static inline Vec::T vsqrt(Vec::T a) {
#if defined(VTB_AVX512)
  return _mm512_sqrt_ps(a);
#else
  return _mm256_sqrt_ps(a);
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

/** ops.ts rmsnormBwd, see there; the row sums s run four rows at a time (independent chains, each in d order). */
static void rmsnormBwd(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int N, int D) {
  for (int n0 = 0; n0 < N; n0 += 4) {
    const int rows = N - n0 < 4 ? N - n0 : 4;
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (rows == 4) {
      const float *x0 = x + (ptrdiff_t)n0 * D, *x1 = x0 + D, *x2 = x1 + D, *x3 = x2 + D;
      const float *y0 = dy + (ptrdiff_t)n0 * D, *y1 = y0 + D, *y2 = y1 + D, *y3 = y2 + D;
      for (int d = 0; d < D; d++) {
        s[0] = s[0] + (w[d] * y0[d]) * x0[d];
        s[1] = s[1] + (w[d] * y1[d]) * x1[d];
        s[2] = s[2] + (w[d] * y2[d]) * x2[d];
        s[3] = s[3] + (w[d] * y3[d]) * x3[d];
      }
    } else {
      for (int r = 0; r < rows; r++) {
        const float* xr = x + (ptrdiff_t)(n0 + r) * D;
        const float* yr = dy + (ptrdiff_t)(n0 + r) * D;
        for (int d = 0; d < D; d++) s[r] = s[r] + (w[d] * yr[d]) * xr[d];
      }
    }
    for (int r = 0; r < rows; r++) {
      const ptrdiff_t off = (ptrdiff_t)(n0 + r) * D;
      const float* xr = x + off;
      const float* yr = dy + off;
      float* dxr = dx + off;
      const float rr = rstd[n0 + r];
      const float c = ((s[r] * rr) * rr) * rr / (float)D;
      const Vec::T rv = Vec::set1(rr), cv = Vec::set1(c);
      for (int d = 0; d < D; d += Vec::W) {
        const Vec::Mask m = Vec::mask(D - d);
        const Vec::T g = Vec::maskLoad(yr + d, m), xv = Vec::maskLoad(xr + d, m);
        // dx + (r·w)·g − x·c, and dw + (g·x)·r, as ops.ts evaluates them.
        Vec::maskStore(dxr + d, m, vsub(Vec::add(Vec::maskLoad(dxr + d, m), Vec::mul(Vec::mul(rv, Vec::maskLoad(w + d, m)), g)), Vec::mul(xv, cv)));
        if (dw) Vec::maskStore(dw + d, m, Vec::add(Vec::maskLoad(dw + d, m), Vec::mul(Vec::mul(g, xv), rv)));
      }
    }
  }
}

/**
 * ops.ts adamw: the wasm vector body's formulas on elements below n rounded down to 4, its scalar tail's on the
 * rest (they associate (1 − β2)·g·g differently).
 */
static void adamw(float* p, const float* g, float* m, float* v, int n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2) {
  const int n4 = n & ~3;
  const Vec::T vb1 = Vec::set1(b1), vb1c = Vec::set1(1.0f - b1), vb2 = Vec::set1(b2), vb2c = Vec::set1(1.0f - b2);
  const Vec::T ib1 = Vec::set1(1.0f / bc1), ib2 = Vec::set1(1.0f / bc2), veps = Vec::set1(eps), vlr = Vec::set1(lr), vwd = Vec::set1(wd);
  for (int i = 0; i < n4; i += Vec::W) {
    const Vec::Mask k = Vec::mask(n4 - i);
    const Vec::T gv = Vec::maskLoad(g + i, k);
    const Vec::T mv = Vec::add(Vec::mul(vb1, Vec::maskLoad(m + i, k)), Vec::mul(vb1c, gv));
    const Vec::T vv = Vec::add(Vec::mul(vb2, Vec::maskLoad(v + i, k)), Vec::mul(vb2c, Vec::mul(gv, gv)));
    Vec::maskStore(m + i, k, mv);
    Vec::maskStore(v + i, k, vv);
    const Vec::T pv = Vec::maskLoad(p + i, k);
    const Vec::T upd = Vec::add(vdiv(Vec::mul(mv, ib1), Vec::add(vsqrt(Vec::mul(vv, ib2)), veps)), Vec::mul(vwd, pv));
    Vec::maskStore(p + i, k, vsub(pv, Vec::mul(vlr, upd)));
  }
  for (int i = n4; i < n; i++) {
    const float gv = g[i];
    const float mv = b1 * m[i] + (1.0f - b1) * gv;
    const float vv = b2 * v[i] + (1.0f - b2) * gv * gv;
    m[i] = mv;
    v[i] = vv;
    const float pv = p[i];
    p[i] = pv - lr * ((mv * (1.0f / bc1)) / (__builtin_sqrtf(vv * (1.0f / bc2)) + eps) + wd * pv);
  }
}

/** gemm.ts transpose: dst[c][r] = src[r][c] (a copy: any order gives the same bits), in 16×16 blocks. */
static void transpose(const float* src, float* dst, int rows, int cols) {
  for (int r0 = 0; r0 < rows; r0 += 16) {
    const int r1 = rows < r0 + 16 ? rows : r0 + 16;
    for (int c0 = 0; c0 < cols; c0 += 16) {
      const int c1 = cols < c0 + 16 ? cols : c0 + 16;
      for (int c = c0; c < c1; c++)
        for (int r = r0; r < r1; r++) dst[(ptrdiff_t)c * rows + r] = src[(ptrdiff_t)r * cols + c];
    }
  }
}

}  // namespace vtb

extern "C" void VTB_FN(rmsnorm_bwd)(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int N, int D) { vtb::rmsnormBwd(x, w, rstd, dy, dx, dw, N, D); }
extern "C" void VTB_FN(adamw)(float* p, const float* g, float* m, float* v, int n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2) { vtb::adamw(p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2); }
extern "C" void VTB_FN(transpose)(const float* src, float* dst, int rows, int cols) { vtb::transpose(src, dst, rows, cols); }

extern "C" void VTB_FN(swiglu_fwd)(const float* g, const float* u, float* h, int n) { vtb::swigluFwd(g, u, h, n); }
extern "C" void VTB_FN(swiglu_bwd)(const float* g, const float* u, const float* dh, float* dg, float* du, int n) { vtb::swigluBwd(g, u, dh, dg, du, n); }
