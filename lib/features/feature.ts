import { createHash } from 'node:crypto';
import { Duration, type CfnElement } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct, type IConstruct } from 'constructs';
import { FunctionRoles } from '../constructs/function-roles';
import { WaymarkFunction, type WaymarkFunctionProps } from '../constructs/waymark-function';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { constructIdOf, descriptionOf, ENTRY_POINTS, entryPoints, type EntryPointName, type FeatureName, type JourneyStep } from '../entry-points';

export interface FeatureProps {
  /** Which declared entry points (lib/entry-points.ts `feature`) this construct creates functions for. */
  readonly feature: FeatureName;
  /** @default logs.RetentionDays.THREE_MONTHS (WaymarkFunction's default) */
  readonly logRetention?: logs.RetentionDays;
}

/** What a feature's own triggers add to a function (asynchronous invocation: dead-letter queue, retries). */
export type FunctionExtras = Partial<Record<EntryPointName, Pick<WaymarkFunctionProps, 'deadLetterQueue' | 'retryAttempts' | 'maxEventAge'>>>;

/**
 * A group of the app stack's resources that is transparent to logical ids (`logicalIdWithoutFeatures`): what it holds
 * keeps the id it would have as the stack's own child.
 */
export class StackPart extends Construct {}

/**
 * One feature of the app stack: the functions of its declared entry points (construct id `constructIdOf(name)`), and
 * whatever its subclass adds (rules, state machines). Transparent to logical ids: the stack allocates the ids of
 * everything inside as if it were the stack's own child (`logicalIdWithoutFeatures`), so grouping resources into
 * features replaced nothing that was deployed before. Environment, grants and API methods are the stack's
 * (`bindEntryPoint`, `addApiRoute`), once every resource a declaration may name exists.
 */
export class Feature extends StackPart {
  /** A feature with nothing but its functions. */
  public static of(scope: Construct, id: string, props: FeatureProps): Feature {
    const feature = new Feature(scope, id, props);
    feature.createFunctions();
    return feature;
  }

  private readonly created = new Map<EntryPointName, WaymarkFunction>();

  protected constructor(scope: Construct, id: string, private readonly props: FeatureProps) {
    super(scope, id);
  }

  /** The functions of this feature's entry points, by name. */
  public get functions(): ReadonlyMap<EntryPointName, WaymarkFunction> {
    return this.created;
  }

  /** The function of one of this feature's entry points. */
  public fn(name: EntryPointName): WaymarkFunction {
    const found = this.created.get(name);
    if (!found) throw new Error(`entry point "${name}" is not declared with feature "${this.props.feature}" (lib/entry-points.ts)`);
    return found;
  }

  /** Creates one function per entry point declared with this feature (subclasses: after what `extras` names). */
  protected createFunctions(extras: FunctionExtras = {}): void {
    const roles = FunctionRoles.of(this);
    for (const [name, entry] of entryPoints().filter(([, e]) => e.feature === this.props.feature)) {
      this.created.set(
        name,
        new WaymarkFunction(this, constructIdOf(name), {
          handler: entry.handler as WaymarkFunctionProps['handler'],
          description: descriptionOf(entry),
          logRetention: this.props.logRetention,
          timeout: entry.timeoutSeconds === undefined ? undefined : Duration.seconds(entry.timeoutSeconds),
          memorySize: entry.memoryMb,
          role: roles.roleFor({ name, uses: entry.uses, deadLetterQueue: extras[name]?.deadLetterQueue }),
          ...extras[name],
        }),
      );
    }
  }
}

/**
 * The logical id CDK would give `element` if no `StackPart` (feature) stood between it and its stack: CDK's own scheme
 * (`makeUniqueId` in aws-cdk-lib core: path components without "Default", human part without "Resource" and repeated
 * suffixes, alphanumerics only, plus 8 hex of the MD5 of the path), applied to the path without the features.
 * `Stack.allocateLogicalId` is the documented place to change the scheme.
 */
export function logicalIdWithoutFeatures(element: CfnElement): string {
  const scopes = element.node.scopes;
  const components = scopes
    .slice(scopes.indexOf(element.stack) + 1)
    .filter((scope: IConstruct) => !(scope instanceof StackPart))
    .map((scope) => scope.node.id)
    .filter((c) => c !== 'Default');
  if (components.length === 0) throw new Error(`cannot allocate a logical id for ${element.node.path}`);
  const alphanumeric = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
  if (components.length === 1 && alphanumeric(components[0]).length <= 255) return alphanumeric(components[0]);
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of components) if (human.length === 0 || !human[human.length - 1].endsWith(c)) human.push(c);
  return human.filter((c) => c !== 'Resource').map(alphanumeric).join('').slice(0, 240) + hash;
}

/**
 * A dead-letter queue (of an EventBridge target or of Lambda asynchronous invocations). SSE-SQS rather than KMS:
 * EventBridge can only deliver to a KMS-encrypted DLQ with a key policy granting it, and SSE-SQS needs no key grants.
 */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
}

/**
 * A bus rule's Lambda target: 8 retries over at most 24 hours, then the rule's dead-letter queue (every rule of the
 * app stack delivers this way; the function's own asynchronous retries have a queue of their own).
 */
export function deadLetteredTarget(fn: lambda.IFunction, queue: sqs.IQueue): targets.LambdaFunction {
  return new targets.LambdaFunction(fn, { deadLetterQueue: queue, retryAttempts: 8, maxEventAge: Duration.hours(24) });
}

/** The functions of the declared journey steps, by step, among the given features' functions. */
export function journeyStepsOf(functions: ReadonlyMap<EntryPointName, WaymarkFunction>): Partial<Record<JourneyStep, lambda.IFunction>> {
  const steps: Partial<Record<JourneyStep, lambda.IFunction>> = {};
  for (const [name, fn] of functions) {
    const trigger = (ENTRY_POINTS[name] as { trigger: { kind: string; step?: JourneyStep } }).trigger;
    if (trigger.kind === 'journey-step' && trigger.step) steps[trigger.step] = fn.function;
  }
  return steps;
}
