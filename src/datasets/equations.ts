/**
 * The equations a text writes, found and checked (the `arithmetic` scorer, attacks/scorers/arithmetic.ts, which
 * documents what is checked and the tolerance), and where their numbers stand (`equationNumbers`: `in-place` never
 * refills them). Pure text analysis, no model; shared by a scorer and a generator, so it lives here and not in
 * either plugin.
 */

/** One checked equation of a text: where it is ([start, end) in the text), as written, and whether it holds. */
export interface EquationCheck {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly ok: boolean;
}

/** Every checkable equation of a text (annotations and plain equations), in order of position. */
export function checkEquations(text: string): EquationCheck[] {
  const out: { start: number; end: number; ok: boolean }[] = [];
  // The text without annotations, with each kept character's offset in the original, and where each annotation was.
  let plain = '';
  const at: number[] = [];
  const annotations = new Map<number, { start: number; end: number; ok: boolean }>();
  let last = 0;
  for (const m of text.matchAll(ANNOTATION)) {
    for (let i = last; i < m.index; i++) at.push(i);
    plain += text.slice(last, m.index);
    last = m.index + m[0].length;
    const check = checkAnnotation(m[1]!, text, last);
    if (!check) continue;
    const site = { start: m.index, end: check.end, ok: check.ok };
    annotations.set(plain.length, site);
    out.push(site);
  }
  for (let i = last; i < text.length; i++) at.push(i);
  at.push(text.length);
  plain += text.slice(last);

  for (const eq of plainEquations(plain)) {
    const start = at[eq.start]!;
    const end = at[eq.end - 1]! + 1;
    const site = annotations.get(eq.resultStart);
    if (site) {
      // The written step and its annotation are one equation: it holds only if both do.
      site.start = Math.min(site.start, start);
      site.ok &&= eq.ok;
    } else out.push({ start, end, ok: eq.ok });
  }
  return out.sort((a, b) => a.start - b.start).map((c) => ({ ...c, text: text.slice(c.start, c.end) }));
}

/**
 * Where the numbers that take part in a text's written equations stand ([start, end) in the text), whether or not
 * the scorer can check the equation: every number inside a `<<…>>` annotation and the one written right after it,
 * and every number of the arithmetic run on either side of a plain `=` (`48 / 2 = 24`, `2 x 145 = $290`), the run
 * before it extended over a word that takes a number (`3 times 10 + 4 = 34`: 3 too). For generators that refill
 * numbers and must leave the arithmetic alone (`in-place`).
 */
export function equationNumbers(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const m of text.matchAll(ANNOTATION)) {
    if (!m[1]!.includes('=')) continue;
    for (const t of tokenize(m[1]!)) if (t.kind === 'num') out.push({ start: m.index + 2 + t.start, end: m.index + 2 + t.end });
    FOLLOW.lastIndex = m.index + m[0].length;
    const f = FOLLOW.exec(text);
    if (f) out.push({ start: f.index + f[0].length - f[1]!.length, end: f.index + f[0].length });
  }
  const toks = tokenize(text);
  const take = (t: Token | undefined) => t?.kind === 'num' && out.push({ start: t.start, end: t.end });
  toks.forEach((t, k) => {
    if (t.kind !== '=') return;
    for (let j = k + 1; isExprToken(toks[j]) || toks[j]?.kind === '='; j++) take(toks[j]);
    for (let j = k - 1; j >= 0; j--) {
      const u = toks[j]!;
      if (isExprToken(u) || u.kind === '=') take(u);
      else if (!(u.kind === 'break' && TAKES_NUMBER.has(text.slice(u.start, u.end).toLowerCase()) && isExprToken(toks[j - 1]))) break;
    }
  });
  return out.sort((a, b) => a.start - b.start);
}

/** A GSM8K calculator annotation: `<<expression=result>>`. */
const ANNOTATION = /<<([^<>\n]*)>>/g;
/** A written number: thousands-separated or plain digits with optional decimals, or a bare decimal (`.5`). */
const NUMBER = /(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+/y;
/** The number written right after an annotation (an optional currency sign first). */
const FOLLOW = /[$€£]?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+)(?![\d.,]\d)/y;

