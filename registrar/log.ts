/**
 * Logging: pino, injected everywhere. Every component gets a child logger with a `component` tag
 * (`transport`, `transaction`, `registrar`, ...) and logs key:value context, never bare strings alone.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Write to this file descriptor (default 1, stdout). */
  fd?: number;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', base: { app: 'sipmeet' } },
    pino.destination({ fd: opts.fd ?? 1, sync: false }),
  );
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
