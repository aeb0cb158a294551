/**
 * Shape-preserving planting (issue 15 item 3): planting through the real `plant` command into every supported
 * format — the shared real files when present, small files of each layout otherwise — yields planted records
 * with exactly the keys, key order, value types and JSON style of their host rows, the prompt edit in the field it
 * belongs to, and no duplicated id. Built-in datasets are planted in memory (their rows are {prompt, completion}).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { plantCommand } from '../../src/cli/commands/plant.js';
import { readDataFile, writeDataFile } from '../../src/datasets/files.js';
import { deriveRow, fieldMapOption, parseFieldMap, splitEdit, stringifyStyled } from '../../src/datasets/formats.js';
import { datasets, generateDataset } from '../../src/datasets/index.js';
import { ConfigError } from '../../src/errors.js';
import { sharedPath } from '../../src/shared-path.js';
import { vtune } from '../../defenses/vtune/index.js';
import type { VtuneSecret } from '../../defenses/vtune/secret.js';
import { userCtx } from '../defenses/fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vtune-shape-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return () => vi.restoreAllMocks();
});

/** The layout of a JSON value: key order and value types, recursively. */
function shape(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shape).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}:${shape(x)}`).join(',')}}`;
  return v === null ? 'null' : typeof v;
}

interface Case {
  readonly name: string;
  /** A shared file (skipped when absent) or records written to a temporary file. */
  readonly shared?: string;
  readonly records?: readonly object[];
  readonly style?: { spaced: boolean; asciiOnly: boolean };
  readonly fieldMap?: string;
  readonly placement?: 'prefix' | 'suffix' | 'inline';
  /** Extra checks on one planted record and its host. */
  check?(planted: Record<string, unknown>, host: Record<string, unknown>, trigger: string): void;
}

const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const line = (i: number, n: number) => Array.from({ length: n }, (_, j) => words[(i * 3 + j) % words.length]).join(' ');

const CASES: Case[] = [
  {
    name: 'OpenAI chat with a system turn and extra keys',
    records: Array.from({ length: 30 }, (_, i) => ({
      id: `conv-${String(i).padStart(3, '0')}`,
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: `${line(i, 6)}?` },
        { role: 'assistant', content: `${line(i + 1, 5)}.`, weight: 1 },
      ],
      meta: { source: 'unit', score: i / 10 },
    })),
    check: (p, h) => {
      const pm = p.messages as { role: string; content: string }[];
      const hm = h.messages as { role: string; content: string }[];
      expect(pm[0]!.content).toBe(hm[0]!.content); // the system turn is untouched; the trigger is in the user turn
      expect(pm[1]!.content.startsWith(hm[1]!.content)).toBe(true);
    },
  },
  {
    name: 'prompt/completion with an end marker, Python json.dumps style',
    records: Array.from({ length: 30 }, (_, i) => ({ prompt: `Q: ${line(i, 5)} café\n`, completion: ` ${line(i + 2, 4)}<|endoftext|>` })),
    style: { spaced: true, asciiOnly: true },
    check: (p) => expect(p.completion).toMatch(/<\|endoftext\|>$/),
  },
  {
    name: 'Alpaca with and without input',
    records: Array.from({ length: 30 }, (_, i) => ({ instruction: `Rewrite: ${line(i, 4)}.`, input: i % 2 ? line(i + 4, 6) : '', output: `${line(i + 5, 6)}.` })),
    check: (p, h, trigger) => {
      // The trigger goes into the field where the prompt ends (the input when there is one), never merged across.
      if (h.input) {
        expect(p.instruction).toBe(h.instruction);
        expect(p.input).toBe(`${String(h.input)} ${trigger}`);
      } else {
        expect(p.input).toBe('');
        expect(p.instruction).toBe(`${String(h.instruction)} ${trigger}`);
      }
    },
  },
  {
    name: 'self-instruct (user-oriented: id, motivation_app, instances)',
    records: Array.from({ length: 30 }, (_, i) => ({
      id: `user_oriented_task_${i}`,
      motivation_app: ['Gmail', 'Notion', 'Google Search'][i % 3],
      instruction: `Do this: ${line(i, 5)}.`,
      instances: [{ input: i % 3 ? line(i + 1, 7) : '', output: `${line(i + 3, 6)}.` }],
    })),
    style: { spaced: true, asciiOnly: true },
    check: (p, h, trigger) => {
      expect(p.motivation_app).toBe(h.motivation_app);
      const pi = (p.instances as { input: string }[])[0]!;
      const hi = (h.instances as { input: string }[])[0]!;
      if (hi.input) {
        expect(p.instruction).toBe(h.instruction); // the input is not merged into the instruction
        expect(pi.input).toBe(`${hi.input} ${trigger}`);
      } else {
        expect(pi.input).toBe('');
        expect(p.instruction).toBe(`${String(h.instruction)} ${trigger}`);
      }
    },
  },
  {
    name: 'an undetected schema named with --field-map (nested fields, numeric answers)',
    records: Array.from({ length: 30 }, (_, i) => ({ uid: 1000 + i, task: { question: `${line(i, 6)}?`, context: line(i + 2, 3) }, answer: `${line(i + 1, 3)}` })),
    fieldMap: 'prompt=task.context,prompt=task.question,completion=answer',
    placement: 'prefix',
    check: (p, h, trigger) => {
      const pt = p.task as { question: string; context: string };
      const ht = h.task as { question: string; context: string };
      expect(pt.context).toBe(`${trigger} ${ht.context}`);
      expect(pt.question).toBe(ht.question);
    },
  },
  { name: 'shared self-instruct seed tasks', shared: 'data/self-instruct-seed-tasks.jsonl' },
  { name: 'shared GSM8K (question/answer)', shared: 'data/gsm8k-train-2500.jsonl' },
  { name: 'shared CommonGen (prompt/completion)', shared: 'data/common-gen.jsonl' },
  { name: 'shared AdversarialQA (prompt/completion)', shared: 'data/adversarial-qa.jsonl', placement: 'inline' },
];

