/**
 * `alertgraph push --follow`: tails a growing log like `tail -F` — across rotation by rename (a new inode at
 * the path) and by truncation (copytruncate) — and sends what is appended, with a checkpoint so that a
 * restarted follower neither re-sends nor misses (checkpoint.ts), heartbeats while the sensor is quiet, a
 * spool while the endpoint is down, and a clean stop on SIGINT/SIGTERM (the caller aborts `signal`).
 *
 * One loop, one batch in flight: the order "cut → record intent → deliver → checkpoint" is what makes a crash
 * at any point safe, and a single loop keeps that order obvious.
 */
import type { KeyObject } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { abortableSleep, retryDelay } from './backoff.js';
import { Batcher, type InputFormat } from './batcher.js';
import { FINGERPRINT_BYTES, identify, isSameFile, readCheckpoint, writeCheckpoint, type Checkpoint, type FileIdentity } from './checkpoint.js';
import { Delivery, emptySummary, type PushSummary } from './delivery.js';
import { LineSplitter } from './lines.js';
import { batchLimits, LineIntake, MAX_LINE_BYTES, senderFor, type PushOptions, type SealedBatch } from './push.js';
import type { PreparedBatch } from './sign-batch.js';
import { quarantineWarning } from './spool.js';

/**
 * How long a partial batch may wait by default before it is sent. Every batch costs the service about two write
 * units (its claim and one contribution per day) and an archived object whatever its size, so the wait is
 * what keeps a live sensor's cost near a dense batch's: at one alert a second, ten minutes make batches of
 * about 600 alerts (≈ 3.3 write units per 1,000 alerts), where 5 s made batches of 5 (≈ 400). The price is
 * latency: an alert reaches the counters up to this long after it was logged (the graphs render hourly).
 */
export const DEFAULT_FLUSH_AFTER_MS = 10 * 60_000;

export interface FollowOptions extends PushOptions {
  path: string;
  /** `<data-dir>/follow/<sensor>.json` by default (the CLI decides). */
  checkpointFile: string;
  /** A partial batch is sent once its oldest line has waited this long. */
  flushAfterMs: number;
  /** An empty batch is sent after this long without contact with the service; 0 disables it. */
  heartbeatMs: number;
  /** Stops the follower: the partial batch is flushed (or spooled) and the checkpoint written. */
  signal: AbortSignal;
  /** How often the file is checked for new lines and rotation. */
  pollMs?: number;
  /** A renamed-away file is finished only once it has stopped growing for this long. */
  rotateGraceMs?: number;
  /** Retry budget of the last flush at shutdown: a service manager's stop timeout is short. */
  stopRetryMs?: number;
  /** Requests still in flight this long after the stop are aborted (their batch is spooled). */
  stopGraceMs?: number;
  /** Re-reads the key file after a 401 (key rotation). */
  reloadKey?: () => Promise<KeyObject | undefined>;
  /** Operational messages: rotation, truncation, spooling, heartbeats. */
  log?: (line: string) => void;
  /** Test hook: runs after a batch is delivered and before its checkpoint is written (a crash there). */
  afterDeliver?: (batch: PreparedBatch) => Promise<void> | void;
}

/** The Idempotency-Key of a heartbeat: one per sensor and time bucket, so a restart within a bucket adds nothing. */
export function heartbeatBatch(now: number, heartbeatMs: number): PreparedBatch {
  const bucket = Math.floor(now / heartbeatMs) * heartbeatMs;
  return {
    idempotencyKey: `heartbeat-${Math.floor(bucket / 1000)}`,
    contentType: 'application/json',
    body: Buffer.from('{"alerts":[]}'),
    gzip: false,
    lines: 0,
  };
}

interface Tail {
  fh: FileHandle;
  id: FileIdentity;
  splitter: LineSplitter;
  intake: LineIntake;
  /** Everything before this offset is delivered or spooled (what the checkpoint says). */
  committed: number;
  /** This is a renamed-away file found at start-up: finish it, then go on with the file at the path. */
  remnant: boolean;
  /** When the file at the path was first seen to be another file (or gone) while this one stopped growing. */
  rotatedSince?: number;
}

const READ_CHUNK = 256 * 1024;

