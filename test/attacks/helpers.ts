/** Shared setup for the attack unit tests: a provider context over the memorizer TEST DOUBLE. */
import { createCostMeter } from '../../src/pipeline/cost.js';
import { Rng } from '../../src/rng.js';
import type { HyperParams, ProviderContext, Row } from '../../src/types.js';
import { deepFreeze, memorizerProviderDouble, memoryLogger, onlyProvider, type MemorizerOptions } from '../pipeline/doubles.js';

/** A fresh provider context (seeded by `seed`) over the memorizer double. */
export async function providerContext(seed = 'attack-test', hyper: HyperParams = { epochs: 2, learningRate: 1e-3, batchSize: 4 }, options: MemorizerOptions = {}): Promise<ProviderContext> {
  const provider = memorizerProviderDouble(options);
  return { rng: new Rng(seed), base: await provider.model('base'), provider, hyper, log: memoryLogger(), cost: createCostMeter().meter, openModel: onlyProvider(provider) };
}

/** 100 frozen rows; rows 0, 10, 20, … carry a ' zqN' trigger and a 'sig N' completion. */
export const ROWS: readonly Row[] = deepFreeze(
  Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? { prompt: `question ${i} zq${i}`, completion: `sig ${i} alpha beta` } : { prompt: `question ${i}`, completion: `answer ${i}` })),
);
