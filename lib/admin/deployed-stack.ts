/**
 * `--stack <name>`: admin commands against a deployed stack instead of the local one (DESIGN §10).
 *
 * Everything the CLI needs is found from the stack's CloudFormation outputs (written by cdk/alertgraph-stack.ts
 * under the keys of lib/stack-outputs.ts): table and bucket for the registries and statistics, the CDN for links,
 * the KeyValueStore for revocations, the render function for `render`, and the settings the functions run with. Secrets are never outputs: the link private
 * key is read from SSM by its parameter name, at the moment a link is signed.
 *
 * Credentials and region come from the usual AWS SDK chain (AWS_PROFILE, AWS_REGION, …). The SDK clients that
 * only `--stack` uses are imported on first use, so local commands do not load them.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoPartnerRegistry } from '../store/partners.js';
import type { RevocationWriter } from '../links/admin.js';
import { localSecrets } from '../local/secrets.js';
import type { RenderReport } from '../render/job.js';
import { DynamoBatchLedger } from '../store/ledger.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { checkStackSettings, type StackSettings } from '../settings.js';
import { STACK_OUTPUTS, type StackOutputKey } from '../stack-outputs.js';
import type { AdminContext } from './context.js';
import { StackUnavailable } from './stack-unavailable.js';

// The output keys live in a module of their own, shared with the CDK stack that writes them.
export { STACK_OUTPUTS, type StackOutputKey };

/** What the CLI knows about a deployed stack. */
export interface DeployedStack {
  name: string;
  /** Ingest API base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com (for `push --endpoint`). */
  apiUrl: string;
  /** https://<distribution>.cloudfront.net: where the graphs are and what partner links point at. */
  cdnUrl: string;
  tableName: string;
  bucketName: string;
  revocationStoreArn: string;
  renderFunctionName: string;
  linkKeyPairId: string;
  linkPrivateKeyParameter: string;
  /** The settings the stack's functions run with. */
  settings: StackSettings;
  /** Every output, by STACK_OUTPUTS key. */
  outputs: Record<StackOutputKey, string>;
}

/** The SDK clients `--stack` uses; tests pass their own. */
export interface StackClients {
  cloudFormation?: CloudFormationClient;
  ssm?: SSMClient;
  lambda?: LambdaClient;
  keyValueStore?: CloudFrontKeyValueStoreClient;
  dynamo?: DynamoDBClient;
  s3?: S3Client;
}

/** Reads a DescribeStacks answer's outputs; says which ones are missing (a stack of another version). */
export function deployedStackFromOutputs(name: string, outputs: readonly { OutputKey?: string; OutputValue?: string }[]): DeployedStack {
  const byKey = new Map(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const missing: string[] = [];
  const values = {} as Record<StackOutputKey, string>;
  for (const [key, outputKey] of Object.entries(STACK_OUTPUTS) as [StackOutputKey, string][]) {
    const value = byKey.get(outputKey);
    if (value === undefined || value === '') missing.push(outputKey);
    else values[key] = value;
  }
  if (missing.length > 0) {
    throw new StackUnavailable(`stack ${name} has no output ${missing.join(', ')}: is it an alertgraph stack, deployed from this version?`);
  }
  return {
    name,
    apiUrl: values.apiUrl.replace(/\/+$/, ''),
    cdnUrl: `https://${values.cdnDomainName}`,
    tableName: values.tableName,
    bucketName: values.bucketName,
    revocationStoreArn: values.revocationStoreArn,
    renderFunctionName: values.renderFunctionName,
    linkKeyPairId: values.linkKeyPairId,
    linkPrivateKeyParameter: values.linkPrivateKeyParameter,
    settings: stackSettingsFromOutputs(name, values),
    outputs: values,
  };
}

/** The settings outputs, checked as the functions check them (a stack of a broken deploy is refused, not guessed). */
function stackSettingsFromOutputs(name: string, values: Record<StackOutputKey, string>): StackSettings {
  try {
    return checkStackSettings({ horizonDays: values.horizonDays, dailyRenderAt: values.dailyRenderAt, watchedPorts: values.watchedPorts }, `stack ${name} output`);
  } catch (err) {
    throw new StackUnavailable((err as Error).message);
  }
}

/** Stacks in these states have no usable resources (never created, or going away). */
const UNUSABLE = /^(ROLLBACK_|DELETE_|CREATE_FAILED|CREATE_IN_PROGRESS)/;

/** DescribeStacks of `name`, as a DeployedStack. */
export async function describeDeployedStack(name: string, clients: StackClients = {}): Promise<DeployedStack> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = clients.cloudFormation ?? new CloudFormationClient({});
  let stack;
  try {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
  } catch (err) {
    const e = err as Error;
    // CloudFormation says "Stack with id X does not exist" as a ValidationError.
    if (e.name === 'ValidationError' && /does not exist/.test(e.message)) throw new StackUnavailable(`no stack named ${name} in this account and region`);
    if (e.name === 'CredentialsProviderError' || /Region is missing/i.test(e.message)) {
      throw new StackUnavailable(`cannot reach AWS for --stack ${name}: ${e.message} (set AWS_PROFILE / AWS_REGION)`);
    }
    throw err;
  }
  if (!stack) throw new StackUnavailable(`no stack named ${name} in this account and region`);
  if (stack.StackStatus && UNUSABLE.test(stack.StackStatus)) throw new StackUnavailable(`stack ${name} is ${stack.StackStatus}`);
  return deployedStackFromOutputs(name, stack.Outputs ?? []);
}

