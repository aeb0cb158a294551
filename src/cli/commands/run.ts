/**
 * `vtune-bench run <scenario>`: validates the scenario, runs (or resumes) its cells with a live progress
 * display, then writes the report and prints where. Ctrl-C finishes the record being written and exits; the
 * same command resumes. `--shard i/n` runs every n-th cell (merge the shards with `vtune-bench merge`);
 * `--publish` writes the published page results/<scenario>.md (the `leaderboard` scenario: results/leaderboard.md)
 * and its charts, and the run's records compressed beside them (results/<scenario>/<run>/records.jsonl.gz) to commit. `--plan` prints the cells and fine-tunes and runs nothing.
 */
import { join, relative, resolve } from 'node:path';
import { loadRecords, publishLeaderboard, writeReport } from '../../report/index.js';
import { projectCatalog } from '../../runner/catalog.js';
import { parseShard } from '../../runner/expand.js';
import { barProgress } from '../../runner/progress.js';
import { checkRunId, runScenario } from '../../runner/run.js';
import { findRecordsFiles, latestByCell, readRecordsFile } from '../../records/store.js';
import { estimateSeconds, planScenario, planText } from '../../runner/plan.js';
import { loadScenario } from '../../runner/scenario.js';
import { DiskTrainCache } from '../../runner/train-cache.js';
import { repoRoot } from '../../shared-path.js';
import type { Logger } from '../../types.js';
import type { TrialRecord } from '../../records/schema.js';
import type { CliCommand } from './types.js';

/** A logger to stderr; debug lines only with --verbose. */
export function stderrLogger(verbose: boolean): Logger {
  return {
    info: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    debug: (m) => {
      if (verbose) process.stderr.write(`${m}\n`);
    },
  };
}

/** A path as printed: relative to the working folder when inside it, else absolute. */
export function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
}
const shown = shownPath;

