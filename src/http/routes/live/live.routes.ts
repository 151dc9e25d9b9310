import { createRoute, z } from '@hono/zod-openapi';
import { problems } from '../../openapi.ts';

const TenantSlug = z.string().min(1).max(63).openapi({ param: { name: 'tenant', in: 'path' }, example: 'sunrise-clinic' });

const streamExample = [
  'retry: 2000',
  'event: ready',
  'data: {"tenant":"sunrise-clinic"}',
  '',
  'id: lq3k2f-17',
  'event: availability',
  'data: {"kind":"claim","subject_id":"0b5a3c8e-4b7f-4f6e-9d36-0c5f8f2b9a11","from":"2027-03-01T09:00:00.000Z","to":"2027-03-01T09:30:00.000Z"}',
  '',
].join('\n');

export const availabilityEvents = createRoute({
  method: 'get',
  path: '/v1/public/{tenant}/events',
  operationId: 'streamAvailabilityEvents',
  tags: ['Public booking'],
  summary: 'Live availability changes of a business (Server-Sent Events)',
  description: [
    'A `text/event-stream` that stays open. Events:',
    '- `ready` once connected;',
    '- `availability` whenever a provider or resource becomes busy or free (`kind: claim`, with the affected `from`/`to`),',
    '  a group session\'s seats change (`kind: session`, `subject_id` = session), or working hours change (`kind: schedule`,',
    '  `from`/`to` null). Refetch the slots you show when the range overlaps them;',
    '- `reset` when changes may have been missed (reconnect to another server, a database reconnect): refetch everything.',
    '',
    'Reconnect with the `Last-Event-ID` header (EventSource does this itself): missed events are replayed, or a `reset` is sent.',
    'A comment line is sent every 25 s so proxies keep the connection open.',
  ].join('\n'),
  request: {
    params: z.object({ tenant: TenantSlug }),
    headers: z.object({
      'last-event-id': z.string().max(100).optional().openapi({ param: { name: 'last-event-id', in: 'header' }, description: 'The id of the last event received (EventSource sends it when it reconnects)', example: 'lq3k2f-17' }),
    }),
  },
  responses: {
    200: {
      description: 'The event stream',
      content: { 'text/event-stream': { schema: z.string().openapi({ example: streamExample }), example: streamExample } },
    },
    ...problems(404, 503),
  },
});
