/**
 * The stack's template, one fact per test, synthesized once without bundling (no esbuild, no npm).
 */
import { readFileSync } from 'node:fs';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAKE_TABLE_OUTPUT, STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { loadIngestConfigAsync, loadRenderConfigAsync } from '../../lib/config.js';
import { PARQUET_COLUMNS } from '../../lib/lake/sql.js';
import { PARTNER_GATE_PATH } from '../../lib/links/revocation.js';
import { actionsOf, allStatements, flatten, functionId, iamMatches, list, resourcesOf, roleStatements, type Statement } from './policies.js';
import { synthesize, type Synthesized } from './synth.js';

let synth: Synthesized;
let template: Template;
let bucketId: string;
let tableId: string;
let ingestId: string;
let renderId: string;

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
  bucketId = Object.keys(template.findResources('AWS::S3::Bucket'))[0]!;
  tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0]!;
  ingestId = functionId(template, 'IngestHandler');
  renderId = functionId(template, 'PublishingRenderer');
}, 60_000);

const isAllow = (s: Statement) => s.Effect === 'Allow';
const DYNAMO_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];

function grants(statements: Statement[], action: string, resource: string): Statement[] {
  return statements.filter(
    (s) => isAllow(s) && actionsOf(s).some((a) => iamMatches(a, action)) && resourcesOf(s).some((r) => iamMatches(r, resource)),
  );
}

