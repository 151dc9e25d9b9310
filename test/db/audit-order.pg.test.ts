import postgres from 'postgres';
import { expect, it } from 'vitest';
import { claimsOf, useTestDb } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';

const db = useTestDb();

it('the audit trail lists changes in the order they happened, even when a change waited for another transaction', async () => {
  const tenant = await createTenant(db(), { timeZone: 'UTC' });
  const location = await createLocation(db(), tenant.id, { timeZone: 'UTC' });
  const service = await createService(db(), tenant.id, { maxAdvanceDays: 365, requiresApproval: true });
  const provider = await createProvider(db(), tenant.id, { locationId: location.id });
  await linkProvider(db(), tenant.id, service.id, provider.id);
  await addDailyRules(db(), tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  const startsAt = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 5, 10));
  const [booking] = await db().queryAs<{ id: string; status: string }>(tenant.owner,
    `select id, status from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4,
       p_contact_name => 'Audit', p_contact_email => 'audit@example.test')`, [tenant.id, service.id, startsAt, provider.id]);
  expect(booking!.status).toBe('pending');

  const sql = postgres(db().url!, { max: 2, onnotice: () => {} });
  try {
    const early = await sql.reserve();
    const late = await sql.reserve();
    const become = `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`;
    // `early` starts first (its now() is older), but its change comes second.
    await early`begin`;
    await early.unsafe(become, [JSON.stringify(claimsOf(tenant.owner))]);
    await early`select now()`;
    await late`begin`;
    await late.unsafe(become, [JSON.stringify(claimsOf(tenant.owner))]);
    await late`select slotbase.confirm_booking(${booking!.id})`;
    await late`commit`;
    await early`select slotbase.cancel_booking(${booking!.id}, 'changed my mind')`;
    await early`commit`;
    early.release();
    late.release();
  } finally {
    await sql.end({ timeout: 5 });
  }
  const events = await db().queryAs<{ to_status: string }>(tenant.owner,
    'select to_status from slotbase.booking_events where booking_id = $1 order by at', [booking!.id]);
  expect(events.map((e) => e.to_status)).toEqual(['pending', 'confirmed', 'cancelled']);
});
