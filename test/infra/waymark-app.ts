import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { WaymarkAppStack, type WaymarkAppStackProps } from '../../lib/app-stack';
import { WaymarkDataStack } from '../../lib/data-stack';

export const STAGE = 'test';
export const STATEMACHINES_DIR = path.join(__dirname, '..', '..', 'statemachines');
export const SEGMENTS_DIR = path.join(__dirname, '..', '..', 'segments');

/** The journey ids of the real `statemachines/*.json` files, read independently of lib/journeys.ts. */
export function journeyIdsOnDisk(): string[] {
  return readdirSync(STATEMACHINES_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => (JSON.parse(readFileSync(path.join(STATEMACHINES_DIR, name), 'utf8')) as { id: string }).id)
    .sort();
}

/** The real `segments/*.json` files by id, read independently of lib/segments.ts. */
export function segmentFilesOnDisk(): Map<string, Record<string, unknown>> {
  const files = readdirSync(SEGMENTS_DIR).filter((name) => name.endsWith('.json'));
  const segments = files.map((name) => JSON.parse(readFileSync(path.join(SEGMENTS_DIR, name), 'utf8')) as Record<string, unknown> & { id: string });
  return new Map(segments.map((s) => [s.id, s]));
}

export const segmentIdsOnDisk = (): string[] => [...segmentFilesOnDisk().keys()].sort();

export const OFFERS_DIR = path.join(__dirname, '..', '..', 'offers');
export const PLACEMENTS_DIR = path.join(__dirname, '..', '..', 'placements');

/** The real `offers/*.json` or `placements/*.json` files by id, read independently of lib/decisions.ts. */
export function catalogFilesOnDisk(dir: string): Map<string, Record<string, unknown>> {
  const entries = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Record<string, unknown> & { id: string });
  return new Map(entries.map((e) => [e.id, e]));
}

/** A test App that skips asset bundling (no esbuild run), so a synth takes seconds. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

/** Both Waymark stacks, wired the way bin/app.ts wires them. */
export function waymarkStacks(app: App = testApp(), overrides: Partial<WaymarkAppStackProps> = {}) {
  const data = new WaymarkDataStack(app, `Waymark-${STAGE}-Data`, { stage: STAGE });
  const application = new WaymarkAppStack(app, `Waymark-${STAGE}-App`, {
    stage: STAGE,
    profilesTable: data.profilesTable,
    journeysTable: data.journeysTable,
    runtimeTable: data.runtimeTable,
    eventBus: data.eventBus,
  unsubscribeSecret: data.unsubscribeSecret,
  privacyKeySecret: data.privacyKeySecret,
    audienceBucket: data.audienceBucketExports,
    senderEmail: 'journeys@shop.example',
    pushApplicationId: 'a1b2c3d4e5f6',
    smsOriginationIdentity: 'pool-0123456789abcdef',
    ...overrides,
  });
  return { app, data, application };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

/** Logical id → resource, for the resources of one type. */
export function resourcesOfType(template: { Resources?: Resources }, type: string): [string, Resources[string]][] {
  return Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === type);
}

/** A CloudFormation string value (plain or Fn::Join) with each token replaced by `<token>`. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [delimiter, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map((p) => (typeof p === 'string' ? p : '<token>')).join(delimiter);
  }
  throw new Error(`expected a string or Fn::Join, received ${JSON.stringify(value)}`);
}

type IamStatement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

/**
 * Every statement in effect for one function (logical id): its role's inline policies and the `AWS::IAM::Policy`s
 * attached to that role, without the statements limited to another function by `lambda:SourceFunctionArn` (a shared
 * role's per-function log grants, lib/constructs/function-roles.ts).
 */
export function effectiveStatements(template: { Resources?: Resources }, functionId: string): IamStatement[] {
  const resources = template.Resources ?? {};
  const roleId = (resources[functionId].Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const inline = ((resources[roleId].Properties?.Policies ?? []) as { PolicyDocument: { Statement: IamStatement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
  const attached = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => ((p.Properties?.Roles ?? []) as { Ref?: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as IamStatement[]);
  const forThisFunction = (s: IamStatement) => {
    const sources = Object.values(s.Condition ?? {}).flatMap((c) => [c['lambda:SourceFunctionArn'] ?? []].flat());
    return sources.length === 0 || sources.some((arn) => JSON.stringify(arn).includes(`"${functionId}"`));
  };
  return [...inline, ...attached].filter(forThisFunction);
}
