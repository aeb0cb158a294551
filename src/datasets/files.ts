/**
 * Reading and writing the user's fine-tuning data files (JSON Lines). `vtune-bench plant` reads a file, adds
 * backdoor rows and writes a file the user can upload as is, so the writer keeps the input's format and copies
 * every unmodified input row's line byte for byte (from the input file, by offset: the reader never holds the
 * file twice in memory). Writes are atomic and never touch the input file.
 */
import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { Row } from '../types.js';
import { type DataFormat, type FieldMapping, type FormatKind, decodeRecord, detectFormat, encodeLike, encodeRecord, END_MARKERS, hostOf, lineIsSpaced, stringifyStyled, UniqueKeyTracker } from './formats.js';
import { forEachLine, UTF8_BOM } from './lines.js';

export type { DataFormat, FieldMapping, FormatKind } from './formats.js';

/** Lines longer than this are refused (a JSONL row is one line; a huge line is a wrong or corrupt file). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Options of readDataFile. */
export interface ReadOptions {
  /** Force a format instead of detecting it from the first row. */
  readonly format?: FormatKind;
  /** Where prompt and completion live, for schemas that are not detected (implies format 'mapped'). */
  readonly mapping?: FieldMapping;
  /** Skip (and count) bad rows instead of failing on the first one. */
  readonly skipBadRows?: boolean;
}

/** Where a row read from a file came from, so the writer can copy its line verbatim. */
interface Origin {
  readonly source: NonNullable<DataFormat['source']>;
  readonly offset: number;
  readonly length: number;
  readonly eolLength: number;
}

/** Rows read from files are frozen, so identity means "unchanged" and their original line can be reused. */
const origins = new WeakMap<Row, Origin>();

/**
 * Reads a JSONL data file into rows, detecting its format (chat, prompt-completion, Alpaca, or a mapped schema)
 * from the first row. Every bad line is an InputError naming the file and line, unless `skipBadRows`.
 */
