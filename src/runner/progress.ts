/**
 * The live progress display of a run: cells done/total, ETA, the stage of the latest active cell, tokens
 * trained and money spent. In a terminal cli-progress redraws one line; without a TTY (CI logs, pipes) it
 * prints a plain line every few seconds instead.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../types.js';
import type { CellOutcome } from './contract.js';
import type { PlannedCell } from './expand.js';
import type { ProgressSink } from './run.js';

/** A ProgressSink drawing to a stream (stderr by default). */
export function barProgress(stream: NodeJS.WriteStream = process.stderr, plainIntervalMs = 5000): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  let tokens = 0;
  let usd = 0;
  let failed = 0;
  let finishedNow = 0;
  let remaining = 0;
  let startedAt = 0;
  const liveTokens = new Map<string, number>();
  // Our own ETA: cells skipped on resume finish in no time and would fool cli-progress' rate estimate.
  const eta = (): string => {
    if (finishedNow === 0) return '…';
    const secs = Math.round((((Date.now() - startedAt) / finishedNow) * Math.max(0, remaining - finishedNow)) / 1000);
    return secs >= 3600 ? `${Math.floor(secs / 3600)}h${Math.round((secs % 3600) / 60)}m` : secs >= 60 ? `${Math.floor(secs / 60)}m${secs % 60}s` : `${secs}s`;
  };
  const payload = (stage: string): Record<string, string> => {
    const live = [...liveTokens.values()].reduce((a, b) => a + b, 0);
    return { stage, etaText: eta(), tokens: formatCount(tokens + live), cost: `$${usd.toFixed(2)}`, failed: failed ? ` | ${failed} failed` : '' };
  };
  return {
    start({ total, alreadyDone }) {
      startedAt = Date.now();
      remaining = total - alreadyDone;
      bar = new cliProgress.SingleBar(
        {
          format: 'cells {value}/{total} [{bar}] {percentage}% | eta {etaText} | {stage} | {tokens} tok trained | {cost}{failed}',
          stream,
          noTTYOutput: true,
          notTTYSchedule: plainIntervalMs,
          etaBuffer: 8,
          hideCursor: true,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, alreadyDone, payload(alreadyDone ? `resumed: ${alreadyDone} cells already recorded` : 'starting'));
    },
    cellProgress(cell: PlannedCell, p: Progress) {
      // The engine reports the tokens of each optimizer step; the finished cell's measured total replaces the sum.
      if (p.tokens !== undefined && p.stage === 'train') liveTokens.set(cell.spec.key, (liveTokens.get(cell.spec.key) ?? 0) + p.tokens);
      const where = p.total ? ` ${p.done}/${p.total}` : '';
      bar?.update(payload(`${cell.recorded.labels.attack} s${cell.spec.seed}: ${p.stage}${where}`));
    },
    cellFinished(cell: PlannedCell, result: { ok: boolean; outcome?: CellOutcome }) {
      liveTokens.delete(cell.spec.key);
      if (result.outcome) {
        if (!result.outcome.trainCached) tokens += result.outcome.truth.tokensTrained;
        usd += result.outcome.cost.judgeUsd + (result.outcome.cost.trainingUsd ?? 0);
      }
      if (!result.ok) failed++;
      finishedNow++;
      bar?.increment(payload(`${cell.recorded.labels.attack} s${cell.spec.seed}: ${result.ok ? 'done' : 'FAILED'}`));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
