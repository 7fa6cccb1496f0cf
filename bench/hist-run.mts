import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchHistory } from './history.ts';
const work = await mkdtemp(join(tmpdir(), 'hist-'));
const r = await benchHistory(work, { snapshot: '/tmp/hist-snap' });
console.log(JSON.stringify(r));
