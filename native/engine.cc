// vtune-bench's optional native kernels (Node-API): the engine's GEMM, training attention, SwiGLU, RMSNorm
// backward, AdamW and transpose on AVX-512 or AVX2 vectors, computing every element with the same floating-point
// operations in the same order as the WebAssembly kernels (gemm-impl.h, attention-impl.h, ops-impl.h), directly
// on the engine's shared WebAssembly memory. Built by scripts/build-native.mjs; loaded and chosen by
// src/engine/native.ts, which falls back to the WebAssembly kernels whenever this module is missing or the CPU
// lacks the instructions. Context-aware (no mutable global state): every worker thread may load it.
//
// Every kernel is one row of kKernels below and one Node-API function, Call: its arguments are (isa, fused,
// base, byteLength, ...), the rest as the WebAssembly kernel takes them (byte addresses, sizes and strides as
// int32, then its float parameters). Call reads them, checks the instruction set, the shape and that every
// operand lies inside the memory (a RangeError naming the operand, as the wasm kernel would trap), then runs the
// kernel of that instruction set (kernels.h).
#include <node_api.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

namespace {

enum Isa { kNone = 0, kAvx2 = 1, kAvx512 = 2 };

/** The widest instruction set this CPU (and OS: __builtin_cpu_supports checks the saved register state) runs. */
int bestIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
  return kNone;
}

/** bestIsa, asked once per process (the CPU does not change). */
int cpuIsa() {
  static const int isa = bestIsa();
  return isa;
}

/** One instruction set's kernels (kernels.h), by kernel. */
struct Impl {
#define VTB_MEMBER(isa, name, params) void(*name) params;
  VTB_KERNELS(VTB_MEMBER, none)
#undef VTB_MEMBER
};
#define VTB_ADDRESS(isa, name, params) vtb_##name##_##isa,
/** Indexed by Isa (kNone has none: Call refuses it). */
const Impl kImpls[] = {{}, {VTB_KERNELS(VTB_ADDRESS, avx2)}, {VTB_KERNELS(VTB_ADDRESS, avx512)}};
#undef VTB_ADDRESS

const int kMaxInts = 16, kMaxNumbers = 8;

/** A call's arguments after (isa, fused, base, byteLength): its int32 ones, then its numbers. */
struct Args {
  uint8_t* mem;
  int fused;
  int32_t i[kMaxInts];
  double d[kMaxNumbers];
  /** Int argument k as a byte address in the memory (addresses are unsigned 32-bit, as in WebAssembly). */
  float* p(int k) const { return (float*)(mem + (uint32_t)i[k]); }
};

/** A kernel as JavaScript calls it. */
struct Kernel {
  const char* name;
  /** Its arguments after (isa, fused, base, byteLength), comma-separated: `ints` int32 ones, then `numbers` numbers. */
  const char* args;
  int ints, numbers;
  /**
   * Checks the shape (a message saying what it must be, or nullptr) and sets floats[k] to the extent in floats of
   * each int argument k that is an operand (a byte address), from the first byte it touches; 0 (the default)
   * for any other argument and for an operand the call does not touch (nothing to check).
   */
  const char* (*extents)(const int32_t* v, int64_t* floats);
  void (*run)(const Impl& f, const Args& a);
};

/** The training attention's shape (B, T, nH, nKv, hd) and its operands' extents in floats, or why it is bad. */
struct AttnShape {
  /** A query-sized operand (q, o, dout, dq), a key-sized one (k, v, dk, dv), probs, kt or vt (hd × T), tmp (T × T). */
  int64_t q, kv, probs, t, tt;
  const char* bad;
};
AttnShape attnShape(const int32_t* s) {
  const int64_t B = s[0], T = s[1], nH = s[2], nKv = s[3], hd = s[4];
  if (B < 0 || T < 0 || nH <= 0 || nKv <= 0 || hd <= 0 || nH % nKv != 0) return {0, 0, 0, 0, 0, "B and T must be >= 0, nH, nKv and hd > 0, and nH a multiple of nKv"};
  return {B * T * nH * hd, B * T * nKv * hd, B * nH * T * T, hd * T, T * T, nullptr};
}

