import { z } from '@hono/zod-openapi';

/**
 * Field shapes shared by the catalog bodies. They check types and lengths; the rules themselves
 * (real IANA zones, end after start, unique slugs) are the database's and come back as 409/422.
 */
export const Name = z.string().min(1).max(200).openapi({ example: 'Downtown' });
export const TimeZone = z.string().min(1).max(64).openapi({ example: 'Europe/Berlin', description: 'IANA time zone' });
export const Phone = z.string().min(3).max(32).openapi({ example: '+49 30 1234567' });
export const Email = z.email().max(254).openapi({ example: 'dr.ada@clinic.example' });
export const Slug = z.string().min(1).max(63).openapi({ example: 'checkup' });
/** Local wall-clock time; 24:00 ends a day. */
export const LocalTime = z
  .string()
  .regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, 'HH:MM')
  .openapi({ example: '09:00', description: 'Local time HH:MM (24:00 = end of day)' });
export const LocalDate = z.iso.date().openapi({ example: '2027-03-01' });
export const Minutes = z.number().int();
