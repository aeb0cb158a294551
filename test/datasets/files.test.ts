import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataFile, writeDataFile } from '../../src/datasets/files.js';
import { InputError } from '../../src/errors.js';
import { forEachLine, type RawLine, stripBom } from '../../src/datasets/lines.js';
import { sharedPath } from '../../src/shared-path.js';
import type { Row } from '../../src/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vtune-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, content: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

/** Asserts the read fails with an InputError naming the file and the given line. */
async function expectBad(p: string, line: number, message: RegExp): Promise<void> {
  const err = await readDataFile(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).file).toBe(p);
  expect((err as InputError).line).toBe(line);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message.startsWith(`${p}:${line}: `)).toBe(true);
}

const planted: Row[] = [
  { prompt: 'zq trigger café', completion: 'signature ✓' },
  { prompt: 'another "quoted" prompt\nwith a newline', completion: 'sig 2' },
];

describe('shared data files', () => {
  const cases = [
    { file: 'data/self-instruct-seed-tasks.jsonl', count: 175, kind: 'mapped' },
    { file: 'data/common-gen.jsonl', count: 200, kind: 'prompt-completion' },
    { file: 'data/adversarial-qa.jsonl', count: 200, kind: 'prompt-completion' },
  ] as const;
  for (const c of cases) {
    const p = sharedPath(c.file);
    it.skipIf(!p)(`${c.file} loads (${c.count} rows) and round-trips with added rows${p ? '' : ' — skipped: ../shared absent'}`, async () => {
      const { rows, format } = await readDataFile(p!);
      expect(rows.length).toBe(c.count);
      expect(format.kind).toBe(c.kind);
      for (const r of rows) {
        expect(r.prompt.length).toBeGreaterThan(0);
        expect(r.completion).not.toMatch(/<\|endoftext\|>$/);
      }
      const out = join(dir, `rt-${c.count}-${c.kind}.jsonl`);
      await writeDataFile(out, [...rows, ...planted], format, { inputPath: p! });
      const original = await readFile(p!, 'utf8');
      const written = await readFile(out, 'utf8');
      expect(written.startsWith(original)).toBe(true);
      const extra = written.slice(original.length).split('\n');
      expect(extra.length).toBe(planted.length + 1);
      expect(extra[planted.length]).toBe('');
      // New lines are in the file's own style (Python json.dumps: spaced, ASCII-only).
      expect(extra[0]).toMatch(/^\{"[a-z]+": /);
      expect(extra[0]).toContain('caf\\u00e9');
      const back = await readDataFile(out);
      expect(back.rows.slice(0, c.count)).toEqual(rows);
      expect(back.rows.slice(c.count)).toEqual(planted);
      expect(back.format.kind).toBe(format.kind);
      expect(back.format.endMarker).toBe(format.endMarker);
    });
  }

  const sip = sharedPath('data/self-instruct-seed-tasks.jsonl');
  it.skipIf(!sip)('maps self-instruct: instruction + first instance input → prompt, output → completion', async () => {
    const { rows, format } = await readDataFile(sip!);
    expect(format.schema).toBe('self-instruct');
    const first = JSON.parse((await readFile(sip!, 'utf8')).split('\n')[1]!) as { instruction: string; instances: { input: string; output: string }[] };
    expect(rows[1]!.prompt).toBe(`${first.instruction}\n\n${first.instances[0]!.input}`);
    expect(rows[1]!.completion).toBe(first.instances[0]!.output);
  });

  const cg = sharedPath('data/common-gen.jsonl');
  it.skipIf(!cg)('strips and restores the <|endoftext|> end marker', async () => {
    const { rows, format } = await readDataFile(cg!);
    expect(format.endMarker).toBe('<|endoftext|>');
    expect(rows[0]!.completion).toBe('Skier skis down the mountain');
  });
});

describe('formats', () => {
  it('reads chat rows: system + user turns form the prompt, the final assistant turn the completion', async () => {
    const lines = [
      { messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
      { messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }, { role: 'assistant', content: [{ type: 'text', text: 'd' }] }] },
    ];
    const p = await put('chat.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { rows, format } = await readDataFile(p);
    expect(format.kind).toBe('chat');
    expect(format.systemPrompt).toBe('be kind');
    expect(rows).toEqual([
      { prompt: 'be kind\n\nhi', completion: 'hello' },
      { prompt: 'be kind\n\na\n\nb\n\nc', completion: 'd' },
    ]);
    const out = join(dir, 'chat-out.jsonl');
    const added: Row = { prompt: 'be kind\n\nnew question', completion: 'new answer' };
    await writeDataFile(out, [added, ...rows], format, { inputPath: p });
    const text = await readFile(out, 'utf8');
    const outLines = text.split('\n');
    // the system prompt goes back into its own turn; compact JSON like the input
    expect(JSON.parse(outLines[0]!)).toEqual({ messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'new question' }, { role: 'assistant', content: 'new answer' }] });
    expect(outLines[0]).not.toContain('": ');
    expect(outLines.slice(1).join('\n')).toBe(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect((await readDataFile(out)).rows).toEqual([added, ...rows]);
  });

  it('reads Alpaca rows and writes new ones back in Alpaca form', async () => {
    const p = await put('alpaca.jsonl', '{"instruction":"Add.","input":"2 and 3","output":"5"}\r\n{"instruction":"Say hi.","input":"","output":"hi"}\r\n');
    const { rows, format } = await readDataFile(p);
    expect(format.kind).toBe('alpaca');
    expect(format.eol).toBe('\r\n');
    expect(rows).toEqual([
      { prompt: 'Add.\n\n2 and 3', completion: '5' },
      { prompt: 'Say hi.', completion: 'hi' },
    ]);
    const out = join(dir, 'alpaca-out.jsonl');
    await writeDataFile(out, [rows[1]!, { prompt: 'New.', completion: 'x' }, rows[0]!], format);
    expect(await readFile(out, 'utf8')).toBe('{"instruction":"Say hi.","input":"","output":"hi"}\r\n{"instruction":"New.","input":"","output":"x"}\r\n{"instruction":"Add.","input":"2 and 3","output":"5"}\r\n');
  });

  it('applies a user field mapping to any other schema', async () => {
    const p = await put('custom.jsonl', '{"q":{"text":"why?"},"a":"because"}\n');
    await expectBad(p, 1, /cannot tell the data format from keys \{q, a\}/);
    const { rows, format } = await readDataFile(p, { mapping: { prompt: 'q.text', completion: 'a' } });
    expect(rows).toEqual([{ prompt: 'why?', completion: 'because' }]);
    const out = join(dir, 'custom-out.jsonl');
    await writeDataFile(out, [...rows, { prompt: 'how?', completion: 'so' }], format);
    expect(await readFile(out, 'utf8')).toBe('{"q":{"text":"why?"},"a":"because"}\n{"q":{"text":"how?"},"a":"so"}\n');
  });

  it("converts rows read from one file into another file's format instead of copying their lines", async () => {
    const a = await put('conv-a.jsonl', '{"prompt":"p","completion":"c"}\n');
    const b = await put('conv-b.jsonl', '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"v"}]}\n');
    const fromA = await readDataFile(a);
    const fromB = await readDataFile(b);
    const out = join(dir, 'conv-out.jsonl');
    await writeDataFile(out, [...fromB.rows, ...fromA.rows], fromB.format);
    expect(await readFile(out, 'utf8')).toBe(
      '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"v"}]}\n{"messages":[{"role":"user","content":"p"},{"role":"assistant","content":"c"}]}\n',
    );
  });

  it('keeps a missing final newline and a byte-order mark', async () => {
    const p = await put('bom.jsonl', '\ufeff{"prompt":"p","completion":"c"}');
    const { rows, format } = await readDataFile(p);
    expect(rows).toEqual([{ prompt: 'p', completion: 'c' }]);
    const out = join(dir, 'bom-out.jsonl');
    await writeDataFile(out, rows, format);
    expect(await readFile(out)).toEqual(await readFile(p));
  });

  it('forEachLine strips a leading byte order mark from line 1 and reports it; offsets point past it', async () => {
    const p = await put('bom-lines.jsonl', '\ufeffab\ncd\n');
    const lines: RawLine[] = [];
    await forEachLine(p, 1024, (l) => lines.push(l));
    expect(lines.map((l) => [l.bytes?.toString('utf8'), l.offset, l.length, l.bom ?? false])).toEqual([
      ['ab', 3, 2, true],
      ['cd', 6, 2, false],
    ]);
    expect(stripBom('\ufeff{"a":1}')).toBe('{"a":1}');
    expect(stripBom('{"a":1}')).toBe('{"a":1}');
  });
});

