import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { RECORD_SCHEMA_VERSION, type ManifestRecord, type RunRecord } from '../../src/records/schema.js';
import { gunzipSync } from 'node:zlib';
import { deterministicGzip, findRecordsFiles, latestByCell, readRecordsFile, RecordWriter, writeCompressedRecords } from '../../src/records/store.js';
import { repoRoot } from '../../src/shared-path.js';
import { trial } from '../report/helpers.js';

const manifest = { kind: 'manifest', schemaVersion: RECORD_SCHEMA_VERSION, runId: 'r', scenario: { name: 's', hash: 'h', definition: {} }, seeds: [0], cellCount: 2, packageVersions: {}, machine: { platform: 'linux', arch: 'x64', cpuModel: 'x', cpuCount: 2, memoryBytes: 1, node: 'v20' }, startedAt: '2026-01-01T00:00:00.000Z' } satisfies ManifestRecord;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vtune-rec-'));

describe('records files', () => {
  it('appends one line per record and reads them back', () => {
    const p = join(tmp(), 'run', 'records.jsonl');
    const w = RecordWriter.open(p);
    w.append(manifest);
    w.append(trial({ key: 'a', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }));
    w.close();
    expect(() => w.append(manifest)).toThrow(/closed/);
    const r = readRecordsFile(p);
    expect(r.records.map((x) => x.kind)).toEqual(['manifest', 'trial']);
    expect(r.manifest?.runId).toBe('r');
    expect(readFileSync(p, 'utf8').endsWith('\n')).toBe(true);
  });

  it('tolerates a torn last line and cuts it before the next append', () => {
    const p = join(tmp(), 'records.jsonl');
    const good = `${JSON.stringify(manifest)}\n`;
    writeFileSync(p, `${good}{"kind":"trial","cellK`);
    expect(readRecordsFile(p)).toMatchObject({ tornBytes: 22, validBytes: Buffer.byteLength(good) });
    const w = RecordWriter.open(p);
    w.append(trial({ key: 'b', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }));
    w.close();
    const r = readRecordsFile(p);
    expect(r.tornBytes).toBe(0);
    expect(r.records.map((x) => (x.kind === 'trial' ? x.cellKey : x.kind))).toEqual(['manifest', 'b']);
  });

  it('names file and line of a malformed record in the middle, and refuses unknown kinds and newer schemas', () => {
    const p = join(tmp(), 'records.jsonl');
    writeFileSync(p, `${JSON.stringify(manifest)}\nnot json\n{"kind":"trial","cellKey":"x"}\n`);
    expect(() => readRecordsFile(p)).toThrow(InputError);
    expect(() => readRecordsFile(p)).toThrow(`${p}:2: malformed record`);
    writeFileSync(p, `${JSON.stringify(manifest)}\n{"kind":"bogus"}\n`);
    expect(() => readRecordsFile(p)).toThrow(/:2: unknown record kind "bogus"/);
    writeFileSync(p, `${JSON.stringify({ ...manifest, schemaVersion: RECORD_SCHEMA_VERSION + 1 })}\n`);
    expect(() => readRecordsFile(p)).toThrow(/newer than this vtune-bench reads/);
    writeFileSync(p, '{"kind":"trial","cellKey":"x"}\n');
    expect(() => readRecordsFile(p)).toThrow(/first record must be the manifest/);
  });

  it('a trial supersedes failures of its cell; results come sorted by cell key', () => {
    const fail = (key: string): RunRecord => ({ kind: 'failure', cellKey: key, cell: trial({ key, attack: 'honest', goal: 'baseline', verified: false, log10p: 0, defenseWon: false }).cell, stage: 'train', errorCode: 'engine', message: 'NaN loss', durationMs: 1 });
    const t = (key: string) => trial({ key, attack: 'honest', goal: 'baseline', verified: true, log10p: -5, defenseWon: true });
    const { trials, failures } = latestByCell([manifest, fail('c'), t('b'), fail('a'), t('c'), t('b')]);
    expect(trials.map((x) => x.cellKey)).toEqual(['b', 'c']);
    expect(failures.map((x) => x.cellKey)).toEqual(['a']);
  });

  it('finds records files in a folder tree', () => {
    const root = tmp();
    for (const d of ['s/run-shard-1of2', 's/run-shard-2of2']) {
      const w = RecordWriter.open(join(root, d, 'records.jsonl'));
      w.append(manifest);
      w.close();
    }
    expect(findRecordsFiles(root).map((f) => f.slice(root.length))).toEqual(['/s/run-shard-1of2/records.jsonl', '/s/run-shard-2of2/records.jsonl']);
    expect(() => findRecordsFiles(join(root, 'nope'))).toThrow(/no such file or folder/);
  });

  it('opens the records file with O_APPEND, so a line always lands at the end of the file, never over another writer', () => {
    const p = join(tmp(), 'records.jsonl');
    const w = RecordWriter.open(p);
    // The kernel's view of the writer's descriptor (Linux): its open flags include O_APPEND (octal 02000).
    const fd = readdirSync('/proc/self/fd').find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`) === p;
      } catch {
        return false;
      }
    });
    expect(fd, 'the writer holds the file open').toBeDefined();
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
    expect(flags & 0o2000).toBe(0o2000);
    // Two writers on one file: every line intact, none overwritten.
    const v = RecordWriter.open(p);
    w.append(manifest);
    v.append(trial({ key: 'v1', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }));
    w.append(trial({ key: 'w1', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }));
    w.close();
    v.close();
    expect(readRecordsFile(p).records.map((x) => (x.kind === 'trial' ? x.cellKey : x.kind))).toEqual(['manifest', 'v1', 'w1']);
  });

  it('reads a records file that an editor saved with a UTF-8 byte order mark', () => {
    const p = join(tmp(), 'records.jsonl');
    writeFileSync(p, `\ufeff${JSON.stringify(manifest)}\n${JSON.stringify(trial({ key: 'a', attack: 'honest', goal: 'baseline', verified: true, log10p: -9, defenseWon: true }))}\n`);
    const r = readRecordsFile(p);
    expect(r.manifest?.runId).toBe('r');
    expect(r.records).toHaveLength(2);
  });
});

describe('compressed records (records.jsonl.gz)', () => {
  const t = (key: string) => trial({ key, attack: 'honest', goal: 'baseline', verified: true, log10p: -5, defenseWon: true });

  it('reads a .gz records file exactly as the .jsonl it compresses', () => {
    const dir = tmp();
    const w = RecordWriter.open(join(dir, 'a', 'records.jsonl'));
    for (const r of [manifest, t('x'), t('y')]) w.append(r);
    w.close();
    writeCompressedRecords(join(dir, 'b', 'records.jsonl.gz'), [manifest, t('x'), t('y')]);
    const plain = readRecordsFile(join(dir, 'a', 'records.jsonl'));
    const packed = readRecordsFile(join(dir, 'b', 'records.jsonl.gz'));
    expect(packed.records).toEqual(plain.records);
    expect(gunzipSync(readFileSync(join(dir, 'b', 'records.jsonl.gz'))).toString('utf8')).toBe(readFileSync(join(dir, 'a', 'records.jsonl'), 'utf8'));
  });

  it('writes the same bytes every time: gzip header mtime 0 and a fixed OS byte', () => {
    const a = deterministicGzip('{"kind":"manifest"}\n');
    const b = deterministicGzip(Buffer.from('{"kind":"manifest"}\n'));
    expect(a.equals(b)).toBe(true);
    expect([a[0], a[1]]).toEqual([0x1f, 0x8b]);
    expect(a.readUInt32LE(4)).toBe(0);
    expect(a[9]).toBe(3);
    const dir = tmp();
    writeCompressedRecords(join(dir, 'records.jsonl.gz'), [manifest, t('x')]);
    const first = readFileSync(join(dir, 'records.jsonl.gz'));
    writeCompressedRecords(join(dir, 'records.jsonl.gz'), [manifest, t('x')]);
    expect(readFileSync(join(dir, 'records.jsonl.gz')).equals(first)).toBe(true);
  });

  it('refuses a damaged gzip naming the file, and never writes compressed records over a .jsonl', () => {
    const dir = tmp();
    const p = join(dir, 'records.jsonl.gz');
    writeFileSync(p, deterministicGzip(`${JSON.stringify(manifest)}\n`).subarray(0, 12));
    expect(() => readRecordsFile(p)).toThrow(InputError);
    expect(() => readRecordsFile(p)).toThrow(`${p}: not a readable gzip file`);
    expect(() => writeCompressedRecords(join(dir, 'records.jsonl'), [manifest])).toThrow(/\.gz file name/);
  });

  it('finds .jsonl.gz files in a tree, and reads the live records.jsonl instead where a folder holds both', () => {
    const root = tmp();
    writeCompressedRecords(join(root, 'published', 'records.jsonl.gz'), [manifest]);
    writeCompressedRecords(join(root, 'live', 'records.jsonl.gz'), [manifest]);
    const w = RecordWriter.open(join(root, 'live', 'records.jsonl'));
    w.append(manifest);
    w.close();
    expect(findRecordsFiles(root).map((f) => f.slice(root.length))).toEqual(['/live/records.jsonl', '/published/records.jsonl.gz']);
  });
});

describe('.gitignore: published records are committed, live run folders are not', () => {
  const ignored = (path: string): boolean => spawnSync('git', ['check-ignore', '-q', path], { cwd: repoRoot }).status === 0;
  const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: repoRoot }).stdout?.toString().trim() === 'true';

  it.runIf(inGit)('results/{leaderboard,verifiers}/**/records.jsonl.gz and the pages are committable; live records and reports are ignored', () => {
    for (const page of ['leaderboard', 'verifiers']) {
      expect(ignored(`results/${page}/run-1/records.jsonl.gz`), page).toBe(false);
      expect(ignored(`results/${page}.md`), page).toBe(false);
      expect(ignored(`results/${page}-defense-wins.png`), page).toBe(false);
      expect(ignored(`results/${page}/run-1/records.jsonl`), page).toBe(true);
      expect(ignored(`results/${page}/run-1/report/report.md`), page).toBe(true);
    }
    expect(ignored('results/default/run-1/records.jsonl')).toBe(true);
  });
});
