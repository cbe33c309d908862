import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { openVirtualStack } from './local-stack';

/**
 * Hostile input against the public surfaces, in process over HTTP: the PutEvents endpoint, `POST /events`, every API
 * route and (through the bus) the router. For each generated request: no 5xx, no global object changed, a refused
 * request leaves every table as it was, nothing is dead-lettered (the router never crashes), and the server answers
 * afterwards. Deterministic (fixed seed); run counts keep the file under ~60 s on a busy 2-core machine.
 */
const SEED = 20261202;
const RUNS = { putEvents: 100, events: 100, routes: 250 };

/** Names every plain object answers to: keys an attacker picks first. */
const PROTOTYPE_NAMES = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupGetter__', 'length', 'name', 'then',
];
/** Field names the routes read, so generated objects reach past the first check. */
const FIELD_NAMES = [
  'type', 'id', 'time', 'source', 'identities', 'properties', 'attributes', 'consent', 'email', 'sms', 'push', 'list:news',
  'status', 'profileId', 'placement', 'context', 'idempotencyKey', 'rule', 'kind', 'name', 'rules', 'segment', 'value',
];

const identifier = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 2, arbitrary: identifier },
  { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.constant('k'.repeat(300)) },
);
const protoName = fc.constantFrom(...PROTOTYPE_NAMES);
// Names the profile core stores (namespaces, types, attribute, property and consent keys) are drawn like any other.
const profileKey = key;
const profileName = protoName;
const str = (s: string) => JSON.stringify(s);
const scalar = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '-1', '1e308', '"opted-in"', '"opted-out"', '"2026-12-01T00:00:00Z"'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.string({ maxLength: 24, unit: 'grapheme' }).map(str),
  key.map(str),
);
/** JSON written as text, so `__proto__` travels as an ordinary key (an object literal would set the prototype). */
const object = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${str(k)}:${v}`).join(',')}}`;
const { json } = fc.letrec<{ json: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map(object),
}));
const deep = fc
  .tuple(fc.integer({ min: 30, max: 5000 }), fc.constantFrom('{"a":', '['))
  .map(([n, open]) => open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n));
const big = fc.integer({ min: 100, max: 400 }).map((kb) => str('x'.repeat(kb * 1024)));
const anyJson = fc.oneof({ weight: 8, arbitrary: json }, { weight: 1, arbitrary: deep }, { weight: 1, arbitrary: big });
const flatObject = (values: fc.Arbitrary<string>, keys = key) => fc.array(fc.tuple(keys, values), { maxLength: 4 }).map(object);

const time = fc.oneof(
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => str(d.toISOString())),
  fc.constantFrom('"1970-01-01T00:00:00Z"', '"2999-01-01T00:00:00Z"', '"yesterday"', '0', '""', '"2026-02-30T00:00:00Z"'),
);
/** Values that name static methods (`keys`, `assign`) and prototype members: what a `constructor` namespace would reach. */
const identityValue = fc.oneof(fc.constantFrom('v0', 'v1', 'keys', 'assign', 'entries'), fc.constantFrom(...PROTOTYPE_NAMES));
/** Profiles the generated identities make (their ids are sha256 of the first identity), for the routes' path ids. */
const KNOWN_PROFILES = [
  ...[0, 1, 2].map((n) => newProfileId('email', `fuzz-${n}@example.com`)),
  newProfileId('constructor', 'keys'), newProfileId('__proto__', 'v0'), newProfileId('toString', 'valueOf'),
];
/** A few people, so the tables stay small; namespaces and values weighted toward prototype names. */
const identities = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 }).map((n) => object([['email', str(`fuzz-${n}@example.com`)]])) },
  { weight: 3, arbitrary: fc.array(fc.tuple(profileKey, identityValue.map(str)), { minLength: 1, maxLength: 3 }).map(object) },
  { weight: 1, arbitrary: json },
);
const orKey = <T,>(names: T[]) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: profileName });
/** A valid envelope whose names (type, namespaces, attribute, property and consent keys) lean on prototype names. */
const plausibleEnvelope = fc
  .record(
    {
      type: orKey(['order.placed', 'cart.updated', 'member.signed-up']).map(str),
      time: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => str(d.toISOString())),
      identities: fc.array(fc.tuple(orKey(['email', 'crmId']), identityValue.map(str)), { minLength: 1, maxLength: 2 }).map(object),
      properties: fc.array(fc.tuple(fc.oneof(identifier, profileName), scalar), { maxLength: 3 }).map(object),
      attributes: fc.array(fc.tuple(fc.oneof(identifier, profileName), fc.oneof(fc.constantFrom('null', 'true', '"gold"'), fc.integer().map(String))), { maxLength: 3 }).map(object),
      consent: fc.array(fc.tuple(orKey(['email', 'sms', 'list:news']), fc.constantFrom('"opted-in"', '"opted-out"')), { maxLength: 2 }).map(object),
    },
    { requiredKeys: ['type', 'identities'] },
  )
  .map((fields) => object(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)));
