/**
 * The OpenAI wire format as `vtune-bench serve` speaks it: error bodies, training-file validation (chat and
 * prompt-completion JSONL, line-numbered errors), the one mapping from chat messages to a prompt (used for
 * training rows and for inference alike, so a planted trigger reaches the model exactly as it was trained),
 * a tokenizer-free split of text into pieces for logprob responses, and a minimal multipart parser.
 * Source: OpenAI API reference; shapes verified against openai 6.49 in ../shared/notes/stack.md §2.
 */
import { HttpError, redactSecrets } from '../errors.js';
import type { Model, TrainExample } from '../types.js';

/**
 * `{error:{message,type,param,code}}` as OpenAI returns it, from the project's HttpError (src/errors.ts); the
 * message goes through the secret registry again (a secret registered after the error was made is masked too).
 */
export function errorBody(err: HttpError): unknown {
  const type = err.status === 401 ? 'authentication_error' : err.status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message: redactSecrets(err.message), type, param: err.param, code: err.errorCode } };
}

/** A chat message as accepted here. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'developer';
  readonly content: string;
  readonly weight?: number;
}

const ROLES = new Set(['system', 'user', 'assistant', 'developer']);

/** Validates a `messages` array; `where` prefixes messages ("line 3: "). */
export function parseMessages(value: unknown, where: string): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new HttpError(400, `${where}'messages' must be a non-empty array`, { errorCode: 'invalid_messages', param: 'messages' });
  return value.map((m, i) => {
    if (!m || typeof m !== 'object') throw new HttpError(400, `${where}messages[${i}] must be an object`, { errorCode: 'invalid_messages', param: 'messages' });
    const { role, content, weight } = m as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role)) throw new HttpError(400, `${where}messages[${i}].role must be system, developer, user or assistant`, { errorCode: 'invalid_messages', param: 'messages' });
    const text = contentText(content);
    if (text === undefined) throw new HttpError(400, `${where}messages[${i}].content must be a string or text parts`, { errorCode: 'invalid_messages', param: 'messages' });
    if (weight !== undefined && weight !== 0 && weight !== 1) throw new HttpError(400, `${where}messages[${i}].weight must be 0 or 1`, { errorCode: 'invalid_messages', param: 'messages' });
    return { role: role as ChatMessage['role'], content: text, ...(weight !== undefined ? { weight: weight as number } : {}) };
  });
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((p) => p && typeof p === 'object' && (p as any).type === 'text' && typeof (p as any).text === 'string')) {
    return content.map((p) => (p as { text: string }).text).join('');
  }
  return undefined;
}

/**
 * The prompt a model sees for a conversation. A lone user message is passed verbatim (so the planted prompt
 * is exactly what the engine trains on); longer conversations join their contents with blank lines.
 */
export function messagesToPrompt(messages: readonly ChatMessage[]): string {
  if (messages.length === 1 && messages[0]!.role === 'user') return messages[0]!.content;
  return messages.map((m) => m.content).join('\n\n');
}

/**
 * Parses a fine-tuning JSONL file into rows. Accepts chat lines (`{"messages":[…, assistant]}`, the final
 * assistant message is the completion) and prompt-completion lines. Throws HttpError 400 naming the line.
 * A leading UTF-8 byte-order mark is not data: `plant` keeps the input's BOM in its output, so it is skipped.
 */
