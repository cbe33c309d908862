import { identityMentions, profileMentions } from '../../../lambdas/core/privacy/mentions';

describe('identityMentions: the identities a rejected event names', () => {
  it('reads every identities object and every email address anywhere, lowercased', () => {
    const raw = { detail: { identities: { email: ' Ann@Example.com ', crmId: 'C-1', bad: 42 }, properties: { note: 'cc bob@example.org', list: ['x', { deep: 'Cy@Example.net' }] } } };
    expect(identityMentions(raw).sort()).toEqual(['crmId:c-1', 'email:ann@example.com', 'email:bob@example.org', 'email:cy@example.net'].sort());
  });

  it.each([null, 'no address here', 42, [], { identities: 'not an object' }])('finds nothing in %p', (raw) => {
    expect(identityMentions(raw)).toEqual([]);
  });

  it('stays bounded on hostile input (many addresses, deep nesting)', () => {
    const many = { text: Array.from({ length: 1000 }, (_, i) => `u${i}@example.com`).join(' ') };
    expect(identityMentions(many)).toHaveLength(50);
    let deep: unknown = 'deep@example.com';
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(identityMentions(deep)).toEqual([]);
  });

  it('matches what the profile\'s own identities and attributes give', () => {
    const profile = { identities: { email: 'Ann@Example.com' }, identityValues: { email: ['Ann@Example.com', 'ann.old@example.com'], crmId: ['C-1'] }, attributes: { backupEmail: 'Ann2@example.com', n: 1 } };
    expect(profileMentions(profile).sort()).toEqual(['crmId:c-1', 'email:ann.old@example.com', 'email:ann2@example.com', 'email:ann@example.com'].sort());
  });
});
