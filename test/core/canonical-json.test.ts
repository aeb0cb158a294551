/**
 * The one canonical JSON (src/core/canonical-json.ts) against the five serialisers it replaced, kept here
 * verbatim as oracles, and against what is on disk: the committed run's run id and cell keys, the committed
 * calibration configs, and secret files written by main before the change.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { cellKey, dataKey, pairKey } from '../../src/pipeline/cell.js';
import { trainKey } from '../../src/pipeline/provider-side.js';
import { fineTuneHash } from '../../src/providers/local.js';
import { expandCells } from '../../src/runner/expand.js';
import { loadScenario, scenarioHash, type Scenario } from '../../src/runner/scenario.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { readRecordsFile } from '../../src/records/store.js';
import { CALIBRATION_SCHEMA_VERSION, readCalibrationFile } from '../../src/calibrate/records.js';
import { Rng } from '../../src/rng.js';
import { repoRoot } from '../../src/shared-path.js';
import type { HyperParams, TrainExample } from '../../src/types.js';
import { parseSecret, readSecretFile, sealSecret, secretChecksum } from '../../defenses/vtune/secret.js';
import { SecretError } from '../../src/errors.js';
import { sampleRows } from '../defenses/fixtures.js';

// ---- The former serialisers, copied verbatim from main (9287cf4) -------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** src/runner/scenario.ts canonicalJson: run ids (scenarioHash). */
function legacyScenario(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(legacyScenario).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${legacyScenario(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
/** src/report/analyze.ts canonical: the secret a trial depends on (in memory only). */
function legacyAnalyze(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}
/** src/pipeline/provider-side.ts canonicalJson: training-cache keys, cell / pair / data keys, ground-truth row keys. */
function legacyProviderSide(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
/** defenses/vtune/secret.ts canonicalJson: secret checksums, calibration configs. */
function legacySecret(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(legacySecret).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${legacySecret(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
/** src/providers/local.ts fineTuneHash's inline canonical form: local fine-tune model ids (which feed later training-cache keys). */
function legacyLocal(v: unknown): string {
  const canonical = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canonical);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canonical((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(canonical(v));
}
const legacy = { scenario: legacyScenario, analyze: legacyAnalyze, providerSide: legacyProviderSide, secret: legacySecret, local: legacyLocal };

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Seeded plain JSON data of the kinds the call sites hash: no integer-like keys, no undefined array elements, finite numbers. */
function randomValue(rng: Rng, depth = 0): unknown {
  const keys = ['a', 'B', 'b', 'aa', 'a-b', 'a_b', 'Z', 'epochs', 'learningRate', 'é', 'ñu', '日本', '', ' ', 'x y', 'q"uote', 'back\\slash', 'nl\n', '\u{1F600}', 'k1', 'k10', 'k9'];
  const strings = ['', 'x', 'Once upon a time', 'quote " and \\ and \n\t', '\u0000\u001f', 'é日本\u{1F600}', '\ud800 lone', '</script>'];
  const numbers = [0, -0, 1, -1, 0.1, 1e-7, 1e21, 123456789.125, -3.5e-300, 5e-324, Number.MAX_SAFE_INTEGER, 0.003, 12];
  const kind = rng.int(depth >= 4 ? 4 : 7);
  switch (kind) {
    case 0:
      return rng.pick(strings);
    case 1:
      return rng.pick(numbers);
    case 2:
      return rng.int(2) === 0;
    case 3:
      return null;
    case 4:
    case 5: {
      const o: Record<string, unknown> = {};
      const n = rng.int(6);
      for (let i = 0; i < n; i++) o[rng.pick(keys)] = rng.int(8) === 0 ? undefined : randomValue(rng, depth + 1);
      return o;
    }
    default:
      return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
  }
}

describe('canonicalJson: the rules', () => {
  it('sorts keys by UTF-16 code units at every level, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, B: true })).toBe('{"B":true,"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    // Integer-like keys sort as strings too (JSON.stringify would move them first, in numeric order).
    expect(canonicalJson({ 9: 'a', 10: 'b', x: 'c' })).toBe('{"10":"b","9":"a","x":"c"}');
    expect(canonicalJson({ '\u{1F600}': 1, '\uffff': 2 })).toBe('{"\u{1F600}":1,"\uffff":2}'); // surrogate pairs before U+FFFF
  });

  it('drops undefined members; writes undefined array elements and holes as null, keeping the length', () => {
    // Functions and symbols are not data: dropped as members, null in arrays (as JSON.stringify does).
    const scorer = { id: 'perfect', score: () => [1], [Symbol('k')]: 1, tag: Symbol('t') };
    expect(canonicalJson({ scorer })).toBe('{"scorer":{"id":"perfect"}}');
    expect(canonicalJson([() => 1, Symbol('s')])).toBe('[null,null]');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined])).toBe('[null]');
    expect(canonicalJson([1, undefined, 2])).toBe('[1,null,2]');
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([1, , 2])).toBe('[1,null,2]');
    expect(canonicalJson({ a: [undefined, { b: undefined }] })).toBe('{"a":[null,{}]}');
  });

  it('writes primitives as JSON.stringify does', () => {
    for (const v of [null, true, false, 0, -0, 1.5, 1e21, 5e-324, '', 'a"b\\c\n', '\ud800', 'é']) expect(canonicalJson(v)).toBe(JSON.stringify(v));
    expect(canonicalJson(-0)).toBe('0');
  });

  it('refuses what it cannot encode faithfully, naming where', () => {
    expect(() => canonicalJson({ hyper: { learningRate: Number.NaN } })).toThrow(/NaN at \$\.hyper\.learningRate/);
    expect(() => canonicalJson([1, Infinity])).toThrow(/Infinity at \$\[1\]/);
    expect(() => canonicalJson({ a: -Infinity })).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(/a function as a whole value/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined as a whole value/);
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/Date at \$\.when/);
    expect(() => canonicalJson(new Map())).toThrow(/Map/);
    expect(() => canonicalJson({ t: new Float32Array(2) })).toThrow(/Float32Array/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/cycle at \$\.self\.back/);
    // A shared (non-cyclic) reference is fine.
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });
});

describe('canonicalJson: byte-identical to the five former serialisers on what their call sites produced', () => {
  it('matches all five on 3,000 seeded plain values (unicode keys, escapes, -0, 1e21, undefined members)', () => {
    const rng = new Rng('canonical-json|fuzz');
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(rng);
      const mine = canonicalJson(v);
      for (const [name, old] of Object.entries(legacy)) expect(`${name}: ${old(v)}`).toBe(`${name}: ${mine}`);
      expect(JSON.parse(mine)).toEqual(JSON.parse(JSON.stringify(v)));
    }
  });

  it('and the documented changes are on inputs no on-disk key was made of', () => {
    // 1. [undefined]: secret.ts wrote [] (and [1,] for [1, undefined]); the others and now everyone write [null].
    expect(legacySecret([undefined])).toBe('[]');
    expect([legacyScenario, legacyAnalyze, legacyProviderSide, legacyLocal].map((f) => f([undefined]))).toEqual(['[null]', '[null]', '[null]', '[null]']);
    expect(canonicalJson([undefined])).toBe('[null]');
    // 2. Integer-like keys: the JSON.stringify-based three put them first in numeric order; now they sort as strings.
    const intKeys = { 10: 1, 9: 2 };
    expect([legacyScenario, legacySecret].map((f) => f(intKeys))).toEqual(['{"10":1,"9":2}', '{"10":1,"9":2}']);
    expect([legacyAnalyze, legacyProviderSide, legacyLocal].map((f) => f(intKeys))).toEqual(['{"9":2,"10":1}', '{"9":2,"10":1}', '{"9":2,"10":1}']);
    expect(canonicalJson(intKeys)).toBe('{"10":1,"9":2}');
    // 3. A function member (a scorer object passed as an attack option, as test/pipeline doubles do): cell keys
    //    (provider-side, JSON.stringify) dropped it, and still do; scenario.ts wrote null and secret.ts the text
    //    `undefined`, but validated scenarios, secrets and calibration configs hold no functions.
    const withFn = { attack: { options: { scorer: { id: 'perfect', score: () => [1] } } }, fns: [() => 1] };
    expect(canonicalJson(withFn)).toBe(legacyProviderSide(withFn));
    expect(canonicalJson(withFn)).toBe('{"attack":{"options":{"scorer":{"id":"perfect"}}},"fns":[null]}');
    expect(legacyScenario({ f: () => 1 })).toBe('{"f":null}');
    expect(legacySecret({ f: () => 1 })).toBe('{"f":undefined}');
    // 4. NaN / ±Infinity were all written null (colliding with null): now refused.
    expect(Object.values(legacy).map((f) => f({ x: Number.NaN }))).toEqual(Array(5).fill('{"x":null}'));
  });

  it('training-cache keys (trainKey) and local fine-tune ids (fineTuneHash) are unchanged on rows with weights and spans', () => {
    const hyper: HyperParams = { epochs: 12, learningRate: 0.003, batchSize: 8, schedule: 'cosine' };
    const hypers: HyperParams[] = [hyper, { ...hyper, maxSteps: 40, warmupSteps: 2, weightDecay: 0.01, lora: { rank: 4 } } as HyperParams, { ...hyper, maxSteps: undefined }];
    const base = sampleRows(40, 'canonical-json|rows');
    const rows: TrainExample[] = base.map((r, i) =>
      i % 3 === 0 ? { ...r, weight: 0.5 } : i % 3 === 1 ? { ...r, spans: [{ start: 0, end: 4, weight: 1 }, { start: 6, end: 9, weight: -0.25 }] } : r,
    );
    const oldTrainKey = (providerId: string, baseModelId: string, rs: readonly TrainExample[], h: HyperParams, seed: number, salt?: string): string => {
      const hash = createHash('sha256');
      hash.update(legacyProviderSide({ provider: providerId, base: baseModelId, hyper: h, seed, rowCount: rs.length, ...(salt ? { salt } : {}) }));
      for (const r of rs) hash.update('\n' + legacyProviderSide({ p: r.prompt, c: r.completion, w: r.weight ?? 1, s: r.spans ?? [] }));
      return hash.digest('hex');
    };
    for (const h of hypers) {
      for (const salt of [undefined, 'v2']) {
        expect(trainKey('local', 'local:vtb-base', rows, h, 1234567, salt)).toBe(oldTrainKey('local', 'local:vtb-base', rows, h, 1234567, salt));
      }
      expect(fineTuneHash('local:vtb-base', { rows, hyper: h, seed: 7 })).toBe(sha(legacyLocal({ base: 'local:vtb-base', rows, hyper: h, seed: 7 })).slice(0, 8));
    }
  });

  it('the built-in scenarios hash to the same run ids', async () => {
    const names = readdirSync(join(repoRoot, 'scenarios')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    expect(names).toContain('default');
    for (const name of names) {
      const { scenario } = await loadScenario(name, projectCatalog);
      expect(scenarioHash(scenario)).toBe(sha(legacyScenario(scenario)).slice(0, 12));
    }
  });
});

describe('canonicalJson: what is on disk still matches', () => {
  const published = readdirSync(join(repoRoot, 'results/published')).filter((d) => d.startsWith('default-'));

  it('the published default run: its run id and every cell key, pair key and data key recompute', () => {
    expect(published.length).toBeGreaterThan(0);
    for (const dir of published) {
      const file = readRecordsFile(join(repoRoot, 'results/published', dir, 'records.jsonl'));
      const manifest = file.manifest!;
      const scenario = manifest.scenario.definition as Scenario;
      expect(scenarioHash(scenario)).toBe(manifest.runId);
      expect(`default-${manifest.runId}`).toBe(dir);
      const cells = expandCells(scenario, cellKey);
      const stored = file.records.filter((r) => r.kind === 'trial' || r.kind === 'failure').map((r) => (r as { cellKey: string }).cellKey);
      expect(stored.length).toBe(manifest.cellCount);
      expect(new Set(cells.map((c) => c.spec.key))).toEqual(new Set(stored));
      for (const c of cells) {
        const { key: _k, ...body } = c.spec;
        const old20 = (v: unknown) => sha(legacyProviderSide(v)).slice(0, 20);
        const { attack: _a, utility: _u, ...pair } = body;
        const { defense: _d, ...data } = pair;
        expect(c.spec.key).toBe(old20({ v: 1, ...body }));
        expect(pairKey(body)).toBe(old20({ v: 1, pair }));
        expect(dataKey(body)).toBe(old20({ v: 1, data }));
      }
    }
  });

  it('the committed calibration records: every config recomputes (calibrate defaults: slack 4, seed "calibrate", 60 rows)', () => {
    const dirs = readdirSync(join(repoRoot, 'results/calibration'));
    expect(dirs.length).toBeGreaterThan(0);
    let configs = 0;
    for (const dir of dirs) {
      const records = readCalibrationFile(join(repoRoot, 'results/calibration', dir, 'calibration.jsonl'));
      const first = new Map(records.map((r) => [r.config, r] as const));
      for (const [config, r] of first) {
        if (r.defense) {
          // A defense calibrated through --defense (src/calibrate/run.ts): its own config shape.
          const input = { v: CALIBRATION_SCHEMA_VERSION, defense: { id: r.defense.id, options: r.defense.options }, label: r.defense.label, dataset: { spec: r.dataset, size: 60 }, seed: 'calibrate', base: r.baseModel };
          expect(sha(canonicalJson(input)).slice(0, 16)).toBe(config);
          configs++;
          continue;
        }
        // As src/calibrate/run.ts builds it.
        const input = {
          v: CALIBRATION_SCHEMA_VERSION,
          generator: { id: r.generator.id, options: r.generator.options },
          label: r.generator.label,
          count: r.count,
          dataset: { spec: r.dataset, size: 60 },
          empiricalM: r.empiricalM,
          slack: 4,
          seed: 'calibrate',
          base: r.baseModel,
        };
        expect(sha(canonicalJson(input)).slice(0, 16)).toBe(config);
        expect(canonicalJson(input)).toBe(legacySecret(input));
        // The root seed is confirmed by the trial's planting seed, derived from it and the config.
        expect(sha(`calibrate|calibrate|${config}|${r.nullModel}|${r.trial}`).slice(0, 16)).toBe(r.seed);
        configs++;
      }
    }
    expect(configs).toBeGreaterThanOrEqual(3);
  });

  it('secret files written by main (before the change) still load and verify their checksum', async () => {
    const dir = join(repoRoot, 'test/fixtures/secrets');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const secret = await readSecretFile(join(dir, f));
      expect(secretChecksum(secret)).toBe(secret.checksum);
      // Not a check that cannot fail: one changed character of a signature breaks it.
      const tampered = { ...secret, backdoors: secret.backdoors.map((b, i) => (i === 0 ? { ...b, signature: `${b.signature}x` } : b)) };
      expect(() => parseSecret(JSON.parse(JSON.stringify(tampered)), f)).toThrow(SecretError);
    }
  });

  it('a secret sealed with an undefined array element still verifies after a trip through its JSON file (secret.ts wrote [] for it)', async () => {
    const secret = await readSecretFile(join(repoRoot, 'test/fixtures/secrets', readdirSync(join(repoRoot, 'test/fixtures/secrets'))[0]!));
    const { checksum: _c, ...content } = secret;
    const withHole = { ...content, generator: { ...content.generator, options: { ...content.generator.options, words: ['a', undefined, 'b'] } } };
    const sealed = sealSecret(withHole as typeof content);
    expect(parseSecret(JSON.parse(JSON.stringify(sealed)), 'roundtrip').checksum).toBe(sealed.checksum);
    // The old serialiser's checksum of the same content would not survive JSON's ["a",null,"b"].
    expect(legacySecret(withHole)).toContain('["a",,"b"]');
  });
});
