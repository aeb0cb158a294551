/**
 * Models by reference, `<provider>:<name>` (e.g. `local:stories260K`, `openai:ft:gpt-4o-mini:…`): the provider
 * id is everything before the first colon, the model name the rest. A leaf module: the caller says how a
 * provider is opened (the runner from its scenario-configured instances, a CLI command from the registry).
 */
import { ConfigError } from '../errors.js';
import type { Model, Provider } from '../types.js';

/** Splits '<provider>:<name>'. */
export function parseModelRef(ref: string): { provider: string; name: string } {
  const at = ref.indexOf(':');
  if (at <= 0 || at === ref.length - 1) throw new ConfigError(`option 'model': expected '<provider>:<name>' (e.g. 'local:stories260K'), got '${ref}'`);
  return { provider: ref.slice(0, at), name: ref.slice(at + 1) };
}

/**
 * Providers opened on demand and shared, for code that runs attacks or scorers outside the runner (a CLI
 * command): `openModel` is what a ProviderContext needs. `close` disposes every model opened through it and
 * closes the providers it opened (not the `given` ones, which the caller owns).
 */
export function providerSet(open: (id: string) => Promise<Provider>, given: readonly Provider[] = []): {
  openProvider(id: string): Promise<Provider>;
  openModel(ref: string): Promise<Model>;
  close(): Promise<void>;
} {
  const opened = new Map<string, Promise<Provider>>(given.map((p) => [p.id, Promise.resolve(p)]));
  const owned = new Set<string>();
  const models: Model[] = [];
  const openProvider = (id: string): Promise<Provider> => {
    let p = opened.get(id);
    if (!p) {
      p = open(id);
      opened.set(id, p);
      owned.add(id);
    }
    return p;
  };
  return {
    openProvider,
    async openModel(ref) {
      const { provider, name } = parseModelRef(ref);
      const m = await (await openProvider(provider)).model(name);
      models.push(m);
      return m;
    },
    async close() {
      for (const m of models.splice(0)) await m.dispose?.();
      for (const id of owned) {
        const p = await opened.get(id)!.catch(() => undefined);
        await p?.close?.();
      }
      owned.clear();
    },
  };
}
