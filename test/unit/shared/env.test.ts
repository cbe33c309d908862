import { EnvKey } from '../../../lambdas/core/config/env-keys';
import { loadEnv, MissingEnvironmentError } from '../../../lambdas/shared/env';

describe('loadEnv', () => {
  it('reads the declared variables and defaults the time zone to UTC', () => {
    const env = loadEnv({
      [EnvKey.profilesTable]: 'profiles',
      [EnvKey.publicUrl]: 'https://api.example.com/prod',
      [EnvKey.campaignControlGroupPercent]: '12.5',
    });
    expect(env.tables).toEqual({ profiles: 'profiles', journeys: undefined, runtime: undefined });
    expect(env.table('profiles')).toBe('profiles');
    expect(env.publicUrl).toBe('https://api.example.com/prod');
    expect(env.campaignControlGroupPercent).toBe(12.5);
    expect(env.defaultTimeZone).toBe('UTC');
    expect(env.senderEmail).toBeUndefined();
  });

  it('names the variable of an undeclared table when it is used', () => {
    const env = loadEnv({});
    expect(() => env.table('runtime')).toThrow(MissingEnvironmentError);
    expect(() => env.table('runtime')).toThrow(EnvKey.runtimeTable);
  });

  it.each([
    [EnvKey.profilesTable, '', 'must not be empty'],
    [EnvKey.senderEmail, '', 'must not be empty'],
    [EnvKey.publicUrl, 'not a url', 'must be a URL'],
    [EnvKey.defaultTimeZone, 'Mars/Olympus', 'an IANA time zone'],
    [EnvKey.campaignControlGroupPercent, '101', 'must be a number from 0 to 100'],
    [EnvKey.campaignControlGroupPercent, '-1', 'must be a number from 0 to 100'],
    [EnvKey.campaignControlGroupPercent, 'ten', 'must be a number from 0 to 100'],
    [EnvKey.campaignControlGroupPercent, '', 'must be a number from 0 to 100'],
  ])('fails the cold start naming %s when it is %j', (name, value, reason) => {
    expect(() => loadEnv({ [name]: value })).toThrow(`invalid environment: ${name}: ${reason}`);
  });

  it('names every invalid variable in one error', () => {
    expect(() => loadEnv({ [EnvKey.publicUrl]: 'x', [EnvKey.defaultTimeZone]: 'Nowhere' })).toThrow(
      `invalid environment: ${EnvKey.publicUrl}: must be a URL; ${EnvKey.defaultTimeZone}: an IANA time zone`,
    );
  });

  it('keeps a valid time zone and ignores variables it does not know', () => {
    const env = loadEnv({ [EnvKey.defaultTimeZone]: 'Europe/Paris', OTHER: '' });
    expect(env.defaultTimeZone).toBe('Europe/Paris');
  });
});
