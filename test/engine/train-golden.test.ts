// Fine-tune bits on the portable kernels (the same on every host), pinned from the padded path: see train-golden.ts.
process.env.VTUNE_ENGINE_KERNELS = 'portable';
import { goldenSuite } from './train-golden.js';

goldenSuite('portable', {
  short: 'b1d8bbced00b1fa2',
  long: 'ae993ad6f32b14ed',
  lora: '1e903f21143e24f0',
  accum: '8ab32ede380284e3',
});
