/**
 * What travels over the queue between the coordinator (`run --queue`) and the workers (`worker --queue`), and
 * the rules both sides share: queue names, the unit of work (a training group), and the version check.
 *
 * Information barrier (DESIGN.md §4, §8): a job carries cell specs only (dataset spec, model, defense and attack
 * options, hyper-parameters, seed), never a planted secret, model output or API key. Both sides of a cell run
 * inside one worker process: the user side plants the secret from the cell's seeded stream there, the provider
 * side trains behind the pipeline's type barrier, and only the record (no outputs) comes back.
 *
 * Secret options (src/plugins/secret.ts; keyed's user key) never travel either: Redis keeps job data (failed
 * jobs, dumps), so a job holds each one's fingerprint only (`withheldCell`), and each worker holds the values
 * itself (`worker --key-file`, $VTUNE_KEY) and puts them back (`restoredCell`), or refuses the job naming the
 * option and the fingerprint it needs. Published values (the leaderboard's benchmark key) are public, in the
 * committed scenario and records, and travel as written: any worker runs them without a key.
 */
import { defenses } from '../../defenses/index.js';
import { ConfigError } from '../errors.js';
import { pairKey } from '../pipeline/cell.js';
import { restoredOptions, schemaOf, withheldOptions } from '../plugins/secret.js';
import type { FailureRecord, TrialRecord } from '../records/schema.js';
import type { PlannedCell } from '../runner/expand.js';

/** Key prefix of every BullMQ structure the project creates in Redis. */
export const QUEUE_PREFIX = 'vtune-bench';
/** Payload schema version; a worker refuses payloads of another version. */
export const PROTOCOL_VERSION = 2;

/**
 * Providers whose work runs on the worker's own CPU: their limit is per worker (`worker --concurrency`). Every
 * other provider (openai, hf, command) does its work on a remote service, so the scenario's per-provider
 * concurrency applies to the whole pool, enforced by BullMQ's global concurrency on that provider's queue.
 */
export const IN_WORKER_PROVIDERS: ReadonlySet<string> = new Set(['local', 'test-memorizer']);

/**
 * Provider options a job may not set, because they choose what a worker executes: the `command` provider's
 * command line and its surroundings come from each worker's own environment (VTUNE_COMMAND_TEMPLATE), so
 * whoever can write to Redis still cannot make workers run a program of their choosing.
 */
const WORKER_ONLY_OPTIONS: Readonly<Record<string, readonly string[]>> = { command: ['template', 'cwd', 'env', 'workRoot'] };

/** The options of `providers` that a job may not carry (as `providers.<id>.<option>`), empty when none. */
export function workerOnlyOptionsIn(providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>): string[] {
  return Object.entries(providers).flatMap(([id, options]) => (WORKER_ONLY_OPTIONS[id] ?? []).filter((o) => options[o] !== undefined).map((o) => `providers.${id}.${o}`));
}

/** The work queue of one provider (one queue each, so a hosted provider's limit can hold pool-wide). */
export function workQueueName(provider: string): string {
  return `work-${safe(provider)}`;
}

/** The queue a run's results come back on. */
export function resultsQueueName(runId: string): string {
  return `results-${safe(runId)}`;
}

