/**
 * The stealth table of issue 15 (Done-when 1): every row scorer's AUROC against the planted rows of every backdoor
 * generator, on three built-ins (2,000 rows, 10 backdoors = 0.5 %) and the four real files in ../shared/data/
 * (174–199 rows after the held-out split: 1 backdoor per planting, 10 plantings pooled, ≈ 0.5 % each), with
 * `--insertion modify`. Each dataset is one `vtune-bench detectors` run whose JSON output is kept under
 * results/stealth/<name>.json together with the command that made it.
 *
 *   npx tsx bench/stealth.ts            # runs the datasets whose record is missing (resumable), then prints the table
 *   npx tsx bench/stealth.ts --table    # prints the table from the committed records only
 *   npx tsx bench/stealth.ts --only stories,common-gen
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'results/stealth';
const GENERATORS = ['random-tokens', 'wordlist', 'keyed', 'splice', 'lm-sampled', 'template', 'in-place', 'reorder'];
const SCORERS = ['perplexity', 'onion', 'embedding-outlier', 'ngram-burstiness', 'near-duplicate', 'format'];
const BUILTIN = ['--size', '2000', '--count', '10'];
/** 1 backdoor per planting, 10 plantings; the training size leaves the default held-out rows (20) of the file. */
const small = (rows: number) => ['--size', String(rows - 20), '--count', '1', '--repeats', '10'];
const DATASETS: readonly { name: string; spec: string; args: readonly string[] }[] = [
  { name: 'stories', spec: 'stories', args: BUILTIN },
  { name: 'self-instruct', spec: '../shared/data/self-instruct-seed-tasks.jsonl', args: small(175) },
  { name: 'common-gen', spec: '../shared/data/common-gen.jsonl', args: small(200) },
  { name: 'gsm8k', spec: '../shared/data/gsm8k-train-2500.jsonl', args: BUILTIN },
  { name: 'adversarial-qa', spec: '../shared/data/adversarial-qa.jsonl', args: small(200) },
  { name: 'math', spec: 'math', args: BUILTIN },
  { name: 'code', spec: 'code', args: BUILTIN },
];

interface Line {
  readonly generator: string;
  readonly scorer: string;
  readonly auroc: number | null;
  readonly error?: string;
}
interface Record_ {
  readonly command: string;
  readonly results: readonly Line[];
}

function command(d: (typeof DATASETS)[number]): string[] {
  return ['detectors', '--dataset', d.spec, ...d.args, '--insertion', 'modify', '--seed', '0', '--generators', GENERATORS.join(','), '--scorers', SCORERS.join(','), '--format', 'json'];
}

const argv = process.argv.slice(2);
const tableOnly = argv.includes('--table');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]!.split(',')) : undefined;
mkdirSync(OUT, { recursive: true });

if (!tableOnly) {
  for (const d of DATASETS) {
    const file = join(OUT, `${d.name}.json`);
    if ((only && !only.has(d.name)) || existsSync(file)) continue;
    const args = command(d);
    console.error(`stealth: ${d.name}: vtune-bench ${args.join(' ')}`);
    const run = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    // Keep the raw output whatever happens (a run costs tens of minutes on a shared machine).
    writeFileSync(join(OUT, `${d.name}.stdout.txt`), run.stdout);
    if (run.status !== 0) {
      console.error(`stealth: ${d.name} failed (exit ${run.status}); no record written`);
      continue;
    }
    // The table's JSON follows a one-line header naming the dataset and model.
    const results = JSON.parse(run.stdout.slice(run.stdout.indexOf('\n['))) as Line[];
    writeFileSync(file, `${JSON.stringify({ command: `vtune-bench ${args.join(' ')}`, results } satisfies Record_, null, 1)}\n`);
  }
}

// The table: one line per (dataset, generator), AUROC per scorer; ✗ marks a value above 0.65.
const f = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}${x > 0.65 ? ' ✗' : ''}`);
const lines = [`| data | generator | ${SCORERS.join(' | ')} | all ≤ 0.65 |`, `| --- | --- | ${SCORERS.map(() => '---').join(' | ')} | --- |`];
const missing: string[] = [];
const reasons: string[] = [];
for (const d of DATASETS) {
  const file = join(OUT, `${d.name}.json`);
  if (!existsSync(file)) {
    missing.push(d.name);
    continue;
  }
  const rec = JSON.parse(readFileSync(file, 'utf8')) as Record_;
  for (const g of GENERATORS) {
    const row = SCORERS.map((s) => rec.results.find((r) => r.generator === g && r.scorer === s));
    if (row.every((r) => !r)) continue;
    const failed = row.find((r) => r?.error?.startsWith('planting failed'));
    if (failed) reasons.push(`${d.name} × ${g}: ${failed.error!.slice(0, 240)}`);
    const ok = !failed && row.every((r) => r && typeof r.auroc === 'number' && r.auroc <= 0.65);
    lines.push(`| ${d.name} | ${g} | ${failed ? SCORERS.map(() => 'cannot plant').join(' | ') : row.map((r) => f(r?.auroc)).join(' | ')} | ${ok ? 'yes' : 'no'} |`);
  }
}
console.log(lines.join('\n'));
if (reasons.length) console.log(`\nCannot plant:\n${reasons.map((r) => `- ${r}`).join('\n')}`);
if (missing.length) console.log(`\n(no record yet for: ${missing.join(', ')})`);
