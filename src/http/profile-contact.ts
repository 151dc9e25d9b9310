import type postgres from 'postgres';
import { ProblemError } from './problem.ts';

/**
 * A signed-in customer's profile as booking contact (their own users row, read under RLS), for
 * public bookings and series sent without `contact`. 422 naming `contact.name` when the profile
 * has no name.
 */
export async function profileContact(tx: postgres.TransactionSql): Promise<{ name: string; email: string | null; phone: string | null }> {
  const [me] = await tx<{ display_name: string | null; email: string; phone: string | null }[]>`
    select display_name, email, phone from slotbase.users where id = slotbase.current_user_id()`;
  if (!me?.display_name) {
    throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
      { field: 'contact.name', message: 'Your profile has no name: send contact, or set display_name at PATCH /v1/me', code: 'invalid_type' },
    ]);
  }
  return { name: me.display_name, email: me.email, phone: me.phone };
}
