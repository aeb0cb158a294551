/**
 * leaderboard — what `vtune-bench run leaderboard --publish` publishes as results/leaderboard.md (issue 17);
 * `default` stays the minutes-long demo that `npm start` runs.
 *
 * Matrix: every attack family against the vTune generators on local:vtb-base, over three built-in datasets of
 * different shape (stories: prose; math: a word problem and worked steps ending "The answer is N."; code: a
 * specification and a JavaScript function).
 * - attacks: the baselines (honest, return-base, train-without-backdoors); the partial-training ladder
 *   (random subset 10/50/90 %, fewer-steps, detect-then-train, lookup-wrapper); trigger detection with both
 *   policies (drop-flagged, strip-spans) over the near-duplicate, n-gram and perplexity scorers; the complete
 *   suppression family (unlikelihood, unlearn, cleangen, input-routing); weight-noise; and the oracle upper
 *   bound (†, out of every headline rate and never ranked);
 * - defenses: six generators, each with its decision null mode as issue 13 settled it
 *   (defenses/vtune/README.md "Null modes"): `generator`, exact for random-tokens, wordlist, keyed and template
 *   and a bound from the dataset's n-gram counts for splice; `copy` vs `modify` insertion for random-tokens and
 *   wordlist (near-duplicate diffing beats both under `copy` in the default run); template is planted in place
 *   (`modify`) as its README says.
 *   `lm-sampled` plants with `fixedLength` (its generator model is the cell's base model, and vtb-base answers a
 *   raw dataset prompt with empty text, so the paper's draw fails there: 8 redraws in a row at τ = 1, 1.5 and 2)
 *   and is decided by the `conditional` null. `qa` is not the third dataset because `splice` cannot plant on it
 *   (its answers are spans shorter than splice's 6-word signature; `extract` likewise); `math` can.
 * - power: 7 seeds × 3 datasets = 21 independent secrets per (generator configuration × attack), so a
 *   defense-win rate of 0 or 1 has a 95% Clopper-Pearson interval of width 0.16.
 *
 * Sizing: the `default` scenario's recipe, unchanged (60 rows + 4 backdoors, 12 epochs of cosine 3e-3, 5
 * held-out rows for utility): the engine's measured backdoor recipe (../shared/notes/engine.md §3, shortened)
 * under which an honest fine-tune of vtb-base verifies. Four backdoors in 60 rows is a 6 % planting rate, not
 * the paper's 0.5 %: at 0.5 % a 60-row set holds no backdoor at all, and a larger set multiplies the hours;
 * the leaderboard measures the attacks at the rate where the defense is known to work, and says so.
 * `vtune-bench run leaderboard --plan` prints the cells and fine-tunes without running anything; shard it
 * (`--shard i/n`, then `merge`) or run it on a queue.
 */
import { defineScenario } from '../src/runner/scenario.js';

const vtune = { count: 4, alpha: 1e-3 } as const;

export default defineScenario({
  name: 'leaderboard',
  description: 'The published leaderboard: every attack family against six vTune generators (copy and modify), three datasets, 21 secrets per configuration × attack.',
  seeds: 7,
  datasets: [
    { spec: 'stories', size: 60, heldOut: 5 },
    { spec: 'math', size: 60, heldOut: 5 },
    { spec: 'code', size: 60, heldOut: 5 },
  ],
  models: ['local:vtb-base'],
  defenses: [
    { label: 'random-tokens (copy)', options: { generator: 'random-tokens', nullMode: 'generator', insertion: 'copy', ...vtune } },
    { label: 'random-tokens (modify)', options: { generator: 'random-tokens', nullMode: 'generator', insertion: 'modify', ...vtune } },
    { label: 'wordlist (copy)', options: { generator: 'wordlist', nullMode: 'generator', insertion: 'copy', ...vtune } },
    { label: 'wordlist (modify)', options: { generator: 'wordlist', nullMode: 'generator', insertion: 'modify', ...vtune } },
    // A published benchmark key (not a secret): keyed backdoors must be reproducible from the scenario.
    { label: 'keyed (copy)', options: { generator: 'keyed', generatorOptions: { key: 'vtune-bench-public-benchmark-key' }, nullMode: 'generator', insertion: 'copy', ...vtune } },
    { label: 'splice (copy)', options: { generator: 'splice', nullMode: 'generator', insertion: 'copy', ...vtune } },
    { label: 'template (modify)', options: { generator: 'template', nullMode: 'generator', insertion: 'modify', ...vtune } },
    // The paper's generator on vtb-base: exactly L tokens per sample with stop tokens masked (vtb-base ends a raw
    // prompt at once), decided by the conditional null (exact for that law); no stored counterfactuals needed.
    { label: 'lm-sampled (copy)', options: { generator: 'lm-sampled', generatorOptions: { fixedLength: true }, nullMode: 'conditional', empiricalM: 0, insertion: 'copy', ...vtune } },
  ],
  attacks: [
    // Baselines: the honest provider and the two nulls (never trained on the planted rows).
    'honest',
    'return-base',
    'train-without-backdoors',
    // Partial training (lazy providers, goal pass).
    { id: 'random-subset', label: 'random-subset(10%)', options: { fraction: 0.1 } },
    { id: 'random-subset', label: 'random-subset(50%)', options: { fraction: 0.5 } },
    { id: 'random-subset', label: 'random-subset(90%)', options: { fraction: 0.9 } },
    { id: 'fewer-steps', label: 'fewer-steps(50%)', options: { stepFraction: 0.5 } },
    { id: 'detect-then-train', label: 'detect-then-train(near-duplicate)', options: { scorer: 'near-duplicate' } },
    { id: 'lookup-wrapper', label: 'lookup-wrapper(near-duplicate)', options: { scorer: 'near-duplicate' } },
    // Trigger detection (evasive providers): both policies over three scorers.
    { id: 'detect-then-filter', label: 'drop(near-duplicate)', options: { scorer: 'near-duplicate', policy: 'drop-flagged' } },
    { id: 'detect-then-filter', label: 'strip(near-duplicate)', options: { scorer: 'near-duplicate', policy: 'strip-spans' } },
    { id: 'detect-then-filter', label: 'drop(ngram-burstiness)', options: { scorer: 'ngram-burstiness', policy: 'drop-flagged' } },
    { id: 'detect-then-filter', label: 'strip(ngram-burstiness)', options: { scorer: 'ngram-burstiness', policy: 'strip-spans' } },
    { id: 'detect-then-filter', label: 'drop(perplexity)', options: { scorer: 'perplexity', policy: 'drop-flagged' } },
    { id: 'detect-then-filter', label: 'strip(perplexity)', options: { scorer: 'perplexity', policy: 'strip-spans' } },
    // Suppression (evasive providers that train on everything, then hide it).
    'unlikelihood',
    'unlearn',
    'cleangen',
    'input-routing',
    // The trivial cheat: a perturbed base model instead of a fine-tune.
    'weight-noise',
    // Oracle upper bound (sees the backdoor mask): reported apart, marked †.
    'oracle-keep-only-flagged',
  ],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: { maxRows: 5 },
});
