/**
 * A training worker: instantiates the kernels on the shared memory, says it is ready, then blocks on its
 * control block and runs commands (gradient shards, its part of the optimizer work) until told to exit (see
 * parallel.ts). It holds no state of its own besides its activation scratch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiate } from './kernels.js';
import { runShard } from './transformer.js';
import { CTL, LOSSES, Op, applyPart, controlViews, readStep, reducePart, writeError, type WorkerInit } from './parallel.js';

const init = (workerData as { init: WorkerInit }).init;
const k = instantiate(init.memory, init.module);
const c = controlViews(init.control);
const part = init.plan.parts[init.part]!;
parentPort!.postMessage('ready');

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
        c.f64[LOSSES + j] = runShard(k, init.config, init.nets[shard]!, init.acts, init.ios[shard]!, B, T, invNorm);
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
