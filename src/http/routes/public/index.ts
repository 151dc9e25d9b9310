import type postgres from 'postgres';
import { withSession } from '#src/db/session.ts';
import { isUnavailableError, recordBanHit, type BookingAttempt } from '#src/lib/bans.ts';
import {
  DEVICE_TOKEN_TTL_DAYS,
  deviceHashFor,
  hashToken,
  newDeviceToken,
  publicP256Jwk,
  useDeviceProof,
  verifyDeviceProof,
} from '#src/lib/device-tokens.ts';
import { createRouter } from '../../create-router.ts';
import { profileContact } from '../../profile-contact.ts';
import { ProblemError } from '../../problem.ts';
import type { z } from '@hono/zod-openapi';
import {
  cancelBooking,
  createBooking,
  getBooking,
  issueDeviceToken,
  listLocations,
  listProviders,
  listServices,
  listSlots,
  rescheduleBooking,
  type PublicLocation,
  type PublicProvider,
  type PublicService,
} from './public.routes.ts';

const notFound = (what: string) => new ProblemError(404, 'not_found', `${what} not found`);

/** The tenant behind a public slug, or 404. */
async function tenantBySlug(tx: postgres.TransactionSql, slug: string): Promise<{ id: string; time_zone: string }> {
  const [tenant] = await tx<{ id: string; time_zone: string }[]>`select id, time_zone from slotbase.public_tenant(${slug})`;
  if (!tenant) throw notFound('Business');
  return tenant;
}

const PUBLIC_BOOKING_COLUMNS = (b: string) => `
  ${b}.code, ${b}.status, ${b}.service_id, ${b}.provider_id, ${b}.location_id, ${b}.session_id,
  ${b}.starts_at, ${b}.ends_at, ${b}.party_size, ${b}.contact_name, ${b}.hold_expires_at`;

interface PublicBookingRow {
  code: string;
  status: 'held' | 'pending' | 'confirmed' | 'completed' | 'no_show' | 'cancelled' | 'rejected' | 'expired';
  service_id: string;
  provider_id: string;
  location_id: string;
  session_id: string | null;
  starts_at: Date;
  ends_at: Date;
  party_size: number;
  contact_name: string;
  hold_expires_at: Date | null;
}

const iso = (d: Date) => d.toISOString();
const present = (b: PublicBookingRow) => ({
  ...b,
  starts_at: iso(b.starts_at),
  ends_at: iso(b.ends_at),
  hold_expires_at: b.hold_expires_at ? iso(b.hold_expires_at) : null,
});

/** The manage token from `?token=` or the X-Manage-Token header. */
function manageToken(query: { token?: string | undefined }, header: string | undefined): string {
  const token = query.token ?? header;
  if (!token) throw notFound('Booking');
  return token;
}

