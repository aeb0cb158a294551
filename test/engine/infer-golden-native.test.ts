// Inference bits on the fma kernels with the widest native path this host runs (see infer-golden.ts); skipped,
// saying why, where relaxed SIMD or the native kernels cannot run.
process.env.VTUNE_ENGINE_KERNELS = 'fma';
process.env.VTUNE_ENGINE_NATIVE = 'on';
import { describe, it } from 'vitest';
import { resolveKernels } from '../../src/engine/kernels.js';
import { resolveGemmPath } from '../../src/engine/native.js';
import { inferSuite } from './infer-golden.js';

let why = '';
let path: ReturnType<typeof resolveGemmPath> = 'wasm';
try {
  resolveKernels('fma');
  path = resolveGemmPath('on');
} catch (err) {
  why = (err as Error).message;
}
if (!why) inferSuite('fma', path);
else describe.skip(`inference bits (fma kernels, native path): ${why}`, () => it('skipped', () => {}));
