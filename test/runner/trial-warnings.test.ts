/**
 * Issue 15: what the pipeline learns about a cell beyond its verdict reaches the trial record: the trainer's
 * warnings (rows cut to the context) and a detector's unavailable grade (null AUROC with its reason); the
 * report still builds from such records. The pipeline here is the runner tests' FAKE catalog, with the two
 * fields added to its outcomes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../src/records/schema.js';
import { readRecordsFile } from '../../src/records/store.js';
import { buildReport, loadRecords } from '../../src/report/index.js';
import { runScenario } from '../../src/runner/run.js';
import { loadScenario } from '../../src/runner/scenario.js';
import type { Catalog } from '../../src/runner/catalog.js';
import type { Logger } from '../../src/types.js';
import { catalog } from './fake-catalog.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const WARNING = '3 of 40 rows longer than the context (512 tokens) lost the start of their prompt (#1, #4, #9); their completions were trained whole';

describe('trial records carry warnings and unavailable detection', () => {
  it('records warnings and a null AUROC with its reason; the report builds', async () => {
    const withExtras: Catalog = {
      ...catalog,
      runCell: async (spec, deps) => {
        const o = await catalog.runCell(spec, deps);
        return {
          ...o,
          warnings: [WARNING],
          ...(o.detection ? { detection: { auroc: null, tprAt1Fpr: null, flaggedFraction: 0, cleanFlaggedFraction: 0, unavailable: "judge 'x' gave no parseable verdict for any of 40 rows" } } : {}),
        };
      },
    };
    const root = mkdtempSync(join(tmpdir(), 'vtune-warn-'));
    const { scenario, file } = await loadScenario(join(import.meta.dirname, 'fixtures', 'fake-fast.json'), withExtras);
    const run = await runScenario({ scenario, file, catalog: withExtras, resultsRoot: root, log: quiet });
    const trials = readRecordsFile(run.recordsPath).records.filter((r): r is TrialRecord => r.kind === 'trial');
    expect(trials.length).toBeGreaterThan(0);
    expect(trials.every((t) => t.warnings?.[0] === WARNING)).toBe(true);
    const detected = trials.filter((t) => t.detection);
    expect(detected.length).toBeGreaterThan(0);
    for (const t of detected) expect(t.detection).toMatchObject({ auroc: null, tprAt1Fpr: null, unavailable: "judge 'x' gave no parseable verdict for any of 40 rows" });
    expect(buildReport(loadRecords([run.runDir])).tables.length).toBeGreaterThan(0);
  });
});
