import type { CampaignDefinitionReader } from './contract';
import { Campaign } from './schema';

/** A stored campaign definition read with the file's schema (defaults applied), for the campaign handlers. */
export const parseCampaignDefinition: CampaignDefinitionReader = (definition) => {
  const parsed = Campaign.safeParse(definition);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'not a campaign');
  return parsed.data;
};
