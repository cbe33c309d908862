/**
 * The ledger keys of campaign messages (campaigns README, "the ledger key of a campaign message"): the send path
 * (deliver.ts), the engagement path (engagement/record.ts) and "recently messaged" exclusions read them alike.
 */

/** The ledger's execution id of a campaign member: a run sends each of its steps to a member once. */
export const campaignExecutionId = (campaignId: string, runId: string, profileId: string) =>
  `campaign:${campaignId}:${runId}:${profileId}`;

/** The ledger's journey id of a campaign's messages. */
export const campaignJourneyId = (campaignId: string) => `campaign:${campaignId}`;

/** The step of a ledger node id: `<step>` or `<step>#<index>` (a forEach item). */
export const stepOfNode = (nodeId: string) => {
  const hash = nodeId.indexOf('#');
  return hash < 0 ? nodeId : nodeId.slice(0, hash);
};
