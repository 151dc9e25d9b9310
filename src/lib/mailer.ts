import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '#src/lib/logger.ts';

/** One outgoing email: plain text and HTML, optionally a calendar invitation (ICS). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Becomes a text/calendar alternative and an .ics attachment (what calendar clients act on). */
  icalEvent?: { method: 'REQUEST' | 'CANCEL' | 'PUBLISH'; content: string; filename?: string };
  /** Stable per notification, so a receiver can drop a duplicate if a send is ever retried. */
  messageId?: string;
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  /** The server's final reply (e.g. `250 OK queued as …`), or `logged` when printing to the log. */
  response: string;
}

export interface Mailer {
  /** True when no SMTP server is configured: mails are written to the outbox directory (one log line each) instead. */
  readonly printsToLog: boolean;
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL; unset writes every mail to `outboxDir` instead of sending it. */
  smtpUrl?: string;
  /** Without SMTP: where each mail is written as `<message id>.eml` (open it with any mail client). Unset: nowhere. */
  outboxDir?: string;
  from: string;
  logger: Logger;
  /** Milliseconds; defaults are short enough that a hung server fails a job instead of stalling the worker. */
  timeouts?: { connection?: number; greeting?: number; socket?: number };
}

/** SMTP through nodemailer (pooled connections), or the log when no server is configured. */
export function createMailer(options: MailerOptions): Mailer {
  const { logger } = options;
  const printsToLog = !options.smtpUrl;
  const transport = options.smtpUrl
    ? nodemailer.createTransport({
        url: options.smtpUrl,
        pool: true,
        maxConnections: 5,
        connectionTimeout: options.timeouts?.connection ?? 10_000,
        greetingTimeout: options.timeouts?.greeting ?? 10_000,
        socketTimeout: options.timeouts?.socket ?? 30_000,
      })
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    printsToLog,
    async send(message) {
      const info = await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
        icalEvent: message.icalEvent
          ? { method: message.icalEvent.method, content: message.icalEvent.content, filename: message.icalEvent.filename ?? 'invite.ics' }
          : undefined,
      });
      if (printsToLog) {
        // The log gets no contact data and no content (subjects name customers, bodies carry
        // manage links): the recipient's domain and the file that holds the whole mail.
        let file: string | undefined;
        if (options.outboxDir) {
          const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(info.messageId).replace(/[^A-Za-z0-9._-]/g, '')}.eml`;
          try {
            await mkdir(options.outboxDir, { recursive: true, mode: 0o700 });
            await writeFile(join(options.outboxDir, name), (info as { message?: Buffer }).message ?? '', { mode: 0o600 });
            file = join(options.outboxDir, name);
          } catch (error) {
            logger.warn({ err: { message: (error as Error).message }, dir: options.outboxDir }, 'could not write the mail to the outbox');
          }
        }
        logger.info({ mail: { to_domain: message.to.split('@').pop(), message_id: info.messageId, file } }, 'mail not sent (no SMTP_URL): written to the outbox');
        return { messageId: info.messageId, response: 'logged' };
      }
      return { messageId: info.messageId, response: String((info as { response?: unknown }).response ?? '') };
    },
    close() {
      transport.close();
    },
  };
}
