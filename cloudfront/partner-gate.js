import cf from 'cloudfront';

// alertgraph partner gate: CloudFront Function, viewer request, runtime cloudfront-js-2.0, with one
// KeyValueStore associated: the revocation list. Keys: `<partner id>` (the whole partner) and `link:<link id>`
// (one link); values: the revocation time, ISO 8601. Partner ids have no ':', so the two kinds never collide.
//
// CloudFront itself checks the signed URL (trusted key group). This function adds what a signature cannot:
//   1. only /public/... and /partners/... are ever served (raw/ never), with plain path segments only;
//   2. a /partners/... request carries exactly one `partner` value and nothing but the signing parameters,
//      so the `*` in the policy's Resource (".../partners/*?partner=<id>") can never swallow a second,
//      different partner value (the "&x=?partner=<revoked id>" smuggling attack);
//   3. neither the partner nor the link (`link`, signed into the policy's Resource since per-link revocation;
//      links issued before have none and are revoked only with their partner) is in the revocation list.
//
// This file is the only implementation of that rule: the local CDN and the tests load this very source in
// Node (lib/links/revocation.ts), with `cf` injected. So it keeps to what cloudfront-js-2.0 offers: ES5.1
// plus const/let, arrow functions, template literals and async/await; no for-of, spread, destructuring,
// classes, Node APIs or URL parsing. The function size limit is 10 KB.

const kvsHandle = cf.kvs();

// Same as ID_PATTERN in lib/store/table.ts (a unit test compares them).
const PARTNER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Link ids are UUIDs (lib/links/partners.ts); lower case only, so one link has one spelling.
const LINK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// One path segment: no dot segments, no hidden names, no percent-encoding, so no decoding or normalising
// done anywhere between here and S3 can turn an accepted path into another one.
const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,254}$/;
const MAX_URI = 1024;

// The only query parameters a partner request may carry, each with the charset its value must have.
// None admits '%', '&', '=' or '?', so however CloudFront decodes or splits, every reading is the same.
const PARTNER_PARAMS = {
  partner: PARTNER_ID,
  link: LINK_ID,
  Policy: /^[A-Za-z0-9_~-]{1,4096}$/,
  Signature: /^[A-Za-z0-9_~-]{1,2048}$/,
  'Key-Pair-Id': /^[A-Za-z0-9_-]{1,128}$/,
  Expires: /^[0-9]{1,12}$/,
  'Hash-Algorithm': /^SHA(1|256)$/,
};

function refuse(status, reason) {
  return { allow: false, status: status, reason: reason };
}

// The decision for one request, without the revocation lookup. Pure: the same request gives the same answer.
function gateDecision(request) {
  const uri = request.uri;
  if (typeof uri !== 'string' || uri.length > MAX_URI) return refuse(404, 'not_served');
  // The public page is the site's front door.
  if (uri === '/') return { allow: true, area: 'public', uri: '/public/index.html' };

  const parts = uri.split('/');
  // parts[0] is the empty string before the leading '/'; then the area, then at least one segment.
  if (parts.length < 3 || parts[0] !== '') return refuse(404, 'not_served');
  const area = parts[1];
  if (area !== 'public' && area !== 'partners') return refuse(404, 'not_served');
  for (let i = 2; i < parts.length; i++) {
    if (!SEGMENT.test(parts[i])) return refuse(404, 'not_served');
  }
  if (area === 'public') return { allow: true, area: 'public', uri: uri };

  const qs = request.querystring || {};
  const names = Object.keys(qs);
  const values = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!Object.prototype.hasOwnProperty.call(PARTNER_PARAMS, name)) return refuse(403, 'ambiguous_query');
    const entry = qs[name];
    // CloudFront collapses a repeated name into one field with a multiValue array.
    if (!entry || (entry.multiValue && entry.multiValue.length > 1)) return refuse(403, 'ambiguous_query');
    const value = entry.value;
    if (typeof value !== 'string' || !PARTNER_PARAMS[name].test(value)) {
      return refuse(403, (name === 'partner' || name === 'link') && value === '' ? 'missing' : 'malformed');
    }
    values[name] = value;
  }
  if (values.partner === undefined || values.Signature === undefined || values['Key-Pair-Id'] === undefined) {
    return refuse(403, 'missing');
  }
  // A custom policy (Policy) or a canned one (Expires), never both: two readings of one link.
  if (values.Policy === undefined && values.Expires === undefined) return refuse(403, 'missing');
  if (values.Policy !== undefined && values.Expires !== undefined) return refuse(403, 'ambiguous_query');
  const decision = { allow: true, area: 'partners', uri: uri, partnerId: values.partner };
  if (values.link !== undefined) decision.linkId = values.link;
  return decision;
}

// The revocation-list keys that refuse a partner request: its partner, and its link when it names one.
function revocationKeys(decision) {
  const keys = [decision.partnerId];
  if (decision.linkId !== undefined) keys.push('link:' + decision.linkId);
  return keys;
}

function respond(status, reason) {
  return {
    statusCode: status,
    statusDescription: status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Forbidden',
    headers: {
      'content-type': { value: 'text/plain; charset=utf-8' },
      'cache-control': { value: 'no-store' },
      'x-alertgraph-gate': { value: reason },
    },
    body: { encoding: 'text', data: `${status === 404 ? 'Not found' : 'Forbidden'}: ${reason}\n` },
  };
}

async function handler(event) {
  const request = event.request;
  const decision = gateDecision(request);
  if (!decision.allow) return respond(decision.status, decision.reason);
  if (decision.area === 'partners') {
    const keys = revocationKeys(decision);
    for (let i = 0; i < keys.length; i++) {
      let revoked;
      try {
        revoked = await kvsHandle.exists(keys[i]);
      } catch (err) {
        // Fail closed: without the revocation list a revoked partner or link would get in.
        return respond(503, 'revocation_list_unavailable');
      }
      if (revoked) return respond(403, 'revoked');
    }
  }
  request.uri = decision.uri;
  return request;
}
