/**
 * `calibrate`'s null trials on test-memorizer (A TEST DOUBLE: a deterministic word-level "model", never a
 * result) and on the embedded engine's tiny random model: records, batching, resume, fresh secrets.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCalibration, type CalibrationOptions } from '../../src/calibrate/run.js';
import { typeIRows } from '../../src/calibrate/analyze.js';
import { readCalibrationFile } from '../../src/calibrate/records.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import type { GenerateOptions, Logger, Model } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** Counts calls reaching the wrapped model (to see that trials share batched calls). */
function counting(model: Model): Model & { generateCalls: number; prompts: number; scoreCalls: number } {
  const m = Object.create(model) as Model & { generateCalls: number; prompts: number; scoreCalls: number };
  m.generateCalls = 0;
  m.prompts = 0;
  m.scoreCalls = 0;
  m.generate = async (prompts: readonly string[], o: GenerateOptions) => {
    m.generateCalls++;
    m.prompts += prompts.length;
    return model.generate(prompts, o);
  };
  m.score = async (items) => {
    m.scoreCalls++;
    return model.score!(items);
  };
  return m;
}

const options = (over: Partial<CalibrationOptions> = {}): CalibrationOptions => ({
  generators: [{ id: 'wordlist' }, { id: 'random-tokens' }],
  count: 4,
  trials: 40,
  dataset: { spec: 'stories', size: 20 },
  empiricalM: 99,
  slack: 4,
  seed: 'test',
  batch: 16,
  ...over,
});

async function memorizer() {
  const provider = await createTestMemorizerProvider();
  return counting(await provider.model('base'));
}

describe('runCalibration on the test-memorizer double', () => {
  it('records one trial per (generator, null model, trial) with log10 p under every supported mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    const base = await memorizer();
    const out = join(dir, 'calibration.jsonl');
    const res = await runCalibration(options(), { base, baseLabel: 'test-memorizer:base', nullModels: [{ label: 'test-memorizer:base', kind: 'base', model: base }], outFile: out, log: quiet });
    expect(res.ran).toBe(80);
    const recs = readCalibrationFile(out);
    expect(recs).toHaveLength(80);
    for (const r of recs) {
      expect(r).toMatchObject({ kind: 'calibration', count: 4, n: 4, nullModel: 'test-memorizer:base', nullModelKind: 'base', baseModel: 'test-memorizer:base', empiricalM: 99 });
      // every mode these generators support, from the same outputs
      expect(Object.keys(r.log10pByNullMode).sort()).toEqual(['base-model', 'conditional', 'empirical', 'generator']);
      for (const v of Object.values(r.log10pByNullMode)) expect(v).toBeLessThanOrEqual(0);
      // the empirical null's floor is 1/(M + 1)
      expect(r.log10pByNullMode.empirical!).toBeGreaterThanOrEqual(Math.log10(1 / 100) - 1e-12);
    }
    // fresh planting seeds: every trial its own secret
    expect(new Set(recs.map((r) => r.seed)).size).toBe(80);
    expect(recs.filter((r) => r.generator.id === 'wordlist').map((r) => r.trial)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // no trigger, signature or model output in the file
    expect(readFileSync(out, 'utf8')).not.toMatch(/"(trigger|signature|output)"/);
  }, 60_000);

  it('batches the verification queries of many trials into few model calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    const base = await memorizer();
    await runCalibration(options({ generators: [{ id: 'wordlist' }], trials: 48, batch: 48 }), {
      base,
      baseLabel: 'b',
      nullModels: [{ label: 'b', kind: 'base', model: base }],
      outFile: join(dir, 'c.jsonl'),
      log: quiet,
    });
    expect(base.prompts).toBe(48 * 4);
    // one call per distinct token budget in the wave, not one per trial
    expect(base.generateCalls).toBeLessThan(12);
    // base-model log-probs of the whole wave in one call
    expect(base.scoreCalls).toBe(1);
  }, 60_000);

  it('resumes: trials already recorded are kept, a torn last line is re-run, another configuration is not reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    const out = join(dir, 'calibration.jsonl');
    const base = await memorizer();
    const deps = { base, baseLabel: 'b', nullModels: [{ label: 'b', kind: 'base' as const, model: base }], outFile: out, log: quiet };
    const one = options({ generators: [{ id: 'wordlist' }], trials: 20 });
    const first = await runCalibration(one, deps);
    // a killed write: the last record without its newline
    const text = readFileSync(out, 'utf8');
    writeFileSync(out, text.slice(0, text.length - 30));
    const second = await runCalibration({ ...one, trials: 30 }, deps);
    expect(second.reused).toBe(19);
    expect(second.ran).toBe(11);
    expect(second.records.map((r) => r.trial).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // re-running the same trial gives the same record (deterministic seeds)
    const again = second.records.find((r) => r.trial === 19)!;
    expect(again).toEqual(first.records.find((r) => r.trial === 19));
    const third = await runCalibration({ ...one, seed: 'other' }, deps);
    expect(third).toMatchObject({ reused: 0, ran: 20 });
  }, 60_000);

  it('rejects bad options before any work, naming the option', async () => {
    const base = await memorizer();
    const deps = { base, baseLabel: 'b', nullModels: [{ label: 'b', kind: 'base' as const, model: base }], outFile: join(tmpdir(), 'never.jsonl'), log: quiet };
    await expect(runCalibration(options({ trials: 0 }), deps)).rejects.toThrow(/'trials' must be an integer ≥ 1/);
    await expect(runCalibration(options({ generators: [{ id: 'wordlsit' }] }), deps)).rejects.toThrow(/unknown generator 'wordlsit'/);
    await expect(runCalibration(options({ count: 500 }), deps)).rejects.toThrow(/fewer than count = 500/);
    expect(base.generateCalls).toBe(0);
  });
});

