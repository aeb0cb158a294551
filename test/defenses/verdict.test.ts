/**
 * The generic Verdict (issue 19): a rival verifier's test statistic reaches the trial record (numbers only,
 * finite after the JSONL round trip), and a vTune verdict's record is unchanged by the new field.
 */
import { describe, expect, it } from 'vitest';
import type { CellOutcome } from '../../src/pipeline/cell.js';
import type { RecordedCell } from '../../src/records/schema.js';
import type { PlannedCell } from '../../src/runner/expand.js';
import { trialRecord } from '../../src/runner/run.js';
import type { Verdict } from '../../src/types.js';

const cell = { spec: { key: 'k' }, recorded: { labels: {} } as unknown as RecordedCell, provider: 'x' } as unknown as PlannedCell;

function outcome(verdict: Verdict): CellOutcome {
  return {
    key: 'k',
    verdict,
    truth: {} as CellOutcome['truth'],
    attack: { id: 'honest', goal: 'honest', oracle: false },
    defenseWon: true,
    cost: { trainedTokenFraction: 1, extraInferencePasses: 0, providerPasses: 0, judgeTokens: 0, judgeUsd: 0 },
    timingsMs: {},
    trainCached: false,
  };
}

const base: Verdict = { defense: 'cue-reply', verified: true, log10p: -4, alpha: 1e-3, nullMode: 'rank-sum', k: 3, n: 4, containsCount: 0, perBackdoor: [], queries: 4 };

describe('generic verdict in trial records', () => {
  it('records a rival verifier\'s statistic (name, value, numeric detail), infinities made finite', () => {
    const r = trialRecord(cell, outcome({ ...base, statistic: { name: 'rank-sum', value: 5, detail: { cues: 4, candidates: 99, worst: -Infinity } } }), 1);
    const back = JSON.parse(JSON.stringify(r)) as typeof r;
    expect(back.verdict.statistic).toEqual({ name: 'rank-sum', value: 5, detail: { cues: 4, candidates: 99, worst: -Number.MAX_VALUE } });
    expect(back.verdict.log10q).toEqual([]);
    expect(back.verdict.hits).toEqual([]);
  });
  it('leaves a verdict without a statistic (vTune) without the field', () => {
    const r = trialRecord(cell, outcome({ ...base, defense: 'vtune', nullMode: 'generator' }), 1);
    expect('statistic' in r.verdict).toBe(false);
  });
});
