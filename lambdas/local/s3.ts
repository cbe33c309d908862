import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** The local audience bucket (`${AudienceBucketName}` in the local stack). */
export const LOCAL_AUDIENCE_BUCKET = 'waymark-local-audience';

/** s3rver checks signatures against its one fixed key pair (its README: "Supported clients"). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  endpoint: string;
  client: S3Client;
  /** The buckets created at start. */
  buckets: readonly string[];
  stop(): Promise<void>;
}

/** An S3 client for a local endpoint: path-style addressing (no `<bucket>.127.0.0.1` host names), fixed credentials. */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'local',
    credentials: LOCAL_S3_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 5,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
}

/**
 * Starts s3rver in a child process (like dynalite: its own core) on a free loopback port, with its objects in a new
 * temporary directory that `stop` removes, and the given buckets created.
 */
export async function startS3rver(buckets: readonly string[] = [LOCAL_AUDIENCE_BUCKET]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'waymark-s3-'));
  const child = fork(join(__dirname, 's3rver-process.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
    execArgv: ['--openssl-legacy-provider'],
    env: { ...process.env, S3RVER_DIRECTORY: directory, S3RVER_BUCKETS: buckets.join(',') },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localS3Client(endpoint);
  return {
    endpoint,
    client,
    buckets,
    stop: async () => {
      client.destroy();
      // Already gone (a Ctrl-C reaches the whole process group): its 'exit' has fired, nothing to wait for.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
