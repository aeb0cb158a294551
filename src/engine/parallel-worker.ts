/**
 * A training worker: waits for a training run's init message, instantiates the kernels on that run's shared
 * memory, says it is ready, then blocks on the run's control block and runs commands (gradient shards, its
 * part of the optimizer work) until told to exit; then it waits for the next run (see parallel.ts: workers are
 * reused across fine-tunes, so a cell does not pay a thread's start-up). It keeps nothing between runs besides
 * the compiled module V8 caches.
 */
import { parentPort } from 'node:worker_threads';
import { instantiate } from './kernels.js';
import { runShard } from './transformer.js';
import { CTL, LOSSES, Op, applyPart, controlViews, readStep, reducePart, writeError, type WorkerInit } from './parallel.js';

/** Runs one training run's commands until Op.Exit. */
function serve(init: WorkerInit): void {
  const c = controlViews(init.control);
  let k;
  try {
    k = instantiate(init.memory, init.module, init.paths);
  } catch (err) {
    parentPort!.postMessage({ failed: err instanceof Error ? err.message : String(err) });
    return;
  }
  const part = init.plan.parts[init.part]!;
  parentPort!.postMessage({ ready: true });
  let seen = 0;
  for (;;) {
    Atomics.wait(c.i32, CTL.seq, seen);
    seen = Atomics.load(c.i32, CTL.seq);
    const op = c.i32[CTL.op];
    if (op === Op.Exit) break;
    try {
      if (op === Op.Shards) {
        const T = c.i32[CTL.T]!, invNorm = c.f64[0]!;
        for (let j = 0; j < c.i32[CTL.nJobs]!; j++) {
          const shard = c.i32[CTL.jobs + 2 * j]!, B = c.i32[CTL.jobs + 2 * j + 1]!;
          c.f64[LOSSES + j] = runShard(k, init.memory, init.config, init.nets[shard]!, init.acts, init.ios[shard]!, B, T, invNorm);
        }
      } else if (op === Op.Reduce) {
        reducePart(k, init.plan, part);
      } else if (op === Op.Apply) {
        applyPart(k, init.plan, part, readStep(c.f64));
      } else {
        throw new Error(`unknown command ${String(op)}`);
      }
    } catch (err) {
      writeError(c, err instanceof Error ? err.message : String(err));
    }
    Atomics.store(c.i32, CTL.done, seen);
    Atomics.notify(c.i32, CTL.done);
  }
  // Acknowledge the exit, so the pool hands this worker to the next run only once it listens again.
  Atomics.store(c.i32, CTL.done, seen);
  Atomics.notify(c.i32, CTL.done);
}

parentPort!.on('message', (msg: { init: WorkerInit }) => serve(msg.init));
parentPort!.postMessage({ booted: true });
