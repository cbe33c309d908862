// `npm start`: the whole platform on this machine. Quiet Powertools unless told otherwise, before handlers load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_REGION ??= 'local';

async function main(): Promise<void> {
  const { startLocalStack } = await import('../lambdas/local/stack');
  const timeScale = Number(process.env.WAYMARK_TIME_SCALE ?? 1);
  // The hourly segment re-check of AWS, on the scaled clock (at most once a second, never two at once, and at most
  // a tenth of the real time: see lambdas/local/README.md).
  const recheckIntervalMs = Number.isFinite(timeScale) ? Math.max(1000, 3_600_000 / timeScale) : 1000;
  const stack = await startLocalStack({ port: Number(process.env.PORT ?? 3000), timeScale, recheckIntervalMs, s3: true });
  process.stdout.write(
    [
      `Waymark local stack on ${stack.url} (time scale ${timeScale})`,
      `  journeys: ${stack.journeys.map((j) => j.journey.id).join(', ')}`,
      `  segments: ${(await stack.segmentStore.list()).map((s) => s.definition.id).join(', ')} (re-checked every ${recheckIntervalMs / 1000} s)`,
      `  PutEvents: EventBridgeClient({ endpoint: '${stack.url}', region: 'local', credentials: any })`,
      `  outbox:    GET ${stack.url}/local/outbox`,
      `  S3:        ${stack.s3?.endpoint} (s3rver; bucket ${stack.s3?.bucket}; forcePathStyle, credentials S3RVER/S3RVER)`,
      '',
    ].join('\n'),
  );
  const shutdown = async () => {
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
