/** The default node:http transport against a loopback server: what BatchSender relies on it for. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBatch } from '../../lib/client/delivery.js';
import { BatchSender } from '../../lib/client/sender.js';
import { nodeTransport } from '../../lib/client/transport.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

let server: Server;
let base: string;
const seen: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url === '/moved/v1/batches') {
        res.writeHead(308, { location: 'https://elsewhere.example/v1/batches' });
        res.end();
      } else if (req.url === '/slow/v1/batches') {
        setTimeout(() => res.end('late'), 2_000).unref();
      } else {
        res.writeHead(503, { 'retry-after': '3', 'content-type': 'application/problem+json' });
        res.end('{"code":"retry_later"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('nodeTransport', () => {
  it('sends the body as is with its length, and returns status, headers and text', async () => {
    const body = Buffer.from('{"alerts":[]}');
    const res = await nodeTransport(new URL(`${base}/v1/batches`), { headers: { 'content-type': 'application/json' }, body, timeoutMs: 5_000 });
    expect(res.status).toBe(503);
    expect(res.header('Retry-After')).toBe('3');
    expect(res.text).toBe('{"code":"retry_later"}');
    const last = seen.at(-1)!;
    expect(last.body.equals(body)).toBe(true);
    expect(last.headers['content-length']).toBe(String(body.length));
    expect(last.headers['transfer-encoding']).toBeUndefined();
  });

  it('does not follow redirects', async () => {
    const res = await nodeTransport(new URL(`${base}/moved/v1/batches`), { headers: {}, body: Buffer.from('x'), timeoutMs: 5_000 });
    expect(res.status).toBe(308);
    expect(res.header('location')).toBe('https://elsewhere.example/v1/batches');
  });

  it('fails on a timeout and on a refused connection (the sender retries both)', async () => {
    await expect(nodeTransport(new URL(`${base}/slow/v1/batches`), { headers: {}, body: Buffer.from('x'), timeoutMs: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 's', privateKey: privateKeyFromPem(generateSensorKeyPair().privateKeyPem), retryForMs: 0 });
    expect(await sender.sendOnce(prepareBatch('s', ['{}'], 'eve', false))).toMatchObject({ kind: 'retry', status: 0, problem: { detail: 'ECONNREFUSED' } });
  });

  it('the sender reads Retry-After through it', async () => {
    const sender = new BatchSender({ endpoint: base, sensor: 's', privateKey: privateKeyFromPem(generateSensorKeyPair().privateKeyPem), retryForMs: 0 });
    expect(await sender.sendOnce(prepareBatch('s', ['{}'], 'eve', true))).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 3000 });
    expect(seen.at(-1)!.headers['content-encoding']).toBe('gzip');
    expect(seen.at(-1)!.headers['signature-input']).toMatch(/^sig1=\("@method" "@path" "content-digest" "content-type" "idempotency-key" "content-encoding"\)/);
  });
});
