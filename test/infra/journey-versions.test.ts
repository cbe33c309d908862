import { Template } from 'aws-cdk-lib/assertions';
import { compileCatalog, LIVE_ALIAS, type CompiledJourney } from '../../lambdas/core/journey';
import { readDefinitionDir } from '../../lib/definition-files';
import { loadJourneys } from '../../lib/journeys';
import { effectiveStatements, STATEMACHINES_DIR, testApp, waymarkStacks } from './waymark-app';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Resources = Record<string, Resource>;

const logicalPrefix = (journeyId: string) => `Journey${journeyId.replace(/-/g, '')}`;

/** The one resource of a type whose logical id starts with the journey's construct id and the child's. */
function journeyResource(resources: Resources, journeyId: string, child: string, type: string): [string, Resource] {
  const found = Object.entries(resources).filter(([id, r]) => r.Type === type && id.startsWith(`${logicalPrefix(journeyId)}${child}`));
  if (found.length !== 1) throw new Error(`expected one ${type} ${child} for ${journeyId}, found ${found.length}`);
  return found[0];
}

/**
 * The CloudFormation value written right after `marker` in a Fn::Join of the registration's Create call, e.g. the
 * token following `"aliasArn":{"S":"`.
 */
function valueAfter(create: unknown, marker: string): unknown {
  const [, parts] = (create as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const at = parts.findIndex((p) => typeof p === 'string' && p.endsWith(marker));
  if (at < 0) throw new Error(`no ${marker} in the registration`);
  return parts[at + 1];
}

/** The playbooks with one of them (`welcome`) changed: a longer timeout, so a different compiled definition. */
function journeysWithChangedWelcome(): CompiledJourney[] {
  const files = readDefinitionDir(STATEMACHINES_DIR).map((file) => {
    const definition = JSON.parse(file.text) as { id: string; settings: Record<string, unknown> };
    return definition.id === 'welcome' ? { ...file, text: JSON.stringify({ ...definition, settings: { ...definition.settings, timeout: '12d' } }) } : file;
  });
  return compileCatalog(files, STATEMACHINES_DIR);
}

describe('journey versions (J7)', () => {
  const journeys = loadJourneys();
  const { application } = waymarkStacks(testApp(), { journeys });
  const resources = Template.fromStack(application).toJSON().Resources as Resources;

  it.each(journeys.map((j) => [j.journey.id, j] as const))(
    'publishes a version of journey %s from its current revision, and points its live alias at it with all traffic',
    (journeyId, compiled) => {
      const [machineId] = journeyResource(resources, journeyId, 'StateMachine', 'AWS::StepFunctions::StateMachine');
      const [versionId, version] = journeyResource(resources, journeyId, 'Version', 'AWS::StepFunctions::StateMachineVersion');
      expect(version.Properties).toEqual({
        StateMachineArn: { Ref: machineId },
        // A new revision (a changed definition or substitution) replaces the version: a new version number.
        StateMachineRevisionId: { 'Fn::GetAtt': [machineId, 'StateMachineRevisionId'] },
        Description: `Waymark journey ${journeyId}, definition ${compiled.version}`,
      });
      const [, alias] = journeyResource(resources, journeyId, 'LiveAlias', 'AWS::StepFunctions::StateMachineAlias');
      expect(alias.Properties).toMatchObject({ Name: LIVE_ALIAS, RoutingConfiguration: [{ StateMachineVersionArn: { 'Fn::GetAtt': [versionId, 'Arn'] }, Weight: 100 }] });
    },
  );

  it('registers each journey with its live alias (where runs start) and the version the alias points at', () => {
    for (const { journey } of journeys) {
      const [versionId] = journeyResource(resources, journey.id, 'Version', 'AWS::StepFunctions::StateMachineVersion');
      const [aliasId] = journeyResource(resources, journey.id, 'LiveAlias', 'AWS::StepFunctions::StateMachineAlias');
      const [, registration] = journeyResource(resources, journey.id, 'Registration', 'Custom::WaymarkJourneyRegistration');
      const create = registration.Properties?.Create;
      expect(valueAfter(create, '"aliasArn":{"S":"')).toEqual({ 'Fn::GetAtt': [aliasId, 'Arn'] });
      expect(valueAfter(create, '"liveVersionArn":{"S":"')).toEqual({ 'Fn::GetAtt': [versionId, 'Arn'] });
      // The number is the last part of the version ARN (`<state machine ARN>:<n>`).
      expect(valueAfter(create, '"liveVersion":{"S":"')).toEqual({ 'Fn::Select': [7, { 'Fn::Split': [':', { 'Fn::GetAtt': [versionId, 'Arn'] }] }] });
    }
  });

  it('publishes a new version only for the journey whose definition changed', () => {
    const changed = waymarkStacks(testApp(), { journeys: journeysWithChangedWelcome() }).application;
    const after = Template.fromStack(changed).toJSON().Resources as Resources;
    for (const { journey } of journeys) {
      const [beforeId, before] = journeyResource(resources, journey.id, 'Version', 'AWS::StepFunctions::StateMachineVersion');
      const [afterId, now] = journeyResource(after, journey.id, 'Version', 'AWS::StepFunctions::StateMachineVersion');
      expect(afterId).toBe(beforeId);
      if (journey.id === 'welcome') {
        // The description (which requires replacement) carries the new definition hash, and the revision changes with it.
        expect(now.Properties?.Description).not.toEqual(before.Properties?.Description);
        const [, machineBefore] = journeyResource(resources, journey.id, 'StateMachine', 'AWS::StepFunctions::StateMachine');
        const [, machineAfter] = journeyResource(after, journey.id, 'StateMachine', 'AWS::StepFunctions::StateMachine');
        expect(machineAfter.Properties?.DefinitionString).not.toEqual(machineBefore.Properties?.DefinitionString);
      } else {
        expect(now).toEqual(before);
        const [, machineBefore] = journeyResource(resources, journey.id, 'StateMachine', 'AWS::StepFunctions::StateMachine');
        const [, machineAfter] = journeyResource(after, journey.id, 'StateMachine', 'AWS::StepFunctions::StateMachine');
        expect(machineAfter).toEqual(machineBefore);
      }
    }
  });

  it('lets the router and the trigger start runs on the alias: StartExecution names the state machine, which Step Functions authorizes alias starts against', () => {
    for (const fn of ['RouteEvent', 'TriggerJourney']) {
      const functionId = Object.keys(resources).find((id) => new RegExp(`^${fn}Function[0-9A-F]{8}$`).test(id))!;
      const start = effectiveStatements({ Resources: resources }, functionId).find((s) => s.Action === 'states:StartExecution')!;
      for (const { journey } of journeys) {
        const [machineId] = journeyResource(resources, journey.id, 'StateMachine', 'AWS::StepFunctions::StateMachine');
        expect(start.Resource).toContainEqual({ Ref: machineId });
      }
    }
  });

  it('keeps each version and alias in the nested stack of its journey when the journeys are sharded', () => {
    const sharded = waymarkStacks(testApp(), { journeys, registryShards: 4 }).application;
    const shardResources = [...sharded.registryShards.values()].map((shard) => Template.fromStack(shard).toJSON().Resources as Resources);
    for (const { journey } of journeys) {
      const home = shardResources.filter((r) => Object.keys(r).some((id) => id.startsWith(`${logicalPrefix(journey.id)}StateMachine`)));
      expect(home).toHaveLength(1);
      const [aliasId] = journeyResource(home[0], journey.id, 'LiveAlias', 'AWS::StepFunctions::StateMachineAlias');
      const [, registration] = journeyResource(home[0], journey.id, 'Registration', 'Custom::WaymarkJourneyRegistration');
      expect(valueAfter(registration.Properties?.Create, '"aliasArn":{"S":"')).toEqual({ 'Fn::GetAtt': [aliasId, 'Arn'] });
    }
  });
});
