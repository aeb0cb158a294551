/**
 * `report`: every table, chart and leaderboard of a run, as a pure function of its records files
 * (DESIGN.md §7). Re-runnable at any time; shards merged by concatenation give the same tables.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { DEFAULT_ALPHAS, typeIRows } from '../calibrate/analyze.js';
import { CALIBRATION_FILE, loadCalibration, type CalibrationRecord } from '../calibrate/records.js';
import { InputError } from '../errors.js';
import type { FailureRecord, ManifestRecord, RunRecord, TrialRecord } from '../records/schema.js';
import { COMPRESSED_RECORDS_FILE, findRecordsFiles, latestByCell, readRecordsFile, writeCompressedRecords } from '../records/store.js';
import { attackLeaderboard, attackRows, defenseRows, generatorLeaderboard } from './analyze.js';
import { calibrationChart, calibrationFor, typeITable } from './calibration.js';
import { reportHtml } from './html.js';
import { charts, type Chart } from './plots.js';
import { renderSvg, svgToPng } from './render.js';
import { findings } from './findings.js';
import { attackBoardTable, attacksTable, generatorBoardTable, ratesTable, toCsv, toJson, toLatex, toMarkdown, type ReportTable } from './tables.js';
import { verifierSection } from './verifiers.js';

/** Records gathered from one or more files. */
export interface LoadedRecords {
  readonly files: readonly string[];
  readonly manifests: readonly ManifestRecord[];
  readonly trials: readonly TrialRecord[];
  readonly failures: readonly FailureRecord[];
  /** Calibration records (null trials of `vtune-bench calibrate`) and the files they came from. */
  readonly calibration: { readonly files: readonly string[]; readonly records: readonly CalibrationRecord[] };
}

/**
 * Where the report looks for calibration records when not told: every `calibration.jsonl` under the given
 * paths, and under the `calibration` folder of the results root — the nearest folder, from a records file's
 * own folder up to three levels above it (run → scenario → results root), that holds a `calibration` folder.
 * `vtune-bench calibrate` writes to `results/calibration/<name>/` by default, so a run under `results/` finds
 * it.
 */
export function defaultCalibrationPaths(inputs: readonly string[], recordsFiles: readonly string[]): string[] {
  const out = new Set<string>(inputs.map((p) => resolve(p)).filter((p) => existsSync(p) && (statSync(p).isDirectory() || basename(p) === CALIBRATION_FILE)));
  for (const f of recordsFiles) {
    let dir = dirname(resolve(f));
    for (let up = 0; up <= 3; up++) {
      const c = join(dir, 'calibration');
      if (existsSync(c) && statSync(c).isDirectory()) {
        out.add(c);
        break;
      }
      dir = dirname(dir);
    }
  }
  return [...out];
}

/** Options of loadRecords. */
export interface LoadOptions {
  /** Calibration files or folders; default: defaultCalibrationPaths. */
  readonly calibration?: readonly string[];
}

/** Reads records files or run folders (every records.jsonl below them); trials de-duplicated per cell. */
export function loadRecords(paths: readonly string[], options: LoadOptions = {}): LoadedRecords {
  const files = paths.flatMap((p) => findRecordsFiles(p));
  if (files.length === 0) throw new InputError(`no records.jsonl or records.jsonl.gz found under ${paths.join(', ')}`);
  const all: RunRecord[] = [];
  const manifests: ManifestRecord[] = [];
  for (const f of files) {
    const r = readRecordsFile(f);
    if (r.manifest) manifests.push(r.manifest);
    all.push(...r.records);
  }
  const { trials, failures } = latestByCell(all);
  const calibration = loadCalibration(options.calibration ?? defaultCalibrationPaths(paths, files));
  return { files, manifests, trials, failures, calibration };
}

/** Everything a report holds, before anything is written. */
export interface ReportContent {
  /** Every table, the verifier section's included (file outputs are per table). */
  readonly tables: readonly ReportTable[];
  /** The generated Findings paragraphs the report opens with (src/report/findings.ts); empty without dishonest attacks. */
  readonly findings: readonly string[];
  /**
   * The verifier leaderboard (src/report/verifiers.ts), present when the records hold a defense other than
   * vtune: its generated Findings paragraph and the ids of its tables (which are also in `tables`).
   */
  readonly verifiers?: { readonly findings: string; readonly tableIds: readonly string[] };
  readonly charts: readonly Chart[];
  readonly failures: readonly FailureRecord[];
  readonly title: string;
  readonly summary: string;
}

