// Runs s3rver (an S3-compatible endpoint) in its own process on a free loopback port, storing objects under the
// directory the parent gives; reports its port over IPC and exits when the parent goes away. Plain JavaScript so it
// starts without a TypeScript loader.
const S3rver = require('s3rver');

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(process.env.S3RVER_PORT || 0),
  directory: process.env.S3RVER_DIRECTORY,
  silent: true,
  // Path-style requests only (the clients use forcePathStyle): no vhost lookups of `<bucket>.localhost`.
  vhostBuckets: false,
  configureBuckets: (process.env.S3RVER_BUCKETS || '').split(',').filter(Boolean).map((name) => ({ name, configs: [] })),
});
server.run().then((address) => process.send({ port: address.port }), (error) => {
  process.stderr.write(`s3rver: ${error.stack || error}\n`);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
