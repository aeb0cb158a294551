// The two kernel builds (portable plain SIMD, fma relaxed SIMD) and the GEMM's packing. The portable GEMM is
// checked bit for bit against a float32 emulation of its summation order (so tiling and packing can never change
// a result), packing on/off gives the same bits in both builds, and the fma build agrees with float64 to
// rounding. The choice of build is validated with messages naming where the bad value came from.
// These check the WebAssembly kernels themselves: the native path (src/engine/native.ts) is off here, and
// test/engine/native.test.ts compares it with them bit for bit.
process.env.VTUNE_ENGINE_NATIVE = 'off';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Arena, engineModule, parseKernelChoice, resolveKernels, type KernelVariant } from '../../src/engine/kernels.js';
import { Rng } from '../../src/rng.js';

const KC = 256; // the GEMM's K block (src/engine/assembly/gemm.ts)
const f = Math.fround;

/** C as the portable GEMM computes it: 8-column panels sum each K block from zero, then add the running C. */
function emulate(A: (m: number, k: number) => number, B: Float32Array, C0: Float32Array, M: number, K: number, P: number, acc: boolean): Float32Array {
  const C = new Float32Array(C0);
  const P8 = P & ~7;
  for (let m = 0; m < M; m++) {
    for (let p = 0; p < P; p++) {
      if (p < P8) {
        for (let k0 = 0; k0 < K; k0 += KC) {
          let s = 0;
          for (let k = k0; k < Math.min(K, k0 + KC); k++) s = f(s + f(A(m, k) * B[k * P + p]!));
          C[m * P + p] = acc || k0 > 0 ? f(s + C[m * P + p]!) : s;
        }
      } else {
        let s = 0;
        for (let k = 0; k < K; k++) s = f(s + f(A(m, k) * B[k * P + p]!));
        C[m * P + p] = acc ? f(s + C0[m * P + p]!) : s;
      }
    }
  }
  return C;
}

const fmaRuns = resolveKernels('auto') === 'fma';
/** Whether the CPU fuses relaxed multiply-adds: ARM always does; x64 needs FMA3 (V8 falls back to mul + add). */
function cpuFuses(): boolean {
  if (process.arch === 'arm64') return true;
  if (process.arch !== 'x64' || !existsSync('/proc/cpuinfo')) return false;
  return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
}

describe('kernel builds and GEMM packing', () => {
  const variants: KernelVariant[] = ['portable', 'fma'];
  for (const variant of variants) {
    const skip = variant === 'fma' && !fmaRuns;
    it.skipIf(skip)(`${variant}: packed and unpacked GEMM give the same bits${variant === 'portable' ? ', equal to the float32 emulation' : ', within rounding of float64'}`, () => {
      const a = new Arena(undefined, engineModule(variant));
      const rng = new Rng(`kernel-builds-${variant}`);
      const scratch = a.alloc(a.k.gemmScratchFloats());
      for (const [M, K, P] of [[301, 600, 37], [13, 257, 16], [4, 9, 8], [130, 70, 12], [62, 300, 44], [33, 20, 540]] as const) {
        for (const transposedA of [false, true]) {
          const mark = a.mark();
          const pa = a.alloc(M * K), pb = a.alloc(K * P), pc = a.alloc(M * P);
          const fill = (ptr: number, n: number) => {
            const v = a.f32(ptr, n);
            for (let i = 0; i < n; i++) v[i] = rng.float() * 2 - 1;
            return v.slice();
          };
          const A = fill(pa, M * K), B = fill(pb, K * P), C0 = fill(pc, M * P);
          const [rsA, csA] = transposedA ? [1, M] : [K, 1];
          const at = (m: number, k: number) => A[m * rsA + k * csA]!;
          for (const acc of [true, false]) {
            const out: Float32Array[] = [];
            for (const packed of [true, false]) {
              a.k.setScratch(packed ? scratch : 0);
              a.f32(pc, M * P).set(C0);
              a.k.gemm(pa, rsA, csA, pb, P, pc, P, M, K, P, acc ? 1 : 0);
              out.push(a.f32(pc, M * P).slice());
            }
            expect(Buffer.from(out[0]!.buffer).equals(Buffer.from(out[1]!.buffer))).toBe(true);
            if (variant === 'portable') {
              const ref = emulate(at, B, C0, M, K, P, acc);
              expect(Buffer.from(out[0]!.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
            } else {
              let worst = 0;
              for (let m = 0; m < M; m++) {
                for (let p = 0; p < P; p++) {
                  let s = acc ? C0[m * P + p]! : 0;
                  for (let k = 0; k < K; k++) s += at(m, k) * B[k * P + p]!;
                  worst = Math.max(worst, Math.abs(out[0]![m * P + p]! - s));
                }
              }
              expect(worst).toBeLessThan(1e-5 * Math.sqrt(K) * 4);
            }
          }
          a.release(mark);
        }
      }
    });
  }

  it.skipIf(!fmaRuns || !cpuFuses())('the fma build fuses on a CPU with FMA: some products round differently from the portable build', () => {
    // With FMA one rounding replaces two, so over a long sum some results differ in their last bits; if none
    // did, the fma build would be the portable one under another name.
    const outs = (['portable', 'fma'] as const).map((v) => {
      const a = new Arena(undefined, engineModule(v));
      const rng = new Rng('kernel-builds-fuse');
      const [M, K, P] = [16, 512, 16];
      const pa = a.alloc(M * K), pb = a.alloc(K * P), pc = a.alloc(M * P);
      const fill = (ptr: number, n: number) => {
        const x = a.f32(ptr, n);
        for (let i = 0; i < n; i++) x[i] = rng.float() * 2 - 1;
      };
      fill(pa, M * K);
      fill(pb, K * P);
      a.k.gemm(pa, K, 1, pb, P, pc, P, M, K, P, 0);
      return a.f32(pc, M * P).slice();
    });
    let differ = 0;
    for (let i = 0; i < outs[0]!.length; i++) if (outs[0]![i] !== outs[1]![i]) differ++;
    expect(differ).toBeGreaterThan(0);
  });

  it('a bad kernel choice names its source and the accepted values', () => {
    expect(() => parseKernelChoice('avx512', 'VTUNE_ENGINE_KERNELS')).toThrow(/VTUNE_ENGINE_KERNELS: unknown engine kernels 'avx512' \(expected auto, portable or fma\)/);
    expect(parseKernelChoice('portable', 'x')).toBe('portable');
    expect(resolveKernels('portable')).toBe('portable');
  });
});
