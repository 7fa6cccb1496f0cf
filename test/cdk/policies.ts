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

/** One request as IAM sees it: the action, the resource (flattened like the template's) and its context keys. */
export interface AccessRequest {
  action: string;
  resource: string;
  /** Condition keys of the request: `dynamodb:LeadingKeys` (all partition keys touched), `s3:if-none-match`, … */
  context: Record<string, string | string[] | undefined>;
}

function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Whether a statement's conditions hold for the request. Only the operators the stack uses are known; any
 * other one throws, so a new kind of condition can never be read as "holds" by mistake.
 */
function conditionsHold(condition: Statement['Condition'], req: AccessRequest): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const patterns = list(expected).map(String);
      const actual = values(req.context[key]);
      let holds: boolean;
      switch (operator) {
        case 'ForAllValues:StringLike':
          holds = actual.every((v) => patterns.some((p) => iamMatches(p, v)));
          break;
        case 'ForAllValues:StringNotLike':
          holds = actual.every((v) => !patterns.some((p) => iamMatches(p, v)));
          break;
        case 'StringEquals':
          holds = actual.length > 0 && actual.every((v) => patterns.includes(v));
          break;
        case 'ArnNotEquals':
          holds = actual.length === 0 || actual.every((v) => !patterns.includes(v));
          break;
        case 'Null':
          holds = (actual.length === 0) === (patterns[0] === 'true');
          break;
        case 'NumericLessThan':
          holds = actual.length > 0 && actual.every((v) => Number(v) < Number(patterns[0]));
          break;
        case 'Bool':
          holds = actual.length > 0 && actual.every((v) => v === patterns[0]);
          break;
        default:
          throw new Error(`condition operator ${operator} is not modelled by this evaluator`);
      }
      if (!holds) return false;
    }
  }
  return true;
}

function applies(s: Statement, req: AccessRequest): boolean {
  return actionsOf(s).some((a) => iamMatches(a, req.action)) && resourcesOf(s).some((r) => iamMatches(r, req.resource)) && conditionsHold(s.Condition, req);
}

/**
 * IAM's verdict within one account: allowed when some statement of the principal's own policies allows the
 * request and no statement (its own, or a resource policy's that names every principal) denies it.
 */
export function allows(identity: Statement[], resourcePolicies: Statement[], req: AccessRequest): boolean {
  const everyone = resourcePolicies.filter((s) => flatten(s.Principal) === '{"AWS":"*"}' || flatten(s.Principal) === '*');
  if ([...identity, ...everyone].some((s) => s.Effect === 'Deny' && applies(s, req))) return false;
  return identity.some((s) => s.Effect === 'Allow' && applies(s, req));
}

/** The statements of the template's S3 bucket policies. */
export function bucketPolicyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap(
    (r) => list((r.Properties.PolicyDocument as { Statement: unknown }).Statement) as Statement[],
  );
}