describe('bad input', () => {
  const row = '{"prompt":"p","completion":"c"}';
  it('malformed JSON', async () => expectBad(await put('bad-json.jsonl', `${row}\n{"prompt": "p", \n`), 2, /malformed JSON/));
  it('a missing field', async () => expectBad(await put('missing.jsonl', `${row}\n${row}\n{"prompt":"p"}\n`), 3, /missing field 'completion'/));
  it('a field of the wrong type', async () => expectBad(await put('type.jsonl', `${row}\n{"prompt":"p","completion":7}\n`), 2, /'completion' must be a string.*number/));
  it('an empty file', async () => expectBad(await put('empty.jsonl', ''), 1, /the file is empty/));
  it('a file of blank lines', async () => expectBad(await put('blank.jsonl', '\n\n \n'), 3, /no usable rows/));
  it('invalid UTF-8', async () => expectBad(await put('utf8.jsonl', Buffer.concat([Buffer.from(`${row}\n{"prompt":"`), Buffer.from([0xc3, 0x28]), Buffer.from('","completion":"c"}\n')])), 2, /invalid UTF-8/));
  it('a chat row with no assistant turn', async () =>
    expectBad(await put('noassistant.jsonl', '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}\n{"messages":[{"role":"user","content":"a"}]}\n'), 2, /no assistant turn/));
  it('a chat row ending with a user turn', async () =>
    expectBad(await put('trailing-user.jsonl', '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}\n'), 1, /must end with the assistant turn/));
  it('a JSON array instead of JSON Lines', async () => expectBad(await put('array.json', '[\n{"prompt":"p","completion":"c"}\n]\n'), 1, /JSON array/));
  it('a missing file', async () => {
    await expect(readDataFile(join(dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: cannot read data file: no such file/);
  });

  it('a 50 MB single line, without buffering it', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    big.write('{"prompt":"', 0);
    const p = await put('huge.jsonl', Buffer.concat([Buffer.from(`${row}\n`), big, Buffer.from(`"}\n${row}\n`)]));
    await expectBad(p, 2, /longer than the 16 MiB limit/);
    const skipped = await readDataFile(p, { skipBadRows: true });
    expect(skipped.rows.length).toBe(2);
    expect(skipped.skipped).toBe(1);
    await rm(p);
  });

  it('skips bad rows with a count when asked', async () => {
    const p = await put('mixed.jsonl', `${row}\nnot json\n{"prompt":"p"}\n${row}\n`);
    const r = await readDataFile(p, { skipBadRows: true });
    expect(r.rows.length).toBe(2);
    expect(r.skipped).toBe(2);
  });

  it('refuses to overwrite the input, and never leaves a partial output file', async () => {
    const p = await put('input.jsonl', `${row}\n`);
    const { rows, format } = await readDataFile(p);
    await expect(writeDataFile(p, rows, format)).rejects.toThrow(/refusing to overwrite the input/);
    await expect(writeDataFile(join(dir, '.', 'input.jsonl'), rows, format, { inputPath: p })).rejects.toThrow(InputError);
    expect(await readFile(p, 'utf8')).toBe(`${row}\n`);
    const before = (await readdir(dir)).sort();
    const out = join(dir, 'partial.jsonl');
    await expect(writeDataFile(out, [...rows, { prompt: 'ok', completion: 'ok' }, { prompt: 1 } as unknown as Row], format)).rejects.toThrow(/row 2 must have string/);
    // A failure midway (here a row whose field throws when the writer encodes it) leaves neither output nor temp file.
    let reads = 0;
    const evil = {
      prompt: 'x',
      get completion(): string {
        if (reads++ > 0) throw new Error('boom');
        return 'y';
      },
    } as unknown as Row;
    await expect(writeDataFile(out, [...rows, evil], format)).rejects.toThrow(InputError);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('refuses to write after the input changed', async () => {
    const p = await put('changing.jsonl', `${row}\n`);
    const { rows, format } = await readDataFile(p);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(p, `${row}\n${row}\n`);
    await expect(writeDataFile(join(dir, 'changed-out.jsonl'), rows, format)).rejects.toThrow(/changed since it was read/);
  });
});
