import { buildCatalog } from '../../lambdas/core/journey/catalog';

/** An API-triggered push journey: Pinpoint answers each address's DeliveryStatus at once (delivery tests use it). */
export const nudge = buildCatalog([
  {
    path: 'nudge.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'nudge',
      name: 'Nudge',
      entry: { kind: 'api' },
      settings: { reentry: 'always' },
      start: 'nudge-push',
      nodes: [
        { id: 'nudge-push', kind: 'send', channel: 'push', template: { title: 'Hi', body: 'Come back' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;
