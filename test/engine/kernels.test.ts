// The WASM GEMM against a float64 loop on shapes that hit every path: 4×8 tiles, row blocks, row and column tails
// (4-wide and scalar), K longer than one cache block (accumulating K blocks), strided (transposed) A, acc.
// Plus the vector exp used by softmax, SwiGLU and the cross-entropy.
// These check the WebAssembly kernels themselves: the native path (src/engine/native.ts) is off here, and
// test/engine/native.test.ts compares it with them bit for bit.
process.env.VTUNE_ENGINE_NATIVE = 'off';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/engine/kernels.js';
import { Rng } from '../../src/rng.js';

describe('WASM kernels', () => {
  const a = new Arena();
  const rng = new Rng('kernels-test');
  const fill = (ptr: number, n: number) => {
    const v = a.f32(ptr, n);
    for (let i = 0; i < n; i++) v[i] = rng.float() * 2 - 1;
    return v.slice();
  };

  for (const [M, K, P] of [[7, 600, 13], [9, 5, 8], [1, 300, 21], [12, 64, 172], [301, 270, 20]] as const) {
    for (const transposedA of [false, true]) {
      it(`gemm M${M} K${K} P${P}${transposedA ? ' with Aᵀ' : ''}, overwrite and accumulate`, () => {
        const mark = a.mark();
        const pa = a.alloc(M * K), pb = a.alloc(K * P), pc = a.alloc(M * P);
        const A = fill(pa, M * K), Bm = fill(pb, K * P), C0 = fill(pc, M * P);
        // A(m,k) at m·rsA + k·csA: row-major [M][K], or stored as [K][M] (a transposed operand).
        const [rsA, csA] = transposedA ? [1, M] : [K, 1];
        const at = (m: number, k: number) => A[m * rsA + k * csA]!;
        for (const acc of [1, 0]) {
          a.f32(pc, M * P).set(C0);
          a.k.gemm(pa, rsA, csA, pb, P, pc, P, M, K, P, acc);
          const C = a.f32(pc, M * P);
          let worst = 0;
          for (let m = 0; m < M; m++) {
            for (let p = 0; p < P; p++) {
              let s = acc ? C0[m * P + p]! : 0;
              for (let k = 0; k < K; k++) s += at(m, k) * Bm[k * P + p]!;
              worst = Math.max(worst, Math.abs(C[m * P + p]! - s));
            }
          }
          expect(worst).toBeLessThan(1e-5 * Math.sqrt(K) * 4);
        }
        a.release(mark);
      });
    }
  }

  it('softmax-style exp is accurate to an ulp over the whole float range it accepts', () => {
    const mark = a.mark();
    const n = 4001;
    const p = a.alloc(n);
    const xs = Float32Array.from({ length: n }, (_, i) => -80 + (i * 160) / (n - 1));
    a.f32(p, n).set(xs);
    const sum = a.k.expShiftSum(p, n, 0);
    const e = a.f32(p, n);
    let worst = 0, ref = 0;
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      ref += Math.fround(want);
      worst = Math.max(worst, Math.abs(e[i]! - want) / want);
    });
    expect(worst).toBeLessThan(2.5e-7);
    expect(Math.abs(sum - ref) / ref).toBeLessThan(1e-6);
    a.release(mark);
  });
});
