/**
 * Coverage of the code the plugin-API refactor (issue #16) moved, split or created: before (9287cf4) vs after
 * (6030a90). Reads committed v8 json-summary files and test counts under results/coverage/ and writes
 * results/coverage/README.md (totals, then one row per moved/split/created file: lines, branches and functions
 * before → after). Nothing in the README is typed by hand: `npm run bench:coverage` regenerates it.
 *
 *   npm run bench:coverage                       write results/coverage/README.md from the committed files
 *   npm run bench:coverage -- --import <name> --root <checkout> --summary <coverage-summary.json> --tests <vitest.json> [--commit <sha>]
 *   npm run bench:coverage -- --import remeasure --root <checkout> --final <checkout>,<coverage-final.json> [--final …] --tests <vitest.json>
 *                                                the summary of several runs' hits added up (the whole suite's
 *                                                run plus a run of only the tests added since)
 *                                                copy one measurement in: the summary's absolute paths made
 *                                                relative to --root, the test counts taken from vitest's json
 *                                                reporter (name: before | after | remeasure)
 *
 * Which files the refactor moved, split or created comes from git (`git diff -M --name-status 9287cf4 6030a90`
 * over src/, attacks/, defenses/); an added file's origin is every changed or deleted file whose removed lines it
 * holds (see findOrigins). The result is also written to results/coverage/moves.json, which is read instead when
 * this clone does not have both commits.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, InputError } from '../src/errors.js';

export const BEFORE = '9287cf4';
export const AFTER = '6030a90';
const METRICS = ['lines', 'statements', 'branches', 'functions'] as const;
type Metric = (typeof METRICS)[number];

export interface Count {
  total: number;
  covered: number;
}
export type FileCoverage = Record<Metric, Count>;
/** A json-summary with repo-relative keys ("total" is the run's total). */
export type Summary = Record<string, FileCoverage>;

export interface TestCounts {
  commit?: string;
  files: number;
  passed: number;
  failed: number;
  skipped: number;
  /** The test files that ran (repo-relative), kept only for a subset run (remeasure). */
  testFiles?: string[];
}

/** Added file → the files it took code from (with how many of its lines came from each). */
export interface Move {
  status: 'created' | 'moved' | 'deleted' | 'split' | 'changed';
  file: string;
  origins: { file: string; lines: number }[];
}

/** What vitest's coverage code counts: a code file of src/, attacks/ or defenses/ (as in vitest.config.ts). */
export function isCoveredSource(path: string): boolean {
  return (
    /^(src|attacks|defenses)\/.*\.ts$/.test(path) && !path.endsWith('.test.ts') && !path.endsWith('.d.ts') && !path.startsWith('src/engine/assembly/')
  );
}

/** Reads an istanbul json-summary, keeping the four counts of each file with paths relative to `root`. */
export function parseSummary(text: string, root: string, where: string): Summary {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError('not JSON (expected a coverage-summary.json from the json-summary reporter)', { file: where, cause: err });
  }
  if (raw === null || typeof raw !== 'object' || !('total' in raw)) {
    throw new InputError('expected an object with a "total" entry (a coverage-summary.json)', { file: where });
  }
  const out: Summary = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = key === 'total' ? 'total' : isAbsolute(key) ? relative(root, key) : key;
    if (name.startsWith('..')) throw new InputError(`file outside --root ${root}`, { file: where, path: [key] });
    const entry = {} as FileCoverage;
    for (const m of METRICS) {
      const c = (value as Record<string, { total?: unknown; covered?: unknown } | undefined>)?.[m];
      if (typeof c?.total !== 'number' || typeof c.covered !== 'number') {
        throw new InputError('expected { total: number, covered: number }', { file: where, path: [key, m] });
      }
      entry[m] = { total: c.total, covered: c.covered };
    }
    out[name] = entry;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a === 'total' ? -1 : b === 'total' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
}

