import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { describeError } from '../infra/logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Log metadata as it may be written: errors reduced to name, code and message (no stack, no SQL values). */
function safeMetadata(meta: LogMetadata | undefined): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (key === 'stack' || key === 'stackTrace') continue;
    safe[key] = value instanceof Error ? describeError(value) : value;
  }
  return safe;
}

/**
 * The Temporal SDK's logger interface over pino: the worker's own lifecycle, Core's
 * messages and the replay-aware workflow and activity loggers all come out as JSON
 * lines, with their metadata (workflowId, activityType, attempt, …) as fields.
 */
export function temporalLoggerOf(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => logger[PINO_LEVEL[level]](safeMetadata(meta), message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** Saga durations in seconds, from a fast refusal to a saga that waited out its retries. */
export const SAGA_DURATION_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/**
 * Installs the process's Temporal Runtime: its logs go to pino, and, when `metricsPort`
 * is not 0, the SDK's metrics (plus the sagas' own, recorded by activities) are served
 * for Prometheus at `http://<host>:<port>/metrics`. Must run before any connection is made.
 */
export function installWorkerRuntime(logger: Logger, metrics: { host: string; port: number }): void {
  try {
    installRuntime(logger, metrics);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot serve worker metrics on ${metrics.host}:${metrics.port} (${reason}): give each worker process its own WORKER_METRICS_PORT, or 0 to turn it off`, { cause: error });
  }
}

function installRuntime(logger: Logger, metrics: { host: string; port: number }): void {
  Runtime.install({
    logger: temporalLoggerOf(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(metrics.port === 0
        ? {}
        : {
            metrics: {
              prometheus: {
                bindAddress: `${metrics.host}:${metrics.port}`,
                useSecondsForDurations: true,
                histogramBucketOverrides: { sagapay_saga_duration: SAGA_DURATION_BUCKETS_SECONDS },
              },
            },
          }),
    },
  });
}