const Kernel kKernels[] = {
    {"gemm", "a, rsA, csA, b, ldb, c, ldc, M, K, P, acc", 11, 0,
     [](const int32_t* v, int64_t* n) -> const char* {
       const int64_t rsA = v[1], csA = v[2], ldb = v[4], ldc = v[6], M = v[7], K = v[8], P = v[9];
       if (M < 0 || K < 0 || P < 0 || rsA < 0 || csA < 0 || ldb < 0 || ldc < 0) return "sizes M, K, P and strides rsA, csA, ldb, ldc must be >= 0";
       // Nothing is touched without rows or columns of C; K = 0 reads nothing of A and B.
       if (M == 0 || P == 0) return nullptr;
       if (K > 0) {
         n[0] = (M - 1) * rsA + (K - 1) * csA + 1;
         n[3] = (K - 1) * ldb + P;
       }
       n[5] = (M - 1) * ldc + P;
       return nullptr;
     },
     [](const Impl& f, const Args& a) { f.gemm(a.p(0), a.i[1], a.i[2], a.p(3), a.i[4], a.p(5), a.i[6], a.i[7], a.i[8], a.i[9], a.i[10], a.fused); }},
    {"attnFwd", "q, k, v, o, probs, kt, B, T, nH, nKv, hd, scale", 11, 1,
     [](const int32_t* v, int64_t* n) -> const char* {
       const AttnShape a = attnShape(v + 6);
       const int64_t floats[6] = {a.q, a.kv, a.kv, a.q, a.probs, a.t};
       memcpy(n, floats, sizeof floats);
       return a.bad;
     },
     [](const Impl& f, const Args& a) { f.attn_fwd(a.p(0), a.p(1), a.p(2), a.p(3), a.p(4), a.p(5), a.i[6], a.i[7], a.i[8], a.i[9], a.i[10], (float)a.d[0], a.fused); }},
    {"attnBwd", "q, k, v, probs, dout, dq, dk, dv, tmp, vt, B, T, nH, nKv, hd, scale", 15, 1,
     [](const int32_t* v, int64_t* n) -> const char* {
       const AttnShape a = attnShape(v + 10);
       const int64_t floats[10] = {a.q, a.kv, a.kv, a.probs, a.q, a.q, a.kv, a.kv, a.tt, a.t};
       memcpy(n, floats, sizeof floats);
       return a.bad;
     },
     [](const Impl& f, const Args& a) {
       f.attn_bwd(a.p(0), a.p(1), a.p(2), a.p(3), a.p(4), a.p(5), a.p(6), a.p(7), a.p(8), a.p(9), a.i[10], a.i[11], a.i[12], a.i[13], a.i[14], (float)a.d[0], a.fused);
     }},
    {"swigluFwd", "g, u, h, n", 4, 0,
     [](const int32_t* v, int64_t* n) -> const char* {
       if (v[3] < 0) return "n must be >= 0";
       n[0] = n[1] = n[2] = v[3];
       return nullptr;
     },
     [](const Impl& f, const Args& a) { f.swiglu_fwd(a.p(0), a.p(1), a.p(2), a.i[3]); }},
    {"swigluBwd", "g, u, dh, dg, du, n", 6, 0,
     [](const int32_t* v, int64_t* n) -> const char* {
       if (v[5] < 0) return "n must be >= 0";
       n[0] = n[1] = n[2] = n[3] = n[4] = v[5];
       return nullptr;
     },
     [](const Impl& f, const Args& a) { f.swiglu_bwd(a.p(0), a.p(1), a.p(2), a.p(3), a.p(4), a.i[5]); }},
    // dw 0: no weight gradient.
    {"rmsnormBwd", "x, w, rstd, dy, dx, dw, N, D", 8, 0,
     [](const int32_t* v, int64_t* n) -> const char* {
       const int64_t N = v[6], D = v[7];
       if (N < 0 || D < 0) return "N and D must be >= 0";
       const int64_t floats[6] = {N * D, D, N, N * D, N * D, v[5] ? D : 0};
       memcpy(n, floats, sizeof floats);
       return nullptr;
     },
     [](const Impl& f, const Args& a) { f.rmsnorm_bwd(a.p(0), a.p(1), a.p(2), a.p(3), a.p(4), a.i[5] ? a.p(5) : nullptr, a.i[6], a.i[7]); }},
    // The numbers rounded to float, as wasm's f32 parameters.
    {"adamw", "p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2", 5, 7,
     [](const int32_t* v, int64_t* n) -> const char* {
       if (v[4] < 0) return "n must be >= 0";
       n[0] = n[1] = n[2] = n[3] = v[4];
       return nullptr;
     },
     [](const Impl& f, const Args& a) {
       const double* h = a.d;
       f.adamw(a.p(0), a.p(1), a.p(2), a.p(3), a.i[4], (float)h[0], (float)h[1], (float)h[2], (float)h[3], (float)h[4], (float)h[5], (float)h[6]);
     }},
    {"transpose", "src, dst, rows, cols", 4, 0,
     [](const int32_t* v, int64_t* n) -> const char* {
       if (v[2] < 0 || v[3] < 0) return "rows and cols must be >= 0";
       n[0] = n[1] = (int64_t)v[2] * v[3];
       return nullptr;
     },
     [](const Impl& f, const Args& a) { f.transpose(a.p(0), a.p(1), a.i[2], a.i[3]); }},
};

const size_t kHead = 4;  // isa, fused, base, byteLength
const size_t kMaxArgs = kHead + kMaxInts + kMaxNumbers;

/** Argument k (0-based, after the head) of `args`, into `out`. */
void argName(const char* args, int k, char* out, size_t size) {
  for (; k > 0 && args; k--) args = strchr(args, ',') ? strchr(args, ',') + 2 : nullptr;
  const size_t n = args ? strcspn(args, ",") : 0;
  snprintf(out, size, "%.*s", (int)n, args ? args : "?");
}

