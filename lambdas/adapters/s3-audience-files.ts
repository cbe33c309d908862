import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MAX_ROW_BYTES, type AudienceFiles, type AudienceRow } from '../core/campaigns/contract';

/**
 * S3's smallest part of a multipart upload (every part but the last):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html (5 MiB to 5 GiB, at most 10,000 parts).
 */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
const S3_MAX_PARTS = 10_000;
const NEWLINE = 0x0a;

/** A set object that is not JSON Lines of audience rows (named by key and line, so the run's error says where). */
export class AudienceFileError extends Error {
  override readonly name = 'AudienceFileError';
}

export interface S3AudienceFilesOptions {
  /**
   * `compose` writes one PutObject up to this many bytes and a multipart upload of parts this size beyond it.
   * At least S3_MIN_PART_BYTES. Default 8 MiB.
   */
  partBytes?: number;
}

/**
 * The audience bucket over S3 (s3rver locally): sets are JSON Lines objects, read as streams so no set is held in
 * memory, composed into one object by a multipart upload when large.
 */
export class S3AudienceFiles implements AudienceFiles {
  private readonly partBytes: number;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    options: S3AudienceFilesOptions = {},
  ) {
    this.partBytes = options.partBytes ?? 8 * 1024 * 1024;
    if (!(this.partBytes >= S3_MIN_PART_BYTES)) {
      throw new RangeError(`partBytes must be at least ${S3_MIN_PART_BYTES} (S3's smallest part), got ${options.partBytes}`);
    }
  }

  async writeRows(key: string, rows: readonly AudienceRow[]): Promise<void> {
    const lines = rows.map((row, i) => {
      const line = JSON.stringify(row);
      if (Buffer.byteLength(line) > MAX_ROW_BYTES) {
        throw new AudienceFileError(`row ${i} of ${key} is over ${MAX_ROW_BYTES} bytes`);
      }
      return `${line}\n`;
    });
    await this.put(key, Buffer.from(lines.join('')));
  }

  async *readRows(key: string): AsyncIterable<AudienceRow> {
    let n = 0;
    for await (const line of this.lines(key)) {
      n++;
      yield parseRow(line, key, n);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const list = new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token });
      const page = await this.s3.send(list);
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // S3 lists in UTF-8 binary order already; sorted again so the port's order never depends on the endpoint.
    return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Concatenates the parts' lines into `key`. Up to `partBytes` in all: one PutObject; beyond: a multipart upload of
   * `partBytes` parts (the last smaller), aborted on any error so no incomplete upload is left behind.
   */
  async compose(parts: readonly string[], key: string): Promise<number> {
    let rows = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let upload: { id: string; parts: { PartNumber: number; ETag: string }[] } | undefined;
    const flush = async (size: number) => {
      const all = Buffer.concat(pending);
      const body = all.subarray(0, size);
      const rest = all.subarray(size);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      upload ??= await this.createUpload(key);
      const PartNumber = upload.parts.length + 1;
      if (PartNumber > S3_MAX_PARTS) throw new AudienceFileError(`${key} would need more than ${S3_MAX_PARTS} parts`);
      const part = new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: upload.id, PartNumber, Body: body });
      const out = await this.s3.send(part);
      upload.parts.push({ PartNumber, ETag: out.ETag ?? '' });
    };
    try {
      for (const part of parts) {
        for await (const line of this.lines(part)) {
          const bytes = Buffer.from(`${line}\n`);
          pending.push(bytes);
          pendingBytes += bytes.length;
          rows++;
          if (pendingBytes > this.partBytes) await flush(this.partBytes);
        }
      }
      if (!upload) {
        await this.put(key, Buffer.concat(pending));
        return rows;
      }
      if (pendingBytes > 0) await flush(pendingBytes);
      const { id: UploadId, parts: Parts } = upload;
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId, MultipartUpload: { Parts } }));
      return rows;
    } catch (error) {
      if (upload) {
        const abort = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.id });
        await this.s3.send(abort).catch(() => undefined);
      }
      throw error;
    }
  }

  /** One PutObject; the length is given so an empty set is sent as one (not as a stream of unknown length). */
  private async put(key: string, body: Buffer): Promise<void> {
    const ContentType = 'application/x-ndjson';
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType }));
  }

  private async createUpload(key: string): Promise<{ id: string; parts: { PartNumber: number; ETag: string }[] }> {
    const create = new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: 'application/x-ndjson' });
    const out = await this.s3.send(create);
    if (!out.UploadId) throw new Error(`CreateMultipartUpload answered no UploadId for ${key}`);
    return { id: out.UploadId, parts: [] };
  }

  private lines(key: string): AsyncGenerator<string> {
    return objectLines(this.s3, this.bucket, key, MAX_ROW_BYTES);
  }
}

/**
 * The non-empty lines of an S3 object, read chunk by chunk from GetObject's stream: at most one line is held, and a
 * line longer than `maxLineBytes` fails without being read to its end. (The local Distributed Map's JSONL reader too.)
 */
export async function* objectLines(s3: S3Client, bucket: string, key: string, maxLineBytes: number): AsyncGenerator<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = out.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body) return;
  try {
    yield* splitLines(body, key, maxLineBytes);
  } finally {
    // A reader that stops early (a failed batch, a bad line) releases the connection.
    (body as { destroy?: () => void }).destroy?.();
  }
}

async function* splitLines(body: AsyncIterable<Uint8Array>, key: string, maxLineBytes: number): AsyncGenerator<string> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let line = 0;
  const take = (tail: Buffer): string => {
    const text = Buffer.concat([...carry, tail]).toString('utf8');
    carry = [];
    carryBytes = 0;
    line++;
    return text;
  };
  const tooLong = () => new AudienceFileError(`line ${line + 1} of ${key} is over ${maxLineBytes} bytes`);
  for await (const chunk of body) {
    let buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = buffer.indexOf(NEWLINE); at >= 0; at = buffer.indexOf(NEWLINE)) {
      if (carryBytes + at > maxLineBytes) throw tooLong();
      const text = take(buffer.subarray(0, at));
      buffer = buffer.subarray(at + 1);
      if (text.length > 0) yield text;
    }
    carry.push(Buffer.from(buffer));
    carryBytes += buffer.length;
    if (carryBytes > maxLineBytes) throw tooLong();
  }
  if (carryBytes > 0) {
    const text = take(Buffer.alloc(0));
    if (text.length > 0) yield text;
  }
}

/** One line as an audience row: a JSON object with a string `profileId` (what every step keys members by). */
function parseRow(line: string, key: string, n: number): AudienceRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new AudienceFileError(`line ${n} of ${key} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AudienceFileError(`line ${n} of ${key} is not a JSON object`);
  }
  if (typeof (value as { profileId?: unknown }).profileId !== 'string') {
    throw new AudienceFileError(`line ${n} of ${key} has no string profileId`);
  }
  return value as AudienceRow;
}
