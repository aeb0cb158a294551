/**
 * One error hierarchy for the whole project. Library code throws these (always with `cause` when wrapping);
 * only the CLI entry point turns them into exit codes, and the runner turns them into `failure` records.
 * Messages name the file, line, field or option at fault and what was expected — and never contain a secret
 * or an API key (see `redactSecrets`).
 */
export class VtuneError extends Error {
  /** Stable machine-readable category, used in failure records. */
  readonly code: string = 'error';
  constructor(message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.name = new.target.name;
  }
}

/** One step of a field path: an object key or an array index. */
export type PathSegment = string | number;

/** Where a field sits inside a structure (a scenario, a plugin's options, a JSON row): `['attacks', 2, 'options', 'fraction']`. */
export type FieldPath = readonly PathSegment[];

/** One thing wrong with a configuration: the path of the field at fault (empty when about no single field) and what was expected. */
export interface Problem {
  readonly path: FieldPath;
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * A field path as it reads in messages: `attacks[2].options.fraction`. Keys that are not plain identifiers (kebab-case
 * ids are) are quoted: `providers["my provider"]`. The empty path reads as ''.
 */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `path: message`, or the message alone when the path is empty. */
export function formatProblem(problem: Problem): string {
  return problem.path.length > 0 ? `${formatPath(problem.path)}: ${problem.message}` : problem.message;
}

/** The same problems moved under `prefix` (a plugin's options checked on their own, then placed inside a scenario). */
export function prefixProblems(prefix: FieldPath, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ path: [...prefix, ...p.path], message: p.message }));
}

/** Bad user input: a data file, a secret file, a CLI value. Carries where it was found (file, line, field path). */
export class InputError extends VtuneError {
  override readonly code = 'input';
  readonly file?: string;
  readonly line?: number;
  /** The field at fault inside the row or document, as data (empty when the problem is the row as a whole). */
  readonly path: FieldPath;
  /** The message without file, line or path (what `message` is derived from). */
  readonly detail: string;
  constructor(message: string, where: { file?: string; line?: number; path?: FieldPath; cause?: unknown } = {}) {
    const prefix = where.file ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}: ` : '';
    const path = Object.freeze([...(where.path ?? [])]);
    super(prefix + formatProblem({ path, message }), { cause: where.cause });
    this.file = where.file;
    this.line = where.line;
    this.path = path;
    this.detail = redactSecrets(message);
  }
}

/**
 * A bad option, scenario field or plugin id, detected before any work starts. The field paths travel as data in
 * `problems` (never parse them back out of `message`); the message is derived from them:
 * - one problem: `[<file>: ][<subject>: ][<path>: ]<message>`
 * - several: `[<file>: ][<subject>: ]N problems:` then one indented line per problem, `  [<file>: ][<subject>: ][<path>: ]<message>`.
 *
 * `new ConfigError('text')` is one problem with an empty path; `new ConfigError('expected …', { path: ['hyper', 'epochs'] })`
 * one with a path; `new ConfigError([...problems], { file })` several. `subject` names whose options the paths are
 * relative to (`attack 'x'`) and is not part of any path.
 */
export class ConfigError extends VtuneError {
  override readonly code = 'config';
  /** Every problem found (at least one); each message without its path, file or subject. */
  readonly problems: readonly Problem[];
  /** The file the problems were found in (a scenario file), when known. */
  readonly file?: string;
  /** Whose options or fields the paths are relative to (`attack 'x'`, `--attack-options`), when not the file itself. */
  readonly subject?: string;
  constructor(problems: string | readonly Problem[], options: { path?: FieldPath; file?: string; subject?: string; cause?: unknown } = {}) {
    const list: Problem[] = (typeof problems === 'string' ? [{ path: options.path ?? [], message: problems }] : problems).map((p) =>
      Object.freeze({ path: Object.freeze([...p.path]), message: redactSecrets(p.message) }),
    );
    if (list.length === 0) throw new TypeError('ConfigError needs at least one problem');
    const lead = `${options.file ? `${options.file}: ` : ''}${options.subject ? `${options.subject}: ` : ''}`;
    const message =
      list.length === 1 ? lead + formatProblem(list[0]!) : `${lead}${list.length} problems:\n${list.map((p) => `  ${lead}${formatProblem(p)}`).join('\n')}`;
    super(message, { cause: options.cause });
    this.problems = Object.freeze(list);
    this.file = options.file;
    this.subject = options.subject;
  }

  /** These problems placed under `prefix` (for a caller that checked a nested part on its own). */
  within(prefix: FieldPath): Problem[] {
    return prefixProblems(prefix, this.problems);
  }
}

/**
 * A provider (embedded engine, hosted API) failed or refused; `retryable` says whether backing off may help,
 * `cancelled` that the work was called off (an abort, a deadline) rather than failing of its own.
 */
export class ProviderError extends VtuneError {
  override readonly code = 'provider';
  readonly retryable: boolean;
  readonly status?: number;
  readonly cancelled: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean; status?: number; cancelled?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.cancelled = options.cancelled ?? false;
  }
}

/**
 * An HTTP status with a message. Two places make them: `serve` answers every failed request with one (the
 * OpenAI-shaped body carries `errorCode` and `param`), and the networked providers turn a remote server's
 * status into one (with its `Retry-After`), which the retry machinery classifies by `status` and then keeps as
 * the `cause` of the ProviderError it throws. Never built from a foreign error object directly: an SDK's error
 * carries the request and its Authorization header, so only its status and redacted message cross over
 * (see `remoteCause`).
 */
export class HttpError extends VtuneError {
  override readonly code = 'http';
  readonly status: number;
  /** Machine-readable reason, the `code` of an OpenAI error body (`invalid_messages`, `model_not_found`). */
  readonly errorCode: string;
  /** The request field at fault, the `param` of an OpenAI error body. */
  readonly param: string | null;
  /** The server's `Retry-After` header, when it sent one. */
  readonly retryAfter?: string | null;
  constructor(status: number, message: string, options: { errorCode?: string; param?: string | null; retryAfter?: string | null; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = status;
    this.errorCode = options.errorCode ?? (status >= 500 ? 'server_error' : 'http_error');
    this.param = options.param ?? null;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/**
 * A foreign error (an SDK's, fetch's, a socket's) reduced to what is safe to keep as a `cause`: our own
 * VtuneErrors pass as they are (their messages are redacted and their causes were made safe the same way);
 * anything else becomes an HttpError (when it has an HTTP status) or a VtuneError with its redacted message
 * (and network code), its original class name in `remoteName` — never its request, headers or body. The message
 * is the original's, so a rewrap that quotes it is not repeated by describeError.
 */
export function remoteCause(err: unknown): VtuneError {
  if (err instanceof VtuneError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; message?: unknown; status?: unknown; httpResponse?: { status?: unknown }; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = typeof e.status === 'number' ? e.status : typeof e.httpResponse?.status === 'number' ? e.httpResponse.status : undefined;
  const code = typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? ` (${e.code})` : '';
  const out = status !== undefined ? new HttpError(status, message) : new VtuneError(`${message}${code}`);
  if (typeof e.name === 'string') Object.defineProperty(out, 'remoteName', { value: e.name, enumerable: true });
  return out;
}

/** The embedded engine met something it cannot compute: a malformed model file, NaN loss, context overflow. */
export class EngineError extends VtuneError {
  override readonly code = 'engine';
}

/**
 * A verifier's verdict that cannot be recorded: a NaN p-value or statistic. It is a fault of the defense, never a
 * verdict (the runner records the cell as a failure in stage `verify`; calibration stops).
 */
export class VerdictError extends VtuneError {
  override readonly code = 'verdict';
}

/** A secret file that is of another version, or whose checksum does not match its content. */
export class SecretError extends VtuneError {
  override readonly code = 'secret';
}

/** The work queue (`run --queue`, `worker`) gave up on a job: a worker lost too often, or refusing to run it. */
export class QueueError extends VtuneError {
  override readonly code = 'queue';
}

const SECRET_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI-style keys
  /\bhf_[A-Za-z0-9]{8,}/g, // Hugging Face tokens
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /((?:api[_-]?key|token|authorization|password)["']?\s*[:=]\s*["']?)[^\s"',}&]{6,}/gi, // & ends a query-string value
];

/** Values registered at run time (e.g. the key read from the environment) that must never be printed. */
const registered = new Set<string>();

/** Registers a secret value (an API key, a bearer token) so that every later message masks it. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value);
}

/** Replaces anything that looks like an API key or a registered secret with `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const value of registered) out = out.split(value).join('***');
  for (const re of SECRET_PATTERNS) out = out.replace(re, (_m, keep?: string) => `${typeof keep === 'string' ? keep : ''}***`);
  return out;
}

