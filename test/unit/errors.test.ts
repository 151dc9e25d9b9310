import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DOMAIN_ERRORS, fieldOfConstraint, problemFromDatabaseError } from '#src/db/errors.ts';
import { MIGRATIONS_DIR } from '#src/db/migrate.ts';

describe('database error mapping', () => {
  it('registers every custom SQLSTATE the migrations raise, and nothing they do not', async () => {
    const raised = new Set<string>();
    for (const file of await readdir(MIGRATIONS_DIR)) {
      const sql = await readFile(`${MIGRATIONS_DIR}${file}`, 'utf8');
      for (const m of sql.matchAll(/errcode = '([A-Z0-9]{5})'/g)) raised.add(m[1]!);
    }
    expect([...raised].sort()).toEqual(Object.keys(DOMAIN_ERRORS).sort());
  });

  it('custom SQLSTATEs follow the convention: SB + 3, not ending in 000', () => {
    for (const code of Object.keys(DOMAIN_ERRORS)) expect(code).toMatch(/^SB[A-Z0-9]{3}$/);
    for (const code of Object.keys(DOMAIN_ERRORS)) expect(code.endsWith('000')).toBe(false);
  });

  it('an exclusion violation and SBTAK are both slot_taken (409)', () => {
    expect(problemFromDatabaseError({ code: '23P01', constraint_name: 'booking_claims_busy_excl' })).toMatchObject({ status: 409, code: 'slot_taken' });
    expect(problemFromDatabaseError({ code: 'SBTAK' })).toMatchObject({ status: 409, code: 'slot_taken' });
  });

  it('a check constraint names its field, from postgres.js or PGlite error shapes', () => {
    expect(problemFromDatabaseError({ code: '23514', constraint_name: 'locations_time_zone_check', table_name: 'locations' })).toMatchObject({
      status: 422,
      code: 'validation_failed',
      field: 'time_zone',
    });
    expect(problemFromDatabaseError({ code: '23505', constraint: 'services_tenant_id_slug_key', table: 'services' })).toMatchObject({ status: 409, field: 'slug' });
    expect(fieldOfConstraint('availability_rules_time_range_check', 'availability_rules')).toBe('time_range');
  });

  it('a hint naming a field wins, and unknown errors are not mapped', () => {
    expect(problemFromDatabaseError({ code: 'SBVAL', hint: 'contact_email' })).toMatchObject({ status: 422, field: 'contact_email' });
    expect(problemFromDatabaseError({ code: 'XX000' })).toBeUndefined();
    expect(problemFromDatabaseError(new Error('boom'))).toBeUndefined();
  });
});
