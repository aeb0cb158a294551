import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The read-only `shared/` folder laid beside the repository (models and data for tests and experiments, never
 * committed). `VTUNE_SHARED` overrides the location. Returns the absolute path of `relative` inside it, or
 * undefined when that file is absent — callers skip with a reason then.
 */
export function sharedPath(relative: string): string | undefined {
  const root = process.env.VTUNE_SHARED ?? join(repoRoot, '..', 'shared');
  const p = join(root, relative);
  return existsSync(p) ? p : undefined;
}