describe('runCalibration on the embedded engine (local:random-tiny)', () => {
  it('verifies fresh secrets against the real engine, batched', async () => {
    const provider = await createLocalProvider();
    const tiny = counting(await provider.model('random-tiny'));
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    try {
      const res = await runCalibration(options({ generators: [{ id: 'wordlist' }], trials: 24, batch: 24, empiricalM: 19 }), {
        base: tiny,
        baseLabel: 'local:random-tiny',
        nullModels: [{ label: 'local:random-tiny', kind: 'base', model: tiny }],
        outFile: join(dir, 'calibration.jsonl'),
        log: quiet,
      });
      expect(res.records).toHaveLength(24);
      // a random tiny model never answers a wordlist signature: K = 0, p = 1 under the model-free bound
      for (const r of res.records) expect(r.log10pByNullMode.generator).toBe(0);
      // one call per distinct token budget (byte-level tokens make budgets vary), never one per trial
      expect(tiny.prompts).toBe(24 * 4);
      expect(tiny.generateCalls).toBeLessThan(24);
    } finally {
      await tiny.dispose?.();
    }
  }, 60_000);
});

describe('runCalibration of any registered defense (issue 19)', () => {
  it('plants fresh secrets through the defense itself, records its test as the null mode, and resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    const out = join(dir, 'calibration.jsonl');
    const base = await memorizer();
    const deps = { base, baseLabel: 'test-memorizer:base', nullModels: [{ label: 'test-memorizer:base', kind: 'base' as const, model: base }], outFile: out, log: quiet };
    const o = options({ generators: [], defenses: [{ id: 'cue-reply', options: { candidates: 99 } }, { id: 'utility-gain', options: { heldOut: 5, alpha: 0.01 } }], trials: 12, batch: 6 });
    const res = await runCalibration(o, deps);
    expect(res.ran).toBe(24);
    const recs = readCalibrationFile(out);
    const cue = recs.filter((r) => r.defense?.id === 'cue-reply');
    const ug = recs.filter((r) => r.defense?.id === 'utility-gain');
    expect(cue).toHaveLength(12);
    expect(ug).toHaveLength(12);
    for (const r of cue) {
      expect(r).toMatchObject({ generator: { id: 'cue-reply', label: 'cue-reply(candidates=99)' }, count: 4, n: 4, empiricalM: 0, statistic: { name: 'rank-sum' } });
      expect(Object.keys(r.log10pByNullMode)).toEqual(['rank-sum']);
    }
    // the base model returned unchanged: every private row ties, p = 1
    for (const r of ug) expect(r.log10pByNullMode).toEqual({ 'sign-test': 0 });
    expect(new Set(recs.map((r) => r.seed)).size).toBe(24);
    // the Type-I table groups each defense as one configuration
    const rows = typeIRows(recs, [0.05, 0.01]);
    expect(rows.map((r) => [r.generator, r.nullMode, r.trials])).toEqual([
      ['cue-reply(candidates=99)', 'rank-sum', 12],
      ['utility-gain(alpha=0.01,heldOut=5)', 'sign-test', 12],
    ]);
    const again = await runCalibration({ ...o, trials: 15 }, deps);
    expect(again).toMatchObject({ reused: 24, ran: 6 });
  }, 60_000);

  it('refuses a fixed seed (every trial would plant the same secret), an unknown defense and bad options before any work', async () => {
    const base = await memorizer();
    const deps = { base, baseLabel: 'b', nullModels: [{ label: 'b', kind: 'base' as const, model: base }], outFile: join(tmpdir(), 'never.jsonl'), log: quiet };
    await expect(runCalibration(options({ generators: [], defenses: [{ id: 'cue-reply', options: { seed: 'x' } }] }), deps)).rejects.toThrow(/option 'seed' would plant the same secret/);
    await expect(runCalibration(options({ generators: [], defenses: [{ id: 'cue-replay' }] }), deps)).rejects.toThrow(/unknown defense 'cue-replay'. Did you mean 'cue-reply'/);
    await expect(runCalibration(options({ generators: [], defenses: [{ id: 'cue-reply', options: { cues: 0 } }] }), deps)).rejects.toThrow("defense 'cue-reply': cues: expected an integer in [1, 10000], got 0");
    await expect(runCalibration(options({ generators: [] }), deps)).rejects.toThrow(/at least one generator or defense/);
    expect(base.generateCalls).toBe(0);
  });

  it('the committed vTune calibration records still resume under the CLI defaults: every trial reused, none re-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-cal-'));
    const out = join(dir, 'calibration.jsonl');
    copyFileSync(join(import.meta.dirname, '../../results/calibration/random-tokens+wordlist-n4-local_vtb-base/calibration.jsonl'), out);
    const never: Model = { id: 'never', capabilities: new Set(['generate', 'logprobs']), generate: async () => { throw new Error('no trial may run'); }, score: async () => { throw new Error('no trial may run'); } };
    const res = await runCalibration(
      { generators: [{ id: 'random-tokens' }, { id: 'wordlist' }], count: 4, trials: 3000, dataset: { spec: 'stories', size: 60 }, empiricalM: 999, slack: 4, seed: 'calibrate', batch: 256 },
      { base: never, baseLabel: 'local:vtb-base', nullModels: [{ label: 'local:vtb-base', kind: 'base', model: never }, { label: 'ft:291dfb0b867d', kind: 'fine-tune', model: never }], outFile: out, log: quiet },
    );
    expect(res).toMatchObject({ ran: 0, reused: 12_000 });
  }, 60_000);
});
