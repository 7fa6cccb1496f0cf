/**
 * `--stack` mode (lib/admin/deployed-stack.ts) against stand-ins for CloudFormation, SSM, Lambda and the KeyValueStore:
 * no AWS account here, so these check what the CLI sends and how it reads answers, not AWS itself.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { adminContext, localRenderService } from '../../lib/admin/context.js';
import {
  deployedStackFromOutputs,
  invokeRenderFunction,
  linkSigningKey,
  edgeRevocationWriter,
  SIGV4A_PACKAGE,
  STACK_OUTPUTS,
  type StackClients,
} from '../../lib/admin/deployed-stack.js';
import { StackUnavailable } from '../../lib/admin/stack-unavailable.js';
import { silentLog } from '../../lib/log.js';

const OUTPUTS: Record<keyof typeof STACK_OUTPUTS, string> = {
  apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
  cdnDomainName: 'd111111abcdef8.cloudfront.net',
  tableName: 'Alertgraph-StoreTable-XYZ',
  bucketName: 'alertgraph-storebucket-xyz',
  revocationStoreArn: 'arn:aws:cloudfront::123456789012:key-value-store/8aa76c93-3198-462c-aaf6-000000000000',
  renderFunctionName: 'Alertgraph-PublishingRendererFunction-XYZ',
  linkKeyPairId: 'K2JCJMDEHXQW5F',
  linkPrivateKeyParameter: '/alertgraph/link-private-key',
  pseudonymKeyParameter: '/alertgraph/pseudonym-key',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:Alertgraph-AlarmsTopic',
  ingestLogGroup: '/aws/lambda/ingest',
  renderLogGroup: '/aws/lambda/render',
  renderDeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
  lakeDatabase: 'alertgraph_lake',
  lakeWorkGroup: 'Alertgraph-lake',
  horizonDays: '730',
  dailyRenderAt: '02:15',
  watchedPorts: 'tcp/22,tcp/445',
};
const cfnOutputs = Object.entries(OUTPUTS).map(([k, v]) => ({ OutputKey: STACK_OUTPUTS[k as keyof typeof STACK_OUTPUTS], OutputValue: v }));

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

/** A client whose `send` records each command and answers from `reply`. */
function fakeClient<T>(reply: (command: string, input: Record<string, unknown>) => unknown, sent: Sent[] = []): T {
  return {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: cmd.constructor.name, input: cmd.input });
      const out = reply(cmd.constructor.name, cmd.input);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as T;
}

function named(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

const offline = { dynamo: new DynamoDBClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }) };

async function stackContext(extra: StackClients = {}) {
  const { stackAdminContext } = await import('../../lib/admin/deployed-stack.js');
  const cloudFormation = fakeClient<NonNullable<StackClients['cloudFormation']>>(() => ({
    Stacks: [{ StackName: 'Alertgraph', StackStatus: 'UPDATE_COMPLETE', Outputs: cfnOutputs }],
  }));
  return stackAdminContext('.alertgraph', 'Alertgraph', { cloudFormation, ...offline, ...extra });
}

