/**
 * Record formats of fine-tuning data files: how one JSON object becomes a Row, and how a new Row is written
 * back in the same format. Shared by the file loader (files.ts) and the Hugging Face loader (hf.ts).
 *
 * Supported: OpenAI chat (`{messages:[…]}`), legacy OpenAI prompt/completion (with an end marker such as
 * `<|endoftext|>` that is stripped on read and restored on write), Alpaca (`{instruction, input, output}`), and a
 * field mapping for any other schema (a few well-known ones, e.g. self-instruct's seed tasks, are detected;
 * any other is named with `--field-map prompt=question,completion=answer`).
 *
 * Shape preservation: a planted row is derived from a host row (`deriveRow`), and is written as a copy of the
 * host's own record with only the text it changed put back where it came from (the instruction or the input, the
 * user turn, the mapped field), so it has the same keys, value types and layout as the rows around it. Keys
 * whose values are unique in the file (`id`: `seed_task_7`) get a fresh value in the file's own pattern when the
 * host row stays in the file, so no id is duplicated.
 */
import { ConfigError, type FieldPath } from '../errors.js';
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
  /** Top-level keys whose values are unique across the file (ids), with how to make a fresh one. */
  readonly freshKeys?: readonly FreshKey[];
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

// ───────────────────────────── field maps (--field-map) ─────────────────────────────

/**
 * Where a field map came from, for its errors: a CLI option's name (`--field-map`, the errors' subject) or a
 * scenario field's path (`['datasets', 0, 'fieldMap']`, carried as data in ConfigError.problems).
 */
export type FieldMapSource = string | FieldPath;

function fieldMapError(option: FieldMapSource, message: string): ConfigError {
  return typeof option === 'string' ? new ConfigError(message, { subject: option }) : new ConfigError(message, { path: option });
}

/**
 * Parses a field map such as `prompt=question,completion=answer` (repeat `prompt=` for several prompt fields, in
 * order; `separator=` sets how they are joined, with `\n` and `\t` escapes). `option` says where it came from.
 */