describe('store', () => {
  it('blocks all public access to the bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('refuses requests to the bucket without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('encrypts the bucket at rest', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it('declares the first-seen table over lake/first-seen/ for report --stack', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'first_seen',
        StorageDescriptor: Match.objectLike({
          Location: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/lake/first-seen/'])]) }),
          Columns: [
            { Name: 'src', Type: 'string', Comment: Match.anyValue() },
            { Name: 'first_day', Type: 'string', Comment: Match.anyValue() },
          ],
        }),
      }),
    });
  });

  it('expires staging facts no close took (never counted) after the raw retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'expire-uncounted-staging', Prefix: 'staging/', ExpirationInDays: 430, Status: 'Enabled' }]) },
    });
  });

  it('expires raw batches after the retention, and only under raw/', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'expire-raw-batches', Prefix: 'raw/', ExpirationInDays: 430, Status: 'Enabled' }]) },
    });
  });

  it('expires Athena results under athena-results/ after a week', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'expire-athena-results', Prefix: 'athena-results/', ExpirationInDays: 7, Status: 'Enabled' }]) },
    });
  });

  it('keeps the table recoverable to any point in time', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  it('lets DynamoDB expire items by their ttl attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } });
  });

  it('bills the table on demand with the pk/sk key schema of lib/store/table.ts', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it.each([
    ['table', 'AWS::DynamoDB::Table'],
    ['bucket', 'AWS::S3::Bucket'],
  ])('retains the %s when the stack is deleted or the resource replaced', (_name, type) => {
    template.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('CDN', () => {
  it('reads the bucket through an origin access control (SigV4), not a public bucket', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })] },
    });
  });

  it('serves partners/* only with a signed URL of the link key group', () => {
    const keyGroup = Object.keys(template.findResources('AWS::CloudFront::KeyGroup'))[0]!;
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { CacheBehaviors: Match.arrayWith([Match.objectLike({ PathPattern: 'partners/*', TrustedKeyGroups: [{ Ref: keyGroup }] })]) },
    });
  });

  it('builds the key group from the public key given in context', () => {
    const publicKey = Object.keys(template.findResources('AWS::CloudFront::PublicKey'))[0]!;
    template.hasResourceProperties('AWS::CloudFront::KeyGroup', { KeyGroupConfig: { Items: [{ Ref: publicKey }] } });
    template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: { EncodedKey: Match.stringLikeRegexp('^-----BEGIN PUBLIC KEY-----') },
    });
  });

  it('serves public/* to anyone, with CORS for embedding', () => {
    const behaviours = template.findResources('AWS::CloudFront::Distribution');
    const config = Object.values(behaviours)[0]!.Properties.DistributionConfig as { CacheBehaviors: Record<string, unknown>[] };
    const pub = config.CacheBehaviors.find((b) => b.PathPattern === 'public/*');
    expect(pub).toBeDefined();
    expect(pub?.TrustedKeyGroups).toBeUndefined();
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        CorsConfig: Match.objectLike({ AccessControlAllowOrigins: { Items: ['*'] }, AccessControlAllowMethods: { Items: ['GET', 'HEAD'] } }),
      },
    });
  });

  it('runs the partner gate (cloudfront-js-2.0) from cloudfront/partner-gate.js with the revocation store', () => {
    const kvs = Object.keys(template.findResources('AWS::CloudFront::KeyValueStore'))[0]!;
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: readFileSync(PARTNER_GATE_PATH, 'utf8'),
      FunctionConfig: { Runtime: 'cloudfront-js-2.0', KeyValueStoreAssociations: [{ KeyValueStoreARN: { 'Fn::GetAtt': [kvs, 'Arn'] } }] },
    });
  });

  it('has a KeyValueStore for revoked partners', () => {
    template.resourceCountIs('AWS::CloudFront::KeyValueStore', 1);
  });

  it('runs the gate on every behaviour, so paths outside public/ and partners/ (raw/) get its 404', () => {
    const gate = Object.keys(template.findResources('AWS::CloudFront::Function'))[0]!;
    const association = [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [gate, 'FunctionARN'] } }];
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig as {
      DefaultCacheBehavior: { FunctionAssociations: unknown };
      CacheBehaviors: { PathPattern: string; FunctionAssociations: unknown }[];
    };
    expect(dist.DefaultCacheBehavior.FunctionAssociations).toEqual(association);
    expect(dist.CacheBehaviors.map((b) => [b.PathPattern, b.FunctionAssociations])).toEqual([
      ['public/*', association],
      ['partners/*', association],
    ]);
  });

  it('denies CloudFront every object outside public/ and partners/ in the bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            NotResource: [
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/public/*']] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/partners/*']] },
            ],
          }),
        ]),
      },
    });
  });

  it.each(['staging/2026-01-01/s1/k.csv', 'facts/day=2026-01-01/part-0.parquet', 'lake/first-seen/day=2026-01-01.parquet', 'athena-results/q.csv'])(
    'denies CloudFront the lake object %s in the bucket policy',
    (key) => {
      const denies = allStatements(template).filter(
        (s) => s.Effect === 'Deny' && flatten(s.Principal).includes('cloudfront.amazonaws.com') && actionsOf(s).some((a) => iamMatches(a, 's3:GetObject')),
      );
      expect(denies).toHaveLength(1);
      // A NotResource deny covers every object that none of its patterns matches.
      const excepted = list(denies[0]!.NotResource).map(flatten);
      expect(excepted.filter((r) => iamMatches(r, `<${bucketId}.Arn>/${key}`))).toEqual([]);
    },
  );

  it('sends no query string to S3 and keeps it out of the cache key (CachingOptimized)', () => {
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig as {
      DefaultCacheBehavior: Record<string, unknown>;
      CacheBehaviors: Record<string, unknown>[];
    };
    for (const b of [dist.DefaultCacheBehavior, ...dist.CacheBehaviors]) {
      expect(b.CachePolicyId).toBe('658327ea-f89d-4fab-a63d-7e88639e58f6');
      expect(b.OriginRequestPolicyId).toBeUndefined();
    }
  });
});

describe('functions', () => {
  it('runs both functions on arm64 and Node.js 22', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.allResourcesProperties('AWS::Lambda::Function', { Architectures: ['arm64'], Runtime: 'nodejs22.x' });
  });

  it('turns on source maps and the Powertools environment in both functions', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: Match.anyValue(), POWERTOOLS_METRICS_NAMESPACE: 'alertgraph' }),
      },
    });
  });

  it('gives every function a log group with a retention', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const groups = template.findResources('AWS::Logs::LogGroup');
    for (const fn of Object.values(functions)) {
      const ref = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(groups[ref]?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('gives the render function the default memory and the whole 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PSEUDONYM_KEY_PARAMETER: '/alertgraph/pseudonym-key' }) },
      MemorySize: 3008,
      Timeout: 900,
    });
  });

  it('gives the render function a 10 GiB /tmp for the lake and DuckDB spills', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PSEUDONYM_KEY_PARAMETER: '/alertgraph/pseudonym-key' }) },
      EphemeralStorage: { Size: 10240 },
    });
  });

  it('tells the render job where to put the lake and how much memory DuckDB may use (60 % of the function)', () => {
    const env = template.findResources('AWS::Lambda::Function')[renderId]!.Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables).toMatchObject({ SCRATCH_DIR: '/tmp/alertgraph', ENGINE_MEMORY_LIMIT: '1804MB' });
  });

  it('gives the ingest function the pseudonym key parameter name, never a key', () => {
    const env = template.findResources('AWS::Lambda::Function')[ingestId]!.Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.PSEUDONYM_KEY).toBeUndefined();
    expect(env.Variables.PSEUDONYM_KEY_PARAMETER).toBe('/alertgraph/pseudonym-key');
  });

  it('leaves the ingest function Lambda\'s default /tmp', () => {
    expect(template.findResources('AWS::Lambda::Function')[ingestId]!.Properties.EphemeralStorage).toBeUndefined();
  });

  /** A function's environment as the function sees it: intrinsic values (names, URLs) flattened to text. */
  const environmentOf = (id: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries((template.findResources('AWS::Lambda::Function')[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables).map(([k, v]) => [k, flatten(v)]),
    );
  const keyFromSsm = async (name: string) => (name === '/alertgraph/pseudonym-key' ? Buffer.alloc(32, 3).toString('base64') : Promise.reject(new Error(name)));

  it('gives the ingest function the environment its loader reads, with the deployed settings', async () => {
    const config = await loadIngestConfigAsync(keyFromSsm, environmentOf(ingestId));
    expect(config).toMatchObject({ horizonDays: 400, maxBodyBytes: 5 * 1024 * 1024, maxAlertsPerBatch: 10_000, maxDaysPerBatch: 31, sensorCacheTtlMs: 10_000, sensorBatchesPerSecond: 10, sensorBatchBurst: 50 });
    expect(config.tableName).toBe(`<${tableId}>`);
  });

  it('gives the render function the environment its loader reads, with the deployed settings', async () => {
    const config = await loadRenderConfigAsync(keyFromSsm, environmentOf(renderId));
    expect(config).toMatchObject({ horizonDays: 400, closeAfterMinutes: 30, watchedPorts: ['tcp/135', 'udp/137', 'tcp/445'], scratchDir: '/tmp/alertgraph' });
    expect(config.bucketName).toBe(`<${bucketId}>`);
  });

  it('gives the render function the pseudonym key parameter name, never a key', () => {
    const env = template.findResources('AWS::Lambda::Function')[renderId]!.Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.PSEUDONYM_KEY).toBeUndefined();
    expect(env.Variables.PSEUDONYM_KEY_PARAMETER).toBe('/alertgraph/pseudonym-key');
  });
});

