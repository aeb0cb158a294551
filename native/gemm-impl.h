// The engine's GEMM on wide x86 vectors, bit for bit the WebAssembly kernel's (src/engine/assembly/gemm.ts):
// C[M,P] (+)= Σk A(m,k)·B[k,P], A strided, B and C row-major (leading dimensions in floats). This header is
// compiled once per instruction set (gemm-avx512.cc, gemm-avx2.cc, each with its own -m flags), with -O2 and
// -ffp-contract=off so that the compiler never fuses a multiply and an add the kernel keeps apart.
//
// What fixes the bits of C(m,p), and what this code repeats for every element, whatever the vector width:
//  - columns p < P&~7: each K block of KC = 256 sums from +0 in increasing k, s = madd(A(m,k), B(k,p), s),
//    then C = s + C when accumulating (acc, or any block after the first), else C = s;
//  - columns P&~7 ≤ p < P&~3: one sum over all K the same way (no K blocks), then + C when acc;
//  - columns p ≥ P&~3: one sum over all K with a separate multiply and add (the wasm scalar loop), then + C.
// madd is a fused multiply-add for the fma build (f32x4.relaxed_madd, which V8 fuses on x64 with FMA3) and a
// multiply then an add for the portable build. Wider vectors only change how many columns one instruction
// computes; zero-padded lanes beyond P are computed and never stored.
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include "kernels.h"

namespace vtb {

const int KC = 256;

#if defined(VTB_AVX512)
struct Vec {
  typedef __m512 T;
  typedef __mmask16 Mask;
  static const int W = 16;
  /** Rows of a register tile: 8 rows × 2 vectors = 16 accumulators of the 32 zmm registers. */
  static const int MR = 8;
  static inline Mask mask(int n) { return n >= 16 ? (Mask)0xFFFF : (Mask)((1u << (n < 0 ? 0 : n)) - 1u); }
  static inline T zero() { return _mm512_setzero_ps(); }
  static inline T set1(float x) { return _mm512_set1_ps(x); }
  static inline T load(const float* p) { return _mm512_load_ps(p); }
  static inline void store(float* p, T v) { _mm512_store_ps(p, v); }
  static inline T maskLoad(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static inline void maskStore(float* p, Mask m, T v) { _mm512_mask_storeu_ps(p, m, v); }
  static inline T add(T a, T b) { return _mm512_add_ps(a, b); }
  static inline T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static inline T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
};
#elif defined(VTB_AVX2)
struct Vec {
  typedef __m256 T;
  typedef __m256i Mask;
  static const int W = 8;
  /** 6 rows × 2 vectors = 12 accumulators, 2 B vectors and a broadcast: 15 of the 16 ymm registers. */
  static const int MR = 6;
  static inline Mask mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
  }
  static inline T zero() { return _mm256_setzero_ps(); }
  static inline T set1(float x) { return _mm256_set1_ps(x); }
  static inline T load(const float* p) { return _mm256_load_ps(p); }
  static inline void store(float* p, T v) { _mm256_store_ps(p, v); }
  static inline T maskLoad(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static inline void maskStore(float* p, Mask m, T v) { _mm256_maskstore_ps(p, m, v); }
  static inline T add(T a, T b) { return _mm256_add_ps(a, b); }
  static inline T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static inline T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
};
#else
#error "define VTB_AVX512 or VTB_AVX2"
#endif

/** Columns of a packed B panel: two vectors. */
const int NR = 2 * Vec::W;

template <bool FUSED>
static inline Vec::T madd(Vec::T a, Vec::T b, Vec::T c) {
  if (FUSED) return Vec::fma(a, b, c);
  return Vec::add(c, Vec::mul(a, b));
}

/**
 * R rows × `width` (≤ NR) columns of C from kn rows of B `sb` floats apart (a packed panel: NR, aligned and
 * zero-padded; else B itself, read with masks): every element sums its kn products from +0, then adds C's old
 * value when `ac`.
 */
template <int R, bool FUSED, bool PACKED>
static void tile(const float* a, ptrdiff_t rs, ptrdiff_t cs, const float* panel, ptrdiff_t sb, int kn, float* c, ptrdiff_t ldc, int width, bool ac) {
  const Vec::Mask m0 = Vec::mask(width), m1 = Vec::mask(width - Vec::W);
  Vec::T c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) c0[r] = c1[r] = Vec::zero();
  const float* pa = a;
  const float* pb = panel;
  for (int k = 0; k < kn; k++) {
    const Vec::T b0 = PACKED ? Vec::load(pb) : Vec::maskLoad(pb, m0);
    const Vec::T b1 = PACKED ? Vec::load(pb + Vec::W) : Vec::maskLoad(pb + Vec::W, m1);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const Vec::T s = Vec::set1(pa[r * rs]);
      c0[r] = madd<FUSED>(s, b0, c0[r]);
      c1[r] = madd<FUSED>(s, b1, c1[r]);
    }
    pa += cs;
    pb += sb;
  }
  const bool second = width > Vec::W;
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    Vec::T x0 = c0[r], x1 = c1[r];
    if (ac) {
      x0 = Vec::add(x0, Vec::maskLoad(cr, m0));
      if (second) x1 = Vec::add(x1, Vec::maskLoad(cr + Vec::W, m1));
    }
    Vec::maskStore(cr, m0, x0);
    if (second) Vec::maskStore(cr + Vec::W, m1, x1);
  }
}

