import type { Context } from 'hono';
import type postgres from 'postgres';
import { problemFromDatabaseError } from '#src/db/errors.ts';
import { withSession } from '#src/db/session.ts';
import { hashDeviceToken, recordBanHit } from '#src/lib/bans.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { profileContact } from '../../profile-contact.ts';
import type { AppEnv } from '../../env.ts';
import { problemResponse, ProblemError } from '../../problem.ts';
import {
  cancelPublicSeries,
  cancelSeries,
  createPublicSeries,
  createSeries,
  getPublicSeries,
  getSeries,
  reschedulePublicSeries,
  rescheduleSeries,
} from './series.routes.ts';

/** What the series functions return (slotbase_private.series_result). */
interface SeriesJson {
  id: string;
  code: string;
  manage_token: string | null;
  conflicts: { sqlstate: string }[];
  [key: string]: unknown;
}

interface Conflict {
  sqlstate: string;
  starts_at: string;
  [key: string]: unknown;
}

/** A conflict's SQLSTATE as the problem `code` booking that date alone would answer. */
const withCode = <T extends { sqlstate: string }>(c: T) => ({ ...c, code: problemFromDatabaseError({ code: c.sqlstate })?.code ?? 'unavailable' });

/** The series as the API answers it: conflict codes added, the manage URL when the token is shown. */
export function presentSeries(s: SeriesJson) {
  return {
    ...s,
    manage_url: s.manage_token ? `/v1/public/booking-series/${s.code}?token=${encodeURIComponent(s.manage_token)}` : null,
    conflicts: s.conflicts.map(withCode),
  };
}

/** The conflicts SBSRC carries in its DETAIL (a JSON array), or undefined for any other error. */
function seriesConflicts(error: unknown): Conflict[] | undefined {
  const e = error as { code?: unknown; detail?: unknown } | null;
  if (!e || e.code !== 'SBSRC' || typeof e.detail !== 'string') return undefined;
  try {
    return JSON.parse(e.detail) as Conflict[];
  } catch {
    return undefined;
  }
}

/** Runs a series call; SBSRC becomes the 409 problem with every conflicting date (other errors go to onError). */
async function orConflict<T>(c: Context<AppEnv>, run: () => Promise<T>): Promise<{ ok: T } | { response: Response }> {
  try {
    return { ok: await run() };
  } catch (error) {
    const conflicts = seriesConflicts(error);
    if (!conflicts) throw error;
    return {
      response: problemResponse(c, {
        status: 409,
        code: 'series_conflict',
        title: 'Some dates of the series cannot be booked; nothing was changed',
        detail: (error as Error).message,
        conflicts: conflicts.map(withCode),
      } as never),
    };
  }
}

function seriesToken(query: { token?: string | undefined }, header: string | undefined): string {
  const token = query.token ?? header;
  if (!token) throw new ProblemError(404, 'not_found', 'Series not found');
  return token;
}

async function tenantBySlug(tx: postgres.TransactionSql, slug: string): Promise<string> {
  const [tenant] = await tx<{ id: string }[]>`select id from slotbase.public_tenant(${slug})`;
  if (!tenant) throw new ProblemError(404, 'not_found', 'Business not found');
  return tenant.id;
}

const one = (rows: readonly { r: SeriesJson }[]) => presentSeries(rows[0]!.r) as never;

const router = createRouter();
router.use('/v1/booking-series/*', async (c, next) => {
  requireMember(c);
  await next();
});
router.use('/v1/booking-series', async (c, next) => {
  requireMember(c);
  await next();
});

