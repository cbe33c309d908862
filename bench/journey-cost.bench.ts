import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCatalog } from '../lambdas/core/journey/catalog';
import { estimateCost } from '../lambdas/core/journey/cost';
import type { Benchmark, Figure } from './types';

export const journeyCost: Benchmark = {
  name: 'journey-cost',
  async run() {
    const dir = join(__dirname, '..', 'statemachines');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ path: f, text: readFileSync(join(dir, f), 'utf8') }));
    const figures: Figure[] = [];
    for (const { journey, asl } of buildCatalog(files).journeys) {
      const cost = estimateCost(asl, 1_000_000);
      figures.push({ name: `journey-cost/${journey.id}/transitions-per-entry`, value: cost.transitionsPerEntry, unit: 'transitions', note: 'longest path' });
      figures.push({ name: `journey-cost/${journey.id}/usd-per-million-entries`, value: Number(cost.usd.toFixed(2)), unit: 'USD', note: '$0.025 per 1,000 transitions, longest path' });
    }
    return figures;
  },
};
