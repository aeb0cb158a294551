/**
 * The stealth table of issue 15 (Done-when 1): every row scorer's AUROC against the planted rows of every backdoor
 * generator, on the six built-ins and GSM8K (2,000 rows, 10 backdoors = 0.5 %) and the other three real files in
 * ../shared/data/ (155–180 rows after the held-out split: 1 backdoor per planting, 100 plantings pooled, ≈ 0.6 %
 * each; 10 backdoors at ≤ 0.5 % would need 2,000 rows). With one backdoor a planting's AUROC is the rank of one
 * row, so the 10 plantings the table used before left a figure to chance: common-gen × in-place's
 * embedding-outlier read 0.81 over those 10 (git history of results/stealth/common-gen.json). All with
 * `--insertion modify`. Each dataset is one `vtune-bench detectors` run whose JSON output is kept under
 * results/stealth/<name>.json together with the command that made it.
 *
 * lm-sampled plants with `fixedLength` (GENERATOR_OPTIONS), the leaderboard's configuration: vtb-base is
 * pretrained on prompts and completions as separate `[BOS] text [EOS]` documents, so after a whole dataset prompt
 * (or prompt ⊕ trigger) it puts almost all its mass on EOS, and the paper's draw (a stop token ends the sample)
 * comes back empty 8 times in a row. The table names the options a generator's rows were planted with.
 *
 * A generator's lines can be rerun on their own and merged into the dataset's record (`--only <dataset>:<generator>`),
 * and so can some scorers' lines for all (or some) generators of a dataset (`--only <dataset> --scorers <scorer>`):
 * every planting is seeded by (seed, generator, planting) alone — never by the scorers run — each scorer stream by
 * (seed, generator, scorer, planting) and the dataset by the seed, so the merged lines are the ones a whole run
 * would give. The record keeps each rerun's command (and its generators and scorers) next to the first one.
 *
 *   npx tsx bench/stealth.ts            # runs the datasets whose record is missing (resumable), then prints the table
 *   npx tsx bench/stealth.ts --table    # prints the table from the committed records only
 *   npx tsx bench/stealth.ts --only stories,common-gen
 *   npx tsx bench/stealth.ts --only stories:lm-sampled,gsm8k:lm-sampled   # reruns those lines, merges them
 *   npx tsx bench/stealth.ts --only gsm8k,math:template --scorers arithmetic  # reruns one scorer's lines, merges them
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, InputError, VtuneError } from '../src/errors.js';

const OUT = 'results/stealth';
/** The generators of the table, in its row order. */
export const GENERATORS = ['random-tokens', 'wordlist', 'keyed', 'splice', 'lm-sampled', 'template', 'in-place', 'reorder'] as const;
/** The row scorers of the table, in its column order. */
export const SCORERS = ['perplexity', 'onion', 'embedding-outlier', 'ngram-burstiness', 'near-duplicate', 'format', 'arithmetic'] as const;
/** Options per generator (`--generator-options`): lm-sampled as the leaderboard plants it (see the header). */
export const GENERATOR_OPTIONS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = { 'lm-sampled': { fixedLength: true } };
const BUILTIN = ['--size', '2000', '--count', '10'];
/** 1 backdoor per planting, 100 plantings; the training size leaves the default held-out rows (20) of the file. */
const small = (rows: number) => ['--size', String(rows - 20), '--count', '1', '--repeats', '100'];
/** One dataset of the table: its record name, its `--dataset` spec and its sizing arguments. */
export interface StealthDataset {
  readonly name: string;
  readonly spec: string;
  readonly args: readonly string[];
}
/** The datasets of the table, in its row order. */
export const DATASETS: readonly StealthDataset[] = [
  { name: 'stories', spec: 'stories', args: BUILTIN },
  { name: 'self-instruct', spec: '../shared/data/self-instruct-seed-tasks.jsonl', args: small(175) },
  { name: 'common-gen', spec: '../shared/data/common-gen.jsonl', args: small(200) },
  { name: 'gsm8k', spec: '../shared/data/gsm8k-train-2500.jsonl', args: BUILTIN },
  { name: 'adversarial-qa', spec: '../shared/data/adversarial-qa.jsonl', args: small(200) },
  { name: 'math', spec: 'math', args: BUILTIN },
  { name: 'code', spec: 'code', args: BUILTIN },
  { name: 'qa', spec: 'qa', args: BUILTIN },
  { name: 'extract', spec: 'extract', args: BUILTIN },
  { name: 'summarize', spec: 'summarize', args: BUILTIN },
];

