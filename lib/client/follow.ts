/**
 * `alertgraph push --follow`: tails a growing log like `tail -F` — across rotation by rename (a new inode at
 * the path) and by truncation (copytruncate) — and sends what is appended, with a checkpoint so that a
 * restarted follower neither re-sends nor misses (checkpoint.ts), heartbeats while the sensor is quiet, a
 * spool while the endpoint is down, and a clean stop on SIGINT/SIGTERM (the caller aborts `signal`).
 *
 * One loop (LogFollower.run), one batch in flight: the order "cut → record intent → deliver → checkpoint" is
 * what makes a crash at any point safe, and a single loop keeps that order obvious.
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
  return new LogFollower(opts).run();
}

/**
 * One follower of one file: `run` resumes from the checkpoint, then polls — read what was appended, send a
 * partial batch once it has waited long enough, notice rotation or truncation, probe a down endpoint, send a
 * heartbeat when quiet — until the signal stops it, and then flushes what it read.
 */
class LogFollower {
  private readonly path: string;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly pollMs: number;
  private readonly rotateGraceMs: number;
  private readonly gzip: boolean;
  private readonly limits: ReturnType<typeof batchLimits>;
  private readonly summary = emptySummary();
  /** Aborts requests still in flight a grace period after the stop (their batch is then spooled). */
  private readonly hard = new AbortController();
  private readonly sender: ReturnType<typeof senderFor>;
  private readonly delivery: Delivery;
  // One read buffer for the follower's life: it polls several times a second, and a buffer per poll would be
  // garbage at that rate. Lines are views into it, consumed before the next read.
  private readonly readBuf = Buffer.allocUnsafeSlow(READ_CHUNK);
  /** Known once the first line has been seen; later files and restarts keep it. */
  private format: InputFormat | undefined;
  private lastContact: number;
  private probeAttempt = 0;
  private nextProbeAt = 0;

  constructor(private readonly opts: FollowOptions) {
    this.path = resolve(opts.path);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.pollMs = opts.pollMs ?? 250;
    this.rotateGraceMs = opts.rotateGraceMs ?? 1000;
    this.gzip = opts.gzip ?? true;
    this.limits = batchLimits(opts);
    this.format = opts.format;

    const onStop = () => setTimeout(() => this.hard.abort(), opts.stopGraceMs ?? 10_000).unref();
    if (opts.signal.aborted) onStop();
    else opts.signal.addEventListener('abort', onStop, { once: true });

    this.sender = senderFor(opts, this.summary, { signal: opts.signal, hardSignal: this.hard.signal });
    this.delivery = new Delivery(this.sender, {
      sensor: opts.sensor,
      spool: opts.spool,
      gzip: this.gzip,
      retryForMs: opts.retryForMs,
      reloadKey: opts.reloadKey,
      onBatch: opts.onProgress,
      onRefused: (e) => {
        this.log(`batch ${e.batch} refused: ${e.status} ${e.code ?? ''} ${e.detail ?? ''}`.trimEnd());
        opts.onRefused?.(e);
      },
      onQuarantined: (q) => (opts.onQuarantined ? opts.onQuarantined(q) : this.log(quarantineWarning(q))),
    }, this.summary);
    this.lastContact = this.now();
  }

