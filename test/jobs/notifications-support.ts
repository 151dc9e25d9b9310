import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import ICAL from 'ical.js';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createMailer, type Mailer } from '#src/lib/mailer.ts';
import { createLogger } from '#src/lib/logger.ts';

/** A mail as the SMTP server received it: envelope and the parsed message. */
export interface ReceivedMail {
  from: string;
  to: string[];
  parsed: ParsedMail;
  raw: string;
}

export interface TestSmtp {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** Mails whose envelope goes to `address`. */
  to(address: string): ReceivedMail[];
  /** A nodemailer transport pointed at this server (close it after use). */
  mailer(timeouts?: { connection?: number; greeting?: number; socket?: number }): Mailer;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package) that keeps what it accepts.
 * `refuse` answers RCPT TO or DATA with an SMTP error instead.
 */
export async function startSmtp(options: { refuse?: { at: 'rcpt' | 'data'; code: number; message: string }; /** A slow server: answers DATA this much later. */ acceptAfterMs?: number } = {}): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const refuse = options.refuse;
  const serverOptions: SMTPServerOptions = {
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuse?.at === 'rcpt') return callback(Object.assign(new Error(refuse.message), { responseCode: refuse.code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse?.at === 'data') return callback(Object.assign(new Error(refuse.message), { responseCode: refuse.code }));
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              parsed,
              raw,
            });
            if (options.acceptAfterMs) setTimeout(() => callback(), options.acceptAfterMs);
            else callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const mailers: Mailer[] = [];
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    to: (address) => received.filter((m) => m.to.includes(address)),
    mailer(timeouts) {
      const m = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Slotbase <no-reply@slotbase.test>', logger: createLogger('silent'), timeouts });
      mailers.push(m);
      return m;
    },
    async close() {
      for (const m of mailers) m.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that accepts connections and never says anything (a hung mail server). */
export async function startSilentServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createNetServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SmsRequest {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  form: Record<string, string>;
}

/** A Twilio-compatible SMS API on 127.0.0.1 (node:http): records each request, answers `respond`'s status and JSON. */
export async function startSmsProvider(
  respond: (req: SmsRequest, n: number) => { status: number; body: Record<string, unknown> } = (_req, n) => ({ status: 201, body: { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' } }),
): Promise<{ url: string; requests: SmsRequest[]; close(): Promise<void> }> {
  const requests: SmsRequest[] = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const request: SmsRequest = { path: req.url ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], form };
      requests.push(request);
      const answer = respond(request, requests.length);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ParsedInvite {
  method: string;
  uid: string;
  sequence: number;
  status: string;
  start: Date;
  end: Date;
  startTzid: string | null;
}

/** The calendar part of a mail (nodemailer's icalEvent), parsed with ical.js; DTSTART resolved through the VTIMEZONE it carries. */
export function inviteOf(mail: ReceivedMail): ParsedInvite {
  const part = mail.parsed.attachments.find((a) => a.contentType.startsWith('text/calendar') || a.filename?.endsWith('.ics'));
  if (!part) throw new Error(`no calendar part in "${mail.parsed.subject}"`);
  const root = new ICAL.Component(ICAL.parse(part.content.toString('utf8')) as unknown[]);
  for (const vtz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  const vevent = root.getFirstSubcomponent('vevent');
  if (!vevent) throw new Error('no VEVENT');
  const event = new ICAL.Event(vevent);
  return {
    method: String(root.getFirstPropertyValue('method')),
    uid: event.uid,
    sequence: event.sequence,
    status: String(vevent.getFirstPropertyValue('status')),
    start: event.startDate.toJSDate(),
    end: event.endDate.toJSDate(),
    startTzid: (vevent.getFirstProperty('dtstart')?.getParameter('tzid') as string | undefined) ?? null,
  };
}
