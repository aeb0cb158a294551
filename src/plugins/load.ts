/**
 * Plugins from outside the repository (issue 16): a scenario's `plugins: ['./my-attack.ts', 'some-package']`
 * or the CLI's `--plugin <module>` imports a local module (TypeScript through tsx, which runs the CLI) or an
 * npm package, and registers every plugin it declares with the same define* functions the built-ins use
 * (src/plugins/define.ts): each exported definition (or list of definitions) goes into the registry of its
 * kind. A module may also call `<registry>.register(id, def, source)` itself while it is imported; those
 * entries are attributed to it too.
 *
 * An id that is already taken (a built-in, or another plugin) is a ConfigError naming both sources; a module
 * that fails to import is a ConfigError naming the file and the reason. Loading the same module twice (a
 * scenario and a flag naming it) registers it once.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attacks } from '../../attacks/index.js';
import { scorers } from '../../attacks/scorers/index.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { ConfigError, describeError } from '../errors.js';
import type { Registry } from '../registry.js';
import { type AnyDefinition, isDefinition } from './define.js';

/** A kind a module from outside may add. */
export type OutsideKind = 'attack' | 'scorer' | 'generator';

/** The plugin kinds a module from outside may add, and their registries (seen untyped: ids are open here). */
export const outsideKinds: Readonly<Record<OutsideKind, Registry<Record<string, unknown>>>> = {
  attack: attacks as unknown as Registry<Record<string, unknown>>,
  scorer: scorers as unknown as Registry<Record<string, unknown>>,
  generator: generators as unknown as Registry<Record<string, unknown>>,
};

/** One plugin a module registered. */
export interface LoadedPlugin {
  readonly kind: OutsideKind;
  readonly id: string;
}

/** A loaded plugin module: what was asked for, where it was found, what it registered. */
export interface LoadedModule {
  /** As written (`./plugins/my-attack.ts`, `vtune-bench-extra`). */
  readonly spec: string;
  /** The resolved file, as shown in messages (relative to the working folder when inside it). */
  readonly shown: string;
  readonly plugins: readonly LoadedPlugin[];
}

/** Where the plugin list came from, for messages: "scenarios/x.ts: plugins[1]" or "--plugin". */
export interface LoadContext {
  /** Folder a relative path is resolved against (the scenario's folder; the working folder for --plugin). */
  readonly from: string;
  /** How the plugin was named, for messages. */
  readonly via: string;
}

const loaded = new Map<string, Promise<LoadedModule>>();

/** A path as shown: relative to the working folder when inside it, else absolute. */
function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : file;
}

const looksLikePath = (spec: string): boolean => spec.startsWith('.') || isAbsolute(spec) || /\.[mc]?[jt]s$/.test(spec);

/** Resolves a plugin spec to a URL to import and how to show it. */
function resolveSpec(spec: string, ctx: LoadContext): { url: string; shown: string } {
  if (typeof spec !== 'string' || spec.trim() === '') throw new ConfigError(`${ctx.via}: expected a module path or package name, got ${JSON.stringify(spec)}`);
  if (looksLikePath(spec)) {
    const file = isAbsolute(spec) ? spec : resolve(ctx.from, spec);
    if (!existsSync(file)) throw new ConfigError(`${ctx.via}: plugin module '${spec}' not found (looked for ${file})`);
    return { url: pathToFileURL(file).href, shown: shownPath(file) };
  }
  // A package: resolved from the scenario's folder first (its own node_modules), else from vtune-bench's.
  for (const base of [ctx.from, dirname(new URL(import.meta.url).pathname)]) {
    try {
      const file = createRequire(join(base, 'noop.js')).resolve(spec);
      return { url: pathToFileURL(file).href, shown: spec };
    } catch {
      /* not resolvable from here (or an import-only package: imported by name below) */
    }
  }
  return { url: spec, shown: spec };
}

