/**
 * `vtune-bench worker --queue redis://host:port[/db]`: runs training-group jobs from the queue (src/queue/
 * worker.ts) until Ctrl-C or SIGTERM, which stop taking jobs and let the running ones finish (a second
 * Ctrl-C quits at once; the job is then retried on another worker). Any number of workers, on any machines
 * with this checkout at the coordinator's commit, serve any number of `run --queue` coordinators. A user key
 * (keyed generator) never crosses the queue: a worker holds it itself, from `--key-file` (repeatable, one key
 * per file, as `plant --key-file`) or $VTUNE_KEY.
 */
import { projectCatalog } from '../../runner/catalog.js';
import { ConfigError, InputError } from '../../errors.js';
import { startWorker } from '../../queue/worker.js';
import { connect, parseQueueUrl } from '../../queue/url.js';
import { readKey } from '../key.js';
import { stderrLogger } from './run.js';
import type { CliCommand } from './types.js';

function positiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${option}: expected a positive integer, got '${String(value)}'`);
  return n;
}

/** The user keys this worker holds: one per `--key-file`, else $VTUNE_KEY when set. */
async function heldKeys(keyFiles: unknown): Promise<string[]> {
  const files = keyFiles === undefined ? [undefined] : [keyFiles].flat().map(String);
  const keys: string[] = [];
  for (const file of files) {
    const key = await readKey(file);
    if (file !== undefined && !key) throw new InputError('the key file is empty (expected one key)', { file });
    if (key) keys.push(key);
  }
  return keys;
}

/** `vtune-bench worker`. */
export const workerCommand: CliCommand = {
  command: 'worker',
  describe: 'Run cells from a work queue (Redis) for `run <scenario> --queue`',
  builder: (y) =>
    y
      .option('queue', { type: 'string', demandOption: true, describe: 'redis://[user:password@]host:port[/db] or rediss://… (TLS)' })
      .option('concurrency', { type: 'string', describe: 'jobs (training groups) run at once per provider [default: 1]' })
      .option('threads', { type: 'string', describe: 'training threads of the embedded engine [default: the engine\'s choice]' })
      .option('key-file', { type: 'string', array: true, describe: 'file holding a user key (keyed generator) for jobs that need it; repeatable [default: $VTUNE_KEY]' })
      .option('lock-ms', { type: 'string', describe: 'how long a lost worker holds its job before another takes it [default: 60000]' })
      .option('verbose', { type: 'boolean', default: false }),
  async run(args) {
    const log = stderrLogger(Boolean(args.verbose));
    const address = parseQueueUrl(String(args.queue));
    const concurrency = positiveInt(args.concurrency, '--concurrency');
    const threads = positiveInt(args.threads, '--threads');
    const lockMs = positiveInt(args.lockMs, '--lock-ms');
    if (lockMs !== undefined && lockMs < 1000) throw new ConfigError(`--lock-ms: expected at least 1000 (ms), got ${lockMs}`);
    const secrets = await heldKeys(args.keyFile);
    const hold = process.env.VTUNE_QUEUE_TEST_HOLD_AFTER_CELLS;
    // Fail fast on a wrong address; later outages are waited out.
    (await connect(address)).disconnect();
    const worker = await startWorker({
      address,
      catalog: projectCatalog,
      log,
      secrets,
      ...(concurrency !== undefined && { concurrency }),
      ...(threads !== undefined && { threads }),
      ...(lockMs !== undefined && { lockMs }),
      ...(hold !== undefined && { holdAfterCells: positiveInt(hold, 'VTUNE_QUEUE_TEST_HOLD_AFTER_CELLS') }),
    });
    await new Promise<void>((resolve) => {
      let stops = 0;
      const stop = (): void => {
        stops++;
        if (stops > 1) process.exit(130);
        process.stderr.write('stopping: finishing the running jobs (Ctrl-C again to quit now)\n');
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await worker.close();
    process.stdout.write(`worker stopped: ${worker.stats.jobs} job(s), ${worker.stats.cells} cell(s)${worker.stats.refused ? `, ${worker.stats.refused} refused` : ''}\n`);
    return 0;
  },
};