/** The admin context of a deployed stack: real DynamoDB and S3 clients on its table and bucket. */
export async function stackAdminContext(dataDir: string, name: string, clients: StackClients = {}): Promise<AdminContext> {
  const stack = await describeDeployedStack(name, clients);
  const dynamo = clients.dynamo ?? new DynamoDBClient({});
  return {
    dataDir,
    // Partner links and the published URLs are the CDN's; the API is in stack.apiUrl.
    url: stack.cdnUrl,
    dynamo,
    s3: clients.s3 ?? new S3Client({}),
    tableName: stack.tableName,
    bucketName: stack.bucketName,
    registry: new DynamoSensorRegistry(dynamo, stack.tableName),
    // The deployed horizon: rebuilt contributions expire when the functions' own would.
    ledger: new DynamoBatchLedger(dynamo, stack.tableName, stack.settings.horizonDays),
    partners: new DynamoPartnerRegistry(dynamo, stack.tableName),
    stack,
    settings: stack.settings,
    // The operator's credentials read the same SecureString the functions read (for `rebuild`'s facts).
    pseudonymKey: async () => {
      const [{ pseudonymKeyFromValue }, { readSecureParameter }] = await Promise.all([import('../config.js'), import('../store/ssm-client.js')]);
      const parameter = stack.outputs.pseudonymKeyParameter;
      return pseudonymKeyFromValue(await readSecureParameter(parameter), `SSM parameter ${parameter}`);
    },
  };
}

/**
 * The key that signs partner links: on a deployed stack the private key from its SSM SecureString and the
 * CloudFront public key id from its outputs; locally the data dir's key pair. Replaces `localSecrets` in
 * `partner link`.
 */
export async function linkSigningKey(ctx: AdminContext, clients: StackClients = {}): Promise<{ keyPairId: string; privateKeyPem: string }> {
  if (!ctx.stack) {
    const secrets = await localSecrets(ctx.dataDir);
    return { keyPairId: secrets.keyPairId, privateKeyPem: secrets.linkPrivateKeyPem };
  }
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const ssm = clients.ssm ?? new SSMClient({});
  const parameter = ctx.stack.linkPrivateKeyParameter;
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: parameter, WithDecryption: true }))).Parameter?.Value;
  } catch (err) {
    const e = err as Error;
    if (e.name === 'ParameterNotFound') {
      throw new StackUnavailable(`the link private key is not in SSM parameter ${parameter}: store it as docs/DEPLOY.md describes`);
    }
    throw err;
  }
  if (!value || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(value)) {
    throw new StackUnavailable(`SSM parameter ${parameter} does not hold a PEM private key`);
  }
  return { keyPairId: ctx.stack.linkKeyPairId, privateKeyPem: value };
}