/** Throws a RangeError (range) or TypeError with `kernel: ` and the formatted message; returns nullptr. */
napi_value fail(napi_env env, bool range, const Kernel& k, const char* format, ...) __attribute__((format(printf, 4, 5)));
napi_value fail(napi_env env, bool range, const Kernel& k, const char* format, ...) {
  char message[512];
  int at = snprintf(message, sizeof message, "%s: ", k.name);
  va_list list;
  va_start(list, format);
  vsnprintf(message + at, sizeof message - at, format, list);
  va_end(list);
  if (range) napi_throw_range_error(env, nullptr, message);
  else napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

/** Every kernel: (isa, fused, base, byteLength, ...the kernel's arguments); the Kernel row is the function's data. */
napi_value Call(napi_env env, napi_callback_info info) {
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  const Kernel& k = *(const Kernel*)data;
  const size_t want = kHead + k.ints + k.numbers;
  if (argc != want) return fail(env, false, k, "expected %zu arguments (isa, fused, base, byteLength, %s), got %zu", want, k.args, argc);
  int32_t isa = 0, fused = 0;
  double base = 0, length = 0;
  if (napi_get_value_int32(env, argv[0], &isa) != napi_ok || napi_get_value_int32(env, argv[1], &fused) != napi_ok ||
      napi_get_value_double(env, argv[2], &base) != napi_ok || napi_get_value_double(env, argv[3], &length) != napi_ok) {
    return fail(env, false, k, "isa, fused, base and byteLength must be numbers");
  }
  Args a;
  a.mem = (uint8_t*)(uintptr_t)base;
  a.fused = fused;
  char name[32];
  for (int j = 0; j < k.ints + k.numbers; j++) {
    const bool isInt = j < k.ints;
    if ((isInt ? napi_get_value_int32(env, argv[kHead + j], &a.i[j]) : napi_get_value_double(env, argv[kHead + j], &a.d[j - k.ints])) != napi_ok) {
      argName(k.args, j, name, sizeof name);
      return fail(env, false, k, "argument %s must be a number", name);
    }
  }
  if ((isa != kAvx512 && isa != kAvx2) || isa > cpuIsa()) return fail(env, true, k, "this CPU cannot run instruction set %d (it runs up to %d)", isa, cpuIsa());
  int64_t floats[kMaxInts] = {};
  if (const char* shape = k.extents(a.i, floats)) return fail(env, true, k, "bad shape: %s", shape);
  const int64_t limit = (int64_t)length;
  for (int j = 0; j < k.ints; j++) {
    if (floats[j] <= 0) continue;
    const int64_t p = (uint32_t)a.i[j];
    if ((p & 3) == 0 && p + 4 * floats[j] <= limit) continue;
    argName(k.args, j, name, sizeof name);
    if (p & 3) return fail(env, true, k, "operand %s (byte %lld) is not 4-byte aligned", name, (long long)p);
    return fail(env, true, k, "operand %s (%lld floats at byte %lld) lies outside the memory (%lld bytes)", name, (long long)floats[j], (long long)p, (long long)limit);
  }
  k.run(kImpls[isa], a);
  return nullptr;
}

/** Byte address of element 0 of a typed array's buffer (an ArrayBuffer or the memory's SharedArrayBuffer), as a Number. */
napi_value MemoryAddress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is = false;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 || napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, &offset) != napi_ok) {
    napi_throw_type_error(env, nullptr, "memoryAddress(view): expected a typed array");
    return nullptr;
  }
  napi_value out;
  napi_create_double(env, (double)((uintptr_t)data - offset), &out);
  return out;
}

/**
 * The interface version: src/engine/native.ts NATIVE_ABI must equal it (an addon built from older sources, which
 * may lack kernels, take other arguments or compute differently, is then not used). Bump it with any such change.
 * 2: every kernel takes (isa, fused, base, byteLength) first, then the WebAssembly kernel's arguments.
 */
const int kAbi = 2;

/** { isa: 2 (AVX-512) | 1 (AVX2 and FMA) | 0 (neither: call no kernel), abi }. */
napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, isa, abi;
  napi_create_object(env, &out);
  napi_create_int32(env, cpuIsa(), &isa);
  napi_create_int32(env, kAbi, &abi);
  napi_set_named_property(env, out, "isa", isa);
  napi_set_named_property(env, out, "abi", abi);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  const size_t nKernels = sizeof kKernels / sizeof kKernels[0];
  napi_property_descriptor props[nKernels + 2] = {
      {"memoryAddress", nullptr, MemoryAddress, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  for (size_t i = 0; i < nKernels; i++) props[2 + i] = {kKernels[i].name, nullptr, Call, nullptr, nullptr, nullptr, napi_default, (void*)&kKernels[i]};
  napi_define_properties(env, exports, nKernels + 2, props);
  return exports;
}