/** A one-line description of any thrown value, safe to log or record. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? ` (cause: ${err.cause.message})` : '';
    return redactSecrets(`${err.message}${cause}`);
  }
  return redactSecrets(String(err));
}

/** Names of query parameters and headers whose values are credentials whatever they look like. */
const SECRET_NAME = /(?:^|[-_])(?:api[-_]?key|key|token|secret|password|passwd|auth|authorization|cookie|credential|credentials|signature|sig|session)$|^(?:x-api-key|api-key|proxy-authorization|set-cookie)$/i;

/**
 * A request target (path and query) safe to log: every query value whose name says it is a credential becomes
 * `***`, and everything else goes through redactSecrets (the registered secrets and key patterns); control
 * characters are escaped so a crafted URL cannot forge log lines.
 */
export function redactUrl(target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    /* malformed escapes: log the raw path */
  }
  let out = redactSecrets(decoded);
  if (q >= 0) {
    const params = new URLSearchParams(target.slice(q + 1));
    const safe = new URLSearchParams();
    for (const [name, value] of params) safe.append(redactSecrets(name), SECRET_NAME.test(name) ? '***' : redactSecrets(value));
    out += `?${safe.toString().replace(/%2A/gi, '*')}`;
  }
  return escapeControl(out);
}

/** Request or response headers safe to log: credential headers become `***`, other values go through redactSecrets. */
export function redactHeaders(headers: Readonly<Record<string, string | readonly string[] | number | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    out[name] = SECRET_NAME.test(name) ? '***' : escapeControl(redactSecrets(text));
  }
  return out;
}

function escapeControl(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