export const seriesRouter = router
  .openapi(createSeries, async (c) => {
    const caller = requireMember(c);
    const body = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'] ?? null;
    const result = await orConflict(c, () =>
      withSession(c.var.deps.sql, caller, (tx) => tx<{ r: SeriesJson }[]>`
        select slotbase.create_booking_series(
          p_tenant_id => ${caller.tenantId}, p_service_id => ${body.service_id}, p_starts_at => ${body.starts_at},
          p_rrule => ${body.rrule}, p_mode => ${body.mode}, p_provider_id => ${body.provider_id ?? null},
          p_location_id => ${body.location_id ?? null}, p_party_size => ${body.party_size},
          p_contact_name => ${body.contact.name}, p_contact_email => ${body.contact.email ?? null},
          p_contact_phone => ${body.contact.phone ?? null}, p_notes => ${body.notes ?? null},
          p_idempotency_key => ${key}, p_on_behalf => true,
          p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb) as r`),
    );
    if ('response' in result) return result.response as never;
    return c.json(one(result.ok), 201);
  })
  .openapi(getSeries, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<{ r: SeriesJson }[]>`select slotbase.get_booking_series(${id}) as r`);
    return c.json(one(rows), 200);
  })
  .openapi(cancelSeries, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const body = (c.req.valid('json') ?? {}) as { from_booking_id?: string; reason?: string };
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<{ r: SeriesJson }[]>`
      select slotbase.cancel_booking_series(${id}, ${body.from_booking_id ?? null}, ${body.reason ?? null}) as r`);
    return c.json(one(rows), 200);
  })
  .openapi(rescheduleSeries, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const result = await orConflict(c, () =>
      withSession(c.var.deps.sql, caller, (tx) => tx<{ r: SeriesJson }[]>`
        select slotbase.reschedule_booking_series(${id}, ${body.from_booking_id}, ${body.starts_at}) as r`),
    );
    if ('response' in result) return result.response as never;
    return c.json(one(result.ok), 200);
  })
  .openapi(createPublicSeries, async (c) => {
    const { tenant } = c.req.valid('param');
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    const key = headers['idempotency-key'] ?? null;
    const deviceHash = headers['x-device-token'] ? hashDeviceToken(headers['x-device-token']) : null;
    if (!body.contact && c.var.caller.role !== 'authenticated') {
      throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
        { field: 'contact', message: 'Required unless you are signed in', code: 'invalid_type' },
      ]);
    }
    let attempt: { tenantId: string; email: string | null; phone: string | null } | undefined;
    const result = await orConflict(c, () =>
      withSession(c.var.deps.sql, c.var.caller, async (tx) => {
        const tenantId = await tenantBySlug(tx, tenant);
        const contact = body.contact ?? (await profileContact(tx));
        attempt = { tenantId, email: contact.email ?? null, phone: contact.phone ?? null };
        return tx<{ r: SeriesJson }[]>`
          select slotbase.create_booking_series(
            p_tenant_id => ${tenantId}, p_service_id => ${body.service_id}, p_starts_at => ${body.starts_at},
            p_rrule => ${body.rrule}, p_mode => ${body.mode}, p_provider_id => ${body.provider_id ?? null},
            p_location_id => ${body.location_id ?? null}, p_party_size => ${body.party_size},
            p_contact_name => ${contact.name}, p_contact_email => ${contact.email ?? null},
            p_contact_phone => ${contact.phone ?? null}, p_notes => ${body.notes ?? null},
            p_idempotency_key => ${key}, p_device_hash => ${deviceHash},
            p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb) as r`;
      }),
    );
    if ('response' in result) {
      // Every date "taken": a banned booker is told exactly that, and the attempt is logged for
      // staff (record_ban_hit re-checks the ban and logs nothing otherwise), as for single bookings.
      const caller = c.var.caller;
      const member = caller.role === 'authenticated' && caller.tenantId !== undefined && caller.tenantId === attempt?.tenantId;
      if (attempt && !member) {
        await recordBanHit(c.var.deps.sql, {
          tenantId: attempt.tenantId, serviceId: body.service_id, startsAt: body.starts_at, sessionId: null,
          email: attempt.email, phone: attempt.phone, deviceHash,
        }).catch((logError: unknown) => c.var.deps.logger.error({ err: logError, requestId: c.get('requestId') }, 'could not record a ban hit'));
      }
      return result.response as never;
    }
    return c.json(one(result.ok), 201);
  })
  .openapi(getPublicSeries, async (c) => {
    const { code } = c.req.valid('param');
    const token = seriesToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const rows = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: SeriesJson }[]>`select slotbase.find_booking_series(${code}, ${token}) as r`);
    return c.json(one(rows), 200);
  })
  .openapi(cancelPublicSeries, async (c) => {
    const { code } = c.req.valid('param');
    const token = seriesToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const body = (c.req.valid('json') ?? {}) as { from_booking_id?: string; reason?: string };
    const rows = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: SeriesJson }[]>`
      select slotbase.cancel_booking_series((slotbase.find_booking_series(${code}, ${token}) ->> 'id')::uuid,
                                            ${body.from_booking_id ?? null}, ${body.reason ?? 'cancelled by the booker'}, ${token}) as r`);
    return c.json(one(rows), 200);
  })
  .openapi(reschedulePublicSeries, async (c) => {
    const { code } = c.req.valid('param');
    const token = seriesToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const body = c.req.valid('json');
    const result = await orConflict(c, () =>
      withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: SeriesJson }[]>`
        select slotbase.reschedule_booking_series((slotbase.find_booking_series(${code}, ${token}) ->> 'id')::uuid,
                                                  ${body.from_booking_id}, ${body.starts_at}, ${token}) as r`),
    );
    if ('response' in result) return result.response as never;
    return c.json(one(result.ok), 200);
  });
