/**
 * Partner administration end to end through `bin/alertgraph.js` against `alertgraph dev`: two links for one
 * partner, one revoked with --link, the partner revoked, then reinstated; `partner links` at each step; the
 * exit codes of the refusals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedLinkView } from '../../lib/links/admin.js';
import { cliJson, runCli, startDev, type DevProcess } from '../helpers/e2e.js';

let dir: string;
let dev: DevProcess | undefined;

const json = <T>(...args: string[]) => cliJson<T>(dir, args, { timeoutMs: 120_000 });

/** The CDN's answer to a link: status and the gate's reason when it refused. */
async function open(url: string): Promise<{ status: number; reason: string | null }> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return { status: res.status, reason: res.headers.get('x-alertgraph-gate') };
}
/** Let through by the gate and the signature check (the object itself may not be rendered yet: 200 or 404). */
const passes = async (url: string) => {
  const r = await open(url);
  return r.status !== 403 && r.status !== 503;
};
const revokedFlags = async (id?: string) =>
  Object.fromEntries(
    (await json<{ links: IssuedLinkView[] }>('partner', 'links', ...(id ? [id] : []))).links.map((l) => [l.id, l.revoked ? l.revokedBy : false]),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-partners-'));
  dev = await startDev(dir);
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('alertgraph partner', () => {
  it('links, revoke --link, revoke, reinstate', async () => {
    await json('partner', 'add', 'cert-a', '--name', 'CERT A');
    await json('partner', 'add', 'cert-b');
    const one = await json<{ url: string; linkId: string }>('partner', 'link', 'cert-a', '--expires', '1d');
    const two = await json<{ url: string; linkId: string }>('partner', 'link', 'cert-a', '--expires', '1d');
    const other = await json<{ url: string; linkId: string }>('partner', 'link', 'cert-b', '--expires', '1d');
    expect(new URL(one.url).searchParams.get('link')).toBe(one.linkId);
    for (const l of [one, two, other]) expect(await passes(l.url)).toBe(true);
    expect(await revokedFlags('cert-a')).toEqual({ [one.linkId]: false, [two.linkId]: false });

    const byLink = await json<{ id: string }>('partner', 'revoke', 'cert-a', '--link', one.linkId);
    expect(byLink.id).toBe(one.linkId);
    // Seen by the next request: the local CDN reads the registry on every partner request.
    expect(await open(one.url)).toEqual({ status: 403, reason: 'revoked' });
    expect(await passes(two.url)).toBe(true);
    expect(await revokedFlags('cert-a')).toEqual({ [one.linkId]: 'link', [two.linkId]: false });

    await json('partner', 'revoke', 'cert-a');
    expect(await open(one.url)).toEqual({ status: 403, reason: 'revoked' });
    expect(await open(two.url)).toEqual({ status: 403, reason: 'revoked' });
    expect(await passes(other.url)).toBe(true);
    expect(await revokedFlags()).toEqual({ [one.linkId]: 'link+partner', [two.linkId]: 'partner', [other.linkId]: false });

    expect(await json('partner', 'reinstate', 'cert-a')).toEqual({ id: 'cert-a', status: 'active', wasRevoked: true });
    expect(await passes(two.url)).toBe(true);
    expect(await open(one.url)).toEqual({ status: 403, reason: 'revoked' });
    expect(await revokedFlags('cert-a')).toEqual({ [one.linkId]: 'link', [two.linkId]: false });

    // The text table names the columns of DESIGN §10.
    const table = await runCli(dir, ['partner', 'links', 'cert-a']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+partner\s+issuer\s+issued\s+expires\s+revoked$/);
    expect(table.stdout).toContain('yes (link)');
    // Each CLI run starts a Node process that loads the SDK: about 5 s apiece on a busy 2-core machine.
  }, 300_000);

  it('refusals exit 2 with their code; help lists every action', async () => {
    const unknownLink = await runCli(dir, ['partner', 'revoke', 'cert-b', '--link', '00000000-0000-4000-8000-000000000000']);
    expect(unknownLink.code).toBe(2);
    expect(unknownLink.stderr).toContain('unknown_link');
    expect(unknownLink.stderr).toContain('partner links cert-b');
    const unknownPartner = await runCli(dir, ['partner', 'reinstate', 'nobody']);
    expect([unknownPartner.code, unknownPartner.stderr.includes('unknown_partner')]).toEqual([2, true]);
    expect((await runCli(dir, ['partner', 'links', 'nobody'])).code).toBe(2);
    expect((await runCli(dir, ['partner', 'link', 'cert-b', '--link', 'x'])).code).toBe(2);
    const help = await runCli(dir, ['partner', '--help']);
    expect(help.code).toBe(0);
    for (const action of ['add', 'list', 'link', 'links', 'revoke <id> --link', 'reinstate']) expect(help.stdout).toContain(`alertgraph partner ${action}`);
  }, 120_000);
});