/** Test counts from vitest's json reporter (a file that failed to load counts as failed, as in scripts/test.mjs). */
export function parseTestCounts(text: string, root: string, where: string, keepFiles: boolean): TestCounts {
  const r = JSON.parse(text) as {
    numPassedTests?: number;
    numFailedTests?: number;
    numPendingTests?: number;
    numTodoTests?: number;
    testResults?: { name: string; status: string; assertionResults?: unknown[] }[];
  };
  if (typeof r.numPassedTests !== 'number' || !Array.isArray(r.testResults)) {
    throw new InputError('expected the json reporter output of vitest (numPassedTests, testResults)', { file: where });
  }
  const broken = r.testResults.filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length;
  return {
    files: r.testResults.length,
    passed: r.numPassedTests,
    failed: (r.numFailedTests ?? 0) + broken,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    ...(keepFiles ? { testFiles: r.testResults.map((t) => relative(root, t.name)).sort() } : {}),
  };
}

/** The lines that identify code when it moves: trimmed, whitespace-free, ≥ 20 characters, no comment or import. */
export function signatureLines(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.length < 20 || /^(\/\/|\*|\/\*|import\s|export\s*\{[^}]*\}\s*from|\}\s*from\s)/.test(t)) continue;
    out.add(t.replace(/\s+/g, ''));
  }
  return out;
}

/**
 * Origins of each added file: every changed or deleted file (any path, tests included) whose removed signature
 * lines the added file holds, at least `minLines` of them and at least `minShare` of the added file's own. An
 * added file with origins is "moved"; a changed file that gave code to one is "split"; a deleted one "deleted";
 * an added one without origins "created"; any other changed file "changed" (edited in place).
 * `show(commit, path)` returns the file's text at that commit ('' when absent).
 */
export function findOrigins(
  entries: readonly { status: string; path: string }[],
  show: (commit: string, path: string) => string,
  { minLines = 2, minShare = 0.1 } = {},
): Move[] {
  const removed = new Map<string, Set<string>>();
  for (const e of entries) {
    if (e.status !== 'M' && e.status !== 'D') continue;
    if (!e.path.endsWith('.ts')) continue;
    const before = signatureLines(show(BEFORE, e.path));
    const after = e.status === 'D' ? new Set<string>() : signatureLines(show(AFTER, e.path));
    removed.set(e.path, new Set([...before].filter((l) => !after.has(l))));
  }
  const moves: Move[] = [];
  const split = new Set<string>();
  for (const e of entries) {
    if (e.status !== 'A' || !isCoveredSource(e.path)) continue;
    const own = signatureLines(show(AFTER, e.path));
    const origins: Move['origins'] = [];
    for (const [file, lines] of removed) {
      let n = 0;
      for (const l of own) if (lines.has(l)) n++;
      if (n >= minLines && n >= minShare * own.size) origins.push({ file, lines: n });
    }
    origins.sort((a, b) => b.lines - a.lines || (a.file < b.file ? -1 : 1));
    for (const o of origins) split.add(o.file);
    moves.push({ status: origins.length ? 'moved' : 'created', file: e.path, origins });
  }
  for (const e of entries) {
    if (!isCoveredSource(e.path)) continue;
    if (e.status === 'D') moves.push({ status: 'deleted', file: e.path, origins: [] });
    else if (e.status === 'M') moves.push({ status: split.has(e.path) ? 'split' : 'changed', file: e.path, origins: [] });
  }
  return moves.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function gitMoves(root: string): Move[] | undefined {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    git('cat-file', '-e', `${BEFORE}^{commit}`);
    git('cat-file', '-e', `${AFTER}^{commit}`);
  } catch {
    return undefined;
  }
  const entries = git('diff', '-M', '--name-status', BEFORE, AFTER)
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    // A rename (R<score> old new) is the new path added and the old one deleted: its origin is then found by content.
    .flatMap(([s, a, b]) => (s!.startsWith('R') ? [{ status: 'D', path: a! }, { status: 'A', path: b! }] : [{ status: s![0]!, path: a! }]));
  const show = (commit: string, path: string) => {
    try {
      return git('show', `${commit}:${path}`);
    } catch {
      return '';
    }
  };
  return findOrigins(entries, show);
}

