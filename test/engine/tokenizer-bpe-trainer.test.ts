import { describe, expect, it } from 'vitest';
import { trainBpe } from '../../src/engine/bpe-trainer.js';
import { SpmTokenizer, TOKEN_TYPE, encodeNaive } from '../../src/engine/tokenizer.js';
import { ConfigError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';

/** A small story-like corpus drawn from word lists with a fixed seed. */
function corpus(n: number, seed = 'bpe-corpus'): string[] {
  const rng = new Rng(seed);
  const names = ['Lily', 'Tim', 'Ben', 'Sue', 'Max'];
  const things = ['ball', 'box', 'tree', 'cake', 'kite', 'dog'];
  const verbs = ['saw', 'found', 'wanted', 'liked', 'lost'];
  const adj = ['big', 'red', 'little', 'happy', 'shiny'];
  return Array.from({ length: n }, () => `${rng.pick(names)} ${rng.pick(verbs)} a ${rng.pick(adj)} ${rng.pick(things)}. The ${rng.pick(things)} was ${rng.pick(adj)}!`);
}

describe('trainBpe', () => {
  const texts = corpus(400);
  const data = trainBpe(texts, { vocabSize: 350 });
  const tok = new SpmTokenizer(data);

  it('lays out specials, 256 byte tokens, merges, then characters', () => {
    expect(data.tokens.length).toBe(350);
    expect(data.tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(data.types.slice(0, 3)).toEqual([TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL]);
    expect(data.tokens[3]).toBe('<0x00>');
    expect(data.tokens[3 + 0x0a]).toBe('<0x0A>');
    expect(data.tokens[258]).toBe('<0xFF>');
    expect(data.types.slice(3, 259).every((t) => t === TOKEN_TYPE.BYTE)).toBe(true);
    expect(new Set(data.tokens).size).toBe(data.tokens.length);
    const normal = data.scores.slice(259);
    for (let i = 1; i < normal.length; i++) expect(normal[i]!).toBeLessThan(normal[i - 1]!);
    expect(data.tokens).toContain('▁Lily');
    expect(data.tokens).toContain('▁the'.replace('t', 'T'));
  });

  it('compresses its training text and round-trips it', () => {
    for (const s of texts.slice(0, 50)) {
      const ids = tok.encode(s);
      expect(tok.decode(ids)).toBe(s);
      expect(ids.length).toBeLessThan(Array.from(s).length / 2);
    }
  });

  it('round-trips any text, unseen characters via byte fallback', () => {
    const rng = new Rng('bpe-any');
    for (let i = 0; i < 100; i++) {
      const s = Array.from({ length: rng.int(40) }, () => String.fromCodePoint(rng.pick([32, 10, 9, 65 + rng.int(58), 0x4e00 + rng.int(200), 0x1f600 + rng.int(50), 0xe9]))).join('');
      expect(tok.decode(tok.encode(s)), JSON.stringify(s)).toBe(s);
      expect(tok.encode(s)).toEqual(encodeNaive(data, s));
    }
  });

  it('is deterministic and independent of corpus order', () => {
    expect(trainBpe(texts, { vocabSize: 350 })).toEqual(data);
    expect(trainBpe([...texts].reverse(), { vocabSize: 350 })).toEqual(data);
  });

  it('respects maxPieceLength and characterCoverage', () => {
    const short = trainBpe(texts, { vocabSize: 350, maxPieceLength: 3 });
    expect(short.tokens.slice(259).every((t) => Array.from(t).length <= 3)).toBe(true);
    const rare = trainBpe([...texts, 'ø'], { vocabSize: 300, characterCoverage: 0.999 });
    expect(rare.tokens).not.toContain('ø');
    expect(new SpmTokenizer(rare).decode(new SpmTokenizer(rare).encode('ø Lily'))).toBe('ø Lily');
  });

  it('stops early with a smaller vocabulary when nothing more repeats', () => {
    const d = trainBpe(['ab ab ab'], { vocabSize: 1000 });
    expect(d.tokens.length).toBeLessThan(1000);
    expect(d.tokens).toContain('▁ab');
  });

  it('validates its options', () => {
    expect(() => trainBpe(texts, { vocabSize: 100 })).toThrow(ConfigError);
    expect(() => trainBpe(texts, { vocabSize: 100 })).toThrow(/vocabSize must be an integer from 260/);
    expect(() => trainBpe(texts, { vocabSize: 350, characterCoverage: 0 })).toThrow(/characterCoverage/);
  });
});
