/**
 * Streams a file line by line as bytes, with each line's byte offset, so a loader can decode UTF-8 strictly,
 * name the line at fault, refuse absurdly long lines without buffering them, and later copy unmodified lines
 * verbatim. (readline decodes leniently and hides offsets, hence this small splitter.) A UTF-8 byte order mark
 * at the start of the file is not part of the first line: it is stripped and reported (`bom`), so every reader
 * sees the same text whether or not an editor added one, and a writer can keep it.
 */
import { createReadStream } from 'node:fs';

/** One line of a file. `bytes` excludes the line break; it is undefined when the line exceeded the limit. */
export interface RawLine {
  /** 1-based. */
  readonly lineNo: number;
  /** Byte offset of the line's first byte. */
  readonly offset: number;
  /** Length in bytes, without the line break. */
  readonly length: number;
  readonly bytes: Buffer | undefined;
  /** Bytes of the line break that ended it: 0 (end of file), 1 (`\n`) or 2 (`\r\n`). */
  readonly eolLength: 0 | 1 | 2;
  /** Line 1 only: the file started with a UTF-8 byte order mark (excluded from bytes, offset and length). */
  readonly bom?: boolean;
}

/** The UTF-8 encoding of U+FEFF, the byte order mark. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** `text` without a leading byte order mark (for readers of whole files: JSON, key files). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Calls `onLine` for every line of the file in order; lines longer than `maxLineBytes` come without bytes. */
export async function forEachLine(path: string, maxLineBytes: number, onLine: (line: RawLine) => void): Promise<{ bytes: number }> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let tooLong = false;
  let lineStart = 0;
  let position = 0;
  let lineNo = 0;

  const emit = (tail: Buffer, hasNewline: boolean) => {
    lineNo++;
    let length = pendingLength + tail.length;
    let bytes: Buffer | undefined;
    if (!tooLong && length <= maxLineBytes) bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail], length);
    let eolLength: 0 | 1 | 2 = hasNewline ? 1 : 0;
    const lastByte = bytes ? bytes[bytes.length - 1] : undefined;
    if (hasNewline && lastByte === 0x0d) {
      bytes = bytes!.subarray(0, bytes!.length - 1);
      length--;
      eolLength = 2;
    }
    let offset = lineStart;
    lineStart += length + eolLength;
    let bom = false;
    if (lineNo === 1 && bytes && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bom = true;
      bytes = bytes.subarray(3);
      offset += 3;
      length -= 3;
    }
    onLine({ lineNo, offset, length, bytes, eolLength, ...(bom && { bom }) });
    pending = [];
    pendingLength = 0;
    tooLong = false;
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      emit(chunk.subarray(from, nl), true);
      from = nl + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      if (tooLong || pendingLength + rest.length > maxLineBytes) {
        tooLong = true;
        pendingLength += rest.length;
        pending = [];
      } else {
        pending.push(rest);
        pendingLength += rest.length;
      }
    }
    position += chunk.length;
  }
  if (pendingLength > 0) {
    // A too-long last line keeps its length in pendingLength; emit() reports it without bytes.
    emit(Buffer.alloc(0), false);
  }
  return { bytes: position };
}
