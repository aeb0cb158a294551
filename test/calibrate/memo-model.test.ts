/**
 * memoizingModel (src/calibrate/batching-model.ts): `calibrate --defense` asks the same rows in every trial
 * (utility-gain's private rows come from one dataset sample), so each (model, row) is computed once.
 */
import { describe, expect, it } from 'vitest';
import { memoizingModel } from '../../src/calibrate/batching-model.js';
import type { GenerateOptions, Model } from '../../src/types.js';

function counted(): Model & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    id: 'counted',
    capabilities: new Set(['generate', 'logprobs']),
    generate: async (prompts: readonly string[], o: GenerateOptions) => (asked.push(...prompts.map((p) => `gen:${p}:${o.temperature ?? 0}`)), prompts.map((p) => `${p}!`)),
    score: async (items) => (asked.push(...items.map((i) => `score:${i.prompt}|${i.continuation}`)), items.map((i) => ({ tokenLogprobs: [-i.continuation.length], logprob: -i.continuation.length }))),
  };
}

describe('memoizingModel', () => {
  it('scores each (prompt, continuation) once, even when asked concurrently and twice in one call', async () => {
    const m = counted();
    const w = memoizingModel(m);
    const items = [{ prompt: 'a', continuation: 'xy' }, { prompt: 'b', continuation: 'z' }, { prompt: 'a', continuation: 'xy' }];
    const [one, two] = await Promise.all([w.score!(items), w.score!(items.slice(0, 2))]);
    expect(one.map((s) => s.logprob)).toEqual([-2, -1, -2]);
    expect(two.map((s) => s.logprob)).toEqual([-2, -1]);
    expect(m.asked).toEqual(['score:a|xy', 'score:b|z']);
  });

  it('remembers greedy generations per prompt and token budget; sampled calls pass through every time', async () => {
    const m = counted();
    const w = memoizingModel(m);
    expect(await w.generate(['p', 'q'], { maxTokens: 4 })).toEqual(['p!', 'q!']);
    expect(await w.generate(['q', 'p'], { maxTokens: 4, temperature: 0 })).toEqual(['q!', 'p!']);
    await w.generate(['p'], { maxTokens: 5 });
    await w.generate(['p'], { maxTokens: 4, temperature: 1 });
    await w.generate(['p'], { maxTokens: 4, temperature: 1 });
    expect(m.asked).toEqual(['gen:p:0', 'gen:q:0', 'gen:p:0', 'gen:p:1', 'gen:p:1']);
  });

  it('forgets a failed call, so a retry asks again', async () => {
    let fail = true;
    const m: Model = { id: 'flaky', capabilities: new Set(['generate']), generate: async (ps) => { if (fail) throw new Error('boom'); return ps.map(() => 'ok'); } };
    const w = memoizingModel(m);
    await expect(w.generate(['p'], { maxTokens: 1 })).rejects.toThrow('boom');
    fail = false;
    expect(await w.generate(['p'], { maxTokens: 1 })).toEqual(['ok']);
  });
});
