-- Accounts and sessions for the HTTP API: registration, password login, rotating refresh tokens.
-- These functions are executable only by `slotbase_api` (the API's own login role), never by
-- `anon` or `authenticated`: on Supabase those roles are public over PostgREST, and a function
-- that returns a password hash must not be reachable there.

grant usage on schema slotbase_private to slotbase_api;

-- why: refresh tokens are stored hashed and rotated; each login starts a family, and presenting a
-- token that was already rotated revokes the whole family (a stolen token dies with its thief).
create table slotbase_private.refresh_tokens (
  id uuid not null default gen_random_uuid(),
  family_id uuid not null,
  user_id uuid not null,
  tenant_id uuid,
  token_hash bytea not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  rotated_at timestamptz,
  revoked_at timestamptz,
  constraint refresh_tokens_pkey primary key (id),
  constraint refresh_tokens_token_hash_key unique (token_hash),
  constraint refresh_tokens_user_id_fkey foreign key (user_id) references slotbase.users (id) on delete cascade,
  constraint refresh_tokens_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id) on delete cascade
);
alter table slotbase_private.refresh_tokens enable row level security;
alter table slotbase_private.refresh_tokens force row level security;
create index refresh_tokens_family_id_idx on slotbase_private.refresh_tokens (family_id);
create index refresh_tokens_user_id_idx on slotbase_private.refresh_tokens (user_id);
comment on table slotbase_private.refresh_tokens is 'Rotating refresh tokens (sha256 only); reuse of a rotated token revokes its family.';

-- why: sign-up creates the global identity; the password hash is computed by the API (scrypt).
create function slotbase_private.register_user(p_email text, p_password_hash text, p_display_name text default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into slotbase.users (email, display_name) values (btrim(p_email), nullif(btrim(p_display_name), ''))
  returning id into v_id;
  insert into slotbase_private.user_credentials (user_id, password_hash) values (v_id, p_password_hash);
  return v_id;
end
$$;
comment on function slotbase_private.register_user(text, text, text) is 'Creates a user with a password hash. 23505 users_email_key when the email is taken (any case).';

-- why: login needs the stored hash to verify the password in the API.
create function slotbase_private.user_credentials_by_email(p_email text)
returns table (user_id uuid, password_hash text)
language sql
stable
security definer
set search_path = ''
as $$
  select u.id, c.password_hash
  from slotbase.users as u
  join slotbase_private.user_credentials as c on c.user_id = u.id
  where lower(u.email) = lower(btrim(p_email))
$$;

-- why: the tenants a user may act in, to choose the access token's tenant_id.
create function slotbase_private.user_memberships(p_user_id uuid)
returns table (tenant_id uuid, slug text, name text, role text, location_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  select m.tenant_id, t.slug, t.name, m.role, m.location_id
  from slotbase.memberships as m
  join slotbase.tenants as t on t.id = m.tenant_id and t.deleted_at is null
  where m.user_id = p_user_id and m.deleted_at is null
  order by m.created_at, t.slug
$$;

create function slotbase_private.issue_refresh_token(
  p_user_id uuid, p_tenant_id uuid, p_token_hash bytea, p_expires_at timestamptz, p_family_id uuid default null
)
returns uuid
language sql
volatile
security definer
set search_path = ''
as $$
  insert into slotbase_private.refresh_tokens (family_id, user_id, tenant_id, token_hash, expires_at)
  values (coalesce(p_family_id, gen_random_uuid()), p_user_id, p_tenant_id, p_token_hash, p_expires_at)
  returning family_id
$$;

-- why: exchanging a refresh token marks it rotated and hands back who it was for. A token that
-- was already rotated or revoked revokes its whole family (commits, then raises SBRTR).
create function slotbase_private.rotate_refresh_token(p_token_hash bytea)
returns table (user_id uuid, email text, tenant_id uuid, family_id uuid, reused boolean)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_token slotbase_private.refresh_tokens;
begin
  select * into v_token from slotbase_private.refresh_tokens where token_hash = p_token_hash for update;
  if not found or v_token.expires_at <= pg_catalog.now() then
    return;
  end if;
  if v_token.rotated_at is not null or v_token.revoked_at is not null then
    update slotbase_private.refresh_tokens set revoked_at = coalesce(revoked_at, pg_catalog.now())
    where refresh_tokens.family_id = v_token.family_id;
    return query select v_token.user_id, u.email, v_token.tenant_id, v_token.family_id, true
      from slotbase.users as u where u.id = v_token.user_id;
    return;
  end if;
  update slotbase_private.refresh_tokens set rotated_at = pg_catalog.now() where id = v_token.id;
  return query select v_token.user_id, u.email, v_token.tenant_id, v_token.family_id, false
    from slotbase.users as u where u.id = v_token.user_id;
end
$$;

create function slotbase_private.revoke_refresh_family(p_token_hash bytea)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update slotbase_private.refresh_tokens set revoked_at = coalesce(revoked_at, pg_catalog.now())
  where family_id = (select t.family_id from slotbase_private.refresh_tokens as t where t.token_hash = p_token_hash)
$$;

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase_private.register_user(text, text, text),
  slotbase_private.user_credentials_by_email(text),
  slotbase_private.user_memberships(uuid),
  slotbase_private.issue_refresh_token(uuid, uuid, bytea, timestamptz, uuid),
  slotbase_private.rotate_refresh_token(bytea),
  slotbase_private.revoke_refresh_family(bytea)
  to slotbase_api;
