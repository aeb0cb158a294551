/**
 * `rediss://`: the queue over TLS against a real redis-server with a TLS port and a certificate from a private
 * CA made here with openssl. The `fast` scenario (test-memorizer TEST DOUBLE) runs through it in process, and a
 * connection that does not trust the CA is refused (the certificate is verified, not just encrypted).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenarioOnQueue } from '../../src/queue/coordinator.js';
import { connect, parseQueueUrl } from '../../src/queue/url.js';
import { startWorker } from '../../src/queue/worker.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { loadScenario } from '../../src/runner/scenario.js';

function unavailable(): string | undefined {
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  const help = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (help.status !== 0) return 'redis-server is not installed (.ci/run installs it)';
  return undefined;
}
const skip = unavailable();
const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

describe.skipIf(skip)(`rediss:// (TLS)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const savedCa = process.env.VTUNE_QUEUE_TLS_CA;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vtune-tls-'));
    const ssl = (...args: string[]): void => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    };
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vtune-test-ca');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    server = spawn(
      'redis-server',
      ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no'],
      { stdio: 'ignore' },
    );
    process.env.VTUNE_QUEUE_TLS_CA = join(dir, 'ca.pem');
    const address = parseQueueUrl(`rediss://localhost:${port}/0`);
    for (let i = 0; ; i++) {
      try {
        (await connect(address, 2000)).disconnect();
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  afterAll(() => {
    if (savedCa === undefined) delete process.env.VTUNE_QUEUE_TLS_CA;
    else process.env.VTUNE_QUEUE_TLS_CA = savedCa;
    server?.kill('SIGTERM');
  });

  it('runs fast through a TLS queue, and refuses a server whose certificate it cannot verify', async () => {
    const url = `rediss://localhost:${port}/0`;
    const address = parseQueueUrl(url);
    expect(address.tls).toBe(true);
    const { scenario, file } = await loadScenario('fast', projectCatalog);
    process.env.VTUNE_CACHE = join(dir, 'cache');
    const worker = await startWorker({ address, catalog: projectCatalog, log: quiet, lockMs: 2000 });
    try {
      const summary = await runScenarioOnQueue({ scenario, file, catalog: projectCatalog, resultsRoot: join(dir, 'results'), queue: url, log: quiet });
      expect(summary.succeeded).toBe(21);
    } finally {
      await worker.close();
    }
    delete process.env.VTUNE_QUEUE_TLS_CA;
    await expect(connect(address, 5000)).rejects.toThrow(/cannot reach Redis: .*(self[- ]signed|unable to verify|certificate)/i);
  });
});
