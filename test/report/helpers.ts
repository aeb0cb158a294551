/** Synthetic trial records for report tests (a realistic shape, numbers chosen by the test). */
import type { TrialRecord } from '../../src/records/schema.js';
import type { RecordedAttackGoal } from '../../src/types.js';
import { buildReport, loadRecords } from '../../src/report/index.js';
import { toCsv, toJson, toLatex, toMarkdown } from '../../src/report/tables.js';

/** One trial; `over` patches any field. */
export function trial(o: {
  key: string;
  attack: string;
  goal: RecordedAttackGoal;
  verified: boolean;
  log10p: number;
  defenseWon: boolean;
  defense?: string;
  backdoorRowsTrained?: number;
  ttf?: number;
  n?: number;
  oracle?: boolean;
  honest?: boolean;
  loss?: number;
  /** The cell's seed: cells of one defense with equal seeds share a secret (default 0). */
  seed?: number;
}): TrialRecord {
  const n = o.n ?? 8;
  return {
    kind: 'trial',
    cellKey: o.key,
    cell: {
      dataset: { spec: 'builtin:tiny' },
      model: 'local:tiny',
      defense: { id: 'vtune', options: {} },
      attack: { id: o.attack, options: {} },
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
      seed: o.seed ?? 0,
      labels: { dataset: 'builtin:tiny', model: 'local:tiny', defense: o.defense ?? 'vtune:random-tokens', generator: (o.defense ?? 'vtune:random-tokens').split(':')[1]!, nullMode: 'generator', attack: o.attack },
    },
    attack: { id: o.attack, goal: o.goal, oracle: o.oracle ?? false },
    verdict: { defense: 'vtune', verified: o.verified, log10p: o.log10p, alpha: 1e-3, nullMode: 'generator', k: 0, n, containsCount: 0, queries: n, log10q: [], hits: [] },
    truth: {
      rowsSubmitted: 100,
      backdoorRowsSubmitted: n,
      rowsTrained: 100,
      backdoorRowsTrained: o.backdoorRowsTrained ?? n,
      stepsPromised: 10,
      stepsRun: 10,
      tokensTrained: 1000,
      trainedTokenFraction: o.ttf ?? 1,
      modelModified: false,
      inferenceWrapped: false,
      honest: o.honest ?? o.attack === 'honest',
    },
    defenseWon: o.defenseWon,
    utility: { heldOutLossNatsPerToken: o.loss ?? 2 },
    cost: { trainedTokenFraction: o.ttf ?? 1, extraInferencePasses: 0, judgeTokens: 0, judgeUsd: 0 },
    timingsMs: {},
    trainCached: false,
    durationMs: 1,
  };
}

/** Every report table of the records under `paths`, in every format, as one string: equal strings = identical reports. */
export function reportTables(paths: readonly string[]): string {
  return buildReport(loadRecords([...paths]))
    .tables.map((t) => [toMarkdown(t), toCsv(t), toJson(t), toLatex(t)].join('\n'))
    .join('\n');
}
