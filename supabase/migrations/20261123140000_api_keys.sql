-- API keys for third-party developers (DESIGN §3). A key is `sb_live_<43 base64url chars>`,
-- shown once and stored as its sha256 only. Each key acts as a service member of its tenant: a
-- users row of its own plus a membership with the key's role, so a request made with a key passes
-- through exactly the RLS a member with that role meets. Revoking soft-deletes that membership,
-- which shuts the key out of every policy at once. Scopes are checked by the API (src/http/auth.ts).

-- why: the keys a tenant has issued, without their secrets. Keys act as admin, receptionist or
-- viewer, never as owner (they cannot make owners or outlive the last owner).
create table slotbase.api_keys (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  name text not null,
  key_prefix text not null,
  scopes text[] not null,
  role text not null default 'admin',
  service_user_id uuid not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  constraint api_keys_pkey primary key (tenant_id, id),
  constraint api_keys_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint api_keys_service_user_id_fkey foreign key (service_user_id) references slotbase.users (id),
  constraint api_keys_service_user_id_key unique (service_user_id),
  constraint api_keys_created_by_fkey foreign key (created_by) references slotbase.users (id),
  constraint api_keys_name_check check (length(btrim(name)) between 1 and 200),
  constraint api_keys_key_prefix_check check (key_prefix ~ '^sb_live_[A-Za-z0-9_-]{4}$'),
  constraint api_keys_scopes_check check (
    cardinality(scopes) between 1 and 7
    and scopes <@ array['*', 'bookings:read', 'bookings:write', 'catalog:read', 'catalog:write', 'members:read', 'members:write']
  ),
  constraint api_keys_role_check check (role in ('admin', 'receptionist', 'viewer')),
  constraint api_keys_expires_at_check check (expires_at is null or expires_at > created_at)
);
alter table slotbase.api_keys enable row level security;
alter table slotbase.api_keys force row level security;
comment on table slotbase.api_keys is 'API keys of a tenant (sb_live_…); the secret is in slotbase_private.api_key_secrets as sha256 only.';
comment on column slotbase.api_keys.key_prefix is 'The first 12 characters of the key, to recognise it in lists.';
comment on column slotbase.api_keys.scopes is 'What the key may call: bookings|catalog|members :read|:write, or * for all.';
comment on column slotbase.api_keys.role is 'The membership role the key acts with under RLS (admin, receptionist or viewer).';
comment on column slotbase.api_keys.service_user_id is 'The key''s own user (key-<id>@api-keys.invalid), the `sub` of its requests.';
comment on column slotbase.api_keys.last_used_at is 'Last successful use, updated at most once a minute.';

-- why: the key hashes stay out of any table a caller can be granted.
create table slotbase_private.api_key_secrets (
  tenant_id uuid not null,
  key_id uuid not null,
  key_hash bytea not null,
  constraint api_key_secrets_pkey primary key (tenant_id, key_id),
  constraint api_key_secrets_key_hash_key unique (key_hash),
  constraint api_key_secrets_key_id_fkey foreign key (tenant_id, key_id) references slotbase.api_keys (tenant_id, id) on delete cascade,
  constraint api_key_secrets_key_hash_check check (octet_length(key_hash) = 32)
);
alter table slotbase_private.api_key_secrets enable row level security;
alter table slotbase_private.api_key_secrets force row level security;
comment on table slotbase_private.api_key_secrets is 'sha256 of each API key; no caller has any privilege here.';

-- api_keys: tenant-wide owners and admins see their tenant's keys. Nobody writes the table
-- directly: create_api_key and revoke_api_key do, after the same check.
create policy select_admin on slotbase.api_keys for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy select_admin on slotbase.api_keys is 'Tenant-wide owners and admins see the keys of the tenant they act in.';
grant select on slotbase.api_keys to authenticated;

-- why: a key's membership must never become an owner's (a key could then make owners, and a
-- tenant could be left with a key as its only owner). Reads api_keys past its RLS.
create function slotbase_private.tg_memberships__no_owner_keys()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.role = 'owner' and exists (select 1 from slotbase.api_keys as k where k.service_user_id = new.user_id) then
    raise exception 'an API key never acts as an owner' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
create trigger _150_no_owner_keys before insert or update of role on slotbase.memberships
  for each row execute function slotbase_private.tg_memberships__no_owner_keys();

-- why: the caller may manage keys: a tenant-wide owner or admin, signed in as a person (a key
-- never manages keys, even one acting as admin).
create function slotbase_private.assert_can_manage_api_keys()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if coalesce(slotbase.current_member_role() not in ('owner', 'admin'), true)
     or slotbase.current_member_location_id() is not null
     or exists (select 1 from slotbase.api_keys as k where k.service_user_id = slotbase.current_user_id()) then
    raise exception 'only tenant-wide owners and admins manage API keys' using errcode = 'insufficient_privilege';
  end if;
