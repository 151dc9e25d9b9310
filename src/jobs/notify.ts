import type { Sql } from 'postgres';
import type { JobDeps } from '#src/jobs/deps.ts';
import { catalogFor, formatStart, formatWhen, formatWhenShort, renderEmail, renderSms, type LocaleCatalog, type MessageFields, type Template } from '#src/jobs/messages/index.ts';
import { bookingInvite, type CalendarBooking } from '#src/lib/ics.ts';
import type { MailMessage } from '#src/lib/mailer.ts';
import { normalizePhone, SMS_INVALID_NUMBER_CODES, SMS_UNSUBSCRIBED_CODES, SmsError } from '#src/lib/sms.ts';

/**
 * The notification pipeline every notification task shares.
 *
 * "Nothing sent twice": each message has a semantic dedupe key (what it is about, for whom, on
 * which channel). Before sending, the task claims the log row for that key
 * (slotbase_private.claim_notification: created `queued` if new, row-locked so a concurrent
 * duplicate waits). A `sent` or `skipped` row is final: nothing is sent. Otherwise the message is
 * sent, and right after the server accepted it the row becomes `sent` with the provider's id.
 * A failed send records `failed` with the error and then throws, so graphile-worker retries the
 * job with its backoff; a later success flips the row to `sent`.
 *
 * The window that remains: the process dies after the server accepted the message and before the
 * `sent` row committed. The retry then sends again; for email the Message-ID is derived from the
 * notification id, so the second copy carries the same Message-ID and receivers can drop it.
 */

export interface BookingContext {
  tenant_id: string;
  booking_id: string;
  code: string;
  status: string;
  status_reason: string | null;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
  updated_at: Date;
  tenant_name: string;
  locale: string;
  settings: Record<string, unknown>;
  location_id: string;
  location_name: string;
  location_address: string | null;
  time_zone: string;
  service_name: string;
  provider_id: string;
  provider_name: string;
  provider_email: string | null;
  contact_name: string;
  contact_email: string | null;
  contact_phone: string | null;
  manage_token: string;
  sequence: number;
  /** Ever pending or confirmed (a hold that was only held and then dropped was never a booking to tell anyone about). */
  was_requested: boolean;
  /** The booker's answers to the service's questions (bookings.answers). */
  answers: { question_id: string; label: string; kind: string; value: string | string[] | boolean }[];
}

/** The booking as it is now, with everything a message needs; undefined when it is gone. */
export async function loadBookingContext(sql: Sql, tenantId: string, bookingId: string): Promise<BookingContext | undefined> {
  const [row] = await sql<BookingContext[]>`
    select c.*, coalesce(slotbase_private.booking_answers_of(c.tenant_id, c.booking_id), '[]'::jsonb) as answers
    from slotbase_private.notification_context(${tenantId}::uuid, ${bookingId}::uuid) as c`;
  return row;
}

/** The refund decided when the booking was cancelled or rejected (20261124150000), for the notice mail; undefined when nothing was paid. */
export async function loadBookingRefund(sql: Sql, tenantId: string, bookingId: string): Promise<MessageFields['refund']> {
  const [row] = await sql<{ amount_cents: number; paid_cents: number; currency: string }[]>`
    select amount_cents, paid_cents, currency from slotbase_private.booking_refund_of(${tenantId}::uuid, ${bookingId}::uuid)`;
  return row ? { amountCents: row.amount_cents, paidCents: row.paid_cents, currency: row.currency } : undefined;
}

/** The link in customer messages where the booker views, reschedules or cancels. */
export function manageUrl(publicUrl: string, ctx: Pick<BookingContext, 'code' | 'manage_token'>): string {
  return `${publicUrl}/b/manage/${encodeURIComponent(ctx.code)}?token=${encodeURIComponent(ctx.manage_token)}`;
}

