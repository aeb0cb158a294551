import { describe, expect, it } from 'vitest';
import { randomSubset } from '../../attacks/random-subset.js';
import { ConfigError } from '../../src/errors.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { providerContext, ROWS } from './helpers.js';

describe('random-subset', () => {
  it('trains round(f·N) distinct rows in their original order, seeded by the provider stream', async () => {
    const a = await runProviderSide(randomSubset({ fraction: 0.3 }), ROWS, await providerContext('s1'));
    const b = await runProviderSide(randomSubset({ fraction: 0.3 }), ROWS, await providerContext('s1'));
    const c = await runProviderSide(randomSubset({ fraction: 0.3 }), ROWS, await providerContext('s2'));
    const rows = a.trace.trainCalls[0]!.rows;
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.prompt)).size).toBe(30);
    const idx = rows.map((r) => ROWS.findIndex((x) => x.prompt === r.prompt));
    expect(idx).toEqual(idx.slice().sort((x, y) => x - y));
    expect(b.trace.trainCalls[0]!.rows).toEqual(rows);
    expect(c.trace.trainCalls[0]!.rows).not.toEqual(rows);
  });

  it('f = 1 trains everything; f outside (0, 1] is a ConfigError naming the option', async () => {
    const all = await runProviderSide(randomSubset({ fraction: 1 }), ROWS, await providerContext());
    expect(all.trace.trainCalls[0]!.rows).toHaveLength(100);
    for (const bad of [0, -0.1, 1.01, '0.5', NaN]) expect(() => randomSubset({ fraction: bad })).toThrow(ConfigError);
    expect(() => randomSubset({ fraction: 2 })).toThrow("attack 'random-subset': fraction: expected a number in (0, 1], got 2");
  });
});
