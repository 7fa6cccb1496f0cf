/**
 * Reads one SSM SecureString (decrypted) with a single SigV4-signed HTTPS request, for the ingest function.
 *
 * Why not @aws-sdk/client-ssm: the ingest bundle's cold import is budgeted at 1.3× a bundle of the SDK clients it
 * uses (`npm run bench`, `bundle.ingestImportOverSdk`), and bundling the SSM client for one call at cold start
 * grew the bundle from 562 to 808 KB and the ratio to 1.4. Everything this request needs is already in the
 * bundle: the signer (`@smithy/signature-v4`, which every SDK client signs with), the credentials and region
 * of the function's own DynamoDB client (the same provider chain, so the same role), and Node's fetch.
 *
 * Why SSM at all, and not the key in the environment: an environment variable shows in the Lambda console and
 * in the CloudFormation template; the SecureString is encrypted at rest and readable only by the functions'
 * roles (cdk/constructs/ingest.ts grants ssm:GetParameter on that one parameter).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, ChecksumConstructor, HashConstructor } from '@smithy/types';
import { ConfigError, type SecureParameterReader } from '../config.js';

/** What the reader takes from an SDK client's resolved configuration. */
export interface SigningSource {
  credentials: () => Promise<AwsCredentialIdentity>;
  region: () => Promise<string>;
  sha256: ChecksumConstructor | HashConstructor;
}

export interface SignedParameterReaderOptions {
  /** Test seam: the service URL (default `https://ssm.<region>.amazonaws.com/`). */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Give up after this long (cold start must not hang on a network problem). */
  timeoutMs?: number;
}

function defaultEndpoint(region: string): string {
  return `https://ssm.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/`;
}

export function signedParameterReader(source: SigningSource, options: SignedParameterReaderOptions = {}): SecureParameterReader {
  const fetchImpl = options.fetch ?? fetch;
  return async (name) => {
    const region = await source.region();
    const url = new URL(options.endpoint ?? defaultEndpoint(region));
    const body = JSON.stringify({ Name: name, WithDecryption: true });
    const signer = new SignatureV4({ service: 'ssm', region, credentials: source.credentials, sha256: source.sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body,
    });
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const text = await res.text();
    let json: { Parameter?: { Value?: string }; __type?: string; message?: string; Message?: string } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // Not JSON: reported below by status.
    }
    if (!res.ok) {
      // The error's type (e.g. "com.amazonaws.ssm#ParameterNotFound" or "AccessDeniedException"), never a value.
      const type = (json.__type ?? `HTTP ${res.status}`).split('#').pop();
      throw new ConfigError(`SSM GetParameter ${name} failed: ${type}${json.message ?? json.Message ? `: ${json.message ?? json.Message}` : ''}`);
    }
    const value = json.Parameter?.Value;
    if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
    return value;
  };
}
