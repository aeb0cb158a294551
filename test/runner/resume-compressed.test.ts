/**
 * A committed part-done run (only `records.jsonl.gz` in its folder, as on a fresh clone) resumes from it: the
 * cells it recorded are not run again, and an existing `records.jsonl` is never replaced.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicGzip } from '../../src/records/store.js';
import { resumeFromCompressed } from '../../src/runner/run.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

describe('resuming a run from its committed records.jsonl.gz', () => {
  it('copies the compressed records into a new records.jsonl, and leaves an existing one alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtb-resume-gz-'));
    const lines = '{"kind":"manifest","n":1}\n{"kind":"trial","key":"a"}\n';
    writeFileSync(join(dir, 'records.jsonl.gz'), deterministicGzip(lines));
    const live = join(dir, 'records.jsonl');
    resumeFromCompressed(live, quiet);
    expect(readFileSync(live, 'utf8')).toBe(lines);
    writeFileSync(live, lines + '{"kind":"trial","key":"b"}\n');
    resumeFromCompressed(live, quiet);
    expect(readFileSync(live, 'utf8')).toContain('"key":"b"');
    const empty = mkdtempSync(join(tmpdir(), 'vtb-resume-gz-'));
    resumeFromCompressed(join(empty, 'records.jsonl'), quiet);
    expect(existsSync(join(empty, 'records.jsonl'))).toBe(false);
  });
});
