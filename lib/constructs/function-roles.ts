import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructIdOf, type Uses } from '../entry-points';
import { acknowledgeWildcards } from '../nag';

/**
 * A role whose every grant (`addToPrincipalPolicy`: CDK's grants, tracing, dead-letter queue) goes into one inline
 * policy of the role itself instead of a separate `AWS::IAM::Policy` (`DefaultPolicy`): one resource less per role.
 */
class InlineRole extends iam.Role {
  private readonly inlineGrants: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: Omit<iam.RoleProps, 'inlinePolicies'>) {
    const grants = new iam.PolicyDocument();
    super(scope, id, { ...props, inlinePolicies: { grants } });
    this.inlineGrants = grants;
  }

  public override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.inlineGrants.addStatements(statement);
    return { statementAdded: true, policyDependable: this };
  }
}

/**
 * One execution role shared by every function whose declared `uses` imply the same grants (and the same dead-letter
 * queue): its inline policy is derived once from those `uses`, so it is least-privilege for each of them. Only the
 * log permissions differ per function: they are in `logsPolicy`, one statement per function, each limited to that
 * function by `lambda:SourceFunctionArn`, which Lambda sets on its CreateLogStream/PutLogEvents calls
 * (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html).
 */
export class FunctionRole extends Construct {
  public readonly role: iam.Role;
  /** Whether the grants of the shared `uses` were added (`bindEntryPoint` adds them once per role). */
  public granted = false;
  private logsPolicy?: iam.Policy;

  constructor(scope: Construct, id: string, description: string) {
    super(scope, id);
    this.role = new InlineRole(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
    acknowledgeWildcards(
      this.role,
      ['Resource::*'],
      'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions (Resource "*").',
    );
  }

  /**
   * Lets `fn` (and only it) write to its own log group. A policy of its own, not the role's inline one: the function
   * depends on its role, and a statement naming the function in the role would be a cycle.
   */
  public allowLogs(fn: lambda.IFunction, logGroup: logs.ILogGroup): void {
    this.logsPolicy ??= new iam.Policy(this, 'LogsPolicy', { roles: [this.role] });
    this.logsPolicy.addStatements(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
        // The function's ARN, and qualified (a version), whichever Lambda puts in the request context.
        conditions: { ArnLike: { 'lambda:SourceFunctionArn': [fn.functionArn, `${fn.functionArn}:*`] } },
      }),
    );
  }
}

/** What decides a function's role: its `uses` (their grant-bearing part) and its dead-letter queue. */
export interface RoleRequest {
  /** The entry point's name (lib/entry-points.ts), for a role of its own when roles are not shared. */
  readonly name: string;
  readonly uses: Uses;
  readonly deadLetterQueue?: sqs.IQueue;
}

export interface FunctionRolesProps {
  /**
   * Share one role among the functions whose `uses` imply identical grants. `false`: a role per function (as before;
   * test/infra compares each function's effective permissions between the two).
   * @default true
   */
  readonly shared?: boolean;
}

/**
 * The app stack's Lambda execution roles (construct id `FunctionRoles`). The stack's resource budget: a role and its
 * default policy per function cost 2 of CloudFormation's 500 resources each (lib/README.md "Resource budget").
 */
export class FunctionRoles extends Construct {
  public static readonly ID = 'FunctionRoles';

  /** The stack's roles: the ones the stack created, or a shared set created on first use. */
  public static of(scope: Construct): FunctionRoles {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(FunctionRoles.ID) as FunctionRoles | undefined) ?? new FunctionRoles(stack, FunctionRoles.ID);
  }

  public readonly shared: boolean;
  private readonly byKey = new Map<string, FunctionRole>();

  constructor(scope: Construct, id: string, props: FunctionRolesProps = {}) {
    super(scope, id);
    this.shared = props.shared ?? true;
  }

  /** Every role, once. */
  public get roles(): FunctionRole[] {
    return [...this.byKey.values()];
  }

  /** The role of a function: the one shared by its grant key, created on first use. */
  public roleFor(request: RoleRequest): FunctionRole {
    const key = this.shared ? grantKeyOf(request.uses, request.deadLetterQueue) : `function ${request.name}`;
    let found = this.byKey.get(key);
    if (!found) {
      const readable = this.shared ? roleIdOf(request.uses, request.deadLetterQueue) : constructIdOf(request.name);
      // A `uses` field roleIdOf does not name yet still gets a role of its own, told apart by the key's hash.
      const id = this.node.tryFindChild(readable) ? `${readable}${createHash('sha256').update(key).digest('hex').slice(0, 8)}` : readable;
      found = new FunctionRole(this, id, `Waymark functions: ${key}`.slice(0, 1000));
      this.byKey.set(key, found);
    }
    return found;
  }
}

/**
 * The grant-bearing part of `uses` as canonical JSON (keys and lists sorted): equal keys, equal grants. Every field
 * counts (a new field of `Uses` separates roles by itself) except those that are environment only: `publicUrl` and
 * `defaultTimeZone` (add a new environment-only field here, or it costs roles for nothing).
 */
export function grantKeyOf(uses: Uses, deadLetterQueue?: sqs.IQueue): string {
  const { publicUrl: _url, defaultTimeZone: _zone, ...grants } = uses;
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return [...value].map(canonical).sort();
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== false).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
    }
    return value;
  };
  const key = JSON.stringify(canonical(grants));
  return deadLetterQueue ? `${key} dead-letter ${deadLetterQueue.node.path}` : key;
}

/** A readable construct id for a grant key: `JourneysRead`, `ProfilesWriteRuntimeWriteBus…`. */
function roleIdOf(uses: Uses, deadLetterQueue?: sqs.IQueue): string {
  const cap = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}`;
  const parts: string[] = [];
  for (const table of ['profiles', 'journeys', 'runtime'] as const) {
    const access = uses.tables?.[table];
    if (access) parts.push(`${cap(table)}${access === 'read' ? 'Read' : 'Write'}`);
  }
  if (uses.bus) parts.push('Bus');
  for (const secret of [...(uses.secrets ?? [])].sort()) parts.push(`${cap(secret)}Secret`);
  if (uses.journeyRuns) parts.push(`Runs${cap(uses.journeyRuns.of)}${[...uses.journeyRuns.actions].sort().map(cap).join('')}`);
  if (uses.taskTokens) parts.push('TaskTokens');
  if (uses.audienceScan) parts.push('AudienceScan');
  if (uses.journeyVersions) parts.push('JourneyVersions');
  if (uses.campaignVersions) parts.push('CampaignVersions');
  if (deadLetterQueue) parts.push(`DeadLetter${deadLetterQueue.node.id}`);
  return parts.length === 0 ? 'NoGrants' : parts.join('');
}