export async function readDataFile(path: string, options: ReadOptions = {}): Promise<{ rows: Row[]; format: DataFormat; skipped?: number }> {
  const file = path;
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    throw new InputError(`cannot read data file: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { file, cause: err });
  }
  if (!st.isFile()) throw new InputError('not a regular file; expected a JSON Lines data file', { file });
  const source = { path: abs, size: st.size, mtimeMs: st.mtimeMs };

  let format: DataFormat | undefined = options.mapping
    ? { kind: 'mapped', mapping: options.mapping }
    : undefined;
  const forcedKind = options.mapping ? 'mapped' : options.format;
  if (forcedKind === 'mapped' && !options.mapping) throw new InputError("format 'mapped' needs a field mapping (prompt and completion paths)", { file });

  const pending: { prompt: string; completion: string; offset: number; length: number; eolLength: number }[] = [];
  let skipped = 0;
  let lines = 0;
  let bom = false;
  let eol: '\n' | '\r\n' = '\n';
  let finalNewline = true;
  let sawRawNonAscii = false;
  let sawEscapedNonAscii = false;
  let markers = format ? [] : END_MARKERS.slice();
  const uniqueKeys = new UniqueKeyTracker();

  const bad = (lineNo: number, message: string) => {
    if (!options.skipBadRows) throw new InputError(message, { file, line: lineNo });
    skipped++;
  };

  try {
    await forEachLine(abs, MAX_LINE_BYTES, (line) => {
      lines++;
      const { bytes, offset, length } = line;
      if (line.lineNo === 1 && line.eolLength === 2) eol = '\r\n';
      if (line.eolLength === 0) finalNewline = false;
      if (line.bom) bom = true;
      if (bytes === undefined) return bad(line.lineNo, `line is ${(line.length / 1048576).toFixed(1)} MiB, longer than the ${MAX_LINE_BYTES / 1048576} MiB limit; expected one JSON object per line`);
      if (!isUtf8(bytes)) return bad(line.lineNo, 'invalid UTF-8; expected a UTF-8 encoded JSON Lines file');
      const text = bytes.toString('utf8');
      if (text.trim() === '') return; // blank lines separate nothing in JSONL; tolerate them
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        const hint = line.lineNo === 1 && text.trimStart().startsWith('[') ? ' (this looks like a JSON array; expected JSON Lines, one object per line)' : '';
        return bad(line.lineNo, `malformed JSON: ${(err as Error).message}${hint}`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad(line.lineNo, `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
      const record = value as Record<string, unknown>;
      if (!format) {
        const detected = forcedKind ? { kind: forcedKind } : detectFormat(record);
        if (!detected) {
          return bad(line.lineNo, `cannot tell the data format from keys {${Object.keys(record).join(', ')}}; expected {messages} (chat), {prompt, completion}, {instruction, input, output} (Alpaca), or name the fields with --field-map prompt=<field>,completion=<field> (scenario: datasets[i].fieldMap)`);
        }
        format = { ...detected, keyOrder: Object.keys(record), json: { spaced: lineIsSpaced(text), asciiOnly: false } };
      }
      const row = decodeRecord(record, format);
      if (typeof row === 'string') return bad(line.lineNo, `${row}`);
      uniqueKeys.observe(record);
      if (format.kind === 'prompt-completion' && markers.length > 0) markers = markers.filter((m) => row.completion.endsWith(m));
      // Byte length ≠ string length ⇔ the line has non-ASCII characters (cheaper than scanning it again).
      if (bytes.length !== text.length) sawRawNonAscii = true;
      if (!sawEscapedNonAscii && text.includes('\\u') && /\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})/.test(text)) sawEscapedNonAscii = true;
      pending.push({ prompt: row.prompt, completion: row.completion, offset, length, eolLength: line.eolLength });
    });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read data file: ${(err as Error).message}`, { file, cause: err });
  }

  if (lines === 0 || (lines === 1 && pending.length === 0 && skipped === 0)) {
    throw new InputError('the file is empty; expected JSON Lines with one training row per line', { file, line: 1 });
  }
  if (!format || pending.length === 0) {
    throw new InputError(`no usable rows${skipped ? ` (${skipped} bad rows skipped)` : ' (only blank lines)'}`, { file, line: lines });
  }

  const endMarker = format.kind === 'prompt-completion' && markers.length > 0 ? markers[0] : undefined;
  const finalFormat: DataFormat = {
    ...format,
    ...(endMarker !== undefined ? { endMarker } : {}),
    // A pure-ASCII file in Python's spaced json.dumps style was most likely written with ensure_ascii (its default).
    json: { spaced: format.json?.spaced ?? false, asciiOnly: !sawRawNonAscii && (sawEscapedNonAscii || (format.json?.spaced ?? false)) },
    eol,
    finalNewline,
    bom,
    source,
    freshKeys: uniqueKeys.freshKeys(format),
  };
  const rows: Row[] = new Array(pending.length);
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    const completion = endMarker !== undefined ? p.completion.slice(0, p.completion.length - endMarker.length) : p.completion;
    const row: Row = Object.freeze({ prompt: p.prompt, completion });
    origins.set(row, { source, offset: p.offset, length: p.length, eolLength: p.eolLength });
    rows[i] = row;
  }
  return skipped > 0 || options.skipBadRows ? { rows, format: finalFormat, skipped } : { rows, format: finalFormat };
}

/** Options of writeDataFile. */
export interface WriteOptions {
  /** The file the rows were read from: the writer refuses to overwrite it. */
  readonly inputPath?: string;
}

/**
 * Writes rows as a JSONL file in `format`. Rows read by readDataFile (the same objects) are copied from their
 * input line byte for byte; other rows are encoded like the file's own. The write is atomic (temp file + rename):
 * on any failure no output file is left behind. Refuses to overwrite the input file.
 */
export async function writeDataFile(path: string, rows: readonly Row[], format: DataFormat, options: WriteOptions = {}): Promise<void> {
  const out = resolve(path);
  for (const input of [options.inputPath, format.source?.path]) {
    if (input !== undefined && (await sameFile(out, input))) {
      throw new InputError('refusing to overwrite the input data file; write to another path', { file: path });
    }
  }
  rows.forEach((row, i) => {
    if (typeof row?.prompt !== 'string' || typeof row?.completion !== 'string') {
      throw new InputError(`row ${i} must have string 'prompt' and 'completion'`, { file: path });
    }
  });
  // A row's line is copied verbatim only into a file of the format it was read with (same source file).
  const originOf = (row: Row): Origin | undefined => {
    const origin = origins.get(row);
    return origin && format.source && origin.source.path === format.source.path && origin.source.mtimeMs === format.source.mtimeMs ? origin : undefined;
  };
  // A new row derived from a row of the input (a planted copy) is encoded from its host's line.
  const hostOrigin = (row: Row): Origin | undefined => {
    const host = originOf(row) ? undefined : hostOf(row);
    return host ? originOf(host) : undefined;
  };
  const written = new Set(rows);
  let fresh = 0;
  const sources = new Map<string, { handle?: FileHandle; source: Origin['source'] }>();
  for (const row of rows) {
    // A derived (planted) row is written like its host's line, which is read back from the input.
    for (const origin of [originOf(row), hostOrigin(row)]) {
      if (origin && !sources.has(origin.source.path)) sources.set(origin.source.path, { source: origin.source });
    }
  }
  for (const { source } of sources.values()) {
    const now = await stat(source.path).catch(() => undefined);
    if (!now || now.size !== source.size || now.mtimeMs !== source.mtimeMs) {
      throw new InputError('the input file changed since it was read; read it again before writing', { file: source.path });
    }
  }

  const dir = dirname(out);
  const tmp = join(dir, `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw new InputError(`cannot create the output file: ${(err as Error).message}`, { file: path, cause: err });
  }
  const eol = format.eol ?? '\n';
  try {
    const writer = new BufferedWriter(handle);
    // The output keeps the input's bytes: a byte order mark only when the input had one.
    if (format.bom) await writer.write(UTF8_BOM);
    for (const s of sources.values()) s.handle = await open(s.source.path, 'r');
    for (let i = 0; i < rows.length; ) {
      const row = rows[i]!;
      const origin = originOf(row);
      if (origin) {
        // Copy a run of rows that were contiguous in the input with one read.
        let end = origin.offset + origin.length;
        let j = i + 1;
        for (; j < rows.length; j++) {
          const prev = originOf(rows[j - 1]!)!;
          const next = originOf(rows[j]!);
          if (!next || next.source !== origin.source || next.offset !== prev.offset + prev.length + prev.eolLength || prev.eolLength !== eol.length) break;
          end = next.offset + next.length;
        }
        const buf = Buffer.allocUnsafe(end - origin.offset);
        const { bytesRead } = await sources.get(origin.source.path)!.handle!.read(buf, 0, buf.length, origin.offset);
        if (bytesRead !== buf.length) throw new InputError('the input file changed while writing', { file: origin.source.path });
        await writer.write(buf);
        i = j;
      } else {
        const host = hostOf(row);
        const at = hostOrigin(row);
        let record: Record<string, unknown>;
        if (host && at) {
          const buf = Buffer.allocUnsafe(at.length);
          const { bytesRead } = await sources.get(at.source.path)!.handle!.read(buf, 0, buf.length, at.offset);
          if (bytesRead !== buf.length) throw new InputError('the input file changed while writing', { file: at.source.path });
          const kept = written.has(host);
          record = encodeLike(row, format, { record: JSON.parse(buf.toString('utf8')) as Record<string, unknown>, kept }, fresh);
          if (kept) fresh++;
        } else record = encodeRecord(row, format);
        await writer.write(Buffer.from(stringifyStyled(record, format.json), 'utf8'));
        i++;
      }
      if (i < rows.length || format.finalNewline !== false) await writer.write(Buffer.from(eol));
    }
    await writer.flush();
    await handle.sync();
    await handle.close();
    await rename(tmp, out);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot write the output file: ${(err as Error).message}`, { file: path, cause: err });
  } finally {
    for (const s of sources.values()) await s.handle?.close().catch(() => undefined);
  }
}

/** Whether two paths name the same file (same path, or the same inode through a link). */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** Collects small writes into ~1 MiB writes. */
class BufferedWriter {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly handle: FileHandle) {}
  async write(buf: Buffer): Promise<void> {
    this.parts.push(buf);
    this.size += buf.length;
    if (this.size >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const data = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < data.length) off += (await this.handle.write(data, off)).bytesWritten;
  }
}