describe('least privilege', () => {
  it('has no Allow statement with a wildcard action anywhere', () => {
    // Deny statements may use `s3:*` (enforceSSL denies everything without TLS); allowing must be precise.
    const wild = allStatements(template)
      .filter(isAllow)
      .flatMap((s) => actionsOf(s))
      .filter((a) => a === '*' || /:\*$/.test(a));
    expect(wild).toEqual([]);
  });

  it('does not let ingest put objects under public/ (or anywhere but raw/ and staging/)', () => {
    const statements = roleStatements(template, ingestId);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/public/alerts-daily.png`)).toEqual([]);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/partners/index.html`)).toEqual([]);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/raw/2026-01-01/s1/k.ndjson.gz`)).toHaveLength(1);
  });

  it('lets ingest put staging objects, and only put them', () => {
    const statements = roleStatements(template, ingestId);
    const staged = `<${bucketId}.Arn>/staging/2026-01-01/s1/k.csv`;
    expect(grants(statements, 's3:PutObject', staged)).toHaveLength(1);
    expect(['s3:GetObject', 's3:DeleteObject'].flatMap((a) => grants(statements, a, staged))).toEqual([]);
  });

  it.each(['facts/day=2026-01-01/part-0.parquet', 'lake/first-seen/day=2026-01-01.parquet', 'athena-results/q.csv'])('gives ingest no access to %s', (key) => {
    const statements = roleStatements(template, ingestId);
    expect(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].flatMap((a) => grants(statements, a, `<${bucketId}.Arn>/${key}`))).toEqual([]);
  });

  it.each(['staging/2026-01-01/s1/k.csv', 'facts/day=2026-01-01/part-0.parquet', 'lake/first-seen/day=2026-01-01.parquet'])(
    'lets render read, write and delete the lake object %s',
    (key) => {
      const statements = roleStatements(template, renderId);
      for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
        expect(grants(statements, action, `<${bucketId}.Arn>/${key}`), action).toHaveLength(1);
      }
    },
  );

  it('lets render list the bucket (the close lists staging/ and facts/)', () => {
    expect(grants(roleStatements(template, renderId), 's3:ListBucket', `<${bucketId}.Arn>`)).toHaveLength(1);
  });

  it('does not let render delete raw batches or published objects', () => {
    const statements = roleStatements(template, renderId);
    for (const key of ['raw/2026-01-01/s1/k.ndjson.gz', 'public/alerts-daily.png', 'partners/index.html']) {
      expect(grants(statements, 's3:DeleteObject', `<${bucketId}.Arn>/${key}`), key).toEqual([]);
    }
  });

  it('gives ingest no Athena or Glue action', () => {
    expect(roleStatements(template, ingestId).flatMap(actionsOf).filter((a) => /^(athena|glue):/.test(a))).toEqual([]);
  });

  it("lets render run queries in the lake's workgroup only, over the lake's database and its two tables only", () => {
    const statements = roleStatements(template, renderId).filter(isAllow);
    const workGroupId = Object.keys(template.findResources('AWS::Athena::WorkGroup'))[0]!;
    const databaseId = Object.keys(template.findResources('AWS::Glue::Database'))[0]!;
    const athena = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('athena:')));
    expect(athena.flatMap(actionsOf).sort()).toEqual(['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution', 'athena:StopQueryExecution']);
    expect(athena.flatMap(resourcesOf)).toEqual([`arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<${workGroupId}>`]);
    const glue = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('glue:')));
    expect(glue.flatMap(actionsOf).every((a) => a.startsWith('glue:Get'))).toBe(true);
    expect(glue.flatMap(resourcesOf).sort()).toEqual(
      [
        'catalog',
        `database/<${databaseId}>`,
        `table/<${databaseId}>/facts`,
        `table/<${databaseId}>/first_seen`,
      ].map((r) => `arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:${r}`).sort(),
    );
  });

  it('tells render the workgroup and database its Athena queries use', () => {
    const fn = template.toJSON().Resources[renderId].Properties.Environment.Variables as Record<string, unknown>;
    expect([flatten(fn.LAKE_WORK_GROUP), flatten(fn.LAKE_DATABASE)]).toEqual([
      `<${Object.keys(template.findResources('AWS::Athena::WorkGroup'))[0]}>`,
      `<${Object.keys(template.findResources('AWS::Glue::Database'))[0]}>`,
    ]);
  });

  it('lets render write and read Athena results under athena-results/, and nothing of it elsewhere', () => {
    const statements = roleStatements(template, renderId);
    for (const action of ['s3:PutObject', 's3:GetObject']) {
      expect(grants(statements, action, `<${bucketId}.Arn>/athena-results/q.csv`), action).toHaveLength(1);
    }
    expect(grants(statements, 's3:DeleteObject', `<${bucketId}.Arn>/athena-results/q.csv`)).toEqual([]);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/raw/2026-01-01/s1/k.ndjson.gz`)).toEqual([]);
  });

  it('lets render write table items only outside the registry partitions', () => {
    const writes = roleStatements(template, renderId).filter((s) => isAllow(s) && actionsOf(s).some((a) => DYNAMO_WRITES.some((w) => iamMatches(a, w))));
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) {
      expect(s.Condition).toEqual({ 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['REGISTRY#*'] } });
      expect(resourcesOf(s)).toEqual([`<${tableId}.Arn>`]);
    }
  });

  it('lets ingest put table items, and neither update, delete, batch-write nor write through PartiQL or transactions', () => {
    const writes = roleStatements(template, ingestId)
      .filter(isAllow)
      .flatMap(actionsOf)
      .filter((a) => DYNAMO_WRITES.some((w) => iamMatches(a, w)));
    expect(writes).toEqual(['dynamodb:PutItem']);
  });

  it('lets ingest put items only in the claim, sensor-day contribution, dirty-mark and last-seen partitions', () => {
    const puts = grants(roleStatements(template, ingestId), 'dynamodb:PutItem', `<${tableId}.Arn>`);
    expect(puts.map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['BATCH#*#*', 'DAY#????-??-??#SENSOR#*', 'DIRTY', 'SEEN#*'] } }]);
  });

  it.each([
    ['the sensor registry', 'REGISTRY#SENSOR'],
    ['the partner registry', 'REGISTRY#PARTNER'],
    ['the link audit', 'LINKS#pa'],
    ['a day summary', 'DAY#2026-01-01'],
    ['the history', 'HISTORY'],
    ['the render state and lease', 'RENDER'],
  ])('does not let ingest write %s', (_name, pk) => {
    const writers = roleStatements(template, ingestId).filter(
      (s) =>
        isAllow(s) &&
        actionsOf(s).some((a) => DYNAMO_WRITES.some((w) => iamMatches(a, w))) &&
        list(s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).some((p) => iamMatches(String(p), pk)),
    );
    expect(writers).toEqual([]);
  });

  it('lets ingest read only the sensor registry and its sensor-day partitions, by key (GetItem, BatchGetItem)', () => {
    const reads = roleStatements(template, ingestId).filter((s) => isAllow(s) && actionsOf(s).some((a) => a.startsWith('dynamodb:')) && !actionsOf(s).includes('dynamodb:PutItem'));
    expect(reads.map((s) => [actionsOf(s).sort(), s.Condition])).toEqual([
      [['dynamodb:BatchGetItem', 'dynamodb:GetItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REGISTRY#SENSOR', 'DAY#????-??-??#SENSOR#*'] } }],
    ]);
  });

  it('refuses every principal a put under raw/ without If-None-Match (the bucket policy keeps raw batches write-once)', () => {
    const denies = allStatements(template).filter((s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:PutObject'));
    expect(denies.map((s) => [flatten(s.Principal), resourcesOf(s), s.Condition])).toEqual([
      ['{"AWS":"*"}', [`<${bucketId}.Arn>/raw/*`], { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } }],
    ]);
  });

  it('refuses every principal a delete under raw/ when no archive admin role is named', () => {
    const denies = allStatements(template).filter((s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:DeleteObject'));
    expect(denies.map((s) => [flatten(s.Principal), actionsOf(s), resourcesOf(s), s.Condition])).toEqual([
      ['{"AWS":"*"}', ['s3:DeleteObject', 's3:DeleteObjectVersion'], [`<${bucketId}.Arn>/raw/*`], undefined],
    ]);
  });

  it('does not let ingest delete, read or list raw batches', () => {
    const statements = roleStatements(template, ingestId);
    const raw = `<${bucketId}.Arn>/raw/2026-01-01/s1/k.ndjson.gz`;
    expect(['s3:DeleteObject', 's3:GetObject'].flatMap((a) => grants(statements, a, raw))).toEqual([]);
    expect(grants(statements, 's3:ListBucket', `<${bucketId}.Arn>`)).toEqual([]);
  });

  it('lets render publish public/ and partners/, and neither read nor write raw/', () => {
    const statements = roleStatements(template, renderId);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/public/alerts-daily.png`)).toHaveLength(1);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/partners/index.html`)).toHaveLength(1);
    expect(grants(statements, 's3:GetObject', `<${bucketId}.Arn>/raw/2026-01-01/s1/k.ndjson.gz`)).toEqual([]);
    expect(grants(statements, 's3:PutObject', `<${bucketId}.Arn>/raw/2026-01-01/s1/k.ndjson.gz`)).toEqual([]);
  });

  it.each([
    ['ingest', () => ingestId],
    ['render', () => renderId],
  ])('lets %s read the pseudonym key parameter and no other', (_name, id) => {
    const ssm = roleStatements(template, id()).filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')));
    expect(ssm.map((s) => [s.Effect, actionsOf(s), resourcesOf(s)])).toEqual([
      ['Allow', ['ssm:GetParameter'], ['arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/alertgraph/pseudonym-key']],
    ]);
  });

  it('puts no private key material in the template', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PRIVATE KEY/);
  });
});

