import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb } from '../support/db.ts';
import { addMember, createTenant, createUser, uniq } from '../support/factories.ts';

/**
 * slotbase_private.link_supabase_user / resolve_supabase_user: how a Supabase Auth user (auth.users
 * id) becomes a Slotbase user. The API calls them as slotbase_api after Supabase Auth has vouched
 * for the email (src/http/supabase-auth.ts); nobody else may call them.
 */
describe('Supabase identities', () => {
  const db = useTestDb();

  const link = async (authUserId: string, email: string) =>
    (await db().query<{ id: string | null }>('select slotbase_private.link_supabase_user($1, $2) as id', [authUserId, email]))[0]!.id;
  const resolve = (authUserId: string, tenant: string | null = null) =>
    db().query<{ user_id: string; tenant_id: string | null }>('select user_id, tenant_id from slotbase_private.resolve_supabase_user($1, $2)', [authUserId, tenant]);

  it('links to the user with that email (any case), once; resolves to the first membership or the one named', async () => {
    const email = `${uniq('Staff-')}@Example.test`;
    const user = await createUser(db(), email);
    const first = await createTenant(db());
    const second = await createTenant(db());
    await addMember(db(), first.id, 'receptionist', { userId: user.id });
    await addMember(db(), second.id, 'viewer', { userId: user.id });
    const authUserId = randomUUID();
    expect(await resolve(authUserId)).toEqual([]);
    expect(await link(authUserId, `  ${email.toLowerCase()} `)).toBe(user.id);
    expect(await link(authUserId, email)).toBe(user.id);
    expect(await resolve(authUserId)).toEqual([{ user_id: user.id, tenant_id: first.id }]);
    expect(await resolve(authUserId, second.slug)).toEqual([{ user_id: user.id, tenant_id: second.id }]);
    expect(await resolve(authUserId, second.id)).toEqual([{ user_id: user.id, tenant_id: second.id }]);
    const foreign = await createTenant(db());
    expect(await resolve(authUserId, foreign.slug)).toEqual([{ user_id: user.id, tenant_id: null }]);
  });

  it('one to one: a second Supabase user with the same email gets nothing; an unknown email links nobody', async () => {
    const user = await createUser(db());
    const firstAuth = randomUUID();
    expect(await link(firstAuth, user.email)).toBe(user.id);
    const secondAuth = randomUUID();
    expect(await link(secondAuth, user.email)).toBeNull();
    expect(await resolve(secondAuth)).toEqual([]);
    expect(await link(randomUUID(), `${uniq('nobody-')}@example.test`)).toBeNull();
  });

  it('never links to an API key\'s service user', async () => {
    const tenant = await createTenant(db());
    const owner = await addMember(db(), tenant.id, 'owner');
    const [key] = await db().queryAs<{ service_user_id: string }>(owner,
      `select (slotbase.create_api_key('ci', array['bookings:read'], 'viewer', null, sha256('k'::bytea), 'sb_live_abcd')).service_user_id`);
    const [serviceUser] = await db().query<{ email: string }>('select email from slotbase.users where id = $1', [key!.service_user_id]);
    expect(await link(randomUUID(), serviceUser!.email)).toBeNull();
  });

  it('only slotbase_api may call them', async () => {
    const grants = await db().query<{ fn: string; api: boolean; anon: boolean; auth: boolean }>(`
      select p::text as fn, has_function_privilege('slotbase_api', p, 'execute') as api,
             has_function_privilege('anon', p, 'execute') as anon, has_function_privilege('authenticated', p, 'execute') as auth
      from unnest(array['slotbase_private.link_supabase_user(uuid, text)'::regprocedure,
                        'slotbase_private.resolve_supabase_user(uuid, text)'::regprocedure]) as p order by 1`);
    expect(grants.map(({ api, anon: a, auth }) => ({ api, anon: a, auth }))).toEqual([
      { api: true, anon: false, auth: false },
      { api: true, anon: false, auth: false },
    ]);
    const tenant = await createTenant(db());
    const member = await addMember(db(), tenant.id, 'owner');
    const victim = await createUser(db());
    for (const who of [anon, member]) {
      await expectSqlState(db().queryAs(who, 'select slotbase_private.link_supabase_user($1, $2)', [randomUUID(), victim.email]), '42501');
    }
  });
});
