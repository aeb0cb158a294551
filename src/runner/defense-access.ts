/**
 * Defense access, checked before any cell runs (issue 19): every defense declares what `verify` needs of the
 * returned model (`Defense.access`: `generate` for black-box verifiers, `logprobs` for loss-based ones), and a
 * scenario pairing a defense with a model whose provider cannot give it is refused at preflight, naming the
 * defense, the model and the capability — not after hours of training, at the first `verify`. The returned
 * model is a fine-tune of the scenario's base model by the same provider, so the base model's declared
 * capabilities stand for it.
 */
import { VtuneError } from '../errors.js';
import type { Capability, Defense } from '../types.js';
import type { PluginRegistry } from './catalog.js';
import type { ScenarioDefense } from './scenario.js';

/** A scenario model as preflight opened it: what it can do, and why a capability is missing. */
export interface ModelAccess {
  readonly spec: string;
  readonly capabilities: ReadonlySet<Capability>;
  readonly unavailable?: Readonly<Partial<Record<Capability, string>>>;
}

/**
 * One problem per (defense, model, capability) the model cannot give; `models[i]` undefined = model i did
 * not open (already reported). Defenses whose options do not validate are skipped (scenario validation
 * reported them).
 */
export function defenseAccessProblems(defenses: readonly ScenarioDefense[], models: readonly (ModelAccess | undefined)[], registry: PluginRegistry | undefined): string[] {
  if (!registry) return [];
  const problems: string[] = [];
  for (const [j, d] of defenses.entries()) {
    const factory = registry.has(d.id) ? registry.get(d.id) : undefined;
    if (typeof factory !== 'function') continue;
    let defense: Partial<Defense>;
    try {
      defense = (factory as (o: Record<string, unknown>) => Partial<Defense>)({ ...d.options });
    } catch (err) {
      if (err instanceof VtuneError) continue;
      throw err;
    }
    const access = defense.access;
    if (!Array.isArray(access)) {
      problems.push(`defenses[${j}]: defense '${d.id}' declares no access (expected 'access': the capabilities its verify needs of the returned model, e.g. ['generate'])`);
      continue;
    }
    for (const [i, m] of models.entries()) {
      if (!m) continue;
      for (const c of access as readonly Capability[]) {
        if (m.capabilities.has(c)) continue;
        const why = m.unavailable?.[c];
        problems.push(`defenses[${j}]: defense '${d.id}' needs '${c}' of the returned model, which models[${i}] ('${m.spec}') cannot give${why ? ` (${why})` : ''}`);
      }
    }
  }
  return problems;
}
