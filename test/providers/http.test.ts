/**
 * The shared retry and cancellation machinery of the networked providers (src/providers/http.ts), without a
 * network: a batch fails as a whole at its first failure (in-flight work aborted, queued work never started),
 * a Retry-After beyond the retry budget fails at once instead of sleeping, and retry progress names the attempt,
 * the reason and the wait.
 */
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { ConfigError, HttpError, ProviderError, VtuneError, describeError } from '../../src/errors.js';
import { batch, jitterRng, retryPolicy, retryProgress, withRetry } from '../../src/providers/http.js';

describe('batch: one failure stops the whole batch', () => {
  it('aborts the item in flight, never starts the queued ones, and rejects with the first failure after everything settled', async () => {
    const events: string[] = [];
    const first = new ProviderError('HTTP 500 from the first request');
    const p = batch([0, 1, 2, 3, 4, 5], pLimit(2), undefined, async (i, signal) => {
      events.push(`start ${i}`);
      if (i === 0) {
        await new Promise((r) => setTimeout(r, 20));
        throw first;
      }
      await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => setTimeout(() => (events.push(`aborted ${i}`), reject(new ProviderError(`x cancelled: ${String(signal.reason)}`))), 30)));
      return i;
    });
    await expect(p).rejects.toBe(first);
    events.push('rejected');
    expect(events).toEqual(['start 0', 'start 1', 'aborted 1', 'rejected']);
  });

  it("the caller's signal cancels queued and running items alike", async () => {
    const ctl = new AbortController();
    const started: number[] = [];
    const p = batch([0, 1, 2], pLimit(1), ctl.signal, async (i, signal) => {
      started.push(i);
      await new Promise<void>((_r, reject) => signal.addEventListener('abort', () => reject(new ProviderError('req cancelled: deadline'))));
    });
    setTimeout(() => ctl.abort(new Error('deadline')), 20);
    await expect(p).rejects.toThrow(/cancelled: deadline/);
    expect(started).toEqual([0]);
  });

  it('returns every result in order when nothing fails', async () => {
    expect(await batch([3, 1, 2], pLimit(2), undefined, async (i) => i * 10)).toEqual([30, 10, 20]);
  });
});

describe('withRetry', () => {
  it('a Retry-After longer than the budget left fails at once, saying so, without sleeping', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error('429 rate limited'), { status: 429, headers: { 'retry-after': '3600' } });
      },
      { policy: retryPolicy({ maxTotalMs: 60_000, baseDelayMs: 1 }), rng: jitterRng('t'), what: 'openai chat completion (http://h/v1/chat/completions)' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/^openai chat completion \(http:\/\/h\/v1\/chat\/completions\) failed \(HTTP 429\): the server asked to retry after 3600 s, longer than the 60 s left/);
    expect(calls).toBe(1);
  });

  it('reports each retry (attempt of attempts, reason, wait) and names the last HTTP status when it gives up', async () => {
    const seen: string[] = [];
    const err = await withRetry(
      async () => {
        throw Object.assign(new Error('500 boom'), { status: 500 });
      },
      { policy: retryPolicy({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }), rng: jitterRng('t2'), what: 'hf text generation (http://h)', onRetry: (i) => seen.push(retryProgress('hf text generation (http://h)', i)) },
    ).catch((e: unknown) => e);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^hf text generation \(http:\/\/h\): attempt 1 of 3 failed \(500 boom\); retrying in \d+\.\d s$/);
    expect(seen[1]).toMatch(/attempt 2 of 3 failed/);
    // A reason that does not state its status gets it (the hf SDK's messages do not).
    expect(retryProgress('hf x', { attempt: 0, maxAttempts: 2, delayMs: 1500, failure: { retryable: true, ambiguous: true, status: 503, message: 'Model is loading' } })).toBe(
      'hf x: attempt 1 of 2 failed (HTTP 503: Model is loading); retrying in 1.5 s',
    );
    expect((err as Error).message).toMatch(/failed after retrying for \d+\.\d s \(last: HTTP 500\): 500 boom/);
  });

  it('a reply body that is not JSON is not retried', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        JSON.parse('{"choices": [');
      },
      { policy: retryPolicy({ baseDelayMs: 1 }), rng: jitterRng('t3'), what: 'openai completion (http://h/v1/completions)' },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/openai completion \(http:\/\/h\/v1\/completions\) failed: the reply is not valid JSON/);
    expect(calls).toBe(1);
  });
});

