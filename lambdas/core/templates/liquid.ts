import { Liquid, type Template } from 'liquidjs';

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

// Templates are data from journey files: an empty in-memory file map (no include/render from disk), own properties only.
const engine = new Liquid({ ownPropertyOnly: true, templates: {}, cache: 500 });

const parsed = new Map<string, Template[]>();

function parse(text: string): Template[] {
  let templates = parsed.get(text);
  if (!templates) {
    templates = engine.parse(text);
    if (parsed.size > 1000) parsed.clear();
    parsed.set(text, templates);
  }
  return templates;
}

/** Build-time check of a template: syntax and unknown variable roots. Returns problems, empty when fine. */
export function checkTemplate(text: string): string[] {
  let templates: Template[];
  try {
    templates = parse(text);
  } catch (error) {
    return [`template does not parse: ${(error as Error).message.split('\n')[0]}`];
  }
  try {
    const roots = engine.globalVariablesSync(templates);
    return roots
      .filter((root) => !(TEMPLATE_ROOTS as readonly string[]).includes(root))
      .map((root) => `template uses unknown variable "${root}"; use one of ${TEMPLATE_ROOTS.join(', ')}`);
  } catch (error) {
    return [`template cannot be analysed: ${(error as Error).message.split('\n')[0]}`];
  }
}

export function renderTemplate(text: string, scope: TemplateScope): string {
  return engine.renderSync(parse(text), scope as unknown as Record<string, unknown>) as string;
}
