import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { compileCatalog } from '../../lambdas/core/journey';
import type { SegmentDefinition } from '../../lambdas/core/segments/rule';
import { REGISTRY_SHARDS, shardOf } from '../../lib/constructs/registry-shard';
import { loadDecisionFiles } from '../../lib/decisions';
import { readDefinitionDir } from '../../lib/definition-files';
import { loadSegments } from '../../lib/segments';
import { flatten, STATEMACHINES_DIR, waymarkStacks } from './waymark-app';

// CloudFormation quotas (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html):
// 500 resources, 1 MB template (S3), 200 outputs, 200 parameters. IAM: 10,240 characters of inline policies per role
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The asserted bounds leave room to spare.
const MAX_RESOURCES = 450;
const MAX_TEMPLATE_BYTES = 800 * 1024;
const MAX_ROLE_POLICY_CHARS = 9000;
const MAX_OUTPUTS = 200;
const MAX_PARAMETERS = 200;
// A nested stack tree may create, update or delete at most 2,500 resources per operation (same page): a first deploy
// creates all of them.
const MAX_RESOURCES_PER_OPERATION = 2250;

const JOURNEYS = 200;
const CATALOG_FILES = 300;

/** 200 journeys: the playbooks cloned round-robin with new ids (every node kind and channel the playbooks use). */
function generatedJourneys() {
  const playbooks = readDefinitionDir(STATEMACHINES_DIR);
  const files = Array.from({ length: JOURNEYS }, (_, i) => {
    const playbook = playbooks[i % playbooks.length];
    const definition = JSON.parse(playbook.text) as { id: string; name: string };
    const id = `${definition.id}-${String(i).padStart(3, '0')}`;
    return { path: path.join('generated', `${id}.json`), text: JSON.stringify({ ...definition, id, name: `${definition.name} ${i}` }) };
  });
  return compileCatalog(files, 'generated');
}

/** 300 segment, offer and placement files: the shipped ones cloned with new ids (references stay on the originals). */
function generatedCatalog() {
  const segments = loadSegments();
  const decisions = loadDecisionFiles();
  const extraSegments: SegmentDefinition[] = [];
  const extraOffers: (typeof decisions.offers)[number][] = [];
  const extraPlacements: (typeof decisions.placements)[number][] = [];
  let total = segments.length + decisions.offers.length + decisions.placements.length;
  for (let i = 0; total < CATALOG_FILES; i++, total++) {
    const suffix = `-x${String(i).padStart(3, '0')}`;
    if (i % 3 === 0) extraSegments.push({ ...segments[i % segments.length], id: `${segments[i % segments.length].id}${suffix}` });
    else if (i % 3 === 1) extraOffers.push({ ...decisions.offers[i % decisions.offers.length], id: `${decisions.offers[i % decisions.offers.length].id}${suffix}` });
    else extraPlacements.push({ ...decisions.placements[i % decisions.placements.length], id: `${decisions.placements[i % decisions.placements.length].id}${suffix}` });
  }
  return {
    segments: [...segments, ...extraSegments],
    decisionFiles: { offers: [...decisions.offers, ...extraOffers], placements: [...decisions.placements, ...extraPlacements] },
  };
}

interface StackNumbers {
  readonly resources: number;
  readonly bytes: number;
  readonly outputs: number;
  readonly parameters: number;
  readonly largestRolePolicy: number;
}

/** Per role (logical id), the characters of its inline policies (AWS::IAM::Role Policies and AWS::IAM::Policy on it). */
function rolePolicyChars(template: Record<string, any>): Map<string, number> {
  const chars = new Map<string, number>();
  const add = (role: string, document: unknown) => chars.set(role, (chars.get(role) ?? 0) + JSON.stringify(document).replace(/\s/g, '').length);
  for (const [id, resource] of Object.entries<any>(template.Resources ?? {})) {
    if (resource.Type === 'AWS::IAM::Role') for (const p of resource.Properties?.Policies ?? []) add(id, p.PolicyDocument);
    if (resource.Type === 'AWS::IAM::Policy') {
      for (const role of resource.Properties.Roles ?? []) add(JSON.stringify(role), resource.Properties.PolicyDocument);
    }
  }
  return chars;
}

function numbers(stack: Stack): StackNumbers {
  const template = Template.fromStack(stack).toJSON();
  return {
    resources: Object.keys(template.Resources ?? {}).length,
    // As cdk.out writes it (indented by one space), the file CloudFormation receives.
    bytes: Buffer.byteLength(JSON.stringify(template, undefined, 1)),
    outputs: Object.keys(template.Outputs ?? {}).length,
    parameters: Object.keys(template.Parameters ?? {}).length,
    largestRolePolicy: Math.max(0, ...rolePolicyChars(template).values()),
  };
}

