/**
 * The out-of-tree plugin examples (examples/plugins, README "Your own plugins"), through the same mechanism a
 * researcher uses: the modules are loaded as plugins (never imported by this test), `vtune-bench check` passes
 * the generator and the attack and fails the deliberately impure one naming the rule, and the example
 * scenario — which names its plugins itself — runs end to end with `vtune-bench run` on the test-memorizer
 * provider (a fast deterministic TEST DOUBLE: it memorises what it trains on; its numbers describe the double).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { loadPlugins } from '../../src/plugins/load.js';
import { repoRoot } from '../../src/shared-path.js';

const examples = join(repoRoot, 'examples', 'plugins');
const KEY_OPTIONS = JSON.stringify({ 'keyed-pseudowords': { key: 'example-public-key-not-a-secret' } });

/** Runs the real CLI (bin/vtune-bench.js, through tsx) from the repository root. */
function cli(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'vtune-bench.js'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, VTUNE_CACHE: mkdtempSync(join(tmpdir(), 'vtune-cache-')) } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('examples/plugins', () => {
  it('load through the plugin mechanism and register a generator and an attack with their declared options', async () => {
    const loaded = await loadPlugins(['./keyed-pseudowords.ts', './shortest-rows.ts'], { from: examples, via: 'test' });
    expect(loaded.flatMap((m) => m.plugins)).toEqual([
      { kind: 'generator', id: 'keyed-pseudowords' },
      { kind: 'attack', id: 'shortest-rows' },
    ]);
    expect(generators.sourceOf('keyed-pseudowords')).toMatch(/examples\/plugins\/keyed-pseudowords\.ts$/);
    const attack = attacks.get('shortest-rows')({ keepFraction: 0.3 });
    expect([attack.id, attack.goal, attack.access]).toEqual(['shortest-rows', 'pass', ['data']]);
    expect(() => attacks.get('shortest-rows')({ keepFraction: 1.5 })).toThrow(/attack 'shortest-rows': keepFraction: expected a number in \(0, 1\], got 1.5/);
    expect(() => generators.get('keyed-pseudowords')({})).toThrow(/generator 'keyed-pseudowords': key: required/);
  });

  it('`vtune-bench check` passes the generator and the attack', () => {
    const r = cli('check', 'examples/plugins/keyed-pseudowords.ts', 'examples/plugins/shortest-rows.ts', '--options', KEY_OPTIONS);
    expect(r.code, r.out).toBe(0);
    for (const rule of ['declares', 'purity', 'seeding', 'barrier', 'trace']) expect(r.out).toMatch(new RegExp(`attack 'shortest-rows'[\\s\\S]*pass  ${rule}`));
    for (const rule of ['declares', 'purity', 'seeding', 'shape', 'bound', 'barrier']) expect(r.out).toMatch(new RegExp(`generator 'keyed-pseudowords'[\\s\\S]*pass  ${rule}`));
    expect(r.out).toMatch(/11 rules passed, 0 failed, 0 skipped/);
  }, 120_000);

  it('`vtune-bench check` fails the impure plugin, naming the plugin and the rule, with exit code 1', () => {
    const r = cli('check', 'examples/plugins/sorted-in-place.ts');
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/attack 'sorted-in-place'\n[\s\S]*FAIL  purity    onData wrote to its frozen input plan/);
    expect(r.out).toMatch(/1 failed/);
  }, 120_000);

  it('the example scenario (plugins named in the scenario) runs end to end with `vtune-bench run`', () => {
    const results = mkdtempSync(join(tmpdir(), 'vtune-plugins-'));
    const r = cli('run', 'examples/plugins/scenario.json', '--results', results, '--no-report');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/plugins-example: 6\/6 cells recorded .* 0 failed/);
    const [runId] = readdirSync(join(results, 'plugins-example'));
    const lines = readFileSync(join(results, 'plugins-example', runId!, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const trials = lines.filter((l) => l.kind === 'trial');
    expect(trials).toHaveLength(6);
    expect(new Set(trials.map((t) => t.cell.defense.options.generator))).toEqual(new Set(['keyed-pseudowords']));
    for (const t of trials) {
      if (t.attack.id === 'honest') expect([t.truth.honest, t.verdict.verified]).toEqual([true, true]);
      if (t.attack.id === 'return-base') expect([t.truth.rowsTrained, t.verdict.verified]).toEqual([0, false]);
      // Measured by the pipeline, not claimed by the plugin: 30% of the submitted rows reached the trainer.
      if (t.attack.id === 'shortest-rows') expect(t.truth.rowsTrained).toBe(Math.ceil(0.3 * t.truth.rowsSubmitted));
    }
  }, 180_000);
});
