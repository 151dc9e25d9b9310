import type { Task } from 'graphile-worker';
import type { Sql } from 'postgres';
import type { Config } from '#src/config.ts';
import type { Logger } from '#src/lib/logger.ts';
import type { Mailer } from '#src/lib/mailer.ts';
import type { SmsSender } from '#src/lib/sms.ts';

/**
 * What every task gets. Tasks run as the worker's own connection (the database owner, like
 * Supabase's service role): they cross tenants by design, so they only call slotbase_private
 * functions that take the tenant explicitly, and they re-read every row before acting.
 */
export interface JobDeps {
  /** postgres.js pool on the worker's database connection. */
  sql: Sql;
  logger: Logger;
  config: Config;
  /** Base URL for links in messages and feeds (PUBLIC_URL, or http://HOST:PORT). */
  publicUrl: string;
  mailer: Mailer;
  /** SMS through a Twilio-compatible API (SMS_*); `configured` is false when it is not set up. */
  sms: SmsSender;
  /** Outgoing HTTP (webhooks, SMS provider); injectable for tests and benchmarks. */
  fetch: typeof fetch;
  /** Outgoing HTTP to URLs tenants choose (webhooks): refuses private and internal addresses unless WEBHOOK_ALLOW_PRIVATE_TARGETS. */
  webhookFetch: typeof fetch;
}

/**
 * A task file in `src/jobs/tasks/` is named after its task identifier and default-exports one of
 * these: it receives the shared dependencies once at worker start and returns the task.
 */
export type TaskFactory = (deps: JobDeps) => Task;

export function defineTask(factory: TaskFactory): TaskFactory {
  return factory;
}
