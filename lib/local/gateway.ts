/**
 * The local API gateway and CDN on one port (DESIGN §11): `/v1/*`, `/healthz` and `/openapi.json` become
 * API Gateway v2 events for the same handler the Lambda runs; everything else goes to the local CDN.
 * Bound to 127.0.0.1 only. `close()` stops accepting, lets in-flight requests finish, then returns.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { eventFromHttp } from '../http/apigw.js';
import { problemResponse } from '../http/problem.js';
import { errorFields, type Log } from '../log.js';

export type LambdaHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
/** Serves a CDN path; returns false when it does not handle the path. */
export type CdnHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** API Gateway HTTP APIs refuse payloads over 10 MB; the local gateway does the same. */
export const GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

/** close() waits this long for in-flight requests before cutting them off, so a stop never hangs. */
const CLOSE_GRACE_MS = 15_000;

export interface Gateway {
  port: number;
  url: string;
  close(): Promise<void>;
}

function isApiPath(path: string): boolean {
  return path.startsWith('/v1/') || path === '/v1' || path === '/healthz' || path === '/openapi.json';
}

function send(res: ServerResponse, statusCode: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
  res.writeHead(statusCode, headers);
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export async function startGateway(opts: {
  port: number;
  api: LambdaHandler;
  cdn?: CdnHandler;
  log: Log;
}): Promise<Gateway> {
  let closing = false;
  const server: Server = createServer(async (req, res) => {
    // A request that was in flight when close() began ends its keep-alive connection once answered;
    // otherwise close() would wait for the client to drop the idle socket.
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    try {
      if (isApiPath(path)) {
        const body = await readBody(req, GATEWAY_MAX_PAYLOAD);
        if (body === undefined) {
          const p = problemResponse('too_large', `API Gateway refuses payloads over ${GATEWAY_MAX_PAYLOAD} bytes`);
          send(res, p.statusCode, { ...p.headers, connection: 'close' }, p.body);
          return;
        }
        const event = eventFromHttp({
          method: req.method ?? 'GET',
          url,
          headers: req.headers,
          body,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          requestId: randomUUID(),
          now: Date.now(),
        });
        const result = await opts.api(event);
        const headers: OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
        // Tells the client not to reuse the connection, rather than racing it with the close.
        if (closing) headers.connection = 'close';
        const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
        send(res, result.statusCode ?? 200, headers, payload);
        return;
      }
      if (opts.cdn && (await opts.cdn(req, res))) return;
      const p = problemResponse('not_found', `nothing at ${path}`);
      send(res, p.statusCode, p.headers, p.body);
    } catch (err) {
      opts.log.error('gateway error', { path, ...errorFields(err) });
      if (!res.headersSent) {
        // API Gateway answers an integration failure with a bare 500; so does the local one.
        const p = problemResponse('internal', 'the local gateway could not run the handler');
        send(res, p.statusCode, p.headers, p.body);
      } else res.destroy();
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle keep-alive sockets would hold close() open; in-flight requests still complete.
        server.closeIdleConnections();
      }),
  };
}
