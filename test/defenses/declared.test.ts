/**
 * The four rival verifiers are declared with `defineDefense` (issue 16): one zod declaration gives their
 * options' types, validation (field paths, "did you mean"), defaults, help, access and citation.
 * - `vtune-bench list defense <id>` shows options, defaults, access and citation (no "options: not declared");
 * - the declared access is what the defense built with its defaults asks of the returned model;
 * - a bad option in a scenario fails at load with its field path and "did you mean", before any cell runs;
 * - results did not change: the cell keys of a scenario using every rival, and what each one plants (rows and
 *   secret) under its defaults and under explicit options, equal the values computed at 6030a90, the commit
 *   before the declarations (same defaults → same secrets; the options that enter cell keys are kept as written).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defenses } from '../../defenses/index.js';
import { formatPlugin, pluginInfo } from '../../src/cli/commands/list.js';
import { ConfigError } from '../../src/errors.js';
import { isDefinition } from '../../src/plugins/define.js';
import { expandCells } from '../../src/runner/expand.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { validateScenario } from '../../src/runner/scenario.js';
import type { Defense } from '../../src/types.js';
import { sampleRows, userCtx } from './fixtures.js';

const RIVALS = ['cue-reply', 'data-watermark', 'dataset-inference', 'utility-gain'] as const;

/** Each rival's defaults as its README documents them. */
const DEFAULTS: Record<(typeof RIVALS)[number], Record<string, unknown>> = {
  'cue-reply': { cues: 4, rowsPerCue: 1, cueWords: 3, replyWords: 4, candidates: 999, slack: 4 },
  'data-watermark': { rate: 0.1, length: 10, placement: 'end', nulls: 999 },
  'dataset-inference': { privateFraction: 0.2, minK: 0.2, swapsPer10Words: 1 },
  'utility-gain': { metric: 'auto', maxTokens: 32 },
};

const scenario = (defenseEntries: unknown[]) => ({
  name: 'rivals',
  seeds: 1,
  datasets: ['qa'],
  models: ['test-memorizer:base'],
  attacks: ['honest'],
  hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
  defenses: defenseEntries,
});

describe('the rival verifiers are declared', () => {
  it.each(RIVALS)("'%s': list shows its options with defaults and help, its access and its citation", (id) => {
    const def = defenses.get(id);
    expect(isDefinition(def)).toBe(true);
    const info = pluginInfo('defenses', id);
    expect(info.description).toBeTruthy();
    expect(info.citation).toBeTruthy();
    expect(info.options!.map((o) => o.name)).toEqual(expect.arrayContaining([...Object.keys(DEFAULTS[id]), 'seed', 'alpha']));
    for (const o of info.options!) expect(o.description, `${id}.${o.name}`).toBeTruthy();
    const defaults = Object.fromEntries(info.options!.filter((o) => o.default !== undefined).map((o) => [o.name, o.default]));
    expect(defaults).toMatchObject(DEFAULTS[id]);
    const text = formatPlugin(info);
    expect(text).not.toContain('not declared');
    expect(text).toContain(`  access: ${(info.meta as { access: string[] }).access.join(', ')}`);
    expect(text).toContain(`  citation: ${info.citation}`);
  });

  it.each(RIVALS)("'%s': the declared access is what the defense built with its defaults needs", (id) => {
    const def = defenses.get(id);
    if (!isDefinition(def)) throw new Error(`${id} is not declared`);
    expect((def() as Defense).access).toEqual((def.meta as { access: readonly string[] }).access);
    // The parsed defaults are the documented ones.
    expect(def.parse({})).toMatchObject(DEFAULTS[id]);
  });

  it('a bad rival option in a scenario fails at load with its field path and "did you mean", every problem at once', () => {
    const err = (() => {
      try {
        validateScenario(
          scenario([
            { id: 'data-watermark', options: { rat: 0.2 } },
            { id: 'cue-reply', options: { cues: '4' } },
            { id: 'dataset-inference', options: { privateFraction: 0.5 } },
            { id: 'utility-gain', options: { metric: 'los', fraction: 0.1, heldOut: 3 } },
          ]),
          projectCatalog,
          'rivals.json',
        );
      } catch (e) {
        return e;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      { path: ['defenses', 0, 'options', 'rat'], message: "unknown option 'rat'. Did you mean 'rate'? Available: rate, length, alphabet, placement, nulls, seed, alpha" },
      { path: ['defenses', 1, 'options', 'cues'], message: 'expected an integer in [1, 10000], got "4"' },
      { path: ['defenses', 2, 'options', 'privateFraction'], message: 'expected a number in (0, 0.5), got 0.5' },
      { path: ['defenses', 3, 'options', 'metric'], message: `expected 'loss', 'generation' or 'auto', got "los". Did you mean 'loss'?` },
      { path: ['defenses', 3, 'options', 'heldOut'], message: "give 'fraction' or 'heldOut', not both" },
    ]);
    expect((err as Error).message).toContain("rivals.json: defenses[0].options.rat: unknown option 'rat'. Did you mean 'rate'?");
  });
});

describe('results did not change (values computed at 6030a90, before the declarations)', () => {
  const entries = [
    'cue-reply',
    { id: 'cue-reply', label: 'cr2', options: { cues: 3, alpha: 0.01 } },
    'data-watermark',
    { id: 'data-watermark', label: 'dw2', options: { placement: 'inside', rate: 0.3 } },
    'dataset-inference',
    { id: 'dataset-inference', label: 'di2', options: { privateFraction: 0.3 } },
    'utility-gain',
    { id: 'utility-gain', label: 'ug2', options: { heldOut: 7, metric: 'loss' } },
  ];
  const validated = validateScenario(scenario(entries), projectCatalog);

  it('the cell keys of a scenario using every rival (options kept as written, not filled with defaults)', () => {
    expect(validated.defenses.map((d) => d.options)).toEqual([{}, { cues: 3, alpha: 0.01 }, {}, { placement: 'inside', rate: 0.3 }, {}, { privateFraction: 0.3 }, {}, { heldOut: 7, metric: 'loss' }]);
    expect(expandCells(validated, projectCatalog.cellKey).map((c) => c.spec.key)).toEqual([
      'de0213f6caa55bd1fb06',
      'aa2b1839e81cbf09b0e2',
      'f313463f797c6f542fcc',
      '460f0c6d816ba74f91f6',
      'b5ef5549c475ad111bb2',
      '0d732587962986bdfe9a',
      '03d54fb03d03c851078c',
      '4c086f87deca8c2ecfd7',
    ]);
  });

  it('what each rival plants (rows and secret), under its defaults and under explicit options', async () => {
    const digests: Record<string, string> = {};
    for (const d of validated.defenses) {
      // As the pipeline does (src/pipeline/cell.ts): alpha is its threshold, not a planting option.
      const { alpha: _alpha, ...options } = d.options;
      const defense = (defenses.get(d.id) as (o: unknown) => Defense)(options);
      const planted = await defense.plant(sampleRows(60), userCtx(`pin-${d.id}`));
      digests[d.label ?? d.id] = createHash('sha256').update(JSON.stringify(planted)).digest('hex').slice(0, 16);
    }
    expect(digests).toEqual({
      'cue-reply': '91df56c311945084',
      cr2: '2a2ba99e171dabeb',
      'data-watermark': 'ea40c42ef3703ec6',
      dw2: 'a05bac1eab41199b',
      'dataset-inference': '821340cf142a876b',
      di2: 'fc340e7aaca128f0',
      'utility-gain': '7fb422d22adc8d20',
      ug2: '8d2177e2e06e48bb',
    });
  });
});
