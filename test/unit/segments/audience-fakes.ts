/**
 * Small in-memory fakes of the segmentation ports for the batch-audience and segments-API tests, each with the
 * semantics its port documents (conditional writes, idempotent members, pages that continue by cursor).
 */
import type { Profile } from '../../../lambdas/core/runtime/ports';
import type { SegmentCatalog } from '../../../lambdas/core/segments/cached-catalog';
import { SegmentEngine } from '../../../lambdas/core/segments/engine';
import type {
  AudienceJobs,
  AudienceScanInput,
  MembershipState,
  MembershipStore,
  Memberships,
  ProfileScanner,
  SegmentRecord,
  SegmentStore,
  SnapshotHeader,
  SnapshotStore,
} from '../../../lambdas/core/segments/ports';
import type { SegmentDefinition } from '../../../lambdas/core/segments/rule';

export function segment(id: string, rule: unknown, name = id): SegmentDefinition {
  return { schemaVersion: 1, id, name, rule: rule as SegmentDefinition['rule'] };
}

export function record(definition: SegmentDefinition, overrides: Partial<SegmentRecord> = {}): SegmentRecord {
  return { definition, origin: 'api', version: 1, updatedAt: '2026-06-01T00:00:00.000Z', ...overrides };
}

export function profile(id: string, attributes: Record<string, unknown> = {}, extra: Partial<Profile> = {}): Profile {
  return { id, attributes, identities: { email: `${id}@example.com` }, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', recentEvents: [], ...extra };
}

export class FakeSegmentStore implements SegmentStore {
  readonly records = new Map<string, SegmentRecord>();
  readonly writes: { op: 'put' | 'delete'; id: string }[] = [];
  constructor(initial: readonly SegmentRecord[] = []) {
    for (const r of initial) this.records.set(r.definition.id, structuredClone(r));
  }
  async list(): Promise<SegmentRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
  async get(id: string): Promise<SegmentRecord | undefined> {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }
  async put(r: SegmentRecord, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean> {
    const current = this.records.get(r.definition.id);
    if (!condition.force && (condition.expectedVersion === undefined ? current !== undefined : current?.version !== condition.expectedVersion)) return false;
    this.records.set(r.definition.id, structuredClone(r));
    this.writes.push({ op: 'put', id: r.definition.id });
    return true;
  }
  async delete(id: string): Promise<boolean> {
    const existed = this.records.delete(id);
    if (existed) this.writes.push({ op: 'delete', id });
    return existed;
  }
}

export class FakeMembershipStore implements MembershipStore {
  readonly states = new Map<string, MembershipState>();
  gets = 0;
  async get(profileId: string): Promise<MembershipState> {
    this.gets++;
    const s = this.states.get(profileId);
    return s ? { segments: { ...s.segments }, version: s.version } : { segments: {}, version: 0 };
  }
  async put(profileId: string, segments: Memberships, expectedVersion: number): Promise<boolean> {
    const version = this.states.get(profileId)?.version ?? 0;
    if (version !== expectedVersion) return false;
    this.states.set(profileId, { segments: { ...segments }, version: version + 1 });
    return true;
  }
  set(profileId: string, segments: Memberships): void {
    this.states.set(profileId, { segments: { ...segments }, version: (this.states.get(profileId)?.version ?? 0) + 1 });
  }
}

export class FakeSnapshotStore implements SnapshotStore {
  readonly headers = new Map<string, SnapshotHeader>();
  readonly memberSets = new Map<string, Set<string>>();
  addCalls = 0;
  async create(header: SnapshotHeader): Promise<void> {
    this.headers.set(header.id, { ...header });
  }
  async get(id: string): Promise<SnapshotHeader | undefined> {
    const h = this.headers.get(id);
    return h && { ...h };
  }
  async addMembers(id: string, profileIds: readonly string[]): Promise<void> {
    this.addCalls++;
    const set = this.memberSets.get(id) ?? new Set<string>();
    for (const p of profileIds) set.add(p);
    this.memberSets.set(id, set);
  }
  async members(id: string, page: { limit: number; cursor?: string }): Promise<{ profileIds: string[]; cursor?: string }> {
    const all = [...(this.memberSets.get(id) ?? [])].sort();
    const from = page.cursor === undefined ? 0 : all.findIndex((p) => p > page.cursor!);
    const start = from < 0 ? all.length : from;
    const profileIds = all.slice(start, start + page.limit);
    return start + page.limit < all.length ? { profileIds, cursor: profileIds[profileIds.length - 1] } : { profileIds };
  }
  async countMembers(id: string): Promise<number> {
    return this.memberSets.get(id)?.size ?? 0;
  }
  async complete(id: string, result: { count: number; scanned: number; completedAt: string }): Promise<void> {
    const h = this.headers.get(id);
    if (!h) throw new Error(`no snapshot ${id}`);
    this.headers.set(id, { ...h, status: 'complete', ...result });
  }
  async fail(id: string, error: string, at: string): Promise<void> {
    const h = this.headers.get(id);
    if (!h) throw new Error(`no snapshot ${id}`);
    this.headers.set(id, { ...h, status: 'failed', error, completedAt: at });
  }
  stored(id: string): string[] {
    return [...(this.memberSets.get(id) ?? [])].sort();
  }
}

/** A stable hash of the id: which parallel-scan segment a profile falls in (as DynamoDB hashes the key). */
function hash(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Profiles split into scan segments by hash of their id, read in id order, `limit` at a time. */
export class FakeProfileScanner implements ProfileScanner {
  readonly calls: { segment: number; totalSegments: number; cursor?: string; limit: number }[] = [];
  /** Makes the next scans throw (a table that is not there). */
  failWith?: Error;
  constructor(readonly profiles: Profile[]) {}
  inSegment(segment: number, totalSegments: number): Profile[] {
    return this.profiles.filter((p) => hash(p.id) % totalSegments === segment).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  async scan(page: { segment: number; totalSegments: number; cursor?: string; limit: number }): Promise<{ profiles: Profile[]; cursor?: string; itemsRead: number }> {
    this.calls.push({ ...page });
    if (this.failWith) throw this.failWith;
    const all = this.inSegment(page.segment, page.totalSegments);
    const start = page.cursor === undefined ? 0 : Number(page.cursor);
    const profiles = all.slice(start, start + page.limit).map((p) => structuredClone(p));
    const end = start + profiles.length;
    return { profiles, itemsRead: profiles.length, ...(end < all.length ? { cursor: String(end) } : {}) };
  }
}

export function catalogOf(store: { list(): Promise<SegmentRecord[]> }): SegmentCatalog {
  return { engine: async () => SegmentEngine.create((await store.list()).map((r) => r.definition)) };
}

export function fixedCatalog(definitions: SegmentDefinition[]): SegmentCatalog {
  const engine = SegmentEngine.create(definitions);
  return { engine: async () => engine };
}

export class FakeAudienceJobs implements AudienceJobs {
  readonly started: AudienceScanInput[] = [];
  failWith?: Error;
  async start(input: AudienceScanInput): Promise<{ executionArn: string }> {
    if (this.failWith) throw this.failWith;
    this.started.push(structuredClone(input));
    return { executionArn: `arn:aws:states:eu-west-1:123456789012:execution:audience-scan:${input.job.jobId}` };
  }
}
