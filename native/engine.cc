// vtune-bench's optional native kernels (Node-API): the engine's GEMM, training attention, SwiGLU, RMSNorm
// backward, AdamW and transpose on AVX-512 or AVX2 vectors, computing every element with the same floating-point operations in the same order as the
// WebAssembly kernels (gemm-impl.h, attention-impl.h, ops-impl.h), directly on the engine's shared WebAssembly memory. Built by scripts/build-native.mjs; loaded
// and chosen by src/engine/native.ts, which falls back to the WebAssembly kernels whenever this module is
// missing or the CPU lacks the instructions. Context-aware (no mutable global state): every worker thread may
// load it.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern "C" void vtb_gemm_avx512(const float* a, ptrdiff_t rsA, ptrdiff_t csA, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, int P, int acc, int fused);
extern "C" void vtb_gemm_avx2(const float* a, ptrdiff_t rsA, ptrdiff_t csA, const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int M, int K, int P, int acc, int fused);
extern "C" void vtb_attn_fwd_avx512(const float* q, const float* k, const float* v, float* o, float* probs, float* kt, int B, int T, int nH, int nKv, int hd, float scale, int fused);
extern "C" void vtb_attn_fwd_avx2(const float* q, const float* k, const float* v, float* o, float* probs, float* kt, int B, int T, int nH, int nKv, int hd, float scale, int fused);
extern "C" void vtb_attn_bwd_avx512(const float* q, const float* k, const float* v, const float* probs, const float* dout, float* dq, float* dk, float* dv, float* tmp, float* vt, int B, int T, int nH, int nKv, int hd, float scale, int fused);
extern "C" void vtb_swiglu_fwd_avx512(const float* g, const float* u, float* h, int n);
extern "C" void vtb_swiglu_fwd_avx2(const float* g, const float* u, float* h, int n);
extern "C" void vtb_swiglu_bwd_avx512(const float* g, const float* u, const float* dh, float* dg, float* du, int n);
extern "C" void vtb_swiglu_bwd_avx2(const float* g, const float* u, const float* dh, float* dg, float* du, int n);
extern "C" void vtb_rmsnorm_bwd_avx512(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int N, int D);
extern "C" void vtb_rmsnorm_bwd_avx2(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int N, int D);
extern "C" void vtb_adamw_avx512(float* p, const float* g, float* m, float* v, int n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2);
extern "C" void vtb_adamw_avx2(float* p, const float* g, float* m, float* v, int n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2);
extern "C" void vtb_transpose_avx512(const float* src, float* dst, int rows, int cols);
extern "C" void vtb_transpose_avx2(const float* src, float* dst, int rows, int cols);
extern "C" void vtb_attn_bwd_avx2(const float* q, const float* k, const float* v, const float* probs, const float* dout, float* dq, float* dk, float* dv, float* tmp, float* vt, int B, int T, int nH, int nKv, int hd, float scale, int fused);

namespace {

enum Isa { kNone = 0, kAvx2 = 1, kAvx512 = 2 };

/** The widest instruction set this CPU (and OS: __builtin_cpu_supports checks the saved register state) runs. */
int bestIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
  return kNone;
}

napi_value throwError(napi_env env, const char* code, const char* message) {
  if (strcmp(code, "range") == 0) napi_throw_range_error(env, nullptr, message);
  else napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

/** Byte address of element 0 of a typed array's buffer (an ArrayBuffer or the memory's SharedArrayBuffer), as a Number. */
napi_value MemoryAddress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1) return throwError(env, "type", "memoryAddress(view): expected a typed array");
  bool is = false;
  napi_is_typedarray(env, argv[0], &is);
  if (!is) return throwError(env, "type", "memoryAddress(view): expected a typed array");
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, &offset) != napi_ok) return throwError(env, "type", "memoryAddress(view): cannot read the typed array");
  napi_value out;
  napi_create_double(env, (double)((uintptr_t)data - offset), &out);
  return out;
}

