import { Liquid, type LiquidOptions, type Template } from 'liquidjs';
import { disableUnsafeLinks, scanHtml } from './html';

/** The variables a message template may use. */
export const TEMPLATE_ROOTS = ['profile', 'event', 'context', 'steps', 'journey', 'unsubscribeUrl'] as const;

export interface TemplateScope {
  profile: { id: string; attributes: Record<string, unknown>; identities: Record<string, string> };
  event: unknown;
  context: Record<string, unknown>;
  steps: Record<string, unknown>;
  journey: { id: string; name?: string };
  /** The one-click unsubscribe link; in marketing email only. */
  unsubscribeUrl?: string;
}

/**
 * How a template's output is treated: `html` (email html) escapes every output unless it passes through `raw`, and
 * disables links that are not http(s), mailto or relative; `line` (subject, push url) is one line (CR, LF and other
 * control characters become a space); `text` (email text, SMS, push title and body) is output as written.
 */
export type TemplateKind = 'html' | 'line' | 'text';

/** Bounds of one template: its source, and one rendering (time, LiquidJS-counted allocations, output). */
export const TEMPLATE_LIMITS = {
  /** Characters of template source (LiquidJS `parseLimit`). */
  sourceChars: 100_000,
  /** Milliseconds one rendering may take (LiquidJS `renderLimit`, checked between template nodes). */
  renderMs: 1_000,
  /** LiquidJS-counted allocations of one rendering: ranges, arrays and strings built by filters (`memoryLimit`). */
  memory: 1_000_000,
  /** Characters of one rendered part (an email's html or text, a subject, an SMS body); it travels in the run's state. */
  outputChars: 100_000,
} as const;

/** A template could not be rendered with this data (a limit, a filter error): the message is not sent. */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

// Templates are data from journey files: an empty in-memory file map (no include/render from disk), own properties
// only, unknown filters rejected when parsed (so at validation), and the DoS limits:
// https://liquidjs.com/tutorials/dos.html
const common: LiquidOptions = {
  ownPropertyOnly: true,
  templates: {},
  strictFilters: true,
  parseLimit: TEMPLATE_LIMITS.sourceChars,
  renderLimit: TEMPLATE_LIMITS.renderMs,
  memoryLimit: TEMPLATE_LIMITS.memory,
};
let engines: Record<TemplateKind, Liquid> | undefined;
/** Built on first use, so a function that never parses a template neither builds the engines nor bundles LiquidJS. */
function engine(kind: TemplateKind): Liquid {
  engines ??= {
    // Escaping is decided per output when the template is parsed; `| raw` opts out.
    html: new Liquid({ ...common, outputEscape: 'escape' }),
    line: new Liquid(common),
    text: new Liquid(common),
  };
  return engines[kind];
}

const parsed = new Map<string, Template[]>();

function parse(text: string, kind: TemplateKind): Template[] {
  const key = `${kind}\u0000${text}`;
  let templates = parsed.get(key);
  if (!templates) {
    templates = engine(kind).parse(text);
    if (parsed.size > 1000) parsed.clear();
    parsed.set(key, templates);
  }
  return templates;
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0];

/** Build-time check of a template: syntax, filters, variable roots and (html) where output lands. Empty when fine. */
export function checkTemplate(text: string, kind: TemplateKind = 'text', allowed: readonly string[] = TEMPLATE_ROOTS): string[] {
  let templates: Template[];
  try {
    templates = parse(text, kind);
  } catch (error) {
    const filter = /^undefined filter: ([^\s,]+)/.exec(firstLine(error));
    if (filter) return [`template uses unknown filter "${filter[1]}"; see https://liquidjs.com/filters/overview.html`];
    return [`template does not parse: ${firstLine(error)}`];
  }
  const problems: string[] = [];
  try {
    const roots = engine(kind).globalVariablesSync(templates);
    for (const root of roots) {
      if (allowed.includes(root)) continue;
      problems.push(`template uses unknown variable "${root}"; use one of ${allowed.join(', ')}`);
    }
  } catch (error) {
    problems.push(`template cannot be analysed: ${firstLine(error)}`);
  }
  if (kind === 'html') problems.push(...checkHtmlPlacement(text));
  return problems;
}

// Stands for one output in the template source, so the HTML around it can be read.
const OUTPUT = '\u0001';

/**
 * Escaping keeps output inside a quoted attribute value or text. It does not help in an unquoted value (a space
 * starts a new attribute), in an event handler or style attribute, or in a script or style element: refused.
 */
function checkHtmlPlacement(text: string): string[] {
  const marked = text
    .replace(/\{\{[\s\S]*?\}\}/g, OUTPUT)
    .replace(/\{%-?\s*(echo|liquid)\b[\s\S]*?%\}/g, OUTPUT)
    .replace(/\{%[\s\S]*?%\}/g, '');
  if (!marked.includes(OUTPUT)) return [];
  const problems = new Set<string>();
  const { tags, rawText } = scanHtml(marked);
  for (const { element, text: inside } of rawText) {
    if (!inside.includes(OUTPUT)) continue;
    problems.add(`template outputs data inside <${element}>, where escaping does not protect it`);
  }
  for (const tag of tags) {
    if (tag.name.includes(OUTPUT)) problems.add('template outputs data as a tag name');
    for (const attribute of tag.attributes) {
      const { name, quoted, value } = attribute;
      if (name.includes(OUTPUT)) {
        problems.add(`template outputs data as an attribute of <${tag.name}>; write the attribute and quote its value`);
      }
      if (!value.includes(OUTPUT)) continue;
      if (!quoted) problems.add(`template outputs data in the unquoted attribute "${name}" of <${tag.name}>; quote the value`);
      else if (name.startsWith('on')) problems.add(`template outputs data in the event handler attribute "${name}"`);
      else if (name === 'style') problems.add('template outputs data in a style attribute');
    }
  }
  return [...problems];
}

export function renderTemplate(text: string, scope: TemplateScope, kind: TemplateKind = 'text'): string {
  let out: string;
  try {
    out = engine(kind).renderSync(parse(text, kind), scope as unknown as Record<string, unknown>) as string;
  } catch (error) {
    throw new TemplateRenderError(`template cannot be rendered: ${firstLine(error)}`, { cause: error });
  }
  if (out.length > TEMPLATE_LIMITS.outputChars) {
    throw new TemplateRenderError(`template rendered ${out.length} characters; at most ${TEMPLATE_LIMITS.outputChars}`);
  }
  switch (kind) {
    case 'html':
      return disableUnsafeLinks(out);
    case 'line':
      // A subject is a mail header: no line breaks (header injection), no other controls.
      // eslint-disable-next-line no-control-regex
      return out.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ');
    case 'text':
      return out;
  }
}
