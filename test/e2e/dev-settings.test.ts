/**
 * `alertgraph dev --daily-at … --watched-ports …` records the settings it runs with in stack.json, which is
 * where `render` and `rebuild` in another shell take them from (lib/admin/context.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readLocalState } from '../../lib/local/state.js';
import { SETTINGS } from '../../lib/settings.js';
import { startDev, type DevProcess } from '../helpers/e2e.js';

let dir: string | undefined;
let dev: DevProcess | undefined;

afterAll(async () => {
  await dev?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('records the close time and watched ports given on the command line, and the default horizon', async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-dev-settings-'));
  dev = await startDev(dir, { args: ['--daily-at', '02:00', '--watched-ports', 'tcp/22,udp/53'] });
  expect((await readLocalState(dir))?.settings).toEqual({ horizonDays: SETTINGS.horizonDays.default, dailyRenderAt: '02:00', watchedPorts: ['tcp/22', 'udp/53'] });
}, 90_000);
