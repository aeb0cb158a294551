/**
 * Record formats of fine-tuning data files: how one JSON object becomes a Row, and how a new Row is written
 * back in the same format. Shared by the file loader (files.ts) and the Hugging Face loader (hf.ts).
 *
 * Supported: OpenAI chat (`{messages:[…]}`), legacy OpenAI prompt/completion (with an end marker such as
 * `<|endoftext|>` that is stripped on read and restored on write), Alpaca (`{instruction, input, output}`), and a
 * field mapping for any other schema (a few well-known ones, e.g. self-instruct's seed tasks, are detected).
 */
import type { Row } from '../types.js';

/** The record layouts a data file may use. */
export type FormatKind = 'chat' | 'prompt-completion' | 'alpaca' | 'mapped';

/**
 * Where prompt and completion live in a record of another schema. Paths are dot-separated; numeric segments
 * index arrays (`instances.0.input`). The non-empty prompt fields, joined by `separator`, form the prompt.
 */
export interface FieldMapping {
  readonly prompt: string | readonly string[];
  readonly completion: string;
  /** Joins the prompt fields (default: a blank line). */
  readonly separator?: string;
}

/** How the JSON text of a line is laid out, so new lines look like the file's own (e.g. Python's json.dumps). */
export interface JsonStyle {
  /** `{"a": 1, "b": 2}` rather than `{"a":1,"b":2}`. */
  readonly spaced: boolean;
  /** Non-ASCII characters written as `\uXXXX` escapes. */
  readonly asciiOnly: boolean;
}

/** A file's format: enough to turn records into rows and to write new rows back exactly as the file would. */
export interface DataFormat {
  readonly kind: FormatKind;
  /** prompt-completion: the marker every completion ended with, stripped on read and restored on write. */
  readonly endMarker?: string;
  /** chat: the first row's system prompt; a new row whose prompt starts with it gets it as its system turn. */
  readonly systemPrompt?: string;
  /** mapped: where prompt and completion live. */
  readonly mapping?: FieldMapping;
  /** mapped: the name of a recognised schema (e.g. `self-instruct`), for display. */
  readonly schema?: string;
  /** Joins prompt parts (system and user turns, instruction and input). */
  readonly separator?: string;
  /** Top-level key order of the first record, for new records. */
  readonly keyOrder?: readonly string[];
  readonly json?: JsonStyle;
  readonly eol?: '\n' | '\r\n';
  /** Whether the last line ended with a line break. */
  readonly finalNewline?: boolean;
  /** Whether the file started with a UTF-8 byte-order mark. */
  readonly bom?: boolean;
  /** The file the rows were read from, with the size and mtime it had, so its lines can be copied verbatim. */
  readonly source?: { readonly path: string; readonly size: number; readonly mtimeMs: number };
}

const DEFAULT_SEPARATOR = '\n\n';

/** Markers that legacy prompt/completion files append to every completion, longest first. */
export const END_MARKERS: readonly string[] = ['<|endoftext|>', '<|eot_id|>', '<|im_end|>', '<|end|>', '</s>', '\n###', ' END', '###', '\n'];

/** Well-known schemas recognised by their keys. Order matters: the first whose keys are all present wins. */
const KNOWN_MAPPINGS: readonly { readonly schema: string; readonly keys: readonly string[]; readonly mapping: FieldMapping }[] = [
  { schema: 'self-instruct', keys: ['instruction', 'instances'], mapping: { prompt: ['instruction', 'instances.0.input'], completion: 'instances.0.output' } },
  { schema: 'dolly', keys: ['instruction', 'context', 'response'], mapping: { prompt: ['instruction', 'context'], completion: 'response' } },
  { schema: 'instruction-response', keys: ['instruction', 'response'], mapping: { prompt: ['instruction'], completion: 'response' } },
  { schema: 'squad', keys: ['context', 'question', 'answers'], mapping: { prompt: ['context', 'question'], completion: 'answers.text.0' } },
  { schema: 'question-answer', keys: ['question', 'answer'], mapping: { prompt: ['question'], completion: 'answer' } },
  { schema: 'input-output', keys: ['input', 'output'], mapping: { prompt: ['input'], completion: 'output' } },
  { schema: 'input-target', keys: ['input', 'target'], mapping: { prompt: ['input'], completion: 'target' } },
  { schema: 'source-target', keys: ['source', 'target'], mapping: { prompt: ['source'], completion: 'target' } },
];

