/**
 * `vtune-bench serve`: run an OpenAI-compatible fine-tuning service over a provider that can train (the
 * embedded engine by default). With `--attack <id>` it is a dishonest provider running that attack's provider
 * side, so any OpenAI-compatible client (or `plant`/`verify` with the openai provider) can be tested against
 * it. Listens on 127.0.0.1 unless told otherwise; needs a bearer token, from $VTUNE_SERVE_TOKEN or
 * --token-file (--token still works, with a warning: `ps` shows command lines to every user). Refuses to start
 * when the base model cannot be opened. Ctrl-C stops it; an interrupted job resumes on the next start with the
 * same --data-dir.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, InputError, redactSecrets, registerSecret } from '../../errors.js';
import type { Logger, Provider } from '../../types.js';
import { checkHyper } from '../../plugins/hyper.js';
import { providers } from '../../providers/index.js';
import type { CliCommand } from './types.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The serve log on stderr; every line goes through the secret registry (redaction by construction). */
function logger(verbose: boolean): Logger {
  return {
    info: (m) => process.stderr.write(`${redactSecrets(m)}\n`),
    warn: (m) => process.stderr.write(`warning: ${redactSecrets(m)}\n`),
    debug: (m) => verbose && process.stderr.write(`${redactSecrets(m)}\n`),
  };
}

/**
 * The bearer token: --token-file, else --token (with a warning), else $VTUNE_SERVE_TOKEN. Giving both options
 * is an error. The file's content is trimmed of surrounding whitespace (an editor's final newline).
 */
export async function readServeToken(o: { token?: unknown; tokenFile?: unknown; env: NodeJS.ProcessEnv; log: Logger }): Promise<string> {
  if (o.token !== undefined && o.tokenFile !== undefined) throw new ConfigError('give the token once: --token-file or --token, not both');
  let token: string | undefined;
  if (o.tokenFile !== undefined) {
    const file = String(o.tokenFile);
    try {
      token = (await readFile(file, 'utf8')).trim();
      if (((await stat(file)).mode & 0o077) !== 0) o.log.warn(`--token-file ${file} is readable by other users: chmod 600 it`);
    } catch (err) {
      throw new InputError(`cannot read the token file: ${(err as Error).message}`, { file, cause: err });
    }
    if (!token) throw new InputError('the token file is empty: expected the bearer token on its first line', { file });
  } else if (o.token !== undefined) {
    token = String(o.token);
    o.log.warn('--token is visible to every user of this machine in `ps`: prefer VTUNE_SERVE_TOKEN or --token-file');
  } else {
    token = o.env.VTUNE_SERVE_TOKEN || undefined;
  }
  if (!token) throw new ConfigError('serve needs a bearer token: set VTUNE_SERVE_TOKEN, or pass --token-file (or --token)');
  if (/\s/.test(token)) throw new ConfigError('the bearer token must not contain whitespace');
  if (token.length < 8) throw new ConfigError('the bearer token (VTUNE_SERVE_TOKEN / --token-file / --token) must be at least 8 characters');
  registerSecret(token);
  return token;
}

/** Splits `--base-model` into provider id and model name, honouring `--provider`. */
export function resolveBaseModel(baseModel: string, provider?: string): { provider: string; name: string } {
  const at = baseModel.indexOf(':');
  const prefix = at > 0 ? baseModel.slice(0, at) : undefined;
  if (provider) {
    providers.get(provider); // "unknown provider" with a hint
    return { provider, name: prefix === provider ? baseModel.slice(at + 1) : baseModel };
  }
  if (!prefix || !providers.has(prefix)) {
    throw new ConfigError(`--base-model must be <provider>:<model> (e.g. local:random-tiny, test-memorizer:base), got '${baseModel}'. Providers: ${providers.ids.join(', ')}`);
  }
  return { provider: prefix, name: baseModel.slice(at + 1) };
}

