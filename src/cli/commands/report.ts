/**
 * `vtune-bench report <records…>`: (re)writes the tables, charts, leaderboards and HTML report of one or more
 * records files or run folders. A pure function of the records: run it as often as you like.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadRecords, writeReport } from '../../report/index.js';
import { shownPath } from './run.js';
import type { CliCommand } from './types.js';

/** `vtune-bench report <records…>`. */
export const reportCommand: CliCommand = {
  command: 'report <records..>',
  describe: 'Write tables, charts and the HTML report from records files or run folders',
  builder: (y) =>
    y
      .positional('records', { type: 'string', array: true, describe: 'records.jsonl files or folders holding them' })
      .option('out', { type: 'string', describe: 'output folder (default: <first input>/report)' }),
  async run(args) {
    const inputs = (args.records as string[]).map(String);
    const first = inputs[0]!;
    const outDir = args.out ? String(args.out) : join(statSync(first).isFile() ? dirname(first) : first, 'report');
    const records = loadRecords(inputs);
    const report = await writeReport(records, outDir);
    process.stdout.write(
      `${records.trials.length} cells (${records.failures.length} failed) from ${records.files.length} file(s)\n` +
        `report: ${shownPath(report.html)}\n        ${shownPath(report.markdown)}\n`,
    );
    return 0;
  },
};
