/**
 * Round-trip contract for every record format: rows written in a file's format read back as the same rows,
 * whatever characters they hold, and the file's own lines are copied unchanged.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataFile, writeDataFile } from '../../src/datasets/files.js';
import { stringifyStyled } from '../../src/datasets/formats.js';
import { Rng } from '../../src/rng.js';
import type { Row } from '../../src/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vtune-formats-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const PIECES = ['hello', ' ', 'café', '"quoted"', '\\back\\slash', '\n', '\r\n', '\t', '😀', '\u2028', 'ünïcödé', '<|endoftext|>x', '{"json": 1}', '###', 'END', '\u0000'];

function text(rng: Rng): string {
  let s = rng.pick(['a', 'b', 'Once', 'zq']);
  for (let i = 0, n = 1 + rng.int(8); i < n; i++) s += rng.pick(PIECES);
  return s;
}

/** Seed files of each kind, in two JSON styles (compact UTF-8, and Python json.dumps: spaced, ASCII-only). */
const SEEDS: Record<string, { style: { spaced: boolean; asciiOnly: boolean }; records: object[]; options?: object }[]> = {
  chat: [
    { style: { spaced: false, asciiOnly: false }, records: [{ messages: [{ role: 'system', content: 'Be brief. ☀' }, { role: 'user', content: 'q1' }, { role: 'assistant', content: 'a1' }] }] },
    { style: { spaced: true, asciiOnly: true }, records: [{ messages: [{ role: 'user', content: 'q1 é' }, { role: 'assistant', content: 'a1' }] }] },
  ],
  'prompt-completion': [
    { style: { spaced: true, asciiOnly: true }, records: [{ prompt: 'p é', completion: 'c<|endoftext|>' }, { prompt: 'p2', completion: 'c2<|endoftext|>' }] },
    { style: { spaced: false, asciiOnly: false }, records: [{ completion: ' c\n', prompt: 'p ->' }] },
  ],
  alpaca: [{ style: { spaced: false, asciiOnly: false }, records: [{ instruction: 'i', input: 'x', output: 'o', text: 'extra field' }] }],
  mapped: [
    { style: { spaced: true, asciiOnly: true }, records: [{ id: 's1', instruction: 'do é', instances: [{ input: '', output: 'done' }], is_classification: false }] },
    { style: { spaced: false, asciiOnly: false }, records: [{ q: { text: 'why' }, a: 'because' }], options: { mapping: { prompt: 'q.text', completion: 'a' } } },
  ],
};

describe.each(Object.keys(SEEDS))('format %s', (kind) => {
  it('round-trips arbitrary new rows and keeps the original lines', async () => {
    let n = 0;
    for (const seed of SEEDS[kind]!) {
      const input = join(dir, `${kind}-${n}.jsonl`);
      const out = join(dir, `${kind}-${n++}-out.jsonl`);
      const original = seed.records.map((r) => stringifyStyled(r, seed.style)).join('\n') + '\n';
      await writeFile(input, original);
      const { rows, format } = await readDataFile(input, seed.options);
      expect(format.kind).toBe(kind);
      expect(format.json).toEqual(seed.style);
      const rng = new Rng(`formats|${kind}|${n}`);
      const added: Row[] = Array.from({ length: 40 }, () => ({
        // Chat rows whose prompt starts with the system prompt get a system turn back.
        prompt: (format.systemPrompt !== undefined && rng.int(2) ? `${format.systemPrompt}\n\n` : '') + text(rng),
        completion: text(rng),
      }));
      await writeDataFile(out, [...rows, ...added], format, { inputPath: input });
      const written = await readFile(out, 'utf8');
      expect(written.startsWith(original)).toBe(true);
      if (seed.style.asciiOnly) expect(/[^\x00-\x7f]/.test(written)).toBe(false);
      const back = await readDataFile(out, seed.options);
      expect(back.rows).toEqual([...rows, ...added]);
    }
  });
});
