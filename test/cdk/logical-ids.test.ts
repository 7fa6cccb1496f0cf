/**
 * The logical ids of the resources a deployed stack must never replace. CloudFormation replaces a resource whose
 * logical id changes: a new empty table or bucket (the old one retained but orphaned), a new distribution under a
 * new domain (every embedded graph and partner link broken), a new key group or revocation store (links
 * signed, partners revoked, lost). The CDK derives the id from the construct path, so a refactor that moves a
 * resource into another construct renames it without a word; this file is the word.
 *
 * The values are literals on purpose: they are what a stack deployed from this code already has. Change one only
 * with a migration (CloudFormation stack refactoring, or `overrideLogicalId` to the old value).
 */
import { createHash } from 'node:crypto';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, testLinkPublicKeyPem } from './synth.js';

const linkPublicKeyPem = testLinkPublicKeyPem();
const keyDigest = createHash('sha256').update(linkPublicKeyPem).digest('hex').slice(0, 8);
let template: Template;

beforeAll(() => {
  template = synthesize({ bundle: false, context: { linkPublicKeyPem } }).template;
}, 60_000);

const idsOf = (type: string) => Object.keys(template.findResources(type)).sort();

describe('logical ids of the stateful and user-facing resources', () => {
  it.each([
    ['AWS::DynamoDB::Table', ['StoreTable0CCFA19B']],
    ['AWS::S3::Bucket', ['StoreBucket4FBDE984']],
    ['AWS::CloudFront::Distribution', ['PublishingCdn90298F27']],
    ['AWS::CloudFront::KeyGroup', ['PublishingLinkKeysA69F637C']],
    ['AWS::CloudFront::KeyValueStore', ['PublishingRevocations8EDE83A2']],
    ['AWS::CloudFront::Function', ['PublishingPartnerGateAA71D1E1']],
    ['AWS::CloudFront::OriginAccessControl', ['PublishingCdnOrigin1S3OriginAccessControl59B8E619']],
    ['AWS::Lambda::Function', ['IngestHandlerFunction55E23135', 'PublishingRendererFunction5EC41CF2']],
    ['AWS::ApiGatewayV2::Api', ['IngestApiE2DAED7B']],
    ['AWS::ApiGatewayV2::Stage', ['IngestApiDefaultStageAA2E221E']],
    ['AWS::SQS::Queue', ['PublishingRenderDeadLetters69883768']],
    ['AWS::Glue::Database', ['LakeDatabase161E1CC7']],
    ['AWS::Glue::Table', ['LakeFacts154BBCD9', 'LakeFirstSeenC48E4693']],
    ['AWS::Athena::WorkGroup', ['LakeWorkGroupA1356543']],
  ])('%s', (type, ids) => {
    expect(idsOf(type)).toEqual(ids);
  });

  it('names the link public key after its digest, under the Publishing path (a new key is a new resource by design)', () => {
    const ids = idsOf('AWS::CloudFront::PublicKey');
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(new RegExp(`^PublishingLinkKey${keyDigest}[0-9A-F]{8}$`));
  });
});

describe('names derived from the construct path, whose change would replace the resource', () => {
  it('keeps the revocation store\'s name (a new name is a new, empty store: revoked partners back in)', () => {
    template.hasResourceProperties('AWS::CloudFront::KeyValueStore', { Name: 'AlertgraphTestPublishingRevocationsC58B8027' });
  });

  it('keeps the key group\'s name', () => {
    template.hasResourceProperties('AWS::CloudFront::KeyGroup', { KeyGroupConfig: { Name: 'AlertgraphTestPublishingLinkKeys43C6A3A8', Comment: 'alertgraph: keys that sign partner links', Items: [{ Ref: idsOf('AWS::CloudFront::PublicKey')[0] }] } });
  });
});