/** Computes the tables and charts of a set of records (pure). */
export function buildReport(records: LoadedRecords): ReportContent {
  const rows = attackRows(records.trials);
  const scenarioNames = [...new Set(records.manifests.map((m) => m.scenario.name))].sort();
  const found = records.calibration?.records ?? [];
  // Only the calibration of configurations these records ran: another generator's, model's or dataset's
  // Type-I says nothing about them (and a failing one would read as theirs).
  const calibration = calibrationFor(found, records.trials);
  const headline = defenseRows(records.trials);
  const rivals = records.trials.some((t) => t.cell.defense.id !== 'vtune');
  const verifiers = rivals ? verifierSection(records.trials, calibration) : undefined;
  const tables = [
    ratesTable(headline, calibration),
    attacksTable(rows),
    attackBoardTable(attackLeaderboard(records.trials)),
    generatorBoardTable(generatorLeaderboard(records.trials), calibration, headline),
    ...(calibration.length ? [typeITable(typeIRows(calibration, DEFAULT_ALPHAS))] : []),
    ...(verifiers?.tables ?? []),
  ];
  const other = found.length - calibration.length;
  const files = `${records.calibration.files.length} file(s)`;
  const calibrationNote =
    calibration.length === 0
      ? ` No calibration records of these configurations found${other ? ` (${other} of others in ${files})` : ''} (run \`vtune-bench calibrate\`): Type-I comes from the run's null baselines only.`
      : other === 0
        ? ` Type-I from ${calibration.length} calibration trials in ${files}.`
        : ` Type-I from ${calibration.length} of the ${found.length} calibration trials in ${files}; the other ${other} are of configurations not in these records.`;
  return {
    tables,
    findings: findings(records.trials, records.manifests),
    ...(verifiers && { verifiers: { findings: verifiers.findings, tableIds: verifiers.tables.map((t) => t.id) } }),
    charts: [...(records.trials.length ? charts(records.trials, rows) : []), ...(calibration.length ? [calibrationChart(calibration)] : [])],
    failures: records.failures,
    title: `vtune-bench report: ${scenarioNames.join(', ') || 'records'}`,
    summary: `${records.trials.length} cells finished${records.failures.length ? `, ${records.failures.length} failed (see failures)` : ''}, from ${records.files.length} records file(s).${calibrationNote}`,
  };
}

/**
 * The Markdown body shared by report.md and the published page: the Findings, the tables, the verifier
 * leaderboard (its Findings paragraph, then its tables) and the charts (`png(id)` gives each chart's path).
 */
export function bodyMarkdown(content: ReportContent, png: (id: string) => string): string[] {
  const verifierIds = new Set(content.verifiers?.tableIds ?? []);
  return [
    ...(content.findings.length ? [`## Findings\n\n${content.findings.join('\n\n')}\n`] : []),
    ...content.tables.filter((t) => !verifierIds.has(t.id)).map(toMarkdown),
    ...(content.verifiers
      ? [
          `## Verifier leaderboard\n\n#### Findings\n\n${content.verifiers.findings || '_(no verifier cells)_'}\n`,
          ...content.tables.filter((t) => verifierIds.has(t.id)).map(toMarkdown),
        ]
      : []),
    ...content.charts.map((c) => `### ${c.title}\n\n${c.description}\n\n![${c.title}](${png(c.id)})\n`),
  ];
}

/** What `writeReport` wrote. */
export interface WrittenReport {
  readonly outDir: string;
  readonly markdown: string;
  readonly html: string;
  readonly files: readonly string[];
  /** What was written, as data. */
  readonly content: ReportContent;
}

