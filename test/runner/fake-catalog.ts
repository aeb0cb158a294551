/**
 * A FAKE pipeline for runner/records/report tests: deterministic, millisecond cells that follow the real
 * contract (CellSpec → CellOutcome, training through the TrainCache, progress stages), so the runner can be
 * tested without the embedded engine. Not a model of vTune's statistics beyond "trained backdoors hit".
 * FAKE_CELL_DELAY_MS slows cells.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../src/errors.js';
import { definePlugin, z } from '../../src/plugins/define.js';
import { defineRegistry } from '../../src/registry.js';
import { streamFor } from '../../src/rng.js';
import type { CellOutcome, CellSpec, RunCell } from '../../src/runner/contract.js';
import type { Catalog } from '../../src/runner/catalog.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { binomialLog10Sf } from '../../src/stats/binomial.js';
import type { AttackGoal, Dataset, Model, Provider, TrainResult } from '../../src/types.js';

type Behaviour = { goal: AttackGoal; trainedFraction: number; backdoorFraction: number; wrapped?: boolean };

const fraction = z.number().gt(0).lte(1).optional();

/** A fake attack, declared like the real ones (src/plugins/define.ts) so the loader checks its options by schema. */
const fakeAttack = (id: string, behave: (o: Record<string, unknown>) => Behaviour, shape: Record<string, z.ZodType> = {}) =>
  definePlugin('attack', { id, description: `fake ${id} (test double)`, options: z.object(shape), create: (o: Record<string, unknown>) => ({ id, ...behave(o) }) });

/** The fake attack registry (ids mirror the real suite's baselines and a few dishonest strategies). */
export const fakeAttacks = defineRegistry('attack', {
  honest: fakeAttack('honest', () => ({ goal: 'baseline', trainedFraction: 1, backdoorFraction: 1 })),
  'return-base': fakeAttack('return-base', () => ({ goal: 'baseline', trainedFraction: 0, backdoorFraction: 0 })),
  'train-without-backdoors': fakeAttack('train-without-backdoors', () => ({ goal: 'baseline', trainedFraction: 0.98, backdoorFraction: 0 })),
  'random-subset': fakeAttack('random-subset', (o) => ({ goal: 'pass', trainedFraction: Number(o.fraction ?? 0.5), backdoorFraction: Number(o.fraction ?? 0.5) }), { fraction }),
  'keep-only-flagged': fakeAttack('keep-only-flagged', () => ({ goal: 'pass', trainedFraction: 0.03, backdoorFraction: 0.9 })),
  'drop-flagged': fakeAttack('drop-flagged', (o) => ({ goal: 'evade', trainedFraction: 0.97, backdoorFraction: 1 - Number(o.recall ?? 0.2) }), { recall: fraction }),
});

const fakeProviderEntries = { fake: 'a deterministic in-memory trainer', openai: 'needs OPENAI_API_KEY' };
/** The fake provider registry. */
export const fakeProviders = defineRegistry('provider', fakeProviderEntries);

function fakeModel(id: string): Model {
  return { id, capabilities: new Set(['generate']), generate: async (prompts) => prompts.map(() => '') };
}

/** Counts trainings across the process, so tests can see the cache work. */
export const fakeTrainings = { count: 0 };

function fakeProvider(): Provider {
  return {
    id: 'fake',
    capabilities: new Set(['train', 'generate']),
    concurrency: 2,
    model: async (name) => fakeModel(`fake:${name}`),
    train: async (base, req): Promise<TrainResult> => {
      fakeTrainings.count++;
      const tokens = req.rows.reduce((a, r) => a + r.prompt.length + r.completion.length, 0);
      return { model: fakeModel(`${base.id}-ft`), stepsRun: Math.ceil(req.rows.length / req.hyper.batchSize), tokensTrained: tokens };
    },
    saveModel: async (model, path) => writeFileSync(path, JSON.stringify({ id: model.id })),
    loadModel: async (path) => fakeModel((JSON.parse(readFileSync(path, 'utf8')) as { id: string }).id),
  };
}