/**
 * gemm(isa, base, byteLength, a, rsA, csA, b, ldb, c, ldc, M, K, P, acc, fused): the wasm kernel's gemm (byte
 * addresses a, b, c and leading dimensions in floats, as gemm.ts takes them) on the memory at `base`. Every
 * operand's extent is checked against byteLength (a RangeError, as the wasm kernel would trap).
 */
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 15) return throwError(env, "type", "gemm: expected 15 arguments");
  double base = 0, len = 0;
  int32_t v[13];
  if (napi_get_value_double(env, argv[1], &base) != napi_ok || napi_get_value_double(env, argv[2], &len) != napi_ok) return throwError(env, "type", "gemm: base and byteLength must be numbers");
  if (napi_get_value_int32(env, argv[0], &v[0]) != napi_ok) return throwError(env, "type", "gemm: isa must be a number");
  for (int i = 3; i < 15; i++) {
    if (napi_get_value_int32(env, argv[i], &v[i - 2]) != napi_ok) return throwError(env, "type", "gemm: expected integer arguments");
  }
  const int isa = v[0];
  const int64_t a = (uint32_t)v[1], rsA = v[2], csA = v[3], b = (uint32_t)v[4], ldb = v[5], c = (uint32_t)v[6], ldc = v[7];
  const int M = v[8], K = v[9], P = v[10], acc = v[11], fused = v[12];
  if (M < 0 || K < 0 || P < 0 || rsA < 0 || csA < 0 || ldb < 0 || ldc < 0) return throwError(env, "range", "gemm: negative size or stride");
  if (isa != kAvx512 && isa != kAvx2) return throwError(env, "range", "gemm: unknown instruction set");
  if (isa > bestIsa()) return throwError(env, "range", "gemm: this CPU cannot run the requested instruction set");
  const int64_t limit = (int64_t)len;
  if (M > 0 && P > 0) {
    // The last byte each operand touches (K = 0 reads nothing of A and B).
    const int64_t endC = c + 4 * ((int64_t)(M - 1) * ldc + P);
    const int64_t endA = K > 0 ? a + 4 * ((int64_t)(M - 1) * rsA + (int64_t)(K - 1) * csA + 1) : 0;
    const int64_t endB = K > 0 ? b + 4 * ((int64_t)(K - 1) * ldb + P) : 0;
    if (endC > limit || endA > limit || endB > limit || (a & 3) || (b & 3) || (c & 3)) return throwError(env, "range", "gemm: an operand lies outside the memory");
  }
  uint8_t* mem = (uint8_t*)(uintptr_t)base;
  const float* pa = (const float*)(mem + a);
  const float* pb = (const float*)(mem + b);
  float* pc = (float*)(mem + c);
  if (isa == kAvx512) vtb_gemm_avx512(pa, rsA, csA, pb, ldb, pc, ldc, M, K, P, acc, fused);
  else vtb_gemm_avx2(pa, rsA, csA, pb, ldb, pc, ldc, M, K, P, acc, fused);
  return nullptr;
}

/** Reads isa, base and byteLength (arguments 0–2) and `n` int32 arguments after them; false (an exception pending) on a bad one. */
bool readArgs(napi_env env, napi_callback_info info, size_t n, int32_t* isa, uint8_t** mem, int64_t* limit, int32_t* out, double* extra, const char* name, size_t nExtra = 1) {
  napi_value argv[32];
  size_t argc = 32;
  const size_t want = 3 + n + (extra ? nExtra : 0);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != want) {
    throwError(env, "type", name);
    return false;
  }
  double base = 0, len = 0;
  if (napi_get_value_int32(env, argv[0], isa) != napi_ok || napi_get_value_double(env, argv[1], &base) != napi_ok || napi_get_value_double(env, argv[2], &len) != napi_ok) {
    throwError(env, "type", name);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (napi_get_value_int32(env, argv[3 + i], &out[i]) != napi_ok) {
      throwError(env, "type", name);
      return false;
    }
  }
  for (size_t i = 0; extra && i < nExtra; i++) {
    if (napi_get_value_double(env, argv[3 + n + i], &extra[i]) != napi_ok) {
      throwError(env, "type", name);
      return false;
    }
  }
  if ((*isa != kAvx512 && *isa != kAvx2) || *isa > bestIsa()) {
    throwError(env, "range", "native kernels: this CPU cannot run the requested instruction set");
    return false;
  }
  *mem = (uint8_t*)(uintptr_t)base;
  *limit = (int64_t)len;
  return true;
}

/** Whether `floats` floats at byte address p lie inside the memory (and p is 4-aligned). */
bool inside(int64_t p, int64_t floats, int64_t limit) {
  return p >= 0 && (p & 3) == 0 && floats >= 0 && p + 4 * floats <= limit;
}

/**
 * attnFwd(isa, base, byteLength, q, k, v, o, probs, kt, B, T, nH, nKv, hd, fused, scale): attention.ts attnFwd
 * on the memory at `base` (byte addresses), with the build's multiply-add in its GEMMs (`fused`).
 */
