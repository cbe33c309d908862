import * as path from 'node:path';
import { compileRuleFiles, RuleSetError } from '../lambdas/core/governance/files';
import type { Rule } from '../lambdas/core/governance/rules';
import { PROJECT_ROOT, readDefinitionDir } from './definition-files';

/** The governance rule files shipped with the platform, one rule per `*.json` file. */
export const RULES_DIR = path.join(PROJECT_ROOT, 'rules');

/** Thrown at synth time when a rule file does not validate (or the files do not form a set). */
export { RuleSetError };

/**
 * Reads and checks every `*.json` rule in `dir` as a set (each against the rule schema and its bounds, ids unique, at
 * most MAX_RULES); synth fails here, with every problem listed and naming its file and field, before any resource is
 * defined. A missing folder is no rules; files are read sorted, so the template is stable. The parsed rules (defaults
 * filled in) are what the deployment registers in the journeys table.
 */
export function loadRules(dir: string = RULES_DIR): Rule[] {
  return compileRuleFiles(readDefinitionDir(dir), path.relative(PROJECT_ROOT, dir) || '.');
}
