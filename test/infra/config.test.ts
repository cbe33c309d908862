import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadStageConfig, NO_PUSH_APPLICATION, parseStageConfig, StageConfigError } from '../../lib/config';
import { JourneyCatalogError, loadJourneys } from '../../lib/journeys';
import { loadSegments, SegmentCatalogError } from '../../lib/segments';
import { segmentIdsOnDisk } from './waymark-app';

const configFrom = (context: Record<string, unknown>) => loadStageConfig(new App({ context }).node);

describe('stage configuration', () => {
  it('defaults to the dev stage, a placeholder sender and no push application', () => {
    expect(configFrom({})).toEqual({ stage: 'dev', senderEmail: 'no-reply@example.com', pushApplicationId: NO_PUSH_APPLICATION });
  });

  it('reads the waymark context object, overridden field by field by waymark:<field> keys', () => {
    const config = configFrom({
      waymark: { stage: 'staging', senderEmail: 'news@shop.example', alarmEmail: 'ops@shop.example' },
      'waymark:stage': 'prod',
      'waymark:pushApplicationId': 'abc123',
    });
    expect(config).toEqual({ stage: 'prod', senderEmail: 'news@shop.example', pushApplicationId: 'abc123', alarmEmail: 'ops@shop.example' });
  });

  it.each([
    [{ 'waymark:stage': 'Prod_1' }, /waymark\.stage: stage is lowercase.*\(received "Prod_1"\)/],
    [{ 'waymark:stage': 'a-very-long-stage-name' }, /waymark\.stage: stage is at most 16 characters/],
    [{ waymark: { senderEmail: 'not-an-address' } }, /waymark\.senderEmail: senderEmail must be an email address \(received "not-an-address"\)/],
    [{ 'waymark:alarmEmail': 'ops' }, /waymark\.alarmEmail: alarmEmail must be an email address/],
    [{ waymark: { stag: 'prod' } }, /Unrecognized key.*stag/],
  ])('fails with a message naming the field for %j', (context, message) => {
    expect(() => configFrom(context)).toThrow(StageConfigError);
    expect(() => configFrom(context)).toThrow(message);
  });

  it('refuses a waymark context that is not an object', () => {
    expect(() => configFrom({ waymark: 'prod' })).toThrow(/context "waymark" must be an object/);
  });

  it('parses a plain object the same way', () => {
    expect(parseStageConfig({ stage: 'qa' }).stage).toBe('qa');
  });
});

describe('journey catalog', () => {
  it('compiles every journey under statemachines/', () => {
    expect(loadJourneys().length).toBeGreaterThan(0);
  });

  it('fails synth with every problem, file by file, when a journey does not validate', () => {
    const fixtures = path.join(__dirname, '..', 'fixtures', 'journeys');
    expect(() => loadJourneys(fixtures)).toThrow(JourneyCatalogError);
    expect(() => loadJourneys(fixtures)).toThrow(/invalid-graph\.json/);
  });
});

describe('segment files', () => {
  const segment = (id: string, rule: unknown) => JSON.stringify({ schemaVersion: 1, id, name: id, description: `the ${id} segment`, rule });
  const gold = { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'waymark-segments-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every segment under segments/', () => {
    expect(segmentIdsOnDisk().length).toBeGreaterThan(0);
    expect(loadSegments().map((s) => s.id).sort()).toEqual(segmentIdsOnDisk());
  });

  it('returns the segments in evaluation order: a referenced segment before the ones referencing it', () => {
    writeFileSync(path.join(dir, 'a-vip.json'), segment('vip', { kind: 'segment', id: 'gold' }));
    writeFileSync(path.join(dir, 'b-gold.json'), segment('gold', gold));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a segment');
    expect(loadSegments(dir).map((s) => s.id)).toEqual(['gold', 'vip']);
  });

  it('fails synth with every problem, naming the file, when segments do not validate', () => {
    writeFileSync(path.join(dir, 'broken.json'), '{ not json');
    writeFileSync(path.join(dir, 'dangling.json'), segment('dangling', { kind: 'segment', id: 'nowhere' }));
    writeFileSync(path.join(dir, 'gold.json'), segment('gold', gold));
    writeFileSync(path.join(dir, 'gold-again.json'), segment('gold', gold));
    let error: unknown;
    try {
      loadSegments(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SegmentCatalogError);
    const message = (error as Error).message;
    expect(message).toMatch(/broken\.json: not valid JSON/);
    expect(message).toMatch(/gold\.json: id: segment id "gold" is also used by .*gold-again\.json/);
    expect(message).toMatch(/dangling\.json: segment "dangling": rule references unknown segment "nowhere"/);
  });

  it('treats a missing folder as no segments', () => {
    expect(loadSegments(path.join(dir, 'missing'))).toEqual([]);
  });
});
