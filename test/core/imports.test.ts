/**
 * The import graph (issue 16, "the core depends on nothing it hosts"), read by madge exactly as
 * `npx madge --circular --extensions ts src attacks defenses` reads it, with type-only imports and dynamic
 * imports INCLUDED (detective-typescript's skipTypeImports / skipAsyncImports off): a type import makes a
 * module depend on another as much as a value import does.
 * - no import circle anywhere in src, attacks and defenses;
 * - the pipeline (src/pipeline/**) reaches no plugin code at all (nothing under attacks/ or defenses/, so in
 *   particular neither registry attacks/index.ts nor defenses/index.ts), not even through another module;
 * - src/core/** is a leaf: it reaches only itself and the contracts (src/types.ts, src/errors.ts, src/rng.ts).
 * A fixture with a circle made only of `import type` proves the configuration sees type-only imports.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/shared-path.js';

/** The project's madge configuration: TypeScript files, type-only and dynamic imports included. */
const config = (baseDir: string) => ({
  baseDir,
  fileExtensions: ['ts'],
  detectiveOptions: { ts: { skipTypeImports: false, skipAsyncImports: false }, es6: { skipTypeImports: false } },
});

/** Every file reachable from `start` in the graph (itself excluded). */
function reachable(graph: Record<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph[start] ?? [])];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(graph[f] ?? []));
  }
  return seen;
}

describe('the import graph of src, attacks and defenses', async () => {
  const graph = await madge(['src', 'attacks', 'defenses'], config(repoRoot));
  const files = Object.keys(graph.obj());

  it('is read whole: every project module is in it, resolved through its .js import specifiers', () => {
    expect(files.length).toBeGreaterThan(150);
    for (const f of ['src/pipeline/cell.ts', 'src/pipeline/provider-side.ts', 'attacks/index.ts', 'defenses/index.ts', 'src/core/attack.ts']) expect(files).toContain(f);
    // cell.ts imports provider-side.ts as './provider-side.js': resolved to the .ts file.
    expect(graph.obj()['src/pipeline/cell.ts']).toContain('src/pipeline/provider-side.ts');
  });

  it('has no import circle, type-only imports included', () => {
    expect(graph.circular()).toEqual([]);
  });

  it('the pipeline reaches no plugin module: neither registry, nothing under attacks/ or defenses/', () => {
    const pipeline = files.filter((f) => f.startsWith('src/pipeline/'));
    expect(pipeline.length).toBeGreaterThan(5);
    for (const f of pipeline) {
      const reached = [...reachable(graph.obj(), f)];
      expect(reached, f).not.toContain('attacks/index.ts');
      expect(reached, f).not.toContain('defenses/index.ts');
      expect(reached.filter((r) => r.startsWith('attacks/') || r.startsWith('defenses/')), f).toEqual([]);
    }
  });

  it('src/core is a leaf: it reaches only itself and the contracts', () => {
    const allowed = (f: string) => f.startsWith('src/core/') || ['src/types.ts', 'src/errors.ts', 'src/rng.ts'].includes(f);
    const core = files.filter((f) => f.startsWith('src/core/'));
    expect(core.length).toBeGreaterThan(3);
    for (const f of core) expect([...reachable(graph.obj(), f)].filter((r) => !allowed(r)), f).toEqual([]);
  });
});

describe('the check itself', () => {
  it('catches a circle made only of type-only imports (and would miss it with skipTypeImports)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-madge-'));
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport interface A { readonly b?: B }\n");
    writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport interface B { readonly a?: A }\n");
    writeFileSync(join(dir, 'c.ts'), "export type C = import('./d.js').D;\n");
    writeFileSync(join(dir, 'd.ts'), "export type D = { c?: import('./c.js').C };\n");
    const seen = await madge(dir, config(dir));
    expect(seen.circular().map((c) => [...c].sort())).toEqual([['a.ts', 'b.ts'], ['c.ts', 'd.ts']]);
    const blind = await madge(dir, { ...config(dir), detectiveOptions: { ts: { skipTypeImports: true } } });
    expect(blind.circular()).toEqual([]);
  });
});
