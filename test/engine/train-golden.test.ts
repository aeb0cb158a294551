// Fine-tune bits on the portable kernels (the same on every host) with the WebAssembly GEMM, pinned from the
// padded path: see train-golden.ts. train-golden-native.test.ts checks the same hashes on the native GEMM.
process.env.VTUNE_ENGINE_KERNELS = 'portable';
process.env.VTUNE_ENGINE_NATIVE = 'off';
import { GOLDEN, goldenSuite } from './train-golden.js';

goldenSuite('portable', 'wasm', GOLDEN.portable);