export const publicRouter = createRouter()
  .openapi(listServices, async (c) => {
    const { tenant } = c.req.valid('param');
    const data = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const t = await tenantBySlug(tx, tenant);
      return tx<z.infer<typeof PublicService>[]>`
        select s.*, coalesce((
          select jsonb_agg(jsonb_build_object(
                   'id', q.id, 'position', q.position, 'kind', q.kind, 'label', q.label, 'help_text', q.help_text,
                   'is_required', q.is_required, 'max_length', q.max_length, 'options', q.options)
                 order by q.position, q.id)
          from slotbase.public_service_questions(${t.id}) as q where q.service_id = s.id), '[]'::jsonb) as questions
        from slotbase.public_services(${t.id}) as s`;
    });
    return c.json({ data: [...data] }, 200);
  })
  .openapi(listLocations, async (c) => {
    const { tenant } = c.req.valid('param');
    const data = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const t = await tenantBySlug(tx, tenant);
      return tx<z.infer<typeof PublicLocation>[]>`select * from slotbase.public_locations(${t.id})`;
    });
    return c.json({ data: [...data] }, 200);
  })
  .openapi(listProviders, async (c) => {
    const { tenant } = c.req.valid('param');
    const data = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const t = await tenantBySlug(tx, tenant);
      return tx<z.infer<typeof PublicProvider>[]>`select id, name, location_id, service_ids from slotbase.public_providers(${t.id})`;
    });
    return c.json({ data: [...data] }, 200);
  })
  .openapi(listSlots, async (c) => {
    const { tenant, service } = c.req.valid('param');
    const q = c.req.valid('query');
    const rows = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const t = await tenantBySlug(tx, tenant);
      const [svc] = await tx<{ id: string }[]>`
        select id from slotbase.public_services(${t.id}) where id::text = ${service} or slug = ${service}`;
      if (!svc) throw notFound('Service');
      return tx<{ starts_at: Date; ends_at: Date; provider_id: string; location_id: string; session_id: string | null; seats_left: number | null; local_starts_at: string }[]>`
        select starts_at, ends_at, provider_id, location_id, session_id, seats_left,
               to_char(local_starts_at, 'YYYY-MM-DD"T"HH24:MI:SS') as local_starts_at
        from slotbase.available_slots(${t.id}, ${svc.id}, ${q.from}, ${q.to}, ${q.provider ?? null}, ${q.location ?? null},
                                      ${q.timezone ?? null}, ${q.party_size ?? 1})`;
    });
    const data = rows.map((r) => ({ ...r, starts_at: iso(r.starts_at), ends_at: iso(r.ends_at) }));
    return c.json({ time_zone: q.timezone ?? null, data }, 200);
  })
  .openapi(createBooking, async (c) => {
    const { tenant } = c.req.valid('param');
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    const key = headers['idempotency-key'] ?? null;
    // An issued device token needs a fresh proof by its key (401 otherwise); see src/lib/device-tokens.ts.
    const deviceHash = await deviceHashFor(c.var.deps.sql, {
      tenantSlug: tenant, token: headers['x-device-token'], proof: headers['x-device-proof'],
      method: c.req.method, path: c.req.path, idempotencyKey: key,
    });
    // Only a signed-in caller may leave out the contact: their profile fills it.
    if (!body.contact && c.var.caller.role !== 'authenticated') {
      throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
        { field: 'contact', message: 'Required unless you are signed in', code: 'invalid_type' },
      ]);
    }
    let attempt: BookingAttempt | undefined;
    const receipt = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const t = await tenantBySlug(tx, tenant);
      const contact = body.contact ?? (await profileContact(tx));
      attempt = {
        tenantId: t.id, serviceId: body.service_id, startsAt: body.starts_at ?? null, sessionId: body.session_id ?? null,
        email: contact.email ?? null, phone: contact.phone ?? null, deviceHash,
      };
      const [r] = await tx<{ id: string; code: string; manage_token: string; status: 'held' | 'pending' | 'confirmed'; starts_at: Date; ends_at: Date; provider_id: string; location_id: string; session_id: string | null; party_size: number; hold_expires_at: Date | null }[]>`
        select * from slotbase.create_booking(
          p_tenant_id => ${t.id}, p_service_id => ${body.service_id}, p_starts_at => ${body.starts_at ?? null},
          p_provider_id => ${body.provider_id ?? null}, p_location_id => ${body.location_id ?? null},
          p_session_id => ${body.session_id ?? null}, p_party_size => ${body.party_size},
          p_contact_name => ${contact.name}, p_contact_email => ${contact.email ?? null},
          p_contact_phone => ${contact.phone ?? null}, p_notes => ${body.notes ?? null},
          p_hold => ${body.hold}, p_idempotency_key => ${key}, p_device_hash => ${deviceHash},
          p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb)`;
      return r!;
    }).catch(async (error: unknown) => {
      // A banned booker was told what an unavailable time tells anyone (the same error, rethrown
      // below); the attempt is logged for staff in a transaction of its own. Members of this
      // tenant booking here are staff, whom create_booking does not check.
      const caller = c.var.caller;
      const member = caller.role === 'authenticated' && caller.tenantId !== undefined && caller.tenantId === attempt?.tenantId;
      if (attempt && !member && isUnavailableError(error)) {
        await recordBanHit(c.var.deps.sql, attempt).catch((logError: unknown) =>
          c.var.deps.logger.error({ err: logError, requestId: c.get('requestId') }, 'could not record a ban hit'),
        );
      }
      throw error;
    });
    return c.json(
      {
        ...receipt,
        starts_at: iso(receipt.starts_at),
        ends_at: iso(receipt.ends_at),
        hold_expires_at: receipt.hold_expires_at ? iso(receipt.hold_expires_at) : null,
        manage_url: `/v1/public/bookings/${receipt.code}?token=${encodeURIComponent(receipt.manage_token)}`,
      },
      201,
    );
  })
  .openapi(issueDeviceToken, async (c) => {
    const { tenant } = c.req.valid('param');
    const { public_key } = c.req.valid('json');
    const jwk = publicP256Jwk(public_key);
    const proof = await verifyDeviceProof(c.req.valid('header')['x-device-proof'], { method: c.req.method, path: c.req.path });
    if (proof.jwk.x !== jwk.x || proof.jwk.y !== jwk.y) {
      throw new ProblemError(401, 'invalid_device_proof', 'The device proof is missing or not valid', 'The proof must be signed by the key in public_key');
    }
    const token = newDeviceToken();
    const [issued] = await c.var.deps.sql<{ tenant_id: string; expires_at: Date }[]>`
      select tenant_id, expires_at from slotbase_private.issue_device_token(
        ${tenant}, ${hashToken(token)}, ${proof.thumbprint}, ${JSON.stringify(jwk)}::text::jsonb,
        make_interval(days => ${DEVICE_TOKEN_TTL_DAYS}), ${c.var.clientAddress ?? null})`;
    await useDeviceProof(c.var.deps.sql, issued!.tenant_id, proof);
    return c.json({ device_token: token, key_thumbprint: proof.thumbprint, expires_at: iso(issued!.expires_at) }, 201);
  })
  .openapi(getBooking, async (c) => {
    const { code } = c.req.valid('param');
    const token = manageToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const [booking] = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      tx.unsafe<PublicBookingRow[]>(`select ${PUBLIC_BOOKING_COLUMNS('b')} from slotbase.find_booking($1, $2) as b`, [code, token]),
    );
    return c.json(present(booking!), 200);
  })
  .openapi(rescheduleBooking, async (c) => {
    const { code } = c.req.valid('param');
    const token = manageToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const body = c.req.valid('json');
    const [booking] = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      tx.unsafe<PublicBookingRow[]>(
        `select ${PUBLIC_BOOKING_COLUMNS('b')}
         from slotbase.find_booking($1, $2) as f,
              slotbase.reschedule_booking(f.id, p_starts_at => $3, p_provider_id => $4, p_session_id => $5, p_manage_token => $2) as b`,
        [code, token, body.starts_at ?? null, body.provider_id ?? null, body.session_id ?? null],
      ),
    );
    return c.json(present(booking!), 200);
  })
  .openapi(cancelBooking, async (c) => {
    const { code } = c.req.valid('param');
    const token = manageToken(c.req.valid('query'), c.req.header('x-manage-token'));
    const [booking] = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      tx.unsafe<PublicBookingRow[]>(
        `select ${PUBLIC_BOOKING_COLUMNS('b')}
         from slotbase.find_booking($1, $2) as f, slotbase.cancel_booking(f.id, 'cancelled by the booker', $2) as b`,
        [code, token],
      ),
    );
    return c.json(present(booking!), 200);
  });