export function parseFieldMap(text: string, option: FieldMapSource = '--field-map'): FieldMapping {
  const prompt: string[] = [];
  let completion: string | undefined;
  let separator: string | undefined;
  const expected = `expected e.g. 'prompt=question,completion=answer' (prompt= may repeat; optional separator=)`;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw fieldMapError(option, `'${part}' is not key=field; ${expected}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1);
    if (key === 'separator') {
      separator = value.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
      continue;
    }
    const path = value.trim();
    if (path === '' || /^\.|\.$|\.\./.test(path)) throw fieldMapError(option, `'${key}' needs a field path (dot-separated, e.g. instances.0.output), got '${value}'`);
    if (key === 'prompt') prompt.push(path);
    else if (key === 'completion') {
      if (completion !== undefined) throw fieldMapError(option, `'completion' is given twice`);
      completion = path;
    } else throw fieldMapError(option, `unknown key '${key}'; ${expected}`);
  }
  if (prompt.length === 0 || completion === undefined) throw fieldMapError(option, `needs both prompt= and completion=; ${expected}`);
  return { prompt: prompt.length === 1 ? prompt[0]! : prompt, completion, ...(separator !== undefined ? { separator } : {}) };
}

/** A field map given as text (`prompt=q,completion=a`) or as an object `{prompt, completion, separator?}`. */
export function fieldMapOption(value: unknown, option: FieldMapSource): FieldMapping {
  if (typeof value === 'string') return parseFieldMap(value, option);
  const v = value as Record<string, unknown> | null;
  const isPath = (x: unknown) => typeof x === 'string' && x.length > 0;
  if (
    v === null ||
    typeof v !== 'object' ||
    !(isPath(v.prompt) || (Array.isArray(v.prompt) && v.prompt.length > 0 && v.prompt.every(isPath))) ||
    !isPath(v.completion) ||
    (v.separator !== undefined && typeof v.separator !== 'string') ||
    Object.keys(v).some((k) => !['prompt', 'completion', 'separator'].includes(k))
  ) {
    throw fieldMapError(option, `expected 'prompt=<field>,completion=<field>' or {prompt: string | string[], completion: string, separator?: string}, got ${JSON.stringify(value)}`);
  }
  return v as unknown as FieldMapping;
}

// ───────────────────────────── shape-preserving planting ─────────────────────────────

/** A top-level key whose values are unique in the file, and how a fresh value is made. */
export type FreshKey =
  /** `seed_task_174` → `seed_task_175`, … (digits zero-padded to `width` when the file pads them). */
  | { readonly key: string; readonly kind: 'counter'; readonly prefix: string; readonly next: number; readonly width: number }
  /** Numbers: max + 1, … */
  | { readonly key: string; readonly kind: 'number'; readonly next: number }
  /** Other unique strings: the host's value with `_2`, `_3`… appended. */
  | { readonly key: string; readonly kind: 'suffix' };

/** Values longer than this are not tracked for uniqueness (long text is not an id). */
const MAX_ID_LENGTH = 256;

/** The top-level keys that hold a format's text (never given fresh values). */
function textKeys(format: Pick<DataFormat, 'kind' | 'mapping'>): Set<string> {
  switch (format.kind) {
    case 'prompt-completion':
      return new Set(['prompt', 'completion']);
    case 'alpaca':
      return new Set(['instruction', 'input', 'output']);
    case 'chat':
      return new Set(['messages']);
    case 'mapped': {
      const m = format.mapping!;
      return new Set([...(typeof m.prompt === 'string' ? [m.prompt] : m.prompt), m.completion].map((p) => p.split('.')[0]!));
    }
  }
}

/** Watches every record of a file to find the keys whose values are unique (ids), for `DataFormat.freshKeys`. */
export class UniqueKeyTracker {
  private readonly seen = new Map<string, Set<string | number> | undefined>();
  private records = 0;

  /** Takes the next record. */
  observe(record: Record<string, unknown>): void {
    if (this.records++ === 0) {
      for (const [k, v] of Object.entries(record)) if (typeof v === 'string' || typeof v === 'number') this.seen.set(k, new Set());
    }
    for (const [k, set] of this.seen) {
      if (!set) continue;
      const v = record[k];
      if ((typeof v !== 'string' && typeof v !== 'number') || (typeof v === 'string' && v.length > MAX_ID_LENGTH) || set.has(v)) this.seen.set(k, undefined);
      else set.add(v);
    }
  }

  /** The unique keys of the file in `format` (at least two records; text fields excluded). */
  freshKeys(format: Pick<DataFormat, 'kind' | 'mapping'>): FreshKey[] {
    if (this.records < 2) return [];
    const text = textKeys(format);
    const out: FreshKey[] = [];
    for (const [key, set] of this.seen) {
      if (!set || set.size !== this.records || text.has(key)) continue;
      const values = [...set];
      if (values.every((v) => typeof v === 'number')) {
        out.push({ key, kind: 'number', next: Math.floor(Math.max(...(values as number[]))) + 1 });
        continue;
      }
      const parts = values.map((v) => (typeof v === 'string' ? /^(.*?)(\d+)$/.exec(v) : null));
      const prefix = parts[0]?.[1];
      if (prefix !== undefined && parts.every((m) => m !== null && m[1] === prefix)) {
        const digits = parts.map((m) => m![2]!);
        const padded = digits.some((d) => d.length > 1 && d.startsWith('0'));
        out.push({ key, kind: 'counter', prefix, next: Math.max(...digits.map(Number)) + 1, width: padded ? digits[0]!.length : 0 });
      } else out.push({ key, kind: 'suffix' });
    }
    return out;
  }
}

/** New rows derived from a host row (planted copies or in-place changes), by the new row. */
const hosts = new WeakMap<Row, Row>();

/**
 * Marks `row` as derived from `host` (the row it was copied from and changed): a writer then encodes it as the
 * host's own record with the changed text put back in place (see encodeLike). Returns `row`.
 */
export function deriveRow(host: Row, row: Row): Row {
  hosts.set(row, host);
  return row;
}

/** The row `row` was derived from, if any. */
export function hostOf(row: Row): Row | undefined {
  return hosts.get(row);
}

/** One text field of a record: its current text and how to write a new one in place (keeping its type). */
interface TextSlot {
  readonly text: string;
  write(value: string): void;
}

/** Writes `value` where `old` was: a number stays a number when the new text is one. */
function typed(old: unknown, value: string): unknown {
  if (typeof old === 'number' && value.trim() !== '' && Number.isFinite(Number(value)) && String(Number(value)) === value) return Number(value);
  if (typeof old === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function pathSlot(record: Record<string, unknown>, path: string): TextSlot | undefined {
  const segs = path.split('.');
  const owner = segs.length === 1 ? record : getPath(record, segs.slice(0, -1).join('.'));
  if (owner === null || typeof owner !== 'object') return undefined;
  const key = segs[segs.length - 1]!;
  const obj = owner as Record<string, unknown>;
  const v = Array.isArray(owner) ? (owner as unknown[])[Number(key)] : obj[key];
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
  return {
    text: String(v),
    write: (value) => {
      if (Array.isArray(owner)) (owner as unknown[])[Number(key)] = typed(v, value);
      else obj[key] = typed(v, value);
    },
  };
}

function messageSlot(message: Record<string, unknown>): TextSlot | undefined {
  const content = message.content;
  if (typeof content === 'string') return { text: content, write: (v) => (message.content = v) };
  const text = messageText(message);
  if (text === undefined || !Array.isArray(content)) return undefined;
  // Content parts: the first text part takes the new text, the others are emptied (same parts, same keys).
  return {
    text,
    write: (v) => content.forEach((p: { text: string }, i) => (p.text = i === 0 ? v : '')),
  };
}

/** The prompt slots (in decode order, only those decode joins), the completion slot and the join separator. */
function slotsOf(record: Record<string, unknown>, format: DataFormat): { prompt: TextSlot[]; completion: TextSlot; sep: string } | undefined {
  const sep = format.separator ?? DEFAULT_SEPARATOR;
  switch (format.kind) {
    case 'prompt-completion': {
      const prompt = pathSlot(record, 'prompt');
      const completion = pathSlot(record, 'completion');
      if (!prompt || !completion) return undefined;
      const marker = format.endMarker ?? '';
      return { prompt: [prompt], completion: { text: completion.text, write: (v) => completion.write(v + marker) }, sep };
    }
    case 'alpaca': {
      const instruction = pathSlot(record, 'instruction');
      const input = typeof record.input === 'string' && record.input !== '' ? pathSlot(record, 'input') : undefined;
      const output = pathSlot(record, 'output');
      if (!instruction || !output) return undefined;
      return { prompt: input ? [instruction, input] : [instruction], completion: output, sep };
    }
    case 'chat': {
      const messages = record.messages;
      if (!Array.isArray(messages) || messages.length < 2) return undefined;
      const slots = messages.map((m) => (m !== null && typeof m === 'object' ? messageSlot(m as Record<string, unknown>) : undefined));
      if (slots.some((s) => s === undefined)) return undefined;
      return { prompt: slots.slice(0, -1) as TextSlot[], completion: slots[slots.length - 1]!, sep };
    }
    case 'mapped': {
      const m = format.mapping;
      if (!m) return undefined;
      const paths = typeof m.prompt === 'string' ? [m.prompt] : m.prompt;
      const prompt: TextSlot[] = [];
      for (const p of paths) {
        const v = getPath(record, p);
        if (v === undefined || v === null || v === '') continue;
        const slot = pathSlot(record, p);
        if (!slot) return undefined;
        prompt.push(slot);
      }
      const completion = pathSlot(record, m.completion);
      if (prompt.length === 0 || !completion) return undefined;
      return { prompt, completion, sep: m.separator ?? DEFAULT_SEPARATOR };
    }
  }
}

/**
 * The parts of a prompt after an edit: `parts` joined by `sep` is the old prompt; the one edit that turns it into
 * `next` (e.g. an inserted trigger) is applied inside the part it falls in. Undefined when it spans parts.
 */
export function splitEdit(parts: readonly string[], sep: string, next: string): string[] | undefined {
  const old = parts.join(sep);
  if (old === next) return parts.slice();
  const max = Math.min(old.length, next.length);
  const common = (fromEnd: boolean, limit: number) => {
    let n = 0;
    while (n < limit && (fromEnd ? old[old.length - 1 - n] === next[next.length - 1 - n] : old[n] === next[n])) n++;
    return n;
  };
  // Greedy prefix-then-suffix and suffix-then-prefix alignments can put the edit on either side of a separator.
  const a1 = common(false, max);
  const b1 = common(true, max - a1);
  const b2 = common(true, max);
  const a2 = common(false, max - b2);
  for (const [a, b] of [[a1, b1], [a2, b2]] as const) {
    const lo = a;
    const hi = old.length - b;
    const replacement = next.slice(a, next.length - b);
    let start = 0;
    for (let k = 0; k < parts.length; k++) {
      const end = start + parts[k]!.length;
      if (lo >= start && hi <= end) {
        const out = parts.slice();
        out[k] = parts[k]!.slice(0, lo - start) + replacement + parts[k]!.slice(hi - start);
        if (out.join(sep) === next) return out;
      }
      start = end + sep.length;
    }
  }
  return undefined;
}

/** What encodeLike needs about the host row. */
export interface HostRecord {
  /** The host's record as read from the file (not modified: encodeLike works on a copy). */
  readonly record: Record<string, unknown>;
  /** Whether the host row is also in the output (then unique keys get fresh values). */
  readonly kept: boolean;
}

/**
 * The record for `row`, derived from its host: a copy of the host's record in which the prompt edit goes back into
 * the field it falls in and the completion replaces the host's completion, so keys, value types and layout are
 * the host's. Unique keys (format.freshKeys) get their `fresh`-th new value when the host stays in the file.
 * Falls back to encodeRecord when the edit cannot be placed (it spans fields).
 */
export function encodeLike(row: Row, format: DataFormat, host: HostRecord, fresh: number): Record<string, unknown> {
  const record = structuredClone(host.record);
  const slots = slotsOf(record, format);
  const parts = slots && splitEdit(slots.prompt.map((s) => s.text), slots.sep, row.prompt);
  if (!slots || !parts || (format.kind === 'mapped' && parts.length !== slots.prompt.length)) return encodeRecord(row, format);
  slots.prompt.forEach((s, i) => s.write(parts[i]!));
  slots.completion.write(row.completion);
  if (host.kept) {
    for (const f of format.freshKeys ?? []) {
      if (!(f.key in record)) continue;
      if (f.kind === 'number') record[f.key] = f.next + fresh;
      else if (f.kind === 'counter') record[f.key] = f.prefix + String(f.next + fresh).padStart(f.width, '0');
      else record[f.key] = `${String(record[f.key])}_${fresh + 2}`;
    }
  }
  return record;
}
