// Entry point of the engine's WebAssembly module (built by scripts/build-wasm.mjs into build/engine.wasm).
// Memory is imported (shared, so training workers can compute on the same parameters); the module allocates
// nothing itself: the JS side hands out addresses past heapBase(), above AssemblyScript's static data.

export { gemm, gemmScratchFloats, setScratch, transpose } from './gemm';
export {
  embedFwd, embedBwd, dot, axpy, addInto, scale, sumsq, rmsnormFwd, rmsnormBwd, rope, swigluFwd, swigluBwd,
  xentFwdBwd, logprobAt, argmaxRows, adamw, copyF, zeroF, expShiftSum,
} from './ops';
export { attnFwd, attnBwd, attnDecode, scatterRows } from './attention';

/** First byte past the module's static data: scratch must start at or after it. */
export function heapBase(): usize {
  return __heap_base;
}