end
$$;

-- why: issuing a key creates its service user and membership, which no caller may insert
-- (users are global), so it is security definer and checks the caller's rights itself. The API
-- generates the key and passes only its sha256 and its display prefix.
create function slotbase.create_api_key(
  p_name text, p_scopes text[], p_role text, p_expires_at timestamptz, p_key_hash bytea, p_key_prefix text
)
returns slotbase.api_keys
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_user_id uuid;
  v_key slotbase.api_keys;
begin
  perform slotbase_private.assert_can_manage_api_keys();
  insert into slotbase.users (email, display_name)
  values ('key-' || v_id || '@api-keys.invalid', left('API key: ' || btrim(p_name), 200))
  returning id into v_user_id;
  insert into slotbase.api_keys (tenant_id, id, name, key_prefix, scopes, role, service_user_id, created_by, expires_at)
  values (
    slotbase.current_tenant_id(), v_id, btrim(p_name), p_key_prefix,
    array(select distinct s from unnest(p_scopes) as s order by s), coalesce(p_role, 'admin'),
    v_user_id, slotbase.current_user_id(), p_expires_at
  )
  returning * into v_key;
  insert into slotbase.memberships (tenant_id, user_id, role) values (v_key.tenant_id, v_user_id, v_key.role);
  insert into slotbase_private.api_key_secrets (tenant_id, key_id, key_hash) values (v_key.tenant_id, v_id, p_key_hash);
  return v_key;
end
$$;
comment on function slotbase.create_api_key(text, text[], text, timestamptz, bytea, text) is 'Issues an API key in the current tenant, acting as a new service member with p_role (default admin). Raises 42501 unless a tenant-wide owner or admin (not a key) calls it, 23514 on a bad name, scope, role or past expiry, 23505 for a reused hash.';

-- why: revoking must shut the key out at once: the key row is marked and its membership
-- soft-deleted, so every policy stops matching its requests in the same commit.
create function slotbase.revoke_api_key(p_id uuid)
returns slotbase.api_keys
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key slotbase.api_keys;
begin
  perform slotbase_private.assert_can_manage_api_keys();
  update slotbase.api_keys set revoked_at = pg_catalog.now()
  where tenant_id = slotbase.current_tenant_id() and id = p_id and revoked_at is null
  returning * into v_key;
  if not found then
    raise exception 'no such API key' using errcode = 'SBNF1';
  end if;
  update slotbase.memberships set deleted_at = pg_catalog.now()
  where tenant_id = v_key.tenant_id and user_id = v_key.service_user_id and deleted_at is null;
  return v_key;
end
$$;
comment on function slotbase.revoke_api_key(uuid) is 'Revokes a live key of the current tenant and removes its membership. Raises 42501 unless a tenant-wide owner or admin (not a key) calls it, SBNF1 for an unknown, other tenant''s or already revoked key.';

-- why: the API's auth middleware turns a presented key into its caller. Executable by
-- slotbase_api only (like the auth functions). A key is live when not revoked, not expired, its
-- membership active and its tenant not deleted. last_used_at moves at most once a minute, and
-- never waits for a row lock another request holds, to keep the hot path cheap.
create function slotbase_private.resolve_api_key(p_key_hash bytea)
returns table (tenant_id uuid, service_user_id uuid, scopes text[], key_id uuid)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_key slotbase.api_keys;
begin
  select k.* into v_key
  from slotbase_private.api_key_secrets as s
  join slotbase.api_keys as k on k.tenant_id = s.tenant_id and k.id = s.key_id
  join slotbase.memberships as m on m.tenant_id = k.tenant_id and m.user_id = k.service_user_id and m.deleted_at is null
  join slotbase.tenants as t on t.id = k.tenant_id and t.deleted_at is null
  where s.key_hash = p_key_hash
    and k.revoked_at is null
    and (k.expires_at is null or k.expires_at > pg_catalog.now());
  if not found then
    return;
  end if;
  if v_key.last_used_at is null or v_key.last_used_at < pg_catalog.now() - interval '1 minute' then
    update slotbase.api_keys as k set last_used_at = pg_catalog.now()
    where (k.tenant_id, k.id) in (
      select l.tenant_id, l.id from slotbase.api_keys as l
      where l.tenant_id = v_key.tenant_id and l.id = v_key.id
        and (l.last_used_at is null or l.last_used_at < pg_catalog.now() - interval '1 minute')
      for update skip locked
    );
  end if;
  return query select v_key.tenant_id, v_key.service_user_id, v_key.scopes, v_key.id;
end
$$;

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.create_api_key(text, text[], text, timestamptz, bytea, text), slotbase.revoke_api_key(uuid)
  to authenticated;
grant execute on function slotbase_private.resolve_api_key(bytea) to slotbase_api;
