import { createHash } from 'node:crypto';
import type postgres from 'postgres';

/** What a device ban stores and compares: the sha256 (lower-case hex) of the X-Device-Token. */
export const hashDeviceToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The answers a banned booker shares with everyone else (an unavailable time or a full session). */
const UNAVAILABLE = new Set(['SBTAK', 'SBFUL', '23P01']);

export const isUnavailableError = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && UNAVAILABLE.has(String((error as { code?: unknown }).code));

export interface BookingAttempt {
  tenantId: string;
  serviceId: string;
  startsAt: string | null;
  sessionId: string | null;
  email: string | null;
  phone: string | null;
  deviceHash: string | null;
}

/**
 * After a public booking was answered slot_taken / session_full, logs the attempt when the booker
 * is banned (`slotbase_private.record_ban_hit` re-checks; a no-op otherwise). A second, short
 * transaction as slotbase_api: the booking's own transaction rolled back, and the hit with it
 * (see supabase/migrations/20261123150000_bans.sql). Returns the hit id, or null.
 */
export async function recordBanHit(sql: postgres.Sql, a: BookingAttempt): Promise<string | null> {
  const [row] = await sql<{ id: string | null }[]>`
    select slotbase_private.record_ban_hit(${a.tenantId}, ${a.serviceId}, ${a.startsAt}, ${a.sessionId}, ${a.email}, ${a.phone}, ${a.deviceHash}) as id`;
  return row?.id ?? null;
}
