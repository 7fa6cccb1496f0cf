/**
 * `alertgraph partner add | list | link | links | revoke | reinstate` (DESIGN §10, §12): partners and their
 * signed links. The order of the edge and registry writes is decided in lib/links/admin.ts.
 */
import { userInfo } from 'node:os';
import { EXIT, UsageError, formatTable, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext, type AdminContext } from '../../admin/context.js';
import { edgeRevocationWriter, linkSigningKey } from '../../admin/deployed-stack.js';
import { listIssuedLinks, reinstatePartner, revokeLink, revokePartner } from '../../links/admin.js';
import { issuePartnerLink, LinkError } from '../../links/partners.js';

type Action = Handler<'partner'>[keyof Handler<'partner'>];

/** Runs an action on the stack of its options; a refusal of the registry (unknown_partner, …) is exit 2. */
function onStack<A extends Action>(act: (ctx: AdminContext, input: Parameters<A>[0]) => Promise<number>): A {
  return (async (input: Parameters<A>[0]) => {
    const ctx = await adminContext(input.options['data-dir'], input.options.stack);
    try {
      return await act(ctx, input);
    } catch (err) {
      if (err instanceof LinkError) throw new UsageError(`${err.code}: ${err.message}`);
      throw err;
    }
  }) as A;
}

export const handler: Handler<'partner'> = {
  add: onStack(async (ctx, { options, args }) => {
    const partner = await ctx.partners.addPartner({ id: args.id, name: options.name });
    output(options.json).result(partner, `added partner ${partner.id}`);
    return EXIT.ok;
  }),
  list: onStack(async (ctx, { options }) => {
    const partners = await ctx.partners.listPartners();
    output(options.json).result({ partners }, partners.length ? partners.map((p) => `${p.id.padEnd(20)} ${p.status.padEnd(8)} ${p.name}`).join('\n') : 'no partners');
    return EXIT.ok;
  }),
  link: onStack(async (ctx, { options, args }) => {
    const signing = await linkSigningKey(ctx);
    const link = await issuePartnerLink({
      registry: ctx.partners,
      partnerId: args.id,
      issuer: userInfo().username,
      expiresAt: new Date(Date.now() + options.expires),
      path: options.path,
      baseUrl: ctx.url,
      keyPairId: signing.keyPairId,
      privateKeyPem: signing.privateKeyPem,
    });
    output(options.json).result(link, link.url);
    return EXIT.ok;
  }),
  links: onStack(async (ctx, { options, args }) => {
    const links = await listIssuedLinks(ctx.partners, args.id, Date.now());
    const rows = links.map((l) => ({
      id: l.id,
      partner: l.partner,
      issuer: l.issuer,
      issued: l.issued,
      expires: l.expires,
      revoked: l.revoked ? `yes (${l.revokedBy})` : l.expired ? 'no (expired)' : 'no',
    }));
    output(options.json).result({ links }, links.length ? formatTable(['id', 'partner', 'issuer', 'issued', 'expires', 'revoked'], rows) : 'no links issued');
    return EXIT.ok;
  }),
  revoke: onStack(async (ctx, { options, args: { id } }) => {
    const deps = { registry: ctx.partners, edge: await edgeRevocationWriter(ctx) };
    const at = new Date().toISOString();
    const out = output(options.json);
    if (options.link !== undefined) {
      const revoked = await revokeLink(deps, id, options.link, at, userInfo().username);
      out.result(revoked, `revoked link ${revoked.id} of partner ${id}: that link stops working, the partner's other links do not`);
    } else {
      const revoked = await revokePartner(deps, id, at);
      out.result(revoked, `revoked partner ${id}: all its links stop working`);
    }
    return EXIT.ok;
  }),
  reinstate: onStack(async (ctx, { options, args: { id } }) => {
    const deps = { registry: ctx.partners, edge: await edgeRevocationWriter(ctx) };
    const reinstated = await reinstatePartner(deps, id, new Date().toISOString());
    output(options.json).result(
      reinstated,
      reinstated.wasRevoked
        ? `reinstated partner ${id}: its links work again until they expire, except those revoked one by one`
        : `partner ${id} was active; nothing to reinstate`,
    );
    return EXIT.ok;
  }),
};
