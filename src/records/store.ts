/**
 * Reading and appending records files (DESIGN.md §7). Every record is one line, written with a single
 * write and fsync'd, so a killed process loses at most the line it was writing; that torn last line is
 * tolerated by the reader and cut off before the next append (its cell simply runs again). The file is opened
 * with O_APPEND, so every line lands at the end of the file as it is at that write, never over another
 * writer's line (one run per folder is the runner's lock; this keeps a stray second writer from overwriting).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { RECORD_SCHEMA_VERSION, type FailureRecord, type ManifestRecord, type RunRecord, type TrialRecord } from './schema.js';

/** The conventional file name of a run's records. */
export const RECORDS_FILE = 'records.jsonl';
/** The name of a compressed (gzip) records file: published records (results/leaderboard/<run>/) are committed so. */
export const COMPRESSED_RECORDS_FILE = 'records.jsonl.gz';

const isGzipPath = (path: string): boolean => path.endsWith('.gz');

/**
 * Gzip with a header that depends on nothing but the bytes: mtime 0 (Node writes 0 already; set here so it is a
 * property of this function, not of a zlib build) and the OS byte fixed at 3 (Unix), which zlib otherwise sets
 * per platform. Same input, same zlib → same file, on any machine.
 */
export function deterministicGzip(data: Buffer | string): Buffer {
  const out = gzipSync(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { level: 9 });
  out.writeUInt32LE(0, 4);
  out[9] = 3;
  return out;
}

/** The bytes of a records file, decompressed when its name ends in `.gz`; a damaged gzip is an InputError naming it. */
function readMaybeGzip(path: string): Buffer {
  const raw = readFileSync(path);
  if (!isGzipPath(path)) return raw;
  try {
    return gunzipSync(raw);
  } catch (cause) {
    throw new InputError(`not a readable gzip file (${(cause as Error).message}); expected the gzip of a JSON-lines file`, { file: path, cause });
  }
}

/**
 * Writes records as a compressed JSON-lines file (deterministicGzip): one record per line, in the order given.
 * Refuses to write into a file that is not a `.gz` path, so a live run's `records.jsonl` is never overwritten.
 */
export function writeCompressedRecords(path: string, records: readonly RunRecord[]): void {
  if (!isGzipPath(path)) throw new InputError('compressed records need a .gz file name', { file: path });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, deterministicGzip(records.map((r) => `${JSON.stringify(r)}\n`).join('')));
}

/** What a records file holds. `tornBytes` > 0 when its last line was cut off mid-write. */
export interface RecordsFile {
  readonly path: string;
  readonly manifest?: ManifestRecord;
  readonly records: readonly RunRecord[];
  /** Byte length of the complete lines (where the next append must start). */
  readonly validBytes: number;
  readonly tornBytes: number;
}

/**
 * Reads the complete lines of a JSON-lines file (DESIGN.md §7) and checks each with `check`. A final line
 * without its newline is a write the process never finished: it may even parse (if it was cut exactly before
 * the newline), but fsync order guarantees nothing, so it is dropped (and its work re-run by the writer). A
 * UTF-8 byte order mark (an editor's) is not part of the first line. A line that is not JSON is an InputError
 * naming file and line, worded `malformed <what> (not JSON)`. Shared by run records and calibration records.
 * A path ending in `.gz` is decompressed first (byte counts are then of the decompressed text).
 */
export function readJsonLines<T>(path: string, what: string, check: (value: unknown, file: string, line: number) => T): { values: T[]; validBytes: number; tornBytes: number } {
  const buf = readMaybeGzip(path);
  const validBytes = buf.lastIndexOf(0x0a) + 1;
  const bom = validBytes >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  const lines = buf.subarray(bom, validBytes).toString('utf8').split('\n');
  const values: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new InputError(`malformed ${what} (not JSON): ${line.slice(0, 60)}`, { file: path, line: i + 1, cause });
    }
    values.push(check(value, path, i + 1));
  }
  return { values, validBytes, tornBytes: buf.length - validBytes };
}

/**
 * Cuts an unfinished last line (no newline: the writer was killed mid-write) off the end of a JSON-lines
 * file before appending to it, so the next line starts on a line of its own. Returns the bytes removed.
 */
export function dropTornTail(path: string): number {
  if (!existsSync(path)) return 0;
  const buf = readFileSync(path);
  const keep = buf.lastIndexOf(0x0a) + 1;
  if (keep === buf.length) return 0;
  truncateSync(path, keep);
  return buf.length - keep;
}

