import { createRoute, z } from '@hono/zod-openapi';
import { PageQuery as CursorPageQuery } from '../../pagination.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { IdParam, pageOf, PageQuery, peopleOnly } from '../../staff.ts';
import { ids } from '../../examples.ts';

const notificationExample = {
  id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
  booking_id: ids.booking,
  channel: 'email' as const,
  template: 'confirmation' as const,
  recipient: 'ada@example.com',
  dedupe_key: `confirmation:${ids.booking}:email:ada@example.com`,
  status: 'sent' as const,
  reason: null,
  attempts: 1,
  provider_message_id: '<notification.a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d@slotbase.example>',
  last_error: null,
  created_at: '2027-02-20T14:12:06.001Z',
  updated_at: '2027-02-20T14:12:06.412Z',
  sent_at: '2027-02-20T14:12:06.412Z',
};
const optOutExample = {
  id: 'b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e',
  channel: 'sms' as const,
  address: '+49301234567',
  reason: 'Asked at the front desk not to get texts',
  created_by: ids.receptionist,
  created_at: '2027-02-21T09:30:00.000Z',
};

const Channel = z.enum(['email', 'sms']).openapi('NotificationChannel', { description: '`email` (SMTP, with a calendar invitation) or `sms`' });
const Status = z.enum(['queued', 'sent', 'failed', 'skipped']).openapi('NotificationStatus', {
  description:
    '`queued` (about to be sent), `sent` (the server accepted it), `failed` (the last attempt failed; the worker retries with backoff), ' +
    '`skipped` (not sent, see `reason`: `opted_out`, `invalid_phone`)',
});
const NotificationTemplate = z
  .enum(['confirmation', 'reminder', 'rescheduled', 'cancelled', 'rejected', 'approval_request', 'waitlist_offer', 'invitation'])
  .openapi('NotificationTemplate', {
    description: 'What the message is about; `approval_request` goes to staff, `invitation` (no booking) to an invited colleague, the others to the booker',
  });

export const Notification = z
  .object({
    id: Uuid,
    booking_id: Uuid.nullable(),
    channel: Channel,
    template: NotificationTemplate,
    recipient: z.string().openapi({ description: 'Email address, or the phone number (E.164 when valid)' }),
    dedupe_key: z.string().openapi({ description: 'What the message is about; a message with the same key is never sent twice' }),
    status: Status,
    reason: z.string().nullable().openapi({ description: 'Why it was skipped (`opted_out`, `invalid_phone`) or how it failed (`smtp_error`, `sms_error`)' }),
    attempts: z.number().int().openapi({ description: 'Send attempts so far' }),
    provider_message_id: z.string().nullable().openapi({ description: 'The mail\'s Message-ID or the SMS provider\'s message sid, once accepted' }),
    last_error: z.string().nullable().openapi({ description: 'The error of the last failed attempt' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    sent_at: Timestamp.nullable(),
  })
  .openapi('Notification', { example: notificationExample });

export const NotificationOptOut = z
  .object({
    id: Uuid,
    channel: Channel,
    address: z.string().openapi({ description: 'Normalized: lower-case email, or an E.164 phone number' }),
    reason: z.string().nullable(),
    created_by: Uuid.nullable().openapi({ description: 'The member who recorded it (null: reported by the SMS provider)' }),
    created_at: Timestamp,
  })
  .openapi('NotificationOptOut', { example: optOutExample });

export const NotificationOptOutCreate = z
  .strictObject({
    channel: Channel,
    address: z.string().trim().min(3).max(254).openapi({
      example: '+49 30 123-4567',
      description: 'An email address, or a phone number with its country code (spaces, dashes, dots, parentheses and a leading 00 are fine)',
    }),
    reason: z.string().trim().min(1).max(1000).optional().openapi({ example: 'Asked at the front desk not to get texts' }),
  })
  .openapi('NotificationOptOutCreate', { example: { channel: 'sms', address: '+49 30 123-4567', reason: 'Asked at the front desk not to get texts' } });

const ListQuery = z.object({
  ...CursorPageQuery,
  booking_id: Uuid.optional().openapi({ param: { name: 'booking_id', in: 'query' }, description: 'Only messages about this booking', example: ids.booking }),
  status: z.enum(['queued', 'sent', 'failed', 'skipped']).optional().openapi({ param: { name: 'status', in: 'query' }, description: 'Only messages with this status', example: 'failed' }),
  channel: z.enum(['email', 'sms']).optional().openapi({ param: { name: 'channel', in: 'query' }, description: 'Only this channel', example: 'email' }),
});

const tags = ['Notifications'];

export const listNotifications = createRoute({
  method: 'get',
  path: '/v1/notifications',
  operationId: 'listNotifications',
  tags,
  summary: 'The delivery log: every email and SMS sent, failed or skipped, newest first',
  description:
    'Tenant-wide owners, admins, receptionists and viewers see every message; members scoped to a location see messages about its ' +
    'bookings; providers see messages about their own bookings. The log is written only by the worker.',
  ...peopleOnly,
  request: { query: ListQuery },
  responses: {
    200: jsonContent(pageOf(Notification, 'Notification', { data: [notificationExample], next_cursor: null }), 'Messages, newest first'),
    ...problems(401, 403, 422),
  },
});

const optOutDescription =
  'Addresses (per channel) that get no notifications: the worker records such messages as `skipped` with reason `opted_out`. ' +
  'An SMS provider\'s "unsubscribed" answer (Twilio 21610) adds one by itself. Owners, admins and receptionists manage them.';

export const listNotificationOptOuts = createRoute({
  method: 'get',
  path: '/v1/notification-opt-outs',
  operationId: 'listNotificationOptOuts',
  tags,
  summary: 'Opt-outs, oldest first',
  description: optOutDescription,
  ...peopleOnly,
  request: { query: PageQuery },
  responses: {
    200: jsonContent(pageOf(NotificationOptOut, 'NotificationOptOut', { data: [optOutExample], next_cursor: null }), 'Opt-outs (providers and viewers see an empty list)'),
    ...problems(401, 403, 422),
  },
});

export const createNotificationOptOut = createRoute({
  method: 'post',
  path: '/v1/notification-opt-outs',
  operationId: 'createNotificationOptOut',
  tags,
  summary: 'Stop notifications to an email address or phone number',
  description: `${optOutDescription} One per channel and address (409 \`already_exists\`); an invalid address is 422.`,
  ...peopleOnly,
  request: { body: jsonBody(NotificationOptOutCreate) },
  responses: { 201: jsonContent(NotificationOptOut, 'Recorded'), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const deleteNotificationOptOut = createRoute({
  method: 'delete',
  path: '/v1/notification-opt-outs/{id}',
  operationId: 'deleteNotificationOptOut',
  tags,
  summary: 'Lift an opt-out (messages are sent again from now on)',
  description: optOutDescription,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Lifted' }, ...problems(401, 403, 404, 422) },
});
