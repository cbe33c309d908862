import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadStageConfig, NO_PUSH_APPLICATION, parseStageConfig, StageConfigError } from '../../lib/config';
import { JourneyCatalogError, loadJourneys } from '../../lib/journeys';

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
