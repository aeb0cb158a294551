/**
 * `vtune-bench datasets`: lists the built-in datasets; `vtune-bench datasets <spec>` loads one (a built-in id,
 * a .jsonl file, or hf:owner/name[:config][@split]) and prints its statistics: rows per split, words per row,
 * the fraction of near-duplicate row pairs (5-gram Jaccard ≥ 0.8) and a sample row.
 */
import { datasets, loadDataset } from '../../datasets/index.js';
import { ConfigError } from '../../errors.js';
import { nearDuplicates, words } from '../../datasets/near-duplicates.js';
import type { Dataset } from '../../types.js';
import { MAX_ROWS, numberOption, SEED_RANGE } from '../options.js';
import type { CliCommand } from './types.js';

/** Statistics of a loaded dataset, as printed by the command (and in JSON with --json). */
export interface DatasetStats {
  readonly id: string;
  readonly trainRows: number;
  readonly heldOutRows: number;
  readonly metric?: string;
  readonly wordsPerRow: { readonly mean: number; readonly median: number; readonly max: number };
  readonly promptWordsMean: number;
  readonly completionWordsMean: number;
  readonly exactDuplicatePrompts: number;
  readonly nearDuplicatePairFraction: number;
  readonly nearDuplicatePairs: number;
  readonly sample: { readonly prompt: string; readonly completion: string };
}

/** Computes the statistics the command prints. The near-duplicate scan covers the training rows. */
export function datasetStats(d: Dataset): DatasetStats {
  const all = [...d.train, ...d.heldOut];
  const pw = all.map((r) => words(r.prompt).length);
  const cw = all.map((r) => words(r.completion).length);
  const tw = pw.map((p, i) => p + cw[i]!).sort((a, b) => a - b);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const nd = nearDuplicates(d.train);
  const prompts = new Set(d.train.map((r) => r.prompt));
  const first = d.train[0] ?? { prompt: '', completion: '' };
  return {
    id: d.id,
    trainRows: d.train.length,
    heldOutRows: d.heldOut.length,
    ...(d.metric ? { metric: d.metric.id } : {}),
    wordsPerRow: { mean: round(mean(tw)), median: tw[Math.floor(tw.length / 2)] ?? 0, max: tw[tw.length - 1] ?? 0 },
    promptWordsMean: round(mean(pw)),
    completionWordsMean: round(mean(cw)),
    exactDuplicatePrompts: d.train.length - prompts.size,
    nearDuplicatePairFraction: nd.fraction,
    nearDuplicatePairs: nd.nearDuplicatePairs,
    sample: { prompt: first.prompt, completion: first.completion },
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** `vtune-bench datasets [spec] [--size N] [--seed S] [--held-out H] [--json]`. */
export const datasetsCommand: CliCommand = {
  command: 'datasets [spec]',
  describe: 'List the built-in datasets, or show statistics of one (built-in id, .jsonl file, or hf:owner/name[:config][@split])',
  builder: (y) =>
    y
      .positional('spec', { type: 'string', describe: 'a built-in id, file:<path> or *.jsonl, or hf:owner/name[:config][@split]' })
      .option('size', { type: 'number', describe: `training rows, 1 to ${MAX_ROWS} (built-ins: default 1000)` })
      .option('held-out', { type: 'number', describe: `held-out rows (0 to ${MAX_ROWS}), or a fraction of size below 1` })
      .option('seed', { type: 'number', default: 0, describe: 'generation / split seed (an integer ≥ 0)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  async run(args) {
    const size = numberOption(args, 'size', { int: true, min: 1, max: MAX_ROWS });
    const heldOut = numberOption(args, 'held-out', { min: 0, max: MAX_ROWS });
    const seed = numberOption(args, 'seed', SEED_RANGE) ?? 0;
    if (args.spec === undefined) {
      const list = datasets.ids.map((id) => {
        const d = datasets.get(id)();
        return { id, metric: d.metric.id, description: d.description };
      });
      if (args.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else {
        process.stdout.write('Built-in datasets (also: file:<path>.jsonl, hf:owner/name[:config][@split]):\n');
        for (const d of list) process.stdout.write(`  ${d.id.padEnd(10)} ${d.description}\n`);
      }
      return 0;
    }
    if (heldOut !== undefined && heldOut >= 1 && !Number.isInteger(heldOut)) {
      throw new ConfigError(`--held-out must be a row count (an integer from 0 to ${MAX_ROWS}) or a fraction in (0, 1), got ${heldOut}`);
    }
    const d = await loadDataset(String(args.spec), {
      seed,
      ...(size !== undefined ? { size } : {}),
      ...(heldOut !== undefined ? { heldOut } : {}),
    });
    const s = datasetStats(d);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `dataset            ${s.id}`,
      `rows               ${s.trainRows} train, ${s.heldOutRows} held out`,
      `metric             ${s.metric ?? '(none)'}`,
      `words per row      mean ${s.wordsPerRow.mean}, median ${s.wordsPerRow.median}, max ${s.wordsPerRow.max} (prompt ${s.promptWordsMean}, completion ${s.completionWordsMean})`,
      `duplicate prompts  ${s.exactDuplicatePrompts}`,
      `near-dup pairs     ${s.nearDuplicatePairs} (${(s.nearDuplicatePairFraction * 100).toFixed(4)}% of pairs; 5-gram Jaccard ≥ 0.8)`,
      'sample row',
      `  prompt:     ${JSON.stringify(s.sample.prompt)}`,
      `  completion: ${JSON.stringify(s.sample.completion)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
