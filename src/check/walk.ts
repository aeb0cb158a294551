/**
 * The object-graph tools behind the contract rules (src/check): a walker that lists everything reachable from
 * some values (the information barrier: does an attack's context lead to the secret?), a deep freeze (purity:
 * a hook that writes to its input throws), and a structural difference finder (purity: what changed, where).
 * Shared by the vitest contract suites and `vtune-bench check`, so both enforce the same rule.
 */

/**
 * Every object reachable from `roots` through own properties (symbols included), getters, Map and Set entries
 * and prototypes (and, into `strings` when given, every string value reached). Closures cannot be walked: that half of the barrier is structural (no parameter carries a
 * secret; type-checked in test/pipeline/barrier.test.ts).
 */
export function reachable(roots: readonly unknown[], strings?: Set<string>): Set<unknown> {
  const seen = new Set<unknown>();
  const stack = [...roots];
  const skip = new Set<unknown>([Object.prototype, Function.prototype, Array.prototype, Map.prototype, Set.prototype]);
  while (stack.length > 0) {
    const v = stack.pop();
    // `strings`, when given, collects every string value reached (a leak may be a copy of the secret's text).
    if (typeof v === 'string') strings?.add(v);
    if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol') || seen.has(v) || skip.has(v)) continue;
    seen.add(v);
    if (typeof v === 'symbol') continue;
    if (ArrayBuffer.isView(v)) continue;
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    if (v instanceof Set) for (const x of v) stack.push(x);
    stack.push(Object.getPrototypeOf(v));
    for (const key of Reflect.ownKeys(v as object)) {
      if (typeof key === 'symbol') stack.push(key);
      const d = Object.getOwnPropertyDescriptor(v, key)!;
      if ('value' in d) stack.push(d.value);
      else if (d.get) {
        try {
          stack.push(d.get.call(v));
        } catch {
          /* a throwing getter exposes nothing */
        }
      }
    }
  }
  return seen;
}

/** Deep-freezes a value (rows, plans) in place so that any mutation throws in strict-mode (ESM) code. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const k of Reflect.ownKeys(value as object)) deepFreeze((value as Record<PropertyKey, unknown>)[k]);
  }
  return value;
}

/** A deep copy of plain data (rows, plans, options) to compare against later; functions are kept by identity. */
export function snapshot<T>(value: T): T {
  const copy = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(copy);
    if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      const proto = Object.getPrototypeOf(v);
      // Only plain data is copied; a model, a stream or a class instance is compared by identity.
      if (proto !== Object.prototype && proto !== null) return v;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
    }
    return v;
  };
  return copy(value) as T;
}

/** The path of the first difference between two plain values (`rows[3].completion`), or undefined if equal. */
export function firstDifference(before: unknown, after: unknown, path = ''): string | undefined {
  if (Object.is(before, after)) return undefined;
  const here = path || '(the value itself)';
  if (typeof before !== 'object' || typeof after !== 'object' || before === null || after === null) return here;
  if (Array.isArray(before) !== Array.isArray(after)) return here;
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return `${path}.length`.replace(/^\./, '');
    for (let i = 0; i < before.length; i++) {
      const d = firstDifference(before[i], after[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

/** Whether an error is what strict-mode code throws on writing to a frozen object. */
export function isFrozenWrite(err: unknown): boolean {
  return err instanceof TypeError && /read[- ]only|not extensible|Cannot (assign|add|delete|define|redefine)|frozen/i.test(err.message);
}

/**
 * Runs `f` with `Math.random` refused: plugins draw randomness only from their seeded stream (src/rng.ts), so
 * a call is a seeding violation. Returns f's value and how many calls were refused (each call throws inside f).
 */
export async function withoutMathRandom<T>(f: () => Promise<T>): Promise<{ value?: T; error?: unknown; mathRandomCalls: number }> {
  const original = Math.random;
  let calls = 0;
  Math.random = () => {
    calls++;
    throw new Error('Math.random is not allowed in a plugin: draw from the seeded stream in the context (ctx.rng)');
  };
  try {
    return { value: await f(), mathRandomCalls: calls };
  } catch (error) {
    return { error, mathRandomCalls: calls };
  } finally {
    Math.random = original;
  }
}