napi_value AttnFwd(napi_env env, napi_callback_info info) {
  int32_t isa, v[12];
  uint8_t* mem;
  int64_t limit;
  double scale;
  if (!readArgs(env, info, 12, &isa, &mem, &limit, v, &scale, "attnFwd: expected (isa, base, byteLength, q, k, v, o, probs, kt, B, T, nH, nKv, hd, fused, scale)")) return nullptr;
  const int64_t q = (uint32_t)v[0], k = (uint32_t)v[1], vv = (uint32_t)v[2], o = (uint32_t)v[3], probs = (uint32_t)v[4], kt = (uint32_t)v[5];
  const int64_t B = v[6], T = v[7], nH = v[8], nKv = v[9], hd = v[10];
  if (B < 0 || T < 0 || nH <= 0 || nKv <= 0 || hd <= 0 || nH % nKv != 0) return throwError(env, "range", "attnFwd: bad shape");
  const int64_t rows = B * T;
  if (!inside(q, rows * nH * hd, limit) || !inside(k, rows * nKv * hd, limit) || !inside(vv, rows * nKv * hd, limit) || !inside(o, rows * nH * hd, limit) ||
      !inside(probs, B * nH * T * T, limit) || !inside(kt, hd * T, limit)) return throwError(env, "range", "attnFwd: an operand lies outside the memory");
  auto f = [&](int64_t p) { return (float*)(mem + p); };
  (isa == kAvx512 ? vtb_attn_fwd_avx512 : vtb_attn_fwd_avx2)(f(q), f(k), f(vv), f(o), f(probs), f(kt), (int)B, (int)T, (int)nH, (int)nKv, (int)hd, (float)scale, v[11]);
  return nullptr;
}

/** attnBwd(isa, base, byteLength, q, k, v, probs, dout, dq, dk, dv, tmp, vt, B, T, nH, nKv, hd, fused, scale): attention.ts attnBwd. */
napi_value AttnBwd(napi_env env, napi_callback_info info) {
  int32_t isa, v[16];
  uint8_t* mem;
  int64_t limit;
  double scale;
  if (!readArgs(env, info, 16, &isa, &mem, &limit, v, &scale, "attnBwd: expected (isa, base, byteLength, q, k, v, probs, dout, dq, dk, dv, tmp, vt, B, T, nH, nKv, hd, fused, scale)")) return nullptr;
  int64_t p[10];
  for (int i = 0; i < 10; i++) p[i] = (uint32_t)v[i];
  const int64_t B = v[10], T = v[11], nH = v[12], nKv = v[13], hd = v[14];
  if (B < 0 || T < 0 || nH <= 0 || nKv <= 0 || hd <= 0 || nH % nKv != 0) return throwError(env, "range", "attnBwd: bad shape");
  const int64_t rows = B * T, qf = rows * nH * hd, kvf = rows * nKv * hd;
  const int64_t floats[10] = {qf, kvf, kvf, B * nH * T * T, qf, qf, kvf, kvf, T * T, hd * T};
  for (int i = 0; i < 10; i++) {
    if (!inside(p[i], floats[i], limit)) return throwError(env, "range", "attnBwd: an operand lies outside the memory");
  }
  auto f = [&](int64_t x) { return (float*)(mem + x); };
  (isa == kAvx512 ? vtb_attn_bwd_avx512 : vtb_attn_bwd_avx2)(f(p[0]), f(p[1]), f(p[2]), f(p[3]), f(p[4]), f(p[5]), f(p[6]), f(p[7]), f(p[8]), f(p[9]), (int)B, (int)T, (int)nH, (int)nKv, (int)hd, (float)scale, v[15]);
  return nullptr;
}

/** swigluFwd(isa, base, byteLength, g, u, h, n): ops.ts swigluFwd. */
napi_value SwigluFwd(napi_env env, napi_callback_info info) {
  int32_t isa, v[4];
  uint8_t* mem;
  int64_t limit;
  if (!readArgs(env, info, 4, &isa, &mem, &limit, v, nullptr, "swigluFwd: expected (isa, base, byteLength, g, u, h, n)")) return nullptr;
  const int64_t n = v[3];
  for (int i = 0; i < 3; i++) {
    if (!inside((uint32_t)v[i], n, limit)) return throwError(env, "range", "swigluFwd: an operand lies outside the memory");
  }
  auto f = [&](int32_t x) { return (float*)(mem + (uint32_t)x); };
  (isa == kAvx512 ? vtb_swiglu_fwd_avx512 : vtb_swiglu_fwd_avx2)(f(v[0]), f(v[1]), f(v[2]), (int)n);
  return nullptr;
}

/** swigluBwd(isa, base, byteLength, g, u, dh, dg, du, n): ops.ts swigluBwd. */
napi_value SwigluBwd(napi_env env, napi_callback_info info) {
  int32_t isa, v[6];
  uint8_t* mem;
  int64_t limit;
  if (!readArgs(env, info, 6, &isa, &mem, &limit, v, nullptr, "swigluBwd: expected (isa, base, byteLength, g, u, dh, dg, du, n)")) return nullptr;
  const int64_t n = v[5];
  for (int i = 0; i < 5; i++) {
    if (!inside((uint32_t)v[i], n, limit)) return throwError(env, "range", "swigluBwd: an operand lies outside the memory");
  }
  auto f = [&](int32_t x) { return (float*)(mem + (uint32_t)x); };
  (isa == kAvx512 ? vtb_swiglu_bwd_avx512 : vtb_swiglu_bwd_avx2)(f(v[0]), f(v[1]), f(v[2]), f(v[3]), f(v[4]), (int)n);
  return nullptr;
}

