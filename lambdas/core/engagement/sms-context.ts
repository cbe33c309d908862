import { dict, type Dict } from '../shared/records';
import { encodeTagValue, executionNameOf, NO_VARIANT, TAG } from './tags';

/**
 * The context keys of a journey SMS. `configurationSet` is the stage's configuration set, set by the compiled step
 * (the stage's bus rule matches it: a stage never records another stage's messages).
 */
export const SMS_CONTEXT = { ...TAG, configurationSet: 'configurationSet' } as const;

/**
 * The context of one journey SMS as prepare-send makes it: journey, node, variant and execution name, each escaped
 * like an SES tag (letters, digits, `-`, `_` escapes: no whitespace, which context values may not hold). Four keys
 * plus the configuration set: kept small, as the service bounds the map.
 */
export function smsContext(input: { journeyId: string; nodeId: string; variant?: string; executionArn: string }): Dict<string> {
  return dict([
    [SMS_CONTEXT.journey, encodeTagValue(input.journeyId)],
    [SMS_CONTEXT.node, encodeTagValue(input.nodeId)],
    [SMS_CONTEXT.variant, encodeTagValue(input.variant === undefined || input.variant === '' ? NO_VARIANT : input.variant)],
    [SMS_CONTEXT.execution, encodeTagValue(executionNameOf(input.executionArn))],
  ]);
}
