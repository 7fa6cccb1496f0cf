/**
 * SSM GetParameter with decryption through the SDK's SSM client, for the render function and the CLI. Kept out
 * of lib/config.ts: esbuild follows even a lazy import, and the ingest function (which reads its parameter with
 * one signed request, lib/store/ssm-parameter.ts) must not carry the SSM client.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, type SecureParameterReader } from '../config.js';

export const readSecureParameter: SecureParameterReader = async (name) => {
  const out = await new SSMClient({}).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
  return value;
};
