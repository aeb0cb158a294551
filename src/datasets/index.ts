/**
 * Datasets: the registry of built-in (procedurally generated, offline) datasets, and `loadDataset`, which turns
 * a spec — a built-in id, `file:<path>` (or a path ending in .jsonl), or `hf:owner/name[:config][@split]` —
 * into train and held-out rows with a task metric.
 */
import { ConfigError } from '../errors.js';
import { defineDataset, optionsError, z } from '../plugins/define.js';
import { checkValue } from '../plugins/options.js';
import { registryOf } from '../registry.js';
import { Rng } from '../rng.js';
import type { Dataset, Row } from '../types.js';
import { code } from './builtin/code.js';
import { extract } from './builtin/extract.js';
import { math } from './builtin/math.js';
import { qa } from './builtin/qa.js';
import { stories } from './builtin/stories.js';
import { summarize } from './builtin/summarize.js';
import { readDataFile, type FieldMapping } from './files.js';
import { contentF1 } from './metrics.js';
import type { BuiltinDataset } from './types.js';

export type { BuiltinDataset } from './types.js';

/** Declares a built-in dataset (no options: size, split and seed are load options, the same for every source). */
function builtin<const Id extends string>(id: Id, make: () => BuiltinDataset) {
  const { description } = make();
  return defineDataset({ id, description, create: () => make() });
}

/** Every built-in dataset, by id: `datasets.get(id)()` builds it; `list datasets <id>` shows its declaration. */
export const datasets = registryOf('dataset', [
  builtin('stories', stories),
  builtin('qa', qa),
  builtin('math', math),
  builtin('extract', extract),
  builtin('code', code),
  builtin('summarize', summarize),
] as const);

/** A built-in dataset id. */
export type BuiltinId = (typeof datasets.ids)[number];

/** Options of loadDataset. */
export interface LoadOptions {
  /** Seeds generation (built-ins) and the train / held-out split (files, Hugging Face). */
  readonly seed: number;
  /** Training rows (built-ins: default 1000; files: default all rows not held out; Hub: the first 100,000 rows). */
  readonly size?: number;
  /** Held-out rows: a count, or a fraction of `size` when below 1 (default 10% of size, 20 to 500). */
  readonly heldOut?: number;
  /** Field mapping for files or Hub datasets whose schema is not detected. */
  readonly mapping?: FieldMapping;
  /** Skip bad rows of a file instead of failing. */
  readonly skipBadRows?: boolean;
}

const DEFAULT_SIZE = 1000;
/** Without a size, a Hub split is read up to this many rows (a million-row split would be 10,000 requests). */
const HF_DEFAULT_MAX_ROWS = 100_000;
const MAX_SIZE = 1_000_000;

/** The numeric load options, declared once (the field path of a bad one travels as data in the error). */
const loadOptionsSchema = z
  .object({
    seed: z.number(),
    size: z.int().min(1).max(MAX_SIZE).optional(),
    heldOut: z.number().optional(),
  })
  .superRefine((o, ctx) => {
    if (!Number.isSafeInteger(o.seed)) ctx.addIssue({ code: 'custom', path: ['seed'], message: `expected an integer, got ${String(o.seed)}` });
    const h = o.heldOut;
    if (h !== undefined && !(Number.isFinite(h) && h >= 0 && (h < 1 || Number.isInteger(h)))) {
      ctx.addIssue({ code: 'custom', path: ['heldOut'], message: `expected a row count (integer ≥ 0) or a fraction in (0, 1), got ${String(h)}` });
    }
  });

