// Vector helpers shared by the kernels: a 4-lane exp (Cephes expf: Cody–Waite reduction and a degree-6
// polynomial, about 1 ulp; inputs clamped to [−87, 88] so the result never overflows to Inf or underflows to a
// denormal) and horizontal sums. Deterministic: plain IEEE operations in a fixed order.

// The exp constants live in a static table and are broadcast from memory (one vbroadcastss each): V8 does not
// hoist v128.const out of loops and rebuilds each one with several instructions on every use.
const EXPK = memory.data<f32>([
  -87.0, 88.0, 1.44269504088896341, 0.693359375, -2.12194440e-4,
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
  1.0, 12582912.0,
]);

// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(EXPK + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, k(0)), k(1));
  // Round to nearest even by adding and removing 1.5·2²³ (exact for |x·log2e| < 2²²: the same n as
  // f32x4.nearest); the integer n then sits in the low mantissa bits of t, which saves a float→int conversion.
  const t = f32x4.add(f32x4.mul(xc, k(2)), k(12));
  const n = f32x4.sub(t, k(12));
  let r = f32x4.sub(xc, f32x4.mul(n, k(3)));
  r = f32x4.sub(r, f32x4.mul(n, k(4)));
  // Estrin's scheme: three independent pairs, then two steps in r², half the dependency chain of Horner's
  // rule (the exp is latency-bound: one long chain per vector).
  const r2 = f32x4.mul(r, r);
  const pa = f32x4.add(f32x4.mul(k(5), r), k(6));
  const pb = f32x4.add(f32x4.mul(k(7), r), k(8));
  const pc = f32x4.add(f32x4.mul(k(9), r), k(10));
  let p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(pa, r2), pb), r2), pc);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), k(11));
  // bits(t) = 0x4B400000 + n, so (bits(t) − 0x4B400000 + 127) << 23 is the float 2ⁿ.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4B400000)), 23);
  return f32x4.mul(p, scale);
}

/** Scalar exp through the same polynomial, so vector bodies and scalar tails agree. */
// @ts-ignore: decorator
@inline export function exps(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/**
 * c + a·b per lane. The portable build (build/engine.wasm) rounds the product and the sum separately, the
 * same on every host; the relaxed-SIMD build (build/engine-fma.wasm) lets the host fuse them (one rounding),
 * which doubles the multiply-add rate on x64 with FMA3 and on ARM, but makes the last bit host-dependent.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** [Σa0, Σa1, Σa2, Σa3]: four horizontal sums at once. */
// @ts-ignore: decorator
@inline export function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 1, 4, 5), v128.shuffle<f32>(a0, a1, 2, 3, 6, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 1, 4, 5), v128.shuffle<f32>(a2, a3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 2, 4, 6), v128.shuffle<f32>(s01, s23, 1, 3, 5, 7));
}
