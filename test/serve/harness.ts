/**
 * Shared setup of the `serve` tests that start servers one test at a time: fresh private data folders, a
 * server started with a fixed token and an OpenAI SDK client for it (no retries), and an afterEach that closes
 * the last server started and removes the folders. Not a test double: it starts the real server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { type ServeHandle, type ServeOptions, startServe } from '../../src/serve/server.js';

export interface ServeHarness {
  /** The server started last in this test (closed after it). */
  readonly serve: ServeHandle | undefined;
  /** A fresh temporary folder, removed after the test. */
  newDir(): string;
  /** Starts a server (the harness's token unless `options` sets one) and returns a client for it. */
  start(options: Omit<ServeOptions, 'token'> & { token?: string }): Promise<OpenAI>;
}

/** Registers the afterEach cleanup; call once at the top of a test file. */
export function serveHarness(opts: { token: string; dirPrefix: string; clientTimeoutMs: number }): ServeHarness {
  let serve: ServeHandle | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await serve?.close();
    serve = undefined;
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  return {
    get serve() {
      return serve;
    },
    newDir() {
      const d = mkdtempSync(join(tmpdir(), opts.dirPrefix));
      dirs.push(d);
      return d;
    },
    async start(options) {
      serve = await startServe({ token: opts.token, ...options });
      return new OpenAI({ apiKey: opts.token, baseURL: serve.url, maxRetries: 0, timeout: opts.clientTimeoutMs });
    },
  };
}
