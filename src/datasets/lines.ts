/**
 * Streams a file line by line as bytes, with each line's byte offset, so a loader can decode UTF-8 strictly,
 * name the line at fault, refuse absurdly long lines without buffering them, and later copy unmodified lines
 * verbatim. (readline decodes leniently and hides offsets, hence this small splitter.)
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
    onLine({ lineNo, offset: lineStart, length, bytes, eolLength });
    lineStart += length + eolLength;
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
