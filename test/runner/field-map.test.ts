/**
 * The scenario's `datasets[i].fieldMap` (issue 15 item 4: the "pass a field mapping" advice now names an option
 * that exists): validated at load with its field path, normalised, carried into each cell, and handed to the
 * dataset loader by preflight and by the pipeline.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { cellKey, runCell } from '../../src/pipeline/cell.js';
import { expandCells, preflight } from '../../src/runner/expand.js';
import { validateScenario, type ScenarioInput } from '../../src/runner/scenario.js';
import type { FieldMapping } from '../../src/datasets/formats.js';
import { doubleDeps, doubleSpec } from '../pipeline/doubles.js';
import { catalog } from './fake-catalog.js';

const scenario = (fieldMap: unknown): ScenarioInput =>
  ({
    name: 'x',
    seeds: 1,
    datasets: [{ spec: 'fake:qa', size: 50, fieldMap }],
    models: ['fake:base'],
    defenses: [{ options: { generator: 'random-tokens', count: 4 } }],
    attacks: ['honest'],
    hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
  }) as unknown as ScenarioInput;

describe('scenario datasets[i].fieldMap', () => {
  it('accepts the text and the object form alike, normalised to one object', () => {
    const a = validateScenario(scenario('prompt=question,completion=answer'), catalog, 's.ts');
    const b = validateScenario(scenario({ prompt: 'question', completion: 'answer' }), catalog, 's.ts');
    expect(a.datasets[0]!.fieldMap).toEqual({ prompt: 'question', completion: 'answer' });
    expect(b.datasets[0]).toEqual(a.datasets[0]);
    const cells = expandCells(a, catalog.cellKey);
    expect(cells[0]!.spec.dataset.fieldMap).toEqual({ prompt: 'question', completion: 'answer' });
  });

  it('names the field and what was expected when the map is malformed', () => {
    let message = '';
    try {
      validateScenario(scenario('prompt=question'), catalog, 's.ts');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('s.ts: datasets[0].fieldMap: needs both prompt= and completion=');
    expect(() => validateScenario(scenario({ prompt: 1 }), catalog, 's.ts')).toThrow(/datasets\[0\]\.fieldMap: expected 'prompt=<field>,completion=<field>'/);
  });

  it('is handed to the loader by preflight and by the pipeline', async () => {
    const s = validateScenario(scenario('prompt=q,completion=a'), catalog, 's.ts');
    const seen: (FieldMapping | undefined)[] = [];
    await preflight(s, { ...catalog, loadDataset: async (spec, o) => (seen.push(o.mapping), catalog.loadDataset(spec, o)) }, 's.ts');
    expect(seen).toEqual([{ prompt: 'q', completion: 'a' }]);

    const deps = doubleDeps();
    const load = deps.loadDataset!;
    const { key: _key, ...body } = doubleSpec('honest');
    const mapped = { ...body, dataset: { ...body.dataset, fieldMap: { prompt: 'q', completion: 'a' } } };
    await runCell({ key: cellKey(mapped), ...mapped }, { ...deps, loadDataset: (sp, o) => (seen.push(o.mapping), load(sp, o)) });
    expect(seen[1]).toEqual({ prompt: 'q', completion: 'a' });
  });
});