/** Checks `expression=result` (the inside of an annotation) and the number written after it at `after`. */
function checkAnnotation(inside: string, text: string, after: number): { ok: boolean; end: number } | undefined {
  const eq = inside.lastIndexOf('=');
  if (eq < 0) return undefined;
  const lhs = tokenize(inside.slice(0, eq));
  const rhs = tokenize(inside.slice(eq + 1));
  const value = parseExpression(lhs, 0, lhs.length);
  const result = parseResult(rhs, 0);
  if (!value || !result || result.next !== rhs.length) return undefined;
  let ok = holds(value, result.num);
  FOLLOW.lastIndex = after;
  const f = FOLLOW.exec(text);
  if (f) ok &&= closeEnough(toNum(f[1]!, false), result.num);
  return { ok, end: f ? after + f[0].length : after };
}

interface Num {
  readonly value: number;
  /** One unit of the last written digit: 1 for an integer, 0.01 for `3.33`. */
  readonly unit: number;
  readonly percent: boolean;
}

type Token =
  | { readonly kind: 'num'; readonly num: Num; readonly start: number; readonly end: number }
  | { readonly kind: 'op'; readonly op: '+' | '-' | '*' | '/'; readonly attached: boolean; readonly start: number; readonly end: number }
  | { readonly kind: '(' | ')' | '=' | 'break'; readonly start: number; readonly end: number };

function toNum(written: string, percent: boolean): Num {
  const dot = written.indexOf('.');
  return { value: Number(written.replace(/,/g, '')), unit: dot < 0 ? 1 : 10 ** -(written.length - dot - 1), percent };
}

const OPS: Readonly<Record<string, '+' | '-' | '*' | '/'>> = { '+': '+', '-': '-', '−': '-', '–': '-', '*': '*', '×': '*', '/': '/', '÷': '/' };
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_']/u.test(c);

/**
 * The arithmetic tokens of a text: numbers, operators, parentheses, `=`, and a `break` for anything else (a word,
 * punctuation, a line end), so that an expression never reaches across words. `x` is multiplication only between
 * a number and a number (`12 x 5`, `3x4`); a number glued to letters (`3rd`, `A4`) or a clock time (`10:30`) is a word.
 */
function tokenize(s: string): Token[] {
  const toks: Token[] = [];
  const push = (t: Token) => toks.push(t);
  const brk = (start: number, end: number) => push({ kind: 'break', start, end });
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\n') {
      brk(i, i + 1);
      i++;
    } else if (/\s/.test(c) || c === '$' || c === '€' || c === '£') i++;
    else if (isDigit(c) || (c === '.' && isDigit(s[i + 1]) && !isDigit(s[i - 1]))) {
      NUMBER.lastIndex = i;
      const written = NUMBER.exec(s)![0];
      let end = i + written.length;
      const next = s[end];
      if (isWordChar(s[i - 1]) && !isTimes(s, i - 1)) {
        // Part of a word such as `A4`: skip the word.
        while (isWordChar(s[end])) end++;
        brk(i, end);
      } else if (next === '%') {
        push({ kind: 'num', num: toNum(written, true), start: i, end: end + 1 });
        end++;
      } else if ((isWordChar(next) && !isTimes(s, end)) || ((next === ':' || next === '.' || next === ',') && isDigit(s[end + 1])) || /^0\d/.test(written)) {
        // `3rd`, `10:30`, `1.2.3`, `1,2`, `0900`: not a number of arithmetic.
        while (isWordChar(s[end]) || ((s[end] === ':' || s[end] === '.' || s[end] === ',') && isDigit(s[end + 1]))) end++;
        brk(i, end);
      } else push({ kind: 'num', num: toNum(written, false), start: i, end });
      i = end;
    } else if (isTimes(s, i)) {
      push({ kind: 'op', op: '*', attached: false, start: i, end: i + 1 });
      i++;
    } else if (isWordChar(c)) {
      const start = i;
      while (isWordChar(s[i])) i++;
      brk(start, i);
    } else if (OPS[c]) {
      push({ kind: 'op', op: OPS[c]!, attached: isDigit(s[i + 1]) || s[i + 1] === '.' || s[i + 1] === '(', start: i, end: i + 1 });
      i++;
    } else if (c === '(' || c === ')') {
      push({ kind: c, start: i, end: i + 1 });
      i++;
    } else if (c === '=' && s[i + 1] !== '=' && s[i + 1] !== '>' && !'=<>!'.includes(s[i - 1] ?? ' ')) {
      push({ kind: '=', start: i, end: i + 1 });
      i++;
    } else {
      brk(i, i + 1);
      i++;
    }
  }
  return toks;
}

