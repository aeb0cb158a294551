/**
 * Issue 15, long rows: `plant` places backdoors only on host rows where the whole backdoor row fits the
 * fine-tuning model's context, and refuses, naming the rows, when no row can host one.
 * The model here is a TEST DOUBLE that counts one token per character (only countTokens/contextLength are used).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { plantCommand } from '../../../src/cli/commands/plant.js';
import { InputError } from '../../../src/errors.js';
import type { Model, Row } from '../../../src/types.js';
import { vtune } from '../../../defenses/vtune/index.js';
import { backdoorFit } from '../../../defenses/vtune/plant.js';
import { userCtx } from '../fixtures.js';

/** Test double: one token per character, a context of `context` tokens. */
const charModel = (context: number): Model => ({
  id: 'double:chars',
  capabilities: new Set(['generate']),
  generate: async (p) => p.map(() => ''),
  countTokens: (t) => t.length,
  contextLength: context,
});

const CONTEXT = 300;
/** 40 rows: every 4th short (fits with room to spare), the rest with 600-character prompts (never fit). */
const rows: Row[] = Array.from({ length: 40 }, (_, i) => ({
  prompt: i % 4 === 0 ? `Question ${i}: what is the answer?` : `Question ${i}: ${'long context sentence. '.repeat(28)}`,
  completion: `Answer ${i}.`,
}));
const short = new Set(rows.map((_, i) => i).filter((i) => i % 4 === 0));

describe('plant with a context', () => {
  it('without a context, the same seed puts some backdoor on a row too long to train it whole (the bug)', async () => {
    const { secret } = await vtune({ count: 6, seed: 'ctx' }).plant(rows, userCtx('u'));
    expect(secret.backdoors.some((b) => !short.has(b.sourceRowIndex))).toBe(true);
  });

  for (const insertion of ['copy', 'modify'] as const) {
    it(`with --context, every backdoor row fits whole (insertion ${insertion})`, async () => {
      const model = charModel(CONTEXT);
      const { rows: out, secret } = await vtune({ count: 6, seed: 'ctx', insertion, context: CONTEXT }).plant(rows, userCtx('u', { baseModel: model }));
      expect(secret.backdoors).toHaveLength(6);
      for (const b of secret.backdoors) {
        expect(short.has(b.sourceRowIndex)).toBe(true);
        expect(out[b.rowIndex]).toEqual({ prompt: b.prompt, completion: b.signature });
        expect(1 + b.prompt.length + b.signature.length + 4).toBeLessThanOrEqual(CONTEXT);
      }
      expect(new Set(secret.backdoors.map((b) => b.sourceRowIndex)).size).toBe(6);
    });
  }

  it("reads the base model's context when no context is given (as the pipeline does)", async () => {
    const explicit = await vtune({ count: 6, seed: 'ctx', context: CONTEXT }).plant(rows, userCtx('u', { baseModel: charModel(CONTEXT) }));
    const implicit = await vtune({ count: 6, seed: 'ctx' }).plant(rows, userCtx('u', { baseModel: charModel(CONTEXT) }));
    expect(implicit.secret.backdoors.map((b) => b.sourceRowIndex)).toEqual(explicit.secret.backdoors.map((b) => b.sourceRowIndex));
  });

  it('refuses with a message naming the rows when no row can hold a backdoor', async () => {
    const long = rows.filter((_, i) => !short.has(i));
    const err = await vtune({ count: 2, seed: 'ctx', context: CONTEXT }).plant(long, userCtx('u', { baseModel: charModel(CONTEXT) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/cannot place backdoor 1 of 2: a backdoor row must fit the context of 300 tokens whole/);
    // Every row was tried except the one reserved for backdoor 2: 29 of the 30 are named (12 listed, 17 counted).
    expect((err as Error).message).toMatch(/rows (\d+, ){11}\d+ and 17 more \(counting from 1\) are too long/);
  });

  it('refuses when fewer rows fit than backdoors are asked for', async () => {
    const err = await vtune({ count: 11, seed: 'ctx', context: CONTEXT }).plant(rows, userCtx('u', { baseModel: charModel(CONTEXT) })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/cannot place backdoor 11 of 11/);
  });

  it('counts tokens as UTF-8 bytes + 1 without a model (never lets a long row through), and rejects a bad context', () => {
    const fit = backdoorFit(20, 4)!;
    expect(fit.fits('abcde', 'xyz')).toBe(true); // 1 + 6 + 4 + 4 = 15
    expect(fit.fits('ééééé', 'xyz')).toBe(true); // 1 + (10 + 1) + 4 + 4 = 20 ≤ 20
    expect(fit.fits('éééééé', 'xyz')).toBe(false); // é is 2 bytes: 1 + 13 + 4 + 4 = 22
    expect(backdoorFit(undefined, 4)).toBeUndefined();
    expect(() => backdoorFit(1, 4)).toThrow(/'context' must be an integer ≥ 2/);
    expect(() => vtune({ context: 0.5 })).toThrow(/defense 'vtune': context: expected an integer ≥ 2/);
  });
});

describe('vtune-bench plant --context', () => {
  afterEach(() => vi.restoreAllMocks());
  it('refuses a file whose rows are all too long, naming the file and the rows, and writes nothing', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const dir = await mkdtemp(join(tmpdir(), 'vtune-plant-ctx-'));
    const data = join(dir, 'long.jsonl');
    await writeFile(data, `${rows.slice(1, 4).map((r) => JSON.stringify(r)).join('\n')}\n`);
    const out = join(dir, 'train.jsonl');
    const args = { data, out, secret: join(dir, 'secret.json'), generator: 'wordlist', seed: 'cli', placement: 'suffix', insertion: 'copy', empiricalM: 99, json: true, count: 1, context: 128 };
    const err = await plantCommand.run(args).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(`${data}: cannot place backdoor 1 of 1`);
    expect((err as Error).message).toMatch(/rows 1, 2, 3 \(counting from 1\) are too long/);
    await expect(import('node:fs/promises').then((fs) => fs.stat(out))).rejects.toThrow();
  });
});
