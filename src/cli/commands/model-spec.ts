/**
 * `<provider>:<model>` specs on the command line (e.g. `local:stories260K`, `openai:ft:gpt-4o-mini:…`,
 * `test-memorizer:base`): the provider id is everything before the first colon, the model name the rest.
 */
import { ConfigError } from '../../errors.js';
import { providers } from '../../providers/index.js';
import type { Model, Provider } from '../../types.js';

/** An opened model and the provider instance to close when done. */
export interface OpenedModel {
  readonly provider: Provider;
  readonly model: Model;
}

/** Opens `<provider>:<model>`; `option` names the CLI option in error messages. */
export async function openModelSpec(spec: string, option: string): Promise<OpenedModel> {
  const at = spec.indexOf(':');
  if (at <= 0 || at === spec.length - 1) {
    throw new ConfigError(`--${option} must be <provider>:<model> (e.g. local:stories260K), got '${spec}'. Providers: ${providers.ids.join(', ')}`);
  }
  const factory = providers.get(spec.slice(0, at)) as (options?: Record<string, unknown>) => Promise<Provider> | Provider;
  const provider = await factory({});
  try {
    return { provider, model: await provider.model(spec.slice(at + 1)) };
  } catch (err) {
    await provider.close?.();
    throw err;
  }
}
