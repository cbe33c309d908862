import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { campaignItem, fromCampaignItem } from '../../../lambdas/core/campaigns/contract';
import { deployedCampaignShape } from '../../../lambdas/core/campaigns/deployed-shape';
import { parseCampaignDefinition } from '../../../lambdas/core/campaigns/stored';

const winBack = parseCampaignDefinition(JSON.parse(readFileSync(join(__dirname, '../../../campaigns/win-back.json'), 'utf8')));
const item = (definition: unknown) => ({ ...campaignItem({ campaign: winBack, stateMachineArn: 'arn:sm', version: 'v1' }), definition: JSON.stringify(definition) });

describe('stored campaign definitions', () => {
  it('reads a deployed item the same way with the schema and with the router\'s shape check', () => {
    const full = fromCampaignItem(item(winBack), parseCampaignDefinition);
    const shaped = fromCampaignItem(item(winBack), deployedCampaignShape);
    expect(shaped).toEqual(full);
    expect(shaped.campaign.goal?.event).toBe('order.placed');
  });

  it.each([
    ['a list', [], 'expected an object'],
    ['no id', { steps: {} }, 'id: expected a string'],
    ['steps as a list', { id: 'x', steps: [] }, 'steps: expected an object of steps'],
    ['a step that is not an object', { id: 'x', steps: { start: 'deliver' } }, 'steps: expected an object of steps'],
    ['a goal without its window', { id: 'x', steps: {}, goal: { event: 'order.placed' } }, 'goal: expected {event, within}'],
  ])('the router refuses %s, naming the item and the field', (_name, definition, message) => {
    expect(() => fromCampaignItem(item(definition), deployedCampaignShape)).toThrow(`campaign item CAMPAIGN#win-back holds an invalid definition: ${message}`);
  });

  it('the handlers refuse a definition the schema does not accept', () => {
    expect(() => fromCampaignItem(item({ id: 'x', steps: {} }), parseCampaignDefinition)).toThrow(/CAMPAIGN#win-back holds an invalid definition/);
  });
});
