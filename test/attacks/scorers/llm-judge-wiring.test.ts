/**
 * llm-judge's judge model comes through the same provider wiring as every model of the scenario: the runner
 * opens the judge's provider once, with the scenario's `providers.<id>` options, and the judge's forwards are
 * counted like every provider-side model's (cost.providerPasses). The judge provider is a TEST DOUBLE (it
 * answers every row of a judge prompt with the score its options name); the rest is the real pipeline with
 * the test-memorizer provider, the vtune defense and the built-in qa dataset.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../../src/records/schema.js';
import { readRecordsFile } from '../../../src/records/store.js';
import { projectCatalog, type Catalog, type PluginRegistry } from '../../../src/runner/catalog.js';
import { runScenario } from '../../../src/runner/run.js';
import { validateScenario } from '../../../src/runner/scenario.js';
import type { Capability, Logger, Model, Provider } from '../../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** The judge double: every `Row N` of a judge prompt gets the score in its provider options. Counts prompts. */
function judgeProvider(options: Readonly<Record<string, unknown>>, seen: { prompts: number }): Provider {
  const score = Number(options.score);
  const model = (name: string): Model => ({
    id: `judge-double:${name}`,
    capabilities: new Set<Capability>(['generate']),
    async generate(prompts) {
      seen.prompts += prompts.length;
      return prompts.map((p) => [...p.matchAll(/^Row (\d+)$/gm)].map((m) => `${m[1]} | ${score}`).join('\n'));
    },
  });
  return { id: 'judge-double', capabilities: new Set<Capability>(['generate']), concurrency: 1, model: async (name) => model(name) };
}

describe('llm-judge through the run\'s providers', () => {
  it('opens the judge with the scenario\'s provider options, once, and counts its forwards', async () => {
    const opened: { id: string; options: unknown }[] = [];
    const seen = { prompts: 0 };
    const providers: PluginRegistry = {
      kind: 'provider',
      ids: [...projectCatalog.providers.ids, 'judge-double'],
      has: (id) => id === 'judge-double' || projectCatalog.providers.has(id),
      get: (id) => (id === 'judge-double' ? 'a judge double' : projectCatalog.providers.get(id)),
    };
    const catalog: Catalog = {
      ...projectCatalog,
      providers,
      openProvider: async (id, options) => {
        opened.push({ id, options });
        return id === 'judge-double' ? judgeProvider(options ?? {}, seen) : projectCatalog.openProvider(id, options);
      },
    };
    const scenario = validateScenario(
      {
        name: 'judge-wiring',
        seeds: [1, 2],
        datasets: [{ spec: 'qa', size: 40, heldOut: 2 }],
        models: ['test-memorizer:base'],
        defenses: [{ id: 'vtune', options: { count: 2 } }],
        attacks: [{ id: 'detect-then-filter', options: { scorer: 'llm-judge', scorerOptions: { judge: 'judge-double:strict', samples: 1, batchSize: 10 }, policy: 'drop-flagged' } }],
        hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
        providers: { 'judge-double': { score: 9 } },
      },
      catalog,
      'judge-wiring.ts',
    );
    const root = mkdtempSync(join(tmpdir(), 'vtune-judge-'));
    const summary = await runScenario({ scenario, file: 'judge-wiring.ts', catalog, resultsRoot: root, log: quiet });
    expect(summary).toMatchObject({ succeeded: 2, failed: 0 });

    // Opened once for the whole run, with exactly the scenario's options.
    expect(opened.filter((o) => o.id === 'judge-double')).toEqual([{ id: 'judge-double', options: { score: 9 } }]);
    const trials = readRecordsFile(summary.recordsPath).records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials).toHaveLength(2);
    // 42 submitted rows in batches of 10: 5 judge prompts per cell, each counted as a provider-side forward.
    expect(seen.prompts).toBe(10);
    for (const t of trials) {
      expect((t.cost as { providerPasses?: number }).providerPasses).toBe(5);
      expect(t.cost.judgeTokens).toBeGreaterThan(0);
      // score 9 (the options' value) flags every row: drop-flagged trains nothing.
      expect(t.truth.rowsTrained).toBe(0);
    }
  }, 120_000);
});
