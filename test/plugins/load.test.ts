/**
 * Plugins from outside the repository (src/plugins/load.ts): modules are imported and their declared plugins
 * registered; a collision with a built-in or another plugin names both sources; a module that fails to import
 * names the file and the reason; a module that declares nothing is refused; loading one module twice
 * registers it once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import { scorers } from '../../attacks/scorers/index.js';
import { ConfigError } from '../../src/errors.js';
import { loadPlugin, loadPlugins } from '../../src/plugins/load.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const ctx = { from: fixtures, via: 'test: plugins' };

describe('loading plugin modules', () => {
  it('a collision with a built-in is a ConfigError naming both sources', async () => {
    const err = await loadPlugin('./collides-with-honest.ts', ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/attack 'honest' is registered twice: by .*(attacks\/honest\.ts|built-in registry).* and by .*collides-with-honest\.ts/);
    expect(attacks.get('honest')).not.toHaveProperty('description', 'a second attack named honest');
  });

  it('a collision between two plugins names both modules', async () => {
    await loadPlugin('./twin-a.ts', ctx);
    const err = await loadPlugin('./twin-b.ts', ctx).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/attack 'fixture-twin' is registered twice: by .*twin-a\.ts and by .*twin-b\.ts/);
  });

  it('loading the same module twice registers it once', async () => {
    const a = await loadPlugin('./twin-a.ts', ctx);
    const b = await loadPlugins(['./twin-a.ts'], ctx);
    expect(b[0]).toBe(a);
    expect(a.plugins).toEqual([{ kind: 'attack', id: 'fixture-twin' }]);
  });

  it('a module that registers its plugin itself (registry.register) is attributed to it', async () => {
    const m = await loadPlugin('./registers-itself.ts', ctx);
    expect(m.plugins).toEqual([{ kind: 'scorer', id: 'fixture-completion-length' }]);
    expect(scorers.sourceOf('fixture-completion-length')).toBe('test/plugins/fixtures/registers-itself.ts');
  });

  it('a module that fails to import names the file and the reason', async () => {
    await expect(loadPlugin('./throws-on-import.ts', ctx)).rejects.toThrow(/test: plugins: plugin module .*throws-on-import\.ts failed to load: the plugin could not find its data file/);
    const err = await loadPlugin('./throws-on-import.ts', ctx).catch((e: unknown) => e);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it("a TypeScript module that does not compile names the file, line and the compiler's message", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-plugin-'));
    writeFileSync(join(dir, 'broken.ts'), 'export const broken = {\n');
    await expect(loadPlugin('./broken.ts', { from: dir, via: '--plugin' })).rejects.toThrow(/--plugin: plugin module .*broken\.ts does not compile: .*broken\.ts:\d+:\d+/);
  });

  it('a missing file, a missing package, a module declaring nothing and a bad list are ConfigErrors', async () => {
    await expect(loadPlugin('./no-such-file.ts', ctx)).rejects.toThrow(/plugin module '.\/no-such-file.ts' not found \(looked for .*no-such-file\.ts\)/);
    await expect(loadPlugin('vtune-bench-no-such-package', ctx)).rejects.toThrow(/no package 'vtune-bench-no-such-package' is installed/);
    await expect(loadPlugin('./registers-nothing.ts', ctx)).rejects.toThrow(/registers-nothing\.ts registers no plugin: export what defineGenerator\(\), defineAttack\(\) or defineScorer\(\) return/);
    await expect(loadPlugins([''], ctx)).rejects.toThrow(/test: plugins\[0\]: expected a module path or package name/);
    await expect(loadPlugins({ a: 1 }, ctx)).rejects.toThrow(/expected a list of module paths or package names/);
  });
});