const sum = (files: (FileCoverage | undefined)[], m: Metric): Count | undefined => {
  const present = files.filter((f): f is FileCoverage => f !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((acc, f) => ({ total: acc.total + f[m].total, covered: acc.covered + f[m].covered }), { total: 0, covered: 0 });
};

/** Percent with one decimal, or '—' when there is nothing to count; '100.0' only when every item is covered. */
export function pct(c: Count | undefined): string {
  if (c === undefined) return '—';
  if (c.total === 0) return 'n/a';
  const p = Math.floor((1000 * c.covered) / c.total) / 10;
  return p.toFixed(1);
}
const cell = (c: Count | undefined) => (c === undefined ? '—' : `${pct(c)} (${c.covered}/${c.total})`);
const ratio = (c: Count | undefined) => (c === undefined || c.total === 0 ? undefined : c.covered / c.total);

/** The drop of `after` below `before` in percentage points (positive = dropped), undefined when either is absent. */
export function drop(before: Count | undefined, after: Count | undefined): number | undefined {
  const b = ratio(before);
  const a = ratio(after);
  return a === undefined || b === undefined ? undefined : 100 * (b - a);
}

export interface Inputs {
  before: Summary;
  after: Summary;
  beforeTests: TestCounts;
  afterTests: TestCounts;
  moves: Move[];
  movesFrom: 'git' | 'moves.json';
  remeasure?: { summary: Summary; tests: TestCounts };
}

/** Rows: one per file of `moves`, before = the file itself at 9287cf4 or, for a moved file, its origins summed. */
export function rows(inp: Inputs) {
  return inp.moves.map((mv) => {
    const beforeFiles = mv.status === 'moved' ? mv.origins.map((o) => inp.before[o.file]) : [inp.before[mv.file]];
    const after = inp.after[mv.file];
    const r = Object.fromEntries(
      (['lines', 'branches', 'functions'] as const).map((m) => [m, { before: sum(beforeFiles, m), after: after?.[m] }]),
    ) as Record<'lines' | 'branches' | 'functions', { before?: Count; after?: Count }>;
    const dropped = (['lines', 'branches', 'functions'] as const).filter((m) => (drop(r[m].before, r[m].after) ?? 0) > 0);
    return { move: mv, ...r, dropped };
  });
}

export function renderReadme(inp: Inputs): string {
  const t = (s: Summary) => s.total;
  const L: string[] = [];
  L.push('# Coverage of the code the plugin-API refactor moved (issue #16)');
  L.push('');
  L.push(`<!-- Generated by \`npm run bench:coverage\` (bench/coverage.ts) from the files beside it. Do not edit. -->`);
  L.push('');
  L.push(
    `Issue #16 asks that the test count and the coverage of the moved code do not drop. Both were measured with ` +
      `\`@vitest/coverage-v8\` over every code file of \`src/\`, \`attacks/\` and \`defenses/\` (tests, \`.d.ts\` and the ` +
      `AssemblyScript kernels left out; a file no test loads counts as 0 %), running the whole suite once at ` +
      `${BEFORE} (before the refactor) and once at ${AFTER} (main after it) with this branch's \`vitest.config.ts\` ` +
      `coverage section: \`npx vitest run --coverage --reporter=default --reporter=json --outputFile.json=…\`. The ` +
      `json-summary files and test counts are in \`before/\` and \`after/\`` +
      (inp.beforeTests.commit && inp.afterTests.commit
        ? ` (checked-out commits: ${inp.beforeTests.commit.slice(0, 10)} and ${inp.afterTests.commit.slice(0, 10)}; \`git diff ${AFTER} ${inp.afterTests.commit.slice(0, 7)}\` shows what the second adds to ${AFTER}).`
        : '.'),
  );
  L.push('');
  L.push('## Totals');
  L.push('');
  L.push(`| | before (${BEFORE}) | after (${AFTER}) |`);
  L.push('| --- | --- | --- |');
  for (const m of METRICS) L.push(`| ${m} | ${cell(t(inp.before)?.[m])} | ${cell(t(inp.after)?.[m])} |`);
  const files = (s: Summary) => Object.keys(s).filter((k) => k !== 'total').length;
  L.push(`| code files counted | ${files(inp.before)} | ${files(inp.after)} |`);
  const tc = (c: TestCounts) => `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''} (${c.files} files)`;
  L.push(`| tests | ${tc(inp.beforeTests)} | ${tc(inp.afterTests)} |`);
  L.push('');
  L.push('Percentages are covered/total, rounded down to one decimal.');
  L.push('');
  L.push('## Files the refactor moved, split or created');
  L.push('');
  L.push(
    `From \`git diff -M --name-status ${BEFORE} ${AFTER}\` (${inp.movesFrom === 'git' ? 'read from git now' : 'git lacks the commits: read from moves.json'}). ` +
      `git pairs no file as a rename, so origins are found by content: an added file is **moved** when it holds ` +
      `lines (≥ 20 characters, no comment or import; at least 2 and at least 10 % of its own) that a changed or deleted ` +
      `file lost; that file is **split**. Origins in tests are named but have no coverage of their own. An added file ` +
      `without origins is **created** (new code or a rewrite sharing no line with the old one, so it has no "before"). ` +
      `A moved file's "before" is its origins' counts summed (whole files, not only the moved lines).`,
  );
  L.push('');
  L.push('| file | status | origin (shared lines) | lines before → after | branches before → after | functions before → after |');
  L.push('| --- | --- | --- | --- | --- | --- |');
  const all = rows(inp);
  const rs = all.filter((r) => r.move.status !== 'changed');
  const arrow = (x: { before?: Count; after?: Count }) => {
    const d = drop(x.before, x.after);
    return `${cell(x.before)} → ${cell(x.after)}${d !== undefined && d > 0 ? ' **▼**' : ''}`;
  };
  for (const r of rs) {
    const origin = r.move.origins.map((o) => `${o.file} (${o.lines})${o.file.startsWith('test/') ? ' [test]' : ''}`).join('<br>') || '';
    L.push(`| ${r.move.file} | ${r.move.status} | ${origin} | ${arrow(r.lines)} | ${arrow(r.branches)} | ${arrow(r.functions)} |`);
  }
  L.push('');
  const dropped = rs.filter((r) => r.dropped.length > 0);
  L.push(`**▼** marks a drop. ${dropped.length} of ${rs.length} rows dropped in some metric${dropped.length ? `: ${dropped.map((r) => `${r.move.file} (${r.dropped.join(', ')})`).join('; ')}` : ''}.`);
  L.push('');
  const changed = all.filter((r) => r.move.status === 'changed');
  const changedDropped = changed.filter((r) => r.dropped.length > 0);
  L.push('## Files edited in place whose coverage dropped');
  L.push('');
  L.push(
    `The refactor also rewrote code inside files that stayed where they were (every plugin's hand-written option checks ` +
      `became a declaration). Of the ${changed.length} code files changed in place, these ${changedDropped.length} dropped in some metric:`,
  );
  L.push('');
  L.push('| file | lines before → after | branches before → after | functions before → after |');
  L.push('| --- | --- | --- | --- |');
  for (const r of changedDropped) L.push(`| ${r.move.file} | ${arrow(r.lines)} | ${arrow(r.branches)} | ${arrow(r.functions)} |`);
  L.push('');
  if (inp.remeasure) {
    const re = inp.remeasure;
    L.push('## Re-measured with the added tests');
    L.push('');
    L.push(
      `The tests added on this branch were run alone with coverage (${re.tests.passed} passed, ${re.tests.failed} failed: ` +
        `${(re.tests.testFiles ?? []).map((f) => `\`${f}\``).join(', ')}), and their hits were added to the whole-suite ` +
        `"after" run's (\`--final\`, both coverage-final.json; the sources measured are the same, the branch changes no ` +
        `code file). The third figure is therefore the whole suite plus the new tests, not a whole-suite re-run.`,
    );
    L.push('');
    L.push('| file | lines before → after → after + new tests | branches before → after → after + new tests | functions before → after → after + new tests |');
    L.push('| --- | --- | --- | --- |');
    for (const r of [...dropped, ...changedDropped].filter((r) => re.summary[r.move.file] !== undefined)) {
      const now = re.summary[r.move.file];
      const three = (m: 'lines' | 'branches' | 'functions') => `${cell(r[m].before)} → ${cell(r[m].after)} → ${cell(now?.[m])}`;
      L.push(`| ${r.move.file} | ${three('lines')} | ${three('branches')} | ${three('functions')} |`);
    }
    L.push('');
  }
  return L.join('\n') + '\n';
}