export const serveCommand: CliCommand = {
  command: 'serve',
  describe: 'Run an OpenAI-compatible fine-tuning service (honest, or a dishonest provider with --attack)',
  builder: (y) =>
    y
      .option('base-model', { type: 'string', default: 'local:vtb-base', describe: 'the model jobs fine-tune: <provider>:<model>, e.g. local:random-tiny' })
      .option('provider', { type: 'string', describe: 'provider id when --base-model is a bare name (e.g. test-memorizer)' })
      .option('attack', { type: 'string', describe: 'act as a dishonest provider running this attack (e.g. return-base)' })
      .option('attack-options', { type: 'string', describe: 'JSON object of attack options' })
      .option('port', { type: 'number', default: 8000, describe: 'port (0 = any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface to bind (loopback by default)' })
      .option('token-file', { type: 'string', describe: 'file holding the bearer token clients must send (default: $VTUNE_SERVE_TOKEN)' })
      .option('token', { type: 'string', describe: 'bearer token on the command line (visible in `ps`: prefer $VTUNE_SERVE_TOKEN or --token-file)' })
      .option('data-dir', { type: 'string', default: 'serve-data', describe: 'where files, jobs and models persist' })
      .option('epochs', { type: 'number', default: 3, describe: "default n_epochs when a job says 'auto'" })
      .option('learning-rate', { type: 'number', default: 1e-3, describe: 'learning rate at learning_rate_multiplier = 1' })
      .option('batch-size', { type: 'number', default: 4, describe: "default batch_size when a job says 'auto'" })
      .option('max-upload-mb', { type: 'number', default: 64, describe: 'largest training file accepted (413 beyond)' })
      .option('on-restart', { choices: ['resume', 'fail'] as const, default: 'resume' as const, describe: 'what happens to jobs a previous run left unfinished' })
      .option('verbose', { type: 'boolean', default: false, describe: 'log every request (query strings and headers redacted)' }),
  async run(args) {
    const log = logger(Boolean(args.verbose));
    const token = await readServeToken({ token: args.token, tokenFile: args['token-file'], env: process.env, log });
    const host = String(args.host);
    if (!LOOPBACK.has(host)) log.warn(`binding ${host}: the service is reachable from other machines (token required on every request)`);
    // The job defaults are hyper-parameters: checked by the one schema (src/plugins/hyper.ts), named by their flags.
    const flags = { epochs: '--epochs', learningRate: '--learning-rate', batchSize: '--batch-size' } as const;
    const hyper = checkHyper({ epochs: args.epochs, learningRate: args['learning-rate'], batchSize: args['batch-size'] });
    if (!hyper.ok) throw new ConfigError(hyper.problems.map((p) => ({ path: [], message: `${flags[p.path[0] as keyof typeof flags]} ${p.message}` })));
    const mb = args['max-upload-mb'];
    if (typeof mb !== 'number' || !Number.isFinite(mb) || mb <= 0) throw new ConfigError(`--max-upload-mb must be a positive number, got ${String(mb)}`);
    const { provider: providerId, name } = resolveBaseModel(String(args['base-model']), args.provider as string | undefined);
    const factory = providers.get(providerId) as (o?: Record<string, unknown>) => Promise<Provider> | Provider;
    const provider = await factory({});
    const { honestTrainer, attackTrainer } = await import('../../serve/trainer.js');
    let trainer;
    if (args.attack) {
      const { attacks } = await import('../../../attacks/index.js');
      const { runProviderSide } = await import('../../pipeline/provider-side.js');
      let attackOptions: Record<string, unknown> = {};
      if (args['attack-options']) {
        try {
          attackOptions = JSON.parse(String(args['attack-options']));
        } catch (err) {
          throw new ConfigError(`--attack-options must be a JSON object: ${(err as Error).message}`, { cause: err });
        }
        if (!attackOptions || typeof attackOptions !== 'object' || Array.isArray(attackOptions)) throw new ConfigError('--attack-options must be a JSON object');
      }
      const attack = attacks.get(String(args.attack))(attackOptions);
      if (attack.oracle) throw new ConfigError(`attack '${attack.id}' is an oracle (it needs the true backdoor mask): a server never has it`);
      if (attack.withholdPlanted) throw new ConfigError(`attack '${attack.id}' is a user-side baseline (the user withholds the planted rows): a server cannot play it`);
      trainer = attackTrainer(provider, name, attack, runProviderSide, log);
    } else {
      trainer = honestTrainer(provider, name, log);
    }
    const { startServe } = await import('../../serve/server.js');
    const dataDir = resolve(String(args['data-dir']));
    const handle = await startServe({
      trainer,
      dataDir,
      token,
      host,
      port: Number(args.port),
      maxUploadBytes: Math.round(Number(args['max-upload-mb']) * 1024 * 1024),
      defaults: { epochs: Number(args.epochs), learningRate: Number(args['learning-rate']), batchSize: Number(args['batch-size']) },
      onRestart: args['on-restart'] as 'resume' | 'fail',
      log,
    }).catch(async (err: unknown) => {
      await provider.close?.();
      throw err;
    });
    process.stdout.write(`vtune-bench serve: listening on ${handle.url} (base model ${trainer.baseModelId}, ${trainer.mode}; data in ${dataDir})\n`);
    await new Promise<void>((done) => {
      const stop = (sig: string) => {
        process.stderr.write(`${sig}: stopping (unfinished jobs resume on the next start)\n`);
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        done();
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    await handle.close();
    await provider.close?.();
    return 0;
  },
};
