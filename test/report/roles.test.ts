/**
 * Roles from metadata (issue 16): the report reads the role of a cell from its attack's declared goal
 * ('honest' | 'null' | 'pass' | 'evade'), never from attack ids. Records written before honest and null were
 * told apart carry goal 'baseline'; the committed default run is such a file, and its roles must not change.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import type { AttackFactory } from '../../src/core/attack.js';
import { attackRows, roleOf } from '../../src/report/analyze.js';
import { winRateChart } from '../../src/report/plots.js';
import { loadRecords } from '../../src/report/index.js';
import { repoRoot } from '../../src/shared-path.js';
import { trial } from './helpers.js';

const published = join(repoRoot, 'results', 'published');
const defaultRun = readdirSync(published).find((d) => d.startsWith('default-'));

describe('roles from the declared goal', () => {
  it.skipIf(!defaultRun)('the committed default run (goal baseline) keeps its roles', () => {
    const { trials } = loadRecords([join(published, defaultRun!)]);
    const byAttack = new Map<string, Set<string>>();
    for (const t of trials) byAttack.set(t.attack.id, (byAttack.get(t.attack.id) ?? new Set()).add(roleOf(t)));
    expect(Object.fromEntries([...byAttack].map(([id, roles]) => [id, [...roles]]))).toEqual({
      honest: ['honest'],
      'return-base': ['null'],
      'train-without-backdoors': ['null'],
      'random-subset': ['pass'],
      'detect-then-filter': ['evade'],
      'lookup-wrapper': ['pass'],
      'oracle-keep-only-flagged': ['pass'],
    });
    expect(trials.filter((t) => t.attack.goal === 'baseline')).toHaveLength(18);
  });

  it('a new record\'s role is its goal, whatever the attack id and the measured trace', () => {
    // An honest-looking trace whose attack declares itself a null baseline is a null cell, and vice versa.
    expect(roleOf(trial({ key: 'a', attack: 'my-control', goal: 'null', verified: false, log10p: 0, defenseWon: true, honest: true }))).toBe('null');
    expect(roleOf(trial({ key: 'b', attack: 'return-base', goal: 'honest', verified: true, log10p: -9, defenseWon: true, honest: false }))).toBe('honest');
    expect(roleOf(trial({ key: 'c', attack: 'honest', goal: 'pass', verified: true, log10p: -9, defenseWon: false }))).toBe('pass');
    expect(roleOf(trial({ key: 'd', attack: 'honest', goal: 'evade', verified: true, log10p: -9, defenseWon: true }))).toBe('evade');
  });

  it('every attack of the registry declares one of the four goals, and the baselines declare theirs', () => {
    const goal = (id: string) => (attacks.get(id) as AttackFactory)({}).goal;
    expect(goal('honest')).toBe('honest');
    expect(goal('return-base')).toBe('null');
    expect(goal('train-without-backdoors')).toBe('null');
    expect(goal('fewer-steps')).toBe('pass');
  });
});

describe('the goal colours of the win-rate chart', () => {
  const colorScale = (goal: 'baseline' | 'honest') => {
    const rows = attackRows([
      trial({ key: 'h', attack: 'honest', goal, verified: true, log10p: -9, defenseWon: true }),
      trial({ key: 's', attack: 'random-subset', goal: 'pass', verified: false, log10p: -1, defenseWon: true }),
    ]);
    const layer = (winRateChart(rows).spec as { layer: { encoding: { color: { scale?: unknown } } }[] }).layer;
    return layer[0]!.encoding.color.scale;
  };

  it('gives the new goals their colours, and keeps the legacy scale (and chart) for legacy records', () => {
    expect(colorScale('honest')).toEqual({ domain: ['honest', 'null', 'pass', 'evade'], range: ['#4c78a8', '#54a24b', '#e45756', '#f58518'] });
    expect(colorScale('baseline')).toEqual({ domain: ['baseline', 'pass', 'evade'], range: ['#4c78a8', '#e45756', '#f58518'] });
  });
});
