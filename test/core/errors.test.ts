import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, ProviderError, VtuneError, describeError, formatPath, prefixProblems, redactSecrets, registerSecret } from '../../src/errors.js';

describe('errors', () => {
  it('form one hierarchy with codes and causes', () => {
    const cause = new Error('low level');
    const e = new ProviderError('upload failed', { cause, retryable: true, status: 503 });
    expect(e).toBeInstanceOf(VtuneError);
    expect(e.code).toBe('provider');
    expect(e.cause).toBe(cause);
    expect(e.retryable).toBe(true);
    expect(new ConfigError('x').name).toBe('ConfigError');
    expect(describeError(e)).toBe('upload failed (cause: low level)');
  });

  it('InputError names the file and line', () => {
    const e = new InputError('expected a JSON object', { file: 'data.jsonl', line: 7 });
    expect(e.message).toBe('data.jsonl:7: expected a JSON object');
    expect(e.line).toBe(7);
  });

  it('never lets an API key or a registered secret through', () => {
    expect(redactSecrets('key sk-proj-abcdefghijklmnop failed')).toBe('key *** failed');
    expect(redactSecrets('Authorization: Bearer abcdef123456789')).not.toContain('abcdef123456789');
    expect(redactSecrets('token hf_abcdefghijklmnopqrst')).not.toContain('hf_abcdefghij');
    registerSecret('MARKER-7731-SECRET');
    expect(new VtuneError('bad MARKER-7731-SECRET here').message).toBe('bad *** here');
    expect(describeError('MARKER-7731-SECRET')).toBe('***');
  });

  it('ConfigError carries field paths as data and derives its message from them', () => {
    const plain = new ConfigError('unknown attack \'x\'');
    expect(plain.problems).toEqual([{ path: [], message: "unknown attack 'x'" }]);
    expect(plain.message).toBe("unknown attack 'x'");

    const one = new ConfigError('expected an integer ≥ 1, got 1.5', { path: ['hyper', 'epochs'], file: 'scenarios/a.ts' });
    expect(one.problems).toEqual([{ path: ['hyper', 'epochs'], message: 'expected an integer ≥ 1, got 1.5' }]);
    expect(one.message).toBe('scenarios/a.ts: hyper.epochs: expected an integer ≥ 1, got 1.5');
    expect(one.file).toBe('scenarios/a.ts');

    const many = new ConfigError(
      [
        { path: ['attacks', 2, 'options', 'fraction'], message: 'expected a number' },
        { path: ['seeds'], message: 'seeds must be distinct' },
      ],
      { file: 's.json' },
    );
    expect(many.message).toBe('s.json: 2 problems:\n  s.json: attacks[2].options.fraction: expected a number\n  s.json: seeds: seeds must be distinct');
    expect(many.problems.map((p) => p.path)).toEqual([['attacks', 2, 'options', 'fraction'], ['seeds']]);

    // A plugin checks its own options (paths relative to them); the scenario loader re-homes them without reading text.
    const plugin = new ConfigError('expected a number in (0, 1], got 2', { path: ['fraction'], subject: "attack 'random-subset'" });
    expect(plugin.message).toBe("attack 'random-subset': fraction: expected a number in (0, 1], got 2");
    expect(plugin.within(['attacks', 1, 'options'])).toEqual([{ path: ['attacks', 1, 'options', 'fraction'], message: 'expected a number in (0, 1], got 2' }]);
    expect(prefixProblems(['x'], [{ path: [0], message: 'm' }])).toEqual([{ path: ['x', 0], message: 'm' }]);
    expect(() => new ConfigError([])).toThrow(/at least one problem/);
  });

  it('formatPath quotes keys that are not plain identifiers', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['providers', 'test-memorizer', 'delayMs'])).toBe('providers.test-memorizer.delayMs');
    expect(formatPath(['datasets', 0, 'fieldMap'])).toBe('datasets[0].fieldMap');
    expect(formatPath([3, 'a b', '0'])).toBe('[3]["a b"]["0"]');
  });

  it('InputError carries the field path as data too, and problem messages are redacted', () => {
    const e = new InputError('expected a string', { file: 'rows.jsonl', line: 3, path: ['messages', 1, 'content'] });
    expect(e.message).toBe('rows.jsonl:3: messages[1].content: expected a string');
    expect(e.path).toEqual(['messages', 1, 'content']);
    expect(e.detail).toBe('expected a string');
    const c = new ConfigError('bad key sk-proj-abcdefghijklmnop', { path: ['providers', 'openai', 'apiKey'] });
    expect(c.problems[0]!.message).toBe('bad key ***');
    expect(c.message).not.toContain('abcdefghijklmnop');
  });
});