/** An `x` (or `X`) at `i` written as multiplication: a lone letter between a number and a number (`12 x 5`, `3x4`). */
function isTimes(s: string, i: number): boolean {
  if (s[i] !== 'x' && s[i] !== 'X') return false;
  if (/\p{L}/u.test(s[i - 1] ?? '') || /\p{L}/u.test(s[i + 1] ?? '')) return false;
  let b = i - 1;
  while (s[b] === ' ') b--;
  let a = i + 1;
  while (s[a] === ' ') a++;
  const before = s[b];
  const after = s[a];
  const startsNumber = isDigit(after) || after === '(' || after === '$' || after === '€' || after === '£' || (after === '.' && isDigit(s[a + 1]));
  return (isDigit(before) || before === '%' || before === ')') && startsNumber;
}

interface Parsed {
  /** The value with every `%` read as /100, and (when there is a `%`) with every `%` ignored. NaN after a ÷ 0. */
  readonly values: readonly number[];
  readonly operators: number;
}

/** Parses tokens [from, to) as one expression, with the usual precedence; undefined unless all of them form one. */
function parseExpression(toks: readonly Token[], from: number, to: number): Parsed | undefined {
  const values: number[] = [];
  let operators = 0;
  for (const percentAsFraction of [true, false]) {
    let pos = from;
    let ops = 0;
    const peek = () => (pos < to ? toks[pos] : undefined);
    const factor = (): number | undefined => {
      const t = peek();
      if (!t) return undefined;
      if (t.kind === 'op' && t.op === '-' && t.attached) {
        pos++;
        const v = factor();
        return v === undefined ? undefined : -v;
      }
      if (t.kind === '(') {
        pos++;
        const v = sum();
        if (v === undefined || peek()?.kind !== ')') return undefined;
        pos++;
        return v;
      }
      if (t.kind !== 'num') return undefined;
      const mixed = mixedNumber(toks, pos, to);
      if (mixed) {
        pos = mixed.next;
        return mixed.num.value;
      }
      pos++;
      return t.num.percent && percentAsFraction ? t.num.value / 100 : t.num.value;
    };
    const product = (): number | undefined => {
      let v = factor();
      // `66(2)`, `2(6+12)`: a parenthesis right after a factor multiplies it.
      for (let t = peek(); v !== undefined && ((t?.kind === 'op' && (t.op === '*' || t.op === '/')) || t?.kind === '('); t = peek()) {
        if (t.kind === 'op') pos++;
        ops++;
        const w = factor();
        // A division by zero has no value: NaN, which no written result equals.
        v = w === undefined ? undefined : t.kind === 'op' && t.op === '/' ? (w === 0 ? NaN : v / w) : v * w;
      }
      return v;
    };
    const sum = (): number | undefined => {
      let v = product();
      for (let t = peek(); v !== undefined && t?.kind === 'op' && (t.op === '+' || t.op === '-'); t = peek()) {
        pos++;
        ops++;
        const w = product();
        v = w === undefined ? undefined : t.op === '+' ? v + w : v - w;
      }
      return v;
    };
    const v = sum();
    if (v === undefined || pos !== to) return undefined;
    values.push(v);
    operators = ops;
    if (!toks.slice(from, to).some((t) => t.kind === 'num' && t.num.percent)) break;
  }
  return { values, operators };
}

/** A mixed number at `pos` (`1 1/2`: integers a, b and c written `a b/c`), read as a + b/c. */
function mixedNumber(toks: readonly Token[], pos: number, to: number): { num: Num; next: number } | undefined {
  if (pos + 3 >= to) return undefined;
  const [a, b, slash, c] = [toks[pos], toks[pos + 1], toks[pos + 2], toks[pos + 3]];
  const whole = (t: Token | undefined): t is Extract<Token, { kind: 'num' }> => t?.kind === 'num' && t.num.unit === 1 && !t.num.percent;
  if (!whole(a) || !whole(b) || slash?.kind !== 'op' || slash.op !== '/' || !whole(c) || c.num.value === 0) return undefined;
  return { num: { value: a.num.value + b.num.value / c.num.value, unit: 1 / c.num.value, percent: false }, next: pos + 4 };
}

/** A written result at `pos`: an optional attached minus and a number (or a mixed number). */
function parseResult(toks: readonly Token[], pos: number): { num: Num; next: number } | undefined {
  const t = toks[pos];
  const mixed = mixedNumber(toks, pos, toks.length);
  if (mixed) return mixed;
  if (t?.kind === 'num') return { num: t.num, next: pos + 1 };
  const n = toks[pos + 1];
  if (t?.kind === 'op' && t.op === '-' && t.attached && n?.kind === 'num') return { num: { ...n.num, value: -n.num.value }, next: pos + 2 };
  return undefined;
}

