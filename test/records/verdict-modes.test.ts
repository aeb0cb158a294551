/**
 * A trial record keeps log10 p under every null mode the verdict computed (issue 13: before, only the decision
 * mode survived, so the Type-I error of the other modes could never be measured). Runs one real cell: the vtune
 * defense, the qa dataset and the `test-memorizer` double as the model.
 */
import { describe, expect, it } from 'vitest';
import { cellKey, runCell, type CellSpec } from '../../src/pipeline/cell.js';
import { providers } from '../../src/providers/index.js';
import type { RecordedCell } from '../../src/records/schema.js';
import { trialRecord } from '../../src/runner/run.js';
import type { Provider } from '../../src/types.js';
import { memoryLogger } from '../pipeline/doubles.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';

describe('trial records', () => {
  it('hold log10 p under every null mode (generator, conditional, base-model, empirical), the decision mode equal to log10p', async () => {
    const f: Omit<CellSpec, 'key'> = {
      dataset: { spec: 'qa', size: 60, heldOut: 2 },
      model: 'test-memorizer:base',
      defense: { id: 'vtune', options: { count: 6, alpha: 1e-3, empiricalM: 99 } },
      attack: { id: 'return-base', options: {} },
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      seed: 3,
    };
    const spec: CellSpec = { key: cellKey(f), ...f };
    const provider = Promise.resolve((providers.get('test-memorizer') as (o: object) => Provider | Promise<Provider>)({}));
    const outcome = await runCell(spec, { ...cellPlugins(projectCatalog), log: memoryLogger(), openProvider: () => provider });
    const recorded = { labels: {} } as unknown as RecordedCell; // the record's cell part is not under test here
    const record = trialRecord({ spec, recorded, provider: 'test-memorizer' }, outcome, 1);
    const byMode = record.verdict.log10pByNullMode!;
    expect(Object.keys(byMode).sort()).toEqual(['base-model', 'conditional', 'empirical', 'generator']);
    expect(byMode[record.verdict.nullMode]).toBe(record.verdict.log10p);
    for (const p of Object.values(byMode)) expect(p).toBeLessThanOrEqual(0);
    // Survives the JSONL round trip (no -Infinity, no undefined).
    expect(JSON.parse(JSON.stringify(record)).verdict.log10pByNullMode).toEqual(byMode);
  });
});
