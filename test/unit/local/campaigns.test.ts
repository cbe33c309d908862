import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AslDefinition } from '../../../lambdas/core/journey/asl';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import { deployLocalCampaigns, loadCampaignDir, localCampaignStores, type LocalCampaignRunner } from '../../../lambdas/local/campaigns';

const campaign = (id: string) =>
  Campaign.parse({
    schemaVersion: 1,
    id,
    name: id,
    audience: { segment: 'vip' },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
  });
const ASL: AslDefinition = { Comment: 'c', StartAt: 'Done', TimeoutSeconds: 60, States: { Done: { Type: 'Succeed' } } };

/** The local Step Functions as campaigns see it: what was deployed, started and stopped. */
function fakeRunner() {
  const deployed: string[] = [];
  const started: [string, string, unknown][] = [];
  const runner: LocalCampaignRunner = {
    stateMachineArn: (name) => `arn:aws:states:local:000000000000:stateMachine:waymark-local-${name}`,
    deployJourney: (name) => {
      deployed.push(name);
      const stateMachineArn = `arn:aws:states:local:000000000000:stateMachine:waymark-local-${name}`;
      return { stateMachineArn, aliasArn: `${stateMachineArn}:live`, live: { number: '1', arn: `${stateMachineArn}:1`, publishedAt: '2026-12-03T09:00:00.000Z' } };
    },
    start: async (arn, name, input) => (started.push([arn, name, input]), { executionArn: `${arn}:${name}`, started: true }),
    stop: async () => true,
  };
  return { runner, deployed, started };
}

describe('local campaigns', () => {
  it('registers each campaign with the state machine its definition was deployed as and its live alias, and starts runs on the alias', async () => {
    const options = { campaigns: [campaign('weekly')], clock: { now: () => new Date() }, compile: () => ASL };
    const stores = localCampaignStores(options);
    const { runner, deployed, started } = fakeRunner();
    const { executions, problems } = await deployLocalCampaigns(options, stores, runner);
    expect(deployed).toEqual(['campaign-weekly']);
    expect(problems.size).toBe(0);
    const registered = await stores.registry.get('weekly');
    const machine = 'arn:aws:states:local:000000000000:stateMachine:waymark-local-campaign-weekly';
    expect(registered).toMatchObject({
      stateMachineArn: machine,
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      aliasArn: `${machine}:live`,
      live: { number: '1', arn: `${machine}:1`, publishedAt: '2026-12-03T09:00:00.000Z' },
    });
    await executions.start(registered!.aliasArn!, 'r1', { campaignId: 'weekly', runId: 'r1', trigger: 'api' });
    expect(started).toEqual([[`${machine}:live`, 'r1', { campaignId: 'weekly', runId: 'r1', trigger: 'api' }]]);
  });

  it('still lists a campaign that does not compile, and refuses its runs naming why', async () => {
    const options = {
      campaigns: [campaign('broken')],
      clock: { now: () => new Date() },
      compile: () => {
        throw new Error('step "email" names an unknown list');
      },
    };
    const stores = localCampaignStores(options);
    const { runner, deployed, started } = fakeRunner();
    const { executions, problems } = await deployLocalCampaigns(options, stores, runner);
    expect(deployed).toEqual([]);
    expect([...problems]).toEqual([['broken', 'step "email" names an unknown list']]);
    const registered = await stores.registry.get('broken');
    expect(registered?.version).toBe('not-compiled');
    await expect(executions.start(registered!.stateMachineArn, 'r1', { campaignId: 'broken', runId: 'r1', trigger: 'api' })).rejects.toThrow(/not deployed locally: step "email" names an unknown list/);
    expect(started).toEqual([]);
  });

  it('loads campaign files and refuses a folder with an invalid file or a repeated id, naming the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(campaign('weekly')));
    writeFileSync(join(dir, 'README.md'), '# not a campaign');
    expect(loadCampaignDir(dir).map((c) => c.id)).toEqual(['weekly']);
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...campaign('weekly'), name: '' }));
    expect(() => loadCampaignDir(dir)).toThrow(/b\.json: name/);
    writeFileSync(join(dir, 'b.json'), JSON.stringify(campaign('weekly')));
    expect(() => loadCampaignDir(dir)).toThrow(/"weekly" is used by more than one file/);
    expect(loadCampaignDir(join(dir, 'missing'))).toEqual([]);
  });
});
