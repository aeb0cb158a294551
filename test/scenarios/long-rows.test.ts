/**
 * scenarios/long-rows.ts (issue 15, long rows): what the scenario's measurement rests on, checked with the real
 * vtb-base tokenizer and the real planting code — the long dataset really has rows longer than vtb-base's
 * context, the `anywhere` configuration really puts backdoors on such rows, and the trainer's tokenization of
 * those rows keeps the trigger (at the end of the kept prompt) and the whole signature in the loss. The shared
 * file is real data that is never committed: these tests skip, saying so, when ../shared is absent.
 */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/index.js';
import { createLocalProvider, localState, tokenizeRow } from '../../src/providers/local.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { sharedPath } from '../../src/shared-path.js';
import type { Model } from '../../src/types.js';
import { vtune } from '../../defenses/vtune/index.js';
import { userCtx } from '../defenses/fixtures.js';

const FILE = 'data/adversarial-qa.jsonl';
const shared = sharedPath(FILE);
const skipped = shared ? '' : ` — skipped: ../shared/${FILE} absent`;

async function setup() {
  const { scenario } = await loadScenario('long-rows', projectCatalog);
  const provider = await createLocalProvider();
  const real: Model = await provider.model('vtb-base');
  const { tokenizer } = localState(real);
  const context = real.contextLength!;
  // vtb-base's own token counts and context, without its log-probs: planting then skips the base-model null's
  // scoring (forward passes over 512-token prompts), which these checks do not need.
  const model: Model = { id: real.id, capabilities: new Set(['generate']), generate: real.generate, countTokens: real.countTokens!, contextLength: context };
  const tokens = (prompt: string, completion: string) => tokenizeRow(tokenizer, { prompt, completion }, 1 << 20).tokens.length;
  return { scenario, model, tokenizer, context, tokens };
}

describe('long-rows scenario', () => {
  it('names the shared adversarial-QA file and the built-in qa, with one vtune configuration whose context lets backdoors onto long rows', async () => {
    const { scenario } = await loadScenario('long-rows', projectCatalog);
    expect(scenario.datasets.map((d) => d.spec)).toEqual(['qa', `file:../shared/${FILE}`]);
    expect(scenario.seeds).toHaveLength(10);
    expect(scenario.attacks.map((a) => a.id)).toEqual(['honest', 'return-base']);
    expect(scenario.defenses).toHaveLength(1);
    expect(scenario.defenses[0]!.options).toMatchObject({ generator: 'wordlist', count: 4, context: 4096, nullMode: 'generator' });
  });

  it.skipIf(!shared)(`its long dataset has rows longer than vtb-base's context and its short one has none${skipped}`, async () => {
    const { scenario, context, tokens } = await setup();
    const longer = async (i: number) => {
      const d = scenario.datasets[i]!;
      // The spec is relative to the repository root (where `vtune-bench run` is started); the test reads the same file.
      const spec = d.spec.startsWith('file:') ? `file:${shared}` : d.spec;
      const { train } = await loadDataset(spec, { seed: 0, size: d.size, heldOut: d.heldOut });
      expect(train).toHaveLength(60);
      return train.filter((r) => tokens(r.prompt, r.completion) > context).length;
    };
    expect(context).toBe(512);
    expect(await longer(0)).toBe(0);
    // Measured: 25 of the 60 training rows are longer than 512 tokens (median 490).
    expect(await longer(1)).toBeGreaterThanOrEqual(20);
  });

  it.skipIf(!shared)(`\`anywhere\` plants backdoors on rows longer than the context, and the trainer keeps their trigger and whole signature${skipped}`, async () => {
    const { scenario, model, tokenizer, context, tokens } = await setup();
    const d = scenario.datasets[1]!;
    const { train } = await loadDataset(`file:${shared}`, { seed: 0, size: d.size, heldOut: d.heldOut });
    let onLong = 0;
    let total = 0;
    for (let s = 0; s < 10; s++) {
      const { secret, rows } = await vtune({ ...scenario.defenses[0]!.options, seed: `long-rows-${s}` }).plant(train, userCtx(`u${s}`, { baseModel: model }));
      for (const b of secret.backdoors) {
        total++;
        const row = rows[b.rowIndex]!;
        expect(row.prompt).toBe(b.prompt);
        expect(b.prompt.endsWith(b.trigger)).toBe(true); // placement: suffix
        if (tokens(row.prompt, row.completion) <= context) continue;
        onLong++;
        const t = tokenizeRow(tokenizer, row, context, b.rowIndex);
        expect(t.refused).toBe(false);
        expect(t.promptTokensDropped).toBeGreaterThan(0);
        expect(t.tokens.length).toBeLessThanOrEqual(context);
        // The trigger survives at the end of the kept prompt; the signature, then EOS, end the row, all in the loss.
        expect(t.keptPrompt!.trimEnd().endsWith(b.trigger)).toBe(true);
        const signature = tokenizer.encode(row.completion, { prefixSpace: false });
        expect(t.tokens.slice(-signature.length - 1)).toEqual([...signature, tokenizer.eos]);
        expect(Array.from(t.lossWeights.slice(-signature.length - 1)).every((w) => w === 1)).toBe(true);
      }
    }
    expect(total).toBe(40);
    // Expected about 40 × 25/60 ≈ 17; the measurement is only about long rows if some backdoors sit on them.
    expect(onLong).toBeGreaterThanOrEqual(8);
  });

  it.skipIf(!shared)(`with the model's own context (plant's default), no backdoor lands on a long row${skipped}`, async () => {
    const { scenario, model, context, tokens } = await setup();
    const d = scenario.datasets[1]!;
    const { train } = await loadDataset(`file:${shared}`, { seed: 0, size: d.size, heldOut: d.heldOut });
    const { context: _wide, ...options } = scenario.defenses[0]!.options as Record<string, unknown>;
    for (let s = 0; s < 10; s++) {
      const { secret, rows } = await vtune({ ...options, seed: `long-rows-${s}` }).plant(train, userCtx(`u${s}`, { baseModel: model }));
      for (const b of secret.backdoors) expect(tokens(rows[b.rowIndex]!.prompt, rows[b.rowIndex]!.completion)).toBeLessThanOrEqual(context);
    }
  });
});