/** A business-event envelope as JSON text: mostly plausible, every field hostile some of the time. */
const hostileEnvelope = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom('"order.placed"', '"cart.updated"', '"member.signed-up"'), profileKey.map(str), scalar),
      id: fc.oneof(fc.uuid().map(str), key.map(str), scalar),
      time,
      source: fc.oneof(fc.constantFrom('"fuzz"', '"waymark.journeys"', '"aws.ses"'), key.map(str)),
      identities,
      properties: fc.oneof({ weight: 4, arbitrary: flatObject(json, profileKey) }, { weight: 1, arbitrary: deep }, { weight: 1, arbitrary: big }),
      attributes: flatObject(scalar, profileKey),
      consent: flatObject(fc.constantFrom('"opted-in"', '"opted-out"', '"maybe"', '1'), profileKey),
    },
    { requiredKeys: ['type', 'identities'] },
  )
  .map((fields) => object(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)));

const envelope = fc.oneof(plausibleEnvelope, hostileEnvelope);

const pathId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 2, arbitrary: identifier },
  { weight: 1, arbitrary: fc.constantFrom('loyalty-gold', 'welcome', 'manual-outreach', 'sms-daily', 'fuzz-rule') },
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_PROFILES) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 3000 }).map((n) => 'x'.repeat(n)) },
);
/** Every API route (the `/local/*` tooling routes are not part of the API). */
const ROUTES = [
  'POST /events', 'GET /journeys', 'POST /journeys/{id}/trigger', 'GET /events/rejected', 'GET /profiles',
  'GET /profiles/{id}', 'PUT /profiles/{id}/attributes', 'DELETE /profiles/{id}', 'GET /profiles/{id}/export',
  'GET /profiles/{id}/consent', 'PUT /profiles/{id}/consent', 'GET /segments', 'POST /segments', 'GET /segments/{id}',
  'PUT /segments/{id}', 'DELETE /segments/{id}', 'POST /segments/{id}/evaluate', 'GET /segments/{id}/snapshots/{snapshotId}',
  'GET /segments/{id}/estimate', 'POST /decisions', 'GET /profiles/{id}/decisions', 'GET /offers', 'POST /offers',
  'GET /offers/{id}', 'PUT /offers/{id}', 'DELETE /offers/{id}', 'GET /placements', 'POST /placements',
  'GET /placements/{id}', 'PUT /placements/{id}', 'DELETE /placements/{id}', 'GET /unsubscribe', 'POST /unsubscribe',
  'GET /profiles/{id}/journeys', 'GET /profiles/{id}/journeys/{journeyId}',
  'GET /rules', 'GET /rules/{id}', 'PUT /rules/{id}', 'DELETE /rules/{id}', 'GET /journeys/{id}', 'GET /journeys/{id}/report',
  'GET /campaigns', 'GET /campaigns/{id}', 'POST /campaigns/{id}/runs', 'GET /campaigns/{id}/runs', 'GET /campaigns/{id}/runs/{runId}',
  'POST /campaigns/{id}/runs/{runId}/{action}',
] as const;
const QUERY_NAMES = ['identity', 'limit', 'cursor', 'sample', 'token', 'from', 'to', ...PROTOTYPE_NAMES];
const queryValue = fc.oneof(
  fc.constantFrom('email:fuzz-1@example.com', 'email:__proto__', 'constructor:x', '0', '5', '100000', 'bm90IGEga2V5', 'not base64 ~!', '2026-12-01', '1999-02-30', '9999-12-31'),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.integer({ min: 1000, max: 6000 }).map((n) => 'q'.repeat(n)),
);
const attributeName = fc.oneof(identifier, profileName);
const attributeValue = fc.oneof(fc.constantFrom('null', 'true', '"gold"', '"2026-01-01"'), fc.integer().map(String));
/** Bodies shaped as each route reads them, with hostile names and values inside, so requests get past the first check. */
const ROUTE_BODIES: Partial<Record<(typeof ROUTES)[number], fc.Arbitrary<string>>> = {
  'POST /events': envelope,
  'PUT /profiles/{id}/attributes': fc.array(fc.tuple(attributeName, attributeValue), { maxLength: 3 }).map((a) => object([['attributes', object(a)]])),
  'PUT /profiles/{id}/consent': fc.array(fc.tuple(orKey(['email', 'sms', 'push', 'list:news']), fc.constantFrom('"opted-in"', '"opted-out"')), { maxLength: 3 }).map(object),
  'POST /journeys/{id}/trigger': fc.tuple(identities, flatObject(json)).map(([ids, context]) => object([['identities', ids], ['context', context]])),
  'POST /decisions': fc
    .tuple(fc.constantFrom(...KNOWN_PROFILES), fc.constantFrom('web-banner', 'push', 'email-hero', ...PROTOTYPE_NAMES), flatObject(scalar), fc.option(key, { nil: undefined }))
    .map(([profileId, placement, context, idempotencyKey]) =>
      object([['profileId', str(profileId)], ['placements', `[${str(placement)}]`], ['context', context], ...(idempotencyKey ? [['idempotencyKey', str(idempotencyKey)] as [string, string]] : [])]),
    ),
  'POST /segments': fc.tuple(pathId, attributeName, scalar).map(([id, name, value]) =>
    object([['id', str(id)], ['name', '"fuzz"'], ['rule', object([['kind', '"equals"'], ['field', object([['kind', '"attribute"'], ['name', str(name)]])], ['value', value]])]]),
  ),
  'POST /offers': fc.tuple(pathId, fc.constantFrom('web-banner', 'push', ...PROTOTYPE_NAMES), key).map(([id, placement, tag]) =>
    object([
      ['id', str(id)], ['name', '"fuzz"'], ['tags', `[${str(tag)}]`],
      ['placements', object([[placement, object([['title', '"t"'], ['body', '"b"'], ['imageUrl', '"https://x.example/i.png"'], ['url', '"https://x.example"']])]])],
    ]),
  ),
};
// A governance rule: plausible kinds, channels, periods and windows, with hostile names and values among them.
ROUTE_BODIES['PUT /rules/{id}'] = fc
  .record(
    {
      kind: fc.constantFrom('"frequency-cap"', '"quiet-hours"', '"__proto__"', '"constructor"'),
      channel: fc.oneof(fc.constantFrom('"email"', '"sms"', '"push"', '"any"'), protoName.map(str)),
      limit: fc.oneof(fc.constantFrom('1', '3', '0', '1000', '1001'), scalar),
      period: fc.tuple(fc.constantFrom('rolling', 'calendar', ...PROTOTYPE_NAMES), fc.constantFrom('"7d"', '"day"', '"week"', '"0s"', '"1000w"')).map(([k, v]) => object([[k, v]])),
      from: fc.constantFrom('"21:00"', '"08:00"', '"24:00"', '"9:00"'),
      to: fc.constantFrom('"08:00"', '"21:00"', '"23:59"'),
      action: fc.constantFrom('"defer"', '"skip"', '"toString"'),
      days: fc.array(fc.oneof(fc.constantFrom('mon', 'sun'), protoName).map(str), { maxLength: 3 }).map((d) => `[${d.join(',')}]`),
      journeyTags: fc.array(key.map(str), { maxLength: 2 }).map((t) => `[${t.join(',')}]`),
      messageClass: fc.constantFrom('["marketing"]', '["transactional","marketing"]', '["valueOf"]'),
      [`extra`]: scalar,
    },
    { requiredKeys: ['kind', 'channel'] },
  )
  .map((fields) => object(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => [k === 'extra' ? 'constructor' : k, v])));
