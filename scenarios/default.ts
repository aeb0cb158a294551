/**
 * default — what `npm start` runs: the vTune defense on the embedded engine with the project's own base model
 * (local:vtb-base, committed in models/: no download, no ../shared) and a built-in dataset, against the
 * baselines and a spread of lazy and evasive providers, sized to finish in minutes on a 2-core machine. Two
 * generators × three seeds; training is cached, so honest, the wrapper and return-base share work and a re-run
 * trains nothing.
 *
 * Sizing: 60 story rows + 4 backdoors, 12 epochs of cosine 3e-3 (the engine's measured backdoor recipe,
 * ../shared/notes/engine.md §3, shortened): 96 optimizer steps per honest fine-tune (on stories260K, 8 epochs
 * left 1 of 3 honest random-token runs unverified). Measured on vtb-base: 48 cells, 30 fine-tunes, 373 s.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'default',
  description: 'vTune vs baselines, lazy and evasive providers on the embedded engine (vtb-base, built-in stories).',
  seeds: 3,
  datasets: [{ spec: 'stories', size: 60, heldOut: 5 }],
  models: ['local:vtb-base'],
  defenses: [
    { options: { generator: 'random-tokens', nullMode: 'generator', count: 4, alpha: 1e-3 } },
    { options: { generator: 'wordlist', nullMode: 'generator', count: 4, alpha: 1e-3 } },
  ],
  attacks: [
    'honest',
    'return-base',
    'train-without-backdoors',
    { id: 'random-subset', label: 'random-subset(50%)', options: { fraction: 0.5 } },
    { id: 'random-subset', label: 'random-subset(10%)', options: { fraction: 0.1 } },
    { id: 'detect-then-filter', label: 'detect-then-filter(near-duplicate)', options: { scorer: 'near-duplicate', policy: 'drop-flagged' } },
    { id: 'lookup-wrapper', label: 'lookup-wrapper(near-duplicate)', options: { scorer: 'near-duplicate' } },
    'oracle-keep-only-flagged',
  ],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: { maxRows: 5 },
});
