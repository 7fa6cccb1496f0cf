/**
 * Pieces for the one static partner page (`partners/index.html`), which every partner opens through their
 * own signed link. Objects under partners/ are served only with the signature, so the page's images and data
 * links must carry it too: the page copies its own query string (`?partner=…&link=…&Policy=…&Signature=…`)
 * onto each of them. The policy covers `partners/*?partner=<id>&link=<link id>`, so the same query string opens
 * every object (and a revoked link closes them all).
 *
 * Usage in the page renderer:
 *   <head> … ${partnerPageHeadTags()} … </head>
 *   <img ${signedAsset('src', 'top-ports.png')} alt="Top ports">
 *   <a ${signedAsset('href', 'partner-daily.csv')}>CSV</a>
 *   … ${signedAssetScript()} </body>
 * Asset paths are relative to partners/ and carry no query of their own (the signature covers exactly
 * `?partner=<id>&link=<link id>` plus the signing parameters).
 */
import { createHash } from 'node:crypto';

const ASSET_PATH = /^(?:[A-Za-z0-9_~-][A-Za-z0-9_.~-]*\/)*[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$/;

// Runs once the DOM is there; writes src/href as the data attribute plus this page's query string. The
// query always starts with '?', so it can only extend the relative path, never change the scheme.
const SCRIPT_BODY = `(function () {
  function sign() {
    var q = window.location.search;
    var els = document.querySelectorAll('[data-signed-src],[data-signed-href]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var src = el.getAttribute('data-signed-src');
      if (src !== null) el.setAttribute('src', src + q);
      var href = el.getAttribute('data-signed-href');
      if (href !== null) el.setAttribute('href', href + q);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', sign);
  else sign();
})();`;

/**
 * The inline script that signs the page's assets, and a `<noscript>` note for browsers without JavaScript.
 * Place it anywhere (it waits for the DOM); the end of `<body>` is conventional.
 */
export function signedAssetScript(): string {
  return (
    `<script>${SCRIPT_BODY}</script>\n` +
    '<noscript><p>The charts on this page are private and load only with the signature of your link, which ' +
    'this page passes on with JavaScript. Please enable JavaScript for this page, or append the query string ' +
    'of your link (from <code>?partner=</code> on) to each image address.</p></noscript>'
  );
}

/** CSP source for the inline script (`script-src 'sha256-…'`), should the page ever get a strict CSP. */
export function signedAssetScriptCspSource(): string {
  return `'sha256-${createHash('sha256').update(SCRIPT_BODY).digest('base64')}'`;
}

/** The attribute that marks an asset for signing: `data-signed-src="top-ports.png"`. */
export function signedAsset(attribute: 'src' | 'href', path: string): string {
  if (!ASSET_PATH.test(path)) throw new Error(`partner asset path must be a plain relative path, got ${JSON.stringify(path)}`);
  return `data-signed-${attribute}="${path}"`;
}

/**
 * Head tags for the partner page: no Referer, so the signed query string never leaks to other sites the page
 * links to; and no indexing, should a link ever be posted somewhere public.
 */
export function partnerPageHeadTags(): string {
  return '<meta name="referrer" content="no-referrer">\n<meta name="robots" content="noindex, nofollow">';
}
