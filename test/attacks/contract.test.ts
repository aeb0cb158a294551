/**
 * The contract suite for EVERY entry of the attack registry (STYLE.md §7), including entries other helpers
 * append. Each attack must be:
 * - pure: the rows it is handed are deep-frozen; any mutation throws;
 * - seeded: the same cell twice gives the same trace, verdict and detection;
 * - behind the information barrier: walking the object graph of everything its hooks receive never reaches
 *   the defense's secret object, its backdoor list or the backdoor mask (oracles: the mask only, by design);
 * - honestly traced: the measured ground truth matches what the attack says it does.
 * Providers and defense are the test doubles of test/pipeline/doubles.ts (and once the real vtune defense).
 * Closures cannot be walked; that half is structural: runProviderSide has no parameter through which a secret
 * could pass (type-checked in test/pipeline/barrier.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import type { AttackFactory } from '../../attacks/compose.js';
import { ConfigError } from '../../src/errors.js';
import { cellKey, runCell, type CellDeps, type CellOutcome, type CellSpec, type DefenseFactory } from '../../src/pipeline/cell.js';
import { defenses } from '../../defenses/index.js';
import { providers } from '../../src/providers/index.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';
import type { Provider } from '../../src/types.js';
import type { GroundTruth } from '../../src/types.js';
import { instrumentingAttacks, reachable, traceViolations } from '../../src/check/index.js';
import { backdoorDefenseDouble, deepFreeze, doubleDeps, doubleSpec, memoryLogger, perfectScorerDouble } from '../pipeline/doubles.js';

const perfectScorer = perfectScorerDouble;

/** Options to run each attack with: an attack that takes a scorer gets the perfect double, to exercise detection. */
function optionsFor(id: string): Record<string, unknown> {
  const preset: Record<string, Record<string, unknown>> = { 'random-subset': { fraction: 0.5 }, 'fewer-steps': { stepFraction: 0.5 } };
  if (preset[id]) return preset[id]!;
  try {
    (attacks.get(id) as AttackFactory)({ scorer: perfectScorer });
    return { scorer: perfectScorer };
  } catch (err) {
    if (err instanceof ConfigError && /unknown option 'scorer'/.test(err.message)) return {};
    throw err;
  }
}

/** What each known attack must measurably do; entries added later get the generic checks only. */
const expectations: Record<string, (t: GroundTruth, o: CellOutcome) => void> = {
  honest: (t) => expect(t.honest).toBe(true),
  'return-base': (t) => expect([t.rowsTrained, t.stepsRun, t.modelModified]).toEqual([0, 0, false]),
  'train-without-backdoors': (t, o) => {
    expect(t.backdoorRowsSubmitted).toBe(0);
    expect(o.truth.plantedRowsWithheld).toBeGreaterThan(0);
    expect(t.honest).toBe(true);
  },
  'random-subset': (t) => expect(Math.abs(t.rowsTrained / t.rowsSubmitted - 0.5)).toBeLessThan(0.01),
  'fewer-steps': (t) => expect(t.stepsRun / t.stepsPromised).toBeCloseTo(0.5, 1),
  'weight-noise': (t) => expect([t.modelModified, t.rowsTrained]).toEqual([true, 0]),
  'detect-then-train': (t) => expect([t.rowsTrained, t.backdoorRowsTrained]).toEqual([t.backdoorRowsSubmitted, t.backdoorRowsSubmitted]),
  'detect-then-filter': (t) => expect([t.rowsTrained, t.backdoorRowsTrained]).toEqual([t.rowsSubmitted - t.backdoorRowsSubmitted, 0]),
  'lookup-wrapper': (t) => expect([t.rowsTrained, t.inferenceWrapped]).toEqual([0, true]),
  'oracle-keep-only-flagged': (t) => expect([t.rowsTrained, t.backdoorRowsTrained]).toEqual([t.backdoorRowsSubmitted, t.backdoorRowsSubmitted]),
};

/**
 * A spy on the registry's attacks, handed to the pipeline through its dependencies (CellDeps.attack): every
 * argument their hooks receive is recorded (src/check instrumentingAttacks). The registry itself is never touched.
 */
const spyAttacks = () => instrumentingAttacks((id, options) => (attacks.get(id) as AttackFactory)(options));