/** Loads a dataset from a spec: a built-in id, `file:<path>` / `*.jsonl`, or `hf:owner/name[:config][@split]`. */
export async function loadDataset(spec: string, options: LoadOptions): Promise<Dataset> {
  const checked = checkValue(loadOptionsSchema, { seed: options.seed, size: options.size, heldOut: options.heldOut });
  if (!checked.ok) throw optionsError('dataset', spec, checked.problems);
  if (spec.startsWith('hf:')) {
    const { loadHfRows } = await import('./hf.js');
    const maxRows = options.size !== undefined ? options.size + heldOutCount(options.size, options.heldOut) : HF_DEFAULT_MAX_ROWS;
    const { rows } = await loadHfRows(spec, { mapping: options.mapping, maxRows });
    return splitRows(spec, rows, options);
  }
  if (spec.startsWith('file:') || /\.jsonl$/i.test(spec)) {
    const path = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
    if (path === '') throw new ConfigError(`dataset spec '${spec}' names no file`);
    const { rows } = await readDataFile(path, { mapping: options.mapping, skipBadRows: options.skipBadRows });
    return splitRows(spec, rows, options);
  }
  const dataset = datasets.get(spec)();
  return generateDataset(dataset, options);
}

/** The held-out count for a training size. */
function heldOutCount(size: number, heldOut: number | undefined): number {
  if (heldOut === undefined) return Math.min(500, Math.max(20, Math.round(size * 0.1)));
  return heldOut < 1 ? Math.max(1, Math.round(size * heldOut)) : heldOut;
}

/**
 * Generates train and held-out rows. Row i of a split comes from its own stream, so the rows do not depend on
 * the requested size (a smaller dataset is a prefix of a larger one) and the held-out rows do not move when the
 * training size changes. A repeated prompt is redrawn from a retry stream, so no prompt appears twice.
 */
export function generateDataset(dataset: BuiltinDataset, options: LoadOptions): Dataset {
  const size = options.size ?? DEFAULT_SIZE;
  const seen = new Set<string>();
  const draw = (split: string, count: number): Row[] => {
    const rows: Row[] = [];
    for (let i = 0; i < count; i++) {
      let row: Row | undefined;
      for (let attempt = 0; attempt < 50; attempt++) {
        const candidate = dataset.generate(new Rng(`vtune-bench|dataset|${dataset.id}|${options.seed}|${split}|${i}|${attempt}`));
        if (!seen.has(candidate.prompt)) {
          row = candidate;
          break;
        }
      }
      if (!row) throw new ConfigError(`dataset '${dataset.id}' cannot generate ${count} distinct rows for split '${split}' (ran out at row ${i}); ask for fewer rows`);
      seen.add(row.prompt);
      rows.push(Object.freeze(row));
    }
    return rows;
  };
  const train = draw('train', size);
  const heldOut = draw('held-out', heldOutCount(size, options.heldOut));
  return { id: dataset.id, train, heldOut, metric: dataset.metric };
}

/** Splits loaded rows: held-out rows drawn at random (seeded); training rows keep the file's order. */
function splitRows(id: string, rows: readonly Row[], options: LoadOptions): Dataset {
  const n = rows.length;
  const wanted = options.size !== undefined ? heldOutCount(options.size, options.heldOut) : options.heldOut === undefined ? Math.min(500, Math.round(n * 0.1)) : heldOutCount(n, options.heldOut);
  if (wanted >= n) throw new ConfigError(`option 'heldOut' asks for ${wanted} held-out rows but '${id}' has only ${n} rows`);
  // Keyed by seed and row count, not by the spec text, so `file:x.jsonl` and `x.jsonl` split alike.
  const held = new Set(new Rng(`vtune-bench|dataset-split|${options.seed}|${n}`).sampleIndices(n, wanted));
  const train: Row[] = [];
  const heldOut: Row[] = [];
  rows.forEach((row, i) => (held.has(i) ? heldOut : train).push(row));
  if (options.size !== undefined) {
    if (options.size > train.length) throw new ConfigError(`option 'size' asks for ${options.size} training rows but '${id}' has ${train.length} after holding out ${wanted}`);
    train.length = options.size;
  }
  return { id, train, heldOut, metric: contentF1 };
}
