/**
 * `vtune-bench serve`: an OpenAI-compatible fine-tuning service over any provider that can train (the embedded
 * engine by default), honest or — with an attack — a dishonest provider the benchmark can be pointed at with
 * the stock `openai` provider or the official SDK. node:http only.
 *
 * Threat model of the server itself: it listens on loopback by default and trusts nobody: every route needs
 * the bearer token (compared in constant time, never logged or stored), and a request without it is answered
 * 401 before a byte of its body is read; bodies are size-limited (413), JSONL is validated line by line (400
 * naming the line), ids are pattern-checked before they touch the disk (no path traversal), and no request can
 * crash the process (every handler error becomes a JSON error, with the data folder's path scrubbed). The log
 * is redacted by construction: every line goes through the secret registry of src/errors.ts, and request
 * lines show query strings and headers only through redactUrl/redactHeaders. The base model is opened before
 * the server listens, so a server that cannot serve never starts.
 * Routes: /v1/files, /v1/fine_tuning/jobs (+ /events, /cancel), /v1/models, /v1/chat/completions, /v1/completions.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, describeError, HttpError, redactHeaders, redactSecrets, redactUrl, registerSecret } from '../errors.js';
import { parseHyper } from '../plugins/hyper.js';
import type { HyperParams, Logger, Model } from '../types.js';
import { JobQueue } from './jobs.js';
import { type FileRecord, type JobRecord, Store, checkFileId, checkJobId, newId } from './store.js';
import type { ServeTrainer } from './trainer.js';
import { inferenceHandlers, numberParam } from './inference.js';
import { errorBody, parseMultipart, parseTrainingJsonl } from './wire.js';

/** Options of the service. */
export interface ServeOptions {
  readonly trainer: ServeTrainer;
  readonly dataDir: string;
  /** Bearer token every request must present. */
  readonly token: string;
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /** Largest upload (multipart) body; default 64 MiB. */
  readonly maxUploadBytes?: number;
  /** Largest JSON body; default 1 MiB. */
  readonly maxJsonBytes?: number;
  /** Most tokens one completion may ask for; default 1024. */
  readonly maxCompletionTokens?: number;
  /** Hyper-parameters when a job leaves them unset; learning_rate_multiplier scales learningRate. */
  readonly defaults?: Partial<HyperParams>;
  readonly onRestart?: 'resume' | 'fail';
  readonly log?: Logger;
}

/** A running service. */
export interface ServeHandle {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening, drops connections and waits for the running job to stop (it resumes on restart). */
  close(): Promise<void>;
}

/** Most bytes read (and discarded) from a refused authenticated request before its connection is cut. */
const DRAIN_CAP_BYTES = 512 * 1024 * 1024;

const silent: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** A logger whose every line goes through the secret registry, whatever the caller puts in it. */
function redactingLogger(log: Logger): Logger {
  return { info: (m) => log.info(redactSecrets(m)), warn: (m) => log.warn(redactSecrets(m)), debug: (m) => log.debug(redactSecrets(m)) };
}

