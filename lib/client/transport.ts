/**
 * How a batch goes on the wire. By default node:http(s) with keep-alive, not fetch: undici copies every request
 * body and builds stream and Request/Response objects per call, which on a 1 GB push was a third of the
 * client's memory; a plain request writes our buffer as it is. A `fetch` can still be injected (tests).
 * Neither follows redirects: a redirected POST would silently turn into a GET.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface TransportRequest {
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
  /** Aborts the request in flight. */
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

/** Throws on a network failure (no response); any HTTP status is a response. */
export type Transport = (url: URL, req: TransportRequest) => Promise<TransportResponse>;

// One connection pool per process: concurrent pushes to the same endpoint share warm connections.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

export const nodeTransport: Transport = (url, req) =>
  new Promise<TransportResponse>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = send(
      url,
      {
        method: 'POST',
        agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
        headers: { ...req.headers, 'content-length': String(req.body.byteLength) },
        signal: req.signal,
        timeout: req.timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('connection lost while reading the response')));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
            text,
          });
        });
      },
    );
    // `timeout` only reports an idle socket; ending the request is up to us.
    r.on('timeout', () => r.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })));
    r.on('error', reject);
    r.end(req.body);
  });

export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (url, req) => {
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal: req.signal ? AbortSignal.any([timeout, req.signal]) : timeout,
    });
    const text = await res.text();
    return { status: res.status, header: (name) => res.headers.get(name), text };
  };
}
