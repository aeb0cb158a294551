/**
 * fast — a seconds-long smoke scenario on the `test-memorizer` TEST DOUBLE (src/providers/test-memorizer.ts):
 * exercises the whole runner, records and report without the embedded engine. Its numbers describe the double,
 * not a language model; never publish them.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'fast',
  description: 'Smoke test on the test-memorizer double: runner, resume, shards and report in seconds.',
  seeds: 3,
  datasets: [{ spec: 'qa', size: 60, heldOut: 10 }],
  models: ['test-memorizer:base'],
  defenses: [{ options: { generator: 'wordlist', nullMode: 'generator', count: 6, alpha: 1e-3 } }],
  attacks: [
    'honest',
    'return-base',
    'train-without-backdoors',
    { id: 'random-subset', options: { fraction: 0.5 } },
    { id: 'random-subset', label: 'random-subset(0.05)', options: { fraction: 0.05 } },
    { id: 'detect-then-filter', options: { scorer: 'ngram-burstiness', policy: 'drop-flagged' } },
    'oracle-keep-only-flagged',
  ],
  hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
  utility: { maxRows: 5 },
});
