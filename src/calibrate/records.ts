/**
 * Calibration records: one JSON line per null trial (a fresh secret verified against a model that never saw
 * it), so every Type-I figure and the calibration plot regenerate from the file alone. Files are named
 * `calibration.jsonl`; `calibrate` writes them under `<results>/calibration/<name>/` by default, which is
 * where the report looks for them (src/report/index.ts). Append-only; a torn last line (killed process) is
 * dropped and its trial re-run on resume. A record holds no trigger, signature or model output: only the
 * planting seed, which re-derives a throwaway secret that was never uploaded anywhere.
 */
import { appendFileSync, existsSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { findFilesNamed, readJsonLines } from '../records/store.js';

/** Bumped when a field changes meaning; readers refuse newer versions. */
export const CALIBRATION_SCHEMA_VERSION = 1;
/** The file name the report looks for. */
export const CALIBRATION_FILE = 'calibration.jsonl';

/** Where the null model comes from. */
export type NullModelKind = 'base' | 'fine-tune';

/** One null trial. */
export interface CalibrationRecord {
  readonly kind: 'calibration';
  readonly schemaVersion: number;
  /** Hash of everything that determines the trial besides the null model and trial number (resume key). */
  readonly config: string;
  /**
   * The generator and its validated options; `label` names the configuration in tables. For a defense other
   * than a vTune generator configuration it repeats `defense`, so tables group it as one configuration.
   */
  readonly generator: { readonly id: string; readonly options: Readonly<Record<string, unknown>>; readonly label: string };
  /** Present when a registered defense was calibrated (`calibrate --defense`): its id, options and label. */
  readonly defense?: { readonly id: string; readonly options: Readonly<Record<string, unknown>>; readonly label: string };
  /** Backdoors planted per secret (a defense: the probes its verdict counted, `n`). */
  readonly count: number;
  readonly dataset: string;
  /** The model verified: it never saw this secret. */
  readonly nullModel: string;
  readonly nullModelKind: NullModelKind;
  /** The base model (its log-probs give the base-model null; lm-sampled samples from it). */
  readonly baseModel: string;
  readonly trial: number;
  /** The planting seed of this trial's secret (fresh per trial). */
  readonly seed: string;
  /** Backdoors queried and exact prefix hits. */
  readonly n: number;
  readonly k: number;
  /** Counterfactual sets of the empirical null (its smallest p is 1/(M + 1)). */
  readonly empiricalM: number;
  /** log10 p under every null mode the verdict carried (same outputs); a one-test verifier: its test's name. */
  readonly log10pByNullMode: Readonly<Record<string, number>>;
  /** A defense's test statistic (name and value; numbers only), when its verdict has one. */
  readonly statistic?: { readonly name: string; readonly value: number };
}

/** Appends records as JSON lines (one write, so a crash tears at most the last line). */
export function appendCalibrationRecords(path: string, records: readonly CalibrationRecord[]): void {
  if (records.length === 0) return;
  appendFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

function check(value: unknown, file: string, line: number): CalibrationRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('a calibration record must be a JSON object', { file, line });
  const r = value as Partial<CalibrationRecord>;
  if (r.kind !== 'calibration') throw new InputError(`expected a record of kind 'calibration', got ${JSON.stringify(r.kind)}`, { file, line });
  if (typeof r.schemaVersion !== 'number' || r.schemaVersion > CALIBRATION_SCHEMA_VERSION) {
    throw new InputError(`calibration schema version ${String(r.schemaVersion)} is newer than this vtune-bench reads (${CALIBRATION_SCHEMA_VERSION})`, { file, line });
  }
  const ok =
    typeof r.config === 'string' && typeof r.generator?.id === 'string' && typeof r.generator.label === 'string' && typeof r.nullModel === 'string' &&
    Number.isInteger(r.trial) && Number.isInteger(r.n) && Number.isInteger(r.k) && Number.isInteger(r.count) &&
    typeof r.log10pByNullMode === 'object' && r.log10pByNullMode !== null &&
    Object.values(r.log10pByNullMode).every((v) => typeof v === 'number' && v <= 0);
  if (!ok) throw new InputError('malformed calibration record (fields missing, of the wrong type, or a log10 p above 0)', { file, line });
  return value as CalibrationRecord;
}

/** Reads one calibration file; a final line without its newline is an unfinished write and is dropped. */
export function readCalibrationFile(path: string): CalibrationRecord[] {
  return existsSync(path) ? readJsonLines(path, 'calibration record', check).values : [];
}

/** Every `calibration.jsonl` at or below `path` (a file or a folder), sorted. */
export function findCalibrationFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  return statSync(path).isFile() ? [path] : findFilesNamed(path, CALIBRATION_FILE);
}

/** The records of every calibration file under `paths`, in file order. */
export function loadCalibration(paths: readonly string[]): { files: string[]; records: CalibrationRecord[] } {
  const files = [...new Set(paths.flatMap(findCalibrationFiles))];
  return { files, records: files.flatMap(readCalibrationFile) };
}