/** Every file named `name` (or any of `names`) at or below `dir` (a folder), depth first, sorted for a deterministic order. */
export function findFilesNamed(dir: string, name: string | readonly string[]): string[] {
  const names = typeof name === 'string' ? [name] : name;
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (names.includes(entry)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Reads a records file. A torn final line is ignored; a malformed line elsewhere is an InputError naming it. */
export function readRecordsFile(path: string): RecordsFile {
  if (!existsSync(path)) throw new InputError('no such records file', { file: path });
  const { values: records, validBytes, tornBytes } = readJsonLines(path, 'record', checkRecord);
  const manifest = records[0]?.kind === 'manifest' ? (records[0] as ManifestRecord) : undefined;
  if (records.length > 0 && !manifest) throw new InputError('the first record must be the manifest', { file: path, line: 1 });
  return { path, manifest, records, validBytes, tornBytes };
}

function checkRecord(value: unknown, file: string, line: number): RunRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('a record must be a JSON object', { file, line });
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'manifest') {
    const v = (value as ManifestRecord).schemaVersion;
    if (typeof v !== 'number' || v > RECORD_SCHEMA_VERSION) {
      throw new InputError(`records schema version ${String(v)} is newer than this vtune-bench reads (${RECORD_SCHEMA_VERSION})`, { file, line });
    }
    return value as ManifestRecord;
  }
  if (kind === 'trial' || kind === 'failure') {
    if (typeof (value as TrialRecord).cellKey !== 'string') throw new InputError(`a ${kind} record needs a string cellKey`, { file, line });
    return value as TrialRecord | FailureRecord;
  }
  throw new InputError(`unknown record kind ${JSON.stringify(kind)} (expected manifest, trial or failure)`, { file, line });
}

/** Appends records to one file, each durable (fsync) before `append` returns. */
export class RecordWriter {
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Opens `path` for appending (O_APPEND), creating it (and its folder). When the file ends in a torn line,
   * that partial line is cut off first so the next record starts on a line of its own.
   */
  static open(path: string): RecordWriter {
    mkdirSync(dirname(path), { recursive: true });
    dropTornTail(path);
    return new RecordWriter(path, openSync(path, 'a'));
  }

  /**
   * Writes one record as one line and syncs it to disk. Messages must already be redacted (failureRecord does
   * it): a blanket pass over the JSON would also mangle field names such as `heldOutLossNatsPerToken`.
   */
  append(record: RunRecord): void {
    if (this.fd === undefined) throw new Error(`RecordWriter for ${this.path} is closed`);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    // One write of the whole line (a regular file takes it whole); the loop only guards a short write.
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    fsyncSync(this.fd);
  }

  /** Closes the file; further appends throw. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The records files under a path: the file itself, or every `records.jsonl` or `records.jsonl.gz` in a run
 * folder tree (a run, or a scenario folder holding runs and shards). Where one folder holds both (a published
 * run on the machine that ran it), the live `records.jsonl` is read and its compressed copy skipped, so a
 * report counts each run once. Sorted for a deterministic read order.
 */
export function findRecordsFiles(path: string): string[] {
  if (!existsSync(path)) throw new InputError('no such file or folder', { file: path });
  if (statSync(path).isFile()) return [path];
  const found = findFilesNamed(path, [RECORDS_FILE, COMPRESSED_RECORDS_FILE]);
  const live = new Set(found.filter((f) => !isGzipPath(f)).map((f) => dirname(f)));
  return found.filter((f) => !isGzipPath(f) || !live.has(dirname(f)));
}

/**
 * The effective result per cell across files: a trial wins over failures; among several trials of one cell
 * (a merge of overlapping shards) the first in read order wins. Returned sorted by cell key, so everything
 * computed from it is independent of the order cells finished in.
 */
export function latestByCell(records: readonly RunRecord[]): { trials: TrialRecord[]; failures: FailureRecord[] } {
  const trials = new Map<string, TrialRecord>();
  const failures = new Map<string, FailureRecord>();
  for (const r of records) {
    if (r.kind === 'trial' && !trials.has(r.cellKey)) trials.set(r.cellKey, r);
    else if (r.kind === 'failure') failures.set(r.cellKey, r);
  }
  for (const key of trials.keys()) failures.delete(key);
  const byKey = <T extends { cellKey: string }>(a: T, b: T): number => (a.cellKey < b.cellKey ? -1 : a.cellKey > b.cellKey ? 1 : 0);
  return { trials: [...trials.values()].sort(byKey), failures: [...failures.values()].sort(byKey) };
}
