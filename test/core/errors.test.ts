import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, ProviderError, VtuneError, describeError, redactSecrets, registerSecret } from '../../src/errors.js';

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
});
