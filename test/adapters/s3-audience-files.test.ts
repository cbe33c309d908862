import { GetObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AudienceFileError, S3AudienceFiles, S3_MIN_PART_BYTES } from '../../lambdas/adapters/s3-audience-files';
import type { AudienceFiles, AudienceRow } from '../../lambdas/core/campaigns/contract';
import { memoryAudienceFiles } from '../../lambdas/core/campaigns/memory';
import { localS3Client, startS3rver, type LocalS3 } from '../../lambdas/local/s3';

const BUCKET = 'audience-files-test';
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
});
afterAll(() => s3?.stop());

const rows = (n: number, from = 0, data?: Record<string, unknown>): AudienceRow[] =>
  Array.from({ length: n }, (_, i) => ({ profileId: `p-${from + i}`, ...(data ? { data } : {}) }));

async function collect(files: S3AudienceFiles, key: string): Promise<AudienceRow[]> {
  const out: AudienceRow[] = [];
  for await (const row of files.readRows(key)) out.push(row);
  return out;
}

async function objectText(key: string): Promise<string> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToString();
}

describe('S3AudienceFiles against s3rver', () => {
  it('writes rows as one JSON Lines object and reads them back in order', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    const written = [{ profileId: 'a', timeZone: 'Europe/Paris' }, { profileId: 'b', data: { bookings: [{ id: 1 }] } }];
    await files.writeRows('runs/c/r/one.jsonl', written);
    expect(await objectText('runs/c/r/one.jsonl')).toBe('{"profileId":"a","timeZone":"Europe/Paris"}\n{"profileId":"b","data":{"bookings":[{"id":1}]}}\n');
    expect(await collect(files, 'runs/c/r/one.jsonl')).toEqual(written);
  });

  it('replaces the object when the same key is written again (pages and batches are idempotent)', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    await files.writeRows('runs/c/r/again.jsonl', rows(3));
    await files.writeRows('runs/c/r/again.jsonl', rows(1, 10));
    expect(await collect(files, 'runs/c/r/again.jsonl')).toEqual([{ profileId: 'p-10' }]);
  });

  it('reads a set larger than one stream chunk line by line, rows split across chunks included', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    const many = rows(20_000, 0, { name: 'x'.repeat(40) });
    await files.writeRows('runs/c/r/many.jsonl', many);
    let n = 0;
    for await (const row of files.readRows('runs/c/r/many.jsonl')) {
      expect(row.profileId).toBe(`p-${n}`);
      n++;
    }
    expect(n).toBe(20_000);
  });

  it('refuses a row over MAX_ROW_BYTES on write and a line over it on read, naming the key', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    await expect(files.writeRows('runs/c/r/big.jsonl', [{ profileId: 'a', data: { x: 'y'.repeat(20_000) } }])).rejects.toThrow(
      /row 0 of runs\/c\/r\/big.jsonl is over 16384 bytes/,
    );
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/c/r/long-line.jsonl', Body: `{"profileId":"a"}\n${'z'.repeat(40_000)}\n` }));
    const read = collect(files, 'runs/c/r/long-line.jsonl');
    await expect(read).rejects.toThrow(AudienceFileError);
    await expect(read).rejects.toThrow(/line 2 of runs\/c\/r\/long-line.jsonl/);
  });

  it.each([
    ['not JSON', '{"profileId":"a"}\nnot json\n', /line 2 .* is not JSON/],
    ['an array', '[1,2]\n', /line 1 .* is not a JSON object/],
    ['a row without a profileId', '{"profile":"a"}\n', /line 1 .* has no string profileId/],
  ])('refuses a line that is %s', async (_what, body, message) => {
    const key = `runs/c/r/bad-${Math.random()}.jsonl`;
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
    await expect(collect(new S3AudienceFiles(s3.client, BUCKET), key)).rejects.toThrow(message);
  });

  it('fails with NoSuchKey for a set that does not exist', async () => {
    await expect(collect(new S3AudienceFiles(s3.client, BUCKET), 'runs/none.jsonl')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('lists every key under a prefix over several ListObjectsV2 pages, in lexicographic order', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    // ListObjectsV2 answers at most 1000 keys a page: 1,005 keys take two.
    const keys = Array.from({ length: 1005 }, (_, i) => `runs/list/parts/${String(i).padStart(4, '0')}.jsonl`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => files.writeRows(k, rows(1, Number(k.slice(16, 20))))));
    await files.writeRows('runs/list-other/x.jsonl', rows(1));
    expect(await files.list('runs/list/')).toEqual(keys);
  });

  it('composes small parts into one object with one PutObject, skipping nothing and counting rows', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET);
    await files.writeRows('runs/compose/parts/a.jsonl', rows(3, 0));
    await files.writeRows('runs/compose/parts/b.jsonl', []);
    await files.writeRows('runs/compose/parts/c.jsonl', rows(2, 3));
    const count = await files.compose(await files.list('runs/compose/parts/'), 'runs/compose/audience.jsonl');
    expect(count).toBe(5);
    expect((await collect(files, 'runs/compose/audience.jsonl')).map((r) => r.profileId)).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
  });

  it('composes a set larger than a part with a multipart upload whose parts are the part size but the last', async () => {
    // The calls as the client sends them: which commands, and each part's size.
    const client = localS3Client(s3.endpoint);
    const calls: { command: string; bytes?: number }[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const body = (args.input as { Body?: unknown }).Body;
        calls.push({ command: context.commandName as string, ...(Buffer.isBuffer(body) ? { bytes: body.length } : {}) });
        return next(args);
      },
      { step: 'initialize' },
    );
    const files = new S3AudienceFiles(client, BUCKET, { partBytes: S3_MIN_PART_BYTES });
    // ~12 MiB of rows over three parts: at least two multipart parts of 5 MiB and a smaller last one.
    const padding = { pad: 'x'.repeat(1000) };
    for (let p = 0; p < 3; p++) await files.writeRows(`runs/big/parts/${p}.jsonl`, rows(4000, p * 4000, padding));
    calls.length = 0;
    const count = await files.compose(await files.list('runs/big/parts/'), 'runs/big/audience.jsonl');
    expect(count).toBe(12_000);
    const writes = calls.filter((c) => c.command !== 'GetObjectCommand' && c.command !== 'ListObjectsV2Command');
    expect(writes.map((c) => c.command)).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    const parts = writes.filter((c) => c.command === 'UploadPartCommand').map((c) => c.bytes!);
    expect(parts.slice(0, -1)).toEqual([S3_MIN_PART_BYTES, S3_MIN_PART_BYTES]);
    expect(parts.at(-1)).toBeLessThan(S3_MIN_PART_BYTES);
    client.destroy();
    let n = 0;
    for await (const row of files.readRows('runs/big/audience.jsonl')) expect(row.profileId).toBe(`p-${n++}`);
    expect(n).toBe(12_000);
  });

  it('aborts the multipart upload when a part is missing, leaving no object and no open upload', async () => {
    const files = new S3AudienceFiles(s3.client, BUCKET, { partBytes: S3_MIN_PART_BYTES });
    await files.writeRows('runs/abort/parts/0.jsonl', rows(6000, 0, { pad: 'x'.repeat(1000) }));
    await expect(files.compose(['runs/abort/parts/0.jsonl', 'runs/abort/parts/missing.jsonl'], 'runs/abort/audience.jsonl')).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    expect(await files.list('runs/abort/audience')).toEqual([]);
    const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'runs/abort/' })).catch(() => undefined);
    expect(uploads?.Uploads ?? []).toEqual([]);
  });

  it('refuses a part size under S3 minimum', () => {
    expect(() => new S3AudienceFiles(s3.client, BUCKET, { partBytes: 1024 })).toThrow(/at least 5242880/);
  });
});