describe('raw archive admin', () => {
  it('lets the archive admin role named in context, and no one else, delete under raw/', () => {
    const admin = 'arn:aws:iam::123456789012:role/alertgraph-archive-admin';
    const t = synthesize({ bundle: false, context: { rawArchiveAdminRoleArn: admin } }).template;
    const denies = allStatements(t).filter((s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:DeleteObject'));
    expect(denies.map((s) => s.Condition)).toEqual([{ ArnNotEquals: { 'aws:PrincipalArn': admin } }]);
  }, 60_000);
});

describe('lake', () => {
  const table = () => Object.values(template.findResources('AWS::Glue::Table'))[0]!.Properties as { TableInput: Record<string, unknown> };

  it('declares the facts table over facts/ in the bucket', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'facts',
        TableType: 'EXTERNAL_TABLE',
        StorageDescriptor: { Location: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/facts/']] } },
      },
    });
  });

  it('reads the facts as Parquet', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        StorageDescriptor: {
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
  });

  it('partitions the table by day, a string', () => {
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: { PartitionKeys: [Match.objectLike({ Name: 'day', Type: 'string' })] } });
  });

  it('projects the day partitions (yyyy-MM-dd, daily, up to today) instead of registering them', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': Match.stringLikeRegexp('^\\d{4}-\\d{2}-\\d{2},NOW$'),
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
        }),
      },
    });
  });

  it('finds a day\'s Parquet where the render job writes it (facts/day=YYYY-MM-DD/)', () => {
    const parameters = table().TableInput.Parameters as Record<string, unknown>;
    expect(flatten(parameters['storage.location.template'])).toBe(`s3://<${bucketId}>/facts/day=\${day}/`);
  });

  it('has the Parquet columns of lib/lake/sql.ts, with their Athena types, in order', () => {
    const columns = (table().TableInput.StorageDescriptor as { Columns: { Name: string; Type: string }[] }).Columns;
    expect(columns.map((c) => [c.Name, c.Type])).toEqual(PARQUET_COLUMNS.map((c) => [c.name, c.athena]));
  });

  it('puts the table in the stack\'s Glue database, named in lower case for Athena', () => {
    const [dbId, db] = Object.entries(template.findResources('AWS::Glue::Database'))[0]!;
    expect((db.Properties.DatabaseInput as { Name: string }).Name).toBe('alertgraphtest_lake');
    expect((table() as unknown as { DatabaseName: unknown }).DatabaseName).toEqual({ Ref: dbId });
  });

  it('runs no crawler', () => {
    template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  it('writes Athena results under athena-results/, encrypted, and enforces it on every client', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/athena-results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('stops an Athena query after 10 GB scanned (default cutoff)', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', { WorkGroupConfiguration: { BytesScannedCutoffPerQuery: 10_000_000_000 } });
  });

  it('publishes the workgroup\'s CloudWatch metrics', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', { WorkGroupConfiguration: { PublishCloudWatchMetricsEnabled: true } });
  });

  it('lets the stack delete the workgroup with its history', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'AlertgraphTest-lake', RecursiveDeleteOption: true });
  });
});

