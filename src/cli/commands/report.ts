/**
 * `vtune-bench report <records…>`: (re)writes the tables, charts, leaderboards and HTML report of one or more
 * records files (.jsonl or .jsonl.gz) or run folders. A pure function of the records: run it as often as you
 * like. `--publish results` also regenerates the published page (results/<scenario>.md and its charts), e.g.
 * `vtune-bench report results/leaderboard/<run>/records.jsonl.gz --publish results`. When the records hold rival
 * verifiers' honest cells, it also prints the verifier power table.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadRecords, publishLeaderboard, writeReport } from '../../report/index.js';
import { toMarkdown } from '../../report/tables.js';
import { shownPath } from './run.js';
import type { CliCommand } from './types.js';

/** `vtune-bench report <records…>`. */
export const reportCommand: CliCommand = {
  command: 'report <records..>',
  describe: 'Write tables, charts and the HTML report from records files or run folders',
  builder: (y) =>
    y
      .positional('records', { type: 'string', array: true, describe: 'records.jsonl(.gz) files or folders holding them' })
      .option('out', { type: 'string', describe: 'output folder (default: <first input>/report)' })
      .option('publish', { type: 'string', describe: 'also (re)write the published page into this results folder: <dir>/<scenario>.md, its charts and records.jsonl.gz' }),
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
    // The verifier power table (issue 19) is short enough to read in the terminal.
    const power = report.content.tables.find((t) => t.id === 'verifier-power');
    if (power) process.stdout.write(`\n${toMarkdown(power)}`);
    if (args.publish !== undefined) {
      const published = await publishLeaderboard(records, String(args.publish));
      process.stdout.write(`published: ${shownPath(published.markdown)} (+ ${published.charts.length} charts); records ${shownPath(published.records)}\n`);
    }
    return 0;
  },
};
