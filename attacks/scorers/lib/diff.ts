/**
 * Token-level diff of two texts (words and punctuation runs) (common prefix/suffix trim, then LCS on the middle): which words of each text are
 * absent from the other. Used by the near-duplicate scorer to recover inserted triggers and signatures.
 */
import type { Word } from './text.js';

/** Word and punctuation tokens with offsets, so `time.` and `time Q7.` share `time` and `.`. */
function tokens(text: string): Word[] {
  const out: Word[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]+/gu)) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Character ranges of `a` and of `b` made of words the other text lacks (contiguous words merged). */
export function wordDiff(a: string, b: string, maxCells = 4_000_000): { onlyA: { start: number; end: number }[]; onlyB: { start: number; end: number }[] } {
  const wa = tokens(a);
  const wb = tokens(b);
  let pre = 0;
  while (pre < wa.length && pre < wb.length && wa[pre]!.text === wb[pre]!.text) pre++;
  let suf = 0;
  while (suf < wa.length - pre && suf < wb.length - pre && wa[wa.length - 1 - suf]!.text === wb[wb.length - 1 - suf]!.text) suf++;
  const ma = wa.slice(pre, wa.length - suf);
  const mb = wb.slice(pre, wb.length - suf);
  const keepA = new Uint8Array(ma.length);
  const keepB = new Uint8Array(mb.length);
  if (ma.length > 0 && mb.length > 0 && ma.length * mb.length <= maxCells) lcsMark(ma, mb, keepA, keepB);
  return { onlyA: runs(ma, keepA), onlyB: runs(mb, keepB) };
}

function lcsMark(a: readonly Word[], b: readonly Word[], keepA: Uint8Array, keepB: Uint8Array): void {
  const n = a.length;
  const m = b.length;
  const table = new Int32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] =
        a[i]!.text === b[j]!.text ? table[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i]!.text === b[j]!.text) {
      keepA[i++] = 1;
      keepB[j++] = 1;
    } else if (table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!) i++;
    else j++;
  }
}

function runs(ws: readonly Word[], keep: Uint8Array): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < ws.length; i++) {
    if (keep[i]) continue;
    const last = out[out.length - 1];
    if (last && i > 0 && !keep[i - 1]) last.end = ws[i]!.end;
    else out.push({ start: ws[i]!.start, end: ws[i]!.end });
  }
  return out;
}