/** One file of an istanbul coverage-final.json (what the json reporter writes). */
export interface FinalFile {
  statementMap: Record<string, { start: { line: number; column: number | null }; end: { line: number; column: number | null } }>;
  s: Record<string, number>;
  fnMap: Record<string, { loc: unknown }>;
  f: Record<string, number>;
  branchMap: Record<string, { loc: unknown; locations: unknown[] }>;
  b: Record<string, number[]>;
}

/**
 * The union of several runs' hit counts (a run's coverage-final.json each, all of the same sources): counts of
 * a statement, function or branch found at the same location add up. The first run's maps are kept; a location
 * only a later run has is ignored (it cannot happen for identical sources).
 */
export function mergeFinal(runs: readonly Record<string, FinalFile>[]): Record<string, FinalFile> {
  const out: Record<string, FinalFile> = {};
  for (const run of runs) {
    for (const [file, fc] of Object.entries(run)) {
      const base = out[file];
      if (!base) {
        out[file] = structuredClone(fc);
        continue;
      }
      const add = (map: Record<string, unknown>, hits: Record<string, number>, baseMap: Record<string, unknown>, baseHits: Record<string, number>) => {
        const at = new Map(Object.entries(baseMap).map(([k, v]) => [JSON.stringify(v), k]));
        for (const [k, v] of Object.entries(map)) {
          const j = at.get(JSON.stringify(v));
          if (j !== undefined) baseHits[j] = (baseHits[j] ?? 0) + (hits[k] ?? 0);
        }
      };
      add(fc.statementMap, fc.s, base.statementMap, base.s);
      add(fc.fnMap, fc.f, base.fnMap, base.f);
      const at = new Map(Object.entries(base.branchMap).map(([k, v]) => [JSON.stringify(v), k]));
      for (const [k, v] of Object.entries(fc.branchMap)) {
        const j = at.get(JSON.stringify(v));
        if (j !== undefined) base.b[j] = base.b[j]!.map((n, i) => n + (fc.b[k]?.[i] ?? 0));
      }
    }
  }
  return out;
}