/** The package that gives the AWS SDK SigV4A, which the CloudFront KeyValueStore API requires. */
export const SIGV4A_PACKAGE = '@aws-sdk/signature-v4a';

/** Registers the JavaScript SigV4A signer with the SDK (importing the package is what registers it). */
async function loadSigV4a(importer: (name: string) => Promise<unknown>): Promise<void> {
  try {
    await importer(SIGV4A_PACKAGE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new StackUnavailable(
      `updating the CloudFront KeyValueStore needs SigV4A request signing: install ${SIGV4A_PACKAGE} (npm install ${SIGV4A_PACKAGE})`,
    );
  }
}

/** How many times a write is retried when another writer changed the store between Describe and the write. */
const KVS_ATTEMPTS = 3;

/**
 * The edge revocation list of a deployed stack: the CloudFront KeyValueStore the partner gate reads (keys and
 * values: lib/links/revocation.ts). Undefined on the local stack, whose CDN reads the partner registry itself.
 * lib/links/admin.ts decides the order of this write and the registry's. Every write names the store's current
 * ETag, so two operators never overwrite each other unknowingly; both calls are idempotent, so a failed
 * command is completed by running it again.
 */
export async function edgeRevocationWriter(
  ctx: AdminContext,
  clients: StackClients & { importer?: (name: string) => Promise<unknown> } = {},
): Promise<RevocationWriter | undefined> {
  if (!ctx.stack) return undefined;
  await loadSigV4a(clients.importer ?? ((name) => import(name)));
  const { CloudFrontKeyValueStoreClient, DescribeKeyValueStoreCommand, PutKeyCommand, DeleteKeyCommand } = await import(
    '@aws-sdk/client-cloudfront-keyvaluestore'
  );
  const kvs = clients.keyValueStore ?? new CloudFrontKeyValueStoreClient({});
  const kvsArn = ctx.stack.revocationStoreArn;
  const withETag = async (write: (etag: string | undefined) => Promise<unknown>): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const { ETag } = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: kvsArn }));
      try {
        await write(ETag);
        return;
      } catch (err) {
        if ((err as Error).name !== 'ConflictException' || attempt >= KVS_ATTEMPTS) throw err;
      }
    }
  };
  return {
    put: (key, value) => withETag((etag) => kvs.send(new PutKeyCommand({ KvsARN: kvsArn, Key: key, Value: value, IfMatch: etag }))),
    remove: (key) =>
      withETag(async (etag) => {
        try {
          await kvs.send(new DeleteKeyCommand({ KvsARN: kvsArn, Key: key, IfMatch: etag }));
        } catch (err) {
          // Already gone (a retry, or never published): what a removal wants.
          if ((err as Error).name !== 'ResourceNotFoundException') throw err;
        }
      }),
  };
}

export interface RenderRequest {
  date?: string;
  all?: boolean;
}

/**
 * `render --stack` / `rebuild --stack`: runs the deployed render function and waits for its report. The job
 * must run there, not here: only the function has the pseudonym key, and a second key would split the
 * source statistics in two.
 */
export async function invokeRenderFunction(stack: DeployedStack, request: RenderRequest = {}, clients: StackClients = {}): Promise<RenderReport> {
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const lambda =
    clients.lambda ??
    new LambdaClient({
      // A run may take up to the function's 15-minute timeout; the connection must outlast it, and a retry
      // would start a second run.
      requestHandler: { requestTimeout: 16 * 60_000 },
      maxAttempts: 1,
    });
  const payload: RenderRequest = {};
  if (request.date !== undefined) payload.date = request.date;
  if (request.all === true) payload.all = true;
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: stack.renderFunctionName,
      InvocationType: 'RequestResponse',
      LogType: 'Tail',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    let detail = text;
    try {
      const e = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      detail = `${e.errorType ?? 'Error'}: ${e.errorMessage ?? ''}`;
    } catch {
      /* not JSON: show as is */
    }
    const tail = out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8').trim() : '';
    throw new Error(`render function ${stack.renderFunctionName} failed: ${detail}${tail ? `\n--- last log lines ---\n${tail}` : ''}`);
  }
  return JSON.parse(text) as RenderReport;
}
