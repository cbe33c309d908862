import { basename } from 'node:path';
import fc from 'fast-check';
import { checkTemplate, renderTemplate, TemplateRenderError, type TemplateScope } from '../../../lambdas/core/templates/liquid';
import { isSafeUrl, scanHtml } from '../../../lambdas/core/templates/html';
import { journeyFiles, mustValidate, PLAYBOOKS, readJson } from '../journey/fixtures';

const HOSTILE = '<img src=x onerror=alert(2)>"\'\r\nBcc: x@example.com javascript:alert(1)';

/** A scope where every path a template reads (`event.properties.x`, `steps.a.b.c`, …) holds the hostile string. */
function hostileScope(templates: string[]): TemplateScope {
  const scope: Record<string, unknown> = { profile: { id: 'p-1', attributes: {}, identities: {} }, event: {}, context: {}, steps: {}, journey: { id: 'j' } };
  for (const text of templates) {
    for (const [path] of text.matchAll(/\b(profile|event|context|steps)(\.[A-Za-z_][\w-]*)+/g)) {
      const names = path.split('.');
      let at = scope as Record<string, unknown>;
      names.slice(0, -1).forEach((name) => {
        if (typeof at[name] !== 'object' || at[name] === null) at[name] = {};
        at = at[name] as Record<string, unknown>;
      });
      at[names[names.length - 1]] = HOSTILE;
    }
  }
  return { ...(scope as unknown as TemplateScope), unsubscribeUrl: 'https://x.example/u?t=1&l=email' };
}

describe('the shipped journeys’ templates', () => {
  const sends = journeyFiles(PLAYBOOKS).flatMap((file) =>
    mustValidate(readJson(file)).nodes.flatMap((node) => (node.kind === 'send' ? [[`${basename(file)} ${node.id}`, node.template as Record<string, string>] as const] : [])),
  );

  it.each(sends)('%s renders hostile data as text: escaped html, one-line subject, no script link', (_name, template) => {
    const scope = hostileScope(Object.values(template));
    for (const [field, text] of Object.entries(template)) {
      const out = renderTemplate(text, scope, field === 'html' ? 'html' : field === 'subject' || field === 'url' ? 'line' : 'text');
      if (field === 'html') {
        expect(out).not.toContain('<img');
        expect(scanHtml(out).tags.flatMap((t) => t.attributes).filter((a) => a.name === 'href' && !isSafeUrl(a.value))).toEqual([]);
      }
      if (field === 'subject') expect(out).not.toMatch(/[\r\n]/);
    }
  });
});

describe('checkTemplate', () => {
  it.each([
    ['<p>{{ profile.attributes.firstName }}</p><a href="{{ event.properties.url }}" title=\'{{ event.id }}\'>x</a>', []],
    ['<p>{% if event.id %}{{ event.id | upcase }}{% endif %}</p>{{ steps.offer.html | raw }}', []],
    ['<td style="color: red">{{ event.id }}</td><!-- <a href={{ event.id }}> -->', []],
    ['<a href={{ event.properties.url }}>x</a>', ['template outputs data in the unquoted attribute "href" of <a>; quote the value']],
    ['<img {{ event.properties.attrs }}>', ['template outputs data as an attribute of <img>; write the attribute and quote its value']],
    ['<div style="color: {{ event.id }}">x</div>', ['template outputs data in a style attribute']],
    ['<style>p { color: {{ event.id }} }</style>', ['template outputs data inside <style>, where escaping does not protect it']],
    ['<script>{% echo event.id %}</script>', ['template outputs data inside <script>, where escaping does not protect it']],
  ])('checks where output lands in html: %j', (html, problems) => {
    expect(checkTemplate(html, 'html')).toEqual(problems);
  });

  it('reports an unknown filter by name, in every kind of template', () => {
    for (const kind of ['html', 'line', 'text'] as const) expect(checkTemplate('{{ event.id | shout }}', kind)).toEqual([expect.stringContaining('unknown filter "shout"')]);
  });

  it('refuses a template longer than the source limit', () => {
    expect(checkTemplate('x'.repeat(100_001))).toEqual([expect.stringContaining('template does not parse')]);
  });
});

describe('renderTemplate', () => {
  const scope = (properties: Record<string, unknown>): TemplateScope => ({ profile: { id: 'p', attributes: {}, identities: {} }, event: { properties }, context: {}, steps: {}, journey: { id: 'j' } });

  it('bounds what data can make a template render: a range past the memory limit, output past 100,000 characters', () => {
    const loop = '{% for i in (1..event.properties.n) %}0123456789{% endfor %}';
    expect(renderTemplate(loop, scope({ n: 3 }))).toBe('012345678901234567890123456789');
    expect(() => renderTemplate(loop, scope({ n: 100_000_000 }))).toThrow(TemplateRenderError);
    expect(() => renderTemplate(loop, scope({ n: 10_001 }))).toThrow(/at most 100000/);
  });

  it('disables script links written by the template itself too, and keeps entity-encoded safe ones', () => {
    expect(renderTemplate('<a href="&#106;avascript&colon;x">a</a><a href="https://a.example/?a=1&amp;b=2">b</a>', scope({}), 'html')).toBe(
      '<a href="#">a</a><a href="https://a.example/?a=1&amp;b=2">b</a>',
    );
  });
});

describe('html rendering (property)', () => {
  const fragments = ['<', '>', '"', "'", '&', '&#', ';', 'javascript:', 'JaVa\tScRiPt:', 'data:', ' ', '\n', 'onerror=', '<img src=x ', '/', 'x', ':', '&colon;'];
  const hostile = fc.oneof(fc.string(), fc.array(fc.constantFrom(...fragments), { maxLength: 12 }).map((parts) => parts.join('')));

  it('keeps the template’s own tags and attributes, and only safe links, whatever the data', () => {
    const template = '<p title="{{ event.properties.a }}">{{ event.properties.a }}</p><a href="{{ event.properties.b }}">x</a>';
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const scope = { profile: { id: 'p', attributes: {}, identities: {} }, event: { properties: { a, b } }, context: {}, steps: {}, journey: { id: 'j' } };
        const { tags } = scanHtml(renderTemplate(template, scope, 'html'));
        expect(tags.map((t) => [t.name, t.attributes.map((x) => x.name)])).toEqual([['p', ['title']], ['a', ['href']]]);
        expect(isSafeUrl(tags[1].attributes[0].value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
