import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (pino). One root logger per process; children carry context. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'slotbase', level });
}