/** The id of a training group's job: stable, so a restarted coordinator re-adding it creates no duplicate. */
export function groupJobId(runId: string, groupKey: string): string {
  return `${safe(runId)}-g-${groupKey}`;
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** What the code is: a job runs only on a worker whose identity equals the coordinator's. */
export interface CodeIdentity {
  readonly gitSha: string | undefined;
  readonly packageVersions: Readonly<Record<string, string>>;
}

/** One training group: the cells sharing one fine-tune, which travel and run together. */
export interface GroupJob {
  readonly v: typeof PROTOCOL_VERSION;
  readonly runId: string;
  readonly scenario: string;
  readonly code: CodeIdentity;
  /** The provider of every cell of the group (its queue). */
  readonly provider: string;
  /** The scenario's provider options (never a key: providers read their keys from the worker's environment). */
  readonly providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Each cell as `withheldCell` gives it: secret options as fingerprints (the worker holds the values). */
  readonly cells: readonly PlannedCell[];
  /** Set by the coordinator for measurements (bench/queue.ts): when the job was enqueued. */
  readonly enqueuedAt: number;
}

/** A message on a run's results queue. */
export type ResultMessage =
  | {
      readonly v: typeof PROTOCOL_VERSION;
      readonly kind: 'record';
      readonly record: TrialRecord | FailureRecord;
      readonly jobId: string;
      readonly worker: string;
      /**
       * Worker clock (ms since the epoch) for bench/queue.ts: when the worker slot that took the job became free,
       * when it took the job, how long this cell's runCell took and when the cell ended.
       */
      readonly idleSince: number;
      readonly jobStartedAt: number;
      readonly workMs: number;
      readonly cellEndedAt: number;
      /** Fine-tunes this cell trained and took from the worker's training cache. */
      readonly fineTunes: { readonly trained: number; readonly reused: number };
    }
  | { readonly v: typeof PROTOCOL_VERSION; readonly kind: 'refused'; readonly worker: string; readonly reason: string };

/** Live progress of a group job (BullMQ job progress). */
export interface GroupProgress {
  readonly cellKey: string;
  readonly stage: string;
  readonly done: number;
  readonly total?: number;
  readonly tokens?: number;
}

/**
 * Splits cells into training groups: all attacks of one (dataset, model, defense, hyper, seed). The pipeline
 * derives the training seed and the planted rows from this same pair key, so two cells can share a fine-tune
 * only inside one group: each group runs on one worker and no fine-tune is trained twice anywhere.
 */
export function trainingGroups(cells: readonly PlannedCell[]): Map<string, PlannedCell[]> {
  const groups = new Map<string, PlannedCell[]>();
  for (const cell of cells) {
    const { key: _key, ...body } = cell.spec;
    const k = pairKey(body);
    const list = groups.get(k);
    if (list) list.push(cell);
    else groups.set(k, [cell]);
  }
  return groups;
}

/**
 * Why a worker must refuse a job from `coordinator` (null when the code is the same): names the commit and
 * every package whose version differs (vtune-bench and its dependencies), so the operator knows what to update.
 */
export function identityMismatch(coordinator: CodeIdentity, worker: CodeIdentity): string | null {
  const problems: string[] = [];
  if (coordinator.gitSha !== worker.gitSha) {
    problems.push(`commit ${coordinator.gitSha ?? '(not a git checkout)'} on the coordinator, ${worker.gitSha ?? '(not a git checkout)'} here`);
  }
  // Node itself is left out: the engine's arithmetic is WebAssembly, the same bits on any Node 20 patch release.
  const names = [...new Set([...Object.keys(coordinator.packageVersions), ...Object.keys(worker.packageVersions)])].filter((n) => n !== 'node').sort();
  for (const name of names) {
    const a = coordinator.packageVersions[name];
    const b = worker.packageVersions[name];
    if (a !== b) problems.push(`${name} ${a ?? '(missing)'} on the coordinator, ${b ?? '(missing)'} here`);
  }
  return problems.length ? problems.join('; ') : null;
}

/**
 * `cell` as a job may carry it: each secret option of its defense (declared as records redact it, through the
 * defense registry as src/runner/expand.ts does) holds a reference to its fingerprint instead of its value. The
 * cell key is kept: it hashes the options as written, and the worker's restored cell hashes to it again.
 */
export function withheldCell(cell: PlannedCell): PlannedCell {
  const { defense } = cell.spec;
  const options = withheldOptions(schemaOf(defenses, defense.id), defense.options);
  return options === defense.options ? cell : { ...cell, spec: { ...cell.spec, defense: { ...defense, options } } };
}

/**
 * `cell` from a job with its secret options put back from `held` (the values this worker holds), or a
 * ConfigError naming the option, the fingerprint it needs and how to give a worker the value; never a value.
 */
export function restoredCell(cell: PlannedCell, held: readonly string[]): PlannedCell {
  const { defense } = cell.spec;
  const r = restoredOptions(schemaOf(defenses, defense.id), defense.options, held);
  if ('missing' in r) {
    const { option, expected, held: holds } = r.missing;
    const has = holds.length === 0 ? 'holds no key' : `holds only ${holds.join(', ')}`;
    throw new ConfigError(
      `defense '${defense.id}' option ${option} is a secret the coordinator does not send: it needs the key with ${expected} and this worker ${has}; start the worker with that key (--key-file, or $VTUNE_KEY)`,
    );
  }
  return r.options === defense.options ? cell : { ...cell, spec: { ...cell.spec, defense: { ...defense, options: r.options } } };
}
