/**
 * Runs a model-written JavaScript function on test inputs, synchronously, away from the main process's heap:
 * the text is compiled in a fresh `node:vm` context (no `require`, no `process`, no string code generation, no
 * WebAssembly) inside a worker thread with a small heap, with a per-call timeout in the worker and a hard
 * deadline in the caller (a hung worker is terminated and replaced). The caller blocks on Atomics.wait and
 * collects the answer with receiveMessageOnPort, so a TaskMetric can stay synchronous.
 *
 * `node:vm` is not a security boundary against a determined attacker; here the text comes from a model under
 * test, and the worker bounds what an accident (an endless loop, a huge allocation) can do.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Each input is the argument list of one call. Outputs are JSON texts, or undefined where the call failed. */
export interface SandboxResult {
  readonly outputs: readonly (string | undefined)[];
  /** Why nothing ran (compile error, missing function, deadline), if so. */
  readonly error?: string;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const flag = new Int32Array(workerData.flag);
parentPort.on('message', ({ port, code, name, inputs, callTimeoutMs }) => {
  let result;
  try {
    const context = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } });
    new vm.Script(code + '\\n;globalThis.__fn = typeof ' + name + " === 'function' ? " + name + ' : undefined;', { filename: 'prediction.js' })
      .runInContext(context, { timeout: callTimeoutMs });
    context.__inputs = JSON.stringify(inputs);
    const probe = new vm.Script('typeof globalThis.__fn', {}).runInContext(context, { timeout: callTimeoutMs });
    if (probe !== 'function') {
      result = { error: 'no function named ' + name };
    } else {
      const call = new vm.Script('(() => { const out = []; for (const args of JSON.parse(globalThis.__inputs)) { try { const v = globalThis.__fn(...args); out.push(JSON.stringify(v === undefined ? null : v)); } catch { out.push(undefined); } } return JSON.stringify(out.map((x) => x === undefined ? null : x)); })()');
      const raw = JSON.parse(call.runInContext(context, { timeout: callTimeoutMs * Math.max(1, inputs.length) }));
      result = { outputs: raw.map((x) => (x === null ? undefined : x)) };
    }
  } catch (err) {
    result = { error: String(err && err.message || err).slice(0, 200) };
  }
  port.postMessage(result);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

let worker: Worker | undefined;
let flag: Int32Array | undefined;

function ensureWorker(): { worker: Worker; flag: Int32Array } {
  if (!worker || !flag) {
    const shared = new SharedArrayBuffer(4);
    flag = new Int32Array(shared);
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { flag: shared }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
    worker.unref();
    worker.on('error', () => resetWorker());
  }
  return { worker, flag };
}

function resetWorker(): void {
  void worker?.terminate();
  worker = undefined;
  flag = undefined;
}

/**
 * Calls the function `name` defined by `code` once per argument list, returning each result as JSON text.
 * `deadlineMs` bounds the whole call (default: 10 s for a fresh worker, else the vm timeouts plus 0.5 s).
 */
export function runFunctionSync(code: string, name: string, inputs: readonly (readonly unknown[])[], options: { callTimeoutMs?: number; deadlineMs?: number } = {}): SandboxResult {
  const callTimeoutMs = options.callTimeoutMs ?? 200;
  const fresh = !worker;
  const { worker: w, flag: f } = ensureWorker();
  // A warm worker answers within the vm timeouts; only start-up needs the long deadline. (A worker that dies,
  // e.g. out of memory, never answers, so the deadline is also how its death is noticed.)
  const deadlineMs = options.deadlineMs ?? (fresh ? 10_000 : callTimeoutMs * (inputs.length + 2) + 500);
  const { port1, port2 } = new MessageChannel();
  Atomics.store(f, 0, 0);
  w.postMessage({ port: port2, code, name, inputs, callTimeoutMs }, [port2 as MessagePort]);
  const waited = Atomics.wait(f, 0, 0, deadlineMs);
  const message = receiveMessageOnPort(port1);
  port1.close();
  if (waited === 'timed-out' || !message) {
    resetWorker();
    return { outputs: [], error: `no answer within ${deadlineMs} ms` };
  }
  const result = message.message as { outputs?: (string | undefined)[]; error?: string };
  return result.error !== undefined ? { outputs: [], error: result.error } : { outputs: result.outputs ?? [] };
}