/** Imports a module; a failure names the file and the reason (a TypeScript file's compiler diagnostic). */
async function importModule(url: string, shown: string, via: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if (/\.[mc]?ts$/.test(url)) {
      // Under tsx's loader a syntax error surfaces as an unhelpful loader error: compile once more for the diagnostic.
      const { tsImport } = await import('tsx/esm/api');
      const diagnostic = await tsImport(url, import.meta.url).then(
        () => undefined,
        (again: unknown) => (again instanceof Error && /Transform failed/.test(again.message) ? again.message : undefined),
      );
      if (diagnostic) throw new ConfigError(`${via}: plugin module ${shown} does not compile: ${diagnostic.replace(/^Transform failed with \d+ errors?:\s*/, '').trim()}`);
    }
    const reason = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && !looksLikePath(shown) ? `no package '${shown}' is installed (npm install it, or give a path)` : describeError(err);
    throw new ConfigError(`${via}: plugin module ${shown} failed to load: ${reason}`, { cause: err });
  }
}

/** The definitions a module exports: named exports and the elements of exported lists, each once. */
function exportedDefinitions(mod: Record<string, unknown>): AnyDefinition[] {
  const out: AnyDefinition[] = [];
  const add = (v: unknown): void => {
    if (isDefinition(v) && !out.includes(v)) out.push(v);
  };
  for (const value of Object.values(mod)) {
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  return out;
}

/** Loads one plugin module and registers what it declares (once per module). */
export function loadPlugin(spec: string, ctx: LoadContext): Promise<LoadedModule> {
  let resolved: { url: string; shown: string };
  try {
    resolved = resolveSpec(spec, ctx);
  } catch (err) {
    return Promise.reject(err);
  }
  const { url, shown } = resolved;
  const known = loaded.get(url);
  if (known) return known;
  const promise = register(url, spec, shown, ctx);
  loaded.set(url, promise);
  // A failed load may be retried (after the user fixes the file), so it is not remembered.
  promise.catch(() => loaded.delete(url));
  return promise;
}

async function register(url: string, spec: string, shown: string, ctx: LoadContext): Promise<LoadedModule> {
  const before = new Map(Object.entries(outsideKinds).map(([kind, r]) => [kind, new Set(r.ids)]));
  const mod = await importModule(url, shown, ctx.via);
  const plugins: LoadedPlugin[] = [];
  // Registered by the module itself (registry.register) while it was imported.
  for (const [kind, r] of Object.entries(outsideKinds) as [OutsideKind, Registry<Record<string, unknown>>][]) {
    for (const id of r.ids) if (!before.get(kind)!.has(id)) plugins.push({ kind, id });
  }
  for (const def of exportedDefinitions(mod)) {
    if (!(def.kind in outsideKinds)) {
      throw new ConfigError(`${ctx.via}: plugin module ${shown} declares ${def.kind} '${def.id}', but only ${Object.keys(outsideKinds).join(', ')} plugins can be added from outside`);
    }
    const kind = def.kind as OutsideKind;
    const registry = outsideKinds[kind];
    // Exported AND registered by the module itself: one plugin, not a collision.
    if (registry.has(def.id) && registry.get(def.id) === def) {
      if (!plugins.some((p) => p.kind === kind && p.id === def.id)) plugins.push({ kind, id: def.id });
      continue;
    }
    registry.register(def.id, def, shown);
    plugins.push({ kind, id: def.id });
  }
  if (plugins.length === 0) {
    throw new ConfigError(
      `${ctx.via}: plugin module ${shown} registers no plugin: export what defineGenerator(), defineAttack() or defineScorer() return (src/plugins/define.ts)`,
    );
  }
  return { spec, shown, plugins };
}

/**
 * Loads a list of plugin modules in order (so that a collision between two of them always names them the
 * same way). `list` is checked: a list of non-empty strings.
 */
export async function loadPlugins(list: unknown, ctx: LoadContext): Promise<LoadedModule[]> {
  if (list === undefined) return [];
  const specs = typeof list === 'string' ? [list] : list;
  if (!Array.isArray(specs)) throw new ConfigError(`${ctx.via}: expected a list of module paths or package names, got ${JSON.stringify(list)}`);
  const out: LoadedModule[] = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    const via = Array.isArray(list) ? `${ctx.via}[${i}]` : ctx.via;
    if (typeof spec !== 'string' || spec.trim() === '') throw new ConfigError(`${via}: expected a module path or package name, got ${JSON.stringify(spec)}`);
    out.push(await loadPlugin(spec, { ...ctx, via }));
  }
  return out;
}
