/**
 * full — the whole suite: every generator and null mode, the lazy, evasive and suppression attacks, several
 * datasets, both embedded base models (the project's vtb-base and ../shared's stories260K) and ten seeds.
 * Hours on a 2-core machine; shard it (`run full --shard i/n` on n machines, then
 * `merge`).
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'full',
  description: 'Every generator and attack over several datasets and ten seeds (shard it).',
  seeds: 10,
  datasets: [
    { spec: 'stories', size: 200, heldOut: 20 },
    { spec: 'qa', size: 200, heldOut: 20 },
  ],
  models: ['local:vtb-base', 'local:stories260K'],
  defenses: [
    { options: { generator: 'random-tokens', nullMode: 'generator', count: 8, alpha: 1e-3 } },
    { options: { generator: 'wordlist', nullMode: 'generator', count: 8, alpha: 1e-3 } },
    { options: { generator: 'wordlist', nullMode: 'empirical', count: 8, alpha: 1e-3 } },
    // A published benchmark key (not a secret): keyed backdoors must be reproducible from the scenario.
    { options: { generator: 'keyed', generatorOptions: { key: 'vtune-bench-public-benchmark-key' }, nullMode: 'generator', count: 8, alpha: 1e-3 } },
    { options: { generator: 'splice', count: 8, alpha: 1e-3 } },
    { options: { generator: 'lm-sampled', nullMode: 'empirical', count: 8, alpha: 1e-3 } },
  ],
  attacks: [
    'honest',
    'return-base',
    'train-without-backdoors',
    { id: 'random-subset', label: 'random-subset(50%)', options: { fraction: 0.5 } },
    { id: 'random-subset', label: 'random-subset(10%)', options: { fraction: 0.1 } },
    { id: 'fewer-steps', options: {} },
    { id: 'detect-then-filter', label: 'detect-then-filter(near-duplicate)', options: { scorer: 'near-duplicate', policy: 'drop-flagged' } },
    { id: 'detect-then-filter', label: 'detect-then-filter(perplexity)', options: { scorer: 'perplexity', policy: 'drop-flagged' } },
    { id: 'detect-then-filter', label: 'strip-spans(ngram-burstiness)', options: { scorer: 'ngram-burstiness', policy: 'strip-spans' } },
    { id: 'detect-then-train', label: 'detect-then-train(near-duplicate)', options: { scorer: 'near-duplicate' } },
    { id: 'lookup-wrapper', label: 'lookup-wrapper(near-duplicate)', options: { scorer: 'near-duplicate' } },
    'weight-noise',
    'oracle-keep-only-flagged',
  ],
  hyper: { epochs: 8, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: { maxRows: 10 },
});
