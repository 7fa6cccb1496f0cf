/**
 * Render function: invoked by EventBridge Scheduler (daily after the close time, and hourly for "today so
 * far"). The event may carry `{"date":"YYYY-MM-DD"}` to re-render one day, or `{"all":true}` to roll up the
 * whole history again.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadRenderConfigAsync } from '../../lib/config.js';
import { createRenderService } from '../../lib/render/service.js';
import { readSecureParameter } from '../../lib/store/ssm-client.js';

const logger = new Logger({ serviceName: 'alertgraph-render' });
// Top-level await (the bundle is ESM): the pseudonym key is read from SSM once, during the init phase.
const service = createRenderService(await loadRenderConfigAsync(readSecureParameter), logger);

export async function handler(event: { date?: unknown; all?: unknown } = {}) {
  logger.resetKeys();
  const date = typeof event.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(event.date) ? event.date : undefined;
  // A failure throws: the scheduler retries and, in the end, the event lands in the dead-letter queue.
  return service.run({ date, all: event.all === true });
}
