/**
 * The engine's WebAssembly SIMD kernels (AssemblyScript sources in src/engine/assembly, compiled by
 * scripts/build-wasm.mjs to build/engine.wasm and build/engine-fma.wasm) and the memory they work on. Parameters, gradients and
 * activations all live in one shared `WebAssembly.Memory` per model or training run, handed out by a bump
 * allocator above the module's static data (`heapBase`): AssemblyScript keeps tables (e.g. for exp) at low
 * addresses, and scratch placed there corrupts them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import { EngineError } from '../errors.js';
import { repoRoot } from '../shared-path.js';
import { type GemmPath, NATIVE_KERNELS, gemmPath, nativeKernels } from './native.js';

/** The kernels exported by build/engine.wasm. Pointers are byte addresses; sizes are element counts. */
export interface EngineExports {
  heapBase(): number;
  gemm(a: number, rsA: number, csA: number, b: number, ldb: number, c: number, ldc: number, M: number, K: number, P: number, acc: number): void;
  gemmScratchFloats(): number;
  setScratch(ptr: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  embedFwd(et: number, vocab: number, dim: number, tok: number, N: number, out: number): void;
  embedBwd(det: number, vocab: number, dim: number, tok: number, N: number, dx: number): void;
  dot(a: number, b: number, n: number): number;
  axpy(y: number, x: number, s: number, n: number): void;
  addInto(dst: number, src: number, n: number): void;
  scale(x: number, n: number, s: number): void;
  sumsq(x: number, n: number): number;
  rmsnormFwd(x: number, w: number, out: number, rstd: number, N: number, D: number, eps: number): void;
  rmsnormBwd(x: number, w: number, rstd: number, dy: number, dx: number, dw: number, N: number, D: number): void;
  rope(x: number, N: number, nHeads: number, hd: number, stride: number, pos: number, cs: number, inverse: number): void;
  swigluFwd(g: number, u: number, h: number, n: number): void;
  swigluBwd(g: number, u: number, dh: number, dg: number, du: number, n: number): void;
  xentFwdBwd(logits: number, tgt: number, wts: number, N: number, V: number, invNorm: number): number;
  logprobAt(logits: number, tgt: number, N: number, V: number, out: number): void;
  argmaxRows(logits: number, N: number, V: number, out: number): void;
  adamw(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  attnFwd(q: number, k: number, v: number, o: number, probs: number, kt: number, B: number, T: number, nH: number, nKv: number, hd: number, scale: number): void;
  attnBwd(q: number, k: number, v: number, probs: number, dout: number, dq: number, dk: number, dv: number, tmp: number, vt: number, B: number, T: number, nH: number, nKv: number, hd: number, scale: number): void;
  attnDecode(q: number, kc: number, vc: number, o: number, pos: number, tmp: number, B: number, C: number, nH: number, nKv: number, hd: number, scale: number): void;
  scatterRows(src: number, dst: number, pos: number, B: number, C: number, width: number): void;
  copyF(src: number, dst: number, n: number): void;
  zeroF(x: number, n: number): void;
  expShiftSum(p: number, n: number, mx: number): number;
}

/**
 * Which build of the kernels runs. `portable` (build/engine.wasm) rounds every multiply and add separately:
 * the same bits on every host. `fma` (build/engine-fma.wasm, relaxed SIMD) fuses the GEMM's multiply-adds on
 * hosts with FMA: about twice the GEMM rate, the same bits on every run of one host (and on 1 or 2 threads),
 * but the last bits may differ from a host without FMA. `auto` (the default) takes `fma` when the runtime can
 * run relaxed SIMD, else `portable`. The environment variable VTUNE_ENGINE_KERNELS overrides the default.
 */
export type KernelChoice = 'auto' | 'portable' | 'fma';
/** A kernel build that actually runs. */
export type KernelVariant = Exclude<KernelChoice, 'auto'>;

/** The module is declared with this maximum (scripts/build-wasm.mjs): 65536 pages = 4 GiB of address space. */
const MAX_PAGES = 65536;
const FILES: Record<KernelVariant, string> = { portable: 'engine.wasm', fma: 'engine-fma.wasm' };
const modules = new Map<KernelVariant, WebAssembly.Module>();
/** The build of every module compiled in this thread (a module posted to a worker is a new object there). */
const variants = new WeakMap<WebAssembly.Module, KernelVariant>();
const FMA_UNAVAILABLE = "engine kernels 'fma' need WebAssembly relaxed SIMD, which this Node.js cannot run (use auto or portable)";
let chosen: KernelVariant | undefined;

/** Parses a kernel choice (from an option or VTUNE_ENGINE_KERNELS), naming the source on a bad value. */
export function parseKernelChoice(value: string, source: string): KernelChoice {
  if (value === 'auto' || value === 'portable' || value === 'fma') return value;
  throw new EngineError(`${source}: unknown engine kernels '${value}' (expected auto, portable or fma)`);
}

function readBuild(variant: KernelVariant): Uint8Array {
  const path = join(repoRoot, 'build', FILES[variant]);
  if (!existsSync(path)) {
    throw new EngineError(`the engine's kernels are not built: ${path} is missing (run \`npm run build:wasm\`)`);
  }
  return readFileSync(path);
}

let relaxedSimd: boolean | undefined;
/**
 * Whether this runtime can run the fma build (checked once). Node 20's V8 runs relaxed SIMD only behind
 * --experimental-wasm-relaxed-simd (later versions ship it); the flag can be turned on at run time, before
 * the module is compiled.
 */
function relaxedSimdAvailable(): boolean {
  if (relaxedSimd === undefined) {
    const bytes = readBuild('fma');
    if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedSimd = WebAssembly.validate(bytes);
  }
  return relaxedSimd;
}

/** Resolves a choice to the build that will run on this host (`auto`: fma when relaxed SIMD is available). */
export function resolveKernels(choice: KernelChoice): KernelVariant {
  if (choice === 'portable') return 'portable';
  if (relaxedSimdAvailable()) return 'fma';
  if (choice === 'fma') throw new EngineError(FMA_UNAVAILABLE);
  return 'portable';
}

/** The build in use: VTUNE_ENGINE_KERNELS, else auto (resolved once per thread). */
export function kernelVariant(): KernelVariant {
  if (!chosen) {
    const env = process.env.VTUNE_ENGINE_KERNELS;
    chosen = resolveKernels(env ? parseKernelChoice(env, 'VTUNE_ENGINE_KERNELS') : 'auto');
  }
  return chosen;
}

/** The compiled kernel module of a build (compiled once per thread, then shared; it can be posted to workers). */
export function engineModule(variant: KernelVariant = kernelVariant()): WebAssembly.Module {
  let m = modules.get(variant);
  if (!m) {
    if (variant === 'fma' && !relaxedSimdAvailable()) throw new EngineError(FMA_UNAVAILABLE);
    m = new WebAssembly.Module(readBuild(variant));
    modules.set(variant, m);
    variants.set(m, variant);
  }
  return m;
}

/** How a thread runs the kernels of a module: its build, and the GEMM path (native.ts). */
export interface KernelPaths {
  readonly variant: KernelVariant;
  readonly gemm: GemmPath;
}

/** The paths this thread runs `module` on: its build, and this thread's GEMM path (VTUNE_ENGINE_NATIVE). */
export function kernelPaths(module: WebAssembly.Module = engineModule()): KernelPaths {
  const variant = variants.get(module);
  // A module posted from another thread is a new object here: its receiver is given the sender's paths.
  if (!variant) throw new EngineError('internal: no kernel paths for a kernel module this thread did not compile (engineModule); pass those of the thread that compiled it');
  return { variant, gemm: gemmPath() };
}

/**
 * Instantiates the kernels on a memory (every thread of a training run instantiates on the same memory). With a
 * native path (native.ts), the kernels of NATIVE_KERNELS (GEMM, training attention, SwiGLU, RMSNorm backward, AdamW, transpose) run natively, with
 * the same bits; every other kernel is the module's.
 * `paths` defaults to this thread's (kernelPaths); a worker passes those of the thread that started it.
 */
export function instantiate(memory: WebAssembly.Memory, module: WebAssembly.Module = engineModule(), paths?: KernelPaths): EngineExports {
  const p = paths ?? kernelPaths(module);
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new EngineError('engine kernel aborted');
      },
    },
  });
  const wasm = instance.exports as unknown as EngineExports;
  if (p.gemm === 'wasm') return wasm;
  const n = nativeKernels(p.gemm, memory, p.variant === 'fma');
  const k: EngineExports = { ...wasm };
  for (const name of NATIVE_KERNELS) (k as unknown as Record<string, unknown>)[name] = n[name];
  return k;
}