export async function followLog(opts: FollowOptions): Promise<PushSummary> {
  const path = resolve(opts.path);
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const pollMs = opts.pollMs ?? 250;
  const rotateGraceMs = opts.rotateGraceMs ?? 1000;
  const gzip = opts.gzip ?? true;
  const limits = batchLimits(opts);
  const summary = emptySummary();

  // Requests in flight get a grace period after the stop, then are cut off (their batch is then spooled).
  const hard = new AbortController();
  const onStop = () => setTimeout(() => hard.abort(), opts.stopGraceMs ?? 10_000).unref();
  if (opts.signal.aborted) onStop();
  else opts.signal.addEventListener('abort', onStop, { once: true });

  const sender = senderFor(opts, summary, { signal: opts.signal, hardSignal: hard.signal });
  const delivery = new Delivery(sender, {
    sensor: opts.sensor,
    spool: opts.spool,
    gzip,
    retryForMs: opts.retryForMs,
    reloadKey: opts.reloadKey,
    onBatch: opts.onProgress,
    onRefused: (e) => {
      log(`batch ${e.batch} refused: ${e.status} ${e.code ?? ''} ${e.detail ?? ''}`.trimEnd());
      opts.onRefused?.(e);
    },
    onQuarantined: (q) => (opts.onQuarantined ? opts.onQuarantined(q) : log(quarantineWarning(q))),
  }, summary);

  let format: InputFormat | undefined = opts.format;
  let lastContact = now();
  let probeAttempt = 0;
  let nextProbeAt = 0;

  const probe = async () => {
    const wasDown = delivery.down;
    // One attempt per spooled batch: while the endpoint is down the follower keeps reading and spooling.
    if (await delivery.drain(0)) {
      if (wasDown) log('endpoint reachable again; spool drained');
      probeAttempt = 0;
      lastContact = now();
    } else {
      nextProbeAt = now() + Math.max(pollMs, retryDelay(probeAttempt++, undefined, opts.random, { baseMs: 1000, capMs: 60_000 }));
    }
  };

  const saveCheckpoint = async (tail: Tail, pendingEnd?: number) => {
    // The fingerprint grows with the file until it covers FINGERPRINT_BYTES; after that it never changes.
    if (tail.id.headBytes < FINGERPRINT_BYTES) tail.id = await identify(tail.fh);
    const cp: Checkpoint = {
      version: 1,
      sensor: opts.sensor,
      path,
      file: tail.id,
      offset: tail.committed,
      ...(pendingEnd !== undefined ? { pending: { end: pendingEnd } } : {}),
      ...(format ? { format } : {}),
      updatedAt: new Date(now()).toISOString(),
    };
    await writeCheckpoint(opts.checkpointFile, cp);
  };

  /** cut → intent on disk → deliver → checkpoint past the batch. */
  const sendBatch = async (tail: Tail, sealed: SealedBatch, budgetMs?: number) => {
    await saveCheckpoint(tail, sealed.end);
    const result = await delivery.deliver(sealed.batch, budgetMs);
    await opts.afterDeliver?.(sealed.batch);
    tail.committed = sealed.end;
    await saveCheckpoint(tail);
    if (result === 'sent') lastContact = now();
  };

  const newIntake = (offset: number, remnant: boolean, batchLimits = limits) =>
    new LineIntake(new Batcher(batchLimits, offset), summary, {
      sensor: opts.sensor,
      gzip,
      format,
      now,
      where: (start) => `${remnant ? 'rotated file' : basename(path)} byte ${start}`,
      onReject: (where, reason) => log(`${where}: dropped, ${reason}`),
    });

  /** Sends what the intake has completed (flush: the partial batch too). */
  const sendReady = async (tail: Tail, flush: boolean, budgetMs?: number) => {
    // The format is known once the first line has been seen; later files and restarts keep it.
    format ??= tail.intake.format;
    for (const sealed of flush ? tail.intake.flush() : tail.intake.drain()) await sendBatch(tail, sealed, budgetMs);
  };

  const startTail = async (fh: FileHandle, offset: number, remnant: boolean): Promise<Tail> => ({
    fh,
    id: await identify(fh),
    splitter: new LineSplitter(offset, MAX_LINE_BYTES),
    intake: newIntake(offset, remnant),
    committed: offset,
    remnant,
  });

  // One read buffer for the follower's life: it polls several times a second, and a buffer per poll would be
  // garbage at that rate. Lines are views into it, consumed before the next read.
  const readBuf = Buffer.allocUnsafeSlow(READ_CHUNK);

  /** Reads what the file holds beyond our position; true when anything was read. */
  const readAvailable = async (tail: Tail): Promise<boolean> => {
    let any = false;
    while (!opts.signal.aborted) {
      const { bytesRead } = await tail.fh.read(readBuf, 0, readBuf.length, tail.splitter.offset);
      if (bytesRead === 0) break;
      any = true;
      summary.bytesRead += bytesRead;
      tail.splitter.each(readBuf.subarray(0, bytesRead), tail.intake.sink);
      await sendReady(tail, false);
      opts.onProgress?.(summary);
    }
    return any;
  };

  const flushPartial = (tail: Tail, budgetMs?: number) => sendReady(tail, true, budgetMs);

  /** A file that will not grow again: its unterminated last line counts as a line, then everything is sent. */
  const finishFile = async (tail: Tail) => {
    await readAvailable(tail);
    tail.splitter.finishEach(tail.intake.sink);
    await flushPartial(tail);
    await tail.fh.close();
  };

  /** Re-creates the batch a previous run was delivering when it stopped: the same byte range, the same lines. */
  const replayPending = async (tail: Tail, end: number) => {
    const splitter = new LineSplitter(tail.committed, MAX_LINE_BYTES);
    // No count or size limit here: the range was one batch within the limits of the run that cut it.
    const replay: Tail = { ...tail, splitter, intake: newIntake(tail.committed, tail.remnant, { maxLines: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER }) };
    let pos = tail.committed;
    while (pos < end) {
      const { bytesRead } = await tail.fh.read(readBuf, 0, Math.min(readBuf.length, end - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      splitter.each(readBuf.subarray(0, bytesRead), replay.intake.sink);
    }
    splitter.finishEach(replay.intake.sink);
    format ??= replay.intake.format;
    const [sealed] = replay.intake.flush();
    if (sealed) {
      log(`re-sending the batch that was in flight at the last stop (bytes ${sealed.start}–${sealed.end})`);
      await sendBatch(replay, sealed);
    }
    tail.id = replay.id;
    tail.committed = pos;
    tail.splitter = new LineSplitter(pos, MAX_LINE_BYTES);
    tail.intake = newIntake(pos, tail.remnant);
    await saveCheckpoint(tail);
  };

  const openPath = async (): Promise<FileHandle | undefined> => {
    try {
      return await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };

  /** Waits for the file at the path to exist (a sensor may start before its IDS has written anything). */
  const waitForPath = async (): Promise<FileHandle | undefined> => {
    let warned = false;
    while (!opts.signal.aborted) {
      const fh = await openPath();
      if (fh) return fh;
      if (!warned) log(`waiting for ${path} to appear`);
      warned = true;
      await abortableSleep(pollMs, opts.signal);
    }
    return undefined;
  };

  /** A renamed-away file is looked for next to the path (eve.json.1, eve.json-20261121…) by identity. */
  const findRotated = async (id: FileIdentity): Promise<FileHandle | undefined> => {
    const dir = dirname(path);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const candidate = join(dir, name);
      const st = await stat(candidate, { bigint: true }).catch(() => undefined);
      if (!st?.isFile() || String(st.ino) !== id.ino || String(st.dev) !== id.dev) continue;
      const fh = await open(candidate, 'r').catch(() => undefined);
      if (fh && (await isSameFile(fh, id))) return fh;
      await fh?.close();
    }
    return undefined;
  };

  /** Where to start: the checkpointed file (at the path, or renamed away) at its offset, else the path at 0. */
  const resume = async (): Promise<Tail | undefined> => {
    const cp = await readCheckpoint(opts.checkpointFile);
    if (cp && cp.path !== path) {
      throw new Error(`${opts.checkpointFile} belongs to ${cp.path}, not ${path}: use another --checkpoint for another file`);
    }
    format ??= cp?.format;
    const fh = await waitForPath();
    if (!fh) return undefined;
    if (!cp) {
      const tail = await startTail(fh, 0, false);
      await saveCheckpoint(tail);
      return tail;
    }
    let tail: Tail;
    if (await isSameFile(fh, cp.file)) {
      const size = (await fh.stat()).size;
      if (size < cp.offset) {
        log(`${path} is shorter than the checkpoint (truncated while stopped); starting at its beginning`);
        tail = await startTail(fh, 0, false);
        await saveCheckpoint(tail);
        return tail;
      }
      tail = await startTail(fh, cp.offset, false);
    } else {
      const old = await findRotated(cp.file);
      if (old) {
        log(`${path} was rotated while stopped; finishing the old file from byte ${cp.offset} first`);
        await fh.close();
        tail = await startTail(old, cp.offset, true);
      } else {
        log(`the checkpointed file is gone (rotated out of ${dirname(path)} or deleted); starting ${path} at its beginning`);
        tail = await startTail(fh, 0, false);
        await saveCheckpoint(tail);
        return tail;
      }
    }
    if (cp.pending && cp.pending.end > cp.offset) await replayPending(tail, cp.pending.end);
    return tail;
  };

  /** The file at the path now, for rotation checks: its identity and size, or undefined when there is none. */
  const pathState = async () => {
    const st = await stat(path, { bigint: true }).catch(() => undefined);
    return st ? { dev: String(st.dev), ino: String(st.ino), size: Number(st.size) } : undefined;
  };

  await probe();
  let tail = await resume();
  let failed = false;
  try {
    while (tail && !opts.signal.aborted) {
      const grew = await readAvailable(tail);
      if (opts.signal.aborted) break;
      const t = now();
      const since = tail.intake.waitingSince;
      if (since !== undefined && t - since >= opts.flushAfterMs) await flushPartial(tail);

      if (grew) tail.rotatedSince = undefined;
      else {
        const current = await pathState();
        const moved = tail.remnant || !current || current.ino !== tail.id.ino || current.dev !== tail.id.dev;
        if (moved) {
          // The writer may still append to the renamed file until it reopens (logrotate's `create` makes the
          // new file before Suricata's HUP): switch only once the old file has been quiet for a moment.
          tail.rotatedSince ??= t;
          if (current && t - tail.rotatedSince >= rotateGraceMs) {
            await finishFile(tail);
            const fh = await openPath();
            if (fh) {
              log(`${path} rotated; following the new file`);
              tail = await startTail(fh, 0, false);
              await saveCheckpoint(tail);
              continue;
            }
          }
        } else if (current && current.size < tail.splitter.offset) {
          // copytruncate: the lines already read are real and are sent; what was written between our last
          // read and the truncation is lost (a limit of copytruncate itself, as with tail -F).
          log(`${path} was truncated; continuing at its beginning`);
          tail.splitter.finishEach(tail.intake.sink);
          await flushPartial(tail);
          tail.splitter = new LineSplitter(0, MAX_LINE_BYTES);
          tail.intake = newIntake(0, false);
          tail.committed = 0;
          // Same inode, new content: the fingerprint must describe what the file now starts with.
          tail.id = await identify(tail.fh);
          await saveCheckpoint(tail);
          continue;
        }
      }

      if (delivery.down && t >= nextProbeAt) await probe();
      // No heartbeat while a partial batch waits: it goes out within --flush-after and says the same, for free.
      if (opts.heartbeatMs > 0 && !delivery.down && tail.intake.waitingSince === undefined && t - lastContact >= opts.heartbeatMs) {
        // Not spooled: a heartbeat says "alive now", and the service dates it by its arrival.
        const outcome = await sender.sendWithRetry(heartbeatBatch(t, opts.heartbeatMs), Math.min(opts.retryForMs, 10_000));
        if (outcome?.kind === 'ok') {
          summary.heartbeats++;
          log(`heartbeat sent (${heartbeatBatch(t, opts.heartbeatMs).idempotencyKey})`);
        }
        lastContact = t;
      }
      await abortableSleep(pollMs, opts.signal);
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (tail) {
      // Stopping: what was read is sent with a short budget, or spooled; the checkpoint covers it either way.
      // Not after a failure: a batch may be half way between its intent and its checkpoint, and cutting
      // another one now would record an intent that no longer matches one batch.
      if (!failed) await flushPartial(tail, opts.stopRetryMs ?? 5_000).catch((err: Error) => log(`last batch could not be saved: ${err.message}`));
      await tail.fh.close().catch(() => undefined);
    }
  }
  return summary;
}