/** rmsnormBwd(isa, base, byteLength, x, w, rstd, dy, dx, dw, N, D): ops.ts rmsnormBwd (dw 0: no weight gradient). */
napi_value RmsnormBwd(napi_env env, napi_callback_info info) {
  int32_t isa, v[8];
  uint8_t* mem;
  int64_t limit;
  if (!readArgs(env, info, 8, &isa, &mem, &limit, v, nullptr, "rmsnormBwd: expected (isa, base, byteLength, x, w, rstd, dy, dx, dw, N, D)")) return nullptr;
  const int64_t N = v[6], D = v[7];
  if (N < 0 || D < 0) return throwError(env, "range", "rmsnormBwd: bad shape");
  const int64_t floats[6] = {N * D, D, N, N * D, N * D, D};
  for (int i = 0; i < 6; i++) {
    if (i == 5 && v[5] == 0) continue;
    if (!inside((uint32_t)v[i], floats[i], limit)) return throwError(env, "range", "rmsnormBwd: an operand lies outside the memory");
  }
  auto f = [&](int32_t x) { return (float*)(mem + (uint32_t)x); };
  (isa == kAvx512 ? vtb_rmsnorm_bwd_avx512 : vtb_rmsnorm_bwd_avx2)(f(v[0]), f(v[1]), f(v[2]), f(v[3]), f(v[4]), v[5] ? f(v[5]) : nullptr, (int)N, (int)D);
  return nullptr;
}

/** adamw(isa, base, byteLength, p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2): ops.ts adamw (the numbers rounded to float as wasm's f32 parameters). */
napi_value Adamw(napi_env env, napi_callback_info info) {
  int32_t isa, v[5];
  uint8_t* mem;
  int64_t limit;
  double h[7];
  if (!readArgs(env, info, 5, &isa, &mem, &limit, v, h, "adamw: expected (isa, base, byteLength, p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2)", 7)) return nullptr;
  const int64_t n = v[4];
  for (int i = 0; i < 4; i++) {
    if (!inside((uint32_t)v[i], n, limit)) return throwError(env, "range", "adamw: an operand lies outside the memory");
  }
  auto f = [&](int32_t x) { return (float*)(mem + (uint32_t)x); };
  (isa == kAvx512 ? vtb_adamw_avx512 : vtb_adamw_avx2)(f(v[0]), f(v[1]), f(v[2]), f(v[3]), (int)n, (float)h[0], (float)h[1], (float)h[2], (float)h[3], (float)h[4], (float)h[5], (float)h[6]);
  return nullptr;
}

/** transpose(isa, base, byteLength, src, dst, rows, cols): gemm.ts transpose. */
napi_value Transpose(napi_env env, napi_callback_info info) {
  int32_t isa, v[4];
  uint8_t* mem;
  int64_t limit;
  if (!readArgs(env, info, 4, &isa, &mem, &limit, v, nullptr, "transpose: expected (isa, base, byteLength, src, dst, rows, cols)")) return nullptr;
  const int64_t n = (int64_t)v[2] * v[3];
  if (v[2] < 0 || v[3] < 0) return throwError(env, "range", "transpose: bad shape");
  if (!inside((uint32_t)v[0], n, limit) || !inside((uint32_t)v[1], n, limit)) return throwError(env, "range", "transpose: an operand lies outside the memory");
  auto f = [&](int32_t x) { return (float*)(mem + (uint32_t)x); };
  (isa == kAvx512 ? vtb_transpose_avx512 : vtb_transpose_avx2)(f(v[0]), f(v[1]), v[2], v[3]);
  return nullptr;
}

/**
 * The interface version: src/engine/native.ts NATIVE_ABI must equal it (an addon built from older sources, which
 * may lack kernels or compute them differently, is then not used). Bump it with any change of the kernels.
 */
const int kAbi = 1;

/** { isa: 2 (AVX-512) | 1 (AVX2 and FMA) | 0 (neither: call no kernel), abi }. */
napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, isa, abi;
  napi_create_object(env, &out);
  napi_create_int32(env, bestIsa(), &isa);
  napi_create_int32(env, kAbi, &abi);
  napi_set_named_property(env, out, "isa", isa);
  napi_set_named_property(env, out, "abi", abi);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"memoryAddress", nullptr, MemoryAddress, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attnFwd", nullptr, AttnFwd, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"attnBwd", nullptr, AttnBwd, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"swigluFwd", nullptr, SwigluFwd, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"swigluBwd", nullptr, SwigluBwd, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"rmsnormBwd", nullptr, RmsnormBwd, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"adamw", nullptr, Adamw, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
