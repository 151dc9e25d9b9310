-- Roles, schemas, extensions and the request-claim helpers every policy uses.
-- See supabase/CONVENTIONS.md for the rules these files follow.

-- why: exclusion constraints mix `=` on uuid with `&&` on ranges, which needs btree_gist.
-- Supabase keeps extensions in their own schema; so do we, on every engine.
create schema if not exists extensions;
create extension if not exists btree_gist with schema extensions;

-- why: the same roles Supabase has, so policies written here work there unchanged.
-- `anon` = no token, `authenticated` = a signed-in staff member, customer or API key.
-- `slotbase_api` is the role the API logs in as: it can only become anon or authenticated,
-- and is neither superuser nor BYPASSRLS (a catalog test holds it to that).
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'slotbase_api') then
    create role slotbase_api login noinherit nosuperuser nobypassrls nocreatedb nocreaterole;
  end if;
end
$$;
grant anon, authenticated to slotbase_api;

-- why: `slotbase` is what callers reach under RLS; `slotbase_private` holds secrets and
-- internals and grants nothing to callers. Nothing of ours lives in `public`.
create schema slotbase;
comment on schema slotbase is 'Tables and functions callers reach, always under row-level security.';
grant usage on schema slotbase to anon, authenticated, slotbase_api;

create schema slotbase_private;
comment on schema slotbase_private is 'Secrets, internal helpers and mirrors; no privileges for callers.';
revoke all on schema slotbase_private from public;

-- A function is callable only where a migration grants it. Per-schema default privileges cannot
-- take PUBLIC's EXECUTE away, so every migration ends with an explicit revoke (see the end of
-- this file) before its grants; the catalog test fails on any function left open to PUBLIC.

-- why: the claims of the current request, as the API sets them per transaction with
-- set_config('request.jwt.claims', …, true). Empty when unset.
create function slotbase.jwt_claims()
returns jsonb
language sql
stable
parallel safe
as $$
  select coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
comment on function slotbase.jwt_claims() is 'The JWT claims of the current request (request.jwt.claims), or {}.';

-- why: `sub` of the token: the user (staff or customer) or the service member of an API key.
-- A malformed sub counts as no user rather than an error.
create function slotbase.current_user_id()
returns uuid
language sql
stable
parallel safe
as $$
  select case when v.sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v.sub::uuid end
  from (select slotbase.jwt_claims() ->> 'sub' as sub) as v
$$;
comment on function slotbase.current_user_id() is 'The user id (claim sub) of the current request, or null.';

-- why: the tenant the request acts in (claim tenant_id). Never trusted alone: policies pair it
-- with slotbase.current_member_role(), which checks the membership.
create function slotbase.current_tenant_id()
returns uuid
language sql
stable
parallel safe
as $$
  select case when v.tid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v.tid::uuid end
  from (select slotbase.jwt_claims() ->> 'tenant_id' as tid) as v
$$;
comment on function slotbase.current_tenant_id() is 'The tenant id (claim tenant_id) the current request acts in, or null. Not proof of membership.';


-- why: IANA zone names only; check constraints call this, so callers may execute it.
-- pg_timezone_names is the server's own zone database, the one AT TIME ZONE uses.
create function slotbase.is_valid_time_zone(p_time_zone text)
returns boolean
language sql
stable
parallel safe
as $$
  select exists (select 1 from pg_catalog.pg_timezone_names where name = p_time_zone)
$$;
comment on function slotbase.is_valid_time_zone(text) is 'True when the name is a time zone in the server''s IANA database (e.g. Europe/Berlin).';

-- why: one trigger function keeps updated_at honest on every table.
create function slotbase_private.tg__set_updated_at()
returns trigger
language plpgsql
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end
$$;
comment on function slotbase_private.tg__set_updated_at() is 'Trigger: sets updated_at to the transaction time on update.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.jwt_claims(), slotbase.current_user_id(), slotbase.current_tenant_id(),
  slotbase.is_valid_time_zone(text) to anon, authenticated;
