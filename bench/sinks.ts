/**
 * Local sinks for the worker benchmark, in a process of their own so their CPU is not taken from
 * the worker being measured: an HTTP receiver answering 204 (webhooks) and an SMTP server that
 * accepts every mail. Prints `{"http": port, "smtp": port}` on stdout; `GET /count` on the HTTP
 * port answers `{"requests": n, "mails": n}`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let requests = 0;
let mails = 0;
const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests, mails }));
    return;
  }
  req.resume();
  req.on('end', () => {
    requests += 1;
    res.writeHead(204).end();
  });
});
http.keepAliveTimeout = 60_000;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      mails += 1;
      callback();
    });
  },
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ http: (http.address() as AddressInfo).port, smtp: (smtp.server.address() as AddressInfo).port })}\n`);
process.on('SIGTERM', () => process.exit(0));