describe('ingest API', () => {
  it.each(['POST /v1/batches', 'GET /healthz', 'GET /openapi.json'])('routes %s to the ingest function', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey });
  });

  it('calls the function with payload format 2.0', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [ingestId, 'Arn'] },
    });
  });

  it('throttles the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('keeps source addresses out of the access log', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
    expect(format).toContain('$context.requestId');
    expect(format).not.toContain('sourceIp');
  });
});

describe('schedules', () => {
  it('renders daily at 00:30 UTC and hourly the other hours', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 0 * * ? *)', ScheduleExpressionTimezone: 'Etc/UTC' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: `cron(30 ${Array.from({ length: 23 }, (_, i) => i + 1).join(',')} * * ? *)`,
    });
  });

  it('invokes the render function with retries and a dead-letter queue', () => {
    const queue = Object.keys(template.findResources('AWS::SQS::Queue'))[0]!;
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [renderId, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      }),
    });
  });

  it('sends a render run that failed after its retry to the same dead-letter queue', () => {
    const queue = Object.keys(template.findResources('AWS::SQS::Queue'))[0]!;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: renderId },
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
  });
});

describe('alarms', () => {
  it.each([
    ['ingest 5xx', { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum' }],
    ['ingest latency p99', { Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99' }],
    ['ingest 4xx (a flood: 3,000 in 5 min, a fifth of the 50 req/s stage)', { Namespace: 'AWS/ApiGateway', MetricName: '4xx', Statistic: 'Sum', Threshold: 3000 }],
    ['render errors', { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RENDER' } }] }],
    ['render throttles', { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RENDER' } }] }],
    ['ingest throttles', { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'INGEST' } }] }],
    ['dead letters visible', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' }],
  ])('alarms on %s, notifying the alarm topic', (_name, metric) => {
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    const resolved = JSON.parse(JSON.stringify(metric).replace('"RENDER"', JSON.stringify(renderId)).replace('"INGEST"', JSON.stringify(ingestId))) as Record<string, unknown>;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...resolved, AlarmActions: [{ Ref: topic }] });
  });
});

describe('outputs', () => {
  it.each(Object.values(STACK_OUTPUTS))('outputs %s for --stack mode', (key) => {
    template.hasOutput(key, { Value: Match.anyValue() });
  });

  it('outputs the lake\'s Glue database, its table and the Athena workgroup by name', () => {
    const value = (key: string) => flatten((template.findOutputs(key)[key] as { Value: unknown }).Value);
    expect([value(STACK_OUTPUTS.lakeDatabase), value(LAKE_TABLE_OUTPUT), value(STACK_OUTPUTS.lakeWorkGroup)]).toEqual([
      `<${Object.keys(template.findResources('AWS::Glue::Database'))[0]}>`,
      'facts',
      `<${Object.keys(template.findResources('AWS::Athena::WorkGroup'))[0]}>`,
    ]);
  });

  it('outputs the settings the functions run with, so that --stack uses the same ones', () => {
    const value = (key: string) => (template.findOutputs(key)[key] as { Value: unknown }).Value;
    expect([value(STACK_OUTPUTS.horizonDays), value(STACK_OUTPUTS.dailyRenderAt), value(STACK_OUTPUTS.watchedPorts)]).toEqual(['400', '00:30', 'tcp/135,udp/137,tcp/445']);
  });

  it('outputs the API base URL (the $default stage has no path)', () => {
    const out = template.findOutputs(STACK_OUTPUTS.apiUrl)[STACK_OUTPUTS.apiUrl] as { Value: unknown };
    expect(flatten(out.Value)).toMatch(/^<IngestApi[0-9A-F]+\.ApiEndpoint>$/);
  });
});

describe('cdk-nag', () => {
  it('reports no unsuppressed AwsSolutions error', () => {
    const errors = Annotations.fromStack(synth.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data).split('\n')[0]}`)).toEqual([]);
  });

  it('reports no unsuppressed AwsSolutions warning', () => {
    const warnings = Annotations.fromStack(synth.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(warnings.map((e) => `${e.id}: ${String(e.entry.data).split('\n')[0]}`)).toEqual([]);
  });
});
