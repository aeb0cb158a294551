/**
 * The engine's optional native kernels: a Node-API addon (native/, compiled by scripts/build-native.mjs into
 * native/build/vtune-engine.node) that runs the WebAssembly kernels' matrix product (gemm), training attention
 * (attnFwd, attnBwd), SwiGLU (swigluFwd, swigluBwd), RMSNorm backward, AdamW and transpose (NATIVE_KERNELS)
 * on 16-lane AVX-512 or 8-lane AVX2 vectors instead of WebAssembly's 128-bit ones.
 * It computes every element with the same floating-point operations in the same order as the kernel build in
 * use (native/gemm-impl.h, attention-impl.h, ops-impl.h): fused multiply-adds for the fma build, a multiply then an
 * add for the portable one, the same K blocks, the same scalar last columns, the same exp polynomial and the
 * same 4-lane row sums. A fine-tune therefore has the same bits on either path (test/engine/native.test.ts and
 * the golden hashes of test/engine/train-golden*.test.ts, run on both paths). The other kernels (RMSNorm
 * forward, RoPE, embeddings, the loss, copies) stay WebAssembly.
 *
 * Which path runs (resolved once per thread; training workers take the path of the thread that started them):
 * the environment variable VTUNE_ENGINE_NATIVE — `auto` (the default: the widest the CPU runs, else the
 * WebAssembly kernels), `off` (WebAssembly only), `on` (native, an error when it cannot run), `avx512` or `avx2`
 * (that instruction set, an error when it cannot run). Without the addon (not built: no C++ compiler or Node.js
 * headers at install time), with one built from other sources (NATIVE_ABI) or on a CPU without AVX2 and FMA,
 * `auto` falls back to the WebAssembly kernels.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { repoRoot } from '../shared-path.js';

/** What VTUNE_ENGINE_NATIVE may say. */
export type NativeChoice = 'auto' | 'off' | 'on' | 'avx512' | 'avx2';
/** The GEMM that runs: the WebAssembly kernel's, or the native one on this instruction set. */
export type GemmPath = 'wasm' | 'avx512' | 'avx2';

/**
 * The addon's functions (native/engine.cc): every kernel of NATIVE_KERNELS takes (isa, fused, base, byteLength),
 * then the kernel's own arguments as NativeKernels (and the WebAssembly kernel) takes them.
 */
type Addon = { readonly [K in NativeKernel]: (isa: number, fused: number, base: number, byteLength: number, ...args: Parameters<NativeKernels[K]>) => void } & {
  memoryAddress(view: ArrayBufferView): number;
  info(): { isa: number; abi?: number };
};

/** The addon's interface version (native/engine.cc kAbi): an addon built from other sources is not used. */
export const NATIVE_ABI = 2;

/** Where scripts/build-native.mjs writes the addon. */
export const ADDON_FILE = join(repoRoot, 'native', 'build', 'vtune-engine.node');
const ISA: Record<Exclude<GemmPath, 'wasm'>, number> = { avx2: 1, avx512: 2 };
/** Floats per vector of each path. */
const LANES: Record<GemmPath, number> = { wasm: 4, avx2: 8, avx512: 16 };

const loaded = new Map<string, { addon?: Addon; why?: string }>();

