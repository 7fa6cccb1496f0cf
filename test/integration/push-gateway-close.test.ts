/**
 * `dev` stops gracefully: the local gateway's close() lets a batch in flight finish (the sensor gets its
 * receipt, not a reset), refuses new connections meanwhile, and does not wait for idle keep-alive sockets.
 */
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../lib/local/gateway.js';
import { silentLog } from '../../lib/log.js';

describe('gateway close()', () => {
  it('finishes in-flight requests, refuses new ones, and returns without waiting for keep-alive sockets', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const gateway = await startGateway({
      port: 0,
      log: silentLog,
      api: async (event) => {
        if (event.rawPath === '/v1/batches') {
          entered();
          await released;
          return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"accepted":1}' };
        }
        return { statusCode: 200, body: 'ok' };
      },
    });
    // A keep-alive connection that is idle when the stop begins.
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);

    const inflight = fetch(`${gateway.url}/v1/batches`, { method: 'POST', body: 'x' });
    await inHandler;
    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
    expect(closed).toBe(false);

    release();
    const res = await inflight;
    expect(res.status).toBe(202);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toEqual({ accepted: 1 });
    await closing;
    expect(closed).toBe(true);
  });
});