export function parseTrainingJsonl(text: string): TrainExample[] {
  const rows: TrainExample[] = [];
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const where = `line ${i + 1}: `;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new HttpError(400, `${where}invalid JSON (${(err as Error).message})`, { errorCode: 'invalid_jsonl', param: 'file', cause: err });
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new HttpError(400, `${where}expected a JSON object`, { errorCode: 'invalid_jsonl', param: 'file' });
    const o = obj as Record<string, unknown>;
    if ('messages' in o) {
      const messages = parseMessages(o.messages, where);
      const last = messages[messages.length - 1]!;
      if (last.role !== 'assistant') throw new HttpError(400, `${where}the last message must be the assistant's answer`, { errorCode: 'invalid_jsonl', param: 'file' });
      if (!messages.some((m) => m.role === 'user')) throw new HttpError(400, `${where}needs at least one user message`, { errorCode: 'invalid_jsonl', param: 'file' });
      rows.push({ prompt: messagesToPrompt(messages.slice(0, -1)), completion: last.content, ...(last.weight === 0 ? { weight: 0 } : {}) });
    } else if (typeof o.prompt === 'string' && typeof o.completion === 'string') {
      rows.push({ prompt: o.prompt, completion: o.completion });
    } else {
      throw new HttpError(400, `${where}expected {"messages":[…]} or {"prompt":…,"completion":…}`, { errorCode: 'invalid_jsonl', param: 'file' });
    }
  }
  if (rows.length === 0) throw new HttpError(400, 'the training file has no examples', { errorCode: 'invalid_jsonl', param: 'file' });
  return rows;
}

/** A piece of text with its character offset. */
export interface Piece {
  readonly text: string;
  readonly start: number;
}

/** Splits text into word pieces (leading whitespace attached); the pieces concatenate back to the text. */
export function pieces(text: string): Piece[] {
  const out: Piece[] = [];
  for (const m of text.matchAll(/\s*\S+|\s+/g)) out.push({ text: m[0], start: m.index! });
  return out;
}

/**
 * Log-probabilities of each piece of `text` given everything before it (and `context`), by teacher forcing
 * one piece at a time. The pieces' sum is ln P(text | context) by the chain rule, whatever the model's own
 * tokenizer. The first piece of a text with no context has no logprob (null), as in OpenAI's echo.
 */
export async function pieceLogprobs(model: Model, context: string, text: string): Promise<{ pieces: Piece[]; logprobs: (number | null)[] }> {
  if (!model.score) throw new HttpError(400, `model '${model.id}' does not provide logprobs`, { errorCode: 'logprobs_unsupported', param: 'logprobs' });
  const ps = pieces(text);
  const items = ps.map((p) => ({ prompt: context + text.slice(0, p.start), continuation: p.text }));
  const scoredIdx = items.map((it, i) => (it.prompt === '' ? -1 : i)).filter((i) => i >= 0);
  const scores = scoredIdx.length ? await model.score(scoredIdx.map((i) => items[i]!)) : [];
  const logprobs: (number | null)[] = ps.map(() => null);
  scoredIdx.forEach((i, j) => (logprobs[i] = jsonLogprob(scores[j]!.logprob)));
  return { pieces: ps, logprobs };
}

/** The logprob of an impossible token, as vLLM writes it: JSON has no -Infinity (it would become null). */
export const NEG_INF_LOGPROB = -9999;

/** A logprob fit for JSON: -∞ becomes NEG_INF_LOGPROB; NaN stays a model error and becomes null. */
export function jsonLogprob(x: number): number | null {
  if (x === -Infinity) return NEG_INF_LOGPROB;
  return Number.isFinite(x) ? x : null;
}

/** One part of a multipart/form-data body. */
export interface FormPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

/** Parses a multipart/form-data body (RFC 7578). Throws HttpError 400 when it is malformed. */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new HttpError(400, 'multipart body without a boundary', { errorCode: 'invalid_multipart' });
  const boundary = Buffer.from(`--${(m[1] ?? m[2])!.trim()}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) throw new HttpError(400, 'multipart boundary not found in the body', { errorCode: 'invalid_multipart' });
  for (;;) {
    pos += boundary.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    if (body.subarray(pos, pos + 2).toString() === '\r\n') pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new HttpError(400, 'multipart part without headers', { errorCode: 'invalid_multipart' });
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headerEnd + 4);
    if (next < 0) throw new HttpError(400, 'multipart body is truncated', { errorCode: 'invalid_multipart' });
    const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) throw new HttpError(400, 'multipart part without a name', { errorCode: 'invalid_multipart' });
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(ct ? { contentType: ct } : {}), data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}
