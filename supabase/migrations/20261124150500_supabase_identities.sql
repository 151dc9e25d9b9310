-- Supabase Auth users as Slotbase staff (README, "Deploy on Supabase"). A Supabase access token's
-- `sub` is an auth.users id, not a Slotbase user id, so the API maps one to the other through an
-- explicit link. The link is made once, on the first request of that Supabase user, and only to
-- the Slotbase user with the same email (or to a new one accepting the email's open invitations), after the API has asked the project's Auth server that
-- the address is confirmed (GET /auth/v1/user) and that the project confirms addresses by mail
-- (GET /auth/v1/settings). Afterwards the token's `sub` alone finds the user, whatever either
-- side's email becomes. Both functions are executable by slotbase_api only: on Supabase, anon
-- and authenticated are public over PostgREST, and a direct caller must not link itself to anyone.

-- why: one Supabase Auth user is one Slotbase user and the other way round; the email that made
-- the link is kept for the audit. Deleting the Slotbase user removes its link.
create table slotbase_private.supabase_identities (
  auth_user_id uuid not null,
  user_id uuid not null,
  linked_email text not null,
  created_at timestamptz not null default now(),
  constraint supabase_identities_pkey primary key (auth_user_id),
  constraint supabase_identities_user_id_key unique (user_id),
  constraint supabase_identities_user_id_fkey foreign key (user_id) references slotbase.users (id) on delete cascade
);
alter table slotbase_private.supabase_identities enable row level security;
alter table slotbase_private.supabase_identities force row level security;
comment on table slotbase_private.supabase_identities is 'Links a Supabase Auth user (auth.users id, the token''s sub) to the Slotbase user it acts as; one to one.';
comment on column slotbase_private.supabase_identities.linked_email is 'The confirmed email, as Supabase Auth reported it, that made the link.';

-- why: the API's auth middleware turns a verified Supabase token into its caller: the linked user
-- and the tenant it acts in — the tenant with slug (or id) p_tenant when the user is an active
-- member there, otherwise, without p_tenant, the user's first membership (as password login
-- picks it). No row: not linked yet. tenant_id null: no such membership.
create function slotbase_private.resolve_supabase_user(p_auth_user_id uuid, p_tenant text default null)
returns table (user_id uuid, tenant_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  select i.user_id, (
    select m.tenant_id
    from slotbase.memberships as m
    join slotbase.tenants as t on t.id = m.tenant_id and t.deleted_at is null
    where m.user_id = i.user_id and m.deleted_at is null
      and (p_tenant is null or t.slug = p_tenant or t.id::text = p_tenant)
    order by m.created_at, t.slug
    limit 1
  )
  from slotbase_private.supabase_identities as i
  where i.auth_user_id = p_auth_user_id
$$;
comment on function slotbase_private.resolve_supabase_user(uuid, text) is 'The Slotbase user a Supabase Auth user is linked to, and the tenant (slug or id p_tenant, else the first membership) it acts in; no row when not linked, tenant_id null without that membership. slotbase_api only.';

-- why: the first request of a Supabase user links it to the Slotbase user with its confirmed
-- email. Staff are added by email (POST /v1/members): an email with a Slotbase account becomes a
-- member at once; one without gets an invitation (slotbase.invitations, a later migration). So
-- when no account has the email but open invitations name it, the confirmed address is as good
-- as a clicked invitation link: the account is created (without a password: it signs in through
-- Supabase) and every open invitation of the email is accepted. The API vouches that p_email is
-- confirmed; that is why only slotbase_api may call this. Never links to an API key's service
-- user, nor to a user already linked to another Supabase user (one to one: a second account with
-- the same address does not take the first one's place). Returns the linked user, or null.
create function slotbase_private.link_supabase_user(p_auth_user_id uuid, p_email text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text := btrim(p_email);
  v_user_id uuid;
begin
  -- Two first requests at once: the second waits here, then finds the first one's link below.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('supabase-link:' || lower(v_email), 0));
  select u.id into v_user_id
  from slotbase.users as u
  where lower(u.email) = lower(v_email)
    and not exists (select 1 from slotbase.api_keys as k where k.service_user_id = u.id);
  -- Plain SQL names the invitations table only on this path, so this file stays valid before it exists.
  if pg_catalog.to_regclass('slotbase.invitations') is not null then
    if v_user_id is null and exists (
      select 1 from slotbase.users as u where lower(u.email) = lower(v_email)
    ) then
      return null; -- an API key's service user: never
    end if;
    if v_user_id is null and exists (
      select 1 from slotbase.invitations as i join slotbase.tenants as t on t.id = i.tenant_id and t.deleted_at is null
      where lower(i.email) = lower(v_email) and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now()
    ) then
      insert into slotbase.users (email) values (v_email) returning id into v_user_id;
    end if;
    if v_user_id is not null and not exists (
      select 1 from slotbase_private.supabase_identities as i where i.user_id = v_user_id and i.auth_user_id <> p_auth_user_id
    ) then
      insert into slotbase.memberships (tenant_id, user_id, role, location_id)
      select i.tenant_id, v_user_id, i.role, i.location_id
      from slotbase.invitations as i join slotbase.tenants as t on t.id = i.tenant_id and t.deleted_at is null
      where lower(i.email) = lower(v_email) and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now()
        and not exists (select 1 from slotbase.memberships as m where m.tenant_id = i.tenant_id and m.user_id = v_user_id and m.deleted_at is null);
      update slotbase.invitations as i set accepted_at = pg_catalog.now(), accepted_user_id = v_user_id
      where lower(i.email) = lower(v_email) and i.accepted_at is null and i.revoked_at is null and i.expires_at > pg_catalog.now();
    end if;
  end if;
  if v_user_id is not null then
    insert into slotbase_private.supabase_identities (auth_user_id, user_id, linked_email)
    values (p_auth_user_id, v_user_id, v_email)
    on conflict do nothing;
  end if;
  select i.user_id into v_user_id from slotbase_private.supabase_identities as i where i.auth_user_id = p_auth_user_id;
  return v_user_id;
end
$$;
comment on function slotbase_private.link_supabase_user(uuid, text) is 'Links a Supabase Auth user to the Slotbase user with this (confirmed) email, creating it and accepting the email''s open invitations when there is no account yet; never an API key''s user or one already linked to another Supabase user. Returns the linked user or null. slotbase_api only.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase_private.resolve_supabase_user(uuid, text),
  slotbase_private.link_supabase_user(uuid, text)
to slotbase_api;
