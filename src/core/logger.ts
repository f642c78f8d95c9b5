import { pino, type Logger, type DestinationStream } from 'pino';

/** Paths pino blanks in every log line, wherever they appear. */
export const REDACT_PATHS = [
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'req.headers.cookie', 'password', '*.password', 'secret', '*.secret', 'signingSecret', '*.signingSecret',
  'botToken', '*.botToken', 'x-slack-signature', '*["x-amzn-oidc-data"]',
];

/** The daemon's JSON-lines logger. Every line of a stage carries `incidentId` and `stage` via child loggers. */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'cloudops-watcher' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
