import { createHash } from 'node:crypto';

/**
 * Seeded randomness. Every purpose (planting, provider, training, …) gets its own stream derived from the cell
 * key, so adding a draw in one stage never shifts another stage's numbers. `Math.random` is banned in the
 * project (a test scans the sources).
 *
 * The generator is xoshiro128** (Blackman & Vigna), 32-bit arithmetic only; its state is seeded from SHA-256.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A stream seeded from any string (hashed with SHA-256). Prefer `streamFor`. */
  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.s0 = h.readUInt32LE(0);
    this.s1 = h.readUInt32LE(4);
    this.s2 = h.readUInt32LE(8);
    this.s3 = h.readUInt32LE(12);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(this.float() * n);
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[this.int(items.length)]!;
  }

  /** A shuffled copy (Fisher–Yates); the input is not changed. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /** `k` distinct indices from [0, n), in the order drawn. */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`Rng.sampleIndices: cannot draw ${k} distinct indices from ${n}`);
    const chosen = new Set<number>();
    const out: number[] = [];
    if (k * 3 > n) return this.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, k);
    while (out.length < k) {
      const i = this.int(n);
      if (!chosen.has(i)) {
        chosen.add(i);
        out.push(i);
      }
    }
    return out;
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** An independent child stream for a sub-purpose, derived from this stream's next draws. */
  fork(purpose: string): Rng {
    return new Rng(`${this.nextUint32()}:${this.nextUint32()}:${purpose}`);
  }

  /** A 31-bit integer seed for APIs that take a number (provider seeds, engine seeds). */
  seed31(): number {
    return this.nextUint32() >>> 1;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The purposes that get their own stream in a cell. */
export type StreamPurpose = 'planting' | 'provider' | 'training' | 'verification' | 'utility' | (string & {});

/** The stream for one purpose of one cell: the same key and purpose always give the same numbers. */
export function streamFor(cellKey: string, purpose: StreamPurpose): Rng {
  return new Rng(`vtune-bench|${cellKey}|${purpose}`);
}