describe('an app with 200 journeys and 300 segment, offer and placement files', () => {
  const { segments, decisionFiles } = generatedCatalog();
  // Generated journeys and files only: the shipped campaigns name journeys of the repository (their budget: campaigns.test.ts).
  const { data, application } = waymarkStacks(undefined, { journeys: generatedJourneys(), segments, decisionFiles, campaigns: [] });
  const stacks: Stack[] = [data, application, ...application.registryShards.values()];
  const measured = new Map(stacks.map((s) => [s.node.path, numbers(s)]));

  it('spreads the journeys and files over nested stacks, keyed by id', () => {
    expect(application.registryShards.size).toBeGreaterThan(1);
    for (const [id, machine] of application.journeys) {
      expect(Stack.of(machine)).toBe(application.registryShards.get(shardOf(`journey/${id}`, REGISTRY_SHARDS)));
    }
    for (const [id, offer] of application.offers) expect(Stack.of(offer)).toBe(application.registryShards.get(shardOf(`offer/${id}`)));
  });

  it('finds no unacknowledged cdk-nag error or warning in any of its stacks, and synthesizes with the plugin as bin/app.ts', () => {
    const pack = new AwsSolutionsChecks(application.node.root, { verbose: true });
    const violations = stacks.flatMap((stack) =>
      pack.validateScope(stack).violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );
    expect(violations).toEqual([]);
    Validations.of(application.node.root).addPlugins(pack);
    const assembly = (application.node.root as App).synth();
    expect(assembly.getStackByName(application.stackName).template.Resources).toBeDefined();
  });

  it('creates fewer resources in one deploy of the app stack and its nested stacks than CloudFormation allows', () => {
    const total = stacks.filter((s) => s !== data).reduce((sum, s) => sum + measured.get(s.node.path)!.resources, 0);
    // eslint-disable-next-line no-console
    console.log(`app stack and nested stacks: ${total} resources in one operation`);
    expect(total).toBeLessThan(MAX_RESOURCES_PER_OPERATION);
  });

  it('registers every journey and every file', () => {
    expect(application.journeys.size).toBe(JOURNEYS);
    expect(application.segments.size + application.offers.size + application.placements.size).toBe(CATALOG_FILES);
  });

  it.each([...measured.keys()])('stack %s stays within the CloudFormation and IAM quotas with room to spare', (stackPath) => {
    const n = measured.get(stackPath)!;
    // eslint-disable-next-line no-console
    console.log(`${stackPath}: ${n.resources} resources, ${(n.bytes / 1024).toFixed(0)} KB, ${n.outputs} outputs, ${n.parameters} parameters, largest role policy ${n.largestRolePolicy} characters`);
    expect(n.resources).toBeLessThan(MAX_RESOURCES);
    expect(n.bytes).toBeLessThan(MAX_TEMPLATE_BYTES);
    expect(n.largestRolePolicy).toBeLessThan(MAX_ROLE_POLICY_CHARS);
    expect(n.outputs).toBeLessThanOrEqual(MAX_OUTPUTS);
    expect(n.parameters).toBeLessThanOrEqual(MAX_PARAMETERS);
  });
});

describe('moving journeys and files between stacks', () => {
  const deleteOf = (stack: Stack, type: string, prefix: string) => {
    const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const [, resource] = Object.entries(json.Resources).find(([id, r]) => r.Type === type && id.startsWith(prefix))!;
    return { create: flatten(resource.Properties.Create), delete: flatten(resource.Properties.Delete) };
  };

  it('keeps the shipped journeys and files in the app stack (no shard, logical ids unchanged)', () => {
    const { application } = waymarkStacks();
    expect(application.registryShards.size).toBe(0);
    expect(Stack.of(application.journeys.get('welcome')!)).toBe(application);
  });

  it("puts an item that names its new stack, so the old stack's delete of the moved resource leaves it alone", () => {
    const inline = waymarkStacks().application;
    const sharded = waymarkStacks(undefined, { registryShards: REGISTRY_SHARDS }).application;
    const shard = sharded.registryShards.get(shardOf('journey/welcome'))!;
    const before = deleteOf(inline, 'Custom::WaymarkJourneyRegistration', 'JourneywelcomeRegistration');
    const after = deleteOf(shard, 'Custom::WaymarkJourneyRegistration', 'JourneywelcomeRegistration');
    expect(before.delete).toContain('#deployedBy = :deployedBy');
    expect(before.delete).toContain(`":deployedBy":{"S":"${inline.node.path}"}`);
    expect(after.create).toContain(`"deployedBy":{"S":"${shard.node.path}"}`);
    expect(shard.node.path).not.toBe(inline.node.path);
  });
});
