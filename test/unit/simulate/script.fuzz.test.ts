import fc from 'fast-check';
import { parseProfiles, parseScript, ScriptError } from '../../../lambdas/simulate/script';

/** Names every plain object answers to: keys an attacker picks first. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];
const key = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, 'at', 'type', 'identities', 'properties', 'setAttributes', 'setConsent', 'trigger', 'profile', 'email'), fc.string({ maxLength: 8 }));
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('+0s', '+90m', '2026-12-01T10:00:00Z', 'yesterday', 'opted-out', 'cart.updated', null, true, 1e309, -1),
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(key, tie('json'), { maxKeys: 5 }),
  ),
})).json;
/** Text: valid JSON of any shape (often an array of entry-like objects), or text that is not JSON at all. */
const text = fc.oneof(
  fc.array(fc.dictionary(key, value, { maxKeys: 6 }), { maxLength: 6 }).map((v) => JSON.stringify(v, null, 1)),
  value.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 40 }),
);

describe('the simulation script and profiles readers under generated input', () => {
  it('either read the file or refuse it with a ScriptError naming a line; nothing else escapes, no global changes', () => {
    const keys = Object.keys;
    fc.assert(
      fc.property(text, (input) => {
        for (const read of [() => parseScript(input, { file: 'events.json' }), () => parseProfiles(input, { file: 'profiles.json' })]) {
          try {
            read();
          } catch (error) {
            if (!(error instanceof ScriptError)) throw error;
            expect(error.message).toMatch(/\.json(:\d+)?/);
          }
        }
        expect(Object.keys).toBe(keys);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: 20261203, numRuns: 400 },
    );
  });
});
