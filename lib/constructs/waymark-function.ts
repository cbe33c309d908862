import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { entryPoints, type ENTRY_POINTS, type EntryPointName, type HandlerName as DeclaredHandlerName } from '../entry-points';
import { WAYMARK_BASE_ENVIRONMENT, waymarkBundling } from './bundling';
import type { FunctionRole } from './function-roles';

/** The repository root: handlers are bundled from here with the root lock file. */
export const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** The Lambda entry points' handler files (`lambdas/handlers/<name>.ts`), by entry point name (lib/entry-points.ts). */
export const HandlerName = Object.fromEntries(entryPoints().map(([name, e]) => [name, e.handler])) as {
  readonly [K in EntryPointName]: (typeof ENTRY_POINTS)[K]['handler'];
};
export type HandlerName = DeclaredHandlerName;

export const handlerEntry = (name: HandlerName): string => path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${name}.ts`);

export interface WaymarkFunctionProps {
  /** Which handler file under `lambdas/handlers/` this function runs. */
  readonly handler: HandlerName;
  /**
   * Its execution role, shared with the functions whose `uses` imply the same grants (`FunctionRoles.roleFor`); the
   * function adds only the right to write its own log group.
   */
  readonly role: FunctionRole;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * Environment variables (use the keys from `EnvKey`).
   * @default - none besides NODE_OPTIONS
   */
  readonly environment?: Record<string, string>;
  /**
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Dead-letter queue for failed asynchronous invocations (after `retryAttempts`).
   * @default - no dead-letter queue (the function is only invoked synchronously)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Retries of a failed asynchronous invocation.
   * @default - Lambda's default (2)
   */
  readonly retryAttempts?: number;
  /**
   * How long an asynchronous invocation may wait in Lambda's queue before it goes to the dead-letter queue.
   * @default - Lambda's default (6 hours)
   */
  readonly maxEventAge?: Duration;
  /**
   * Bundle the Powertools tracer and the X-Ray SDK (each AWS SDK call an X-Ray subsegment), lib/constructs/bundling.ts.
   * @default - what an enclosing scope set with `WaymarkFunction.traceAwsCallsBelow` (the app stack: the stage's
   * `traceAwsCalls`), else false
   */
  readonly traceAwsCalls?: boolean;
}

/** The construct context key of `WaymarkFunction.traceAwsCallsBelow` (construct context is inherited by children). */
const TRACE_AWS_CALLS_CONTEXT = '@waymark/function:traceAwsCalls';

/**
 * One Waymark Lambda: Node.js 24 on arm64, bundled locally with esbuild as `waymarkBundling` says (each handler
 * file is its own composition root, so a bundle holds only the code and clients it uses), X-Ray active tracing (Lambda
 * records each invocation; the function bundles the X-Ray SDK only with `traceAwsCalls`), JSON logs
 * to its own log group, and a role with inline policies only (no AWS managed policy), shared with the functions whose
 * declared `uses` imply the same grants (lib/constructs/function-roles.ts), which the stack derives from those `uses`.
 */
export class WaymarkFunction extends Construct implements iam.IGrantable {
  /**
   * Sets `traceAwsCalls` of every WaymarkFunction created below `scope` (nested stacks included); call it before
   * `scope` has children (CDK refuses context set later).
   */
  public static traceAwsCallsBelow(scope: Construct, traceAwsCalls: boolean): void {
    scope.node.setContext(TRACE_AWS_CALLS_CONTEXT, traceAwsCalls);
  }

  public readonly function: nodejs.NodejsFunction;
  /** How the handler is bundled (`waymarkBundling`): the constant `define`d, among others. */
  public readonly bundling: nodejs.BundlingOptions;
  /** The role's shared grants are added once for all its functions (`bindEntryPoint`). */
  public readonly functionRole: FunctionRole;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: WaymarkFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    this.functionRole = props.role;
    this.role = props.role.role;
    this.grantPrincipal = this.role;
    const traceAwsCalls = props.traceAwsCalls ?? this.node.tryGetContext(TRACE_AWS_CALLS_CONTEXT) === true;
    this.bundling = waymarkBundling({ traceAwsCalls });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.handler),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: { ...WAYMARK_BASE_ENVIRONMENT, ...props.environment },
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: this.bundling,
    });
    // Instead of AWSLambdaBasicExecutionRole (which allows every log group): this function, its log group only.
    props.role.allowLogs(this.function, this.logGroup);
  }
}
