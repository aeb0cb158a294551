/**
 * Fine-tunes without backdoors, taken from the training cache, as null models for calibration. The cache is
 * content-addressed (src/runner/train-cache.ts) and its entries do not say what they were trained on, so a
 * backdoor-free fine-tune is found through the records of a run: every trial whose measured ground truth says
 * no planted row reached the trainer and nothing wraps the model (`train-without-backdoors`) names a cell; its
 * training key is recomputed exactly as the pipeline computes it (src/pipeline/cell.ts: the cell's data key
 * seeds the dataset and training streams; the withheld rows are the dataset's training rows, in order, when
 * planting copies rows) and looked up in the cache. When those rows are not what was submitted (measured: planting
 * modified rows in place, as vtune's `insertion: 'modify'` does, so the withheld hosts are dataset rows), the trained
 * rows are the dataset's rows without the hosts, and the cell's planting is replayed exactly as the
 * pipeline ran it (the defense from its recorded options, the cell's pair-key 'planting' stream, the base model
 * as generator model) and its backdoor rows are dropped; whatever the replay gives, only a cache entry trained on
 * exactly those rows (clean rows of the dataset) is taken. Cells whose key cannot be recomputed (a defense this
 * build does not have or that refuses its recorded options, such as a secret recorded as its fingerprint, an
 * attack that changed the rows) are skipped and counted, never guessed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../datasets/index.js';
import { dataKey, pairKey, type CellSpec } from '../pipeline/cell.js';
import { trainKey } from '../pipeline/provider-side.js';
import { findRecordsFiles, readRecordsFile } from '../records/store.js';
import type { TrialRecord } from '../records/schema.js';
import { streamFor } from '../rng.js';
import type { Defense, Logger, Model, Provider, Row } from '../types.js';
import { defenses } from '../../defenses/index.js';

const silent: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

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

/**
 * Whether a trial's returned model is a plain fine-tune that never saw a planted row (measured ground truth). The
 * trainer may leave out rows whose completion alone does not fit the context (`rowsTrained` < `rowsSubmitted`):
 * the fine-tune is still of the submitted rows (its cache key is), and none of them is planted.
 */
export function isBackdoorFreeFineTune(t: TrialRecord): boolean {
  return (
    t.truth.backdoorRowsTrained === 0 && t.truth.backdoorRowsSubmitted === 0 && t.truth.stepsRun > 0 && t.truth.rowsTrained > 0 && t.truth.rowsTrained <= t.truth.rowsSubmitted &&
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
      const { labels: _labels, ...fields } = t.cell;
      const cellFields = fields as unknown as Omit<CellSpec, 'key'>;
      // The pipeline seeds the dataset and training streams from the data key (src/pipeline/cell.ts).
      const data = dataKey(cellFields);
      const spec = t.cell.dataset;
      let rows: readonly Row[];
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
      // Copied backdoors were withheld whole, leaving the dataset's rows; rows modified in place were withheld from them.
      if (rows.length !== t.truth.rowsSubmitted) {
        const replayed = await withoutModifiedHosts(t, cellFields, rows, base);
        if (typeof replayed === 'string') {
          skipped.push(`cell ${t.cellKey}: ${replayed}`);
          continue;
        }
        rows = replayed;
      }
      if (rows.length !== t.truth.rowsSubmitted) {
        skipped.push(`cell ${t.cellKey}: its replayed planting leaves ${rows.length} rows, but ${t.truth.rowsSubmitted} were submitted`);
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
 * The rows a train-without-backdoors cell submitted when its planting modified dataset rows: the cell's planting
 * replayed as src/pipeline/cell.ts runs it, minus the backdoor rows; or why it cannot be replayed.
 */
async function withoutModifiedHosts(t: TrialRecord, fields: Omit<CellSpec, 'key'>, train: readonly Row[], base: Model): Promise<readonly Row[] | string> {
  const id = t.cell.defense.id;
  if (!defenses.has(id)) return `defense '${id}' is not in this build, so its planting cannot be replayed`;
  const { alpha: _alpha, ...options } = t.cell.defense.options;
  let defense: Defense;
  try {
    defense = (defenses.get(id) as (o: Record<string, unknown>) => Defense)(options);
  } catch (err) {
    return `defense '${id}' refused its recorded options (${(err as Error).message})`;
  }
  try {
    const planted = await defense.plant(train, { rng: streamFor(pairKey(fields), 'planting'), log: silent, baseModel: base, generatorModel: base });
    const mask = defense.backdoorMask(planted.secret, planted.rows.length);
    return planted.rows.filter((_, i) => !mask[i]);
  } catch (err) {
    return `replaying its planting failed (${(err as Error).message})`;
  }
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
