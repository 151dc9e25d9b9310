-- Issuing device tokens and checking their proofs (the API side of anti-scalping; the table
-- slotbase_private.device_tokens is 20261124090000_device_tokens.sql).
--
-- POST /v1/public/{tenant}/device-tokens: the booking page generates a P-256 key pair in the
-- browser (private key non-extractable), sends the public JWK with a proof signed by it, and gets
-- an opaque token `sbdt_…`. Only sha256(token), the key's RFC 7638 thumbprint and the JWK are
-- stored. Every booking made with the token carries a fresh proof (a JWS over method, path, time,
-- a one-time id and the token's hash, like DPoP, RFC 9449); the API verifies the signature with
-- the stored key and records the proof's id here, so a proof is accepted once (replays refused).
-- These functions are executable by slotbase_api only (the API's own login role), like the auth
-- functions: callers never see device tokens or proofs.

-- why: a proof's one-time id (jti) per key, kept until the proof would be stale anyway, so a
-- captured request cannot be replayed.
create table slotbase_private.device_proofs (
  tenant_id uuid not null,
  key_thumbprint text not null,
  jti text not null,
  expires_at timestamptz not null,
  constraint device_proofs_pkey primary key (tenant_id, key_thumbprint, jti),
  constraint device_proofs_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint device_proofs_jti_check check (length(jti) between 16 and 128)
);
alter table slotbase_private.device_proofs enable row level security;
alter table slotbase_private.device_proofs force row level security;
create index device_proofs_expires_at_idx on slotbase_private.device_proofs (expires_at);
comment on table slotbase_private.device_proofs is 'One-time ids of device-token proofs already accepted (replay protection), until they expire.';

-- why: the API stores an issued token for a tenant named by its public slug, in one call.
create function slotbase_private.issue_device_token(
  p_tenant_slug text, p_token_hash text, p_key_thumbprint text, p_public_key jsonb, p_ttl interval, p_client_address text
)
returns table (tenant_id uuid, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  select t.id into v_tenant from slotbase.public_tenant(p_tenant_slug) as t where t.is_accepting_bookings;
  if v_tenant is null then
    raise exception 'business not found' using errcode = 'SBNF1';
  end if;
  if p_ttl is null or p_ttl <= interval '0' or p_ttl > interval '366 days' then
    raise exception 'a device token lives between a second and a year' using errcode = 'SBVAL', hint = 'ttl';
  end if;
  -- Expired tokens of this key are of no further use.
  delete from slotbase_private.device_tokens as d
  where d.tenant_id = v_tenant and d.key_thumbprint = p_key_thumbprint and d.expires_at <= pg_catalog.now();
  return query
  insert into slotbase_private.device_tokens as d (tenant_id, token_hash, key_thumbprint, public_key, expires_at, client_address)
  values (v_tenant, lower(p_token_hash), p_key_thumbprint, p_public_key, pg_catalog.now() + p_ttl, left(p_client_address, 64))
  returning d.tenant_id, d.expires_at;
end
$$;
comment on function slotbase_private.issue_device_token(text, text, text, jsonb, interval, text) is
  'slotbase_api only: stores an issued device token (its sha256, bound key thumbprint and JWK) for the tenant with this slug. SBNF1 for an unknown tenant.';

-- why: at booking time the API needs the key a token is bound to, to verify the proof.
create function slotbase_private.device_token_key(p_tenant_slug text, p_token_hash text)
returns table (tenant_id uuid, key_thumbprint text, public_key jsonb, expires_at timestamptz, is_expired boolean)
language sql
stable
security definer
set search_path = ''
as $$
  select d.tenant_id, d.key_thumbprint, d.public_key, d.expires_at, d.expires_at <= pg_catalog.now()
  from slotbase.public_tenant(p_tenant_slug) as t
  join slotbase_private.device_tokens as d on d.tenant_id = t.id and d.token_hash = lower(p_token_hash)
$$;
comment on function slotbase_private.device_token_key(text, text) is
  'slotbase_api only: the key an issued device token of this tenant is bound to, and whether it expired; no row when it was never issued.';

-- why: a proof is good once. True when this proof id is new for the key (and records it until
-- p_expires_at); false for a replay. Drops the key's expired ids on the way.
create function slotbase_private.use_device_proof(p_tenant_id uuid, p_key_thumbprint text, p_jti text, p_expires_at timestamptz)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_inserted integer;
begin
  delete from slotbase_private.device_proofs as p
  where p.tenant_id = p_tenant_id and p.key_thumbprint = p_key_thumbprint and p.expires_at <= pg_catalog.now();
  insert into slotbase_private.device_proofs (tenant_id, key_thumbprint, jti, expires_at)
  values (p_tenant_id, p_key_thumbprint, p_jti, p_expires_at)
  on conflict do nothing;
  get diagnostics v_inserted = row_count;
  return v_inserted = 1;
end
$$;
comment on function slotbase_private.use_device_proof(uuid, text, text, timestamptz) is
  'slotbase_api only: records a device proof''s one-time id; false when it was used before (a replay).';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase_private.issue_device_token(text, text, text, jsonb, interval, text),
  slotbase_private.device_token_key(text, text),
  slotbase_private.use_device_proof(uuid, text, text, timestamptz)
  to slotbase_api;
