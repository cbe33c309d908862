import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateJourney, type Journey } from '../../../lambdas/core/journey';

export const ROOT = join(__dirname, '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'journeys');
export const PLAYBOOKS = join(ROOT, 'statemachines');

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function journeyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** Parses a definition that must be valid, failing with its violations otherwise. */
export function mustValidate(input: unknown): Journey {
  const result = validateJourney(input);
  if (!result.ok) throw new Error(`expected a valid journey, got:\n${result.violations.map((v) => `${v.path}: ${v.message}`).join('\n')}`);
  return result.journey;
}

export const everyNodeKind = (): Journey => mustValidate(readJson(join(FIXTURES, 'every-node-kind.json')));

/** A small valid API-triggered journey (wait → condition → send or exit), fresh on every call so tests may mutate it. */
export function baseJourney(): Record<string, unknown> & { nodes: Record<string, unknown>[] } {
  return {
    schemaVersion: 1,
    id: 'base',
    name: 'Base',
    entry: { kind: 'api' },
    start: 'pause',
    nodes: [
      { id: 'pause', kind: 'wait', duration: '1h', next: 'is-vip' },
      { id: 'is-vip', kind: 'condition', branches: [{ when: { path: 'context.vip', op: 'eq', value: true }, next: 'hello' }], default: 'done' },
      { id: 'hello', kind: 'send', channel: 'email', template: { subject: 'Hi {{ profile.attributes.firstName }}', text: 'Hello' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  };
}
