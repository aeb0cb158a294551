/**
 * `vtune-bench merge <shards…>`: concatenates the records of `run --shard i/n` runs into one run (one
 * manifest, each cell once) and writes its report: the same tables as one unsharded run.
 */
import { dirname, join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { mergeRecords } from '../../records/merge.js';
import { findRecordsFiles, RECORDS_FILE } from '../../records/store.js';
import { loadRecords, writeReport } from '../../report/index.js';
import { liveLockOwner } from '../../runner/lock.js';
import { shownPath } from './run.js';
import type { CliCommand } from './types.js';

/** `vtune-bench merge <shards…>`. */
export const mergeCommand: CliCommand = {
  command: 'merge <shards..>',
  describe: 'Merge the records of sharded runs into one run and write its report',
  builder: (y) =>
    y
      .positional('shards', { type: 'string', array: true, describe: 'shard run folders or records.jsonl files' })
      .option('out', { type: 'string', describe: 'folder of the merged run (default: beside the shards, without the shard suffix)' })
      .option('report', { type: 'boolean', default: true }),
  async run(args) {
    const files = (args.shards as string[]).flatMap((p) => findRecordsFiles(String(p)));
    // A shard still being run would merge as a partial run: refuse it while its run holds the folder's lock.
    for (const f of files) {
      const owner = liveLockOwner(dirname(f));
      if (owner) throw new ConfigError(`merge: ${shownPath(dirname(f))} is still being run by process ${owner.pid} (since ${owner.startedAt}); merge once it has finished`);
    }
    const firstDir = join(files[0] ?? '.', '..');
    const outDir = args.out ? String(args.out) : firstDir.replace(/-shard-\d+of\d+$/, '') + (/-shard-\d+of\d+$/.test(firstDir) ? '' : '-merged');
    const merged = mergeRecords(files, join(outDir, RECORDS_FILE));
    process.stdout.write(`merged ${files.length} file(s): ${merged.trials} cells, ${merged.failures} failed → ${shownPath(join(outDir, RECORDS_FILE))}\n`);
    if (args.report !== false) {
      const report = await writeReport(loadRecords([outDir]), join(outDir, 'report'));
      process.stdout.write(`report: ${shownPath(report.html)}\n`);
    }
    return 0;
  },
};
