/** `alertgraph dev` (DESIGN §11): the whole stack on this machine until Ctrl-C. */
import { EXIT } from '../args.js';
import type { Handler } from '../commands.js';
import { startLocalStack } from '../../local/dev.js';
import { jsonLinesLog } from '../../log.js';

export const handler: Handler<'dev'> = async ({ options }) => {
  const log = jsonLinesLog('alertgraph-dev');
  const stack = await startLocalStack({
    dataDir: options['data-dir'],
    port: options.port,
    demo: options.demo,
    log,
    settings: { dailyRenderAt: options['daily-at'], watchedPorts: options['watched-ports'] },
  });
  process.stdout.write(`alertgraph dev: ${stack.url}  (healthz: ${stack.url}/healthz, data: ${stack.dataDir}) — Ctrl-C to stop\n`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      stack.stop().then(done, done);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return EXIT.ok;
};