/** Failures summarised per stage and message, for the Markdown report. */
function failuresMarkdown(failures: readonly FailureRecord[]): string {
  if (failures.length === 0) return '';
  const lines = failures.map((f) => `| ${f.cell.labels.attack} | ${f.cell.labels.defense} | ${f.cell.seed} | ${f.stage} | ${f.message.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  return `\n### Failed cells\n\nThese cells are retried when the run is resumed.\n\n| attack | defense | seed | stage | error |\n|---|---|---|---|---|\n${lines.join('\n')}\n`;
}

/** Writes tables (md/csv/json/tex), charts (vega-lite json, svg, png), report.md and report.html into outDir. */
export async function writeReport(records: LoadedRecords, outDir: string): Promise<WrittenReport> {
  const content = buildReport(records);
  const files: string[] = [];
  const put = (rel: string, data: string | Buffer): void => {
    const p = join(outDir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, data);
    files.push(p);
  };
  for (const t of content.tables) {
    put(`tables/${t.id}.md`, toMarkdown(t));
    put(`tables/${t.id}.csv`, toCsv(t));
    put(`tables/${t.id}.json`, toJson(t));
    put(`tables/${t.id}.tex`, toLatex(t));
  }
  for (const c of content.charts) {
    const svg = await renderSvg(c.spec);
    put(`charts/${c.id}.vl.json`, `${JSON.stringify(c.spec, null, 2)}\n`);
    put(`charts/${c.id}.svg`, svg);
    put(`charts/${c.id}.png`, svgToPng(svg));
  }
  const md = [
    `# ${content.title}\n`,
    `${content.summary}\n`,
    ...bodyMarkdown(content, (id) => `charts/${id}.png`),
    failuresMarkdown(content.failures),
  ].join('\n');
  put('report.md', md);
  put(
    'report.html',
    reportHtml({
      title: content.title,
      summary: content.summary,
      findings: content.findings,
      ...(content.verifiers && { verifierFindings: content.verifiers.findings, verifierTableIds: content.verifiers.tableIds }),
      tables: content.tables,
      charts: content.charts,
      manifests: records.manifests,
      failures: content.failures,
    }),
  );
  return { outDir, markdown: join(outDir, 'report.md'), html: join(outDir, 'report.html'), files, content };
}

/** What `publishLeaderboard` wrote. */
export interface PublishedPage {
  /** `<resultsDir>/<page>.md`. */
  readonly markdown: string;
  /** `<resultsDir>/<page>-<chart>.png`. */
  readonly charts: readonly string[];
  /** `<resultsDir>/<page>/<runId>/records.jsonl.gz`: the records it was generated from, to commit. */
  readonly records: string;
}

/**
 * A published page (`results/<scenario>.md`, e.g. results/leaderboard.md from the `leaderboard` scenario, with
 * `results/<scenario>-<chart>.png`): the generated Findings, the headline rates, the per-attack table, both
 * leaderboards, the verifier leaderboard when rival verifiers ran, and the charts. The records it comes from
 * are written beside it, compressed and deterministic (`results/<scenario>/<runId>/records.jsonl.gz`), so a
 * fresh clone regenerates the page byte-identically with `vtune-bench report <that file> --publish results`.
 * Nothing on the page depends on where or when it was regenerated: the source named is that committed file.
 */
export async function publishLeaderboard(records: LoadedRecords, resultsDir: string): Promise<PublishedPage> {
  const content = buildReport(records);
  const m = records.manifests[0];
  if (!m) throw new InputError(`nothing to publish: the records (${records.files.join(', ')}) hold no manifest`);
  const page = m.scenario.name;
  mkdirSync(resultsDir, { recursive: true });
  const recordsRel = join(page, m.runId, COMPRESSED_RECORDS_FILE);
  const recordsPath = join(resultsDir, recordsRel);
  const source = `${basename(resolve(resultsDir))}/${recordsRel.split(sep).join('/')}`;
  const manifestsOut = records.manifests.length > 1 ? [{ ...m, mergedFrom: [...new Set(records.manifests.flatMap((x) => x.mergedFrom ?? [x.runId]))] }] : [m];
  writeCompressedRecords(recordsPath, [...manifestsOut, ...records.trials, ...records.failures]);
  const charts: string[] = [];
  for (const c of content.charts) {
    const p = join(resultsDir, `${page}-${c.id}.png`);
    writeFileSync(p, svgToPng(await renderSvg(c.spec)));
    charts.push(p);
  }
  const md = [
    `# vtune-bench ${page === 'leaderboard' ? 'leaderboard' : `${page} leaderboard`}\n`,
    `Generated by \`vtune-bench run ${page} --publish\` from \`${source}\`` +
      `${m.gitSha ? ` (commit ${m.gitSha.slice(0, 10)})` : ''} on ${m.machine.cpuCount}× ${m.machine.cpuModel}; ` +
      `\`vtune-bench report ${source} --publish ${basename(resolve(resultsDir))}\` regenerates this page and its charts byte-identically. ${content.summary}\n`,
    ...bodyMarkdown(content, (id) => `${page}-${id}.png`),
  ].join('\n');
  const p = join(resultsDir, `${page}.md`);
  writeFileSync(p, md);
  return { markdown: p, charts, records: recordsPath };
}
