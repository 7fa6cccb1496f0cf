/**
 * The CDN in front of the bucket: the CloudFront distribution, the partner gate with its revocation store, the
 * key group that partner links are signed for, and the bucket policy line that keeps CloudFront to two prefixes.
 *
 * What CloudFront serves (DESIGN §8, §9):
 * - `public/*` to anyone, cacheable, with CORS and Cross-Origin-Resource-Policy so other sites can embed it;
 * - `partners/*` only with a CloudFront signed URL (trusted key group), and only for partners not listed in the
 *   revocation KeyValueStore (the partner gate, a CloudFront Function);
 * - nothing else. `raw/` and the lake (`staging/`, `facts/`, `lake/`, `athena-results/`) are kept out twice:
 *   every behaviour runs the partner gate, which answers 404 for any path outside public/ and partners/ (the
 *   default behaviour catches `/raw/...` and rewrites only `/`), and the bucket policy denies CloudFront every
 *   object outside those two prefixes, so even a gate mistake cannot expose the raw archive or the facts.
 *
 * The gate sees the whole query string whatever the cache policy (viewer-request functions get the request as
 * the viewer sent it), and CloudFront checks the signed URL on every request to `partners/*` against the full
 * URL including `partner=`, before anything is served from cache. So the cache key can leave query strings out:
 * partner objects are the same for every partner, and no query string is forwarded to S3.
 *
 * A part of Publishing, not a construct of its own: it adds its resources to the Publishing scope under the ids
 * they have always had. A construct level of its own would change the resources' construct paths, and with them
 * their logical ids and the names the CDK derives from the path (the revocation store's and the gate's names, the
 * public key's caller reference), which CloudFormation can only change by replacing the resource: a new, empty
 * revocation store, a new distribution origin. test/cdk/logical-ids.test.ts pins the ids.
 */
import { createHash } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { PARTNER_GATE_PATH, PARTNER_GATE_RUNTIME } from '../../lib/links/revocation.js';
import { PARTNERS_PREFIX, PUBLIC_PREFIX } from '../../lib/publish/layout.js';

export interface CdnProps {
  bucket: s3.Bucket;
  /** PEM of the CloudFront public key that partner links are verified with. */
  linkPublicKeyPem: string;
}

export class Cdn {
  readonly distribution: cloudfront.Distribution;
  readonly revocations: cloudfront.KeyValueStore;
  readonly partnerGate: cloudfront.Function;
  readonly linkPublicKey: cloudfront.PublicKey;
  /** `https://<distribution>.cloudfront.net`: where the graphs are served from. */
  readonly baseUrl: string;

  constructor(scope: Construct, props: CdnProps) {
    const { bucket } = props;

    this.revocations = new cloudfront.KeyValueStore(scope, 'Revocations', {
      comment: 'alertgraph: revoked partner ids (key) and when they were revoked (value)',
    });
    this.partnerGate = new cloudfront.Function(scope, 'PartnerGate', {
      code: cloudfront.FunctionCode.fromFile({ filePath: PARTNER_GATE_PATH }),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.revocations,
      comment: 'alertgraph: serves only public/ and partners/, refuses revoked partners',
    });
    if (this.partnerGate.functionRuntime !== PARTNER_GATE_RUNTIME) {
      throw new Error(`the partner gate is written for ${PARTNER_GATE_RUNTIME}, not ${this.partnerGate.functionRuntime}`);
    }

    // CloudFront cannot change a public key's material in place. The id carries a digest of the key, so a new
    // key is a new resource (created, swapped into the key group, then the old one deleted) rather than a failed
    // update; links signed with the old private key stop working, as a rotation should.
    const keyDigest = createHash('sha256').update(props.linkPublicKeyPem).digest('hex').slice(0, 8);
    this.linkPublicKey = new cloudfront.PublicKey(scope, `LinkKey${keyDigest}`, {
      encodedKey: props.linkPublicKeyPem,
      comment: 'alertgraph partner links (private key in SSM)',
    });
    const linkKeys = new cloudfront.KeyGroup(scope, 'LinkKeys', {
      items: [this.linkPublicKey],
      comment: 'alertgraph: keys that sign partner links',
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(bucket, { originAccessLevels: [cloudfront.AccessLevel.READ] });
    const gate: cloudfront.FunctionAssociation[] = [{ function: this.partnerGate, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }];
    const security: cloudfront.ResponseSecurityHeadersBehavior = {
      contentTypeOptions: { override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
    };
    const publicHeaders = new cloudfront.ResponseHeadersPolicy(scope, 'PublicHeaders', {
      comment: 'alertgraph public objects: embeddable anywhere',
      corsBehavior: {
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        accessControlMaxAge: Duration.hours(1),
        originOverride: true,
      },
      securityHeadersBehavior: security,
      // Lets pages that isolate themselves (Cross-Origin-Embedder-Policy) still embed the image.
      customHeadersBehavior: { customHeaders: [{ header: 'Cross-Origin-Resource-Policy', value: 'cross-origin', override: true }] },
    });
    const partnerHeaders = new cloudfront.ResponseHeadersPolicy(scope, 'PartnerHeaders', {
      comment: 'alertgraph partner objects: not framed, no referrer (the signed URL must not leak), not indexed',
      securityHeadersBehavior: {
        ...security,
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'X-Robots-Tag', value: 'noindex, nofollow', override: true }] },
    });

    const served = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      // Honours the objects' Cache-Control (lib/publish/layout.ts CACHE); no query string in the key or to S3.
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      compress: true,
      functionAssociations: gate,
    } satisfies cloudfront.BehaviorOptions;

    this.distribution = new cloudfront.Distribution(scope, 'Cdn', {
      comment: 'alertgraph: public graphs and partner statistics',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // `/` and anything outside the two areas: the gate rewrites `/` to the public page and 404s the rest.
      defaultBehavior: { ...served, responseHeadersPolicy: publicHeaders },
      additionalBehaviors: {
        [`${PUBLIC_PREFIX}*`]: { ...served, responseHeadersPolicy: publicHeaders },
        [`${PARTNERS_PREFIX}*`]: { ...served, responseHeadersPolicy: partnerHeaders, trustedKeyGroups: [linkKeys] },
      },
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;

    // The OAC grant covers every object; this denies CloudFront everything outside public/ and partners/.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CdnServesOnlyPublicAndPartners',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        notResources: [bucket.arnForObjects(`${PUBLIC_PREFIX}*`), bucket.arnForObjects(`${PARTNERS_PREFIX}*`)],
      }),
    );

    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The public graphs are meant for anyone anywhere (DESIGN §1); partners are restricted by signed URLs, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF: the distribution serves static objects only (GET/HEAD), the partner area is gated by signed URLs and the gate function, and a web ACL would cost more than the whole service.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'No CloudFront access logs: they would store every viewer\'s IP address, which the design keeps out of logs; CloudFront metrics cover operations and the gate answers carry their reason.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the TLS policy; a custom domain with its own certificate would set TLSv1.2_2021.',
      },
    ]);
  }
}
