-- Device tokens for anti-scalping (issue "Scheduling rules beyond the basics").
--
-- POST /v1/public/{tenant}/device-tokens issues an opaque token bound to a key the client
-- generated (its public JWK is stored here; the API checks a proof signed with the private key
-- whenever the token is used). Bookings carry the sha256 of the token they were made with
-- (create_booking's p_device_hash), so per-device caps are counted in SQL, and a service in
-- `strict` anti-scalping mode accepts only a hash that is in this table and not expired.
-- Only the token's hash is stored; the token itself is shown once.

-- why: which device tokens a tenant issued, so strict anti-scalping can tell an issued device
-- from a made-up hash.
create table slotbase_private.device_tokens (
  tenant_id uuid not null,
  token_hash text not null,
  key_thumbprint text not null,
  public_key jsonb not null,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null,
  client_address text,
  constraint device_tokens_pkey primary key (tenant_id, token_hash),
  constraint device_tokens_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint device_tokens_token_hash_check check (token_hash ~ '^[0-9a-f]{64}$'),
  constraint device_tokens_key_thumbprint_check check (key_thumbprint ~ '^[A-Za-z0-9_-]{43}$'),
  constraint device_tokens_public_key_check check (jsonb_typeof(public_key) = 'object' and pg_column_size(public_key) < 2048),
  constraint device_tokens_expires_at_check check (expires_at > issued_at)
);
alter table slotbase_private.device_tokens enable row level security;
alter table slotbase_private.device_tokens force row level security;
create index device_tokens_expires_at_idx on slotbase_private.device_tokens (expires_at);
comment on table slotbase_private.device_tokens is 'Device tokens issued by POST /v1/public/{tenant}/device-tokens: sha256 of the token, the client''s public key (RFC 7638 thumbprint and JWK) it is bound to, expiry.';
comment on column slotbase_private.device_tokens.token_hash is 'Lower-case sha256 hex of the token: what create_booking receives as p_device_hash and bookings.device_hash stores.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