describe('reading the stack', () => {
  it('maps the outputs the stack writes', () => {
    const stack = deployedStackFromOutputs('Alertgraph', cfnOutputs);
    expect(stack).toMatchObject({
      apiUrl: OUTPUTS.apiUrl,
      cdnUrl: `https://${OUTPUTS.cdnDomainName}`,
      tableName: OUTPUTS.tableName,
      revocationStoreArn: OUTPUTS.revocationStoreArn,
      renderFunctionName: OUTPUTS.renderFunctionName,
    });
  });

  it("reads the settings the stack's functions run with from its outputs", () => {
    expect(deployedStackFromOutputs('Alertgraph', cfnOutputs).settings).toEqual({ horizonDays: 730, dailyRenderAt: '02:15', watchedPorts: ['tcp/22', 'tcp/445'] });
  });

  it('refuses a stack whose horizon output is not a horizon, rather than guess one', () => {
    const broken = cfnOutputs.map((o) => (o.OutputKey === STACK_OUTPUTS.horizonDays ? { ...o, OutputValue: 'forever' } : o));
    expect(() => deployedStackFromOutputs('Odd', broken)).toThrow(StackUnavailable);
  });

  it('expires contributions that rebuild --stack writes by the deployed horizon, not a default', async () => {
    const ctx = await stackContext();
    expect(ctx.settings.horizonDays).toBe(730);
    expect((ctx.ledger as unknown as { horizonDays: number }).horizonDays).toBe(730);
  });

  it('names the outputs a stack lacks', () => {
    expect(() => deployedStackFromOutputs('Other', cfnOutputs.filter((o) => o.OutputKey !== 'RevocationStoreArn'))).toThrow(
      /no output RevocationStoreArn/,
    );
  });

  it('builds the admin context on the stack: CDN URL, table, bucket, and no emulator endpoints', async () => {
    const ctx = await stackContext();
    expect(ctx).toMatchObject({ url: `https://${OUTPUTS.cdnDomainName}`, tableName: OUTPUTS.tableName, bucketName: OUTPUTS.bucketName });
    expect(ctx.dynamoEndpoint).toBeUndefined();
    expect(ctx.stack?.name).toBe('Alertgraph');
  });

  it('says so when the stack does not exist (exit code "unavailable")', async () => {
    const cloudFormation = fakeClient<NonNullable<StackClients['cloudFormation']>>(() => named('ValidationError', 'Stack with id Nope does not exist'));
    const { stackAdminContext } = await import('../../lib/admin/deployed-stack.js');
    const error = await stackAdminContext('.alertgraph', 'Nope', { cloudFormation, ...offline }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(StackUnavailable);
  });

  it('refuses a stack whose creation rolled back', async () => {
    const cloudFormation = fakeClient<NonNullable<StackClients['cloudFormation']>>(() => ({ Stacks: [{ StackStatus: 'ROLLBACK_COMPLETE', Outputs: [] }] }));
    const { describeDeployedStack } = await import('../../lib/admin/deployed-stack.js');
    await expect(describeDeployedStack('Broken', { cloudFormation })).rejects.toThrow(/ROLLBACK_COMPLETE/);
  });

  it('keeps the local path for adminContext without --stack', async () => {
    await expect(adminContext('/nonexistent-alertgraph-dir', undefined)).rejects.toThrow(/no local stack is running/);
  });
});

describe('partner links on the stack', () => {
  it('signs with the private key from the SSM parameter and the key id from the outputs', async () => {
    const sent: Sent[] = [];
    const ssm = fakeClient<NonNullable<StackClients['ssm']>>(() => ({ Parameter: { Value: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' } }), sent);
    const key = await linkSigningKey(await stackContext(), { ssm });
    expect(sent).toEqual([{ command: 'GetParameterCommand', input: { Name: OUTPUTS.linkPrivateKeyParameter, WithDecryption: true } }]);
    expect(key.keyPairId).toBe(OUTPUTS.linkKeyPairId);
  });

  it('explains a missing parameter', async () => {
    const ssm = fakeClient<NonNullable<StackClients['ssm']>>(() => named('ParameterNotFound'));
    await expect(linkSigningKey(await stackContext(), { ssm })).rejects.toThrow(/docs\/DEPLOY.md/);
  });
});

describe('revoking at the edge', () => {
  const present = async () => undefined;

  it('puts a key in the KeyValueStore, conditional on its current ETag', async () => {
    const sent: Sent[] = [];
    const keyValueStore = fakeClient<NonNullable<StackClients['keyValueStore']>>((cmd) => (cmd === 'DescribeKeyValueStoreCommand' ? { ETag: 'E1' } : { ETag: 'E2' }), sent);
    const edge = await edgeRevocationWriter(await stackContext(), { keyValueStore, importer: present });
    await edge!.put('cert-x', '2026-01-02T03:04:05.000Z');
    expect(sent).toEqual([
      { command: 'DescribeKeyValueStoreCommand', input: { KvsARN: OUTPUTS.revocationStoreArn } },
      { command: 'PutKeyCommand', input: { KvsARN: OUTPUTS.revocationStoreArn, Key: 'cert-x', Value: '2026-01-02T03:04:05.000Z', IfMatch: 'E1' } },
    ]);
  });

  it('tries again with the new ETag when another writer got there first', async () => {
    const sent: Sent[] = [];
    let puts = 0;
    const keyValueStore = fakeClient<NonNullable<StackClients['keyValueStore']>>((cmd) => {
      if (cmd === 'DescribeKeyValueStoreCommand') return { ETag: `E${puts}` };
      return ++puts === 1 ? named('ConflictException') : { ETag: 'E9' };
    }, sent);
    await (await edgeRevocationWriter(await stackContext(), { keyValueStore, importer: present }))!.put('cert-x', '2026-01-02T03:04:05.000Z');
    expect(sent.filter((s) => s.command === 'PutKeyCommand').map((s) => s.input.IfMatch)).toEqual(['E0', 'E1']);
  });

  it('removes a key with the current ETag; a key already gone is not an error, other failures are', async () => {
    const sent: Sent[] = [];
    let reply: unknown = { ETag: 'E2' };
    const keyValueStore = fakeClient<NonNullable<StackClients['keyValueStore']>>((cmd) => (cmd === 'DescribeKeyValueStoreCommand' ? { ETag: 'E1' } : reply), sent);
    const edge = (await edgeRevocationWriter(await stackContext(), { keyValueStore, importer: present }))!;
    await edge.remove('cert-x');
    expect(sent[1]).toEqual({ command: 'DeleteKeyCommand', input: { KvsARN: OUTPUTS.revocationStoreArn, Key: 'cert-x', IfMatch: 'E1' } });
    reply = named('ResourceNotFoundException');
    await expect(edge.remove('cert-x')).resolves.toBeUndefined();
    reply = named('AccessDeniedException');
    await expect(edge.remove('cert-x')).rejects.toThrow('AccessDeniedException');
  });

  it(`asks for ${SIGV4A_PACKAGE} when the SDK cannot sign with SigV4A`, async () => {
    const missing = async () => {
      throw Object.assign(new Error(`Cannot find package '${SIGV4A_PACKAGE}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const error = await edgeRevocationWriter(await stackContext(), { importer: missing }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(StackUnavailable);
    expect((error as Error).message).toContain(`npm install ${SIGV4A_PACKAGE}`);
  });

  it('is absent on the local stack, whose CDN reads the partner registry', async () => {
    const local = { dataDir: '.alertgraph' } as Parameters<typeof edgeRevocationWriter>[0];
    expect(await edgeRevocationWriter(local, { importer: () => Promise.reject(new Error('not needed')) })).toBeUndefined();
  });
});

describe('render on the stack', () => {
  it('invokes the render function synchronously with the request and returns its report', async () => {
    const sent: Sent[] = [];
    const report = { today: '2026-01-02', rolledUp: ['2026-01-01'], published: 12, ms: 900 };
    const lambda = fakeClient<NonNullable<StackClients['lambda']>>(() => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(report)) }), sent);
    const ctx = await stackContext();
    expect(await invokeRenderFunction(ctx.stack!, { date: '2026-01-01' }, { lambda })).toEqual(report);
    expect(sent[0]?.input).toMatchObject({ FunctionName: OUTPUTS.renderFunctionName, InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(sent[0]?.input.Payload as Uint8Array))).toEqual({ date: '2026-01-01' });
  });

  it("reports the function's error and its last log lines", async () => {
    const lambda = fakeClient<NonNullable<StackClients['lambda']>>(() => ({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(JSON.stringify({ errorType: 'ConfigError', errorMessage: 'PSEUDONYM_KEY_PARAMETER is not set' })),
      LogResult: Buffer.from('INIT failed').toString('base64'),
    }));
    const ctx = await stackContext();
    await expect(invokeRenderFunction(ctx.stack!, {}, { lambda })).rejects.toThrow(/ConfigError: PSEUDONYM_KEY_PARAMETER is not set[\s\S]*INIT failed/);
  });

  it('never runs the job locally against a deployed stack (the local pseudonym key would split the statistics)', async () => {
    await expect(localRenderService(await stackContext(), silentLog)).rejects.toThrow(/invokeRenderFunction/);
  });
});
