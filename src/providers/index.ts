/**
 * The provider registry: where models come from and how they train (DESIGN.md §5). Keys are the ids used in
 * scenarios (`<provider>:<model>`, `providers: { <id>: {options} }`) and on the command line. Each provider is
 * declared once, in its own module, with defineProvider: its options' types, validation (field paths, "did you
 * mean"), defaults and help for `vtune-bench list providers <id>`, and the capabilities it can offer. The
 * declaration is the factory and the only option validation: `providers.get(id)(options)` and the module's
 * `create*Provider(options)` both validate by it, then open the provider (hosted SDKs load lazily). Shared
 * option pieces: ./options.ts. Code-only options (a logger, an environment, a fetch function) are accepted for
 * tests and embedding, never from a scenario file (JSON cannot hold them).
 */
import { defineProvider } from '../plugins/define.js';
import { registryOf } from '../registry.js';
import { commandProvider } from './command.js';
import { hfProvider } from './hf.js';
import { localProvider } from './local.js';
import { openaiProvider } from './openai.js';
import { createTestMemorizerProvider } from './test-memorizer.js';

/** All providers by id. */
export const providers = registryOf('provider', [
  localProvider,
  defineProvider({
    id: 'test-memorizer',
    description: 'A TEST DOUBLE for unit tests only (never a default): a deterministic word-level memoriser',
    capabilities: ['train', 'generate', 'logprobs'],
    create: () => createTestMemorizerProvider(),
  }),
  openaiProvider,
  hfProvider,
  commandProvider,
] as const);

/** A provider id. */
export type ProviderId = (typeof providers.ids)[number];
