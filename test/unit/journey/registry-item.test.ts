import { executionArnOf, fromJourneyItem, journeyItem, startArn, unqualifiedStateMachineArn } from '../../../lambdas/core/journey/registry-item';
import { journeyRecord } from '../runtime/fakes';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-prod-welcome';

describe('journey registry items and versions', () => {
  it('round-trips the live alias, the version it points at and when it was published', () => {
    const record = { ...journeyRecord({ id: 'welcome' }), live: { number: '4', arn: `${MACHINE}:4`, publishedAt: '2026-12-01T09:00:00.000Z' } };
    const item = journeyItem(record);
    expect(item).toMatchObject({ aliasArn: record.aliasArn, liveVersion: '4', liveVersionArn: `${MACHINE}:4`, publishedAt: '2026-12-01T09:00:00.000Z' });
    expect(fromJourneyItem(item)).toEqual(record);
  });

  it('reads an item written before versions as a journey that starts on its state machine', () => {
    const { aliasArn: _a, live: _l, ...legacy } = journeyRecord({ id: 'welcome' });
    const read = fromJourneyItem(journeyItem(legacy));
    expect(read).toEqual(legacy);
    expect(startArn(read)).toBe(legacy.stateMachineArn);
  });

  it('ignores version fields that are not strings (a hand-edited item), rather than starting runs on them', () => {
    const item = { ...journeyItem(journeyRecord({ id: 'welcome' })), aliasArn: 42, liveVersion: { S: '1' } };
    const read = fromJourneyItem(item);
    expect(read.aliasArn).toBeUndefined();
    expect(read.live).toBeUndefined();
  });

  it.each([
    [MACHINE, MACHINE],
    [`${MACHINE}:live`, MACHINE],
    [`${MACHINE}:12`, MACHINE],
  ])('names the state machine of %s as %s, and its runs under it', (arn, machine) => {
    expect(unqualifiedStateMachineArn(arn)).toBe(machine);
    expect(executionArnOf(arn, 'welcome--abc')).toBe('arn:aws:states:eu-west-1:123456789012:execution:waymark-prod-welcome:welcome--abc');
  });
});

describe('reading a registry item', () => {
  const item = () => journeyItem(journeyRecord({ id: 'welcome' }));
  const withDefinition = (definition: unknown) => ({ ...item(), definition: JSON.stringify(definition) });
  const stored = () => JSON.parse(item().definition as string) as Record<string, unknown>;

  it.each([
    ['the definition is not JSON', { ...item(), definition: '{' }, 'definition is not JSON'],
    ['the definition is missing', { ...item(), definition: undefined }, 'definition is not a string'],
    ['the definition is a list', withDefinition([]), '(root) is not an object'],
    ['the schema version is another', withDefinition({ ...stored(), schemaVersion: 2 }), 'schemaVersion is not 1'],
    ['the id is missing', withDefinition({ ...stored(), id: undefined }), 'id is not a string'],
    ['the entry has no kind', withDefinition({ ...stored(), entry: {} }), 'entry.kind is not a string'],
    ['the nodes are empty', withDefinition({ ...stored(), nodes: [] }), 'nodes is not a non-empty list'],
    ['a node has no kind', withDefinition({ ...stored(), nodes: [{ id: 'a' }] }), 'nodes[0] is not a node with an id and a kind'],
  ])('fails naming the item and the field when %s', (_case, bad, message) => {
    expect(() => fromJourneyItem(bad)).toThrow(`journey item JOURNEY#welcome holds an invalid definition: ${message}`);
  });
});
