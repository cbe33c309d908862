import { compileJourney, validateJourney, type Journey } from '../../../lambdas/core/journey';

function journey(messageClass: 'marketing' | 'transactional'): Journey {
  const result = validateJourney({
    schemaVersion: 1,
    id: 'offers',
    name: 'Offers',
    entry: { kind: 'api' },
    settings: { messageClass },
    start: 'offer-email',
    nodes: [
      { id: 'offer-email', kind: 'send', channel: 'email', list: 'news', template: { subject: 'Offer', text: 'Hi {{ unsubscribeUrl }}' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.journey;
}

const simple = (messageClass: 'marketing' | 'transactional') =>
  (compileJourney(journey(messageClass)).States['offer-email.deliver'].Parameters as { Content: { Simple: Record<string, unknown> } }).Content.Simple;

describe('email delivery headers', () => {
  it('gives marketing email the unsubscribe headers prepare-send made', () => {
    expect(simple('marketing')['Headers.$']).toBe('$.steps.offer_email.message.headers');
  });

  it('gives transactional email none', () => {
    expect(Object.keys(simple('transactional'))).toEqual(['Subject', 'Body']);
  });

  it('accepts a send node naming a list and a template using unsubscribeUrl', () => {
    expect(journey('marketing').nodes[0]).toMatchObject({ list: 'news' });
  });
});
