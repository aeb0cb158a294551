/**
 * A model wrapper that coalesces concurrent `generate` and `score` calls into one call of the wrapped model,
 * so many calibration trials in flight share one batched forward pass (the local engine decodes up to 64
 * sequences per batch with a KV cache) instead of one small call per trial. Calls are grouped by their exact
 * generation options (maxTokens, temperature, seed, topP, stop), so every caller gets what it would have got
 * from a call of its own options; only the batch its prompts ride in changes. Sampled calls (temperature > 0)
 * pass straight through: the engine seeds each prompt's stream by its position in the call, so batching them
 * would change the samples. Everything else (countTokens,
 * capabilities, methods added later) passes through to the wrapped model via the prototype chain.
 */
import type { ContinuationScore, GenerateOptions, Model } from '../types.js';

interface Pending<I, O> {
  readonly items: readonly I[];
  resolve(out: O[]): void;
  reject(err: unknown): void;
}

/** How many calls and batched calls went through (for progress and the bench). */
export interface BatchStats {
  calls: number;
  batches: number;
  prompts: number;
}

/** A coalescing wrapper and its counters. */
export type BatchingModel = Model & { readonly batchStats: BatchStats };

/** Groups concurrent calls with one key into one call of `run`, at most `maxItems` items per call. */
function coalescer<I, O>(run: (items: I[], key: string) => Promise<O[]>, maxItems: number, stats: BatchStats) {
  const queues = new Map<string, Pending<I, O>[]>();
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const groups = [...queues];
    queues.clear();
    for (const [key, pending] of groups) {
      // Cut the group into calls of at most maxItems items, never splitting one caller's items.
      let chunk: Pending<I, O>[] = [];
      let size = 0;
      const send = (part: Pending<I, O>[]): void => {
        const items = part.flatMap((p) => p.items);
        stats.batches++;
        stats.prompts += items.length;
        run(items, key).then(
          (out) => {
            let at = 0;
            for (const p of part) {
              p.resolve(out.slice(at, at + p.items.length));
              at += p.items.length;
            }
          },
          (err: unknown) => part.forEach((p) => p.reject(err)),
        );
      };
      for (const p of pending) {
        if (size > 0 && size + p.items.length > maxItems) {
          send(chunk);
          chunk = [];
          size = 0;
        }
        chunk.push(p);
        size += p.items.length;
      }
      if (chunk.length) send(chunk);
    }
  };
  return (items: readonly I[], key: string): Promise<O[]> =>
    new Promise<O[]>((resolve, reject) => {
      stats.calls++;
      const q = queues.get(key) ?? [];
      q.push({ items, resolve, reject });
      queues.set(key, q);
      // setImmediate runs after every pending microtask: all trials that are about to query join this batch.
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/** Wraps `model` so that concurrent calls are batched (at most `maxItems` prompts per wrapped call). */
export function batchingModel(model: Model, maxItems = 1024): BatchingModel {
  const batchStats: BatchStats = { calls: 0, batches: 0, prompts: 0 };
  const generate = coalescer<string, string>(
    async (prompts, key) => {
      // The engine pads each batch of sequences to its longest prompt: similar lengths together waste less.
      const order = prompts.map((_, i) => i).sort((a, b) => prompts[a]!.length - prompts[b]!.length);
      const out = await model.generate(order.map((i) => prompts[i]!), JSON.parse(key) as GenerateOptions);
      const back = new Array<string>(prompts.length);
      order.forEach((i, j) => (back[i] = out[j]!));
      return back;
    },
    maxItems,
    batchStats,
  );
  const score = model.score
    ? coalescer<{ readonly prompt: string; readonly continuation: string }, ContinuationScore>((items) => model.score!(items), maxItems, batchStats)
    : undefined;
  const wrapper = Object.create(model) as BatchingModel;
  Object.defineProperties(wrapper, {
    batchStats: { value: batchStats },
    generate: {
      value: (prompts: readonly string[], options: GenerateOptions) =>
        (options.temperature ?? 0) > 0
          ? model.generate(prompts, options)
          : generate(prompts, JSON.stringify({ maxTokens: options.maxTokens, temperature: options.temperature, topP: options.topP, seed: options.seed, stop: options.stop })),
    },
    ...(score ? { score: { value: (items: readonly { readonly prompt: string; readonly continuation: string }[]) => score(items, '') } } : {}),
  });
  return wrapper;
}

/**
 * A wrapper that remembers what a deterministic model answered: `score` per (prompt, continuation) and greedy
 * `generate` per (prompt, options). Calibrating a defense that queries the same rows in every trial (utility-gain
 * scores held-out rows drawn from one dataset sample) then costs each row once per model instead of once per
 * trial. A remembered answer is the one the model gave in the first batch that asked: the embedded engine
 * computes in float32, so the same row scored in another batch can differ in the ~8th digit (ties in
 * utility-gain absorb that). Sampled calls (temperature > 0) pass through. Used for `calibrate --defense` only,
 * so vTune's generator configurations run exactly as before.
 */
export function memoizingModel(model: Model): Model {
  const scores = new Map<string, Promise<ContinuationScore>>();
  const outputs = new Map<string, Promise<string>>();
  const wrapper = Object.create(model) as Model;
  const score = model.score;
  Object.defineProperties(wrapper, {
    generate: {
      value: async (prompts: readonly string[], options: GenerateOptions): Promise<string[]> => {
        if ((options.temperature ?? 0) > 0) return model.generate(prompts, options);
        const key = JSON.stringify({ maxTokens: options.maxTokens, topP: options.topP, stop: options.stop });
        const missing = [...new Set(prompts.filter((p) => !outputs.has(`${key}\u0000${p}`)))];
        if (missing.length > 0) {
          const call = model.generate(missing, options);
          missing.forEach((p, i) => outputs.set(`${key}\u0000${p}`, call.then((out) => out[i]!)));
          call.catch(() => missing.forEach((p) => outputs.delete(`${key}\u0000${p}`)));
        }
        return Promise.all(prompts.map((p) => outputs.get(`${key}\u0000${p}`)!));
      },
    },
    ...(score
      ? {
          score: {
            value: async (items: readonly { readonly prompt: string; readonly continuation: string }[]): Promise<ContinuationScore[]> => {
              const k = (it: { prompt: string; continuation: string }): string => `${it.prompt}\u0000${it.continuation}`;
              const seen = new Set<string>();
              const missing = items.filter((it) => !scores.has(k(it)) && !seen.has(k(it)) && seen.add(k(it)));
              if (missing.length > 0) {
                const call = score.call(model, missing);
                missing.forEach((it, i) => scores.set(k(it), call.then((out) => out[i]!)));
                call.catch(() => missing.forEach((it) => scores.delete(k(it))));
              }
              return Promise.all(items.map((it) => scores.get(k(it))!));
            },
          },
        }
      : {}),
  });
  return wrapper;
}
