/**
 * The ingest function's one SSM call: a loopback server plays SSM and checks the request's SigV4 signature
 * with its own computation (node:crypto, AWS's documented algorithm), not the signer the code uses.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/core/serde';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadIngestConfigAsync } from '../../lib/config.js';
import { signedParameterReader } from '../../lib/store/ssm-parameter.js';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
const REGION = 'eu-central-1';
const KEY = Buffer.alloc(32, 5).toString('base64');

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Whether the request carries a valid SigV4 signature of `body` by CREDS for ssm in REGION; names the fault if not. */
function sigV4Fault(req: IncomingMessage, body: string): string | undefined {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `authorization header: ${auth}`;
  const [, akid, date, region, service, signedHeaders, signature] = m;
  if (akid !== CREDS.accessKeyId || region !== REGION || service !== 'ssm') return 'credential scope';
  const names = signedHeaders!.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-target', 'content-type', 'x-amz-security-token']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, req.url!.split('?')[0], '', canonicalHeaders, signedHeaders, hex(body)].join('\n');
  const amzDate = String(req.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${CREDS.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  if (createHmac('sha256', signingKey).update(stringToSign).digest('hex') !== signature) return 'signature mismatch';
  return undefined;
}

let server: Server;
let endpoint: string;
const parameters = new Map([['/alertgraph/pseudonym-key', KEY]]);
let lastTarget: string | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      lastTarget = String(req.headers['x-amz-target']);
      const fault = sigV4Fault(req, body);
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (fault) return reply(403, { __type: 'InvalidSignatureException', message: fault });
      if (lastTarget !== 'AmazonSSM.GetParameter') return reply(400, { __type: 'UnknownOperationException' });
      const input = JSON.parse(body) as { Name: string; WithDecryption?: boolean };
      if (input.WithDecryption !== true) return reply(400, { __type: 'ValidationException', message: 'not decrypted' });
      const value = parameters.get(input.Name);
      if (value === undefined) return reply(400, { __type: 'com.amazonaws.ssm#ParameterNotFound', message: 'no such parameter' });
      return reply(200, { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const source = {
  credentials: async () => CREDS,
  region: async () => REGION,
  sha256: Hash.bind(null, 'sha256'),
};

describe('the pseudonym key read with one signed request', () => {
  it('sends GetParameter with decryption, signed with SigV4 (host, target, type and session token signed)', async () => {
    const read = signedParameterReader(source, { endpoint });
    expect(await read('/alertgraph/pseudonym-key')).toBe(KEY);
    expect(lastTarget).toBe('AmazonSSM.GetParameter');
  });

  it('signs with what an SDK client resolved (as the ingest handler passes its DynamoDB client\'s config)', async () => {
    const client = new DynamoDBClient({ region: REGION, credentials: CREDS });
    expect(await signedParameterReader(client.config, { endpoint })('/alertgraph/pseudonym-key')).toBe(KEY);
  });

  it('gives the ingest configuration its key from the parameter named in PSEUDONYM_KEY_PARAMETER', async () => {
    const config = await loadIngestConfigAsync(signedParameterReader(source, { endpoint }), {
      TABLE_NAME: 't',
      BUCKET_NAME: 'b',
      PSEUDONYM_KEY_PARAMETER: '/alertgraph/pseudonym-key',
    });
    expect(Buffer.from(config.pseudonymKey).toString('base64')).toBe(KEY);
  });

  it('is refused by the server when signed with another secret', async () => {
    const wrong = { ...source, credentials: async () => ({ ...CREDS, secretAccessKey: 'another-secret' }) };
    const error = await signedParameterReader(wrong, { endpoint })('/alertgraph/pseudonym-key').catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/InvalidSignatureException: signature mismatch/);
  });

  it('names the parameter and the error type, never a value, when the parameter is missing', async () => {
    const error = await signedParameterReader(source, { endpoint })('/nope').catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('SSM GetParameter /nope failed: ParameterNotFound: no such parameter');
  });
});
