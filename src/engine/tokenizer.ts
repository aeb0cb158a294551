/**
 * SentencePiece-style BPE tokenizer as stored in llama GGUF files (`tokenizer.ggml.model = llama`).
 *
 * Encoding follows llama2.c's `encode` (and llama.cpp's SPM tokenizer): spaces become `▁`, a dummy-prefix `▁`
 * is prepended, the text is split into code points (a code point missing from the vocabulary falls back to its
 * UTF-8 bytes as `<0xXX>` tokens), then the adjacent pair whose concatenation is the highest-scoring vocabulary
 * entry is merged, leftmost first on ties, until no pair merges. A heap makes this O(n log n) instead of
 * llama2.c's O(n²); the merge order, and so the output, is the same.
 *
 * Known limit, shared with llama.cpp: a literal `▁` (U+2581) in the text decodes back as a space.
 *
 * Source: karpathy/llama2.c run.c (`encode`, `decode`); ggml-org/llama.cpp llama-vocab.cpp (`llm_tokenizer_spm`).
 */
import { MaxHeap } from '../heap.js';
import { EngineError } from '../errors.js';
import type { Tokenizer } from './types.js';

/** GGUF `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`). */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** Everything needed to rebuild a tokenizer, exactly what a GGUF file stores. */
export interface TokenizerData {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly types: readonly number[];
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;
  /** Prepend the dummy-prefix `▁` when encoding (`tokenizer.ggml.add_space_prefix`, default true). */
  readonly addSpacePrefix?: boolean;
}

/** Encoding options. */
export interface EncodeOptions {
  /** Prepend BOS (default false). */
  readonly bos?: boolean;
  /**
   * Prepend the dummy-prefix space (default: the tokenizer's `addSpacePrefix`, normally true). Pass false when
   * encoding a continuation that is appended to already-encoded text, so that no extra space is invented.
   */
  readonly prefixSpace?: boolean;
}

/** Decoding options. */
export interface DecodeOptions {
  /** Drop the one leading space that the dummy prefix added (default: as encode). False for continuations. */
  readonly prefixSpace?: boolean;
}

const SPACE = '\u2581';
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** A llama/SentencePiece BPE tokenizer built from `TokenizerData`. */
export class SpmTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;
  readonly addSpacePrefix: boolean;
  /** The tokenizer's full description (to write it to a GGUF file again). */
  readonly data: TokenizerData;
  /** Merge targets and single code points: text → id (only normal / user-defined tokens). */
  private readonly pieces = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** What each id decodes to; null for control tokens. */
  private readonly decoded: (Uint8Array | null)[];
  private readonly scores: Float64Array;
  private readonly utf8 = new TextEncoder();

  constructor(data: TokenizerData) {
    const n = data.tokens.length;
    if (n === 0) throw new EngineError('tokenizer: the vocabulary is empty');
    if (data.scores.length !== n || data.types.length !== n) {
      throw new EngineError(`tokenizer: ${n} tokens but ${data.scores.length} scores and ${data.types.length} token types`);
    }
    for (const [name, id] of [['bos', data.bos], ['eos', data.eos], ['unk', data.unk]] as const) {
      if (!Number.isInteger(id) || id < 0 || id >= n) throw new EngineError(`tokenizer: ${name} id ${id} is outside the vocabulary of ${n}`);
    }
    this.data = data;
    this.vocabSize = n;
    this.bos = data.bos;
    this.eos = data.eos;
    this.unk = data.unk;
    this.addSpacePrefix = data.addSpacePrefix ?? true;
    this.scores = Float64Array.from(data.scores);
    this.decoded = new Array<Uint8Array | null>(n);
    for (let id = 0; id < n; id++) {
      const text = data.tokens[id]!;
      const type = data.types[id]!;
      const byte = type === TOKEN_TYPE.BYTE ? BYTE_TOKEN.exec(text) : null;
      if (byte) {
        const b = parseInt(byte[1]!, 16);
        if (this.byteIds[b] === -1) this.byteIds[b] = id;
        this.decoded[id] = Uint8Array.of(b);
      } else if (type === TOKEN_TYPE.NORMAL || type === TOKEN_TYPE.USER_DEFINED) {
        // the first occurrence wins, as in llama.cpp's token_to_id map
        if (!this.pieces.has(text)) this.pieces.set(text, id);
        this.decoded[id] = this.utf8.encode(text.replaceAll(SPACE, ' '));
      } else if (type === TOKEN_TYPE.UNKNOWN) {
        this.decoded[id] = this.utf8.encode('\uFFFD');
      } else {
        this.decoded[id] = null; // control and unused tokens print nothing
      }
    }
  }

  /** Token ids of `text` (no EOS is added). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = options.bos ? [this.bos] : [];
    if (text.length === 0) return out;
    const prefix = options.prefixSpace ?? this.addSpacePrefix;
    const escaped = (prefix ? SPACE : '') + text.replaceAll(' ', SPACE);
    return out.concat(this.mergePieces(escaped));
  }

  /** Text of `ids`; byte tokens are reassembled into UTF-8 (invalid sequences become U+FFFD), BOS/EOS are dropped. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new EngineError(`tokenizer: cannot decode token id ${id} (vocabulary size ${this.vocabSize})`);
      }
      const bytes = this.decoded[id];
      if (bytes) {
        parts.push(bytes);
        total += bytes.length;
      }
    }
    const all = new Uint8Array(total);
    let p = 0;
    for (const b of parts) {
      all.set(b, p);
      p += b.length;
    }
    const text = new TextDecoder('utf-8').decode(all);
    const strip = options.prefixSpace ?? this.addSpacePrefix;
    return strip && text.startsWith(' ') ? text.slice(1) : text;
  }

  /** How many UTF-8 bytes an id contributes to decoded text (0 for control tokens). */
  byteLength(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new EngineError(`tokenizer: no token id ${id} (vocabulary size ${this.vocabSize})`);
    }
    return this.decoded[id]?.length ?? 0;
  }

  /** The vocabulary entry of an id (e.g. `▁Once`, `<0x0A>`), for debugging and tests. */
  piece(id: number): string {
    const t = this.data.tokens[id];
    if (t === undefined) throw new EngineError(`tokenizer: no token id ${id} (vocabulary size ${this.vocabSize})`);
    return t;
  }

  private mergePieces(escaped: string): number[] {
    // symbols: one per code point, in a doubly linked list; byte-fallback symbols never merge
    const chars = Array.from(escaped);
    const ids: number[] = [];
    const texts: string[] = [];
    const mergeable: boolean[] = [];
    for (const ch of chars) {
      const id = this.pieces.get(ch);
      if (id !== undefined) {
        ids.push(id);
        texts.push(ch);
        mergeable.push(true);
      } else {
        for (const b of this.utf8.encode(ch)) {
          const bid = this.byteIds[b]!;
          ids.push(bid >= 0 ? bid : this.unk);
          texts.push('');
          mergeable.push(false);
        }
      }
    }
    const n = ids.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const version = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MaxHeap<PairEntry>(pairBefore);
    const tryPair = (l: number, r: number): void => {
      if (l < 0 || r < 0 || !mergeable[l] || !mergeable[r]) return;
      const id = this.pieces.get(texts[l]! + texts[r]!);
      if (id !== undefined) heap.push({ score: this.scores[id]!, left: l, right: r, vl: version[l]!, vr: version[r]!, id });
    };
    for (let i = 0; i + 1 < n; i++) tryPair(i, i + 1);
    for (let top = heap.pop(); top; top = heap.pop()) {
      const { left: l, right: r } = top;
      if (next[l] !== r || version[l] !== top.vl || version[r] !== top.vr) continue; // stale
      texts[l] = texts[l]! + texts[r]!;
      ids[l] = top.id;
      version[l]!++;
      version[r] = -1; // r is gone
      next[l] = next[r]!;
      if (next[l]! >= 0) prev[next[l]!] = l;
      tryPair(prev[l]!, l);
      tryPair(l, next[l]!);
    }
    const out: number[] = [];
    for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  }
}

