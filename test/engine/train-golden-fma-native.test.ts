// Fine-tune bits on the fma kernels with the native GEMM on 16-lane AVX-512 (src/engine/native.ts): the same
// hashes as the WebAssembly GEMM's (train-golden.ts). Skipped, saying why, where relaxed SIMD or the native
// AVX-512 kernels cannot run.
process.env.VTUNE_ENGINE_KERNELS = 'fma';
process.env.VTUNE_ENGINE_NATIVE = 'avx512';
import { describe, it } from 'vitest';
import { resolveKernels } from '../../src/engine/kernels.js';
import { resolveGemmPath } from '../../src/engine/native.js';
import { GOLDEN, goldenSuite } from './train-golden.js';

let why = '';
try {
  resolveKernels('fma');
  resolveGemmPath('avx512');
} catch (err) {
  why = (err as Error).message;
}
if (!why) goldenSuite('fma', 'avx512', GOLDEN.fma);
else describe.skip(`fine-tune bits (fma kernels, native AVX-512 GEMM): ${why}`, () => it('skipped', () => {}));
