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
