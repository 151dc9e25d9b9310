import { describe, expect, it } from 'vitest';
import { useTestDb } from '../support/db.ts';

// Guards over the catalog: a table added without RLS, a policy without `to`, a callable
// helper left open to PUBLIC, or an API role with superpowers fails here.
describe('catalog guard', () => {
  const db = useTestDb();

  it('every table in slotbase and slotbase_private has row-level security enabled and forced', async () => {
    const tables = await db().query<{ name: string; rls: boolean; forced: boolean }>(`
      select n.nspname || '.' || c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as forced
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('slotbase', 'slotbase_private') and c.relkind in ('r', 'p')
      order by 1`);
    expect(tables.length).toBeGreaterThan(10);
    expect(tables.filter((t) => !t.rls || !t.forced).map((t) => t.name)).toEqual([]);
  });

  it('every policy names the roles it applies to', async () => {
    const policies = await db().query<{ name: string; roles: string[] | string }>(`
      select schemaname || '.' || tablename || '.' || policyname as name, roles::text[] as roles
      from pg_policies where schemaname in ('slotbase', 'slotbase_private')`);
    expect(policies.length).toBeGreaterThan(20);
    const rolesOf = (r: string[] | string) => (Array.isArray(r) ? r : r.replace(/[{}]/g, '').split(','));
    expect(policies.filter((p) => rolesOf(p.roles).includes('public')).map((p) => p.name)).toEqual([]);
  });

  it('every policy is one command for named roles, with a comment saying who and why', async () => {
    const uncommented = await db().query<{ name: string }>(`
      select c.relname || '.' || p.polname as name
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('slotbase', 'slotbase_private')
        and (p.polcmd = '*' or obj_description(p.oid, 'pg_policy') is null)`);
    expect(uncommented.map((r) => r.name)).toEqual([]);
  });

  it('the API login role is neither superuser nor BYPASSRLS and can only become anon or authenticated', async () => {
    const [role] = await db().query<{ rolsuper: boolean; rolbypassrls: boolean; rolcanlogin: boolean }>(
      `select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'slotbase_api'`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcanlogin: true });
    const grants = await db().query<{ rolname: string }>(`
      select r.rolname from pg_auth_members m
      join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
      where u.rolname = 'slotbase_api' order by 1`);
    expect(grants.map((g) => g.rolname)).toEqual(['anon', 'authenticated']);
  });

  it('no function in slotbase or slotbase_private is executable by PUBLIC', async () => {
    const open = await db().query<{ name: string }>(`
      select p.oid::regprocedure::text as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('slotbase', 'slotbase_private')
        and has_function_privilege('public', p.oid, 'execute')`);
    expect(open.map((r) => r.name)).toEqual([]);
  });

  it('every security definer function pins search_path to empty', async () => {
    const loose = await db().query<{ name: string }>(`
      select p.oid::regprocedure::text as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('slotbase', 'slotbase_private') and p.prosecdef
        and not coalesce(p.proconfig @> array['search_path=""'], false)`);
    expect(loose.map((r) => r.name)).toEqual([]);
  });

  it('callers have no privilege on any table in slotbase_private', async () => {
    const granted = await db().query<{ name: string }>(`
      select c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      cross join (values ('anon'), ('authenticated'), ('slotbase_api')) as r(role)
      where n.nspname = 'slotbase_private' and c.relkind = 'r'
        and has_table_privilege(r.role, c.oid, 'select, insert, update, delete')`);
    expect(granted).toEqual([]);
  });

  it('callers can never write tenant_id on update, nor created_at or updated_at at all', async () => {
    const writable = await db().query<{ name: string }>(`
      select c.relname || '.' || a.attname || ' (' || p.priv || ')' as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      cross join (values ('insert'), ('update')) as p(priv)
      where n.nspname = 'slotbase' and c.relkind = 'r'
        and (a.attname in ('created_at', 'updated_at') or (a.attname = 'tenant_id' and p.priv = 'update'))
        and has_column_privilege('authenticated', c.oid, a.attname, p.priv)
      order by 1`);
    expect(writable.map((r) => r.name)).toEqual([]);
  });

  it('every tenant-owned table leads its primary key with tenant_id (Citus-ready, DESIGN §11)', async () => {
    const bad = await db().query<{ name: string }>(`
      select c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'
      where n.nspname = 'slotbase' and c.relkind = 'r' and k.conkey[1] <> a.attnum`);
    expect(bad.map((r) => r.name)).toEqual([]);
  });
});
