/**
 * Starts one in-memory DynamoDB Local and one s3rver for the whole test run; tests read their endpoints with
 * `inject('dynamoEndpoint')` / `inject('s3Endpoint')`. Tests share them, so each test must create its own
 * uniquely named tables and buckets.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../lib/local/emulators/dynamodb-local.js';
import { startS3Local } from '../lib/local/emulators/s3.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port> of the shared DynamoDB Local (in memory, -sharedDb). */
    dynamoEndpoint: string;
    /** http://127.0.0.1:<port> of the shared s3rver (path-style). */
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, s3] = await Promise.allSettled([startDynamoDbLocal({}), startS3Local({})]);
  if (dynamo.status === 'rejected' || s3.status === 'rejected') {
    // One may have started while the other failed; leave nothing running.
    await Promise.allSettled([stopIfStarted(dynamo), stopIfStarted(s3)]);
    throw dynamo.status === 'rejected' ? dynamo.reason : (s3 as PromiseRejectedResult).reason;
  }
  project.provide('dynamoEndpoint', dynamo.value.endpoint);
  project.provide('s3Endpoint', s3.value.endpoint);

  return async () => {
    await Promise.allSettled([dynamo.value.stop(), s3.value.stop()]);
  };
}

async function stopIfStarted(result: PromiseSettledResult<{ stop(): Promise<void> }>): Promise<void> {
  if (result.status === 'fulfilled') await result.value.stop();
}