/** One line of `vtune-bench detectors --format json` (the fields the table reads; the rest are kept as they are). */
export interface Line {
  readonly generator: string;
  readonly scorer: string;
  readonly auroc: number | null;
  readonly error?: string;
}
/** A later run of some generators whose lines replaced theirs in the record. */
export interface Rerun {
  readonly command: string;
  readonly generators: readonly string[];
  /** The scorers rerun (absent: all of the run's command). */
  readonly scorers?: readonly string[];
  readonly generatorOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}
/** results/stealth/<dataset>.json. */
export interface StealthRecord {
  readonly command: string;
  readonly generatorOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly results: readonly Line[];
  readonly reruns?: readonly Rerun[];
}

/** What to run: every missing record, or the named datasets (all their generators, or only some: a rerun). */
export interface StealthArgs {
  readonly tableOnly: boolean;
  /** Dataset name → the generators to rerun (undefined: the whole dataset, when its record is missing). */
  readonly only?: ReadonlyMap<string, readonly string[] | undefined>;
  /** Rerun only these scorers of the --only datasets (every generator, or those named) and merge their lines. */
  readonly scorers?: readonly string[];
}

const USAGE = 'usage: npx tsx bench/stealth.ts [--table] [--only <dataset>[:<generator>],… [--scorers <scorer>,…]]';

/** Reads the command line; a bad or incomplete option is a ConfigError naming it and what was expected. */
export function parseArgs(argv: readonly string[]): StealthArgs {
  let tableOnly = false;
  let only: Map<string, string[] | undefined> | undefined;
  let scorers: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--table') tableOnly = true;
    else if (a === '--only') {
      const value = argv[i + 1];
      const expected = `a comma-separated list of <dataset> or <dataset>:<generator> (datasets: ${DATASETS.map((d) => d.name).join(', ')}; generators: ${GENERATORS.join(', ')})`;
      if (value === undefined || value.startsWith('--') || value.trim() === '') {
        throw new ConfigError(`expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`, { subject: 'bench/stealth.ts: --only' });
      }
      only ??= new Map();
      for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        const [name, generator, ...rest] = item.split(':');
        if (!DATASETS.some((d) => d.name === name) || rest.length > 0 || (generator !== undefined && !(GENERATORS as readonly string[]).includes(generator))) {
          throw new ConfigError(`expected ${expected}, got ${JSON.stringify(item)}`, { subject: 'bench/stealth.ts: --only' });
        }
        const had = only.get(name!);
        // The whole dataset wins over some of its generators.
        if (only.has(name!) && had === undefined) continue;
        // In table order, whatever order they were named in (the rerun's command lists them so).
        only.set(name!, generator === undefined ? undefined : GENERATORS.filter((g) => g === generator || had?.includes(g)));
      }
      i++;
    } else if (a === '--scorers') {
      const value = argv[i + 1];
      const expected = `a comma-separated list of scorers (${SCORERS.join(', ')})`;
      const items = value === undefined || value.startsWith('--') ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw new ConfigError(`expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`, { subject: 'bench/stealth.ts: --scorers' });
      const unknown = items.find((s) => !(SCORERS as readonly string[]).includes(s));
      if (unknown !== undefined) throw new ConfigError(`expected ${expected}, got ${JSON.stringify(unknown)}`, { subject: 'bench/stealth.ts: --scorers' });
      scorers = [...new Set([...(scorers ?? []), ...items])];
      i++;
    } else throw new ConfigError(`unknown option ${JSON.stringify(a)}; ${USAGE}`, { subject: 'bench/stealth.ts' });
  }
  if (tableOnly && only) throw new ConfigError('--table prints the committed records only and runs nothing; drop --only, or --table', { subject: 'bench/stealth.ts' });
  if (scorers && !only) throw new ConfigError('--scorers reruns some scorers of recorded datasets: name them with --only <dataset>[:<generator>],…', { subject: 'bench/stealth.ts' });
  return { tableOnly, ...(only ? { only } : {}), ...(scorers ? { scorers } : {}) };
}

