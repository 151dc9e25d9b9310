/**
 * THE mapping from PostgreSQL errors to HTTP problems. Every custom SQLSTATE raised by a
 * migration is registered here exactly once; code downstream reads `code`, never message text.
 */

export interface ProblemMapping {
  status: number;
  /** Stable, documented, machine-readable code (problem+json `code`). */
  code: string;
  title: string;
}

/** Custom SQLSTATEs raised by Slotbase's SQL (5 characters, `SB…`). */
export const DOMAIN_ERRORS = {
  SBUNA: { status: 401, code: 'unauthenticated', title: 'Sign in first' },
  SBOWN: { status: 409, code: 'last_owner', title: 'A tenant must keep at least one owner' },
  SBTAK: { status: 409, code: 'slot_taken', title: 'That time is no longer available' },
  SBFUL: { status: 409, code: 'session_full', title: 'Not enough seats left in this session' },
  SBOUT: { status: 422, code: 'outside_availability', title: 'That time is outside the available hours' },
  SBLAT: { status: 422, code: 'too_late', title: 'Too late to book that time' },
  SBEAR: { status: 422, code: 'too_early', title: 'Too early to book that time' },
  SBPTY: { status: 422, code: 'party_too_large', title: 'The party is larger than this service allows' },
  SBTRN: { status: 409, code: 'invalid_transition', title: 'The booking cannot change to that status' },
  SBNF1: { status: 404, code: 'not_found', title: 'Not found' },
  SBIDM: { status: 409, code: 'idempotency_conflict', title: 'This idempotency key was used for a different request' },
  SBRNG: { status: 422, code: 'invalid_range', title: 'The time range is empty or too long' },
  SBVAL: { status: 422, code: 'validation_failed', title: 'The request is not valid' },
  SBAPP: { status: 409, code: 'append_only', title: 'History cannot be changed' },
  SBWHD: { status: 409, code: 'webhook_endpoint_disabled', title: 'The webhook endpoint is disabled' },
  SBPLN: { status: 402, code: 'plan_limit_reached', title: 'Your plan does not allow more of these' },
  SBPAU: { status: 409, code: 'booking_paused', title: 'This business is not taking online bookings right now' },
  SBSRC: { status: 409, code: 'series_conflict', title: 'Some dates of the series cannot be booked; nothing was changed' },
  SBRRL: { status: 422, code: 'invalid_recurrence', title: 'The recurrence rule is not valid or not supported' },
  SBRMX: { status: 422, code: 'too_many_occurrences', title: 'The series has more occurrences than allowed' },
  SBOFX: { status: 409, code: 'offer_expired', title: 'This waitlist offer has expired or was withdrawn' },
  SBLIM: { status: 409, code: 'booking_limit_reached', title: 'A booking limit of this service or provider is reached' },
  SBDEV: { status: 403, code: 'device_token_required', title: 'This service needs a device token' },
  SBNST: { status: 409, code: 'booking_not_started', title: 'The booking has not started yet' },
  SBIVN: { status: 404, code: 'invitation_not_found', title: 'No such invitation' },
  SBIVA: { status: 410, code: 'invitation_accepted', title: 'This invitation was already accepted' },
  SBIVR: { status: 410, code: 'invitation_revoked', title: 'This invitation was revoked' },
  SBIVX: { status: 410, code: 'invitation_expired', title: 'This invitation has expired' },
  SBACT: { status: 409, code: 'stripe_account_in_use', title: 'This Stripe account is connected to another business' },
  SBANS: { status: 422, code: 'invalid_answer', title: 'An answer to a booking question is not valid' },
} as const satisfies Record<string, ProblemMapping>;

