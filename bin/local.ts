// `npm start`: the whole platform on this machine. Quiet Powertools unless told otherwise, before handlers load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_REGION ??= 'local';

async function main(): Promise<void> {
  const { startLocalStack } = await import('../lambdas/local/stack');
  const timeScale = Number(process.env.WAYMARK_TIME_SCALE ?? 1);
  const stack = await startLocalStack({ port: Number(process.env.PORT ?? 3000), timeScale });
  process.stdout.write(
    [
      `Waymark local stack on ${stack.url} (time scale ${timeScale})`,
      `  journeys: ${stack.journeys.map((j) => j.journey.id).join(', ')}`,
      `  PutEvents: EventBridgeClient({ endpoint: '${stack.url}', region: 'local', credentials: any })`,
      `  outbox:    GET ${stack.url}/local/outbox`,
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
