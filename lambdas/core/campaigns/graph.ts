import { assertNever } from '../shared/assert-never';
import type { CampaignStep, SplitStep } from './schema';

/** The branch of an engagement split that the members with the engagement take, and the one the others take. */
export const ENGAGEMENT_BRANCHES = { yes: 'yes', no: 'no' } as const;
/** The branch id of a rule split's `otherwise` (so branch ids of rule splits may not use it). */
export const OTHERWISE_BRANCH = 'otherwise';
/** The holdout of a percent split: counted, never sent to (so variant ids may not use it). */
export const HOLDOUT_BRANCH = 'holdout';

/** One outgoing edge of a step: the field that names it (for messages) and the step it names. */
export interface StepEdge {
  field: string;
  target: string;
  /** For a split: the branch the edge belongs to. */
  branch?: string;
}

/** A split's branches that continue (the holdout is only counted), in file order. */
export function splitBranches(step: SplitStep): StepEdge[] {
  switch (step.by) {
    case 'percent':
      return step.variants.map((v, i) => ({ field: `variants[${i}].next`, target: v.next, branch: v.id }));
    case 'rule':
      return [
        ...step.branches.map((b, i) => ({ field: `branches[${i}].next`, target: b.next, branch: b.id })),
        { field: 'otherwise', target: step.otherwise, branch: OTHERWISE_BRANCH },
      ];
    case 'engagement':
      return [
        { field: 'yes', target: step.yes, branch: ENGAGEMENT_BRANCHES.yes },
        { field: 'no', target: step.no, branch: ENGAGEMENT_BRANCHES.no },
      ];
    default:
      return assertNever(step, 'split');
  }
}

/** The steps a step leads to. */
export function stepSuccessors(step: CampaignStep): StepEdge[] {
  switch (step.kind) {
    case 'deliver':
    case 'enter-journey':
      return step.next === undefined ? [] : [{ field: 'next', target: step.next }];
    case 'wait':
      return [{ field: 'next', target: step.next }];
    case 'split':
      return splitBranches(step);
    case 'exit':
      return [];
    default:
      return assertNever(step, 'step');
  }
}

/** Members of the step's input set work through it one by one in a Distributed Map. */
export function isPerMember(step: CampaignStep): boolean {
  return step.kind === 'deliver' || step.kind === 'enter-journey' || step.kind === 'split';
}
