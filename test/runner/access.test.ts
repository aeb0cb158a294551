/**
 * Attack access against provider capability, checked by preflight before any cell runs (issue 16): a weights
 * attack on an `openai:` model fails at load, naming the attack, the model and the missing capability. The
 * openai provider is the real one (chat API: opening a model makes no request, so no server is needed); its key
 * is a dummy set for the test only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectCatalog, type Catalog } from '../../src/runner/catalog.js';
import { preflight } from '../../src/runner/expand.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario } from '../../src/runner/scenario.js';
import type { Logger } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

const raw = (models: string[], attacks: { id: string; options?: Record<string, unknown> }[]) => ({
  name: 'access',
  seeds: [1],
  datasets: [{ spec: 'qa', size: 40, heldOut: 2 }],
  models,
  defenses: [{ id: 'vtune', options: { count: 2 } }],
  attacks: attacks.map((a) => ({ options: {}, ...a })),
  hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
  providers: { openai: { baseURL: 'http://127.0.0.1:9/v1' } },
});

describe('preflight: attack access against provider capability', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-test-dummy-key-for-preflight';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved;
  });

  it('refuses weight-noise and unlearn on an openai: model at load, naming attack, model and capability; no cell runs', async () => {
    let ran = 0;
    const catalog: Catalog = { ...projectCatalog, runCell: async () => { ran++; throw new Error('must not run'); } };
    const s = validateScenario(raw(['openai:gpt-4o-mini'], [{ id: 'honest' }, { id: 'weight-noise' }, { id: 'unlearn' }]), catalog, 'access.ts');
    const err = await preflight(s, catalog, 'access.ts').then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain(
      "access.ts: attacks[1] on models[0] ('openai:gpt-4o-mini'): 'weight-noise' needs 'weights' access, which provider 'openai' / model 'openai:gpt-4o-mini' cannot give (declares: train, generate)",
    );
    expect(err?.message).toContain("access.ts: attacks[2] on models[0] ('openai:gpt-4o-mini'): 'unlearn' needs 'weights' access");
    // honest needs only training, which openai gives.
    expect(err?.message).not.toMatch(/attacks\[0\]/);
    const root = mkdtempSync(join(tmpdir(), 'vtune-access-'));
    await expect(runScenario({ scenario: s, file: 'access.ts', catalog, resultsRoot: root, log: quiet })).rejects.toThrow(/'weight-noise' needs 'weights' access/);
    expect(ran).toBe(0);
  });

  it('passes the attacks a model can serve, and refuses weight-noise on test-memorizer (no weights)', async () => {
    const s = validateScenario(raw(['test-memorizer:base'], [{ id: 'honest' }, { id: 'return-base' }, { id: 'random-subset', options: { fraction: 0.5 } }]), projectCatalog, 'ok.ts');
    const providers = await preflight(s, projectCatalog, 'ok.ts');
    expect([...providers.keys()]).toEqual(['test-memorizer']);
    await Promise.all([...providers.values()].map((p) => p.close?.()));
    // weight-noise needs weights, which test-memorizer does not have either.
    const w = validateScenario(raw(['test-memorizer:base'], [{ id: 'weight-noise', options: { train: true } }]), projectCatalog, 'w.ts');
    await expect(preflight(w, projectCatalog, 'w.ts')).rejects.toThrow("w.ts: attacks[0] on models[0] ('test-memorizer:base'): 'weight-noise' needs 'weights' access, which provider 'test-memorizer' / model 'test-memorizer:base' cannot give");
  });
});