/** The options of these generators that GENERATOR_OPTIONS sets (undefined when none). */
function optionsFor(generators: readonly string[]): Record<string, Readonly<Record<string, unknown>>> | undefined {
  const picked = Object.fromEntries(generators.flatMap((g) => (GENERATOR_OPTIONS[g] ? [[g, GENERATOR_OPTIONS[g]!]] : [])));
  return Object.keys(picked).length > 0 ? picked : undefined;
}

/** The `vtune-bench detectors` arguments for a dataset and some (default: all) generators and scorers. */
export function command(d: StealthDataset, generators: readonly string[] = GENERATORS, scorers: readonly string[] = SCORERS): string[] {
  const options = optionsFor(generators);
  return [
    'detectors', '--dataset', d.spec, ...d.args, '--insertion', 'modify', '--seed', '0', '--generators', generators.join(','),
    ...(options ? ['--generator-options', JSON.stringify(options)] : []),
    '--scorers', scorers.join(','), '--format', 'json',
  ];
}

/** The arguments as one line a POSIX shell reads back as the same arguments. */
export function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function checkLines(raw: unknown, file: string, path: (string | number)[]): Line[] {
  if (!Array.isArray(raw)) throw new InputError('expected an array of detector lines (vtune-bench detectors --format json)', { file, path });
  raw.forEach((l: unknown, i) => {
    const line = l as Partial<Record<keyof Line, unknown>> | null;
    if (line === null || typeof line !== 'object' || typeof line.generator !== 'string' || typeof line.scorer !== 'string' || (line.auroc !== null && typeof line.auroc !== 'number')) {
      throw new InputError('expected a detector line { generator: string, scorer: string, auroc: number | null, … }', { file, path: [...path, i] });
    }
  });
  return raw as Line[];
}