describe('cancellation messages', () => {
  it("name what was cancelled and why, once (the abort reason is the cause, not repeated by describeError)", async () => {
    const ctl = new AbortController();
    ctl.abort(new ProviderError('verification did not finish within 3 s (--timeout)'));
    const err = await withRetry(async () => 1, { policy: retryPolicy({}), rng: jitterRng('t4'), what: 'openai chat completion (http://h/v1/chat/completions)', signal: ctl.signal }).catch((e: unknown) => e);
    expect(describeError(err)).toBe('openai chat completion (http://h/v1/chat/completions) cancelled: verification did not finish within 3 s (--timeout)');
    expect((err as Error).cause).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).cancelled).toBe(true);
  });
});

describe('rewraps keep a cause that is safe to keep', () => {
  // An SDK error as @huggingface/inference throws one: the request rides along, Authorization header included.
  const sdkError = (status: number) =>
    Object.assign(new Error(`${status} from the server (key sk-proj-abcdefghijklmnop)`), {
      name: 'InferenceClientProviderApiError',
      httpResponse: { status },
      request: { url: 'http://h/v1', headers: { Authorization: 'Bearer hf_abcdefghijklmnopqrstuv' } },
    });

  it('a non-retryable failure: the ProviderError has the status and message as an HttpError cause, never the request', async () => {
    const err = (await withRetry(async () => Promise.reject(sdkError(400)), { policy: retryPolicy({ baseDelayMs: 1 }), rng: jitterRng('c1'), what: 'hf text generation (http://h)' }).catch(
      (e: unknown) => e,
    )) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.status).toBe(400);
    const cause = err.cause as HttpError;
    expect(cause).toBeInstanceOf(HttpError);
    expect(cause).toBeInstanceOf(VtuneError);
    expect(cause.status).toBe(400);
    expect(cause.message).toBe('400 from the server (key ***)');
    expect(cause).toHaveProperty('remoteName', 'InferenceClientProviderApiError');
    expect(describeError(err)).toBe('hf text generation (http://h) failed (HTTP 400): 400 from the server (key ***)'); // the cause is not repeated
    expect(cause).not.toHaveProperty('request');
    expect(cause.cause).toBeUndefined();
    expect(describeError(err)).not.toMatch(/hf_abcdef|sk-proj-abcdef/);
  });

  it('giving up after retries keeps the last failure; a network failure keeps its name and message', async () => {
    const gaveUp = (await withRetry(async () => Promise.reject(sdkError(503)), { policy: retryPolicy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }), rng: jitterRng('c2'), what: 'x' }).catch(
      (e: unknown) => e,
    )) as ProviderError;
    expect(gaveUp.message).toMatch(/failed after retrying/);
    expect((gaveUp.cause as HttpError).status).toBe(503);
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    const offline = (await withRetry(async () => Promise.reject(refused), { policy: retryPolicy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }), rng: jitterRng('c3'), what: 'y' }).catch(
      (e: unknown) => e,
    )) as ProviderError;
    expect(offline.cause).toBeInstanceOf(VtuneError);
    expect((offline.cause as Error).message).toBe('fetch failed');
    expect(offline.cause).toHaveProperty('remoteName', 'TypeError');
  });

  it('a bad retry option is a ConfigError with the field path as data, every bad field at once', () => {
    const err = (() => {
      try {
        retryPolicy({ maxAttempts: 0, baseDelayMs: -1 });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([
      { path: ['retry', 'maxAttempts'], message: 'expected an integer ≥ 1, got 0' },
      { path: ['retry', 'baseDelayMs'], message: 'expected a number ≥ 0, got -1' },
    ]);
  });
});