/** Standard SQLSTATEs the API can meet, mapped the same way. */
export const STANDARD_ERRORS = {
  '23P01': { status: 409, code: 'slot_taken', title: 'That time is no longer available' },
  '23505': { status: 409, code: 'already_exists', title: 'Something with that value already exists' },
  '23514': { status: 422, code: 'validation_failed', title: 'The request is not valid' },
  '23502': { status: 422, code: 'validation_failed', title: 'A required value is missing' },
  '23503': { status: 422, code: 'invalid_reference', title: 'A referenced item does not exist' },
  '22P02': { status: 422, code: 'validation_failed', title: 'A value has the wrong format' },
  '22007': { status: 422, code: 'validation_failed', title: 'A date or time has the wrong format' },
  '22008': { status: 422, code: 'validation_failed', title: 'A date or time is out of range' },
  '22023': { status: 422, code: 'validation_failed', title: 'A value is not valid' },
  // An integer beyond int4/int8 (found by test/http/fuzz.test.ts: a priority of -2147483649).
  '22003': { status: 422, code: 'validation_failed', title: 'A number is out of range' },
  // A NUL character in text (PostgreSQL text cannot hold U+0000; found by test/http/fuzz.test.ts).
  '22021': { status: 422, code: 'validation_failed', title: 'A value contains a character that is not allowed' },
  '22P05': { status: 422, code: 'validation_failed', title: 'A value contains a character that is not allowed' },
  '42501': { status: 403, code: 'forbidden', title: 'Not allowed' },
  // accept_invitation: the invited email has an account whose password was not given.
  '28P01': { status: 401, code: 'invalid_credentials', title: 'Email or password is wrong' },
  '40001': { status: 503, code: 'busy', title: 'Please retry' },
  '40P01': { status: 503, code: 'busy', title: 'Please retry' },
  '57014': { status: 503, code: 'busy', title: 'The request took too long' },
} as const satisfies Record<string, ProblemMapping>;

export interface DatabaseProblem extends ProblemMapping {
  sqlstate: string;
  /** The field a constraint or hint names, for problem+json `errors[]`. */
  field?: string;
}

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
  hint?: unknown;
  column?: unknown;
  column_name?: unknown;
  table?: unknown;
  table_name?: unknown;
}

/**
 * Field a constraint is about, from its conventional name: `<table>_<column>_check|_key|_fkey`
 * (`locations_time_zone_check` → `time_zone`, `services_tenant_id_slug_key` → `slug`).
 */
export function fieldOfConstraint(constraint: string, table?: string): string | undefined {
  const m = /^(.*)_(check|key|fkey|excl)$/.exec(constraint);
  if (!m) return undefined;
  let rest = m[1]!;
  if (table && rest.startsWith(`${table}_`)) rest = rest.slice(table.length + 1);
  rest = rest.replace(/^tenant_id_/, '');
  return rest || undefined;
}

/** Maps an error thrown by postgres.js or PGlite to a problem, or undefined when it is not a known SQLSTATE. */
export function problemFromDatabaseError(error: unknown): DatabaseProblem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as PgErrorLike;
  if (typeof e.code !== 'string') return undefined;
  const sqlstate = e.code;
  const mapping: ProblemMapping | undefined =
    (DOMAIN_ERRORS as Record<string, ProblemMapping>)[sqlstate] ?? (STANDARD_ERRORS as Record<string, ProblemMapping>)[sqlstate];
  if (!mapping) return undefined;
  const constraint = typeof e.constraint_name === 'string' ? e.constraint_name : typeof e.constraint === 'string' ? e.constraint : undefined;
  const column = typeof e.column_name === 'string' ? e.column_name : typeof e.column === 'string' ? e.column : undefined;
  const table = typeof e.table_name === 'string' ? e.table_name : typeof e.table === 'string' ? e.table : undefined;
  const field =
    // A hint names a field: `contact_email`, or `answers.<question id>` for booking questions.
    (typeof e.hint === 'string' && /^[a-z_]+(\.[0-9a-f-]{36})?$/.test(e.hint) ? e.hint : undefined) ??
    column ??
    (constraint ? fieldOfConstraint(constraint, table) : undefined);
  return { sqlstate, ...mapping, ...(field ? { field } : {}) };
}

/**
 * Codes meaning the database cannot be reached or dropped the connection: PostgreSQL down,
 * restarting or shutting down (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
 * 08xxx connection exceptions), postgres.js losing the socket, or the network. The API answers
 * them 503 `database_unavailable`; a retry succeeds once the server is back (the pool reconnects).
 */
const UNAVAILABLE_CODES = new Set([
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006',
  'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
}
