// Imported first by tests that build handlers: Powertools stays offline and quiet (no X-Ray SDK, no metrics flush).
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
