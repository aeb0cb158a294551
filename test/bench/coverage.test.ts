import { describe, expect, it } from 'vitest';
import {
  AFTER,
  BEFORE,
  type FileCoverage,
  type Inputs,
  drop,
  findOrigins,
  isCoveredSource,
  mergeFinal,
  mergedSummary,
  parseSummary,
  parseTestCounts,
  pct,
  renderReadme,
  rows,
  signatureLines,
  summarizeFinal,
} from '../../bench/coverage.js';
import { InputError } from '../../src/errors.js';

const cov = (lines: [number, number], branches: [number, number] = [0, 0], functions: [number, number] = [0, 0]): FileCoverage => ({
  lines: { covered: lines[0], total: lines[1] },
  statements: { covered: lines[0], total: lines[1] },
  branches: { covered: branches[0], total: branches[1] },
  functions: { covered: functions[0], total: functions[1] },
});
const entry = (c: number, t: number) => ({ total: t, covered: c, skipped: 0, pct: (100 * c) / t });

describe('bench/coverage: summaries', () => {
  it('makes absolute paths relative to the checkout and keeps total first', () => {
    const text = JSON.stringify({
      total: { lines: entry(3, 4), statements: entry(3, 4), branches: entry(1, 2), functions: entry(1, 1) },
      '/tmp/cov/before/src/b.ts': { lines: entry(1, 2), statements: entry(1, 2), branches: entry(0, 1), functions: entry(0, 0) },
      '/tmp/cov/before/src/a.ts': { lines: entry(2, 2), statements: entry(2, 2), branches: entry(1, 1), functions: entry(1, 1) },
    });
    const s = parseSummary(text, '/tmp/cov/before', 'x.json');
    expect(Object.keys(s)).toEqual(['total', 'src/a.ts', 'src/b.ts']);
    expect(s['src/b.ts']!.branches).toEqual({ total: 1, covered: 0 });
  });

  it('names the file and the field when a count is missing, and refuses files outside the checkout', () => {
    const bad = JSON.stringify({ total: { lines: entry(1, 1), statements: entry(1, 1), functions: entry(1, 1) } });
    let err: unknown;
    try {
      parseSummary(bad, '/r', 'before/coverage-summary.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe('before/coverage-summary.json: total.branches: expected { total: number, covered: number }');
    const outside = JSON.stringify({ total: cov([1, 1]), '/elsewhere/src/a.ts': cov([1, 1]) });
    expect(() => parseSummary(outside, '/r', 's.json')).toThrow(/file outside --root \/r/);
    expect(() => parseSummary('{', '/r', 's.json')).toThrow(/s\.json: not JSON/);
  });

  it('counts a test file that failed to load as a failure, and keeps the file list only when asked', () => {
    const text = JSON.stringify({
      numPassedTests: 5,
      numFailedTests: 1,
      numPendingTests: 2,
      numTodoTests: 0,
      testResults: [
        { name: '/r/test/a.test.ts', status: 'passed', assertionResults: [{}, {}] },
        { name: '/r/test/b.test.ts', status: 'failed', assertionResults: [] },
      ],
    });
    expect(parseTestCounts(text, '/r', 't.json', false)).toEqual({ files: 2, passed: 5, failed: 2, skipped: 2 });
    expect(parseTestCounts(text, '/r', 't.json', true).testFiles).toEqual(['test/a.test.ts', 'test/b.test.ts']);
  });

  it('rounds percentages down, so 100.0 means every item covered', () => {
    expect(pct({ covered: 9999, total: 10000 })).toBe('99.9');
    expect(pct({ covered: 3, total: 3 })).toBe('100.0');
    expect(pct({ covered: 0, total: 0 })).toBe('n/a');
    expect(pct(undefined)).toBe('—');
    expect(drop({ covered: 9, total: 10 }, { covered: 8, total: 10 })).toBeCloseTo(10, 10);
    expect(drop(undefined, { covered: 8, total: 10 })).toBeUndefined();
  });
});

describe('bench/coverage: which files moved', () => {
  it('counts only code of src/, attacks/ and defenses/ (not tests, declarations or the AssemblyScript kernels)', () => {
    expect(isCoveredSource('src/core/attack.ts')).toBe(true);
    expect(isCoveredSource('defenses/vtune/generators/keyed.ts')).toBe(true);
    expect(isCoveredSource('src/x.test.ts')).toBe(false);
    expect(isCoveredSource('test/core/madge.d.ts')).toBe(false);
    expect(isCoveredSource('src/engine/assembly/gemm.ts')).toBe(false);
    expect(isCoveredSource('scenarios/leaderboard.ts')).toBe(false);
  });

  it('ignores short lines, comments and imports, and whitespace inside a line', () => {
    const s = signatureLines(`import { a } from './a.js';\n// a comment that is long enough\nconst x = 1;\n  export function  long(name: string) {\n`);
    expect([...s]).toEqual(['exportfunctionlong(name:string){']);
  });

  // A fake history (a test double for `git show`): old.ts loses two functions, new.ts gains them; lone.ts shares one line only.
  const files: Record<string, string> = {
    [`${BEFORE}:src/old.ts`]: 'export function keep(aaaa: number) {\nexport function movedOne(x: number) {\nexport function movedTwo(y: string) {\n',
    [`${AFTER}:src/old.ts`]: 'export function keep(aaaa: number) {\n',
    [`${AFTER}:src/new.ts`]: 'export function movedOne(x: number) {\nexport function movedTwo(y: string) {\nexport function fresh(z: boolean) {\n',
    [`${AFTER}:src/lone.ts`]: 'export function movedOne(x: number) {\nconst q = brandNewThingThatIsLong();\n',
    [`${BEFORE}:src/gone.ts`]: 'export function removed(p: number[]) {\n',
    [`${BEFORE}:src/edited.ts`]: 'export function edited(p: number[]) {\n',
    [`${AFTER}:src/edited.ts`]: 'export function edited(p: readonly number[]) {\n',
  };
  const show = (commit: string, path: string) => files[`${commit}:${path}`] ?? '';
  const entries = [
    { status: 'M', path: 'src/old.ts' },
    { status: 'A', path: 'src/new.ts' },
    { status: 'A', path: 'src/lone.ts' },
    { status: 'D', path: 'src/gone.ts' },
    { status: 'M', path: 'src/edited.ts' },
    { status: 'A', path: 'test/new.test.ts' },
  ];

  it('an added file holding lines another file lost is moved from it, and that file is split', () => {
    const moves = findOrigins(entries, show);
    expect(moves).toEqual([
      { status: 'changed', file: 'src/edited.ts', origins: [] },
      { status: 'deleted', file: 'src/gone.ts', origins: [] },
      { status: 'created', file: 'src/lone.ts', origins: [] },
      { status: 'moved', file: 'src/new.ts', origins: [{ file: 'src/old.ts', lines: 2 }] },
      { status: 'split', file: 'src/old.ts', origins: [] },
    ]);
    // With the threshold at one shared line, lone.ts is moved from old.ts too.
    const loose = findOrigins(entries, show, { minLines: 1, minShare: 0 });
    expect(loose.find((m) => m.file === 'src/lone.ts')).toEqual({ status: 'moved', file: 'src/lone.ts', origins: [{ file: 'src/old.ts', lines: 1 }] });
  });

  const inputs = (): Inputs => ({
    before: { total: cov([30, 40], [5, 10], [3, 4]), 'src/old.ts': cov([18, 20], [4, 5], [3, 3]), 'src/edited.ts': cov([5, 5]), 'src/gone.ts': cov([7, 15]) },
    after: { total: cov([31, 41], [6, 10], [3, 4]), 'src/old.ts': cov([3, 4], [1, 2], [1, 2]), 'src/new.ts': cov([10, 16], [4, 5], [2, 3]), 'src/edited.ts': cov([3, 5]), 'src/lone.ts': cov([2, 2]) },
    beforeTests: { files: 2, passed: 10, failed: 0, skipped: 0 },
    afterTests: { files: 3, passed: 12, failed: 1, skipped: 0 },
    moves: findOrigins(entries, show),
    movesFrom: 'git',
  });

  it("a moved file's before is its origins' counts; a drop is marked and listed", () => {
    const r = rows(inputs());
    const moved = r.find((x) => x.move.file === 'src/new.ts')!;
    expect(moved.lines).toEqual({ before: { covered: 18, total: 20 }, after: { covered: 10, total: 16 } });
    expect(moved.dropped).toEqual(['lines', 'functions']);
    expect(r.find((x) => x.move.file === 'src/lone.ts')!.dropped).toEqual([]);
    const md = renderReadme(inputs());
    expect(md).toContain('| src/new.ts | moved | src/old.ts (2) | 90.0 (18/20) → 62.5 (10/16) **▼** | 80.0 (4/5) → 80.0 (4/5) | 100.0 (3/3) → 66.6 (2/3) **▼** |');
    expect(md).toContain('| src/lone.ts | created |  | — → 100.0 (2/2) |');
    expect(md).toContain('| tests | 10 passed, 0 failed (2 files) | 12 passed, 1 failed (3 files) |');
    expect(md).toContain('2 of 4 rows dropped in some metric: src/new.ts (lines, functions); src/old.ts (lines, branches, functions).');
    // edited in place: listed only in the second table, because it dropped.
    expect(md).toContain('| src/edited.ts | 100.0 (5/5) → 60.0 (3/5) **▼** |');
    expect(md).not.toContain('Re-measured');
  });

  it('the subset re-measurement shows the dropped files with three figures', () => {
    const inp = inputs();
    inp.remeasure = { summary: { total: cov([1, 1]), 'src/new.ts': cov([16, 16], [5, 5], [3, 3]) }, tests: { files: 1, passed: 4, failed: 0, skipped: 0, testFiles: ['test/new.test.ts'] } };
    const md = renderReadme(inp);
    expect(md).toContain('run alone with coverage (4 passed, 0 failed: `test/new.test.ts`)');
    expect(md).toContain('| src/new.ts | 90.0 (18/20) → 62.5 (10/16) → 100.0 (16/16) |');
    // old.ts and edited.ts dropped but were not in the subset run: no row.
    expect(md).not.toMatch(/\| src\/edited\.ts \| 100\.0 \(5\/5\) → 60\.0 \(3\/5\) → /);
  });
});

describe('bench/coverage: adding runs up', () => {
  // Two runs of one file: a statement on line 1 and two on line 2, one function, one two-way branch.
  const run = (s: number[], f: number, b: number[]) => ({
    'src/a.ts': {
      statementMap: {
        '0': { start: { line: 1, column: 0 }, end: { line: 1, column: 9 } },
        '1': { start: { line: 2, column: 0 }, end: { line: 2, column: 4 } },
        '2': { start: { line: 2, column: 5 }, end: { line: 2, column: 9 } },
      },
      s: { '0': s[0]!, '1': s[1]!, '2': s[2]! },
      fnMap: { '0': { loc: { start: { line: 1, column: 0 } } } },
      f: { '0': f },
      branchMap: { '0': { loc: { start: { line: 2, column: 0 } }, locations: [{ line: 2 }, { line: 2, x: 1 }] } },
      b: { '0': b },
    },
  });

  it('a line is covered when a statement starting on it ran; branches count each way', () => {
    expect(summarizeFinal(run([0, 0, 3], 0, [2, 0])['src/a.ts'])).toEqual({
      lines: { total: 2, covered: 1 },
      statements: { total: 3, covered: 1 },
      functions: { total: 1, covered: 0 },
      branches: { total: 2, covered: 1 },
    });
  });

  it('the union of two runs adds their hits at the same locations, and the total sums the files', () => {
    const a = run([0, 0, 3], 0, [2, 0]);
    const b = run([1, 0, 0], 1, [0, 4]);
    const merged = mergeFinal([a, b]);
    expect(merged['src/a.ts']!.s).toEqual({ '0': 1, '1': 0, '2': 3 });
    expect(merged['src/a.ts']!.b).toEqual({ '0': [2, 4] });
    expect(a['src/a.ts'].s['0']).toBe(0); // the inputs are not changed
    const sum = mergedSummary([a, b]);
    expect(sum.total).toEqual({ lines: { total: 2, covered: 2 }, statements: { total: 3, covered: 2 }, functions: { total: 1, covered: 1 }, branches: { total: 2, covered: 2 } });
  });
});