/** Loads the addon at `file` once per thread: the addon, or why it cannot be used. */
function loadAddon(file: string): { addon?: Addon; why?: string } {
  let got = loaded.get(file);
  if (!got) {
    if (process.arch !== 'x64') got = { why: `the native kernels are for x86-64 CPUs, not ${process.arch}` };
    else if (!existsSync(file)) got = { why: `the native kernels are not built: ${file} is missing (run \`npm run build:native\`; it needs a C++ compiler and the Node.js headers)` };
    else {
      try {
        const addon = createRequire(import.meta.url)(file) as Addon;
        const abi = addon.info().abi;
        got = abi === NATIVE_ABI ? { addon } : { why: `the native kernels at ${file} were built from other sources (interface ${String(abi)}, expected ${NATIVE_ABI}): run \`npm run build:native\`` };
      } catch (err) {
        got = { why: `the native kernels at ${file} do not load: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    loaded.set(file, got);
  }
  return got;
}

/** Parses a VTUNE_ENGINE_NATIVE value, naming the source on a bad one. */
export function parseNativeChoice(value: string, source: string): NativeChoice {
  if (value === 'auto' || value === 'off' || value === 'on' || value === 'avx512' || value === 'avx2') return value;
  throw new EngineError(`${source}: unknown native kernel choice '${value}' (expected auto, off, on, avx512 or avx2)`);
}

/**
 * The GEMM path a choice gives on this host (`addonFile`: where the addon is, for tests). auto falls back to
 * 'wasm' with no addon or no AVX2+FMA; on, avx512 and avx2 throw an EngineError saying why they cannot run.
 */
export function resolveGemmPath(choice: NativeChoice, addonFile: string = ADDON_FILE): GemmPath {
  if (choice === 'off') return 'wasm';
  const { addon, why } = loadAddon(addonFile);
  const best = addon ? addon.info().isa : 0;
  const have: GemmPath = best >= ISA.avx512 ? 'avx512' : best >= ISA.avx2 ? 'avx2' : 'wasm';
  if (choice === 'auto') return have;
  const reason = why ?? 'this CPU has neither AVX-512F nor AVX2 with FMA';
  if (choice === 'on') {
    if (have === 'wasm') throw new EngineError(`VTUNE_ENGINE_NATIVE=on: ${reason}`);
    return have;
  }
  if (!addon) throw new EngineError(`VTUNE_ENGINE_NATIVE=${choice}: ${reason}`);
  if (best < ISA[choice]) throw new EngineError(`VTUNE_ENGINE_NATIVE=${choice}: this CPU cannot run ${choice === 'avx512' ? 'AVX-512F' : 'AVX2 with FMA'}`);
  return choice;
}

let chosen: GemmPath | undefined;
/** The GEMM path of this thread: VTUNE_ENGINE_NATIVE, else auto (resolved once). */
export function gemmPath(): GemmPath {
  if (!chosen) {
    const env = process.env.VTUNE_ENGINE_NATIVE;
    chosen = resolveGemmPath(env ? parseNativeChoice(env, 'VTUNE_ENGINE_NATIVE') : 'auto');
  }
  return chosen;
}

/** A path for reports: e.g. `native avx512 (16 lanes)` or `wasm simd128 (4 lanes)`. */
export function describeGemmPath(path: GemmPath): string {
  return path === 'wasm' ? 'wasm simd128 (4 lanes)' : `native ${path} (${LANES[path]} lanes)`;
}

/** The kernels the native path replaces (kernels.ts EngineExports: same signatures, same bits). */
export interface NativeKernels {
  gemm(a: number, rsA: number, csA: number, b: number, ldb: number, c: number, ldc: number, M: number, K: number, P: number, acc: number): void;
  attnFwd(q: number, k: number, v: number, o: number, probs: number, kt: number, B: number, T: number, nH: number, nKv: number, hd: number, scale: number): void;
  attnBwd(q: number, k: number, v: number, probs: number, dout: number, dq: number, dk: number, dv: number, tmp: number, vt: number, B: number, T: number, nH: number, nKv: number, hd: number, scale: number): void;
  swigluFwd(g: number, u: number, h: number, n: number): void;
  swigluBwd(g: number, u: number, dh: number, dg: number, du: number, n: number): void;
  rmsnormBwd(x: number, w: number, rstd: number, dy: number, dx: number, dw: number, N: number, D: number): void;
  adamw(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
}

/** The kernels native.ts replaces, by name (kernels.ts instantiate swaps exactly these). */
export const NATIVE_KERNELS = ['gemm', 'attnFwd', 'attnBwd', 'swigluFwd', 'swigluBwd', 'rmsnormBwd', 'adamw', 'transpose'] as const satisfies readonly (keyof NativeKernels)[];
/** A kernel native.ts replaces. */
export type NativeKernel = (typeof NATIVE_KERNELS)[number];
/** A member of NativeKernels missing from NATIVE_KERNELS (never, or the compiler names it below). */
type Unlisted = Exclude<keyof NativeKernels, NativeKernel>;
const everyKernelListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyKernelListed;

/**
 * The native kernels (NATIVE_KERNELS) on `memory` (a shared WebAssembly memory: its buffer never moves when
 * it grows), with the multiply-add of the kernel build (`fused`: the fma build's). Same arguments and the same
 * bits as the WebAssembly kernels; an operand outside the memory is a RangeError.
 */
export function nativeKernels(path: Exclude<GemmPath, 'wasm'>, memory: WebAssembly.Memory, fused: boolean, addonFile: string = ADDON_FILE): NativeKernels {
  const { addon, why } = loadAddon(addonFile);
  if (!addon) throw new EngineError(why!);
  const isa = ISA[path];
  const f = fused ? 1 : 0;
  let length = -1;
  let base = 0;
  const sync = (): void => {
    const buffer = memory.buffer;
    if (buffer.byteLength !== length) {
      // A grown memory has a new buffer object (over the same reserved address range); re-read both.
      length = buffer.byteLength;
      base = addon.memoryAddress(new Uint8Array(buffer, 0, 1));
    }
  };
  const kernels: Partial<Record<NativeKernel, (...args: number[]) => void>> = {};
  for (const name of NATIVE_KERNELS) {
    const run = addon[name] as (isa: number, fused: number, base: number, byteLength: number, ...args: number[]) => void;
    kernels[name] = (...args) => {
      sync();
      run(isa, f, base, length, ...args);
    };
  }
  return kernels as NativeKernels;
}
