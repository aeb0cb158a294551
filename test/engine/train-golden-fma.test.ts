// Fine-tune bits on the fma kernels, pinned from the padded path (see train-golden.ts). The fma build fuses
// multiply-adds except in the GEMM's scalar last columns, so unlike the portable build it also pins which
// attention key columns take which path (transformer.ts Packing: tRow). Recorded on this project's x86-64 host
// with FMA; skipped where the runtime cannot run relaxed SIMD.
process.env.VTUNE_ENGINE_KERNELS = 'fma';
import { describe, it } from 'vitest';
import { resolveKernels } from '../../src/engine/kernels.js';
import { goldenSuite } from './train-golden.js';

let fma = true;
try {
  resolveKernels('fma');
} catch {
  fma = false;
}
if (fma) {
  goldenSuite('fma', {
    short: '33c6433826010c83',
    long: '02332597f0bef1fc',
    lora: '57ae3d60f7a9d287',
    accum: '7eecf2e8debb1697',
  });
} else {
  describe.skip('fine-tune bits (fma kernels): this runtime cannot run relaxed SIMD', () => it('skipped', () => {}));
}
