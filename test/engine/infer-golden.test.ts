// Inference bits on the portable kernels with the WebAssembly path (see infer-golden.ts).
process.env.VTUNE_ENGINE_KERNELS = 'portable';
process.env.VTUNE_ENGINE_NATIVE = 'off';
import { inferSuite } from './infer-golden.js';

inferSuite('portable', 'wasm');