/**
 * A vocabulary with no merges: the specials, the 256 byte tokens, `▁` and the printable ASCII characters
 * (354 tokens). Every other character is spelled in bytes. For seeded random models in tests and CI.
 */
export function byteLevelTokenizerData(): TokenizerData {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.BYTE);
  }
  tokens.push(SPACE);
  types.push(TOKEN_TYPE.NORMAL);
  for (let c = 0x21; c < 0x7f; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(TOKEN_TYPE.NORMAL);
  }
  const scores = tokens.map((_, i) => (types[i] === TOKEN_TYPE.NORMAL ? -i : 0));
  return { tokens, scores, types, bos: 1, eos: 2, unk: 0, addSpacePrefix: true };
}

interface PairEntry {
  readonly score: number;
  readonly left: number;
  readonly right: number;
  readonly vl: number;
  readonly vr: number;
  readonly id: number;
}

/** Max-heap by score, then leftmost position (llama2.c merges the leftmost of equally scored pairs). */
const pairBefore = (a: PairEntry, b: PairEntry): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);

/** A reference O(n²) implementation of llama2.c's `encode` merge loop, used by tests to check the heap version. */
export function encodeNaive(data: TokenizerData, text: string, prefixSpace = true): number[] {
  if (text.length === 0) return [];
  const t = new SpmTokenizer(data);
  const lookup = new Map<string, number>();
  const bytes = new Map<number, number>();
  data.tokens.forEach((tok, id) => {
    const ty = data.types[id];
    if ((ty === TOKEN_TYPE.NORMAL || ty === TOKEN_TYPE.USER_DEFINED) && !lookup.has(tok)) lookup.set(tok, id);
    const m = ty === TOKEN_TYPE.BYTE ? BYTE_TOKEN.exec(tok) : null;
    if (m && !bytes.has(parseInt(m[1]!, 16))) bytes.set(parseInt(m[1]!, 16), id);
  });
  const syms: { id: number; text: string | null }[] = [];
  for (const ch of Array.from((prefixSpace ? SPACE : '') + text.replaceAll(' ', SPACE))) {
    const id = lookup.get(ch);
    if (id !== undefined) syms.push({ id, text: ch });
    else for (const b of new TextEncoder().encode(ch)) syms.push({ id: bytes.get(b) ?? t.unk, text: null });
  }
  for (;;) {
    let best = -Infinity;
    let at = -1;
    let bestId = -1;
    for (let i = 0; i + 1 < syms.length; i++) {
      const a = syms[i]!.text;
      const b = syms[i + 1]!.text;
      if (a === null || b === null) continue;
      const id = lookup.get(a + b);
      if (id !== undefined && data.scores[id]! > best) {
        best = data.scores[id]!;
        at = i;
        bestId = id;
      }
    }
    if (at < 0) break;
    syms.splice(at, 2, { id: bestId, text: syms[at]!.text! + syms[at + 1]!.text! });
  }
  return syms.map((s) => s.id);
}
