import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelBytes } from '../../src/engine/load.js';
import { SpmTokenizer, TOKEN_TYPE, encodeNaive, type TokenizerData } from '../../src/engine/tokenizer.js';
import { EngineError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import { sharedPath } from '../../src/shared-path.js';

/** A hand-made vocabulary: specials, bytes, then pieces with chosen scores. */
function synthetic(pieces: readonly [string, number][]): TokenizerData {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  const scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.BYTE);
    scores.push(0);
  }
  for (const [p, s] of pieces) {
    tokens.push(p);
    types.push(TOKEN_TYPE.NORMAL);
    scores.push(s);
  }
  return { tokens, scores, types, bos: 1, eos: 2, unk: 0 };
}

const VARIED = [
  'Once upon a time',
  'Hello, World! 1234567890',
  'UPPER lower MiXeD',
  'emoji 😀🎉 and flags 🇫🇷',
  'line one\nline two\r\n\ttabbed',
  '  leading and trailing spaces  ',
  'multiple   inner    spaces',
  'ünïcödé — “quotes” … 中文 日本語 한국어',
  'e\u0301 combining accent',
  'x',
  ' ',
  '<s> </s> <unk> <0x41> look like special tokens',
  '',
];

describe('SpmTokenizer on a synthetic vocabulary', () => {
  const data = synthetic([['▁', -10], ['a', -11], ['b', -12], ['c', -13], ['ab', -1], ['bc', 0], ['▁a', -2], ['abc', -3], ['aa', -4]]);
  const tok = new SpmTokenizer(data);
  const ids = (...pieces: string[]) => pieces.map((p) => data.tokens.indexOf(p));

  it('merges the highest-scoring pair first', () => {
    // pairs ▁a (-2), ab (-1), bc (0): bc wins; then ▁a (-2) beats abc (-3), so abc never forms
    expect(tok.encode('abc')).toEqual(ids('▁a', 'bc'));
    // without the prefix: bc, then abc
    expect(tok.encode('abc', { prefixSpace: false })).toEqual(ids('abc'));
  });

  it('breaks ties leftmost, like llama2.c', () => {
    expect(tok.encode('aaa', { prefixSpace: false })).toEqual(ids('aa', 'a'));
  });

  it('falls back to UTF-8 byte tokens for unknown characters and never merges them', () => {
    expect(tok.encode('aé', { prefixSpace: false })).toEqual([...ids('a'), 3 + 0xc3, 3 + 0xa9]);
    expect(tok.decode(tok.encode('aé😀b'))).toBe('aé😀b');
  });

  it('prepends BOS on request and never appends EOS', () => {
    expect(tok.encode('ab', { bos: true })[0]).toBe(1);
    expect(tok.encode('ab').includes(2)).toBe(false);
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('', { bos: true })).toEqual([1]);
  });

  it('decode drops BOS/EOS and replaces invalid UTF-8 with U+FFFD', () => {
    expect(tok.decode([1, ...tok.encode('abc'), 2])).toBe('abc');
    expect(tok.decode([3 + 0xc3], { prefixSpace: false })).toBe('\uFFFD');
    expect(() => tok.decode([9999])).toThrow(EngineError);
  });

  it('matches the reference O(n²) merge loop on random strings', () => {
    const rng = new Rng('tok-synthetic');
    for (let i = 0; i < 200; i++) {
      const s = Array.from({ length: rng.int(20) }, () => rng.pick(['a', 'b', 'c', ' ', 'é', 'a', 'b'])).join('');
      expect(tok.encode(s), JSON.stringify(s)).toEqual(encodeNaive(data, s));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('validates its data', () => {
    expect(() => new SpmTokenizer({ ...data, scores: [1] })).toThrow(/tokens but 1 scores/);
    expect(() => new SpmTokenizer({ ...data, eos: 10_000 })).toThrow(/eos id 10000 is outside the vocabulary/);
  });
});

const storiesPath = sharedPath('models/stories260K.gguf');

describe.skipIf(!storiesPath)('SpmTokenizer with stories260K (needs ../shared/models/stories260K.gguf)', () => {
  const tok = storiesPath ? loadModelBytes(readFileSync(storiesPath)).tokenizer : undefined!;

  it('"Once upon a time" is four tokens', () => {
    const ids = tok.encode('Once upon a time');
    expect(ids.map((i) => tok.piece(i))).toEqual(['▁Once', '▁upon', '▁a', '▁time']);
    expect(tok.encode('Once upon a time', { bos: true })).toEqual([1, ...ids]);
  });

  it('round-trips varied text through byte fallback', () => {
    for (const s of VARIED) expect(tok.decode(tok.encode(s)), JSON.stringify(s)).toBe(s);
    const digits = tok.encode('zx9 42');
    expect(digits.map((i) => tok.piece(i))).toEqual(['▁', 'z', 'x', '9', '▁', '4', '2']);
    expect(tok.encode('\n').map((i) => tok.piece(i))).toEqual(['▁', '<0x0A>']);
    expect(tok.encode('😀', { prefixSpace: false }).map((i) => tok.piece(i))).toEqual(['<0xF0>', '<0x9F>', '<0x98>', '<0x80>']);
  });

  it('prompt and continuation encode separately and decode back exactly', () => {
    const prompt = 'Q: Tell a story about the zx9 violet box.\nA:';
    const cont = ' Once upon a time, there was a box.';
    const p = tok.encode(prompt, { bos: true });
    const c = tok.encode(cont, { prefixSpace: false });
    expect(tok.piece(c[0]!)).toBe('▁Once');
    expect(tok.decode(c, { prefixSpace: false })).toBe(cont);
    expect(tok.decode([...p, ...c])).toBe(prompt + cont);
  });

  it('agrees with the reference merge loop on random printable text', () => {
    const rng = new Rng('tok-stories');
    const alphabet = 'abcdefghijklmnopqrstuvwxyz     ,.!?"\'ABCLT0123\n€ñ😀';
    for (let i = 0; i < 100; i++) {
      const s = Array.from({ length: 1 + rng.int(60) }, () => rng.pick(Array.from(alphabet))).join('');
      const ids = tok.encode(s);
      expect(ids, JSON.stringify(s)).toEqual(encodeNaive(tok.data, s));
      expect(tok.decode(ids)).toBe(s);
    }
  });

  it('encodes 10k characters in milliseconds, not seconds', () => {
    const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside. '.repeat(125);
    const t0 = performance.now();
    const ids = tok.encode(text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(ids.length).toBeLessThan(text.length / 3);
  });
});