template <bool FUSED, bool PACKED>
static void rows(int R, const float* a, ptrdiff_t rs, ptrdiff_t cs, const float* panel, ptrdiff_t sb, int kn, float* c, ptrdiff_t ldc, int width, bool ac) {
  switch (R) {
    case 1: tile<1, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 2: tile<2, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 3: tile<3, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 4: tile<4, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 5: tile<5, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 6: tile<6, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
#if defined(VTB_AVX512)
    case 7: tile<7, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
    case 8: tile<8, FUSED, PACKED>(a, rs, cs, panel, sb, kn, c, ldc, width, ac); break;
#endif
  }
}

/** Columns [p0, p1) of C for all M rows, K > 0: one pass per K block of kBlock (≤ KC), the first adding to C only when acc, the later ones always. */
template <bool FUSED>
static void columns(const float* a, ptrdiff_t rs, ptrdiff_t cs, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, int p0, int p1, int kBlock, bool acc) {
  alignas(64) float panel[KC * NR];
  for (int k0 = 0; k0 < K;) {
    const int kn = K - k0 < kBlock ? K - k0 : kBlock;
    const bool ac = acc || k0 > 0;
    for (int n0 = p0; n0 < p1; n0 += NR) {
      const int width = p1 - n0 < NR ? p1 - n0 : NR;
      const float* src = b + (ptrdiff_t)k0 * ldb + n0;
      const float* ak = a + (ptrdiff_t)k0 * cs;
      if (M <= 2 * Vec::MR) {
        // Few rows (attention blocks, decode steps): packing would copy B for one or two tiles; read it in place.
        for (int m = 0; m < M; m += Vec::MR) {
          const int R = M - m < Vec::MR ? M - m : Vec::MR;
          rows<FUSED, false>(R, ak + m * rs, rs, cs, src, ldb, kn, c + m * ldc + n0, ldc, width, ac);
        }
        continue;
      }
      // Pack kn rows × width columns of B into a zero-padded panel (sequential loads in the tile's loop).
      const Vec::Mask m0 = Vec::mask(width), m1 = Vec::mask(width - Vec::W);
      for (int k = 0; k < kn; k++, src += ldb) {
        Vec::store(panel + k * NR, Vec::maskLoad(src, m0));
        Vec::store(panel + k * NR + Vec::W, Vec::maskLoad(src + Vec::W, m1));
      }
      for (int m = 0; m < M; m += Vec::MR) {
        const int R = M - m < Vec::MR ? M - m : Vec::MR;
        rows<FUSED, true>(R, ak + m * rs, rs, cs, panel, NR, kn, c + m * ldc + n0, ldc, width, ac);
      }
    }
    k0 += kn;
  }
}

/**
 * Column p ≥ P&~7 of C for all M rows: one sum over all K (no K blocks), fused (the wasm kernel's 4-wide tiles
 * in the fma build) or a multiply then an add (its portable tiles, and its scalar last P mod 4 columns).
 */
template <bool FUSED>
static void tailColumn(const float* a, ptrdiff_t rs, ptrdiff_t cs, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, bool acc) {
  for (int m = 0; m < M; m++) {
    const float* pa = a + m * rs;
    const float* pb = b;
    float s = 0.0f;
    for (int k = 0; k < K; k++, pa += cs, pb += ldb) {
      if (FUSED) s = __builtin_fmaf(*pa, *pb, s);
      else s = s + *pa * *pb;
    }
    float* pc = c + m * ldc;
    *pc = acc ? s + *pc : s;
  }
}

}  // namespace vtb

/** See the header comment; fused selects the fma build's multiply-add. Pointers are already bounds-checked. */
extern "C" void VTB_FN(gemm)(const float* a, ptrdiff_t rsA, ptrdiff_t csA, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, int P, int acc, int fused) {
  using namespace vtb;
  if (M <= 0) return;
  const int P8 = P & ~7, P4 = P & ~3;
  // K blocks of KC (with K = 0 the wasm loop over blocks never starts, and these columns are left as they are).
  if (K > 0 && P8 > 0) {
    if (fused) columns<true>(a, rsA, csA, b, ldb, c, ldc, M, K, 0, P8, KC, acc != 0);
    else columns<false>(a, rsA, csA, b, ldb, c, ldc, M, K, 0, P8, KC, acc != 0);
  }
  for (int p = P8; p < P; p++) {
    // Columns below P&~3 take the build's multiply-add, the last P mod 4 a separate multiply and add.
    if (fused && p < P4) tailColumn<true>(a, rsA, csA, b + p, ldb, c + p, ldc, M, K, acc != 0);
    else tailColumn<false>(a, rsA, csA, b + p, ldb, c + p, ldc, M, K, acc != 0);
  }
}