/** The format implied by one record, or undefined when it matches none (a mapping is needed then). */
export function detectFormat(record: Record<string, unknown>): Pick<DataFormat, 'kind' | 'mapping' | 'schema' | 'systemPrompt'> | undefined {
  if (Array.isArray(record.messages)) {
    const first = record.messages[0] as { role?: unknown } | undefined;
    const systemPrompt = first && first.role === 'system' ? messageText(first) : undefined;
    return { kind: 'chat', ...(typeof systemPrompt === 'string' ? { systemPrompt } : {}) };
  }
  if ('prompt' in record && 'completion' in record) return { kind: 'prompt-completion' };
  if ('instruction' in record && 'output' in record) return { kind: 'alpaca' };
  for (const known of KNOWN_MAPPINGS) {
    if (known.keys.every((k) => k in record)) return { kind: 'mapped', mapping: known.mapping, schema: known.schema };
  }
  return undefined;
}

/**
 * Turns one record into a row (completion still carrying any end marker: files.ts strips it once the whole file
 * has shown which marker every row uses). Returns an error message instead of throwing: the caller knows the line.
 */
export function decodeRecord(record: Record<string, unknown>, format: DataFormat): Row | string {
  const sep = format.separator ?? DEFAULT_SEPARATOR;
  switch (format.kind) {
    case 'prompt-completion': {
      const { prompt, completion } = record;
      if (typeof prompt !== 'string') return missing('prompt', prompt, 'prompt-completion');
      if (typeof completion !== 'string') return missing('completion', completion, 'prompt-completion');
      return { prompt, completion };
    }
    case 'alpaca': {
      const { instruction, input, output } = record;
      if (typeof instruction !== 'string') return missing('instruction', instruction, 'Alpaca');
      if (input !== undefined && input !== null && typeof input !== 'string') return `field 'input' must be a string (Alpaca format), got ${typeName(input)}`;
      if (typeof output !== 'string') return missing('output', output, 'Alpaca');
      return { prompt: input ? instruction + sep + input : instruction, completion: output };
    }
    case 'chat':
      return decodeChat(record, sep);
    case 'mapped': {
      if (!format.mapping) return 'a mapped format needs a field mapping';
      return decodeMapped(record, format.mapping);
    }
  }
}

function decodeChat(record: Record<string, unknown>, sep: string): Row | string {
  const messages = record.messages;
  if (!Array.isArray(messages)) return missing('messages', messages, 'chat');
  if (messages.length === 0) return "chat row has an empty 'messages' list; expected turns ending with an assistant turn";
  const texts: string[] = [];
  let lastAssistant = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as { role?: unknown } | null;
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string') return `messages[${i}] must be an object with a string 'role'`;
    const text = messageText(m);
    if (text === undefined) return `messages[${i}] (${m.role}) has no text 'content'`;
    if (m.role === 'assistant') lastAssistant = i;
    texts.push(text);
  }
  if (lastAssistant < 0) return 'chat row has no assistant turn; the final assistant message is the completion';
  if (lastAssistant !== messages.length - 1) {
    const role = (messages[messages.length - 1] as { role: string }).role;
    return `chat row must end with the assistant turn it is trained on (last message has role '${role}')`;
  }
  if (lastAssistant === 0) return 'chat row has no system or user turn before the assistant turn';
  return { prompt: texts.slice(0, -1).join(sep), completion: texts[texts.length - 1]! };
}