/**
 * Memories of freed arenas, kept for the next arena (most recently freed first). A shared memory is released
 * only when every thread that used it has collected its references: a training run's memory is also held by
 * the instances its workers made (parallel.ts), and a reused, idle worker collects garbage rarely, so memories
 * made afresh for every fine-tune and model piled up across the cells of a long run (measured with
 * bench/memory.ts). Recycled ones do not: the number of memories stays at the most arenas in use at once.
 * A memory is zero-filled when it is taken again (as a fresh one is), so an arena on it computes the same bits.
 */
const freeMemories: WebAssembly.Memory[] = [];
/** Most memories kept on the free list, and the largest one kept (bigger ones are left to the collector). */
const MAX_FREE = 16;
const MAX_FREE_BYTES = 1 << 30;
const stats = { created: 0, reused: 0, inUse: 0 };
/** Arenas that were never freed: counted out of `inUse` when the collector takes them. */
const unfreed = new FinalizationRegistry<undefined>(() => {
  stats.inUse--;
});

/**
 * The engine's memories in this thread: arenas in use (made and neither freed nor collected), memories created
 * and reused from the free list since the start, and memories on the free list now.
 */
export function memoryStats(): { inUse: number; created: number; reused: number; free: number } {
  return { ...stats, free: freeMemories.length };
}