/** The same assertions on the S3 adapter and the in-memory port (lambdas/core/campaigns/memory.ts). */
const implementations: [string, () => AudienceFiles][] = [
  ['S3AudienceFiles (s3rver)', () => new S3AudienceFiles(s3.client, BUCKET)],
  ['memoryAudienceFiles', () => memoryAudienceFiles()],
];

describe.each(implementations)('AudienceFiles contract: %s', (_name, make) => {
  let n = 0;
  const prefix = () => `runs/contract-${++n}-${Math.random().toString(36).slice(2, 8)}/`;
  const read = async (files: AudienceFiles, key: string) => {
    const out: AudienceRow[] = [];
    for await (const row of files.readRows(key)) out.push(row);
    return out;
  };

  it('composes an empty part (a page that found no members) as no rows', async () => {
    const files = make();
    const p = prefix();
    await files.writeRows(`${p}parts/0000-000000.jsonl`, rows(2));
    await files.writeRows(`${p}parts/0000-000001.jsonl`, []);
    await files.writeRows(`${p}parts/0001-000000.jsonl`, rows(1, 5));
    const parts = await files.list(`${p}parts/`);
    expect(parts).toHaveLength(3);
    expect(await files.compose(parts, `${p}audience.jsonl`)).toBe(3);
    expect((await read(files, `${p}audience.jsonl`)).map((r) => r.profileId)).toEqual(['p-0', 'p-1', 'p-5']);
  });

  it('fails with NoSuchKey when a part it is given does not exist, and writes no set', async () => {
    const files = make();
    const p = prefix();
    await files.writeRows(`${p}parts/0000-000000.jsonl`, rows(2));
    const compose = files.compose([`${p}parts/0000-000000.jsonl`, `${p}parts/0000-000001.jsonl`], `${p}audience.jsonl`);
    await expect(compose).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await files.list(`${p}audience`)).toEqual([]);
  });

  it('fails with NoSuchKey reading a set that does not exist', async () => {
    await expect(read(make(), `${prefix()}none.jsonl`)).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
