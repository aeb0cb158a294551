// The native kernels' C interface, listed once. VTB_KERNELS(X, isa) expands X(isa, name, parameters) for every
// kernel; the kernel `name` for instruction set `isa` is the C symbol vtb_<name>_<isa>. engine.cc declares both
// instruction sets' kernels from this list and dispatches to them; gemm-avx512.cc and gemm-avx2.cc (VTB_ISA set)
// define theirs as VTB_FN(name), so a definition that does not match its declaration here does not compile.
#pragma once
#include <stddef.h>

#define VTB_KERNELS(X, isa)                                                                                                    \
  X(isa, gemm, (const float* a, ptrdiff_t rsA, ptrdiff_t csA, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, int P, int acc, int fused)) \
  X(isa, attn_fwd, (const float* q, const float* k, const float* v, float* o, float* probs, float* kt, int B, int T, int nH, int nKv, int hd, float scale, int fused)) \
  X(isa, attn_bwd, (const float* q, const float* k, const float* v, const float* probs, const float* dout, float* dq, float* dk, float* dv, float* tmp, float* vt, int B, int T, int nH, int nKv, int hd, float scale, int fused)) \
  X(isa, swiglu_fwd, (const float* g, const float* u, float* h, int n))                                                      \
  X(isa, swiglu_bwd, (const float* g, const float* u, const float* dh, float* dg, float* du, int n))                          \
  X(isa, rmsnorm_bwd, (const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int N, int D)) \
  X(isa, adamw, (float* p, const float* g, float* m, float* v, int n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2)) \
  X(isa, transpose, (const float* src, float* dst, int rows, int cols))

#define VTB_DECLARE(isa, name, params) extern "C" void vtb_##name##_##isa params;
VTB_KERNELS(VTB_DECLARE, avx512)
VTB_KERNELS(VTB_DECLARE, avx2)
#undef VTB_DECLARE

// The symbol of kernel `name` for the instruction set a gemm-*.cc compiles (VTB_ISA: avx512 or avx2).
#define VTB_CAT_(a, b) a##b
#define VTB_CAT(a, b) VTB_CAT_(a, b)
#define VTB_FN(name) VTB_CAT(vtb_##name##_, VTB_ISA)
