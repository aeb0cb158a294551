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

/** Bad user input: a data file, a secret file, a CLI value. Carries where it was found. */
export class InputError extends VtuneError {
  override readonly code = 'input';
  readonly file?: string;
  readonly line?: number;
  constructor(message: string, where: { file?: string; line?: number; cause?: unknown } = {}) {
    const prefix = where.file ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}: ` : '';
    super(prefix + message, { cause: where.cause });
    this.file = where.file;
    this.line = where.line;
  }
}

/** A bad option, scenario field or plugin id, detected before any work starts. */
export class ConfigError extends VtuneError {
  override readonly code = 'config';
}

/** A provider (embedded engine, hosted API) failed or refused; `retryable` says whether backing off may help. */
export class ProviderError extends VtuneError {
  override readonly code = 'provider';
  readonly retryable: boolean;
  readonly status?: number;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean; status?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.status = options.status;
  }
}

/** The embedded engine met something it cannot compute: a malformed model file, NaN loss, context overflow. */
export class EngineError extends VtuneError {
  override readonly code = 'engine';
}

/** A secret file that is of another version, or whose checksum does not match its content. */
export class SecretError extends VtuneError {
  override readonly code = 'secret';
}

const SECRET_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI-style keys
  /\bhf_[A-Za-z0-9]{8,}/g, // Hugging Face tokens
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /((?:api[_-]?key|token|authorization|password)["']?\s*[:=]\s*["']?)[^\s"',}]{6,}/gi,
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