/** The catalog of the tenant's language and the fields every template may show. */
export function messageFieldsOf(
  deps: Pick<JobDeps, 'publicUrl'>,
  ctx: BookingContext,
  extra: { previousStartsAt?: Date; reason?: string | null; withManageLink?: boolean; refund?: MessageFields['refund'] } = {},
): { catalog: LocaleCatalog; fields: MessageFields } {
  const catalog = catalogFor(ctx.locale);
  const fields: MessageFields = {
    tenantName: ctx.tenant_name,
    serviceName: ctx.service_name,
    providerName: ctx.provider_name,
    locationName: ctx.location_name,
    locationAddress: ctx.location_address,
    contactName: ctx.contact_name,
    contactEmail: ctx.contact_email,
    contactPhone: ctx.contact_phone,
    code: ctx.code,
    bookingId: ctx.booking_id,
    when: formatWhen(ctx.starts_at, ctx.ends_at, ctx.time_zone, catalog.intl),
    whenShort: formatWhenShort(ctx.starts_at, ctx.time_zone, catalog.intl),
    ...(extra.previousStartsAt ? { previousWhen: formatStart(extra.previousStartsAt, ctx.time_zone, catalog.intl) } : {}),
    ...(extra.reason ? { reason: extra.reason } : {}),
    answers: (ctx.answers ?? []).map((a) => ({
      label: a.label,
      value: typeof a.value === 'boolean' ? (a.value ? catalog.labels.yes : catalog.labels.no) : Array.isArray(a.value) ? a.value.join(', ') : a.value,
    })),
    ...(extra.refund ? { refund: extra.refund } : {}),
    ...(extra.withManageLink === false ? {} : { manageUrl: manageUrl(deps.publicUrl, ctx) }),
  };
  return { catalog, fields };
}

/** MAIL_FROM's address part ("Clinic <no-reply@x>" → no-reply@x): the ORGANIZER of invitations. */
function fromAddress(mailFrom: string): string | undefined {
  const m = /<([^>]+)>/.exec(mailFrom);
  const address = (m ? m[1]! : mailFrom).trim();
  return /^[^@\s]+@[^@\s]+$/.test(address) ? address : undefined;
}

/** The booking as a calendar event (UID stable per booking, SEQUENCE from the database). */
export function calendarBookingOf(deps: Pick<JobDeps, 'publicUrl' | 'config'>, ctx: BookingContext): CalendarBooking {
  const organizerEmail = fromAddress(deps.config.MAIL_FROM);
  return {
    id: ctx.booking_id,
    code: ctx.code,
    status: ctx.status,
    starts_at: ctx.starts_at,
    ends_at: ctx.ends_at,
    time_zone: ctx.time_zone,
    summary: `${ctx.service_name} – ${ctx.tenant_name}`,
    description: `${ctx.service_name} with ${ctx.provider_name}. Booking code ${ctx.code}. Manage: ${manageUrl(deps.publicUrl, ctx)}`,
    location: [ctx.location_name, ctx.location_address].filter(Boolean).join(', '),
    organizer: { name: ctx.tenant_name, ...(organizerEmail ? { email: organizerEmail } : {}) },
    ...(ctx.contact_email ? { attendee: { name: ctx.contact_name, email: ctx.contact_email } } : {}),
    sequence: ctx.sequence,
    url: manageUrl(deps.publicUrl, ctx),
    created_at: ctx.created_at,
    updated_at: ctx.updated_at,
  };
}

/** What happened to one message: sent now, found already sent/skipped, skipped now, or failed (thrown later). */
export type Outcome = 'sent' | 'already' | 'skipped' | 'failed';

interface NotificationRow {
  id: string;
  status: 'queued' | 'sent' | 'failed' | 'skipped';
  reason: string | null;
}

export interface Target {
  tenantId: string;
  bookingId: string | null;
  /** A booking template, or `invitation` (a staff invitation, no booking: src/jobs/messages/invitation.ts). */
  template: Template | 'invitation';
}

/** Stable per notification: a re-send after a crash carries the same Message-ID. */
export function messageIdOf(notificationId: string, publicUrl: string): string {
  let host = 'slotbase.localhost';
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // keep the default
  }
  return `<notification.${notificationId}@${host}>`;
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/**
 * One email, at most once per dedupe key. `build` gets the notification id (for headers) and
 * returns the message without `to`/`messageId`. Resolves to the outcome, or rejects after
 * recording `failed` so the job is retried.
 */
