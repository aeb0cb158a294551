/**
 * Cancellation from the command line down to every request (issue 14): one AbortSignal, bound to a model so
 * that code which never heard of signals (a defense's verify) still passes it to every generate and score call.
 */
import type { Model } from '../types.js';
import { anySignal } from './http.js';

/** The same model, with `signal` added to every generate and score call (alongside any signal the caller gives). */
export function bindSignal(model: Model, signal: AbortSignal): Model {
  const bound: Model = {
    ...model,
    generate: (prompts, options) => model.generate(prompts, { ...options, signal: anySignal(options.signal, signal) }),
  };
  if (model.score) {
    const score = model.score.bind(model);
    return { ...bound, score: (items, options) => score(items, { ...options, signal: anySignal(options?.signal, signal) }) };
  }
  return bound;
}

/**
 * Settles like `work`, but once `signal` aborts gives `work` `graceMs` to end on its own (so its error, which
 * names the request that was cut, is the one reported) before rejecting with the abort reason: code that
 * ignores the signal (a CPU-bound engine) cannot hold the caller past its deadline.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, graceMs = 1000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs);
      timer.unref();
    };
    work.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
