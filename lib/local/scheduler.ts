/**
 * The render schedule inside `alertgraph dev`, standing in for EventBridge Scheduler: once at start when
 * nothing is published yet, every hour ("today so far"), and right after the daily close time.
 * Runs never overlap; a failed run is logged and the next tick tries again.
 */
import { closableDay } from '../render/job.js';
import type { Log } from '../log.js';
import { errorFields } from '../log.js';

export interface RenderScheduler {
  /** Runs a render now (waits for a running one first). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startRenderScheduler(opts: {
  run: () => Promise<unknown>;
  publishedAlready: () => Promise<boolean>;
  closeAfterMinutes: number;
  log: Log;
  clock?: () => number;
  tickMs?: number;
}): RenderScheduler {
  const clock = opts.clock ?? Date.now;
  let lastHour = -1;
  let lastClosable = '';
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = (): Promise<void> => {
    if (running) return running.then(runOnce);
    const now = clock();
    lastHour = Math.floor(now / 3_600_000);
    lastClosable = closableDay(now, opts.closeAfterMinutes);
    running = opts
      .run()
      .then(() => undefined)
      .catch((err) => opts.log.error('scheduled render failed', errorFields(err)))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const tick = () => {
    if (stopped || running) return;
    const now = clock();
    if (Math.floor(now / 3_600_000) !== lastHour || closableDay(now, opts.closeAfterMinutes) !== lastClosable) void runOnce();
  };

  // At start: render at once if nothing is published, otherwise wait for the next hour.
  void opts
    .publishedAlready()
    .then((done) => {
      if (done) {
        lastHour = Math.floor(clock() / 3_600_000);
        lastClosable = closableDay(clock(), opts.closeAfterMinutes);
      } else return runOnce();
    })
    .catch((err) => opts.log.error('render schedule could not start', errorFields(err)));
  const timer = setInterval(tick, opts.tickMs ?? 30_000);
  timer.unref();

  return {
    runNow: runOnce,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
