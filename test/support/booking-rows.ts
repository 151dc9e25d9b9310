import { randomBytes } from 'node:crypto';
import type { Queryable } from './db.ts';

/**
 * Bookings inserted directly as the table owner, in any status and at any time (the past
 * included), for tests that read bookings (customers, analytics) rather than make them. They take
 * no claims: nothing here is a test of the booking engine.
 */
export interface BookingRowSpec {
  tenantId: string;
  serviceId: string;
  providerId: string;
  locationId: string;
  /** ISO instant. */
  startsAt: string;
  minutes?: number;
  status?: 'pending' | 'confirmed' | 'completed' | 'no_show' | 'cancelled' | 'rejected' | 'expired';
  name?: string;
  email?: string | null;
  phone?: string | null;
  customerUserId?: string | null;
  partySize?: number;
  createdAt?: string;
}

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const code = () => `BK-${[...randomBytes(7)].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;

export async function insertBooking(db: Queryable, b: BookingRowSpec): Promise<{ id: string; code: string }> {
  const [row] = await db.query<{ id: string; code: string }>(
    `insert into slotbase.bookings (tenant_id, code, manage_token_hash, service_id, provider_id, location_id, customer_user_id,
       contact_name, contact_email, contact_phone, party_size, during, status, source, created_at)
     values ($1, $2, '\\x00', $3, $4, $5, $6, $7, $8, $9, $10,
             tstzrange($11::timestamptz, $11::timestamptz + make_interval(mins => $12::int)), $13, 'public', coalesce($14::timestamptz, now()))
     returning id, code`,
    [
      b.tenantId, code(), b.serviceId, b.providerId, b.locationId, b.customerUserId ?? null,
      b.name ?? 'Guest', b.email === undefined ? 'guest@example.test' : b.email, b.phone ?? null, b.partySize ?? 1,
      b.startsAt, b.minutes ?? 30, b.status ?? 'confirmed', b.createdAt ?? null,
    ],
  );
  return row!;
}
