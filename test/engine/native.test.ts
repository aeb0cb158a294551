// The native kernels (src/engine/native.ts, native/*-impl.h) against the WebAssembly kernel's, bit for bit: both
// kernel builds (portable: multiply then add; fma: fused), both instruction sets the CPU runs (16-lane AVX-512,
// 8-lane AVX2), odd shapes (M, K, P not multiples of any tile, K across the 256-wide K blocks, P with 1–7 columns
// past the last multiple of 8), row-major and transposed (strided) A, overwrite and accumulate; the training
// attention forward and backward; SwiGLU forward and backward; RMSNorm backward, AdamW, transpose. And the choice
// of path: the fallback to the WebAssembly GEMM without the addon, the errors when a forced path cannot
// run; that a native path swaps exactly the addon's kernels in; every operand of every kernel outside the memory
// (a RangeError naming it, where the wasm kernel would trap), and the other bad calls (native/engine.cc Call).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Arena, type EngineExports, engineModule, instantiate, kernelPaths, resolveKernels, type KernelVariant } from '../../src/engine/kernels.js';
import { repoRoot } from '../../src/shared-path.js';
import { ADDON_FILE, type GemmPath, NATIVE_ABI, NATIVE_KERNELS, type NativeKernels, describeGemmPath, nativeKernels, parseNativeChoice, resolveGemmPath } from '../../src/engine/native.js';
import { EngineError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';

const best = resolveGemmPath('auto');
const isas = (['avx512', 'avx2'] as const).filter((isa) => {
  try {
    return resolveGemmPath(isa) === isa;
  } catch {
    return false;
  }
});
const fmaRuns = resolveKernels('auto') === 'fma';
/** The WebAssembly kernels of `variant` on the arena's memory (whatever path the arena itself runs), GEMM packing on. */
function wasmKernels(a: Arena, variant: KernelVariant): EngineExports {
  const k = instantiate(a.memory, engineModule(variant), { variant, gemm: 'wasm' });
  k.setScratch(a.alloc(k.gemmScratchFloats()));
  return k;
}

const SHAPES = [[301, 600, 37], [13, 257, 16], [4, 9, 8], [130, 70, 12], [62, 300, 44], [33, 20, 540], [9, 513, 3], [40, 128, 1029], [1, 31, 7], [17, 1, 5], [7, 0, 9]] as const;

describe('native GEMM', () => {
  for (const variant of ['portable', 'fma'] as KernelVariant[]) {
    for (const isa of ['avx512', 'avx2'] as const) {
      const skip = !isas.includes(isa) || (variant === 'fma' && !fmaRuns);
      it.skipIf(skip)(`${variant} build on ${isa}: the same bits as the WebAssembly GEMM (${SHAPES.length} shapes × strided A × acc)`, () => {
        const a = new Arena(undefined, engineModule(variant));
        const wasm = wasmKernels(a, variant);
        const gemm = nativeKernels(isa, a.memory, variant === 'fma').gemm;
        const rng = new Rng(`native-gemm-${variant}-${isa}`);
        let compared = 0;
        for (const [M, K, P] of SHAPES) {
          for (const transposedA of [false, true]) {
            const mark = a.mark();
            // B and C with a leading dimension past P (a column block of a wider matrix, as the attention uses).
            const ldb = P + 3, ldc = P + 5;
            const pa = a.alloc(M * K), pb = a.alloc(K * ldb), pc = a.alloc(M * ldc);
            const fill = (ptr: number, n: number) => {
              const v = a.f32(ptr, n);
              for (let i = 0; i < n; i++) v[i] = rng.float() * 2 - 1;
              return v.slice();
            };
            fill(pa, M * K);
            fill(pb, K * ldb);
            const C0 = fill(pc, M * ldc);
            const [rsA, csA] = transposedA ? [1, M] : [K, 1];
            for (const acc of [0, 1]) {
              a.f32(pc, M * ldc).set(C0);
              wasm.gemm(pa, rsA, csA, pb, ldb, pc, ldc, M, K, P, acc);
              const fromWasm = a.f32(pc, M * ldc).slice();
              a.f32(pc, M * ldc).set(C0);
              gemm(pa, rsA, csA, pb, ldb, pc, ldc, M, K, P, acc);
              const native = a.f32(pc, M * ldc).slice();
              expect(Buffer.from(native.buffer).equals(Buffer.from(fromWasm.buffer)), `M=${M} K=${K} P=${P} transposedA=${transposedA} acc=${acc}`).toBe(true);
              compared++;
            }
            a.release(mark);
          }
        }
        expect(compared).toBe(SHAPES.length * 4);
        a.free();
      });
    }
  }

  // Attention shapes [T, nH, nKv, hd]: T below, at and past a 16-row query block and past the GEMM's 256-wide K
  // block; grouped-query heads; head sizes that are not multiples of 4 or 8.
  const ATTN = [[1, 2, 1, 8], [21, 4, 2, 8], [48, 3, 3, 5], [300, 2, 1, 12], [37, 6, 2, 32]] as const;
  for (const variant of ['portable', 'fma'] as KernelVariant[]) {
    for (const isa of ['avx512', 'avx2'] as const) {
      const skip = !isas.includes(isa) || (variant === 'fma' && !fmaRuns);
      it.skipIf(skip)(`${variant} build on ${isa}: attention forward (outputs, probabilities) and backward (dq, dk, dv) with the WebAssembly kernels' bits`, () => {
        const a = new Arena(undefined, engineModule(variant));
        const wasm = wasmKernels(a, variant);
        const nat = nativeKernels(isa, a.memory, variant === 'fma');
        const rng = new Rng(`native-attention-${variant}-${isa}`);
        let compared = 0;
        for (const [T, nH, nKv, hd] of ATTN) {
          for (const B of [1, 2]) {
            const mark = a.mark();
            const N = B * T, dim = nH * hd, kvDim = nKv * hd;
            const buf = (n: number, fill: boolean) => {
              const p = a.alloc(n);
              if (fill) {
                const v = a.f32(p, n);
                for (let i = 0; i < n; i++) v[i] = (rng.float() * 2 - 1) * 3;
              }
              return p;
            };
            const q = buf(N * dim, true), k = buf(N * kvDim, true), v = buf(N * kvDim, true), dout = buf(N * dim, true);
            // Zero queries once: every score row then has the maximum 0 (the native max settles zeros by the scalar rule).
            if (T === 21 && B === 2) a.f32(q, N * dim).fill(0);
            const outs = (label: string) => ({ label, o: buf(N * dim, false), probs: buf(B * nH * T * T, false), dq: buf(N * dim, false), dk: buf(N * kvDim, false), dv: buf(N * kvDim, false) });
            const runs = [outs('wasm'), outs('native')];
            const kt = buf(hd * T, false), tmp = buf(T * T, false);
            const scale = 1 / Math.sqrt(hd);
            for (const [r, kern] of [[runs[0]!, wasm], [runs[1]!, nat]] as const) {
              kern.attnFwd(q, k, v, r.o, r.probs, kt, B, T, nH, nKv, hd, scale);
              kern.attnBwd(q, k, v, r.probs, dout, r.dq, r.dk, r.dv, tmp, kt, B, T, nH, nKv, hd, scale);
            }
            for (const [key, n] of [['o', N * dim], ['probs', B * nH * T * T], ['dq', N * dim], ['dk', N * kvDim], ['dv', N * kvDim]] as const) {
              const x = Buffer.from(a.f32(runs[0]![key], n).slice().buffer), y = Buffer.from(a.f32(runs[1]![key], n).slice().buffer);
              expect(y.equals(x), `${key}: B=${B} T=${T} nH=${nH} nKv=${nKv} hd=${hd}`).toBe(true);
              compared++;
            }
            a.release(mark);
          }
        }
        expect(compared).toBe(ATTN.length * 2 * 5);
        a.free();
      });
    }
  }

  for (const isa of ['avx512', 'avx2'] as const) {
    it.skipIf(!isas.includes(isa))(`SwiGLU forward and backward on ${isa}: the WebAssembly kernels' bits (clamped exps, ±0, lengths with every tail)`, () => {
      const a = new Arena(undefined, engineModule('portable'));
      const wasm = wasmKernels(a, 'portable');
      const nat = nativeKernels(isa, a.memory, false);
      const rng = new Rng(`native-swiglu-${isa}`);
      const special = [0, -0, 100, -100, 88.5, -87.5, 1e-40, -1e-40, 3.4e38, -3.4e38];
      for (const n of [1, 3, 4, 15, 16, 17, 33, 1000]) {
        const mark = a.mark();
        const fill = (p: number) => {
          const v = a.f32(p, n);
          for (let i = 0; i < n; i++) v[i] = i < special.length && rng.float() < 0.5 ? special[i]! : (rng.float() * 2 - 1) * 12;
          return p;
        };
        const g = fill(a.alloc(n)), u = fill(a.alloc(n)), dh = fill(a.alloc(n));
        const outs = [0, 1].map(() => ({ h: a.alloc(n), dg: a.alloc(n), du: a.alloc(n) }));
        wasm.swigluFwd(g, u, outs[0]!.h, n);
        wasm.swigluBwd(g, u, dh, outs[0]!.dg, outs[0]!.du, n);
        nat.swigluFwd(g, u, outs[1]!.h, n);
        nat.swigluBwd(g, u, dh, outs[1]!.dg, outs[1]!.du, n);
        for (const key of ['h', 'dg', 'du'] as const) {
          const x = Buffer.from(a.f32(outs[0]![key], n).slice().buffer), y = Buffer.from(a.f32(outs[1]![key], n).slice().buffer);
          expect(y.equals(x), `${key}, n=${n}`).toBe(true);
        }
        a.release(mark);
      }
      a.free();
    });
  }

  for (const isa of ['avx512', 'avx2'] as const) {
    it.skipIf(!isas.includes(isa))(`RMSNorm backward, AdamW and transpose on ${isa}: the WebAssembly kernels' bits (odd row counts and widths, AdamW's scalar tail)`, () => {
      const a = new Arena(undefined, engineModule('portable'));
      const wasm = wasmKernels(a, 'portable');
      const nat = nativeKernels(isa, a.memory, false);
      const rng = new Rng(`native-ops-${isa}`);
      const rand = (n: number, lo = -1, hi = 1) => {
        const p = a.alloc(n);
        const v = a.f32(p, n);
        for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.float();
        return p;
      };
      const same = (label: string, p: number, q: number, n: number) =>
        expect(Buffer.from(a.f32(q, n).slice().buffer).equals(Buffer.from(a.f32(p, n).slice().buffer)), label).toBe(true);
      const copy = (p: number, n: number) => {
        const q = a.alloc(n);
        a.f32(q, n).set(a.f32(p, n));
        return q;
      };
      for (const [N, D] of [[1, 5], [3, 16], [7, 33], [13, 128], [4, 1]] as const) {
        const mark = a.mark();
        const x = rand(N * D, -3, 3), w = rand(D), rstd = rand(N, 0.1, 2), dy = rand(N * D);
        for (const withDw of [true, false]) {
          const dx0 = rand(N * D), dw0 = rand(D);
          const dx1 = copy(dx0, N * D), dw1 = copy(dw0, D);
          wasm.rmsnormBwd(x, w, rstd, dy, dx0, withDw ? dw0 : 0, N, D);
          nat.rmsnormBwd(x, w, rstd, dy, dx1, withDw ? dw1 : 0, N, D);
          same(`rmsnormBwd dx N=${N} D=${D} dw=${withDw}`, dx0, dx1, N * D);
          same(`rmsnormBwd dw N=${N} D=${D} dw=${withDw}`, dw0, dw1, D);
        }
        a.release(mark);
      }
      // Many lengths: each leaves n mod 4 elements to the scalar tail, whose rounding differs from the body's.
      for (const n of [...Array.from({ length: 64 }, (_, i) => i + 1), 1003]) {
        const mark = a.mark();
        const p0 = rand(n), g = rand(n, -0.1, 0.1), m0 = rand(n, -0.01, 0.01), v0 = rand(n, 0, 1e-4);
        const p1 = copy(p0, n), m1 = copy(m0, n), v1 = copy(v0, n);
        const h = [3e-3, 0.9, 0.999, 1e-8, 0.01, 1 - 0.9 ** 3, 1 - 0.999 ** 3] as const;
        wasm.adamw(p0, g, m0, v0, n, ...h);
        nat.adamw(p1, g, m1, v1, n, ...h);
        same(`adamw p n=${n}`, p0, p1, n);
        same(`adamw m n=${n}`, m0, m1, n);
        same(`adamw v n=${n}`, v0, v1, n);
        a.release(mark);
      }
      for (const [rows, cols] of [[1, 1], [5, 37], [128, 352], [33, 16]] as const) {
        const mark = a.mark();
        const src = rand(rows * cols), d0 = a.alloc(rows * cols), d1 = a.alloc(rows * cols);
        wasm.transpose(src, d0, rows, cols);
        nat.transpose(src, d1, rows, cols);
        same(`transpose ${rows}×${cols}`, d0, d1, rows * cols);
        a.release(mark);
      }
      a.free();
    });
  }

  /**
   * Every kernel with shapes whose operands are all at least 2 floats, and every operand of it by argument index
   * (a byte address) with its extent in floats: the bounds test moves each one in turn to the end of the memory.
   */
  const OPERANDS: readonly { name: keyof NativeKernels; args: (p: number) => number[]; operands: Record<number, [string, number]> }[] = [
    // gemm(a, rsA, csA, b, ldb, c, ldc, M, K, P, acc): M = K = P = 4, A transposed (rsA 1, csA 4).
    { name: 'gemm', args: (p) => [p, 1, 4, p, 4, p, 4, 4, 4, 4, 0], operands: { 0: ['a', 16], 3: ['b', 16], 5: ['c', 16] } },
    // attnFwd(q, k, v, o, probs, kt, B, T, nH, nKv, hd, scale): B 1, T 4, nH 2, nKv 1, hd 2.
    { name: 'attnFwd', args: (p) => [p, p, p, p, p, p, 1, 4, 2, 1, 2, 0.5], operands: { 0: ['q', 16], 1: ['k', 8], 2: ['v', 8], 3: ['o', 16], 4: ['probs', 32], 5: ['kt', 8] } },
    {
      name: 'attnBwd',
      args: (p) => [p, p, p, p, p, p, p, p, p, p, 1, 4, 2, 1, 2, 0.5],
      operands: { 0: ['q', 16], 1: ['k', 8], 2: ['v', 8], 3: ['probs', 32], 4: ['dout', 16], 5: ['dq', 16], 6: ['dk', 8], 7: ['dv', 8], 8: ['tmp', 16], 9: ['vt', 8] },
    },
    { name: 'swigluFwd', args: (p) => [p, p, p, 2], operands: { 0: ['g', 2], 1: ['u', 2], 2: ['h', 2] } },
    { name: 'swigluBwd', args: (p) => [p, p, p, p, p, 2], operands: { 0: ['g', 2], 1: ['u', 2], 2: ['dh', 2], 3: ['dg', 2], 4: ['du', 2] } },
    { name: 'rmsnormBwd', args: (p) => [p, p, p, p, p, p, 2, 2], operands: { 0: ['x', 4], 1: ['w', 2], 2: ['rstd', 2], 3: ['dy', 4], 4: ['dx', 4], 5: ['dw', 2] } },
    { name: 'adamw', args: (p) => [p, p, p, p, 2, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001], operands: { 0: ['p', 2], 1: ['g', 2], 2: ['m', 2], 3: ['v', 2] } },
    { name: 'transpose', args: (p) => [p, p, 2, 2], operands: { 0: ['src', 4], 1: ['dst', 4] } },
  ];

  it.skipIf(isas.length === 0)('an operand outside the memory is a RangeError, not a crash: every operand of every kernel, one float past the end', () => {
    const a = new Arena(undefined, engineModule('portable'));
    const nat = nativeKernels(isas[0]!, a.memory, false) as unknown as Record<string, (...args: number[]) => void>;
    const end = a.memory.buffer.byteLength;
    const p = a.alloc(64);
    expect(OPERANDS.map((k) => k.name).sort()).toEqual([...NATIVE_KERNELS].sort());
    let checked = 0;
    for (const { name, args, operands } of OPERANDS) {
      // In bounds: no error (so the errors below come from the one operand moved).
      expect(() => nat[name]!(...args(p)), name).not.toThrow();
      for (const [at, [operand, floats]] of Object.entries(operands)) {
        const moved = (ptr: number) => args(p).map((x, i) => (i === Number(at) ? ptr : x));
        // Ending exactly at the end of the memory is inside; one float further is not.
        expect(() => nat[name]!(...moved(end - 4 * floats)), `${name} ${operand} at the end`).not.toThrow();
        expect(() => nat[name]!(...moved(end - 4 * floats + 4)), `${name} ${operand} one float past the end`).toThrow(RangeError);
        // The message names the kernel and the operand, where it starts, how long it is, and the memory's size.
        expect(() => nat[name]!(...moved(end - 4 * floats + 4))).toThrow(`${name}: operand ${operand} (${floats} floats at byte ${end - 4 * floats + 4}) lies outside the memory (${end} bytes)`);
        checked++;
      }
    }
    expect(checked).toBe(39);
    a.free();
  });

  it.skipIf(isas.length === 0)('a bad call is an error naming the kernel and the argument: alignment, shape, argument types and count, instruction set', () => {
    const a = new Arena(undefined, engineModule('portable'));
    const nat = nativeKernels(isas[0]!, a.memory, false);
    const p = a.alloc(64);
    expect(() => nat.swigluFwd(p, p + 2, p, 4)).toThrow(new RangeError('swigluFwd: operand u (byte ' + (p + 2) + ') is not 4-byte aligned'));
    expect(() => nat.attnFwd(p, p, p, p, p, p, 1, 4, 3, 2, 2, 0.5)).toThrow(new RangeError('attnFwd: bad shape: B and T must be >= 0, nH, nKv and hd > 0, and nH a multiple of nKv'));
    expect(() => nat.gemm(p, 4, 1, p, 4, p, 4, 4, -1, 4, 0)).toThrow(new RangeError('gemm: bad shape: sizes M, K, P and strides rsA, csA, ldb, ldc must be >= 0'));
    expect(() => nat.transpose(p, p, -2, 2)).toThrow(new RangeError('transpose: bad shape: rows and cols must be >= 0'));
    // Without rows or columns of C (or with no K, of A and B) the GEMM touches nothing: nothing to check.
    expect(() => nat.gemm(-4, 4, 1, -4, 4, -4, 4, 0, 4, 4, 0)).not.toThrow();
    // The addon itself, as native.ts calls it: (isa, fused, base, byteLength, ...the kernel's arguments).
    const addon = createRequire(import.meta.url)(ADDON_FILE) as Record<string, (...args: unknown[]) => void>;
    const isa = isas[0] === 'avx512' ? 2 : 1;
    const base = a.memory.buffer.byteLength;
    expect(() => addon.transpose!(isa, 0, 0, base, p, p, 2)).toThrow(new TypeError('transpose: expected 8 arguments (isa, fused, base, byteLength, src, dst, rows, cols), got 7'));
    expect(() => addon.adamw!(isa, 0, 0, base, p, p, p, p, 2, 1e-3, 0.9, '0.999', 1e-8, 0, 0.1, 0.001)).toThrow(new TypeError('adamw: argument b2 must be a number'));
    expect(() => addon.transpose!(isa, 0, 0, base, p, 'p', 2, 2)).toThrow(new TypeError('transpose: argument dst must be a number'));
    expect(() => addon.transpose!(7, 0, 0, base, p, p, 2, 2)).toThrow(/^transpose: this CPU cannot run instruction set 7 \(it runs up to [12]\)$/);
    a.free();
  });

  it('falls back to the WebAssembly GEMM when the addon is absent, and says why when one is forced', () => {
    const missing = join(tmpdir(), 'vtune-no-such-dir', 'vtune-engine.node');
    expect(resolveGemmPath('auto', missing)).toBe('wasm');
    expect(resolveGemmPath('off', missing)).toBe('wasm');
    for (const forced of ['on', 'avx512', 'avx2'] as const) {
      expect(() => resolveGemmPath(forced, missing)).toThrow(EngineError);
      expect(() => resolveGemmPath(forced, missing)).toThrow(`VTUNE_ENGINE_NATIVE=${forced}: the native kernels are not built: ${missing} is missing`);
    }
    // The WebAssembly path instantiates the module's own kernels (exported WebAssembly functions).
    const module = engineModule('portable');
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const wasm = instantiate(mem, module, { variant: 'portable', gemm: 'wasm' });
    const exported = /^function \d+\(\) \{ \[native code\] \}$/;
    for (const name of NATIVE_KERNELS) expect(String(wasm[name]), name).toMatch(exported);
  });

  it.skipIf(isas.length === 0)('a native path replaces every kernel the addon runs, and only those', () => {
    const module = engineModule('portable');
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const exported = /^function \d+\(\) \{ \[native code\] \}$/;
    const wasm = instantiate(mem, module, { variant: 'portable', gemm: 'wasm' });
    const native = instantiate(mem, module, { variant: 'portable', gemm: isas[0]! }) as unknown as Record<string, unknown>;
    // The kernels the addon itself exports (not NATIVE_KERNELS, the list instantiate swaps: a name left out of it is caught).
    const addon = createRequire(import.meta.url)(ADDON_FILE) as Record<string, unknown>;
    const made = Object.getOwnPropertyNames(addon).filter((k) => k !== 'memoryAddress' && k !== 'info').sort();
    expect(made).toEqual([...NATIVE_KERNELS].sort());
    // (Two instances: every other export is the module's own on both, not the same object.)
    const functions = Object.entries(wasm).filter(([, f]) => typeof f === 'function').map(([name]) => name);
    expect(functions.length).toBeGreaterThan(made.length);
    for (const name of functions) {
      if (made.includes(name)) expect(String(native[name]), name).not.toMatch(exported);
      else expect(String(native[name]), name).toMatch(exported);
    }
  });

  it('instantiating a module this thread did not compile needs the paths of the thread that did, and says so', () => {
    // As a worker receives it: the same bytes compiled again are another module object, unknown to engineModule.
    const foreign = new WebAssembly.Module(readFileSync(join(repoRoot, 'build', 'engine.wasm')));
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(() => instantiate(mem, foreign)).toThrow(new EngineError('internal: no kernel paths for a kernel module this thread did not compile (engineModule); pass those of the thread that compiled it'));
    expect(() => kernelPaths(foreign)).toThrow(EngineError);
    expect(String(instantiate(mem, foreign, { variant: 'portable', gemm: 'wasm' }).gemm)).toMatch(/native code/);
  });

  it('does not use an addon built from other sources (another interface version), and says so when one is forced', () => {
    // A stand-in module with the addon's info() (loaded by require like the addon): interface 0, not NATIVE_ABI.
    const dir = mkdtempSync(join(tmpdir(), 'vtune-stale-addon-'));
    const file = join(dir, 'stale.cjs');
    writeFileSync(file, 'module.exports = { info: () => ({ isa: 2, abi: 0 }) };\n');
    try {
      expect(resolveGemmPath('auto', file)).toBe('wasm');
      expect(() => resolveGemmPath('on', file)).toThrow(`the native kernels at ${file} were built from other sources (interface 0, expected ${NATIVE_ABI}): run \`npm run build:native\``);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('off always gives the WebAssembly GEMM; auto gives the widest path the host runs', () => {
    expect(resolveGemmPath('off')).toBe('wasm');
    const expected: GemmPath = isas.includes('avx512') ? 'avx512' : isas.includes('avx2') ? 'avx2' : 'wasm';
    expect(best).toBe(expected);
    expect(describeGemmPath('wasm')).toBe('wasm simd128 (4 lanes)');
    expect(describeGemmPath('avx512')).toBe('native avx512 (16 lanes)');
    expect(describeGemmPath('avx2')).toBe('native avx2 (8 lanes)');
  });

  it('rejects an unknown VTUNE_ENGINE_NATIVE value, naming it', () => {
    expect(() => parseNativeChoice('avx1024', 'VTUNE_ENGINE_NATIVE')).toThrow("VTUNE_ENGINE_NATIVE: unknown native kernel choice 'avx1024' (expected auto, off, on, avx512 or avx2)");
  });
});