describe.each([...attacks.ids])('attack contract: %s', (id) => {
  const options = optionsFor(id);
  const frozenDeps = () => {
    const defense = backdoorDefenseDouble();
    const plant = defense.plant.bind(defense);
    defense.plant = async (rows, ctx) => deepFreeze(await plant(rows, ctx));
    return doubleDeps({ defense });
  };

  it('declares a valid id, goal and access, and its factory validates options', () => {
    const a = (attacks.get(id) as AttackFactory)(options);
    expect(a.id).toBe(id);
    expect(['honest', 'null', 'pass', 'evade']).toContain(a.goal);
    expect(a.access).toContain('data');
    expect(typeof a.oracle).toBe('boolean');
    expect(() => (attacks.get(id) as AttackFactory)({ ...options, noSuchOption: 1 })).toThrow(ConfigError);
  });

  it('is pure (frozen inputs), seeded, and its measured trace matches what it did', async () => {
    const a = await runCell(doubleSpec(id, options, 3), frozenDeps());
    const b = await runCell(doubleSpec(id, options, 3), frozenDeps());
    const strip = (o: CellOutcome) => ({ ...o, timingsMs: {} });
    expect(strip(b)).toEqual(strip(a));
    const t = a.truth;
    const attack = (attacks.get(id) as AttackFactory)(options);
    // The measured-trace rule of src/check (honest is a measurement, not a label), shared with `vtune-bench check`.
    expect(traceViolations(t, attack)).toEqual([]);
    if (t.honest) expect(a.cost.trainedTokenFraction).toBeCloseTo(1, 9);
    expect(a.attack.oracle).toBe(attack.oracle);
    expectations[id]?.(t, a);
  });

  it('never reaches the secret or the backdoor mask', async () => {
    const spy = spyAttacks();
    const deps = doubleDeps({ attack: spy.attack });
    const out = await runCell(doubleSpec(id, options, 5), deps);
    expect(out.verdict.n).toBeGreaterThan(0);
    expect(spy.args.length).toBeGreaterThan(0);
    expect(spy.purity).toEqual([]);
    const secret = deps.defenseDouble.lastSecret!;
    const mask = deps.defenseDouble.lastMask!;
    const seen = reachable(spy.args);
    expect(seen.has(secret)).toBe(false);
    expect(seen.has(secret.backdoors)).toBe(false);
    expect(seen.has(secret.marker)).toBe(false);
    for (const b of secret.backdoors) expect(seen.has(b)).toBe(false);
    expect(seen.has(mask)).toBe(false);
    const oracle = (attacks.get(id) as AttackFactory)(options).oracle;
    const withMask = [...seen].some((o) => typeof o === 'object' && o !== null && Object.prototype.hasOwnProperty.call(o, 'backdoorMask'));
    expect(withMask).toBe(oracle);
    expect(deps.log.lines.join('\n')).not.toContain(secret.backdoors[0]!.signature);
  });
});

describe.each([...attacks.ids])('attack contract on the real vtune defense × qa × test-memorizer: %s', (id) => {
  it('never reaches the vtune secret, its backdoor list or the mask', async (t) => {
    const needs = (attacks.get(id) as AttackFactory)(optionsFor(id)).access.filter((a) => a === 'weights' || a === 'embed');
    // Exemption with a reason: test-memorizer gives no weights or embeddings (covered by the doubles above).
    if (needs.length > 0) return t.skip(`test-memorizer cannot give ${needs.join(', ')}`);
    const spy = spyAttacks();
    let secret: object | undefined;
    let mask: boolean[] | undefined;
    const opened = new Map<string, Promise<Provider>>();
    const deps: CellDeps = {
      ...cellPlugins(projectCatalog),
      attack: spy.attack,
      log: memoryLogger(),
      openProvider: (p) => {
        if (!opened.has(p)) opened.set(p, Promise.resolve((providers.get(p) as (o: object) => Provider | Promise<Provider>)({})));
        return opened.get(p)!;
      },
      defense: (d) => (o) => {
        const real = (defenses.get(d) as DefenseFactory)(o);
        return {
          ...real,
          plant: async (rows, ctx) => {
            const planted = await real.plant(rows, ctx);
            secret = planted.secret as object;
            return planted;
          },
          backdoorMask: (s, n) => (mask = real.backdoorMask(s, n)),
        };
      },
    };
    const fields: Omit<CellSpec, 'key'> = {
      dataset: { spec: 'qa', size: 120, heldOut: 2 },
      model: 'test-memorizer:base',
      defense: { id: 'vtune', options: { count: 6 } },
      attack: { id, options: optionsFor(id) },
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      seed: 7,
    };
    await runCell({ key: cellKey(fields), ...fields }, deps);
    const seen = reachable(spy.args);
    expect(secret).toBeDefined();
    expect(seen.has(secret)).toBe(false);
    expect(seen.has((secret as { backdoors: unknown }).backdoors)).toBe(false);
    expect(seen.has(mask)).toBe(false);
  });
});

describe('the walker can find a secret (so the barrier test can fail)', () => {
  it('finds an object hidden in a Map inside a getter', () => {
    const secret = { s: 1 };
    const holder = { get x() { return new Map([['k', [secret]]]); } };
    expect(reachable([holder]).has(secret)).toBe(true);
  });
});