export async function deliverEmail(
  deps: JobDeps,
  target: Target & { to: string; dedupeKey: string; build: () => Omit<MailMessage, 'to' | 'messageId'> },
): Promise<Outcome> {
  let failure: unknown;
  const outcome = await deps.sql.begin(async (tx): Promise<Outcome> => {
    const [row] = await tx<NotificationRow[]>`
      select id, status, reason from slotbase_private.claim_notification(
        ${target.tenantId}::uuid, ${target.bookingId}::uuid, 'email', ${target.template}, ${target.to}, ${target.dedupeKey})`;
    if (!row) throw new Error(`claim_notification returned no row for ${target.dedupeKey}`);
    if (row.status === 'sent') return 'already';
    if (row.status === 'skipped') return row.reason === 'opted_out' ? 'skipped' : 'already';
    try {
      const sent = await deps.mailer.send({ ...target.build(), to: target.to, messageId: messageIdOf(row.id, deps.publicUrl) });
      await tx`select 1 from slotbase_private.record_notification_attempt(${target.tenantId}::uuid, ${row.id}::uuid, 'sent', ${sent.messageId})`;
      return 'sent';
    } catch (error) {
      failure = error;
      await tx`select 1 from slotbase_private.record_notification_attempt(${target.tenantId}::uuid, ${row.id}::uuid, 'failed', null, ${errorText(error)}, 'smtp_error')`;
      return 'failed';
    }
  });
  log(deps, target, 'email', target.dedupeKey, outcome, failure);
  if (failure !== undefined) throw failure;
  return outcome;
}

/**
 * One SMS, at most once per dedupe key. Not configured or not enabled by the tenant
 * (settings.sms_notifications) → nothing at all; no phone → nothing; a number that is not E.164
 * → `skipped` (invalid_phone); an opted-out number → `skipped` (opted_out).
 */
export async function deliverSms(
  deps: JobDeps,
  target: Target & { settings: Record<string, unknown>; phone: string | null; dedupeKey: (phone: string) => string; body: () => string },
): Promise<Outcome | 'off'> {
  if (!deps.sms.configured || target.settings.sms_notifications !== true || !target.phone) return 'off';
  const phone = normalizePhone(target.phone);
  const recipient = phone ?? target.phone.trim().slice(0, 254);
  const dedupeKey = target.dedupeKey(recipient);
  let failure: unknown;
  const outcome = await deps.sql.begin(async (tx): Promise<Outcome> => {
    const [row] = await tx<NotificationRow[]>`
      select id, status, reason from slotbase_private.claim_notification(
        ${target.tenantId}::uuid, ${target.bookingId}::uuid, 'sms', ${target.template}, ${recipient}, ${dedupeKey},
        ${phone ? null : 'invalid_phone'})`;
    if (!row) throw new Error(`claim_notification returned no row for ${dedupeKey}`);
    if (row.status === 'sent') return 'already';
    if (row.status === 'skipped') return 'skipped';
    try {
      const sent = await deps.sms.send({ to: phone!, body: target.body() });
      await tx`select 1 from slotbase_private.record_notification_attempt(${target.tenantId}::uuid, ${row.id}::uuid, 'sent', ${sent.sid})`;
      return 'sent';
    } catch (error) {
      const code = error instanceof SmsError ? error.code : undefined;
      // The provider says this number can never get it: final, not retried.
      if (code !== undefined && (SMS_INVALID_NUMBER_CODES.has(code) || SMS_UNSUBSCRIBED_CODES.has(code))) {
        const unsubscribed = SMS_UNSUBSCRIBED_CODES.has(code);
        await tx`select 1 from slotbase_private.record_notification_attempt(${target.tenantId}::uuid, ${row.id}::uuid, 'skipped', null, ${errorText(error)},
          ${unsubscribed ? 'opted_out' : 'invalid_phone'})`;
        if (unsubscribed) await tx`select slotbase_private.add_notification_opt_out(${target.tenantId}::uuid, 'sms', ${phone!}, 'The SMS provider reported the number as unsubscribed')`;
        return 'skipped';
      }
      failure = error;
      await tx`select 1 from slotbase_private.record_notification_attempt(${target.tenantId}::uuid, ${row.id}::uuid, 'failed', null, ${errorText(error)}, 'sms_error')`;
      return 'failed';
    }
  });
  log(deps, target, 'sms', dedupeKey, outcome, failure);
  if (failure !== undefined) throw failure;
  return outcome;
}

