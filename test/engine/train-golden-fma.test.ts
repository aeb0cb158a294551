// Fine-tune bits on the fma kernels with the WebAssembly GEMM, pinned from the padded path (see
// train-golden.ts); skipped where the runtime cannot run relaxed SIMD. train-golden-fma-native.test.ts checks
// the same hashes on the native GEMM.
process.env.VTUNE_ENGINE_KERNELS = 'fma';
process.env.VTUNE_ENGINE_NATIVE = 'off';
import { describe, it } from 'vitest';
import { resolveKernels } from '../../src/engine/kernels.js';
import { GOLDEN, goldenSuite } from './train-golden.js';

let fma = true;
try {
  resolveKernels('fma');
} catch {
  fma = false;
}
if (fma) goldenSuite('fma', 'wasm', GOLDEN.fma);
else describe.skip('fine-tune bits (fma kernels): this runtime cannot run relaxed SIMD', () => it('skipped', () => {}));
