import { InvalidCursorError } from '../runtime/errors';
import type { AudienceFiles, AudienceRow, CampaignRunRecord, CampaignRuns, RunCount } from './contract';

/**
 * In-memory campaign ports, for unit tests and simulations (the local stack uses the real adapters: DynamoDB on
 * dynalite, S3 on s3rver). Same semantics as the adapters: conditional create and compare-and-set updates.
 */

export function memoryCampaignRuns(): CampaignRuns & { records: Map<string, CampaignRunRecord> } {
  const records = new Map<string, CampaignRunRecord>();
  const counts = new Map<string, Map<string, RunCount>>();
  const facts = new Set<string>();
  const key = (campaignId: string, runId: string) => `${campaignId}\u0000${runId}`;
  const copy = (r: CampaignRunRecord): CampaignRunRecord => ({ ...r });
  const runs: CampaignRuns & { records: Map<string, CampaignRunRecord> } = {
    records,
    async create(record) {
      const k = key(record.campaignId, record.runId);
      if (records.has(k)) return false;
      records.set(k, copy(record));
      return true;
    },
    async get(campaignId, runId) {
      const r = records.get(key(campaignId, runId));
      return r && copy(r);
    },
    async list(campaignId, { limit, cursor }) {
      const all = [...records.values()]
        .filter((r) => r.campaignId === campaignId)
        .sort((a, b) => (a.createdAt === b.createdAt ? b.runId.localeCompare(a.runId) : b.createdAt.localeCompare(a.createdAt)));
      // As the DynamoDB adapter: a cursor no page returned is the caller's mistake, not the first page.
      if (cursor !== undefined && !/^[1-9]\d{0,8}$/.test(cursor)) throw new InvalidCursorError('campaign runs', cursor);
      const start = cursor === undefined ? 0 : Number(cursor);
      const page = all.slice(start, start + limit).map(copy);
      return start + limit < all.length ? { runs: page, cursor: String(start + limit) } : { runs: page };
    },
    async update(record, expectedVersion) {
      const k = key(record.campaignId, record.runId);
      const current = records.get(k);
      if (!current || current.version !== expectedVersion) return false;
      records.set(k, copy(record));
      return true;
    },
    async add(campaignId, runId, increments) {
      const k = key(campaignId, runId);
      const run = counts.get(k) ?? new Map<string, RunCount>();
      counts.set(k, run);
      for (const inc of increments) {
        const by = 'value' in inc ? inc.value : 1;
        const id = `${inc.step}\u0000${inc.name}\u0000${inc.dim}`;
        const current = run.get(id);
        run.set(id, { step: inc.step, name: inc.name, dim: inc.dim, value: (current?.value ?? 0) + by });
      }
    },
    async addOnce(campaignId, runId, fact, increments) {
      const k = `${key(campaignId, runId)}\u0000${fact}`;
      if (facts.has(k)) return false;
      facts.add(k);
      await runs.add(campaignId, runId, increments);
      return true;
    },
    async counts(campaignId, runId) {
      return [...(counts.get(key(campaignId, runId))?.values() ?? [])].map((c) => ({ ...c }));
    },
  };
  return runs;
}

export function memoryAudienceFiles(): AudienceFiles & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);
  return {
    objects,
    async writeRows(key, rows) {
      objects.set(key, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    },
    async *readRows(key) {
      const text = objects.get(key);
      if (text === undefined) throw Object.assign(new Error(`no object ${key}`), { name: 'NoSuchKey' });
      for (const line of lines(text)) yield JSON.parse(line) as AudienceRow;
    },
    async list(prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async compose(parts, key) {
      let text = '';
      // As S3: a part that is gone fails the compose (every page and batch writes its part, empty or not).
      for (const part of parts) {
        const body = objects.get(part);
        if (body === undefined) throw Object.assign(new Error(`no object ${part}`), { name: 'NoSuchKey' });
        text += body;
      }
      objects.set(key, text);
      return lines(text).length;
    },
  };
}
