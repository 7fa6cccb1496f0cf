/** Reading IAM statements out of a synthesized template, with intrinsic functions flattened to text. */
import type { Template } from 'aws-cdk-lib/assertions';

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** `{"Fn::Join":["",[{"Fn::GetAtt":["Bucket","Arn"]},"/raw/*"]]}` → `<Bucket.Arn>/raw/*`. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
  }
  return JSON.stringify(value);
}

export function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function actionsOf(s: Statement): string[] {
  return list(s.Action).map(String);
}

export function resourcesOf(s: Statement): string[] {
  return list(s.Resource).map(flatten);
}

/** Every statement of every policy document in the template (IAM policies, roles, resource policies). */
export function allStatements(template: Template): Statement[] {
  const resources = template.toJSON().Resources as Resources;
  const out: Statement[] = [];
  for (const r of Object.values(resources)) {
    const p = r.Properties ?? {};
    const docs: unknown[] = [];
    if (p.PolicyDocument) docs.push(p.PolicyDocument);
    for (const inline of list(p.Policies)) docs.push((inline as { PolicyDocument: unknown }).PolicyDocument);
    if (p.AssumeRolePolicyDocument) docs.push(p.AssumeRolePolicyDocument);
    for (const doc of docs) out.push(...(list((doc as { Statement: unknown }).Statement) as Statement[]));
  }
  return out;
}

/** Logical id of the one Lambda function whose id starts with `prefix`. */
export function functionId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one function ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** The Allow/Deny statements of the IAM policies attached to a function's execution role. */
export function roleStatements(template: Template, fnId: string): Statement[] {
  const resources = template.toJSON().Resources as Resources;
  const role = flatten(resources[fnId]?.Properties?.Role).replace(/^<(.*)\.Arn>$/, '$1');
  const out: Statement[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!list(r.Properties?.Roles).some((ref) => flatten(ref) === `<${role}>`)) continue;
    out.push(...(list((r.Properties?.PolicyDocument as { Statement: unknown }).Statement) as Statement[]));
  }
  for (const inline of list(resources[role]?.Properties?.Policies)) {
    out.push(...(list((inline as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement) as Statement[]));
  }
  return out;
}

/** IAM's wildcard matching (`*` any run, `?` one character), for actions and resource patterns. */
export function iamMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(value);
}