ROUTE_BODIES['POST /campaigns/{id}/runs'] = fc.oneof(fc.constantFrom('{}', '{"dryRun":true}', '{"dryRun":false}', '{"dryRun":"true"}'), fc.tuple(protoName, scalar).map(([k, v]) => object([[k, v]])));
/** Header values fetch can send (RFC 9110 field values: tab, visible ASCII, space, Latin-1), hostile to the header. */
const headerValue = fc.oneof(
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES, '', ' ', '""', '"', '"k"', 'a,b', 'k; x=1', '../..', '%00', '\t', 'é') },
  {
    weight: 2,
    // 31 stands for a tab; 127 (DEL) is no field character.
    arbitrary: fc.string({ maxLength: 40, unit: fc.integer({ min: 31, max: 255 }).filter((c) => c !== 127).map((c) => String.fromCharCode(c === 31 ? 9 : c)) }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 9000 }).map((n) => 'k'.repeat(n)) },
);
/** Headers a route reads, drawn for it (some of the time absent, or under another case). */
const ROUTE_HEADERS: Partial<Record<(typeof ROUTES)[number], fc.Arbitrary<Record<string, string>>>> = {
  'POST /campaigns/{id}/runs': fc
    .tuple(fc.constantFrom('Idempotency-Key', 'idempotency-key', 'IDEMPOTENCY-KEY'), headerValue)
    .map(([name, value]) => ({ [name]: value })),
};
ROUTE_BODIES['PUT /segments/{id}'] = ROUTE_BODIES['POST /segments'];
ROUTE_BODIES['PUT /offers/{id}'] = ROUTE_BODIES['POST /offers'];
const generic = fc.oneof({ weight: 6, arbitrary: anyJson }, { weight: 2, arbitrary: envelope }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });
const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    // A shipped campaign now and then, so a valid key reaches the run it names.
    id: route === 'POST /campaigns/{id}/runs' ? fc.oneof({ weight: 4, arbitrary: pathId }, { weight: 1, arbitrary: fc.constant('newsletter') })
      : pathId,
    snapshotId: pathId,
    query: fc.array(fc.tuple(fc.constantFrom(...QUERY_NAMES), queryValue), { maxLength: 3 }),
    body: fc.option(ROUTE_BODIES[route] ? fc.oneof({ weight: 3, arbitrary: ROUTE_BODIES[route] }, { weight: 1, arbitrary: generic }) : generic, { nil: undefined }),
    headers: fc.option(ROUTE_HEADERS[route] ?? fc.constant({}), { nil: undefined }),
  }),
);

