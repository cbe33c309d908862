import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadStageConfig, NO_PUSH_APPLICATION, NO_SMS_ORIGINATION, parseStageConfig, requirePushApplication, requireSmsOrigination, StageConfigError } from '../../lib/config';
import { JourneyCatalogError, loadJourneys } from '../../lib/journeys';
import { loadSegments, SegmentCatalogError } from '../../lib/segments';
import { segmentIdsOnDisk, testApp, waymarkStacks } from './waymark-app';

const configFrom = (context: Record<string, unknown>) => loadStageConfig(new App({ context }).node);

describe('stage configuration', () => {
  it('defaults to the dev stage, a placeholder sender, no push application and no SMS origination identity', () => {
    expect(configFrom({})).toEqual({
      stage: 'dev',
      senderEmail: 'no-reply@example.com',
      pushApplicationId: NO_PUSH_APPLICATION,
      smsOriginationIdentity: NO_SMS_ORIGINATION,
      defaultTimezone: 'UTC',
    });
  });

  it('reads the waymark context object, overridden field by field by waymark:<field> keys', () => {
    const config = configFrom({
      waymark: { stage: 'staging', senderEmail: 'news@mail.shop.com', alarmEmail: 'ops@shop.example' },
      'waymark:stage': 'prod',
      'waymark:pushApplicationId': 'abc123',
    });
    expect(config).toEqual({
      stage: 'prod',
      senderEmail: 'news@mail.shop.com',
      pushApplicationId: 'abc123',
      smsOriginationIdentity: NO_SMS_ORIGINATION,
      alarmEmail: 'ops@shop.example',
      defaultTimezone: 'UTC',
    });
  });

  it('takes the default time zone of profiles without one as an IANA name', () => {
    expect(configFrom({ 'waymark:defaultTimezone': 'Pacific/Tongatapu' }).defaultTimezone).toBe('Pacific/Tongatapu');
  });

  it('takes the campaign control group as a percent, absent unless given', () => {
    expect(configFrom({}).campaignControlGroupPercent).toBeUndefined();
    expect(configFrom({ 'waymark:campaignControlGroupPercent': '2.5' }).campaignControlGroupPercent).toBe(2.5);
    expect(() => configFrom({ 'waymark:campaignControlGroupPercent': 'five' })).toThrow(/campaignControlGroupPercent must be a number/);
    expect(() => configFrom({ 'waymark:campaignControlGroupPercent': 101 })).toThrow(/campaignControlGroupPercent is at most 100/);
  });

  it('traces AWS calls only when the stage says so, as a boolean or as -c gives it ("true"/"false")', () => {
    expect(configFrom({}).traceAwsCalls).toBeUndefined();
    expect(configFrom({ waymark: { traceAwsCalls: true } }).traceAwsCalls).toBe(true);
    expect(configFrom({ 'waymark:traceAwsCalls': 'true' }).traceAwsCalls).toBe(true);
    expect(configFrom({ waymark: { traceAwsCalls: true }, 'waymark:traceAwsCalls': 'false' }).traceAwsCalls).toBe(false);
  });

  it.each([
    [{ 'waymark:traceAwsCalls': 'yes' }, /waymark\.traceAwsCalls: traceAwsCalls must be true or false \(received "yes"\)/],
    [{ waymark: { traceAwsCalls: 1 } }, /waymark\.traceAwsCalls: traceAwsCalls must be true or false \(received 1\)/],
    [{ 'waymark:stage': 'Prod_1' }, /waymark\.stage: stage is lowercase.*\(received "Prod_1"\)/],
    [{ 'waymark:stage': 'a-very-long-stage-name' }, /waymark\.stage: stage is at most 16 characters/],
    [{ waymark: { senderEmail: 'not-an-address' } }, /waymark\.senderEmail: senderEmail must be an email address \(received "not-an-address"\)/],
    [{ 'waymark:alarmEmail': 'ops' }, /waymark\.alarmEmail: alarmEmail must be an email address/],
    [{ 'waymark:defaultTimezone': 'CEST' }, /waymark\.defaultTimezone: defaultTimezone must be an IANA time zone name.*\(received "CEST"\)/],
    [{ waymark: { stag: 'prod' } }, /Unrecognized key.*stag/],
    [{ 'waymark:smsOriginationIdentity': '+1 206 555 0100' }, /waymark\.smsOriginationIdentity: smsOriginationIdentity is a phone number/],
    [{ 'waymark:smsOriginationIdentity': 'p'.repeat(257) }, /waymark\.smsOriginationIdentity: smsOriginationIdentity is at most 256 characters/],
  ])('fails with a message naming the field for %j', (context, message) => {
    expect(() => configFrom(context)).toThrow(StageConfigError);
    expect(() => configFrom(context)).toThrow(message);
  });

  describe('on a stage other than dev', () => {
    it.each(['no-reply@example.com', 'news@mail.example.org', 'news@shop.example', 'ops@host.test', 'a@b.invalid', 'a@localhost.localhost'])(
      'refuses the placeholder sender %s, naming waymark.senderEmail',
      (senderEmail) => {
        const context = { waymark: { stage: 'prod', senderEmail } };
        expect(() => configFrom(context)).toThrow(StageConfigError);
        expect(() => configFrom(context)).toThrow(/waymark\.senderEmail: .*stage "prod" sends real email/);
      },
    );

    it('refuses the default sender when only the stage is given', () => {
      expect(() => configFrom({ 'waymark:stage': 'prod' })).toThrow(/waymark\.senderEmail: .* \(not set: the default applies\)/);
    });

    it('accepts a real sender address', () => {
      expect(configFrom({ waymark: { stage: 'prod', senderEmail: 'news@mail.shop.com' } }).senderEmail).toBe('news@mail.shop.com');
    });
  });

  describe('push application', () => {
    const pushJourney = loadJourneys().find((j) => j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'push'))!;
    const emailOnly = loadJourneys().filter((j) => !j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'push'));

    it('refuses, on a stage other than dev, a journey with a push step and no push application, naming the setting and the journey', () => {
      expect(pushJourney).toBeDefined();
      const check = () => requirePushApplication({ stage: 'prod', pushApplicationId: NO_PUSH_APPLICATION }, [pushJourney]);
      expect(check).toThrow(StageConfigError);
      expect(check).toThrow(new RegExp(`waymark\\.pushApplicationId: .*journey "${pushJourney.journey.id}"`));
    });

    it('accepts a push step with a push application, push steps on dev, and no push step without one', () => {
      expect(() => requirePushApplication({ stage: 'prod', pushApplicationId: 'a1b2c3' }, [pushJourney])).not.toThrow();
      expect(() => requirePushApplication({ stage: 'dev', pushApplicationId: NO_PUSH_APPLICATION }, [pushJourney])).not.toThrow();
      expect(() => requirePushApplication({ stage: 'prod', pushApplicationId: NO_PUSH_APPLICATION }, emailOnly)).not.toThrow();
    });

    it('fails synth of the app stack the same way', () => {
      expect(() => waymarkStacks(testApp(), { stage: 'prod', pushApplicationId: undefined, journeys: [pushJourney] })).toThrow(/waymark\.pushApplicationId/);
    });
  });

  describe('SMS origination identity', () => {
    const smsJourney = loadJourneys().find((j) => j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'sms'))!;
    const withoutSms = loadJourneys().filter((j) => !j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'sms'));

    it.each(['+12065550100', 'phone-0123456789abcdef', 'pool-0123456789abcdef', 'MySender', 'arn:aws:sms-voice:eu-west-1:111122223333:pool/pool-1'])(
      'takes %s',
      (identity) => {
        expect(configFrom({ 'waymark:smsOriginationIdentity': identity }).smsOriginationIdentity).toBe(identity);
      },
    );

    it('refuses, on a stage other than dev, a journey with an SMS step and no origination identity, naming the setting and the journey', () => {
      expect(smsJourney).toBeDefined();
      const check = () => requireSmsOrigination({ stage: 'prod', smsOriginationIdentity: NO_SMS_ORIGINATION }, [smsJourney]);
      expect(check).toThrow(StageConfigError);
      expect(check).toThrow(new RegExp(`waymark\\.smsOriginationIdentity: .*journey "${smsJourney.journey.id}"`));
      expect(() => requireSmsOrigination({ stage: 'dev', smsOriginationIdentity: NO_SMS_ORIGINATION }, [smsJourney])).not.toThrow();
      expect(() => requireSmsOrigination({ stage: 'prod', smsOriginationIdentity: NO_SMS_ORIGINATION }, withoutSms)).not.toThrow();
    });

    it('fails synth of the app stack the same way', () => {
      expect(() => waymarkStacks(testApp(), { stage: 'prod', smsOriginationIdentity: undefined, journeys: [smsJourney] })).toThrow(/waymark\.smsOriginationIdentity/);
    });
  });

  it('refuses a waymark context that is not an object', () => {
    expect(() => configFrom({ waymark: 'prod' })).toThrow(/context "waymark" must be an object/);
  });

  it('parses a plain object the same way', () => {
    expect(parseStageConfig({ stage: 'qa', senderEmail: 'qa@mail.shop.com' }).stage).toBe('qa');
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
