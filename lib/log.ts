/**
 * Logging for every Mezzanine process: winston, to stderr, human-readable
 * by default, one JSON object a line with MEZZ_LOG_FORMAT=json.
 * Level from MEZZ_LOG_LEVEL (default info).
 */
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(component: string): Logger {
  const json = process.env.MEZZ_LOG_FORMAT === 'json';
  return winston.createLogger({
    level: process.env.MEZZ_LOG_LEVEL ?? 'info',
    defaultMeta: { component },
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, component: c, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${timestamp} ${level.padEnd(5)} [${c}] ${message}${extra}`;
          }),
        ),
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
}
