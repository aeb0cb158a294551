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
  const liveTokens = new Map<string, number>();
  const payload = (stage: string): Record<string, string> => {
    const live = [...liveTokens.values()].reduce((a, b) => a + b, 0);
    return { stage, tokens: formatCount(tokens + live), cost: `$${usd.toFixed(2)}`, failed: failed ? ` | ${failed} failed` : '' };
  };
  return {
    start({ total, alreadyDone }) {
      bar = new cliProgress.SingleBar(
        {
          format: 'cells {value}/{total} [{bar}] {percentage}% | eta {eta_formatted} | {stage} | {tokens} tok trained | {cost}{failed}',
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
      if (p.tokens !== undefined) liveTokens.set(cell.spec.key, p.tokens);
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