/** Empties the free list (its memories are then released like any unreferenced memory). */
export function dropFreeMemories(): void {
  freeMemories.length = 0;
}

/** A memory for a new arena: one from the free list, zero-filled, or a new one. */
function takeMemory(): WebAssembly.Memory {
  const reused = freeMemories.pop();
  if (!reused) {
    stats.created++;
    return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  }
  stats.reused++;
  new Uint8Array(reused.buffer).fill(0);
  return reused;
}

/**
 * A shared memory with its kernels and a bump allocator. Views are re-made whenever the memory has grown
 * (growth replaces the buffer; views of the old one only cover the old length). `free()` ends the arena: its
 * memory goes back to the free list (when the arena made it) and any later use throws.
 */
export class Arena {
  private mem: WebAssembly.Memory | undefined;
  private kernels: EngineExports | undefined;
  private top: number;
  private buf: ArrayBufferLike;
  /** The arena took its memory from takeMemory (and so returns it on free). */
  private readonly owned: boolean;

  constructor(memory?: WebAssembly.Memory, module?: WebAssembly.Module) {
    this.owned = memory === undefined;
    this.mem = memory ?? takeMemory();
    this.kernels = instantiate(this.mem, module);
    stats.inUse++;
    unfreed.register(this, undefined, this);
    this.top = align(this.kernels.heapBase(), 64);
    this.buf = this.mem.buffer;
    this.kernels.setScratch(this.alloc(this.kernels.gemmScratchFloats()));
  }

  /** The shared memory (throws once freed). */
  get memory(): WebAssembly.Memory {
    if (!this.mem) throw new EngineError('this engine arena was freed');
    return this.mem;
  }

  /** The kernels instantiated on the memory (throws once freed). */
  get k(): EngineExports {
    if (!this.kernels) throw new EngineError('this engine arena was freed');
    return this.kernels;
  }

  /** Whether `free` was called. */
  get freed(): boolean {
    return this.mem === undefined;
  }

  /**
   * Ends the arena: drops its memory and kernels (a memory it made goes to the free list for the next arena)
   * and makes every later use throw. Only free an arena no thread computes on any more. Idempotent.
   */
  free(): void {
    const memory = this.mem;
    if (!memory) return;
    this.mem = undefined;
    this.kernels = undefined;
    this.buf = new ArrayBuffer(0);
    stats.inUse--;
    unfreed.unregister(this);
    if (this.owned && freeMemories.length < MAX_FREE && memory.buffer.byteLength <= MAX_FREE_BYTES) freeMemories.push(memory);
  }

  /** Reserves `floats` 4-byte slots (64-byte aligned) and returns the byte address. Memory is zero-filled when fresh. */
  alloc(floats: number): number {
    const ptr = this.top;
    this.top = align(ptr + Math.max(0, floats) * 4, 64);
    this.ensure(this.top);
    return ptr;
  }

  /** Allocates and zero-fills (for reused regions after `release`). */
  allocZeroed(floats: number): number {
    const ptr = this.alloc(floats);
    this.f32(ptr, floats).fill(0);
    return ptr;
  }

  /** The current allocation mark, for `release`. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark` (a stack discipline for per-call scratch). */
  release(mark: number): void {
    this.top = mark;
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / 65536);
    if (have / 65536 + pages > MAX_PAGES) {
      throw new EngineError(`the engine needs ${(bytes / 2 ** 30).toFixed(2)} GiB of WebAssembly memory, above the 4 GiB limit: use a smaller model, batch or context`);
    }
    this.memory.grow(pages);
    this.buf = this.memory.buffer;
  }

  private buffer(end: number): ArrayBufferLike {
    if (end > this.buf.byteLength) this.buf = this.memory.buffer;
    return this.buf;
  }

  /** A Float32Array view of `n` floats at byte address `ptr`. */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.buffer(ptr + n * 4), ptr, n);
  }

  /** An Int32Array view. */
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.buffer(ptr + n * 4), ptr, n);
  }

  /** A Float64Array view (ptr must be 8-aligned). */
  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.buffer(ptr + n * 8), ptr, n);
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Y[N,out] (+)= X[N,in]·Wt[in,out]: a linear layer with its weight stored transposed. */
export function mm(k: EngineExports, x: number, wt: number, y: number, N: number, nIn: number, nOut: number, acc: boolean): void {
  k.gemm(x, nIn, 1, wt, nOut, y, nOut, N, nIn, nOut, acc ? 1 : 0);
}

/** dX[N,in] (+)= dY[N,out]·W[out,in]: the data gradient, with the weight in its natural layout. */
export function mmData(k: EngineExports, dy: number, w: number, dx: number, N: number, nOut: number, nIn: number, acc: boolean): void {
  k.gemm(dy, nOut, 1, w, nIn, dx, nIn, N, nOut, nIn, acc ? 1 : 0);
}
