/**
 * The one place the storage SDK clients are made: the real AWS clients on Lambda (and for `--stack`), or clients
 * wired to the local emulators (DynamoDB Local, s3rver) when the configuration names their endpoints.
 * The emulators' credentials are static and fake so that no credential chain (env, ~/.aws, IMDS) is ever
 * consulted locally.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

/** The clients every store adapter (lib/store, lib/lake, lib/publish) is built on. */
export interface AwsClients {
  dynamo: DynamoDBClient;
  s3: S3Client;
}

/**
 * Timeouts of the real AWS clients: a connection not up in 1 s, or a request silent for 5 s (the handler's socket
 * timeout: a long download that keeps receiving is not cut), is abandoned and retried by the SDK, 3 attempts in
 * all, so one stalled call cannot run to the function's timeout; ingest's own deadline (INGEST_DEADLINE_SECONDS)
 * bounds the sum.
 */
export const AWS_CLIENT_TIMEOUTS = {
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  maxAttempts: 3,
} as const;

/** Real AWS clients, or clients for the local emulators when their endpoints are configured. */
export function clientsFor(config: { dynamoEndpoint?: string; s3Endpoint?: string }): AwsClients {
  return {
    dynamo: config.dynamoEndpoint ? localDynamoClient(config.dynamoEndpoint) : new DynamoDBClient(AWS_CLIENT_TIMEOUTS),
    s3: config.s3Endpoint ? localS3Client(config.s3Endpoint) : new S3Client(AWS_CLIENT_TIMEOUTS),
  };
}

const LOCAL_REGION = 'us-east-1';
// s3rver only knows this one key pair; DynamoDB Local (-sharedDb) accepts anything, so both use it.
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // A local emulator is either up or not; long retry chains only hide failures and slow tests.
    maxAttempts: 2,
  });
}

export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // s3rver only routes bucket names in the path when addressed by IP.
    forcePathStyle: true,
    // Default CRC32 checksums make the SDK send aws-chunked bodies for streams, which s3rver stores verbatim
    // (chunk framing included). Only compute checksums when an operation demands them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}