/**
 * Starts the service; resolves once it is listening. Rejects with a ConfigError, before listening, when the
 * token is too short or the base model cannot be opened.
 */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  if (!options.token || options.token.length < 8) throw new ConfigError('serve needs a bearer token of at least 8 characters');
  registerSecret(options.token);
  const log = redactingLogger(options.log ?? silent);
  let baseModel: Model;
  try {
    baseModel = await options.trainer.base();
  } catch (err) {
    throw new ConfigError(`serve: cannot open the base model '${options.trainer.baseModelId}': ${describeError(err)}`, { cause: err });
  }
  const store = new Store(options.dataDir);
  // The one hyper-parameter schema (src/plugins/hyper.ts): defaults a job falls back to must be valid promises.
  const defaults: HyperParams = parseHyper({ epochs: 3, learningRate: 1e-3, batchSize: 4, ...options.defaults }, { at: ['defaults'], subject: 'serve' });
  const queue = new JobQueue({ store, trainer: options.trainer, defaults, onRestart: options.onRestart ?? 'resume', log });
  const maxUpload = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const maxJson = options.maxJsonBytes ?? 1024 * 1024;
  const maxTokens = options.maxCompletionTokens ?? 1024;
  const tokenHash = createHash('sha256').update(options.token).digest();
  const trainer = options.trainer;
  const modelJobs = new Map<string, string>();

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]!).digest(), tokenHash);
  };

  async function resolveModel(id: unknown): Promise<Model> {
    if (typeof id !== 'string' || !id) throw new HttpError(400, "'model' must be a model id", { errorCode: 'invalid_model', param: 'model' });
    if (id === trainer.baseModelId) return trainer.base();
    // Verification and utility query one model many times: remember which job made it instead of rescanning.
    const known = modelJobs.get(id);
    const job = (known && store.getJob(known)) || store.listJobs().find((j) => j.fine_tuned_model === id && j.status === 'succeeded');
    if (!job || job.status !== 'succeeded') throw new HttpError(404, `The model '${id}' does not exist`, { errorCode: 'model_not_found', param: 'model' });
    modelJobs.set(id, job.id);
    return queue.model(job);
  }

  function modelList() {
    const created = Math.floor(Date.now() / 1000);
    const base = { id: trainer.baseModelId, object: 'model', created, owned_by: 'vtune-bench' };
    const tuned = store
      .listJobs()
      .filter((j) => j.status === 'succeeded' && j.fine_tuned_model)
      .map((j) => ({ id: j.fine_tuned_model!, object: 'model', created: j.finished_at ?? j.created_at, owned_by: 'user' }));
    return [base, ...tuned];
  }

  async function createFile(req: IncomingMessage): Promise<FileRecord> {
    const ct = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(ct)) throw new HttpError(400, 'upload files as multipart/form-data with parts "file" and "purpose"', { errorCode: 'invalid_content_type' });
    const body = await readBody(req, maxUpload);
    const parts = parseMultipart(body, ct);
    const file = parts.find((p) => p.name === 'file');
    const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8');
    if (!file) throw new HttpError(400, "missing the 'file' part", { errorCode: 'invalid_request', param: 'file' });
    if (purpose !== 'fine-tune') throw new HttpError(400, `purpose must be 'fine-tune', got '${purpose ?? ''}'`, { errorCode: 'invalid_purpose', param: 'purpose' });
    const rows = parseTrainingJsonl(file.data.toString('utf8'));
    // Stored and listed: a name that carries a secret (the token, an API key) is kept masked.
    const filename = redactSecrets(file.filename ?? 'upload.jsonl').replace(/[^\w.-]/g, '_').slice(0, 200);
    const record: FileRecord = { id: newId('file'), object: 'file', bytes: file.data.length, created_at: Math.floor(Date.now() / 1000), filename, purpose, status: 'processed', examples: rows.length };
    store.putFile(record, file.data);
    return record;
  }

  function createJob(body: Record<string, unknown>): JobRecord {
    if (body.model !== trainer.baseModelId) throw new HttpError(400, `model '${String(body.model)}' cannot be fine-tuned here; available: ${trainer.baseModelId}`, { errorCode: 'invalid_model', param: 'model' });
    const fileId = checkFileId(body.training_file, 'training_file');
    if (!store.getFile(fileId)) throw new HttpError(400, `training file '${fileId}' does not exist`, { errorCode: 'file_not_found', param: 'training_file' });
    const method = body.method as { supervised?: { hyperparameters?: Record<string, unknown> } } | undefined;
    const hp = { ...((body.hyperparameters as Record<string, unknown> | undefined) ?? {}), ...(method?.supervised?.hyperparameters ?? {}) };
    const epochs = numberParam(hp.n_epochs, defaults.epochs, 'n_epochs', 1, 100, true);
    const batch = numberParam(hp.batch_size, defaults.batchSize, 'batch_size', 1, 4096, true);
    const lrm = numberParam(hp.learning_rate_multiplier, 1, 'learning_rate_multiplier', 1e-6, 100, false);
    const suffix = body.suffix === undefined || body.suffix === null ? null : String(body.suffix);
    if (suffix !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(suffix)) throw new HttpError(400, 'suffix must be 1–64 letters, digits, - or _', { errorCode: 'invalid_suffix', param: 'suffix' });
    // The suffix becomes part of a model id that is stored, listed and logged: it must not carry a secret.
    if (suffix !== null && redactSecrets(suffix) !== suffix) throw new HttpError(400, 'suffix must not contain the API token or a key', { errorCode: 'invalid_suffix', param: 'suffix' });
    const seed = body.seed === undefined || body.seed === null ? Number.parseInt(createHash('sha256').update(`${fileId}|${Date.now()}`).digest('hex').slice(0, 7), 16) : body.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 31) throw new HttpError(400, 'seed must be an integer in [0, 2^31]', { errorCode: 'invalid_seed', param: 'seed' });
    const hyper = { n_epochs: epochs, batch_size: batch, learning_rate_multiplier: lrm };
    const job: JobRecord = {
      id: newId('ftjob'),
      object: 'fine_tuning.job',
      model: trainer.baseModelId,
      training_file: fileId,
      validation_file: null,
      status: 'validating_files',
      created_at: Math.floor(Date.now() / 1000),
      finished_at: null,
      fine_tuned_model: null,
      trained_tokens: null,
      hyperparameters: hyper,
      method: { type: 'supervised', supervised: { hyperparameters: hyper } },
      seed,
      suffix,
      error: null,
      result_files: [],
      organization_id: 'org-vtune-bench',
      integrations: null,
      estimated_finish: null,
    };
    store.putJob(job);
    store.addEvent(job.id, { level: 'info', message: `Created fine-tuning job: ${job.id}`, type: 'message', data: null });
    job.status = 'queued';
    store.putJob(job);
    queue.enqueue(job.id);
    return job;
  }

  function getJob(id: string): JobRecord {
    const job = store.getJob(checkJobId(id));
    if (!job) throw new HttpError(404, `fine-tuning job '${id}' not found`, { errorCode: 'job_not_found', param: 'fine_tuning_job_id' });
    return job;
  }

  const { chatCompletion, completion } = inferenceHandlers(resolveModel, { maxTokens, ...(baseModel.contextLength !== undefined ? { contextLength: baseModel.contextLength } : {}) });

  async function route(req: IncomingMessage, url: URL): Promise<unknown> {
    const method = req.method ?? 'GET';
    // Split the raw path, then decode each segment: an encoded '/' or '..' stays inside one segment and
    // fails the id pattern instead of walking the file system.
    const seg = url.pathname.split('/').filter(Boolean).map(safeDecode);
    if (seg[0] !== 'v1') throw new HttpError(404, `unknown route ${method} ${url.pathname}`, { errorCode: 'not_found' });
    const [, a, b, c, d] = seg;
    if (a === 'models' && method === 'GET') {
      if (b === undefined) return { object: 'list', data: modelList() };
      const id = seg.slice(2).join('/');
      const m = modelList().find((x) => x.id === id);
      if (!m) throw new HttpError(404, `The model '${id}' does not exist`, { errorCode: 'model_not_found', param: 'model' });
      return m;
    }
    if (a === 'files') {
      if (b === undefined && method === 'POST') return createFile(req);
      if (b === undefined && method === 'GET') return { object: 'list', data: filterPurpose(store.listFiles(), url.searchParams.get('purpose')), has_more: false };
      if (b !== undefined && seg.length === 3 && method === 'GET') return getFile(b);
      if (b !== undefined && seg.length === 3 && method === 'DELETE') {
        const deleted = store.deleteFile(checkFileId(b));
        if (!deleted) throw new HttpError(404, `file '${b}' not found`, { errorCode: 'file_not_found', param: 'file_id' });
        return { id: b, object: 'file', deleted: true };
      }
      if (b !== undefined && c === 'content' && seg.length === 4 && method === 'GET') {
        getFile(b);
        return { raw: store.fileContent(b) };
      }
    }
    if (a === 'fine_tuning' && b === 'jobs') {
      if (c === undefined && method === 'POST') return createJob(await readJson(req, maxJson));
      if (c === undefined && method === 'GET') return page(store.listJobs(), url);
      if (c !== undefined && d === undefined && seg.length === 4 && method === 'GET') return getJob(c);
      if (c !== undefined && d === 'events' && seg.length === 5 && method === 'GET') {
        getJob(c);
        return page(store.events(c), url);
      }
      if (c !== undefined && d === 'cancel' && seg.length === 5 && method === 'POST') return queue.cancel(getJob(c));
    }
    if (a === 'chat' && b === 'completions' && seg.length === 3 && method === 'POST') return chatCompletion(await readJson(req, maxJson));
    if (a === 'completions' && seg.length === 2 && method === 'POST') return completion(await readJson(req, maxJson));
    throw new HttpError(404, `unknown route ${method} ${url.pathname}`, { errorCode: 'not_found' });
  }

  function getFile(id: string): FileRecord {
    const f = store.getFile(checkFileId(id));
    if (!f) throw new HttpError(404, `file '${id}' not found`, { errorCode: 'file_not_found', param: 'file_id' });
    return f;
  }

  const server = createServer((req, res) => {
    const started = Date.now();
    const finish = (status: number, body: unknown) => {
      if (res.headersSent) return;
      const raw = body && typeof body === 'object' && 'raw' in body ? (body as { raw: Buffer }).raw : undefined;
      const data = raw ?? Buffer.from(JSON.stringify(body));
      res.writeHead(status, { 'content-type': raw ? 'application/octet-stream' : 'application/json', 'content-length': data.length, ...(status === 413 || status === 401 ? { connection: 'close' } : {}) });
      res.end(data);
      log.debug(`${req.method} ${target()} → ${status} in ${Date.now() - started} ms ${JSON.stringify(redactHeaders(req.headers))}`);
    };
    // Redacted before it is shortened: a cut could split a secret into a prefix the registry no longer matches.
    const target = () => redactUrl(req.url ?? '').slice(0, 2000);
    const fail = (err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${store.scrub(describeError(err))}`, { errorCode: 'server_error', cause: err });
      if (e.status >= 500) log.warn(`${req.method} ${target()}: ${e.message}`);
      const respond = () => finish(e.status, errorBody(e));
      // A client without the token gets its answer at once, and its body is never read: the connection is
      // closed after the 401 (connection: close), so an anonymous client cannot make the server take in data.
      if (e.status === 401 || req.complete) return respond();
      // Answer once the client has finished sending: most clients (undici among them) fail with EPIPE instead
      // of reading an early answer. Drained bytes are discarded, and a client that never stops is cut off.
      let drained = 0;
      req.on('data', (c: Buffer) => {
        drained += c.length;
        if (drained > DRAIN_CAP_BYTES) req.destroy();
      });
      req.once('end', respond);
      req.once('error', () => {});
      req.resume();
    };
    try {
      if (!authorized(req)) return fail(new HttpError(401, 'Incorrect or missing API key: send Authorization: Bearer <token>', { errorCode: 'invalid_api_key' }));
      const url = new URL(req.url ?? '/', 'http://localhost');
      route(req, url).then((body) => finish(200, body), fail);
    } catch (err) {
      fail(err);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.requestTimeout = 10 * 60_000;

  queue.recover();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    server,
    async close() {
      await queue.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    throw new HttpError(400, 'malformed percent-encoding in the path', { errorCode: 'invalid_path', cause: err });
  }
}

function filterPurpose(files: FileRecord[], purpose: string | null): FileRecord[] {
  return purpose ? files.filter((f) => f.purpose === purpose) : files;
}

/** Cursor paging as OpenAI does it: newest first, `after` = the last id of the previous page. */
function page<T extends { id: string }>(items: T[], url: URL) {
  const limitRaw = url.searchParams.get('limit');
  const limit = limitRaw === null ? 20 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'limit must be an integer in [1, 1000]', { errorCode: 'invalid_limit', param: 'limit' });
  const after = url.searchParams.get('after');
  let start = 0;
  if (after) {
    const i = items.findIndex((x) => x.id === after);
    start = i < 0 ? items.length : i + 1;
  }
  const data = items.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < items.length };
}

/** Reads a body up to `limit` bytes; 413 beyond it (checked from Content-Length first, then while streaming). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge(limit));
      } else chunks.push(c);
    });
    req.on('end', () => !over && resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => !req.complete && reject(new HttpError(400, 'the client closed the connection before the body was complete', { errorCode: 'aborted' })));
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body larger than the limit of ${limit} bytes`, { errorCode: 'payload_too_large' });
}

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `invalid JSON body (${(err as Error).message})`, { errorCode: 'invalid_json', cause: err });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'the JSON body must be an object', { errorCode: 'invalid_json' });
  return v as Record<string, unknown>;
}

