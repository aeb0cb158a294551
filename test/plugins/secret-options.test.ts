/**
 * Secret options (src/plugins/secret.ts): keyed's `key` never reaches a calibration record, label, progress
 * line, run trial record or manifest — they show its fingerprint — while every hash of a configuration without
 * a secret (and of the leaderboard's published benchmark key) stays what it was. Calibration runs on the
 * test-memorizer provider (A TEST DOUBLE: a deterministic word-level "model", never a result); the run on
 * test/runner/fake-catalog.ts (a FAKE pipeline).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCalibration, type CalibrationOptions, type CalibrationProgress } from '../../src/calibrate/run.js';
import { readCalibrationFile } from '../../src/calibrate/records.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { describeError } from '../../src/errors.js';
import { parseGeneratorSpec } from '../../src/cli/commands/calibrate.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { readRecordsFile } from '../../src/records/store.js';
import type { TrialRecord } from '../../src/records/schema.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { expandCells } from '../../src/runner/expand.js';
import { makeManifest } from '../../src/runner/manifest.js';
import { runScenario } from '../../src/runner/run.js';
import { loadScenario, scenarioHash, validateScenario } from '../../src/runner/scenario.js';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import type { Logger } from '../../src/types.js';
import { keyFingerprint, PUBLISHED_BENCHMARK_KEY } from '../../defenses/vtune/generators/keyed.js';
import { catalog as fakeCatalog } from '../runner/fake-catalog.js';

const SECRET = 'k1-test-user-secret-3f9a0c';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

const calibration = (over: Partial<CalibrationOptions>): CalibrationOptions => ({
  generators: [],
  count: 4,
  trials: 2,
  dataset: { spec: 'stories', size: 20 },
  empiricalM: 9,
  slack: 4,
  seed: 'secret-options',
  batch: 2,
  ...over,
});

async function calibrate(over: Partial<CalibrationOptions>): Promise<{ text: string; lines: string[]; configs: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'vtb-secret-'));
  const base = await (await createTestMemorizerProvider()).model('base');
  const out = join(dir, 'calibration.jsonl');
  const lines: string[] = [];
  const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), debug: (m) => lines.push(m) };
  const res = await runCalibration(calibration(over), {
    base,
    baseLabel: 'test-memorizer:base',
    nullModels: [{ label: 'test-memorizer:base', kind: 'base', model: base }],
    outFile: out,
    log,
    // what the CLI prints per wave (src/cli/commands/calibrate.ts)
    onProgress: (p: CalibrationProgress) => lines.push(`calibrate: ${p.generator} × ${p.nullModel}: ${p.done}/${p.total}`),
  });
  lines.push(...res.warnings.map((w) => w.message));
  return { text: readFileSync(out, 'utf8'), lines, configs: [...new Set(readCalibrationFile(out).map((r) => r.config))] };
}

describe('a secret option (keyed key) in calibrate', () => {
  const fp = keyFingerprint(SECRET);

  it('records, labels and progress lines of a keyed generator configuration show the fingerprint, never the key', async () => {
    const { text, lines } = await calibrate({ generators: [{ id: 'keyed', options: { key: SECRET } }] });
    expect(text).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(SECRET);
    const r = JSON.parse(text.split('\n')[0]!) as { generator: { label: string; options: Record<string, unknown> } };
    expect(r.generator.label).toBe(`keyed(keyFingerprint=${fp})`);
    expect(r.generator.options).toMatchObject({ keyFingerprint: fp });
    expect(lines.some((l) => l.includes(`keyed(keyFingerprint=${fp})`))).toBe(true);
  }, 60_000);

  it('a vtune defense configuration with a keyed generator records generatorOptions.keyFingerprint, never the key', async () => {
    const { text, lines } = await calibrate({ defenses: [{ id: 'vtune', options: { generator: 'keyed', generatorOptions: { key: SECRET }, count: 4, empiricalM: 9 } }] });
    expect(text).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain(SECRET);
    const r = JSON.parse(text.split('\n')[0]!) as { defense: { label: string; options: Record<string, unknown> } };
    expect(r.defense.options).toEqual({ generator: 'keyed', generatorOptions: { keyFingerprint: fp }, count: 4, empiricalM: 9 });
    expect(r.defense.label).toContain(`keyFingerprint":"${fp}`);
  }, 60_000);

  it('a --generator spec that is not valid JSON is refused without quoting it', () => {
    let message = '';
    try {
      parseGeneratorSpec(`keyed:{"key":"${SECRET}",}`, {});
    } catch (err) {
      message = describeError(err);
    }
    expect(message).toMatch(/--generator: expected a JSON object/);
    expect(message).not.toContain(SECRET);
  });

  it('configurations without a secret keep their resume keys (config hashes computed before secret options existed)', async () => {
    const { configs } = await calibrate({
      generators: [{ id: 'wordlist' }, { id: 'random-tokens', options: { signatureLength: 5 } }],
      defenses: [{ id: 'vtune', options: { generator: 'wordlist', count: 4, empiricalM: 9 } }],
      trials: 1,
    });
    // Printed by this test on the code before src/plugins/secret.ts (commit 11d32be): wordlist, random-tokens, vtune.
    expect(configs).toEqual(['6165ede95b84d7c1', 'b04a93ba65663132', 'd5ac2b52b4b1802c']);
  }, 60_000);
});

describe('a secret option (keyed key) in run', () => {
  it("a run's trial records and manifest show generatorOptions.keyFingerprint, never the key; cell keys hash the options as written", async () => {
    const raw = {
      name: 'secret-options',
      description: 'FAKE pipeline (test/runner/fake-catalog.ts): a keyed defense with a user key',
      seeds: 1,
      datasets: [{ spec: 'fake:stories', size: 40 }],
      models: ['fake:base'],
      defenses: [{ options: { generator: 'keyed', generatorOptions: { key: SECRET }, nullMode: 'generator', count: 4, alpha: 0.001 } }],
      attacks: ['honest', 'return-base'],
      hyper: { epochs: 1, learningRate: 0.001, batchSize: 8 },
    };
    const scenario = validateScenario(raw, fakeCatalog);
    const root = mkdtempSync(join(tmpdir(), 'vtb-secret-run-'));
    const warnings: string[] = [];
    await runScenario({ scenario, file: 'secret-options.json', catalog: fakeCatalog, resultsRoot: root, trainCache: new DiskTrainCache(join(root, 'cache')), log: { ...quiet, warn: (m) => warnings.push(m) } });
    const file = join(root, 'secret-options', scenarioHash(scenario), 'records.jsonl');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(warnings.join('\n')).not.toContain(SECRET);
    const recs = readRecordsFile(file);
    const trials = recs.records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials).toHaveLength(2);
    for (const t of trials) expect(t.cell.defense.options.generatorOptions).toEqual({ keyFingerprint: keyFingerprint(SECRET) });
    // The cell key is the hash of the options as written (as for every other configuration).
    const planned = expandCells(scenario, fakeCatalog.cellKey);
    expect(planned.map((c) => c.spec.key).sort()).toEqual(trials.map((t) => t.cellKey).sort());
    expect(planned[0]!.spec.defense.options.generatorOptions).toEqual({ key: SECRET });
  }, 60_000);

  it('the leaderboard (published benchmark key, and every configuration without a secret) plans the committed cells byte-for-byte', async () => {
    const { scenario } = await loadScenario('leaderboard', projectCatalog);
    expect(scenarioHash(scenario)).toBe('99d343cfc106');
    const committed = readRecordsFile(join(import.meta.dirname, '..', '..', 'results', 'leaderboard', '99d343cfc106', 'records.jsonl.gz'));
    const byKey = new Map(expandCells(scenario, projectCatalog.cellKey).map((c) => [c.spec.key, c]));
    const trials = committed.records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials.some((t) => t.cell.labels.defense === 'keyed (copy)')).toBe(true);
    for (const t of trials) expect(canonicalJson(byKey.get(t.cellKey)?.recorded ?? null)).toBe(canonicalJson(t.cell));
    // The published key is not a secret: recorded as written, in the manifest as in the trials.
    const manifest = makeManifest({ scenario, runId: '99d343cfc106', cellCount: byKey.size });
    expect(canonicalJson(manifest.scenario.definition)).toBe(canonicalJson(committed.manifest!.scenario.definition));
    expect(canonicalJson(manifest.scenario.definition)).toContain(PUBLISHED_BENCHMARK_KEY);
  }, 60_000);
});