  /** Follows until the signal stops it; what was read by then is sent (or spooled) and checkpointed. */
  async run(): Promise<PushSummary> {
    await this.probe();
    let tail = await this.resume();
    let failed = false;
    try {
      while (tail && !this.opts.signal.aborted) {
        const grew = await this.readAvailable(tail);
        if (this.opts.signal.aborted) break;
        const t = this.now();
        const since = tail.intake.waitingSince;
        if (since !== undefined && t - since >= this.opts.flushAfterMs) await this.flushPartial(tail);

        if (grew) tail.rotatedSince = undefined;
        else {
          const next = await this.checkRotation(tail, t);
          if (next) {
            tail = next;
            continue;
          }
        }

        if (this.delivery.down && t >= this.nextProbeAt) await this.probe();
        await this.heartbeatIfQuiet(tail, t);
        await abortableSleep(this.pollMs, this.opts.signal);
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      if (tail) {
        // Stopping: what was read is sent with a short budget, or spooled; the checkpoint covers it either way.
        // Not after a failure: a batch may be half way between its intent and its checkpoint, and cutting
        // another one now would record an intent that no longer matches one batch.
        if (!failed) await this.flushPartial(tail, this.opts.stopRetryMs ?? 5_000).catch((err: Error) => this.log(`last batch could not be saved: ${err.message}`));
        await tail.fh.close().catch(() => undefined);
      }
    }
    return this.summary;
  }

  /**
   * When the file was not seen to grow: has it been renamed away (then finish it and follow the new file) or
   * truncated (then start again at its beginning)? Returns the tail to go on with when the loop must start over.
   */
  private async checkRotation(tail: Tail, t: number): Promise<Tail | undefined> {
    const current = await this.pathState();
    const moved = tail.remnant || !current || current.ino !== tail.id.ino || current.dev !== tail.id.dev;
    if (moved) {
      // The writer may still append to the renamed file until it reopens (logrotate's `create` makes the
      // new file before Suricata's HUP): switch only once the old file has been quiet for a moment.
      tail.rotatedSince ??= t;
      if (current && t - tail.rotatedSince >= this.rotateGraceMs) {
        // The new file is opened before the old one is finished and closed: should it vanish in between (a
        // second rotation), the old file stays open and followed, and the switch is tried again next poll.
        const fh = await this.openPath();
        if (fh) {
          try {
            await this.finishFile(tail);
          } catch (err) {
            await fh.close().catch(() => undefined);
            throw err;
          }
          this.log(`${this.path} rotated; following the new file`);
          return this.startFresh(fh);
        }
      }
    } else if (current && current.size < tail.splitter.offset) {
      // copytruncate: the lines already read are real and are sent; what was written between our last
      // read and the truncation is lost (a limit of copytruncate itself, as with tail -F).
      this.log(`${this.path} was truncated; continuing at its beginning`);
      tail.splitter.finishEach(tail.intake.sink);
      await this.flushPartial(tail);
      tail.splitter = new LineSplitter(0, MAX_LINE_BYTES);
      tail.intake = this.newIntake(0, false);
      tail.committed = 0;
      // Same inode, new content: the fingerprint must describe what the file now starts with.
      tail.id = await identify(tail.fh);
      await this.saveCheckpoint(tail);
      return tail;
    }
    return undefined;
  }

  /** An empty batch after heartbeatMs without contact, so the service sees a quiet sensor is alive. */
  private async heartbeatIfQuiet(tail: Tail, t: number): Promise<void> {
    // No heartbeat while a partial batch waits: it goes out within --flush-after and says the same, for free.
    const { heartbeatMs } = this.opts;
    if (heartbeatMs <= 0 || this.delivery.down || tail.intake.waitingSince !== undefined || t - this.lastContact < heartbeatMs) return;
    // Not spooled: a heartbeat says "alive now", and the service dates it by its arrival.
    const outcome = await this.sender.sendWithRetry(heartbeatBatch(t, heartbeatMs), Math.min(this.opts.retryForMs, 10_000));
    if (outcome?.kind === 'ok') {
      this.summary.heartbeats++;
      this.log(`heartbeat sent (${heartbeatBatch(t, heartbeatMs).idempotencyKey})`);
    }
    this.lastContact = t;
  }

  private async probe(): Promise<void> {
    const wasDown = this.delivery.down;
    // One attempt per spooled batch: while the endpoint is down the follower keeps reading and spooling.
    if (await this.delivery.drain(0)) {
      if (wasDown) this.log('endpoint reachable again; spool drained');
      this.probeAttempt = 0;
      this.lastContact = this.now();
    } else {
      const delay = retryDelay(this.probeAttempt++, undefined, this.opts.random, { baseMs: 1000, capMs: 60_000 });
      this.nextProbeAt = this.now() + Math.max(this.pollMs, delay);
    }
  }

  private async saveCheckpoint(tail: Tail, pendingEnd?: number): Promise<void> {
    // The fingerprint grows with the file until it covers FINGERPRINT_BYTES; after that it never changes.
    if (tail.id.headBytes < FINGERPRINT_BYTES) tail.id = await identify(tail.fh);
    const cp: Checkpoint = {
      version: 1,
      sensor: this.opts.sensor,
      path: this.path,
      file: tail.id,
      offset: tail.committed,
      ...(pendingEnd !== undefined ? { pending: { end: pendingEnd } } : {}),
      ...(this.format ? { format: this.format } : {}),
      updatedAt: new Date(this.now()).toISOString(),
    };
    await writeCheckpoint(this.opts.checkpointFile, cp);
  }

  /** cut → intent on disk → deliver → checkpoint past the batch. */
  private async sendBatch(tail: Tail, sealed: SealedBatch, budgetMs?: number): Promise<void> {
    await this.saveCheckpoint(tail, sealed.end);
    const result = await this.delivery.deliver(sealed.batch, budgetMs);
    await this.opts.afterDeliver?.(sealed.batch);
    tail.committed = sealed.end;
    await this.saveCheckpoint(tail);
    if (result === 'sent') this.lastContact = this.now();
  }

  private newIntake(offset: number, remnant: boolean, limits = this.limits): LineIntake {
    return new LineIntake(new Batcher(limits, offset), this.summary, {
      sensor: this.opts.sensor,
      gzip: this.gzip,
      format: this.format,
      now: this.now,
      where: (start) => `${remnant ? 'rotated file' : basename(this.path)} byte ${start}`,
      onReject: (where, reason) => this.log(`${where}: dropped, ${reason}`),
    });
  }

  /** Sends what the intake has completed (flush: the partial batch too). */
  private async sendReady(tail: Tail, flush: boolean, budgetMs?: number): Promise<void> {
    this.format ??= tail.intake.format;
    for (const sealed of flush ? tail.intake.flush() : tail.intake.drain()) await this.sendBatch(tail, sealed, budgetMs);
  }

  private flushPartial(tail: Tail, budgetMs?: number): Promise<void> {
    return this.sendReady(tail, true, budgetMs);
  }

  private async startTail(fh: FileHandle, offset: number, remnant: boolean): Promise<Tail> {
    return {
      fh,
      id: await identify(fh),
      splitter: new LineSplitter(offset, MAX_LINE_BYTES),
      intake: this.newIntake(offset, remnant),
      committed: offset,
      remnant,
    };
  }

  /** Reads what the file holds beyond our position; true when anything was read. */
  private async readAvailable(tail: Tail): Promise<boolean> {
    let any = false;
    while (!this.opts.signal.aborted) {
      const { bytesRead } = await tail.fh.read(this.readBuf, 0, this.readBuf.length, tail.splitter.offset);
      if (bytesRead === 0) break;
      any = true;
      this.summary.bytesRead += bytesRead;
      tail.splitter.each(this.readBuf.subarray(0, bytesRead), tail.intake.sink);
      await this.sendReady(tail, false);
      this.opts.onProgress?.(this.summary);
    }
    return any;
  }

  /** A file that will not grow again: its unterminated last line counts as a line, then everything is sent. */
  private async finishFile(tail: Tail): Promise<void> {
    await this.readAvailable(tail);
    tail.splitter.finishEach(tail.intake.sink);
    await this.flushPartial(tail);
    await tail.fh.close();
  }

  /** Re-creates the batch a previous run was delivering when it stopped: the same byte range, the same lines. */
  private async replayPending(tail: Tail, end: number): Promise<void> {
    const splitter = new LineSplitter(tail.committed, MAX_LINE_BYTES);
    // No count or size limit here: the range was one batch within the limits of the run that cut it.
    const unlimited = { maxLines: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };
    const replay: Tail = { ...tail, splitter, intake: this.newIntake(tail.committed, tail.remnant, unlimited) };
    let pos = tail.committed;
    while (pos < end) {
      const { bytesRead } = await tail.fh.read(this.readBuf, 0, Math.min(this.readBuf.length, end - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      splitter.each(this.readBuf.subarray(0, bytesRead), replay.intake.sink);
    }
    splitter.finishEach(replay.intake.sink);
    this.format ??= replay.intake.format;
    const [sealed] = replay.intake.flush();
    if (sealed) {
      this.log(`re-sending the batch that was in flight at the last stop (bytes ${sealed.start}–${sealed.end})`);
      await this.sendBatch(replay, sealed);
    }
    tail.id = replay.id;
    tail.committed = pos;
    tail.splitter = new LineSplitter(pos, MAX_LINE_BYTES);
    tail.intake = this.newIntake(pos, tail.remnant);
    await this.saveCheckpoint(tail);
  }

  private async openPath(): Promise<FileHandle | undefined> {
    try {
      return await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Waits for the file at the path to exist (a sensor may start before its IDS has written anything). */
  private async waitForPath(): Promise<FileHandle | undefined> {
    let warned = false;
    while (!this.opts.signal.aborted) {
      const fh = await this.openPath();
      if (fh) return fh;
      if (!warned) this.log(`waiting for ${this.path} to appear`);
      warned = true;
      await abortableSleep(this.pollMs, this.opts.signal);
    }
    return undefined;
  }

  /** A renamed-away file is looked for next to the path (eve.json.1, eve.json-20261121…) by identity. */
  private async findRotated(id: FileIdentity): Promise<FileHandle | undefined> {
    const dir = dirname(this.path);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const candidate = join(dir, name);
      const st = await stat(candidate, { bigint: true }).catch(() => undefined);
      if (!st?.isFile() || String(st.ino) !== id.ino || String(st.dev) !== id.dev) continue;
      const fh = await open(candidate, 'r').catch(() => undefined);
      if (fh && (await isSameFile(fh, id))) return fh;
      await fh?.close();
    }
    return undefined;
  }

  /** Where to start: the checkpointed file (at the path, or renamed away) at its offset, else the path at 0. */
  private async resume(): Promise<Tail | undefined> {
    const { path } = this;
    const cp = await readCheckpoint(this.opts.checkpointFile);
    if (cp && cp.path !== path) {
      throw new Error(`${this.opts.checkpointFile} belongs to ${cp.path}, not ${path}: use another --checkpoint for another file`);
    }
    this.format ??= cp?.format;
    const fh = await this.waitForPath();
    if (!fh) return undefined;
    if (!cp) return this.startFresh(fh);
    let tail: Tail;
    if (await isSameFile(fh, cp.file)) {
      const size = (await fh.stat()).size;
      if (size < cp.offset) {
        this.log(`${path} is shorter than the checkpoint (truncated while stopped); starting at its beginning`);
        return this.startFresh(fh);
      }
      tail = await this.startTail(fh, cp.offset, false);
    } else {
      const old = await this.findRotated(cp.file);
      if (!old) {
        this.log(`the checkpointed file is gone (rotated out of ${dirname(path)} or deleted); starting ${path} at its beginning`);
        return this.startFresh(fh);
      }
      this.log(`${path} was rotated while stopped; finishing the old file from byte ${cp.offset} first`);
      await fh.close();
      tail = await this.startTail(old, cp.offset, true);
    }
    if (cp.pending && cp.pending.end > cp.offset) await this.replayPending(tail, cp.pending.end);
    return tail;
  }

  /** The file at the path from its first byte, checkpointed at once. */
  private async startFresh(fh: FileHandle): Promise<Tail> {
    const tail = await this.startTail(fh, 0, false);
    await this.saveCheckpoint(tail);
    return tail;
  }

  /** The file at the path now, for rotation checks: its identity and size, or undefined when there is none. */
  private async pathState(): Promise<{ dev: string; ino: string; size: number } | undefined> {
    const st = await stat(this.path, { bigint: true }).catch(() => undefined);
    return st ? { dev: String(st.dev), ino: String(st.ino), size: Number(st.size) } : undefined;
  }
}
