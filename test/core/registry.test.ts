import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { defineRegistry, didYouMean, editDistance } from '../../src/registry.js';

describe('registry', () => {
  const reg = defineRegistry('attack', { honest: 1, 'return-base': 2, 'random-subset': 3 });

  it('returns entries by id and lists ids in order', () => {
    expect(reg.get('return-base')).toBe(2);
    expect(reg.ids).toEqual(['honest', 'return-base', 'random-subset']);
    expect(reg.has('honest')).toBe(true);
    expect(reg.has('toString')).toBe(false);
  });

  it('rejects an unknown id with a did-you-mean hint and the list', () => {
    expect(() => reg.get('retrun-base')).toThrow(ConfigError);
    expect(() => reg.get('retrun-base')).toThrow("unknown attack 'retrun-base'. Did you mean 'return-base'? Available: honest, return-base, random-subset");
    expect(() => reg.get('zzzzzzzzzzzz')).toThrow(/^unknown attack 'zzzzzzzzzzzz'\. Available:/);
    expect(() => reg.get('constructor')).toThrow(ConfigError);
  });

  it('computes edit distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(didYouMean('honset', ['honest', 'keyed'])).toBe('honest');
    expect(didYouMean('q', [])).toBeUndefined();
  });
});
