/**
 * The SES message tags every journey email carries, and how an engagement event finds its ledger entry from them.
 * SES allows only ASCII letters, digits, `_` and `-` in a tag value, at most 256 characters
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html), so values are escaped reversibly.
 */

/** A tag as SES v2 SendEmail takes it (`EmailTags`). */
export interface MessageTag {
  Name: string;
  Value: string;
}

export const TAG = {
  journey: 'journey',
  version: 'version',
  node: 'node',
  variant: 'variant',
  execution: 'execution',
  profile: 'profile',
  class: 'class',
  /** Campaign messages only: the campaign id (with `execution` the run id, the ledger key is rebuilt from them). */
  campaign: 'campaign',
} as const;

/** The variant tag of a run that was not assigned one (no split on its path). */
export const NO_VARIANT = 'none';
export const MAX_TAG_VALUE = 256;

const SAFE = /^[A-Za-z0-9-]$/;

/**
 * Reversible escape into SES's tag alphabet: letters, digits and `-` stay; `_` becomes `__`; any other UTF-16 code
 * unit becomes `_` + 4 hex digits. Journey ids, node ids, versions and Waymark's execution names need no escape.
 */
export function encodeTagValue(value: string): string {
  let out = '';
  for (const ch of value) {
    if (SAFE.test(ch)) out += ch;
    else if (ch === '_') out += '__';
    else for (let i = 0; i < ch.length; i++) out += `_${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** The value `encodeTagValue` was given, or undefined for text it cannot have produced. */
export function decodeTagValue(tag: string): string | undefined {
  let out = '';
  for (let i = 0; i < tag.length; ) {
    const ch = tag[i];
    if (SAFE.test(ch)) {
      out += ch;
      i += 1;
    } else if (ch !== '_') return undefined;
    else if (tag[i + 1] === '_') {
      out += '_';
      i += 2;
    } else {
      const hex = tag.slice(i + 1, i + 5);
      if (!/^[0-9a-f]{4}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    }
  }
  return out;
}

/** The execution name: the last part of a Step Functions execution ARN (`arn:…:execution:<machine>:<name>`). */
export const executionNameOf = (executionArn: string): string => executionArn.slice(executionArn.lastIndexOf(':') + 1);

export interface SendTagInput {
  journeyId: string;
  version: string;
  nodeId: string;
  variant?: string;
  executionArn: string;
  profileId: string;
  messageClass: string;
  /** A campaign message: `campaign` is tagged too, and `executionArn` is the run id. */
  campaignId?: string;
}

/**
 * The tags of one journey email. `execution` is the execution name (Waymark's names are `<journey>--<28 hex>`, 78
 * characters at most): with the journey's state machine it gives back the ledger key. A value that would pass 256
 * characters after escaping is left out rather than failing the send; the event is then attributed by nothing.
 */
export function sendTags(input: SendTagInput): MessageTag[] {
  const tags: [string, string][] = [
    [TAG.journey, input.journeyId],
    [TAG.version, input.version],
    [TAG.node, input.nodeId],
    [TAG.variant, input.variant === undefined || input.variant === '' ? NO_VARIANT : input.variant],
    [TAG.execution, executionNameOf(input.executionArn)],
    [TAG.profile, input.profileId],
    [TAG.class, input.messageClass],
    ...(input.campaignId === undefined ? [] : [[TAG.campaign, input.campaignId] as [string, string]]),
  ];
  return tags
    .map(([Name, value]) => ({ Name, Value: encodeTagValue(value) }))
    .filter((t) => t.Value.length > 0 && t.Value.length <= MAX_TAG_VALUE);
}

/** The first value of a tag in an SES event's `mail.tags` (name → values), decoded; undefined when absent or not ours. */
export function tagValue(tags: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  const value = tags.get(name)?.[0];
  return value === undefined ? undefined : decodeTagValue(value);
}
