/**
 * Shared retry machinery for the networked providers (openai, hf, command) and the Hub downloader.
 *
 * Why our own: both SDKs retry on their own terms (openai: twice, no idempotency check; @huggingface/inference:
 * on 503 immediately, without delay or cap — stack.md §3). We switch those off and retry here instead:
 * exponential backoff with full jitter drawn from a seeded Rng (reproducible schedules, no Math.random),
 * `Retry-After` honoured, bounded attempts AND bounded total time, a timeout per attempt, and abort signals
 * respected while sleeping. Anything that is not worth retrying (400/401/403/404/422, a cancelled run) fails
 * at once with a ProviderError whose message never contains a key (ProviderError redacts).
 */
import { ConfigError, ProviderError, VtuneError, prefixProblems, redactSecrets, remoteCause } from '../errors.js';
import { checkValue } from '../plugins/options.js';
import { Rng } from '../rng.js';
import { retryOptions } from './options.js';
import type { Logger } from '../types.js';

/** How hard to try. All durations in milliseconds. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  /** No new attempt starts after this much time since the first one (the last sleep is clipped to it). */
  readonly maxTotalMs: number;
  /** Delay scale: attempt a (0-based) sleeps uniform[0, min(maxDelayMs, baseDelayMs·2^a)]. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
}

/** Defaults for hosted APIs: 6 attempts within 2 minutes, 1 s base, 30 s cap, 60 s per request. */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, maxTotalMs: 120_000, baseDelayMs: 1000, maxDelayMs: 30_000, timeoutMs: 60_000 };

/**
 * A policy from a partial one (a provider's `retry` option, the Hub downloader's), validated by the one
 * declaration of its fields (src/providers/options.ts `retryOptions`): a bad field is a ConfigError whose
 * problems carry its path (`['retry', 'maxAttempts']`), every bad field at once. Absent fields are `base`'s.
 */
export function retryPolicy(partial: Partial<RetryPolicy> | undefined, base: RetryPolicy = defaultRetryPolicy): RetryPolicy {
  const checked = checkValue(retryOptions, partial ?? {});
  if (!checked.ok) throw new ConfigError(prefixProblems(['retry'], checked.problems));
  return withDefaults(checked.value, base);
}

/** `partial` (already validated, e.g. by a provider's declaration) over `base`; undefined fields are `base`'s. */
export function withDefaults(partial: Partial<RetryPolicy> | undefined, base: RetryPolicy = defaultRetryPolicy): RetryPolicy {
  const given = Object.entries(partial ?? {}).filter(([, v]) => v !== undefined);
  return { ...base, ...Object.fromEntries(given) };
}

/** How a failure should be treated. `ambiguous`: the request may have taken effect although no answer came back. */
export interface FailureClass {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly ambiguous: boolean;
  readonly message: string;
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Classifies any error from the SDKs or fetch. Works by shape, so neither SDK has to be imported here. */
export function classifyFailure(err: unknown, now = Date.now()): FailureClass {
  const e = err as Record<string, any> | undefined;
  const message = redactSecrets(err instanceof Error ? err.message : String(err));
  if (err instanceof ProviderError) return { retryable: err.retryable, status: err.status, ambiguous: false, message };
  // openai SDK APIError: .status + .headers (a Headers object or a record)
  // @huggingface/inference: .httpResponse.status; our fetch wrapper attaches .retryAfter
  const status: number | undefined =
    typeof e?.status === 'number' ? e.status : typeof e?.httpResponse?.status === 'number' ? e.httpResponse.status : undefined;
  if (status !== undefined) {
    const header = readHeader(e?.headers, 'retry-after') ?? (typeof e?.retryAfter === 'string' ? e.retryAfter : undefined);
    const retryAfterMs = parseRetryAfter(header, now);
    // A 5xx may come from a server that did the work and then failed to answer; a 429 never did the work.
    return { retryable: RETRYABLE_STATUS.has(status), status, retryAfterMs, ambiguous: status >= 500, message };
  }
  // A reply body that is not JSON (cut short with a valid length, or another format): the server answered, badly.
  if (err instanceof SyntaxError) return { retryable: false, ambiguous: false, message: `the reply is not valid JSON (${message})` };
  const code = networkCode(err);
  const name = String(e?.name ?? '');
  const timedOut = name === 'TimeoutError' || /timed? ?out/i.test(message) || name === 'APIConnectionTimeoutError';
  if (code || timedOut || name === 'APIConnectionError' || (err instanceof TypeError && /fetch failed|terminated|socket/i.test(message))) {
    // Refused connections never reached a server; everything else may have.
    return { retryable: true, ambiguous: code !== 'ECONNREFUSED', message: code ? `${message} (${code})` : message };
  }
  return { retryable: false, ambiguous: false, message };
}

function networkCode(err: unknown): string | undefined {
  let cur: any = err;
  for (let depth = 0; cur && depth < 5; depth++) {
    if (typeof cur.code === 'string' && NETWORK_CODES.has(cur.code)) return cur.code;
    if (Array.isArray(cur.errors)) for (const inner of cur.errors) if (typeof inner?.code === 'string' && NETWORK_CODES.has(inner.code)) return inner.code;
    cur = cur.cause;
  }
  return undefined;
}

function readHeader(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, unknown>;
  const v = rec[name] ?? rec[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full-jitter exponential backoff for 0-based attempt `attempt`. */
export function backoffDelay(attempt: number, policy: RetryPolicy, rng: Rng): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(rng.float() * cap);
}

/** Sleeps, or rejects with a non-retryable ProviderError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(abortError(signal!));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal, what?: string): ProviderError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
  return new ProviderError(`${what ? `${what} ` : ''}cancelled: ${reason}`, {
    retryable: false,
    cancelled: true,
    // The abort reason is ours (a deadline, a failed sibling, the caller's Error), never an SDK's: kept as it is.
    ...(signal.reason instanceof Error && { cause: signal.reason }),
  });
}

/** Is this error the cancellation of a request (ours, after an abort), rather than a failure of its own? */
function isCancellation(err: unknown): boolean {
  return err instanceof ProviderError && err.cancelled;
}

/**
 * A signal that fires on the caller's abort or after `timeoutMs`; `dispose` when the attempt is over. Built on a
 * plain timer, not AbortSignal.timeout: inside AbortSignal.any, Node 20 holds a timeout signal only weakly, so
 * a garbage collection can drop it and the timeout never fires (seen as hung requests under memory pressure).
 */
export function attemptSignal(timeoutMs: number, signal?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), Math.max(1, timeoutMs));
  const onAbort = () => ctl.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctl.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Everything `withRetry` needs besides the operation. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly rng: Rng;
  /** What is being done, for error messages ("upload training file"). Must not contain a secret. */
  readonly what: string;
  readonly signal?: AbortSignal;
  /**
   * For non-idempotent operations: called after an ambiguous failure, before the next attempt. Returns the
   * result if the earlier attempt did take effect (e.g. the job now appears in the job list), so nothing is
   * done twice. Errors inside recover are treated like failures of the attempt.
   */
  readonly recover?: () => Promise<unknown>;
  /** Told about each failure that will be retried (for logs and progress); see `retryProgress`. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Clock, injectable for tests. */
  readonly now?: () => number;
}

