// The local stack runs the Lambda handler code; keep Powertools quiet and offline in tests.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
process.env.AWS_REGION = 'local';