/** Parses a results/stealth/<dataset>.json record; a malformed one is an InputError naming the file and what was expected. */
export function parseRecord(text: string, file: string): StealthRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not JSON (${(err as Error).message}); expected a stealth record { command, results } written by bench/stealth.ts`, { file, cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('expected a stealth record { command, results } written by bench/stealth.ts', { file });
  const rec = raw as Record<string, unknown>;
  if (typeof rec.command !== 'string') throw new InputError('expected a string: the detectors command that made the record', { file, path: ['command'] });
  checkLines(rec.results, file, ['results']);
  if (rec.reruns !== undefined) {
    if (!Array.isArray(rec.reruns)) throw new InputError('expected an array of { command, generators }', { file, path: ['reruns'] });
    rec.reruns.forEach((r: unknown, i) => {
      const run = r as Partial<Record<keyof Rerun, unknown>> | null;
      const strings = (x: unknown) => Array.isArray(x) && x.every((g) => typeof g === 'string');
      if (run === null || typeof run !== 'object' || typeof run.command !== 'string' || !strings(run.generators) || (run.scorers !== undefined && !strings(run.scorers))) {
        throw new InputError('expected { command: string, generators: string[], scorers?: string[] }', { file, path: ['reruns', i] });
      }
    });
  }
  return raw as StealthRecord;
}

/** The detector lines in the output of `vtune-bench detectors --format json` (a one-line header, then the JSON array). */
export function parseDetectorsOutput(stdout: string, where: string): Line[] {
  const at = stdout.indexOf('\n[');
  if (at < 0) throw new InputError('expected a header line followed by a JSON array of detector lines', { file: where });
  let raw: unknown;
  try {
    raw = JSON.parse(stdout.slice(at));
  } catch (err) {
    throw new InputError(`not JSON after the header line (${(err as Error).message}); expected a JSON array of detector lines`, { file: where, cause: err });
  }
  return checkLines(raw, where, []);
}

/**
 * The record with these generators' lines (of the rerun's scorers, or all) replaced by a rerun's (lines in table
 * order: generators, then scorers), the rerun's command kept. A rerun's lines must lie within its generators and
 * scorers. An earlier rerun stays listed for the generators whose lines it still made.
 */
export function mergeRecord(old: StealthRecord, run: Rerun, lines: readonly Line[]): StealthRecord {
  const what = run.scorers ? `scorers ${run.scorers.join(', ')} on ${run.generators.join(', ')}` : run.generators.join(', ');
  const strayGenerator = lines.find((l) => !run.generators.includes(l.generator));
  if (strayGenerator) throw new ConfigError(`the rerun of ${what} returned a line of generator '${strayGenerator.generator}'`);
  const strayScorer = lines.find((l) => run.scorers && !run.scorers.includes(l.scorer));
  if (strayScorer) throw new ConfigError(`the rerun of ${what} returned a line of scorer '${strayScorer.scorer}'`);
  const replaced = (l: Line) => run.generators.includes(l.generator) && (!run.scorers || run.scorers.includes(l.scorer));
  const rank = (xs: readonly string[], x: string) => (xs.includes(x) ? xs.indexOf(x) : xs.length);
  const results = [...old.results.filter((l) => !replaced(l)), ...lines].sort(
    (a, b) => rank(GENERATORS, a.generator) - rank(GENERATORS, b.generator) || rank(SCORERS, a.scorer) - rank(SCORERS, b.scorer),
  );
  // An earlier rerun is superseded for a generator when this one reran every scorer it ran there.
  const covers = (r: Rerun) => !run.scorers || (r.scorers !== undefined && r.scorers.every((s) => run.scorers!.includes(s)));
  const earlier = (old.reruns ?? [])
    .map((r) => (covers(r) ? { ...r, generators: r.generators.filter((g) => !run.generators.includes(g)) } : r))
    .filter((r) => r.generators.length > 0);
  return { ...old, results, reruns: [...earlier, run] };
}

/** The options a generator's lines in this record were planted with (its latest run's). */
function plantedWith(rec: StealthRecord, generator: string): Readonly<Record<string, unknown>> | undefined {
  const rerun = [...(rec.reruns ?? [])].reverse().find((r) => r.generators.includes(generator));
  return rerun ? rerun.generatorOptions?.[generator] : rec.generatorOptions?.[generator];
}

/**
 * The table (markdown) from the records by dataset name; ✗ marks an AUROC above 0.65. The last column is yes when
 * every scorer was measured at ≤ 0.65, no when one is above (or the generator cannot plant), n/a when none measured
 * is above but some scorer has no AUROC (no line in the record, or it could not score).
 */
export function renderTable(records: ReadonlyMap<string, StealthRecord>): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}${x > 0.65 ? ' ✗' : ''}`);
  const lines = [`| data | generator | ${SCORERS.join(' | ')} | all ≤ 0.65 |`, `| --- | --- | ${SCORERS.map(() => '---').join(' | ')} | --- |`];
  const missing: string[] = [];
  const reasons: string[] = [];
  for (const d of DATASETS) {
    const rec = records.get(d.name);
    if (!rec) {
      missing.push(d.name);
      continue;
    }
    for (const g of GENERATORS) {
      const row = SCORERS.map((s) => rec.results.find((r) => r.generator === g && r.scorer === s));
      if (row.every((r) => !r)) continue;
      const failed = row.find((r) => r?.error?.startsWith('planting failed'));
      if (failed) reasons.push(`${d.name} × ${g}: ${failed.error!.slice(0, 240)}`);
      // yes: every scorer measured ≤ 0.65; no: one finds it (or it cannot plant); n/a: none of those measured finds it, some have no line.
      const found = row.some((r) => r && typeof r.auroc === 'number' && r.auroc > 0.65);
      const measured = row.every((r) => r && typeof r.auroc === 'number' && !Number.isNaN(r.auroc));
      const verdict = failed || found ? 'no' : measured ? 'yes' : 'n/a';
      const options = plantedWith(rec, g);
      const label = options ? `${g} (${Object.entries(options).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')})` : g;
      lines.push(`| ${d.name} | ${label} | ${failed ? SCORERS.map(() => 'cannot plant').join(' | ') : row.map((r) => f(r?.auroc)).join(' | ')} | ${verdict} |`);
    }
  }
  let out = lines.join('\n');
  if (reasons.length) out += `\n\nCannot plant:\n${reasons.map((r) => `- ${r}`).join('\n')}`;
  if (missing.length) out += `\n\n(no record yet for: ${missing.join(', ')})`;
  return out;
}

