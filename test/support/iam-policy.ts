// The worker task role's policy as terraform/iam.tf renders it for a bucket and prefix, and an evaluator of
// S3 calls against it. The AWS provider cannot be downloaded here, so the data source is rendered from the
// HCL itself; only the expressions terraform/iam.tf uses are understood, and anything else fails loudly.
import { parse } from '@cdktf/hcl2json';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './isolated-env';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

interface HclCondition {
  test: string;
  variable: string;
  values: string[];
}
interface HclStatement {
  sid: string;
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  condition?: HclCondition[];
  dynamic?: { condition?: { for_each: string; content: HclCondition[] }[] };
}

const KMS_KEY_ARN = 'arn:aws:kms:REGION:ACCOUNT:key/KEY';

async function parseTf(file: string): Promise<Record<string, unknown>> {
  return (await parse(file, fs.readFileSync(path.join(REPO_ROOT, 'terraform', file), 'utf8'))) as Record<
    string,
    unknown
  >;
}

/** terraform/iam.tf's worker_task policy document for this bucket, prefix and region. */
export async function workerTaskPolicy(bucket: string, prefix: string, region: string) {
  const iam = (await parseTf('iam.tf')) as {
    data: { aws_iam_policy_document: { worker_task: [{ statement: HclStatement[] }] } };
  };
  const main = (await parseTf('main.tf')) as { locals: Record<string, string>[] };
  const locals = Object.assign({}, ...main.locals) as Record<string, string>;
  const refs: Record<string, string> = {
    'aws_s3_bucket.data.arn': `arn:aws:s3:::${bucket}`,
    'var.s3_prefix': prefix,
    'var.aws_region': region,
    'aws_kms_key.main.arn': KMS_KEY_ARN,
  };
  const render = (text: string, scope: Record<string, string> = {}): string =>
    text.replace(/\$\{([^}]+)\}/g, (_, expr: string) => {
      const name = expr.trim();
      const value =
        scope[name] ?? refs[name] ?? (name.startsWith('local.') ? locals[name.slice(6)] : undefined);
      if (value === undefined) throw new Error(`iam.tf: cannot render \${${name}}`);
      return render(value, scope);
    });
  const conditionMap = (conditions: HclCondition[], scope: Record<string, string> = {}) => {
    const out: Record<string, Record<string, string[]>> = {};
    for (const c of conditions) (out[c.test] ??= {})[c.variable] = c.values.map((v) => render(v, scope));
    return out;
  };
  const statements = iam.data.aws_iam_policy_document.worker_task[0].statement.map((s): PolicyStatement => {
    const conditions = conditionMap(s.condition ?? []);
    for (const d of s.dynamic?.condition ?? []) {
      // The one form terraform/iam.tf uses: a condition present only when the prefix is set.
      if (d.for_each !== '${var.s3_prefix == "" ? [] : [var.s3_prefix]}')
        throw new Error(`iam.tf: cannot evaluate for_each ${d.for_each}`);
      if (prefix === '') continue;
      Object.assign(conditions, conditionMap(d.content, { 'condition.value': prefix }));
    }
    return {
      Sid: s.sid,
      Effect: s.effect,
      Action: s.actions,
      Resource: s.resources.map((r) => render(r)),
      ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
    };
  });
  return { Version: '2012-10-17', Statement: statements };
}

/** An S3 API call as IAM sees it: the action it needs, the resource, and its condition keys. */
export interface S3Request {
  call: string;
  action: string;
  resource: string;
  context: Record<string, string>;
}

/** The IAM authorization of the S3 operations the worker sends (the SDK command names). */
export function s3Request(
  command: string,
  input: { Bucket?: string; Key?: string; Prefix?: string },
): S3Request {
  const bucketArn = `arn:aws:s3:::${input.Bucket ?? ''}`;
  const prefix: Record<string, string> = input.Prefix === undefined ? {} : { 's3:prefix': input.Prefix };
  switch (command) {
    case 'ListObjectsV2Command':
    case 'ListObjectsCommand':
    case 'HeadBucketCommand':
      return { call: command, action: 's3:ListBucket', resource: bucketArn, context: prefix };
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      return {
        call: command,
        action: 's3:GetObject',
        resource: `${bucketArn}/${input.Key ?? ''}`,
        context: {},
      };
    default:
      throw new Error(`no IAM mapping for ${command}: add it, and check iam.tf grants it`);
  }
}

const globMatch = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

function conditionsHold(condition: PolicyStatement['Condition'], context: Record<string, string>): boolean {
  for (const [test, keys] of Object.entries(condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      const actual = context[key];
      // A key the request does not carry fails the condition (IAM's rule without ...IfExists).
      if (actual === undefined) return false;
      if (test === 'StringLike' && !values.some((v) => globMatch(v, actual))) return false;
      else if (test === 'StringEquals' && !values.includes(actual)) return false;
      else if (test !== 'StringLike' && test !== 'StringEquals') throw new Error(`condition ${test} unknown`);
    }
  }
  return true;
}

/** Allowed when a statement allows it and none denies it. */
export function allows(policy: { Statement: PolicyStatement[] }, request: S3Request): boolean {
  const matching = policy.Statement.filter(
    (s) =>
      s.Action.some((a) => globMatch(a, request.action)) &&
      s.Resource.some((r) => globMatch(r, request.resource)) &&
      conditionsHold(s.Condition, request.context),
  );
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}
