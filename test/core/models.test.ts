// src/core/models.ts (moved out of the pipeline by the #16 refactor): model references and the on-demand
// provider set that CLI commands run attacks and scorers through. The providers here are test doubles (they
// record what was opened, disposed and closed); no engine runs.
import { describe, expect, it } from 'vitest';
import { parseModelRef, providerSet } from '../../src/core/models.js';
import { ConfigError } from '../../src/errors.js';
import type { Model, Provider } from '../../src/types.js';

/** A provider double: model(name) returns a model whose dispose is logged; close is logged. */
function providerDouble(id: string, log: string[]): Provider {
  return {
    id,
    capabilities: new Set(['generate']),
    concurrency: 1,
    async model(name: string): Promise<Model> {
      log.push(`open ${id}:${name}`);
      return {
        id: `${id}:${name}`,
        capabilities: new Set(['generate']),
        generate: async (prompts) => prompts.map(() => ''),
        dispose: async () => {
          log.push(`dispose ${id}:${name}`);
        },
      } as Model;
    },
    close: async () => {
      log.push(`close ${id}`);
    },
  };
}

describe('parseModelRef', () => {
  it('splits at the first colon: the provider, then the rest as the name', () => {
    expect(parseModelRef('local:stories260K')).toEqual({ provider: 'local', name: 'stories260K' });
    expect(parseModelRef('openai:ft:gpt-4o-mini:org:abc')).toEqual({ provider: 'openai', name: 'ft:gpt-4o-mini:org:abc' });
  });

  it.each(['stories260K', ':stories260K', 'local:', ''])('refuses %j with a ConfigError naming the option and the form', (ref) => {
    let err: unknown;
    try {
      parseModelRef(ref);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`option 'model': expected '<provider>:<name>' (e.g. 'local:stories260K'), got '${ref}'`);
  });
});

describe('providerSet', () => {
  it('opens each provider once, on first use, and shares it between models', async () => {
    const log: string[] = [];
    const opened: string[] = [];
    const set = providerSet(async (id) => {
      opened.push(id);
      return providerDouble(id, log);
    });
    expect(opened).toEqual([]);
    const a = await set.openModel('hf:gpt2');
    const b = await set.openModel('hf:distilgpt2');
    const c = await set.openModel('openai:gpt-4o-mini');
    expect([a.id, b.id, c.id]).toEqual(['hf:gpt2', 'hf:distilgpt2', 'openai:gpt-4o-mini']);
    expect(opened).toEqual(['hf', 'openai']);
    expect(await set.openProvider('hf')).toBe(await set.openProvider('hf'));
    expect(opened).toEqual(['hf', 'openai']);
  });

  it('a given provider is used, not opened; close disposes every model and closes only the providers it opened', async () => {
    const log: string[] = [];
    const given = providerDouble('local', log);
    const opened: string[] = [];
    const set = providerSet(async (id) => {
      opened.push(id);
      return providerDouble(id, log);
    }, [given]);
    expect(await set.openProvider('local')).toBe(given);
    await set.openModel('local:stories260K');
    await set.openModel('hf:gpt2');
    expect(opened).toEqual(['hf']);
    await set.close();
    expect(log).toEqual(['open local:stories260K', 'open hf:gpt2', 'dispose local:stories260K', 'dispose hf:gpt2', 'close hf']);
    // A second close has nothing left to dispose or close.
    await set.close();
    expect(log).toHaveLength(5);
  });

  it('a provider that failed to open is skipped at close; the failure reaches the caller of openModel', async () => {
    const log: string[] = [];
    const set = providerSet(async (id) => {
      if (id === 'broken') throw new Error('cannot open broken');
      return providerDouble(id, log);
    });
    await expect(set.openModel('broken:x')).rejects.toThrow('cannot open broken');
    await set.openModel('hf:gpt2');
    await set.close();
    expect(log).toEqual(['open hf:gpt2', 'dispose hf:gpt2', 'close hf']);
  });

  it('a bad model reference is refused before any provider opens', async () => {
    const opened: string[] = [];
    const set = providerSet(async (id) => {
      opened.push(id);
      return providerDouble(id, []);
    });
    await expect(set.openModel('gpt2')).rejects.toBeInstanceOf(ConfigError);
    expect(opened).toEqual([]);
  });
});
