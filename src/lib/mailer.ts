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
  /** True when no SMTP server is configured and mails are printed to the log instead. */
  readonly printsToLog: boolean;
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL; unset prints every mail to the log. */
  smtpUrl?: string;
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
    : nodemailer.createTransport({ jsonTransport: true });
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
        logger.info({ mail: { to: message.to, subject: message.subject, text: message.text } }, 'mail (no SMTP_URL configured: printed, not sent)');
        return { messageId: info.messageId, response: 'logged' };
      }
      return { messageId: info.messageId, response: String((info as { response?: unknown }).response ?? '') };
    },
    close() {
      transport.close();
    },
  };
}