/** A json-summary's four counts of one file, computed as istanbul does (a line is covered when a statement starting on it ran). */
export function summarizeFinal(fc: FinalFile): FileCoverage {
  const lines = new Map<number, number>();
  for (const [k, loc] of Object.entries(fc.statementMap)) {
    const n = fc.s[k] ?? 0;
    lines.set(loc.start.line, Math.max(lines.get(loc.start.line) ?? 0, n));
  }
  const count = (xs: number[]): Count => ({ total: xs.length, covered: xs.filter((n) => n > 0).length });
  return {
    lines: count([...lines.values()]),
    statements: count(Object.values(fc.s)),
    functions: count(Object.values(fc.f)),
    branches: count(Object.values(fc.b).flat()),
  };
}

/** A json-summary (absolute keys, as the reporter writes them) of the merged runs. */
export function mergedSummary(runs: readonly Record<string, FinalFile>[]): Record<string, FileCoverage> {
  const merged = mergeFinal(runs);
  const files = Object.fromEntries(Object.entries(merged).map(([f, fc]) => [f, summarizeFinal(fc)]));
  const total = {} as FileCoverage;
  for (const m of METRICS) total[m] = sum(Object.values(files), m)!;
  return { total, ...files };
}

function readJson<T>(path: string): T {
  if (!existsSync(path)) throw new InputError('missing (import it first: see bench/coverage.ts)', { file: path });
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function main(argv: string[]): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = join(root, 'results', 'coverage');
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const name = opt('import');
  if (name !== undefined) {
    if (!['before', 'after', 'remeasure'].includes(name)) throw new ConfigError(`expected before, after or remeasure, got '${name}'`, { subject: '--import' });
    const need = (o: string) => {
      const v = opt(o);
      if (!v) throw new ConfigError(`required with --import: expected a path`, { subject: `--${o}` });
      return resolve(v);
    };
    const runRoot = need('root');
    const testsPath = need('tests');
    // --final <checkout>,<coverage-final.json> (repeatable): the summary is the union of these runs' hits.
    const finals = argv.flatMap((a, i) => (a === '--final' && argv[i + 1] ? [argv[i + 1]!] : []));
    let summary: Summary;
    if (finals.length > 0) {
      const runs = finals.map((f) => {
        const [checkout, path] = f.split(',');
        if (!checkout || !path) throw new ConfigError(`expected <checkout>,<coverage-final.json>, got '${f}'`, { subject: '--final' });
        const raw = readJson<Record<string, FinalFile>>(resolve(path));
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [relative(resolve(checkout), k), v]));
      });
      summary = parseSummary(JSON.stringify(mergedSummary(runs)), runRoot, finals.join(' + '));
    } else {
      const summaryPath = need('summary');
      summary = parseSummary(readFileSync(summaryPath, 'utf8'), runRoot, summaryPath);
    }
    const tests = { ...(opt('commit') ? { commit: opt('commit') } : {}), ...parseTestCounts(readFileSync(testsPath, 'utf8'), runRoot, testsPath, name === 'remeasure') };
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'coverage-summary.json'), JSON.stringify(summary, null, 1) + '\n');
    writeFileSync(join(dir, name, 'tests.json'), JSON.stringify(tests, null, 2) + '\n');
    console.log(`${name}: ${Object.keys(summary).length - 1} files, lines ${pct(summary.total?.lines)} %, tests ${tests.passed} passed, ${tests.failed} failed`);
    return;
  }
  let moves = gitMoves(root);
  const movesFrom = moves ? 'git' : 'moves.json';
  if (moves) writeFileSync(join(dir, 'moves.json'), JSON.stringify(moves, null, 1) + '\n');
  else moves = readJson<Move[]>(join(dir, 'moves.json'));
  const inp: Inputs = {
    before: readJson(join(dir, 'before', 'coverage-summary.json')),
    after: readJson(join(dir, 'after', 'coverage-summary.json')),
    beforeTests: readJson(join(dir, 'before', 'tests.json')),
    afterTests: readJson(join(dir, 'after', 'tests.json')),
    moves,
    movesFrom,
    ...(existsSync(join(dir, 'remeasure', 'tests.json'))
      ? { remeasure: { summary: readJson(join(dir, 'remeasure', 'coverage-summary.json')), tests: readJson(join(dir, 'remeasure', 'tests.json')) } }
      : {}),
  };
  writeFileSync(join(dir, 'README.md'), renderReadme(inp));
  console.log(`wrote ${relative(process.cwd(), join(dir, 'README.md'))} (${moves.length} files, moves from ${movesFrom})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
