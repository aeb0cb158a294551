/**
 * What the charts show, read from their vega-lite specs (the PNGs are pinned byte-for-byte by regenerate.test.ts):
 * the attack axis order with the oracle apart, and configurations that share a backdoor count drawn side by side.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attackRows } from '../../src/report/analyze.js';
import { calibrationChart } from '../../src/report/calibration.js';
import { loadRecords } from '../../src/report/index.js';
import { attackOrder, charts, log10pChart, pooledAttackRows, powerChart, winRateChart } from '../../src/report/plots.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'leaderboard', 'results', 'leaderboard', 'fixture-leaderboard');
const records = loadRecords([FIXTURE]);
const yOf = (spec: Record<string, any>): string[] => spec.encoding?.y?.sort ?? spec.layer[0].encoding.y.sort;

describe('chart attack axes', () => {
  const expected = [
    'honest',
    'return-base',
    'train-without-backdoors',
    'lookup-wrapper(near-duplicate)',
    'random-subset(10%)',
    'random-subset(50%)',
    'random-subset(90%)',
    'drop(near-duplicate)',
    'unlikelihood',
    'oracle-keep-only-flagged †',
  ];

  it('run from the honest provider and the nulls to the lazy and evasive attacks, with the oracle (†) last', () => {
    expect(yOf(winRateChart(attackRows(records.trials)).spec)).toEqual(expected);
    expect(yOf(log10pChart(records.trials).spec)).toEqual(expected);
  });

  it('attackOrder keeps an oracle after every realistic attack whatever its role or label', () => {
    expect(attackOrder([
      { attack: 'a-oracle †', role: 'pass', oracle: true },
      { attack: 'z-evade', role: 'evade', oracle: false },
      { attack: 'b-pass', role: 'pass', oracle: false },
      { attack: 'honest', role: 'honest', oracle: false },
      { attack: 'b-pass', role: 'pass', oracle: false },
    ])).toEqual(['honest', 'b-pass', 'z-evade', 'a-oracle †']);
  });
});

describe('power chart', () => {
  it('draws configurations with the same backdoor count side by side, not on top of each other', () => {
    const spec = powerChart(records.trials).spec as Record<string, any>;
    // The fixture's two configurations both plant 4 backdoors.
    expect(new Set(spec.data.values.map((d: { backdoors: number }) => d.backdoors))).toEqual(new Set([4]));
    expect(spec.data.values.map((d: { defense: string }) => d.defense)).toEqual(['wordlist (copy)', 'wordlist (modify)']);
    expect(spec.encoding.x).toMatchObject({ field: 'backdoors', type: 'ordinal' });
    expect(spec.encoding.xOffset).toEqual({ field: 'defense', type: 'nominal' });
  });
});

describe('calibration chart', () => {
  it('wraps its panels three to a row', () => {
    const spec = calibrationChart(records.calibration.records).spec as Record<string, any>;
    expect(spec.columns).toBe(3);
    expect(spec.facet).toMatchObject({ field: 'generator' });
  });
});

describe('defense-wins chart', () => {
  it('pools datasets and models: one interval per configuration and attack over all of its cells, not one per dataset drawn on top of another', () => {
    const rows = attackRows(records.trials);
    const datasets = new Set(rows.map((r) => r.dataset));
    expect(datasets.size).toBe(2); // the fixture spans stories and math
    const chart = charts(records.trials, rows).find((c) => c.id === 'defense-wins')!;
    const values = (chart.spec as any).data.values as { defense: string; attack: string; n: number }[];
    const key = (v: { defense: string; attack: string }) => `${v.defense}|${v.attack}`;
    expect(new Set(values.map(key)).size).toBe(values.length);
    for (const v of values) {
      const cells = records.trials.filter((t) => t.cell.labels.defense === v.defense && (t.attack.oracle ? `${t.cell.labels.attack} †` : t.cell.labels.attack) === v.attack);
      expect(v.n).toBe(cells.length);
    }
    expect(chart.description).toContain('pooled');
  });

  it('leaves one dataset and model as they are', () => {
    const one = records.trials.filter((t) => t.cell.labels.dataset === 'stories');
    const rows = attackRows(one);
    expect(pooledAttackRows(one, rows)).toBe(rows);
    expect(charts(one, rows).find((c) => c.id === 'defense-wins')!.description).not.toContain('pooled');
  });
});
