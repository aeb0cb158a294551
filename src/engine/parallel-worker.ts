/**
 * A training worker: instantiates the kernels on the shared memory and runs gradient shards on request
 * (see parallel.ts). It holds no state of its own besides its activation scratch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiate } from './kernels.js';
import { runShard } from './transformer.js';
import type { ShardJob, WorkerInit } from './parallel.js';

const init = (workerData as { init: WorkerInit }).init;
const k = instantiate(init.memory, init.module);

parentPort!.on('message', (msg: ShardJob | { ready: true }) => {
  if ('ready' in msg) {
    parentPort!.postMessage({ ok: true, losses: [] });
    return;
  }
  try {
    const losses = msg.shards.map(({ shard, B }) => runShard(k, init.config, init.nets[shard]!, init.acts, init.ios[shard]!, B, msg.T, msg.invNorm));
    parentPort!.postMessage({ ok: true, losses });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
