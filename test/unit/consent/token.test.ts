import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  signUnsubscribeToken,
  UNSUBSCRIBE_DEFAULT_KEY_ID,
  UnsubscribeTokenError,
  verifyUnsubscribeToken,
  type UnsubscribeClaims,
} from '../../../lambdas/core/consent/token';

const SECRET = 'a-test-secret-of-enough-length';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const claims: UnsubscribeClaims = { profileId: 'p-0123456789abcdef01234567', scope: 'email', expiresAt: new Date('2026-05-30T12:00:00.000Z') };

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UnsubscribeTokenError) return error.problem;
    throw error;
  }
  return 'accepted';
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('unsubscribe tokens', () => {
  it('verifies a token it signed and returns its profile, scope and expiry', () => {
    const token = signUnsubscribeToken(claims, SECRET);
    expect(verifyUnsubscribeToken(token, SECRET, NOW)).toEqual(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('carries a list scope', () => {
    const token = signUnsubscribeToken({ ...claims, scope: 'list:news' }, SECRET);
    expect(verifyUnsubscribeToken(token, SECRET, NOW).scope).toBe('list:news');
  });

  it('accepts a token until its expiry and refuses it from then on', () => {
    const token = signUnsubscribeToken(claims, SECRET);
    expect(problemOf(() => verifyUnsubscribeToken(token, SECRET, new Date(claims.expiresAt.getTime() - 1000)))).toBe('accepted');
    expect(problemOf(() => verifyUnsubscribeToken(token, SECRET, claims.expiresAt))).toBe('expired');
    expect(problemOf(() => verifyUnsubscribeToken(token, SECRET, new Date('2027-01-01T00:00:00Z')))).toBe('expired');
  });

  it('refuses a token signed with another secret', () => {
    expect(problemOf(() => verifyUnsubscribeToken(signUnsubscribeToken(claims, 'another-secret-of-enough-length'), SECRET, NOW))).toBe('signature');
  });

  it.each([
    ['empty', ''],
    ['no signature', 'eyJ2IjoxfQ'],
    ['three parts', 'a.b.c'],
    ['characters outside base64url', 'eyJ2IjoxfQ.ab+c/d=='],
    ['over 1 KB', `${'a'.repeat(1100)}.b`],
  ])('refuses a malformed token (%s)', (_name, token) => {
    expect(problemOf(() => verifyUnsubscribeToken(token, SECRET, NOW))).toBe('malformed');
  });

  it('refuses a correctly signed payload that is not an unsubscribe request', () => {
    const sign = (payload: object) => {
      const text = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${text}.${createHmac('sha256', SECRET).update(`waymark-unsubscribe.v1.${text}`).digest('base64url')}`;
    };
    expect(problemOf(() => verifyUnsubscribeToken(sign({ v: 1, p: 'p-1', s: 'sms-and-everything', e: 1893456000 }), SECRET, NOW))).toBe('malformed');
    expect(problemOf(() => verifyUnsubscribeToken(sign({ v: 2, p: 'p-1', s: 'email', e: 1893456000 }), SECRET, NOW))).toBe('malformed');
    expect(problemOf(() => verifyUnsubscribeToken(sign({ v: 1, p: 'p-1', s: 'email', e: 1893456000 }), SECRET, NOW))).toBe('accepted');
  });

  it('refuses to sign or verify with a short secret', () => {
    expect(() => signUnsubscribeToken(claims, 'short')).toThrow(/at least 16/);
  });

  const anyClaims = fc.record({
    profileId: fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/),
    scope: fc.oneof(fc.constant('email' as const), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).map((id) => `list:${id}` as const)),
    expiresAt: fc.date({ min: new Date('2026-03-02T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000)),
  });

  it('rejects any change of one character, in the payload or the signature', () => {
    fc.assert(
      fc.property(anyClaims, fc.nat(), fc.constantFrom(...`${BASE64URL}.`), (c, at, replacement) => {
        const token = signUnsubscribeToken(c, SECRET);
        const i = at % token.length;
        fc.pre(token[i] !== replacement);
        const tampered = token.slice(0, i) + replacement + token.slice(i + 1);
        expect(problemOf(() => verifyUnsubscribeToken(tampered, SECRET, NOW))).not.toBe('accepted');
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a token cut short or extended', () => {
    fc.assert(
      fc.property(anyClaims, fc.integer({ min: 1, max: 200 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,4}$/), (c, cut, extra) => {
        const token = signUnsubscribeToken(c, SECRET);
        expect(problemOf(() => verifyUnsubscribeToken(token.slice(0, Math.max(0, token.length - cut)), SECRET, NOW))).not.toBe('accepted');
        expect(problemOf(() => verifyUnsubscribeToken(token + extra, SECRET, NOW))).not.toBe('accepted');
      }),
    );
  });

  it('rejects a payload swapped in from another valid token', () => {
    fc.assert(
      fc.property(anyClaims, anyClaims, (a, b) => {
        const [payloadA] = signUnsubscribeToken(a, SECRET).split('.');
        const [payloadB, signatureB] = signUnsubscribeToken(b, SECRET).split('.');
        fc.pre(payloadA !== payloadB);
        expect(problemOf(() => verifyUnsubscribeToken(`${payloadA}.${signatureB}`, SECRET, NOW))).toBe('signature');
      }),
    );
  });

  describe('key ids and rotation', () => {
    const key = (id: string) => ({ id, secret: `secret-of-key-${id}-long-enough` });
    const ring = (current: string, ...previous: string[]) => JSON.stringify({ current: key(current), previous: previous.map(key) });
    const keyIdOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).k;

    it('names the key it signed with in the token', () => {
      expect(keyIdOf(signUnsubscribeToken(claims, ring('2026-12')))).toBe('2026-12');
    });

    it('accepts a token signed with the previous key after a rotation, and refuses it once that key is retired', () => {
      const token = signUnsubscribeToken(claims, ring('k1'));
      expect(verifyUnsubscribeToken(token, ring('k2', 'k1'), NOW)).toEqual(claims);
      expect(problemOf(() => verifyUnsubscribeToken(token, ring('k3', 'k2'), NOW))).toBe('signature');
    });

    it('refuses a token that names one key but was signed with another of the ring', () => {
      const signedWithK1 = signUnsubscribeToken(claims, ring('k1'));
      const [payload, signature] = signedWithK1.split('.');
      const claimsK2 = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const relabelled = `${Buffer.from(JSON.stringify({ ...claimsK2, k: 'k2' })).toString('base64url')}.${signature}`;
      expect(problemOf(() => verifyUnsubscribeToken(relabelled, ring('k2', 'k1'), NOW))).toBe('signature');
    });

    it.each([
      ['an unknown field', { v: 2, k: 'k1', p: 'p-1', s: 'email', e: 1893456000, x: 1 }],
      ['no key id', { v: 2, p: 'p-1', s: 'email', e: 1893456000, k: undefined }],
      ['an unknown scope', { v: 2, k: 'k1', p: 'p-1', s: 'sms', e: 1893456000 }],
      ['a fractional expiry', { v: 2, k: 'k1', p: 'p-1', s: 'email', e: 1893456000.5 }],
      ['an empty profile id', { v: 2, k: 'k1', p: '', s: 'email', e: 1893456000 }],
      ['another version', { v: 3, k: 'k1', p: 'p-1', s: 'email', e: 1893456000 }],
    ])('refuses a signed payload with %s as malformed', (_name, body) => {
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      const signature = createHmac('sha256', key('k1').secret).update(`waymark-unsubscribe.v1.${payload}`).digest('base64url');
      expect(problemOf(() => verifyUnsubscribeToken(`${payload}.${signature}`, ring('k1'), NOW))).toBe('malformed');
    });

    it.each(['constructor', '__proto__', 'toString', 'unknown'])('refuses a token naming key id %s that the ring does not hold', (id) => {
      const payload = Buffer.from(JSON.stringify({ v: 2, k: id, p: 'p-1', s: 'email', e: 1893456000 })).toString('base64url');
      expect(problemOf(() => verifyUnsubscribeToken(`${payload}.AAAA`, ring('k1'), NOW))).toBe('signature');
    });

    it('accepts a token made before key ids with any key of the ring (they expire within 90 days)', () => {
      const legacy = (secret: string) => {
        const text = Buffer.from(JSON.stringify({ v: 1, p: claims.profileId, s: 'email', e: claims.expiresAt.getTime() / 1000 })).toString('base64url');
        return `${text}.${createHmac('sha256', secret).update(`waymark-unsubscribe.v1.${text}`).digest('base64url')}`;
      };
      expect(verifyUnsubscribeToken(legacy(key('k1').secret), ring('k2', 'k1'), NOW)).toEqual(claims);
      expect(verifyUnsubscribeToken(legacy(SECRET), SECRET, NOW)).toEqual(claims);
    });

    it('treats a plain secret as a ring of one key', () => {
      expect(keyIdOf(signUnsubscribeToken(claims, SECRET))).toBe(UNSUBSCRIBE_DEFAULT_KEY_ID);
    });

    it.each([
      ['not JSON', '{current', 'the unsubscribe key ring is not JSON'],
      ['no current key', JSON.stringify({ previous: [] }), 'current'],
      ['a short key', JSON.stringify({ current: { id: 'k1', secret: 'short' } }), 'current.secret'],
      ['a bad key id', JSON.stringify({ current: { id: 'k 1', secret: 'long-enough-secret-value' } }), 'current.id'],
      ['an unknown field', JSON.stringify({ current: key('k1'), next: key('k2') }), 'next: unknown field'],
      ['an unknown field in a key', JSON.stringify({ current: { ...key('k1'), note: 'x' } }), 'current.note: unknown field'],
      ['previous keys that are not a list', JSON.stringify({ current: key('k1'), previous: key('k0') }), 'previous'],
      ['six previous keys', JSON.stringify({ current: key('k1'), previous: ['a', 'b', 'c', 'd', 'e', 'f'].map(key) }), 'previous'],
      ['a short previous key', JSON.stringify({ current: key('k1'), previous: [{ id: 'k0', secret: 'short' }] }), 'previous.0.secret'],
    ])('refuses a key ring with %s, naming the field', (_name, raw, field) => {
      expect(() => signUnsubscribeToken(claims, raw)).toThrow(field);
    });
  });
});
