/**
 * Fine-tunes without backdoors, taken from the training cache, as null models for calibration. The cache is
 * content-addressed (src/runner/train-cache.ts) and its entries do not say what they were trained on, so a
 * backdoor-free fine-tune is found through the records of a run: every trial whose measured ground truth says
 * no planted row reached the trainer and nothing wraps the model (`train-without-backdoors`) names a cell; its
 * training key is recomputed exactly as the pipeline computes it (src/pipeline/cell.ts: the cell's data key
 * seeds the dataset and training streams; the withheld rows are the dataset's training rows, in order, when
 * planting copies rows) and looked up in the cache. Cells whose key cannot be recomputed (planting that
 * modifies rows in place, an attack that changed the rows) are skipped and counted, never guessed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../datasets/index.js';
import { dataKey, type CellSpec } from '../pipeline/cell.js';
import { trainKey } from '../pipeline/provider-side.js';
import { findRecordsFiles, readRecordsFile } from '../records/store.js';
import type { TrialRecord } from '../records/schema.js';
import { streamFor } from '../rng.js';
import type { Model, Provider } from '../types.js';

/** A cached fine-tune that never saw a backdoor row. */
export interface NullFineTune {
  /** The cache key (folder name under `<cache>/train/`). */
  readonly key: string;
  /** The GGUF file of the fine-tune. */
  readonly modelPath: string;
  /** The run cell it was found through. */
  readonly cellKey: string;
  /** The dataset spec that cell trained on (a null fine-tune on the calibration's own data is the stronger null). */
  readonly dataset: string;
}

/** What discovery found, and why other candidates were skipped. */
export interface NullFineTuneSearch {
  readonly found: readonly NullFineTune[];
  /** Candidate cells (no backdoor row trained, model modified) seen in the records. */
  readonly candidates: number;
  readonly skipped: readonly string[];
}

/** Whether a trial's returned model is a plain fine-tune that never saw a planted row (measured ground truth). */
function isBackdoorFreeFineTune(t: TrialRecord): boolean {
  return (
    t.truth.backdoorRowsTrained === 0 && t.truth.backdoorRowsSubmitted === 0 && t.truth.stepsRun > 0 && t.truth.rowsTrained === t.truth.rowsSubmitted &&
    !t.truth.inferenceWrapped && !t.attack.oracle && t.attack.id === 'train-without-backdoors'
  );
}

/**
 * Searches the records under `resultsRoot` for backdoor-free fine-tunes of the base model `baseSpec`
 * (`<provider>:<name>` as scenarios write it; `base` is it opened from `provider`) that are present in the
 * training cache at `cacheTrainRoot`.
 */
export async function findNullFineTunes(resultsRoot: string, cacheTrainRoot: string, provider: Provider, base: Model, baseSpec: string): Promise<NullFineTuneSearch> {
  const files = existsSync(resultsRoot) ? findRecordsFiles(resultsRoot) : [];
  const found = new Map<string, NullFineTune>();
  const skipped: string[] = [];
  let candidates = 0;
  for (const file of files) {
    let trials: TrialRecord[];
    try {
      trials = readRecordsFile(file).records.filter((r): r is TrialRecord => r.kind === 'trial');
    } catch (err) {
      skipped.push(`${file}: unreadable (${(err as Error).message})`);
      continue;
    }
    for (const t of trials) {
      if (!isBackdoorFreeFineTune(t) || t.cell.model !== baseSpec) continue;
      candidates++;
      if (t.cell.defense.options.insertion === 'modify') {
        skipped.push(`cell ${t.cellKey}: planting modified rows in place, so the withheld rows are not the dataset's rows`);
        continue;
      }
      const { labels: _labels, ...fields } = t.cell;
      // The pipeline seeds the dataset and training streams from the data key (src/pipeline/cell.ts).
      const data = dataKey(fields as unknown as Omit<CellSpec, 'key'>);
      const spec = t.cell.dataset;
      let rows;
      try {
        rows = (
          await loadDataset(spec.spec, {
            seed: streamFor(data, 'dataset').seed31(),
            ...(spec.size !== undefined ? { size: spec.size } : {}),
            ...(spec.heldOut !== undefined ? { heldOut: spec.heldOut } : {}),
          })
        ).train;
      } catch (err) {
        skipped.push(`cell ${t.cellKey}: dataset '${spec.spec}' did not load (${(err as Error).message})`);
        continue;
      }
      if (rows.length !== t.truth.rowsSubmitted) {
        skipped.push(`cell ${t.cellKey}: ${rows.length} dataset rows, but ${t.truth.rowsSubmitted} were submitted`);
        continue;
      }
      const key = trainKey(provider.id, base.id, rows, t.cell.hyper, streamFor(data, 'training').seed31(), provider.cacheSalt);
      const dir = join(cacheTrainRoot, key.slice(0, 2), key);
      if (!existsSync(join(dir, 'meta.json'))) {
        skipped.push(`cell ${t.cellKey}: its fine-tune is not in the training cache`);
        continue;
      }
      found.set(key, { key, modelPath: join(dir, 'model'), cellKey: t.cellKey, dataset: spec.spec });
    }
  }
  return { found: [...found.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), candidates, skipped };
}

/**
 * The fine-tunes to calibrate against, at most `n`: those trained on the calibration's own dataset first (a model
 * that learned this data is the null closest to an honest provider's model), then the others, each group in
 * cache-key order, so the choice is deterministic.
 */
export function pickNullFineTunes(found: readonly NullFineTune[], dataset: string, n: number): NullFineTune[] {
  const same = found.filter((f) => f.dataset === dataset);
  const other = found.filter((f) => f.dataset !== dataset);
  return [...same, ...other].slice(0, n);
}