/**
 * No contact data in logs: the dedupe key ends with the recipient's address, and an SMTP or SMS
 * provider's error often quotes it; both are logged with addresses and numbers masked (the
 * notification row, `GET /v1/notifications`, has the full record for staff).
 */
function log(deps: JobDeps, target: Target, channel: string, dedupeKey: string, outcome: Outcome, failure: unknown): void {
  const fields = { tenant_id: target.tenantId, booking_id: target.bookingId, template: target.template, channel, dedupe_key: maskContacts(dedupeKey), outcome };
  if (failure !== undefined) {
    const error = failure as { name?: string; message?: string; code?: unknown; responseCode?: unknown };
    const err = { type: error.name, message: maskContacts(String(error.message ?? failure)), code: error.code, responseCode: error.responseCode };
    deps.logger.warn({ ...fields, err }, 'notification failed (the job will be retried)');
  } else deps.logger.info(fields, `notification ${outcome}`);
}

/** `ada@example.com` → `***@example.com`; `+49 30 1234567` → `+49***`. */
export function maskContacts(text: string): string {
  return text
    .replace(/[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g, '***@$1')
    .replace(/\+?\d[\d ()./-]{5,}\d/g, (m) => `${m.slice(0, 3)}***`);
}

/**
 * Runs every delivery (each one independently: a failed SMS does not stop the email), then
 * rethrows the first failure so the job is retried; deliveries that succeeded are `sent` and are
 * not repeated by the retry.
 */
export async function deliverAll(deliveries: (() => Promise<unknown>)[]): Promise<void> {
  // One after the other: each holds a pooled connection (its row lock) while its server answers.
  const failed: unknown[] = [];
  for (const deliver of deliveries) {
    try {
      await deliver();
    } catch (error) {
      failed.push(error);
    }
  }
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new AggregateError(failed, failed.map(errorText).join('; '));
}

/** A customer email about a booking, with the invitation (REQUEST or CANCEL) attached. */
export function customerEmail(
  deps: JobDeps,
  ctx: BookingContext,
  template: Template,
  options: {
    dedupeKey: (to: string) => string;
    ics?: 'REQUEST' | 'CANCEL';
    previousStartsAt?: Date;
    reason?: string | null;
    withManageLink?: boolean;
    refund?: MessageFields['refund'];
  },
): () => Promise<Outcome | 'off'> {
  return async () => {
    if (!ctx.contact_email) return 'off';
    const to = ctx.contact_email.trim().toLowerCase();
    const { catalog, fields } = messageFieldsOf(deps, ctx, options);
    return deliverEmail(deps, {
      tenantId: ctx.tenant_id,
      bookingId: ctx.booking_id,
      template,
      to,
      dedupeKey: options.dedupeKey(to),
      build: () => ({
        ...renderEmail(catalog, template, fields),
        ...(options.ics ? { icalEvent: { method: options.ics, content: bookingInvite(calendarBookingOf(deps, ctx), options.ics), filename: 'invite.ics' } } : {}),
      }),
    });
  };
}

/** A customer SMS about a booking (confirmation and reminder only: short text). */
export function customerSms(
  deps: JobDeps,
  ctx: BookingContext,
  template: 'confirmation' | 'reminder',
  dedupeKey: (phone: string) => string,
): () => Promise<Outcome | 'off'> {
  return () => {
    const { catalog, fields } = messageFieldsOf(deps, ctx);
    return deliverSms(deps, {
      tenantId: ctx.tenant_id,
      bookingId: ctx.booking_id,
      template,
      settings: ctx.settings,
      phone: ctx.contact_phone,
      dedupeKey,
      body: () => renderSms(catalog, template, fields),
    });
  };
}
