import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider, type ServiceOptions } from './factories.ts';
import type { TestApi } from './http.ts';

/**
 * A two-branch clinic open around the clock in Berlin (so only notice rules limit times), with a
 * provider per branch, an appointment service both provide, and an access token per member role.
 * Each test builds its own: nothing is shared between tests.
 */
export interface StaffWorld {
  tenantId: string;
  locationA: string;
  locationB: string;
  /** Works at A; linked to the `provider` member's user. */
  providerA: string;
  /** Works at B. */
  providerB: string;
  /** 30-minute appointments, 2 hours' notice for the public, both providers. */
  serviceId: string;
  tokens: {
    owner: string;
    admin: string;
    receptionistA: string;
    viewer: string;
    provider: string;
    /** Signed in, but acting in no tenant. */
    noTenant: string;
  };
  /** Another service of this clinic, linked to both providers. */
  addService(options?: ServiceOptions): Promise<string>;
}

export async function createStaffWorld(api: TestApi, service: ServiceOptions = {}): Promise<StaffWorld> {
  const db = api.db;
  const tenant = await createTenant(db, { timeZone: 'Europe/Berlin' });
  const locationA = (await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' })).id;
  const locationB = (await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' })).id;
  const providerMember = await addMember(db, tenant.id, 'provider');
  const providerA = (await createProvider(db, tenant.id, { locationId: locationA, userId: providerMember.userId })).id;
  const providerB = (await createProvider(db, tenant.id, { locationId: locationB })).id;
  await addDailyRules(db, tenant.id, { providerId: providerA }, locationA, '00:00', '24:00');
  await addDailyRules(db, tenant.id, { providerId: providerB }, locationB, '00:00', '24:00');
  const addService = async (options: ServiceOptions = {}) => {
    const svc = await createService(db, tenant.id, { durationMinutes: 30, minNoticeMinutes: 120, maxAdvanceDays: 365, ...options });
    await linkProvider(db, tenant.id, svc.id, providerA);
    await linkProvider(db, tenant.id, svc.id, providerB);
    return svc.id;
  };
  const serviceId = await addService(service);
  const admin = await addMember(db, tenant.id, 'admin');
  const receptionistA = await addMember(db, tenant.id, 'receptionist', { locationId: locationA });
  const viewer = await addMember(db, tenant.id, 'viewer');
  const sign = async (userId: string, tenantId?: string) =>
    (await api.tokens.signAccess({ sub: userId, ...(tenantId ? { tenant_id: tenantId } : {}) })).token;
  return {
    tenantId: tenant.id,
    locationA,
    locationB,
    providerA,
    providerB,
    serviceId,
    tokens: {
      owner: await sign(tenant.owner.userId, tenant.id),
      admin: await sign(admin.userId, tenant.id),
      receptionistA: await sign(receptionistA.userId, tenant.id),
      viewer: await sign(viewer.userId, tenant.id),
      provider: await sign(providerMember.userId, tenant.id),
      noTenant: await sign(tenant.owner.userId),
    },
    addService,
  };
}

/** `hh:mm` UTC, `days` days from today (UTC): always on a 30-minute grid of an around-the-clock clinic. */
export function utc(days: number, hhmm: string): string {
  const now = new Date();
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, h, m)).toISOString();
}
