/**
 * Defense access refused before any cell runs (issue 19): a scenario pairing a defense with a model that
 * cannot give what its verify needs fails at preflight, naming the defense, the model and the capability, and
 * no cell runs. Uses the FAKE catalog (test/runner/fake-catalog.ts: its models declare only 'generate') with a
 * defense registry of two doubles that declare their access and nothing else.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineRegistry } from '../../src/registry.js';
import type { Catalog } from '../../src/runner/catalog.js';
import { defenseAccessProblems } from '../../src/runner/defense-access.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario } from '../../src/runner/scenario.js';
import type { Logger } from '../../src/types.js';
import { catalog as fake } from './fake-catalog.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const defenses = defineRegistry('defense', {
  vtune: () => ({ id: 'vtune', access: ['generate'] }),
  'loss-double': () => ({ id: 'loss-double', access: ['logprobs'] }),
  'undeclared-double': () => ({ id: 'undeclared-double' }),
});

function scenarioWith(defenseIds: string[]) {
  const cat: Catalog = { ...fake, defenses, runCell: async () => { ran++; throw new Error('no cell may run'); } };
  const raw = {
    name: 'access',
    seeds: 1,
    datasets: [{ spec: 'fake:stories', size: 20 }],
    models: ['fake:base'],
    defenses: defenseIds.map((id) => ({ id })),
    attacks: ['honest'],
    hyper: { epochs: 1, learningRate: 0.001, batchSize: 8 },
  };
  return { cat, scenario: validateScenario(raw, cat, 'scenarios/access.ts') };
}
let ran = 0;

describe('defense access at preflight', () => {
  it('refuses a logprobs verifier on a generate-only model before any cell, naming defense, model and capability', async () => {
    ran = 0;
    const { cat, scenario } = scenarioWith(['vtune', 'loss-double']);
    const root = mkdtempSync(join(tmpdir(), 'vtb-access-'));
    await expect(runScenario({ scenario, file: 'scenarios/access.ts', catalog: cat, resultsRoot: root, log: quiet })).rejects.toThrow(
      "scenarios/access.ts: defenses[1]: defense 'loss-double' needs 'logprobs' of the returned model, which models[0] ('fake:base') cannot give",
    );
    expect(ran).toBe(0);
  });

  it('lets a generate-only verifier through on the same model, and refuses a defense that declares no access', async () => {
    ran = 0;
    const ok = scenarioWith(['vtune']);
    const root = mkdtempSync(join(tmpdir(), 'vtb-access-'));
    const summary = await runScenario({ scenario: ok.scenario, file: 'x', catalog: ok.cat, resultsRoot: root, log: quiet });
    expect(summary).toMatchObject({ total: 1, failed: 1 }); // past preflight: the cell ran (and the double threw)
    expect(ran).toBe(1);
    const bad = scenarioWith(['undeclared-double']);
    await expect(runScenario({ scenario: bad.scenario, file: 'x', catalog: bad.cat, resultsRoot: mkdtempSync(join(tmpdir(), 'vtb-access-')), log: quiet })).rejects.toThrow(
      "defenses[0]: defense 'undeclared-double' declares no access",
    );
  });

  it("gives the model's own reason for a missing capability, once per (defense, model, capability)", () => {
    const problems = defenseAccessProblems(
      [{ id: 'loss-double', options: {} }],
      [
        { spec: 'local:vtb-base', capabilities: new Set(['train', 'generate', 'logprobs']) },
        undefined,
        { spec: 'openai:gpt-4o-mini', capabilities: new Set(['train', 'generate']), unavailable: { logprobs: 'chat models return no prompt log-probs' } },
      ],
      defenses,
    );
    expect(problems).toEqual(["defenses[0]: defense 'loss-double' needs 'logprobs' of the returned model, which models[2] ('openai:gpt-4o-mini') cannot give (chat models return no prompt log-probs)"]);
  });
});
