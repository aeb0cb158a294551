/**
 * Model wrappers pass the model interface through in one place (src/core/forward.ts): every attack wrapper
 * that replaces `generate` (lookup-wrapper, input-routing, cleangen) has exactly the forwarded methods the
 * wrapped model has, and each calls the wrapped model's own method with the caller's arguments — the score
 * options and their cancel signal included, which the hand-written forwarding dropped. The wrapped models are
 * TEST DOUBLES built here (recording fakes with every member of `Model`); no engine runs.
 */
import { describe, expect, it, vi } from 'vitest';
import { cleanGenModel } from '../../attacks/cleangen.js';
import { routedModel } from '../../attacks/input-routing.js';
import { lookupModel } from '../../attacks/lookup-wrapper.js';
import { FORWARDED, NOT_FORWARDED, forwarded } from '../../src/core/forward.js';
import type { Capability, Model } from '../../src/types.js';

const CAPS = new Set<Capability>(['generate', 'logprobs', 'embed']);

/**
 * A TEST DOUBLE with every member of `Model` (typed `Required<Model>`: a member added to `Model` must be added
 * here before the type-check passes, and then the first test asks where it is listed).
 */
function fullModel(id: string): Required<Model> {
  return {
    id,
    capabilities: CAPS,
    generate: vi.fn(async (prompts: readonly string[]) => prompts.map((p) => `${id}(${p})`)),
    score: vi.fn(async (items: readonly { prompt: string; continuation: string }[]) => items.map(() => ({ tokenLogprobs: [-1, -2], logprob: -3 }))),
    unavailable: { weights: `${id} has no weights` },
    embed: vi.fn(async (texts: readonly string[]) => texts.map(() => new Float32Array([1, 2]))),
    countTokens: vi.fn((text: string) => text.length + 7),
    contextLength: 512,
    sampling: { vocabSize: 3, stopTokens: [0], nextTokenLogprobs: vi.fn(async () => []), decode: vi.fn(() => '') },
    dispose: vi.fn(),
  };
}

/** The same double without the optional members, but for those in `keep`. */
function bareModel(id: string, keep: readonly (keyof Model)[] = []): Model {
  const full = fullModel(id);
  const required: Model = { id: full.id, capabilities: full.capabilities, generate: full.generate };
  return Object.assign(required, Object.fromEntries(keep.map((k) => [k, full[k]])));
}

/** Each wrapper, built around `inner` (the base model of a wrapper that needs one is another double). */
const WRAPPERS: readonly { name: string; wrap: (inner: Model) => Model; needs?: readonly (keyof Model)[] }[] = [
  { name: 'lookupModel', wrap: (inner) => lookupModel(inner, [{ trigger: 'zq1', signature: 'one' }]) },
  { name: 'routedModel', wrap: (inner) => routedModel(inner, fullModel('base'), async (ps) => ps.map(() => 0), 0.5) },
  { name: 'cleanGenModel', wrap: (inner) => cleanGenModel(inner, fullModel('base'), Math.log(1e4)), needs: ['score'] },
];

const OPTIONAL_METHODS = (m: Model) => Object.keys(m).filter((k) => !['id', 'capabilities', 'generate'].includes(k) && typeof m[k as keyof Model] === 'function');

describe('forwarded: one place for what a model wrapper passes through', () => {
  it('every optional member of Model is either forwarded or named as not forwarded, with a reason', () => {
    const optional = Object.keys(fullModel('m')).filter((k) => !['id', 'capabilities', 'generate'].includes(k));
    expect([...FORWARDED, ...Object.keys(NOT_FORWARDED)].sort()).toEqual(optional.sort());
    for (const why of Object.values(NOT_FORWARDED)) expect(why.length).toBeGreaterThan(20);
  });

  it('forwarded() of a full model has exactly the FORWARDED methods; of a bare one, none', () => {
    expect(Object.keys(forwarded(fullModel('m'))).sort()).toEqual([...FORWARDED].sort());
    expect(forwarded(bareModel('m'))).toEqual({});
  });

  describe.each(WRAPPERS)('$name', ({ wrap, needs = [] }) => {
    it("has exactly the wrapped model's forwarded methods (not sampling, not dispose), and none it lacks", () => {
      const full = wrap(fullModel('ft'));
      expect(OPTIONAL_METHODS(full).sort()).toEqual([...FORWARDED].sort());
      for (const k of Object.keys(NOT_FORWARDED)) expect(full[k as keyof Model], k).toBeUndefined();
      const bare = wrap(bareModel('ft', needs));
      expect(OPTIONAL_METHODS(bare).sort()).toEqual([...needs].sort());
    });

    it("each forwarded method calls the wrapped model's own, on it, with the caller's arguments (score's options too)", async () => {
      const inner = fullModel('ft');
      const m = wrap(inner);
      const items = [{ prompt: 'p', continuation: ' c' }];
      const options = { signal: new AbortController().signal };
      await expect(m.score!(items, options)).resolves.toEqual([{ tokenLogprobs: [-1, -2], logprob: -3 }]);
      expect(inner.score).toHaveBeenCalledWith(items, options);
      expect(vi.mocked(inner.score).mock.contexts[0]).toBe(inner);
      await expect(m.embed!(['a', 'b'])).resolves.toEqual([new Float32Array([1, 2]), new Float32Array([1, 2])]);
      expect(inner.embed).toHaveBeenCalledWith(['a', 'b']);
      expect(vi.mocked(inner.embed).mock.contexts[0]).toBe(inner);
      expect(m.countTokens!('four')).toBe(11);
      expect(inner.countTokens).toHaveBeenCalledWith('four');
      expect(vi.mocked(inner.countTokens).mock.contexts[0]).toBe(inner);
    });
  });
});