function runDetectors(args: readonly string[], rawOut: string): Line[] | undefined {
  console.error(`stealth: vtune-bench ${shellLine(args)}`);
  const run = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  // Keep the raw output whatever happens (a run costs tens of minutes on a shared machine).
  writeFileSync(rawOut, run.stdout);
  if (run.status !== 0) {
    console.error(`stealth: failed (exit ${run.status}); no record written; raw output in ${rawOut}`);
    return undefined;
  }
  return parseDetectorsOutput(run.stdout, rawOut);
}

function main({ tableOnly, only, scorers }: StealthArgs): void {
  mkdirSync(OUT, { recursive: true });
  const write = (file: string, rec: StealthRecord) => writeFileSync(file, `${JSON.stringify(rec, null, 1)}\n`);
  if (!tableOnly) {
    for (const d of DATASETS) {
      const file = join(OUT, `${d.name}.json`);
      if (only && !only.has(d.name)) continue;
      const some = only?.get(d.name) ?? (scorers ? GENERATORS : undefined);
      if (some) {
        const what = `${scorers ? `scorers ${scorers.join(', ')} of ` : ''}${some.join(', ')}`;
        if (!existsSync(file)) throw new ConfigError(`${d.name} has no record yet to merge ${what} into; run the whole dataset first (--only ${d.name})`, { subject: 'bench/stealth.ts: --only' });
        const old = parseRecord(readFileSync(file, 'utf8'), file);
        const args = command(d, some, scorers);
        const lines = runDetectors(args, join(OUT, `${d.name}.${some.join('+')}${scorers ? `.${scorers.join('+')}` : ''}.stdout.txt`));
        const options = optionsFor(some);
        const run: Rerun = { command: `vtune-bench ${shellLine(args)}`, generators: some, ...(scorers ? { scorers } : {}), ...(options ? { generatorOptions: options } : {}) };
        if (lines) write(file, mergeRecord(old, run, lines));
        continue;
      }
      if (existsSync(file)) continue;
      const args = command(d);
      const results = runDetectors(args, join(OUT, `${d.name}.stdout.txt`));
      const options = optionsFor(GENERATORS);
      if (results) write(file, { command: `vtune-bench ${shellLine(args)}`, ...(options ? { generatorOptions: options } : {}), results });
    }
  }
  const records = new Map<string, StealthRecord>();
  for (const d of DATASETS) {
    const file = join(OUT, `${d.name}.json`);
    if (existsSync(file)) records.set(d.name, parseRecord(readFileSync(file, 'utf8'), file));
  }
  console.log(renderTable(records));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(parseArgs(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof VtuneError)) throw err;
    console.error(`error: ${err.message}`);
    process.exitCode = 2;
  }
}
