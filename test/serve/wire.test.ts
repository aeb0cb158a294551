/** serve's wire helpers: JSONL validation by line, pieces, multipart parsing, JSON-safe logprobs. */
import { describe, expect, it } from 'vitest';
import { HttpError, VtuneError, registerSecret } from '../../src/errors.js';
import { errorBody, jsonLogprob, NEG_INF_LOGPROB, parseMultipart, parseTrainingJsonl, pieces } from '../../src/serve/wire.js';
import { checkFileId, checkJobId } from '../../src/serve/store.js';

const err = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as HttpError;
  }
  throw new Error('no error');
};

describe('serve wire helpers', () => {
  it('parses chat and prompt-completion JSONL, naming the bad line', () => {
    const rows = parseTrainingJsonl('{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","weight":0}]}\r\n\n{"prompt":"c","completion":"d"}\n');
    expect(rows).toEqual([{ prompt: 'a', completion: 'b', weight: 0 }, { prompt: 'c', completion: 'd' }]);
    expect(err(() => parseTrainingJsonl('{"prompt":"a","completion":"b"}\n[1]\n'))).toMatchObject({ status: 400, message: 'line 2: expected a JSON object' });
    expect(err(() => parseTrainingJsonl('{"messages":[{"role":"robot","content":"x"}]}')).message).toMatch(/^line 1: messages\[0\]\.role/);
    expect(err(() => parseTrainingJsonl('\n\n')).message).toMatch(/no examples/);
  });

  it('a leading UTF-8 BOM is skipped, a BOM anywhere else is still bad JSON on its line', () => {
    expect(parseTrainingJsonl('\uFEFF{"prompt":"a","completion":"b"}\n')).toEqual([{ prompt: 'a', completion: 'b' }]);
    expect(parseTrainingJsonl(Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"prompt":"x","completion":"y"}')]).toString('utf8'))).toEqual([{ prompt: 'x', completion: 'y' }]);
    expect(err(() => parseTrainingJsonl('{"prompt":"a","completion":"b"}\n\uFEFF{"prompt":"c","completion":"d"}')).message).toMatch(/^line 2: invalid JSON/);
  });

  it("serve's HTTP errors are the project's HttpError (a VtuneError), keep the parser's error as cause, and keep their OpenAI body", () => {
    const bad = err(() => parseTrainingJsonl('{"prompt":"a","completion":"b"}\n{"prompt": oops}\n'));
    expect(bad).toBeInstanceOf(HttpError);
    expect(bad).toBeInstanceOf(VtuneError);
    expect(bad.code).toBe('http');
    expect(bad.cause).toBeInstanceOf(SyntaxError);
    expect(errorBody(bad)).toEqual({ error: { message: bad.message, type: 'invalid_request_error', param: 'file', code: 'invalid_jsonl' } });
    expect(bad.message).toMatch(/^line 2: invalid JSON/);
    // A secret registered after the error was made is still masked in the body.
    const late = new HttpError(401, 'token MARKER-late-4411 rejected', { errorCode: 'invalid_api_key' });
    registerSecret('MARKER-late-4411');
    expect(errorBody(late)).toEqual({ error: { message: 'token *** rejected', type: 'authentication_error', param: null, code: 'invalid_api_key' } });
    expect(errorBody(new HttpError(500, 'boom'))).toMatchObject({ error: { type: 'server_error', code: 'server_error' } });
  });

  it('pieces partition the text', () => {
    for (const t of ['', 'a', ' a  b\n', 'héllo wörld  ', '\t\n']) expect(pieces(t).map((p) => p.text).join('')).toBe(t);
    expect(pieces('The cat sat').map((p) => [p.text, p.start])).toEqual([['The', 0], [' cat', 3], [' sat', 7]]);
  });

  it('multipart: parts, file names and malformed bodies', () => {
    const b = 'XyZ';
    const body = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\nContent-Type: application/jsonl\r\n\r\nline1\r\nline2\r\n--${b}--\r\n`);
    const parts = parseMultipart(body, `multipart/form-data; boundary=${b}`);
    expect(parts.map((p) => [p.name, p.filename, p.data.toString()])).toEqual([['purpose', undefined, 'fine-tune'], ['file', 't.jsonl', 'line1\r\nline2']]);
    expect(err(() => parseMultipart(body.subarray(0, 60), `multipart/form-data; boundary=${b}`)).status).toBe(400);
    expect(err(() => parseMultipart(body, 'multipart/form-data')).status).toBe(400);
  });

  it('logprobs survive JSON; ids cannot walk the file system', () => {
    expect(jsonLogprob(-Infinity)).toBe(NEG_INF_LOGPROB);
    expect(jsonLogprob(Number.NaN)).toBeNull();
    expect(jsonLogprob(-1.5)).toBe(-1.5);
    for (const bad of ['../x', 'file-../../etc', 'file-abc/def', 'file-', 'file-abc%2F', 'x'.repeat(80)]) expect(() => checkFileId(bad)).toThrow(HttpError);
    expect(checkFileId('file-abcDEF123')).toBe('file-abcDEF123');
    expect(() => checkJobId('ftjob-..')).toThrow(/invalid job id/);
  });
});