/** One failure that will be retried: which attempt (0-based) failed, how long until the next, and why. */
export interface RetryInfo {
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly delayMs: number;
  readonly failure: FailureClass;
}

/** The progress line printed for a retry: what, which attempt of how many failed, the reason, and the wait. */
export function retryProgress(what: string, info: RetryInfo): string {
  const { status, message } = info.failure;
  const reason = status !== undefined && !/\bHTTP \d{3}\b|^\d{3}\b/.test(message) ? `HTTP ${status}: ${message}` : message;
  return `${what}: attempt ${info.attempt + 1} of ${info.maxAttempts} failed (${reason}); retrying in ${(info.delayMs / 1000).toFixed(1)} s`;
}

/** Where retry progress goes when a provider is given no logger: warnings on stderr, nothing else. */
export const stderrWarnings: Logger = {
  info: () => {},
  debug: () => {},
  warn: (m) => void process.stderr.write(`warning: ${redactSecrets(m)}\n`),
};

/**
 * Runs `op` until it succeeds, a failure is not retryable, attempts or total time run out, or the signal
 * aborts. Each attempt gets its own timeout signal. Always ends in a value or a ProviderError.
 */
export async function withRetry<T>(op: (signal: AbortSignal, attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  const start = now();
  let last: FailureClass | undefined;
  /** The last failure itself, made safe to keep (remoteCause): the cause of the error that ends the retries. */
  let lastCause: VtuneError | undefined;
  let ambiguousSeen = false;
  let attemptSig: AbortSignal | undefined;
  for (let attempt = 0; attempt < opts.policy.maxAttempts; attempt++) {
    if (opts.signal?.aborted) throw abortError(opts.signal, opts.what);
    attemptSig = undefined;
    let dispose: (() => void) | undefined;
    try {
      if (ambiguousSeen && opts.recover) {
        const recovered = await opts.recover();
        if (recovered !== undefined && recovered !== null) return recovered as T;
      }
      const a = attemptSignal(opts.policy.timeoutMs, opts.signal);
      attemptSig = a.signal;
      dispose = a.dispose;
      return await op(attemptSig, attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal, opts.what);
      // Our own per-attempt timeout fired: the SDKs report it as a user abort, but it is a stalled server.
      last = attemptSig?.aborted
        ? { retryable: true, ambiguous: true, message: `no answer within ${opts.policy.timeoutMs} ms (timeout)` }
        : classifyFailure(err);
      // Our timeout's reason ("no answer within … ms") rather than the SDK's "request aborted".
      lastCause = attemptSig?.aborted ? (attemptSig.reason instanceof Error ? remoteCause(attemptSig.reason) : undefined) : remoteCause(err);
      // Our own errors (a bad reply, say) already name what was called: pass them on unchanged.
      if (!last.retryable) throw err instanceof ProviderError ? err : toProviderError(opts.what, last, err);
      ambiguousSeen ||= last.ambiguous;
      const elapsed = now() - start;
      const remaining = opts.policy.maxTotalMs - elapsed;
      if (attempt + 1 >= opts.policy.maxAttempts || remaining <= 0) break;
      let delayMs = backoffDelay(attempt, opts.policy, opts.rng);
      if (last.retryAfterMs !== undefined) delayMs = Math.max(delayMs, last.retryAfterMs);
      if (delayMs > remaining) {
        if (last.retryAfterMs !== undefined && last.retryAfterMs > remaining) {
          // The server asked for longer than we may wait: say so now instead of sleeping into the limit.
          throw new ProviderError(
            `${opts.what} failed${last.status ? ` (HTTP ${last.status})` : ''}: the server asked to retry after ${Math.ceil(last.retryAfterMs / 1000)} s, longer than the ${Math.round(remaining / 1000)} s left of the retry budget (maxTotalMs); ${last.message}`,
            { retryable: true, status: last.status, cause: lastCause },
          );
        }
        delayMs = remaining;
      }
      opts.onRetry?.({ attempt, maxAttempts: opts.policy.maxAttempts, delayMs, failure: last });
      try {
        await sleep(delayMs, opts.signal);
      } catch {
        throw abortError(opts.signal!, opts.what);
      }
    } finally {
      dispose?.();
    }
  }
  const elapsedS = ((now() - start) / 1000).toFixed(1);
  const status = last?.status !== undefined ? ` (last: HTTP ${last.status})` : '';
  throw new ProviderError(`${opts.what} failed after retrying for ${elapsedS} s${status}: ${last?.message ?? 'unknown error'}`, {
    retryable: true,
    status: last?.status,
    cause: lastCause,
  });
}

/**
 * A ProviderError for a non-retryable failure, with a hint for the common statuses. Its `cause` is `err` made
 * safe by remoteCause: the SDK errors carry request headers (HF: Authorization), so a foreign error is never
 * attached itself, only its status and redacted message (as an HttpError) or its name and redacted message.
 */
export function toProviderError(what: string, failure: FailureClass, err?: unknown): ProviderError {
  const hint =
    failure.status === 401 || failure.status === 403
      ? ' (check the API key or token: it was rejected)'
      : failure.status === 404
        ? ' (not found: check the model name, job id or base URL)'
        : '';
  return new ProviderError(`${what} failed${failure.status ? ` (HTTP ${failure.status})` : ''}: ${failure.message}${hint}`, {
    retryable: failure.retryable,
    status: failure.status,
    ...(err !== undefined && { cause: remoteCause(err) }),
  });
}

/** A deterministic Rng for backoff jitter when the caller has none (keyed by what is retried). */
export function jitterRng(key: string): Rng {
  return new Rng(`backoff|${key}`);
}

/** A signal that fires when any of the given ones does (undefined entries are skipped). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  return live.length === 0 ? undefined : live.length === 1 ? live[0] : AbortSignal.any(live);
}

/**
 * Runs `task` on every item under `limit` (a p-limit) as one batch that succeeds or fails as a whole: the first
 * failure aborts the others (requests in flight get the abort, queued items never send one), and the batch
 * rejects with that first failure only once every item has settled, so no request outlives it. `signal`
 * (the caller's) cancels the batch the same way.
 */
export async function batch<I, O>(
  items: readonly I[],
  limit: <R>(fn: () => Promise<R>) => Promise<R>,
  signal: AbortSignal | undefined,
  task: (item: I, signal: AbortSignal) => Promise<O>,
): Promise<O[]> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let first: { err: unknown } | undefined;
  try {
    const settled = await Promise.allSettled(
      items.map((item) =>
        limit(async () => {
          if (ctl.signal.aborted) throw abortError(ctl.signal);
          try {
            return await task(item, ctl.signal);
          } catch (err) {
            if (!first && !isCancellation(err)) {
              first = { err };
              ctl.abort(new ProviderError('another request of the same batch failed'));
            }
            throw err;
          }
        }),
      ),
    );
    if (first) throw first.err;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<O>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A well-formed reply is the only thing that may count as an answer (DESIGN.md §3): anything else fails the
 * call, naming what was called (provider and URL) and what was wrong. Not retryable: the server did answer.
 */
export function badReply(what: string, detail: string): ProviderError {
  return new ProviderError(`${what} returned an unusable reply: ${detail}`, { retryable: false });
}

/** A short description of a reply that is not the JSON object expected (a string body, null, an array…). */
export function describeReply(data: unknown, contentType?: string | null): string {
  const type = contentType ? `content-type ${contentType.split(';')[0]!.trim()}` : 'no content-type';
  if (typeof data === 'string') return `a ${type} body instead of JSON (${JSON.stringify(redactSecrets(data.slice(0, 60)))}${data.length > 60 ? '…' : ''})`;
  if (data === null || data === undefined) return `no reply object (${type})`;
  if (Array.isArray(data)) return `a JSON array of ${data.length} instead of an object (${type})`;
  return `a JSON ${typeof data} (${type})`;
}
