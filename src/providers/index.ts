/**
 * The provider registry: where models come from and how they train (DESIGN.md §5). Keys are the ids used in
 * scenarios and on the command line; each entry is a factory taking that provider's options.
 */
import { defineRegistry } from '../registry.js';
import { createLocalProvider } from './local.js';
import { createTestMemorizerProvider } from './test-memorizer.js';
import type { CommandProviderOptions } from './command.js';
import type { HfProviderOptions } from './hf.js';
import type { OpenAIProviderOptions } from './openai.js';

/** All providers by id. */
export const providers = defineRegistry('provider', {
  local: createLocalProvider,
  /** A test double for unit tests only (never a default). */
  'test-memorizer': createTestMemorizerProvider,
  openai: async (options: Record<string, unknown> = {}) => (await import('./openai.js')).createOpenAIProvider(options as OpenAIProviderOptions),
  hf: async (options: Record<string, unknown> = {}) => (await import('./hf.js')).createHfProvider(options as HfProviderOptions),
  command: async (options: Record<string, unknown> = {}) => (await import('./command.js')).createCommandProvider(options as Partial<CommandProviderOptions>),
});

/** A provider id. */
export type ProviderId = (typeof providers.ids)[number];
