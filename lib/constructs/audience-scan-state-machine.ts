import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Placeholder, type AslDefinition } from '../../lambdas/core/journey/asl';
import { audienceScanDefinition } from '../../lambdas/core/segments/scan-asl';
import { acknowledgeWildcards } from '../nag';
import { MAX_STATE_MACHINE_NAME, stateMachineLogGroup } from './journey-state-machine';

export interface AudienceScanStateMachineProps {
  /** The physical state machine name, at most 80 characters. */
  readonly stateMachineName: string;
  /** The function every Task state invokes (page, finish, fail). */
  readonly scanProfiles: lambda.IFunction;
  /**
   * The definition.
   * @default audienceScanDefinition()
   */
  readonly definition?: AslDefinition;
  /**
   * Retention of the execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The audience-scan state machine (Standard): batch jobs over all profiles, a Map over parallel-scan segments of the
 * profiles table whose Task states invoke scan-profiles. Audience snapshots (POST /segments/{id}/evaluate) and the
 * hourly re-check of time-based segments run here. Logged and traced like the journey state machines.
 */
export class AudienceScanStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** `arn:...:execution:<stateMachineName>:*`. */
  public readonly executionArnPattern: string;

  constructor(scope: Construct, id: string, props: AudienceScanStateMachineProps) {
    super(scope, id);
    if (props.stateMachineName.length > MAX_STATE_MACHINE_NAME) {
      throw new Error(`state machine name "${props.stateMachineName}" is ${props.stateMachineName.length} characters; Step Functions allows at most ${MAX_STATE_MACHINE_NAME} (shorten the stage)`);
    }
    const definition = props.definition ?? audienceScanDefinition();
    this.executionArnPattern = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.logGroup = stateMachineLogGroup(this, props.stateMachineName, props.logRetention);
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com'), description: 'Waymark audience scan' });
    // Unqualified ARN only: the ASL invokes $LATEST by function ARN.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.scanProfiles.functionArn] }));

    const available: Partial<Record<Placeholder, string>> = { [Placeholder.scanProfilesFunction]: props.scanProfiles.functionArn };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: substitutionsFor(definition, available),
      role: this.role,
      tracingEnabled: true,
      // Execution data holds profile ids and job results: log every event, without input and output (as journeys do).
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    acknowledgeWildcards(
      this.role,
      ['Resource::*'],
      'Resource "*" is required by X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and by CloudWatch Logs vended log delivery (logs:CreateLogDelivery and related), which do not support resource-level permissions; the only other permission is lambda:InvokeFunction on the scan-profiles function ARN.',
    );
  }
}

/** The substitutions of exactly the `${Placeholder}`s the definition holds; synth fails on one that cannot be filled. */
function substitutionsFor(definition: AslDefinition, available: Partial<Record<string, string>>): Record<string, string> {
  const used = [...new Set([...JSON.stringify(definition).matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))].sort();
  const missing = used.filter((name) => available[name] === undefined);
  if (missing.length > 0) throw new Error(`the audience-scan definition uses placeholder(s) ${missing.map((m) => `\${${m}}`).join(', ')} that this construct does not fill`);
  return Object.fromEntries(used.map((name) => [name, available[name]!]));
}
