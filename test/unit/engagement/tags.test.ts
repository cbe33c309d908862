import fc from 'fast-check';
import { decodeTagValue, encodeTagValue, executionNameOf, MAX_TAG_VALUE, sendTags, tagValue } from '../../../lambdas/core/engagement/tags';

describe('SES message tags', () => {
  it('escapes any text into the tag alphabet and back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const tag = encodeTagValue(text);
        expect(tag).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(decodeTagValue(tag)).toBe(text);
      }),
    );
  });

  it('leaves journey ids, versions and execution names as they are', () => {
    for (const value of ['cart-abandonment', '3f9a0c12b4de', 'cart-abandonment--0123456789abcdef0123456789ab']) expect(encodeTagValue(value)).toBe(value);
    expect(encodeTagValue('a_b:c')).toBe('a__b_003ac');
  });

  it('refuses tag text the escape cannot have produced', () => {
    for (const tag of ['a_', 'a_zz00', 'a b', 'a_12', 'a_ABCD']) expect(decodeTagValue(tag)).toBeUndefined();
  });

  it('tags a message with journey, version, node, variant (none without a split), execution, profile and class', () => {
    const tags = sendTags({
      journeyId: 'welcome',
      version: 'abc123',
      nodeId: 'welcome-email',
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:waymark-prod-welcome:welcome--0123456789abcdef0123456789ab',
      profileId: 'p-1',
      messageClass: 'marketing',
    });
    expect(Object.fromEntries(tags.map((t) => [t.Name, t.Value]))).toEqual({
      journey: 'welcome',
      version: 'abc123',
      node: 'welcome-email',
      variant: 'none',
      execution: 'welcome--0123456789abcdef0123456789ab',
      profile: 'p-1',
      class: 'marketing',
    });
  });

  it('leaves out a tag whose escaped value would pass 256 characters instead of failing the send', () => {
    const tags = sendTags({ journeyId: 'j', version: 'v', nodeId: 'n', variant: ':'.repeat(60), executionArn: 'x:e', profileId: 'p', messageClass: 'marketing' });
    expect(tags.map((t) => t.Name)).not.toContain('variant');
    expect(tags.every((t) => t.Value.length <= MAX_TAG_VALUE)).toBe(true);
  });

  it('reads the first value of a tag, decoded, and nothing for an absent or foreign one', () => {
    const tags = new Map([['variant', ['a__b']], ['node', ['bad value']]]);
    expect(tagValue(tags, 'variant')).toBe('a_b');
    expect(tagValue(tags, 'node')).toBeUndefined();
    expect(tagValue(tags, 'journey')).toBeUndefined();
    expect(executionNameOf('arn:aws:states:r:1:execution:m:name-1')).toBe('name-1');
  });
});