function messageText(m: object): string | undefined {
  const content = (m as { content?: unknown }).content;
  if (typeof content === 'string') return content;
  // OpenAI content parts: [{type:'text', text}]
  if (Array.isArray(content) && content.every((p) => typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string')) {
    return content.map((p) => (p as { text: string }).text).join('');
  }
  return undefined;
}

function decodeMapped(record: Record<string, unknown>, mapping: FieldMapping): Row | string {
  const paths = typeof mapping.prompt === 'string' ? [mapping.prompt] : mapping.prompt;
  const parts: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    const v = getPath(record, paths[i]!);
    if (v === undefined || v === null || v === '') {
      if (i === 0) return `missing field '${paths[i]}' (prompt of the field mapping)`;
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `field '${paths[i]}' must be text, got ${typeName(v)}`;
    parts.push(String(v));
  }
  const c = getPath(record, mapping.completion);
  if (typeof c !== 'string' && typeof c !== 'number' && typeof c !== 'boolean') {
    return c === undefined ? `missing field '${mapping.completion}' (completion of the field mapping)` : `field '${mapping.completion}' must be text, got ${typeName(c)}`;
  }
  return { prompt: parts.join(mapping.separator ?? DEFAULT_SEPARATOR), completion: String(c) };
}

/** The value at a dot path (`instances.0.input`), or undefined. */
export function getPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(seg)] : (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const segs = path.split('.');
  let cur: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < segs.length - 1; i++) {
    const key = segs[i]!;
    const nextIsIndex = /^\d+$/.test(segs[i + 1]!);
    const slot = (cur as Record<string, unknown>)[key];
    if (slot === null || typeof slot !== 'object') (cur as Record<string, unknown>)[key] = nextIsIndex ? [] : {};
    cur = (cur as Record<string, unknown>)[key] as Record<string, unknown>;
  }
  (cur as Record<string, unknown>)[segs[segs.length - 1]!] = value;
}

/** A new record for `row` in `format` (the inverse of decodeRecord for rows it produced). */
export function encodeRecord(row: Row, format: DataFormat): Record<string, unknown> {
  const sep = format.separator ?? DEFAULT_SEPARATOR;
  let record: Record<string, unknown>;
  switch (format.kind) {
    case 'prompt-completion':
      record = { prompt: row.prompt, completion: row.completion + (format.endMarker ?? '') };
      break;
    case 'alpaca':
      record = { instruction: row.prompt, input: '', output: row.completion };
      break;
    case 'chat': {
      const sys = format.systemPrompt;
      const messages: { role: string; content: string }[] = [];
      if (sys !== undefined && row.prompt.startsWith(sys + sep)) {
        messages.push({ role: 'system', content: sys }, { role: 'user', content: row.prompt.slice(sys.length + sep.length) });
      } else {
        messages.push({ role: 'user', content: row.prompt });
      }
      messages.push({ role: 'assistant', content: row.completion });
      record = { messages };
      break;
    }
    case 'mapped': {
      const mapping = format.mapping!;
      const paths = typeof mapping.prompt === 'string' ? [mapping.prompt] : mapping.prompt;
      record = {};
      paths.forEach((p, i) => setPath(record, p, i === 0 ? row.prompt : ''));
      setPath(record, mapping.completion, row.completion);
      break;
    }
  }
  return orderKeys(record, format.keyOrder);
}

function orderKeys(record: Record<string, unknown>, order: readonly string[] | undefined): Record<string, unknown> {
  if (!order) return record;
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in record) out[k] = record[k];
  for (const k of Object.keys(record)) if (!(k in out)) out[k] = record[k];
  return out;
}

/** JSON text in the file's own style (compact like JSON.stringify, or spaced/ASCII-only like Python's json.dumps). */
export function stringifyStyled(value: unknown, style: JsonStyle | undefined): string {
  if (!style || (!style.spaced && !style.asciiOnly)) return JSON.stringify(value);
  const text = style.spaced ? spacedJson(value) : JSON.stringify(value);
  return style.asciiOnly ? text.replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spacedJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${spacedJson(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** The style of one line of JSON text. `asciiOnly` can only be guessed from lines with escapes: see files.ts. */
export function lineIsSpaced(line: string): boolean {
  return /^\s*\{\s*"(?:[^"\\]|\\.)*": /.test(line);
}

function missing(field: string, value: unknown, kind: string): string {
  return value === undefined ? `missing field '${field}' (${kind} format)` : `field '${field}' must be a string (${kind} format), got ${typeName(value)}`;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
