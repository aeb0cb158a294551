/**
 * On-disk state of `vtune-bench serve`: uploaded files, fine-tuning jobs, their events and model artifacts,
 * under one data directory, so a restart loses nothing. Every write is atomic (temp file + rename); ids are
 * checked against a strict pattern before they ever become a path, so a crafted id cannot escape the folder.
 *
 * Layout: files/<id>.json + files/<id>.jsonl · jobs/<id>.json + jobs/<id>.events.jsonl · models/<job id>/…
 * Everything the server writes is private to its user (files 0600, folders 0700): uploads are the user's
 * training data, and models are trained on them.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpError } from '../errors.js';

/** A stored file, in OpenAI's shape. */
export interface FileRecord {
  readonly id: string;
  readonly object: 'file';
  readonly bytes: number;
  readonly created_at: number;
  readonly filename: string;
  readonly purpose: string;
  readonly status: 'processed';
  /** Number of training examples (serve's own field). */
  readonly examples: number;
}

/** Job states as OpenAI names them. */
export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A fine-tuning job, in OpenAI's shape. */
export interface JobRecord {
  id: string;
  object: 'fine_tuning.job';
  model: string;
  training_file: string;
  validation_file: null;
  status: JobStatus;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  trained_tokens: number | null;
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number };
  method: { type: 'supervised'; supervised: { hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number } } };
  seed: number;
  suffix: string | null;
  error: { code: string; message: string; param: string | null } | null;
  result_files: string[];
  organization_id: string;
  integrations: null;
  estimated_finish: null;
  /** Serve's own fields: steps actually run, final loss, how many times the job was (re)started. */
  steps_run?: number;
  final_loss?: number;
  attempts?: number;
}

/** A job event, in OpenAI's shape. */
export interface EventRecord {
  readonly id: string;
  readonly object: 'fine_tuning.job.event';
  readonly created_at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly type: 'message' | 'metrics';
  readonly data: Record<string, unknown> | null;
}

const FILE_ID = /^file-[A-Za-z0-9]{8,64}$/;
const JOB_ID = /^ftjob-[A-Za-z0-9]{8,64}$/;

/**
 * A new id. Ids name server objects, they are not experimental randomness, so they come from the OS (a
 * seeded stream would repeat ids after a restart).
 */
export function newId(prefix: 'file' | 'ftjob' | 'ftevent' | 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** Validates a file id from a URL or a body; 400 otherwise (this is the path-traversal guard). */
export function checkFileId(id: unknown, param = 'file_id'): string {
  if (typeof id !== 'string' || !FILE_ID.test(id)) throw new HttpError(400, `invalid file id: expected 'file-' followed by 8–64 letters or digits`, { errorCode: 'invalid_file_id', param: param });
  return id;
}

/** Validates a job id; 400 otherwise. */
export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || !JOB_ID.test(id)) throw new HttpError(400, `invalid job id: expected 'ftjob-' followed by 8–64 letters or digits`, { errorCode: 'invalid_job_id', param: 'fine_tuning_job_id' });
  return id;
}

/** The serve data directory. Synchronous I/O: records are small and this keeps each write atomic in order. */
export class Store {
  constructor(readonly dir: string) {
    for (const sub of ['files', 'jobs', 'models']) privateDir(join(dir, sub));
  }

  private write(path: string, data: string | Buffer): void {
    writePrivate(path, data);
  }

  /** `text` with the data directory's absolute path replaced by `<data-dir>`: clients never learn the server's paths. */
  scrub(text: string): string {
    return text.split(this.dir).join('<data-dir>');
  }

  /** Whether an uploaded file's content is still on disk (it is gone once the file is deleted). */
  hasFileContent(id: string): boolean {
    return existsSync(join(this.dir, 'files', `${checkFileId(id)}.jsonl`));
  }

  /** Stores an uploaded file and its record. */
  putFile(record: FileRecord, content: Buffer): void {
    checkFileId(record.id);
    this.write(join(this.dir, 'files', `${record.id}.jsonl`), content);
    this.write(join(this.dir, 'files', `${record.id}.json`), JSON.stringify(record));
  }

  getFile(id: string): FileRecord | undefined {
    const p = join(this.dir, 'files', `${checkFileId(id)}.json`);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as FileRecord) : undefined;
  }

  fileContent(id: string): Buffer {
    return readFileSync(join(this.dir, 'files', `${checkFileId(id)}.jsonl`));
  }

  deleteFile(id: string): boolean {
    checkFileId(id);
    const meta = join(this.dir, 'files', `${id}.json`);
    if (!existsSync(meta)) return false;
    rmSync(meta);
    rmSync(join(this.dir, 'files', `${id}.jsonl`), { force: true });
    return true;
  }

  listFiles(): FileRecord[] {
    return readdirSync(join(this.dir, 'files'))
      .filter((n) => n.endsWith('.json') && FILE_ID.test(n.slice(0, -5)))
      .map((n) => JSON.parse(readFileSync(join(this.dir, 'files', n), 'utf8')) as FileRecord)
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
  }

  putJob(job: JobRecord): void {
    this.write(join(this.dir, 'jobs', `${checkJobId(job.id)}.json`), JSON.stringify(job));
  }

  getJob(id: string): JobRecord | undefined {
    const p = join(this.dir, 'jobs', `${checkJobId(id)}.json`);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as JobRecord) : undefined;
  }

  listJobs(): JobRecord[] {
    return readdirSync(join(this.dir, 'jobs'))
      .filter((n) => n.endsWith('.json') && JOB_ID.test(n.slice(0, -5)))
      .map((n) => JSON.parse(readFileSync(join(this.dir, 'jobs', n), 'utf8')) as JobRecord)
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
  }

  addEvent(jobId: string, ev: Omit<EventRecord, 'id' | 'object' | 'created_at'>): EventRecord {
    const full: EventRecord = { id: newId('ftevent'), object: 'fine_tuning.job.event', created_at: Math.floor(Date.now() / 1000), ...ev };
    appendFileSync(join(this.dir, 'jobs', `${checkJobId(jobId)}.events.jsonl`), JSON.stringify(full) + '\n', { mode: 0o600 });
    return full;
  }

  /** Events, newest first. A torn last line (killed process) is skipped. */
  events(jobId: string): EventRecord[] {
    const p = join(this.dir, 'jobs', `${checkJobId(jobId)}.events.jsonl`);
    if (!existsSync(p)) return [];
    const out: EventRecord[] = [];
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as EventRecord);
      } catch {
        /* torn line */
      }
    }
    return out.reverse();
  }

  /** The artifact folder of a job's model (created on demand). */
  modelDir(jobId: string): string {
    const d = join(this.dir, 'models', checkJobId(jobId));
    privateDir(d);
    return d;
  }
}

/** Creates a folder (and its parents) readable by this user only; an existing folder of ours is made so too. */
function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** Writes a file readable by this user only, atomically (temp file created 0600, then renamed over `path`). */
export function writePrivate(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true }); // a temp file left by a crash keeps its old mode: start afresh
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Makes a file written by someone else (a provider's saveModel) readable by this user only. */
export function makePrivate(path: string): void {
  chmodSync(path, 0o600);
}
