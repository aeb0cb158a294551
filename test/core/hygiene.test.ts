import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/shared-path.js';

/** All project TypeScript sources (not node_modules, not build output). */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'build' || name === 'out' || name === 'results') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

describe('source hygiene', () => {
  const files = sources(repoRoot);

  it('finds the sources it scans', () => {
    expect(files.some((f) => f.endsWith('src/rng.ts'))).toBe(true);
  });

  it('never uses Math.random (all randomness comes from seeded streams)', () => {
    // Exempt with a reason: test/check/rules.test.ts writes plugins that call Math.random on purpose, to show
    // that the seeding rule of `vtune-bench check` catches them.
    const exempt = (f: string) => f.endsWith('hygiene.test.ts') || relative(repoRoot, f) === join('test', 'check', 'rules.test.ts');
    const offenders = files.filter((f) => !exempt(f) && /Math\s*\.\s*random\s*\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(repoRoot, f))).toEqual([]);
  });

  it('relative imports in TypeScript end in .js (ESM NodeNext)', () => {
    const bad: string[] = [];
    // AssemblyScript sources (compiled by asc, not by tsc/node) follow their own import rules.
    for (const f of files.filter((x) => x.endsWith('.ts') && !x.includes('/src/engine/assembly/'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        if (!/\.(js|json|mjs)$/.test(m[1]!)) bad.push(`${relative(repoRoot, f)}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