/** Quotes a value for a POSIX shell when it needs it. */
const shellQuote = (v: string): string => (/^[\w./:=@%+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/**
 * The command that resumes an interrupted run: the same scenario, results folder, run id (a --fresh run's
 * timestamped id, since --fresh again would start yet another run), shard and every other non-default option.
 */
export function resumeCommand(args: Record<string, unknown>, runId: string | undefined): string {
  const parts = ['vtune-bench', 'run', String(args.scenario)];
  if (args.results !== undefined && args.results !== 'results') parts.push('--results', String(args.results));
  if (runId !== undefined) parts.push('--run-id', runId);
  if (args.shard !== undefined) parts.push('--shard', String(args.shard));
  if (args.queue !== undefined) parts.push('--queue', queueWithoutPassword(String(args.queue)));
  if (args.report === false) parts.push('--no-report');
  if (args.publish) parts.push('--publish');
  if (args.verbose) parts.push('--verbose');
  return parts.map((p, i) => (i < 2 ? p : shellQuote(p))).join(' ');
}

/**
 * The --queue URL for the resume hint, its password left out (it is a secret; `VTUNE_QUEUE_PASSWORD` supplies it,
 * which `resumeNote` says). A URL that does not parse is left out as well: the hint must never echo a secret.
 */
function queueWithoutPassword(text: string): string {
  try {
    const url = new URL(text);
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '<redis-url>';
  }
}

/** What the resume hint must add in words: where a queue password comes from. */
export function resumeNote(args: Record<string, unknown>): string {
  if (args.queue === undefined) return '';
  try {
    return new URL(String(args.queue)).password ? ' (with the queue password in VTUNE_QUEUE_PASSWORD)' : '';
  } catch {
    return '';
  }
}

/** `vtune-bench run <scenario>`. */
export const runCommand: CliCommand = {
  command: 'run <scenario>',
  describe: 'Run (or resume) a scenario, then write its report',
  builder: (y) =>
    y
      .positional('scenario', { type: 'string', describe: "a name under scenarios/ (e.g. 'default') or a .ts/.json path" })
      .option('shard', { type: 'string', describe: 'run only shard i of n (e.g. 1/2); merge shards with `merge`' })
      .option('queue', { type: 'string', describe: 'coordinate `vtune-bench worker`s through Redis: redis://host:port[/db] or rediss://…' })
      .option('results', { type: 'string', describe: 'results folder', default: 'results' })
      .option('run-id', { type: 'string', describe: 'run id (default: from the scenario content, so a re-run resumes)' })
      .option('fresh', { type: 'boolean', default: false, describe: 'start a new run (timestamped id) instead of resuming' })
      .option('report', { type: 'boolean', default: true, describe: 'write the report when the run completes (--no-report to skip)' })
      .option('publish', { type: 'boolean', default: false, describe: 'also write results/<scenario>.md (leaderboard → results/leaderboard.md), its PNG charts and its records to commit (results/<scenario>/<run>/records.jsonl.gz)' })
      .option('plan', { type: 'boolean', default: false, describe: 'print the cells, secrets and fine-tunes the run would do (and an estimate), then exit without running' })
      .option('verbose', { type: 'boolean', default: false }),
  async run(args) {
    const log = stderrLogger(Boolean(args.verbose));
    const catalog = projectCatalog;
    if (args.runId !== undefined) checkRunId(String(args.runId), '--run-id');
    const shard = args.shard ? parseShard(String(args.shard)) : undefined;
    const { scenario, file } = await loadScenario(String(args.scenario), catalog);
    const resultsRoot = resolve(String(args.results));
    if (args.plan) {
      const plan = planScenario(scenario, catalog, shard);
      // Priced by the published default run's measured cell durations, when its records are present.
      const refDir = join(repoRoot, 'results', 'published');
      let reference: TrialRecord[] = [];
      try {
        reference = latestByCell(findRecordsFiles(refDir).flatMap((f) => readRecordsFile(f).records)).trials;
      } catch {
        reference = [];
      }
      const estimate = estimateSeconds(plan, reference);
      process.stdout.write(planText(scenario.name, plan, estimate, estimate ? ` (per attack, the mean cell duration of ${reference.length} cells in ${shown(refDir)})` : ''));
      return 0;
    }
    const runId = args.runId ? String(args.runId) : args.fresh ? new Date().toISOString().replace(/[:.]/g, '-') : undefined;

    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ninterrupted: finishing the record being written (Ctrl-C again to quit now); run the same command to resume\n');
      controller.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSigint);
    const cache = new DiskTrainCache(undefined, log);
    let summary;
    try {
      const options = {
        scenario,
        file,
        catalog,
        resultsRoot,
        ...(runId && { runId }),
        ...(shard && { shard }),
        trainCache: cache,
        signal: controller.signal,
        log,
        progress: barProgress(process.stderr),
      };
      summary = args.queue
        ? await (await import('../../queue/coordinator.js')).runScenarioOnQueue({ ...options, queue: String(args.queue), fineTunes: cache.stats })
        : await runScenario(options);
    } finally {
      process.off('SIGINT', onSigint);
    }
    const secs = (summary.durationMs / 1000).toFixed(1);
    process.stdout.write(
      `${scenario.name}: ${summary.succeeded + summary.skipped}/${summary.total} cells recorded (${summary.skipped} from an earlier run, ` +
        `${summary.succeeded} run now, ${summary.failed} failed; fine-tunes trained ${cache.stats.trained}, reused from cache ${cache.stats.reused}) in ${secs} s\n` +
        `records: ${shown(summary.recordsPath)}\n`,
    );
    if (summary.interrupted) {
      process.stdout.write(`interrupted: run \`${resumeCommand(args, runId)}\`${resumeNote(args)} to resume\n`);
      return 130;
    }
    if (shard) {
      process.stdout.write(`shard ${shard.index}/${shard.count} done; merge the shards with \`vtune-bench merge <shard folders…>\`\n`);
    } else if (args.report !== false) {
      const records = loadRecords([summary.runDir]);
      const report = await writeReport(records, join(summary.runDir, 'report'));
      process.stdout.write(`report: ${shown(report.html)}\n        ${shown(report.markdown)}\n`);
      if (args.publish) {
        const published = await publishLeaderboard(records, join(repoRoot, 'results'));
        process.stdout.write(`published: ${shown(published.markdown)} (+ ${published.charts.length} charts); its records, to commit: ${shown(published.records)}\n`);
      }
    }
    return summary.failed > 0 ? 1 : 0;
  },
};