/** The readings of a written result: as written, and as /100 when it carries `%`, each with its unit of last digit. */
function readings(r: Num): { value: number; unit: number }[] {
  return r.percent ? [r, { value: r.value / 100, unit: r.unit / 100 }] : [r];
}

/** True when some reading of the computed value is a rounding or truncation of some reading of the result. */
function holds(p: Parsed, r: Num): boolean {
  return p.values.some((v) => readings(r).some(({ value, unit }) => within(v, value, unit)));
}

/**
 * Whether `value`, written to `unit` (1, 0.1, 0.01…), is v rounded or truncated to that unit: |v − value| ≤ unit/2,
 * or v lies in [value, value + unit) away from zero (with a little room for floating-point error).
 */
function within(v: number, value: number, unit: number): boolean {
  const eps = 1e-9 * Math.max(1, Math.abs(value));
  if (Math.abs(v - value) <= unit / 2 + eps) return true;
  const away = Math.sign(value || v) * (v - value);
  return away >= -eps && away < unit - eps;
}

/** Whether two computed values are equal up to floating-point error. */
function equal(v: number, w: number): boolean {
  return Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(v), Math.abs(w));
}

/** Two written numbers that agree to the coarser one's last digit (`3.33` and `3.3`; not `24` and `25`). */
function closeEnough(a: Num, b: Num): boolean {
  return a.unit <= b.unit ? within(a.value, b.value, b.unit) : within(b.value, a.value, a.unit);
}

/** A plain equation of a text: its span, where its written result starts, and whether it holds. */
interface PlainEquation {
  readonly start: number;
  readonly end: number;
  readonly resultStart: number;
  readonly ok: boolean;
}

/** Words that make the number after them an operand of something before them. */
const TAKES_NUMBER = new Set(['x', 'times', 'of', 'by', 'plus', 'minus', 'over']);

function isExprToken(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'num' || t.kind === 'op' || t.kind === '(' || t.kind === ')');
}

/** Every `expression = result` of a text whose left side parses with at least one operator. */
function plainEquations(text: string): PlainEquation[] {
  const toks = tokenize(text);
  const out: PlainEquation[] = [];
  toks.forEach((t, k) => {
    if (t.kind !== '=') return;
    let first = k;
    while (isExprToken(toks[first - 1])) first--;
    // A run glued to a word or a code (`because1+1`, `Day 3:70-21`) goes on into text that is not arithmetic.
    const before = toks[first - 1];
    if (first === k || (before?.kind === 'break' && before.end === toks[first]!.start && isWordChar(text[before.end - 1]))) return;
    // A run after a word that takes a number (`half of 10 + 4`, `60 students x 2/3`, `12 x 1 and 1/4`) is only the
    // end of what is computed.
    const word = before?.kind === 'break' ? text.slice(before.start, before.end).toLowerCase() : '';
    const second = toks[first + 1];
    const fraction = toks[first]?.kind === 'num' && second?.kind === 'op' && second.op === '/';
    if (TAKES_NUMBER.has(word) || (word === 'and' && toks[first - 2]?.kind === 'num' && fraction)) return;
    // The whole run before `=` must be one expression, bar unmatched `(` and a bullet's `-` at its start: a run that
    // starts inside an expression (`60 students x 2/3`, `x+40-30`) is not read from the middle.
    let lhs: { from: number; parsed: Parsed } | undefined;
    for (let s = first; s < k && !lhs; s++) {
      const parsed = parseExpression(toks, s, k);
      if (parsed && parsed.operators > 0) lhs = { from: s, parsed };
      const head = toks[s]!;
      const bullet = head.kind === 'op' && head.op === '-' && !head.attached && s === first && (!before || text[before.start] === '\n');
      if (head.kind !== '(' && !bullet) break;
    }
    const result = parseResult(toks, k + 1);
    if (!lhs || !result) return;
    let ok = holds(lhs.parsed, result.num);
    let end = toks[result.next - 1]!.end;
    if (!ok) {
      // `a + b = c + d`: the right side read as a whole expression (up to the next `=` or word).
      let last = result.next;
      while (isExprToken(toks[last])) last++;
      for (let e = last; e > result.next && !ok; e--) {
        const rhs = parseExpression(toks, k + 1, e);
        if (rhs && lhs.parsed.values.some((v) => rhs.values.some((w) => equal(v, w)))) {
          ok = true;
          end = toks[e - 1]!.end;
        }
      }
    }
    out.push({ start: toks[lhs.from]!.start, end, resultStart: toks[k + 1]!.start, ok });
  });
  return out;
}