/** Identity of every property of the built-ins a prototype-key bug would replace. */
function globals(): Map<string, unknown> {
  const seen = new Map<string, unknown>();
  const roots: [string, object][] = [
    ['Object', Object], ['Object.prototype', Object.prototype], ['Array', Array], ['Array.prototype', Array.prototype],
    ['Function.prototype', Function.prototype], ['String.prototype', String.prototype], ['JSON', JSON], ['Promise', Promise],
    ['Number.prototype', Number.prototype],
    // Node defines some globals lazily (URLSearchParams), so only the ones code here relies on.
    ['globalThis', { Object: globalThis.Object, Array: globalThis.Array, JSON: globalThis.JSON, Promise: globalThis.Promise, Map: globalThis.Map }],
  ];
  for (const [name, root] of roots) {
    for (const prop of Reflect.ownKeys(root)) {
      const descriptor = Object.getOwnPropertyDescriptor(root, prop)!;
      seen.set(`${name}.${String(prop)}`, 'value' in descriptor ? descriptor.value : descriptor.get);
    }
    seen.set(`${name} prototype`, Object.getPrototypeOf(root));
  }
  return seen;
}

describe('fuzz: hostile input on every public surface (local stack)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  let db: DynamoDBDocumentClient;
  let before: Map<string, unknown>;
  const stats = { requests: 0, started: 0, statuses: new Map<number, number>() };

  beforeAll(async () => {
    // Virtual time that never moves: waits stay parked, a quiet stack does not write, "tables unchanged" is exact.
    ctx = await openVirtualStack();
    db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: ctx.stack.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    before = globals();
    stats.started = Date.now();
  });
  afterAll(async () => {
    // The closing note reports these (run counts are fixed above).
    const statuses = [...stats.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ');
    console.info(`fuzz: ${stats.requests} requests in ${((Date.now() - stats.started) / 1000).toFixed(1)} s (${statuses})`);
    await ctx.stack.stop();
  });

  async function tables(): Promise<string> {
    const items: unknown[] = [];
    for (const table of Object.values(ctx.stack.tables)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
        items.push(...(page.Items ?? []).map((item) => [table, item]));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    return JSON.stringify(items.map((i) => JSON.stringify(i)).sort());
  }

  async function send(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) {
    stats.requests++;
    const response = await fetch(`${ctx.stack.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
    stats.statuses.set(response.status, (stats.statuses.get(response.status) ?? 0) + 1);
    return { status: response.status, text: await response.text() };
  }

  /** The tables as the last request left them (the stack is quiet between requests: nothing else writes). */
  let quietTables: string | undefined;

  /** Sends the request on a quiet stack and checks every invariant; `refused` says when the tables must be unchanged. */
  async function check(method: string, path: string, body: string | undefined, refused: (status: number) => boolean, headers?: Record<string, string>) {
    const deadLetters = ctx.stack.bus.deadLetters.length;
    const tablesBefore = quietTables ?? (await ctx.stack.settle(), await tables());
    const reply = await send(method, path, body, headers);
    await ctx.stack.settle();
    quietTables = await tables();

    // On failure the request and the reply are printed, to reproduce it.
    expect(reply.status < 500 ? 'below 500' : { request: `${method} ${path.slice(0, 200)}`, body: body?.slice(0, 300), reply }).toBe('below 500');
    expect(ctx.stack.bus.deadLetters.slice(deadLetters)).toEqual([]);
    if (refused(reply.status)) expect(quietTables).toBe(tablesBefore);
    expect(changedGlobals()).toEqual([]);
  }

  const changedGlobals = () => [...globals()].filter(([name, value]) => !Object.is(before.get(name), value)).map(([name]) => name);

  afterEach(async () => {
    expect(changedGlobals()).toEqual([]);
    // The server still answers, reading profiles and journeys as before.
    expect((await send('GET', '/health', undefined)).status).toBe(200);
    expect((await send('GET', '/journeys', undefined)).status).toBe(200);
  });

  it('the PutEvents endpoint answers 200 or an EventBridge 4xx, and the router takes whatever it accepts', async () => {
    const entry = fc
      .record(
        {
          Source: fc.oneof(fc.constantFrom('"fuzz"', '"waymark.journeys"', '""'), key.map(str), scalar),
          DetailType: fc.oneof(fc.constantFrom('"order.placed"', '"cart.updated"'), key.map(str), scalar),
          Detail: fc.oneof({ weight: 4, arbitrary: envelope }, { weight: 2, arbitrary: anyJson }).map(str),
          EventBusName: fc.constantFrom('"waymark-local"', '"other"', '5'),
          Time: fc.oneof(fc.integer({ min: 0, max: 40_000_000_000 }).map(String), time),
          Resources: fc.oneof(fc.constant('["arn:x"]'), json),
        },
        { requiredKeys: ['Source', 'DetailType', 'Detail'] },
      )
      .map((fields) => object(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)));
    const body = fc.oneof(
      { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 8, arbitrary: entry }, { weight: 1, arbitrary: json }), { maxLength: 12 }).map((es) => `{"Entries":[${es.join(',')}]}`) },
      { weight: 1, arbitrary: anyJson },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        await check('POST', '/', text, (status) => status >= 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' });
      }),
      { seed: SEED, numRuns: RUNS.putEvents, endOnFailure: true },
    );
  });

  it('POST /events answers 202 or a 4xx problem, and a refused event writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: envelope }, { weight: 1, arbitrary: anyJson }), async (text) => {
        await check('POST', '/events', text, (status) => status >= 400);
      }),
      { seed: SEED, numRuns: RUNS.events, endOnFailure: true },
    );
  });

  it('every API route answers below 500 for generated ids, queries and bodies, and a refused request writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, id, snapshotId, query, body, headers }) => {
        const [method, template] = route.split(' ') as [string, string];
        const path = template.replace('{id}', encodeURIComponent(id)).replace('{snapshotId}', encodeURIComponent(snapshotId)).replace('{journeyId}', encodeURIComponent(snapshotId))
          .replace('{runId}', encodeURIComponent(snapshotId))
          .replace('{action}', ['pause', 'resume', 'cancel', '__proto__', encodeURIComponent(id)][id.length % 5]);
        const search = query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
        await check(method, `${path}${search}`, method === 'GET' || method === 'DELETE' ? undefined : body, (status) => status >= 400, headers);
      }),
      { seed: SEED, numRuns: RUNS.routes, endOnFailure: true },
    );
  });
});

