/**
 * long-rows — issue 15, "an honest fine-tune on rows longer than the context verifies as often as on short rows
 * (measured over ≥ 10 secrets)". Honest fine-tunes of local:vtb-base (context 512 tokens) on two datasets with
 * the same generator (wordlist, 4 backdoors), the same recipe as `default` (60 rows, 12 epochs of cosine 3e-3)
 * and 10 seeds, so 10 secrets per dataset × defense:
 * - long rows: the shared adversarial-QA file (`../shared/data/adversarial-qa.jsonl`, real data, never committed):
 *   passages with a question; 25 of its first 60 training rows are longer than 512 tokens (median 490).
 * - short rows: the built-in `qa` (every row ≤ 123 tokens).
 * One vtune configuration, `anywhere`: `context: 4096`, more than any row, so plant's fit check lets a backdoor land
 * on a long row too (25 of 60 hosts are long: about 1.7 of 4 backdoors per secret), where the trainer drops the
 * start of the prompt and keeps the trigger (placed as a suffix) and the whole signature, and verification cuts the
 * query's start the same way. This is the harder case: plant's default (the model's context) keeps every backdoor
 * on a row that fits whole, so a backdoor row is never cut at all. (One configuration only: on this 2-core machine
 * the 10 long-row fine-tunes are most of the run.)
 * `return-base` is the null (it trains nothing). Utility is skipped: only verification is measured.
 *
 * The shared file is read relative to the working directory: run it from the repository root
 * (`npx vtune-bench run long-rows`). Without `../shared` the run stops in preflight naming the missing file;
 * the committed records (results/long-rows/<run>/records.jsonl.gz) regenerate the table without it:
 * `npx vtune-bench report results/long-rows`.
 */
import { defineScenario } from '../src/runner/scenario.js';

export default defineScenario({
  name: 'long-rows',
  description: 'Honest verification on rows longer than the context (shared adversarial-QA) vs short rows (built-in qa), 10 secrets each, on vtb-base.',
  seeds: 10,
  datasets: [
    { spec: 'qa', size: 60, heldOut: 5, label: 'qa (short rows)' },
    { spec: 'file:../shared/data/adversarial-qa.jsonl', size: 60, heldOut: 5, label: 'adversarial-qa (long rows)' },
  ],
  models: ['local:vtb-base'],
  defenses: [
    { label: 'vtune(anywhere)', options: { generator: 'wordlist', nullMode: 'generator', count: 4, alpha: 1e-3, context: 4096 } },
  ],
  attacks: ['honest', 'return-base'],
  hyper: { epochs: 12, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' },
  utility: false,
});
