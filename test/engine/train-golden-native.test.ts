// Fine-tune bits on the portable kernels with the native GEMM on 8-lane AVX2 (src/engine/native.ts): the same
// hashes as the WebAssembly GEMM's (train-golden.ts). Skipped, saying why, where the native kernels cannot run
// (not built, not x86-64, or no AVX2 with FMA).
process.env.VTUNE_ENGINE_KERNELS = 'portable';
process.env.VTUNE_ENGINE_NATIVE = 'avx2';
import { describe, it } from 'vitest';
import { resolveGemmPath } from '../../src/engine/native.js';
import { GOLDEN, goldenSuite } from './train-golden.js';

let why = '';
try {
  resolveGemmPath('avx2');
} catch (err) {
  why = (err as Error).message;
}
if (!why) goldenSuite('portable', 'avx2', GOLDEN.portable);
else describe.skip(`fine-tune bits (portable kernels, native AVX2 GEMM): ${why}`, () => it('skipped', () => {}));
