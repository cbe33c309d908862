import fc from 'fast-check';
import { validateCampaign, type CampaignValidationResult } from '../../../lambdas/core/campaigns/validate';
import { baseCampaign, repoCatalog } from './fixtures';

type Draft = ReturnType<typeof baseCampaign>;
const violations = (r: CampaignValidationResult) => (r.ok ? [] : r.violations);

describe('validateCampaign', () => {
  it('accepts the base campaign, against the repository catalog too', () => {
    expect(validateCampaign(baseCampaign())).toMatchObject({ ok: true });
    expect(validateCampaign(baseCampaign(), repoCatalog())).toMatchObject({ ok: true });
  });

  it('fills in defaults: rate 100, the control group, marketing', () => {
    const result = validateCampaign(baseCampaign());
    if (!result.ok) throw new Error('invalid');
    expect(result.campaign.steps.email).toMatchObject({ rate: 100 });
    expect(result.campaign.audience.controlGroup).toBe(true);
    expect(result.campaign.messageClass).toBe('marketing');
  });

  it('names the field of a schema error with its path', () => {
    const draft = baseCampaign();
    draft.steps.pause.duration = 'three days';
    expect(violations(validateCampaign(draft))).toEqual([expect.objectContaining({ path: 'steps.pause.duration', message: expect.stringMatching(/durations/) })]);
  });

  const cases: [string, (d: Draft) => void, { path: string; message: RegExp }][] = [
    ['unknown start', (d) => (d.start = 'nowhere'), { path: 'start', message: /unknown step "nowhere"/ }],
    ['unknown next', (d) => (d.steps.email.next = 'ghost'), { path: 'steps.email.next', message: /unknown step "ghost"/ }],
    ['unknown split branch', (d) => (d.steps.opened.no = 'ghost'), { path: 'steps.opened.no', message: /unknown step "ghost"/ }],
    ['a step with two parents', (d) => (d.steps.nudge.next = 'done'), { path: 'steps.done', message: /next of 2 steps/ }],
    ['a loop back to start', (d) => (d.steps.done = { kind: 'wait', duration: '1d', next: 'email' }), { path: 'steps.email', message: /start step "email" may not be the next/ }],
    ['an unreachable step', (d) => (d.steps.orphan = { kind: 'exit' }), { path: 'steps.orphan', message: /not reachable from start "email"/ }],
    ['an engagement split on a later step', (d) => (d.steps.opened.step = 'nudge'), { path: 'steps.opened.step', message: /"nudge" must be a deliver step on the path/ }],
    ['an engagement split on a wait', (d) => (d.steps.opened.step = 'pause'), { path: 'steps.opened.step', message: /"pause" must be a deliver step/ }],
    ['converted without a goal', (d) => { d.steps.opened.engagement = 'converted'; delete d.goal; }, { path: 'steps.opened.engagement', message: /give the campaign a goal/ }],
    ['a goal condition on the profile', (d) => (d.goal = { event: 'order_completed', within: '7d', condition: { path: 'profile.attributes.tier', op: 'eq', value: 'gold' } }), { path: 'goal.condition', message: /reads the goal event only/ }],
    ['"in" without "at"', (d) => (d.steps.email.in = 'member'), { path: 'steps.email.in', message: /give "at" too/ }],
    ['"passed" without "at"', (d) => (d.steps.email.passed = 'now'), { path: 'steps.email.passed', message: /give "at" too/ }],
    ['a broken template', (d) => ((d.steps.email.template as Record<string, string>).text = 'Hi {{ profile'), { path: 'steps.email.template.text', message: /./ }],
    ['a wait over 90 days', (d) => (d.steps.pause.duration = '91d'), { path: 'steps.pause.duration', message: /at most 90 days/ }],
    ['an unknown time zone', (d) => (d.schedule.timeZone = 'Mars/Olympus'), { path: 'schedule.timeZone', message: /not an IANA time zone/ }],
    ['a five-field cron', (d) => (d.schedule.cron = '0 9 ? * MON'), { path: 'schedule.cron', message: /6 fields/ }],
    ['a cron with both days', (d) => (d.schedule.cron = '0 9 1 * MON *'), { path: 'schedule.cron', message: /must be "\?"/ }],
    ['an end before the start', (d) => Object.assign(d.schedule, { start: '2027-01-10T00:00', end: '2027-01-01T00:00' }), { path: 'schedule.end', message: /must be after the start/ }],
    ['a start not on the calendar', (d) => Object.assign(d.schedule, { start: '2027-02-30T09:00' }), { path: 'schedule.start', message: /not a date on the calendar/ }],
    ['a once date not on the calendar', (d) => (d.schedule = { type: 'once', at: '2027-13-01T09:00', timeZone: 'UTC' }), { path: 'schedule.at', message: /YYYY-MM-DD|not a date/ }],
  ];
  it.each(cases)('refuses %s', (_name, edit, expected) => {
    const draft = baseCampaign();
    edit(draft);
    expect(violations(validateCampaign(draft))).toContainEqual(expect.objectContaining({ path: expected.path, message: expect.stringMatching(expected.message) }));
  });

  it('refuses percent weights that do not sum to 100 with the holdout, and reserved or duplicate variant ids', () => {
    const draft = baseCampaign();
    draft.steps.opened = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 50, next: 'welcome-back' }, { id: 'a', weight: 40, next: 'nudge' }], holdout: { weight: 5 } };
    const found = violations(validateCampaign(draft));
    expect(found).toContainEqual(expect.objectContaining({ path: 'steps.opened.variants', message: expect.stringMatching(/sum to 100 \(got 95: a 50 \+ a 40 \+ holdout 5\)/) }));
    expect(found).toContainEqual(expect.objectContaining({ path: 'steps.opened.variants[1].id', message: expect.stringMatching(/duplicate branch id "a"/) }));
    draft.steps.opened = { kind: 'split', by: 'percent', variants: [{ id: 'holdout', weight: 90, next: 'welcome-back' }], holdout: { weight: 10 } };
    draft.steps.nudge = { kind: 'exit' };
    delete draft.steps.done;
    draft.steps['welcome-back'].next = 'nudge';
    expect(violations(validateCampaign(draft))).toContainEqual(expect.objectContaining({ path: 'steps.opened.variants[0].id', message: expect.stringMatching(/reserved/) }));
  });

  it('refuses a rule split branch named like its otherwise branch', () => {
    const draft = baseCampaign();
    draft.steps.opened = { kind: 'split', by: 'rule', branches: [{ id: 'otherwise', rule: { kind: 'segment', id: 'loyalty-gold' }, next: 'welcome-back' }], otherwise: 'nudge' };
    expect(violations(validateCampaign(draft))).toContainEqual(expect.objectContaining({ path: 'steps.opened.branches[0].id', message: expect.stringMatching(/reserved/) }));
  });

  it('lets a template read the offer only with decide, the item only with forEach, and never a journey\'s steps', () => {
    const draft = baseCampaign();
    draft.steps.email.template = { subject: '{{ offer.content.title }}', text: '{{ item.date }} {{ row.city }} {{ steps.x }}' };
    const found = violations(validateCampaign(draft)).map((v) => `${v.path}: ${v.message}`);
    expect(found).toEqual([
      expect.stringMatching(/^steps\.email\.template\.subject: template uses unknown variable "offer"; use one of profile, row, unsubscribeUrl$/),
      expect.stringMatching(/^steps\.email\.template\.text: .*"item"/),
      expect.stringMatching(/^steps\.email\.template\.text: .*"steps"/),
    ]);
    Object.assign(draft.steps.email, { decide: { placement: 'email-hero' }, forEach: { path: 'row.bookings' } });
    draft.steps.email.template = { subject: '{{ offer.content.title }}', text: '{{ item.date }} {{ row.city }} {{ offers.size }}' };
    expect(validateCampaign(draft)).toMatchObject({ ok: true });
  });

  it('refuses step and branch ids too long for state names', () => {
    const draft = baseCampaign();
    const long = `s${'x'.repeat(47)}`;
    draft.steps[long] = draft.steps.opened;
    delete draft.steps.opened;
    draft.steps.pause.next = long;
    draft.steps[long] = { kind: 'split', by: 'percent', variants: [{ id: `v${'y'.repeat(31)}`, weight: 50, next: 'welcome-back' }, { id: 'b', weight: 50, next: 'nudge' }] };
    expect(violations(validateCampaign(draft))).toContainEqual(expect.objectContaining({ path: `steps.${long}.variants[0].next`, message: expect.stringMatching(/too long for state names/) }));
  });

  it('refuses references the catalog does not know, naming the folder', () => {
    const draft = baseCampaign();
    draft.audience = { rule: { kind: 'segment', id: 'vip' }, exclude: { messaged: [{ journey: 'nope', withinDays: 7 }, { campaign: 'win-back-test', withinDays: 30 }] } };
    draft.steps['welcome-back'].journey = 'ghost-journey';
    draft.steps.email.decide = { placement: 'sidebar' };
    const found = violations(validateCampaign(draft, repoCatalog()));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'audience.rule', message: 'unknown segment "vip" (no segments/*.json has that id)' }),
        expect.objectContaining({ path: 'audience.exclude.messaged[0].journey', message: expect.stringMatching(/unknown journey "nope".*statemachines/) }),
        expect.objectContaining({ path: 'steps.welcome-back.journey', message: expect.stringMatching(/unknown journey "ghost-journey"/) }),
        expect.objectContaining({ path: 'steps.email.decide.placement', message: expect.stringMatching(/unknown placement "sidebar"/) }),
      ]),
    );
    // Its own earlier runs are always known.
    expect(found.some((v) => v.path.startsWith('audience.exclude.messaged[1]'))).toBe(false);
  });

  it('refuses entering members into a journey that has no API entry', () => {
    const draft = baseCampaign();
    draft.steps['welcome-back'].journey = 'welcome';
    expect(violations(validateCampaign(draft, repoCatalog()))).toEqual([
      expect.objectContaining({ path: 'steps.welcome-back.journey', message: expect.stringMatching(/"welcome" has no API entry/) }),
    ]);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = validateCampaign(input);
        return result.ok === false && result.violations.length > 0;
      }),
      { numRuns: 300 },
    );
  });

  /** A random tree of waits and percent splits: valid; one extra edge to an existing step makes it invalid. */
  const tree = fc.array(fc.nat(), { minLength: 1, maxLength: 30 }).map((choices) => {
    const steps: Record<string, Record<string, unknown>> = { s0: { kind: 'exit' } };
    const leaves = ['s0'];
    choices.forEach((choice, i) => {
      // Replace a leaf (an exit) by a wait or a 2-way split whose children are new exits.
      const leaf = leaves.splice(choice % leaves.length, 1)[0];
      const a = `s${i + 1}a`;
      const b = `s${i + 1}b`;
      if (choice % 2 === 0) {
        steps[leaf] = { kind: 'wait', duration: '1h', next: a };
        steps[a] = { kind: 'exit' };
        leaves.push(a);
      } else {
        steps[leaf] = { kind: 'split', by: 'percent', variants: [{ id: 'x', weight: 50, next: a }, { id: 'y', weight: 50, next: b }] };
        steps[a] = { kind: 'exit' };
        steps[b] = { kind: 'exit' };
        leaves.push(a, b);
      }
    });
    return steps;
  });
  const campaignOf = (steps: Record<string, unknown>) => ({ ...baseCampaign(), start: 's0', steps });

  it('accepts every tree of steps', () => {
    fc.assert(fc.property(tree, (steps) => validateCampaign(campaignOf(steps)).ok));
  });

  it('refuses a tree where one step is made the next of a second step', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), (steps, i, j) => {
        const waits = Object.keys(steps).filter((id) => steps[id].kind === 'wait');
        fc.pre(waits.length > 0);
        const from = waits[i % waits.length];
        const others = Object.keys(steps).filter((id) => id !== steps[from].next);
        steps[from] = { ...steps[from], next: others[j % others.length] };
        return !validateCampaign(campaignOf(steps)).ok;
      }),
    );
  });
});