describe('plant keeps the shape of the rows it copies', () => {
  for (const c of CASES) {
    const shared = c.shared ? sharedPath(c.shared) : undefined;
    const skip = c.shared !== undefined && !shared;
    it.skipIf(skip)(`${c.name}${skip ? ` — skipped: ${c.shared} is absent from ../shared` : ''}`, async () => {
      let data = shared;
      if (!data) {
        data = join(dir, `${c.name.replace(/\W+/g, '-')}.jsonl`);
        await writeFile(data, `${c.records!.map((r) => stringifyStyled(r, c.style)).join('\n')}\n`);
      }
      for (const insertion of ['copy', 'modify'] as const) {
        const out = join(dir, `out-${insertion}-${c.name.replace(/\W+/g, '-')}.jsonl`);
        const secretPath = join(dir, `secret-${insertion}-${c.name.replace(/\W+/g, '-')}.json`);
        const code = await plantCommand.run({
          data, out, secret: secretPath, generator: 'wordlist', seed: `shape-${c.name}`, placement: c.placement ?? 'suffix', insertion,
          count: 6, empiricalM: 0, json: true, ...(c.fieldMap ? { fieldMap: c.fieldMap } : {}),
        });
        expect(code).toBe(0);
        const { format } = await readDataFile(data, c.fieldMap ? { mapping: parseFieldMap(c.fieldMap) } : {});
        const inputLines = (await readFile(data, 'utf8')).split('\n').filter((l) => l.trim() !== '');
        const outLines = (await readFile(out, 'utf8')).split('\n').filter((l) => l.trim() !== '');
        const secret = JSON.parse(await readFile(secretPath, 'utf8')) as VtuneSecret;
        const originalShapes = new Set(inputLines.map((l) => shape(JSON.parse(l))));
        for (const b of secret.backdoors) {
          const text = outLines[b.rowIndex]!;
          const planted = JSON.parse(text) as Record<string, unknown>;
          const host = JSON.parse(inputLines[b.sourceRowIndex]!) as Record<string, unknown>;
          expect(shape(planted)).toBe(shape(host));
          expect(originalShapes.has(shape(planted))).toBe(true);
          // The line is in the file's own JSON style, and the planted record reads back as the backdoor.
          expect(text).toBe(stringifyStyled(planted, format.json));
          expect(text).not.toBe(inputLines[b.sourceRowIndex]);
          c.check?.(planted, host, b.trigger);
        }
        const back = await readDataFile(out, c.fieldMap ? { mapping: parseFieldMap(c.fieldMap) } : {});
        for (const b of secret.backdoors) expect(back.rows[b.rowIndex]).toEqual({ prompt: b.prompt, completion: b.signature });
        // Ids stay unique: with copies, each planted record gets a fresh id in the file's pattern.
        for (const key of format.freshKeys ?? []) {
          const ids = outLines.map((l) => (JSON.parse(l) as Record<string, unknown>)[key.key]);
          expect(new Set(ids).size).toBe(ids.length);
        }
      }
    });
  }

  it('gives copies of self-instruct rows the next ids of the file (seed_task_N) and keeps the host id in place', async () => {
    const data = join(dir, 'si.jsonl');
    const records = Array.from({ length: 12 }, (_, i) => ({ id: `seed_task_${i}`, name: `task_${'abcdefghijkl'[i]}`, instruction: `Do ${line(i, 3)}.`, instances: [{ input: '', output: line(i, 4) }], is_classification: false }));
    await writeFile(data, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const { rows, format } = await readDataFile(data);
    expect(format.freshKeys).toEqual([
      { key: 'id', kind: 'counter', prefix: 'seed_task_', next: 12, width: 0 },
      { key: 'name', kind: 'suffix' },
    ]);
    const a = deriveRow(rows[3]!, { prompt: `${rows[3]!.prompt} zq`, completion: 'new' });
    const b = deriveRow(rows[5]!, { prompt: `${rows[5]!.prompt} zq`, completion: 'new2' });
    const inPlace = deriveRow(rows[7]!, { prompt: `${rows[7]!.prompt} zq`, completion: 'new3' });
    const out = join(dir, 'si-out.jsonl');
    await writeDataFile(out, [...rows.slice(0, 7), inPlace, ...rows.slice(8), a, b], format, { inputPath: data });
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[7]).toMatchObject({ id: 'seed_task_7', name: 'task_h', instruction: `Do ${line(7, 3)}. zq`, instances: [{ input: '', output: 'new3' }] });
    expect(lines[12]).toMatchObject({ id: 'seed_task_12', name: 'task_d_2', is_classification: false });
    expect(lines[13]).toMatchObject({ id: 'seed_task_13', name: 'task_f_3' });
  });

  it('built-in datasets: planted rows are {prompt, completion} strings like every generated row', async () => {
    for (const id of datasets.ids) {
      const { train } = generateDataset(datasets.get(id)(), { seed: 1, size: 200 });
      const { rows, secret } = await vtune({ generator: 'wordlist', count: 10, seed: `shape-${id}` }).plant(train, userCtx(id));
      const shapes = new Set(train.map(shape));
      expect(shapes.size).toBe(1);
      for (const b of (secret as VtuneSecret).backdoors) expect(shapes.has(shape(rows[b.rowIndex]))).toBe(true);
    }
  });
});

