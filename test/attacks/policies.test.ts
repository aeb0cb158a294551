import { describe, expect, it } from 'vitest';
import { policies } from '../../attacks/policies.js';
import { flagByRule, flagRuleSchema } from '../../attacks/scorers/types.js';
import { z } from '../../src/plugins/define.js';
import { checkValue } from '../../src/plugins/options.js';
import { ConfigError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import { deepFreeze } from '../pipeline/doubles.js';

const rows = deepFreeze(Array.from({ length: 100 }, (_, i) => ({ prompt: `p${i} TRIG`, completion: `answer ${i} SIG` })));
const flagged = rows.map((_, i) => i % 10 === 0);
const scores = deepFreeze({
  scores: flagged.map((f) => (f ? 1 : 0)),
  flagged,
  spans: rows.map((r, i) => (flagged[i] ? [{ field: 'prompt' as const, start: r.prompt.length - 4, end: r.prompt.length }, { field: 'completion' as const, start: r.completion.length - 3, end: r.completion.length }, { field: 'completion' as const, start: r.completion.length - 5, end: r.completion.length - 1 }] : undefined)),
});

describe('policies', () => {
  it('drop-flagged / keep-only-flagged partition the rows', () => {
    const drop = policies.get('drop-flagged')().apply(rows, scores, new Rng('x'));
    const keep = policies.get('keep-only-flagged')().apply(rows, scores, new Rng('x'));
    expect(drop).toHaveLength(90);
    expect(keep).toHaveLength(10);
    expect(new Set([...drop, ...keep]).size).toBe(100);
  });

  it('keep-flagged-plus-fraction keeps every flagged row and f of the rest, seeded', () => {
    const p = policies.get('keep-flagged-plus-fraction')({ fraction: 0.2 });
    const a = p.apply(rows, scores, new Rng('s'));
    expect(a).toHaveLength(10 + 18);
    expect(a.filter((r) => flagged[rows.indexOf(r)])).toHaveLength(10);
    expect(p.apply(rows, scores, new Rng('s'))).toEqual(a);
    expect(() => policies.get('keep-flagged-plus-fraction')({ fraction: 0 })).toThrow(ConfigError);
  });

  it('strip-spans cuts (overlapping) spans from flagged rows only and drops span weights', () => {
    const out = policies.get('strip-spans')().apply(rows, scores, new Rng('x'));
    expect(out[0]).toEqual({ prompt: 'p0 ', completion: 'answer ' }); // [9,12) ∪ [7,11) = [7,12)
    expect(out[1]).toBe(rows[1]);
  });
});

describe('flag rules', () => {
  it('top-fraction, robust-z, threshold', () => {
    const s = [0, 1, 2, 3, 100, 4, 5, 6, 7, 8];
    expect(flagByRule(s, { kind: 'top-fraction', q: 0.2 }).filter(Boolean)).toHaveLength(2);
    expect(flagByRule(s, { kind: 'robust-z', z: 3.5 })).toEqual(s.map((x) => x === 100));
    expect(flagByRule(s, { kind: 'threshold', t: 7 })).toEqual(s.map((x) => x > 7));
    const flagOf = (flag: unknown) => checkValue(z.object({ flag: flagRuleSchema }), { flag });
    expect(flagOf({ kind: 'top-fraction', q: 2 })).toEqual({ ok: false, problems: [{ path: ['flag', 'q'], message: 'expected a number in (0, 1], got 2' }] });
    expect(flagOf({ kind: 'nope' })).toEqual({
      ok: false,
      problems: [{ path: ['flag', 'kind'], message: "expected 'top-fraction', 'robust-z' or 'threshold', got \"nope\"" }],
    });
    expect(flagOf({ kind: 'robust-z', z: 2 })).toEqual({ ok: true, value: { flag: { kind: 'robust-z', z: 2 } } });
  });
});