/** The FAKE runCell: outcome is a deterministic function of the cell key. */
export const fakeRunCell: RunCell = async (spec, deps) => {
  const delay = Number(process.env.FAKE_CELL_DELAY_MS ?? 0);
  const providerId = spec.model.slice(0, spec.model.indexOf(':'));
  const provider = await deps.openProvider(providerId);
  const attack = fakeAttacks.get(spec.attack.id)(spec.attack.options as Record<string, unknown>) as { id: string } & Behaviour;
  if (spec.attack.options.crash === true) throw new Error('simulated crash');
  const rng = streamFor(spec.key, 'fake');
  deps.onProgress?.({ stage: 'plant', done: 0 });
  const n = Number(spec.defense.options.count ?? 8);
  const alpha = Number(spec.defense.options.alpha ?? 1e-3);
  const rows = spec.dataset.size ?? 200;
  let trainCached = false;
  let tokens = 0;
  if (attack.trainedFraction > 0 && provider.train) {
    const trainedRows = Math.max(1, Math.round(rows * attack.trainedFraction));
    const key = createHash('sha256').update(canonicalJson({ p: provider.id, m: spec.model, trainedRows, b: attack.backdoorFraction, h: spec.hyper, s: spec.seed })).digest('hex');
    const train = async (): Promise<TrainResult> => {
      for (let i = 0; i < 3; i++) {
        deps.onProgress?.({ stage: 'train', done: i, total: 3, tokens: i * 100 });
        if (delay) await new Promise((r) => setTimeout(r, delay / 3));
      }
      const base = await provider.model('base');
      return provider.train!(base, { rows: Array.from({ length: trainedRows }, (_, i) => ({ prompt: `p${i}`, completion: `c${i}` })), hyper: spec.hyper, seed: spec.seed });
    };
    const result = deps.trainCache ? await deps.trainCache.getOrTrain(key, provider, train) : { ...(await train()), cached: false };
    trainCached = result.cached;
    tokens = result.tokensTrained;
  } else if (delay) await new Promise((r) => setTimeout(r, delay));
  if (deps.signal?.aborted) throw new Error('aborted');
  deps.onProgress?.({ stage: 'verify', done: 0 });
  const q = 1e-3;
  const hits = Array.from({ length: n }, (_, i) => i < Math.round(n * attack.backdoorFraction) && rng.float() < 0.9);
  const k = hits.filter(Boolean).length;
  const log10p = binomialLog10Sf(k, n, q);
  const verified = log10p <= Math.log10(alpha);
  const honest = attack.id === 'honest';
  const defenseWon =
    attack.goal === 'pass' ? !verified : attack.goal === 'evade' ? verified : honest ? verified : !verified;
  const outcome: CellOutcome = {
    key: spec.key,
    verdict: {
      defense: 'vtune',
      verified,
      log10p,
      alpha,
      nullMode: String(spec.defense.options.nullMode ?? 'generator'),
      k,
      n,
      containsCount: k,
      perBackdoor: hits.map((hit, index) => ({ index, output: 'SIGNATURE-NEVER-RECORDED', hit, contains: hit, log10q: Math.log10(q) })),
      queries: n,
    },
    truth: {
      rowsSubmitted: rows + n,
      backdoorRowsSubmitted: n,
      rowsTrained: Math.round((rows + n) * attack.trainedFraction),
      backdoorRowsTrained: Math.round(n * attack.backdoorFraction),
      stepsPromised: 10,
      stepsRun: Math.round(10 * attack.trainedFraction),
      tokensTrained: tokens,
      trainedTokenFraction: attack.trainedFraction,
      modelModified: false,
      inferenceWrapped: false,
      honest,
      plantedRowsWithheld: 0,
    },
    attack: { id: attack.id, goal: attack.goal, oracle: attack.id === 'keep-only-flagged' },
    defenseWon,
    utility: { heldOutLossNatsPerToken: 2 + (1 - attack.trainedFraction) + rng.float() * 0.01, taskMetric: 0.5 * attack.trainedFraction, rows: 10 },
    cost: { trainedTokenFraction: attack.trainedFraction, extraInferencePasses: 0, providerPasses: 0, judgeTokens: 0, judgeUsd: 0 },
    ...(attack.goal !== 'baseline' && { detection: { auroc: 0.9, tprAt1Fpr: 0.5, flaggedFraction: 0.015, cleanFlaggedFraction: 0.01 } }),
    timingsMs: { total: delay },
    trainCached,
  };
  return outcome;
};

/** A fake dataset loader: `fake:<name>` with 500 rows available. */
async function fakeLoadDataset(spec: string, options: { seed: number; size?: number; heldOut?: number }): Promise<Dataset> {
  if (!spec.startsWith('fake:')) throw new ConfigError(`unknown dataset '${spec}'`);
  const size = options.size ?? 200;
  if (size > 500) throw new ConfigError(`dataset '${spec}' has 500 rows, asked for ${size}`);
  const rows = Array.from({ length: size }, (_, i) => ({ prompt: `p${i}`, completion: `c${i}` }));
  return { id: spec, train: rows, heldOut: rows.slice(0, options.heldOut ?? 10) };
}

/** The fake catalog. */
export const catalog: Catalog = {
  attacks: fakeAttacks,
  providers: fakeProviders,
  openProvider: async (id) => {
    if (id === 'openai' && !process.env.OPENAI_API_KEY) throw new ConfigError('OPENAI_API_KEY is not set (the openai provider needs an API key)');
    return fakeProvider();
  },
  loadDataset: fakeLoadDataset,
  runCell: fakeRunCell,
  cellKey: (spec: Omit<CellSpec, 'key'>) => createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 32),
};