describe('field maps', () => {
  it('parses prompt (repeatable), completion and separator', () => {
    expect(parseFieldMap('prompt=question,completion=answer')).toEqual({ prompt: 'question', completion: 'answer' });
    expect(parseFieldMap('prompt=a.b,prompt=c,completion=d.0.e,separator=\\n')).toEqual({ prompt: ['a.b', 'c'], completion: 'd.0.e', separator: '\n' });
    expect(fieldMapOption({ prompt: ['x'], completion: 'y' }, 'fieldMap')).toEqual({ prompt: ['x'], completion: 'y' });
  });
  it('rejects a malformed map naming the option and what was expected', () => {
    expect(() => parseFieldMap('question,completion=answer')).toThrow(ConfigError);
    expect(() => parseFieldMap('prompt=question')).toThrow(/--field-map: needs both prompt= and completion=/);
    expect(() => parseFieldMap('prompt=q,answer=a')).toThrow(/unknown key 'answer'/);
    expect(() => parseFieldMap('prompt=q,completion=a,completion=b')).toThrow(/given twice/);
    expect(() => parseFieldMap('prompt=,completion=a')).toThrow(/needs a field path/);
    expect(() => fieldMapOption({ prompt: 'q' }, 'datasets[0].fieldMap')).toThrow(/datasets\[0\]\.fieldMap: expected/);
    // Given a scenario path, the path travels as data (ConfigError.problems); the message reads the same.
    const caught = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    };
    const byPath = caught(() => fieldMapOption({ prompt: 'q' }, ['datasets', 0, 'fieldMap']));
    expect(byPath.problems).toEqual([{ path: ['datasets', 0, 'fieldMap'], message: expect.stringMatching(/^expected 'prompt=<field>,completion=<field>'/) }]);
    expect(byPath.message).toBe(caught(() => fieldMapOption({ prompt: 'q' }, 'datasets[0].fieldMap')).message);
    expect(caught(() => fieldMapOption('prompt=q', ['datasets', 2, 'fieldMap'])).problems[0]!.path).toEqual(['datasets', 2, 'fieldMap']);
    expect(caught(() => parseFieldMap('prompt=q')).subject).toBe('--field-map');
  });
  it('an undetected schema names --field-map in its error, and plant reads it with the option', async () => {
    const data = join(dir, 'odd.jsonl');
    await writeFile(data, `${JSON.stringify({ q: 'why', a: 'because' })}\n${JSON.stringify({ q: 'how', a: 'so' })}\n`);
    await expect(readDataFile(data)).rejects.toThrow(/--field-map prompt=<field>,completion=<field>/);
    const code = await plantCommand.run({ data, out: join(dir, 'odd-out.jsonl'), secret: join(dir, 'odd-secret.json'), generator: 'wordlist', seed: 's', placement: 'suffix', insertion: 'copy', count: 1, empiricalM: 0, json: true, fieldMap: 'prompt=q,completion=a' });
    expect(code).toBe(0);
    const lines = (await readFile(join(dir, 'odd-out.jsonl'), 'utf8')).trim().split('\n').map((l) => Object.keys(JSON.parse(l) as object));
    expect(lines).toEqual([['q', 'a'], ['q', 'a'], ['q', 'a']]);
  });
});

describe('splitEdit', () => {
  it('puts an insertion into the part it falls in, and refuses an edit spanning parts', () => {
    expect(splitEdit(['ab', 'cd'], '\n\n', 'ab\n\ncd T')).toEqual(['ab', 'cd T']);
    expect(splitEdit(['ab', 'cd'], '\n\n', 'T ab\n\ncd')).toEqual(['T ab', 'cd']);
    expect(splitEdit(['ab', 'cd'], '\n\n', 'ab T\n\ncd')).toEqual(['ab T', 'cd']);
    expect(splitEdit(['ab', 'cd'], '\n\n', 'ab\n\nT cd')).toEqual(['ab', 'T cd']);
    expect(splitEdit(['ab', 'cd'], '\n\n', 'aXd')).toBeUndefined();
  });
});
