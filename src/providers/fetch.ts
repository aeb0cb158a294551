/**
 * A `fetch` for the networked providers' SDKs, on node:http(s) with an agent of its own. Why not the global
 * fetch: Node 20's fetch (undici 6) does not close the connection when a request waiting for its answer is
 * aborted — the server still holds the request, in flight, after the client gave up (measured in
 * test/providers/verify-faults.test.ts). Here an abort destroys the request's socket, and `close()` destroys
 * every socket the provider opened, so "cancelled" means nothing is left on the wire.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** A fetch and the means to drop every connection it holds. */
export interface ClosableFetch {
  readonly fetch: typeof fetch;
  /** Destroys every socket (in flight or idle); later calls open new ones. */
  close(): void;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** Creates a fetch over its own keep-alive agents (idle sockets do not hold the process open). */
export function closableFetch(): ClosableFetch {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // Let the platform serialise whatever body the SDK built (JSON, FormData with a boundary, a stream).
    const req = new Request(input, { ...init, duplex: 'half' } as RequestInit);
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const url = new URL(req.url);
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      if (k !== 'accept-encoding') headers[k] = v; // no compression: the body is handed on as is
    });
    if (body) headers['content-length'] = String(body.length);
    const secure = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const r = (secure ? httpsRequest : httpRequest)(
        url,
        { method: req.method, headers, agent: secure ? agents.https : agents.http, ...(signal ? { signal } : {}) },
        (res: IncomingMessage) => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
            else if (v !== undefined) h.set(k, v);
          }
          const status = res.statusCode ?? 502;
          const stream = NULL_BODY.has(status) || req.method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          if (!stream) res.resume();
          resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: h }));
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  };
  return {
    fetch: f as typeof fetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
