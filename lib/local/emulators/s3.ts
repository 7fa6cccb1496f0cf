/**
 * In-process S3 emulator (s3rver) on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Local {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartS3LocalOptions {
  /** Persistent object store directory (created if missing). Omitted: a temp dir removed at stop(). */
  dataDir?: string;
  /** 0 or omitted: the kernel picks a free loopback port. */
  port?: number;
  /** Buckets to create if absent. */
  buckets?: string[];
}

export async function startS3Local(opts: StartS3LocalOptions = {}): Promise<S3Local> {
  const persistent = opts.dataDir !== undefined;
  const directory =
    opts.dataDir !== undefined ? path.resolve(opts.dataDir) : await mkdtemp(path.join(os.tmpdir(), 'alertgraph-s3-'));
  await mkdir(directory, { recursive: true });

  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory,
    silent: true,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });

  // We own the HTTP server instead of calling s3rver.run(): run() never settles when listen fails
  // (e.g. EADDRINUSE), whereas here the error rejects.
  const server = createServer(s3rver.callback());
  try {
    await s3rver.configureBuckets();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    s3rver.logger.close();
    if (!persistent) await rm(directory, { recursive: true, force: true });
    throw err;
  }

  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep sockets alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      });
      s3rver.logger.close();
      if (!persistent) await rm(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  return { endpoint: `http://127.0.0.1:${port}`, port, stop };
}
