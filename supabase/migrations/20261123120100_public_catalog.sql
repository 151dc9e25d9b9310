-- What a booking page shows anyone: a tenant by its slug, its public services and its locations.
-- anon has no table privileges; these functions return only public, non-deleted rows.

-- why: /b/{slug} and /v1/public/{slug}/… resolve the tenant without exposing the tenants table.
create function slotbase.public_tenant(p_slug text)
returns table (id uuid, slug text, name text, time_zone text, locale text, is_accepting_bookings boolean)
language sql
stable
security definer
set search_path = ''
as $$
  select t.id, t.slug, t.name, t.time_zone, t.locale, t.status in ('active', 'past_due')
  from slotbase.tenants as t
  where t.slug = lower(p_slug) and t.deleted_at is null
$$;
comment on function slotbase.public_tenant(text) is 'A tenant''s public face by slug (no row for unknown or deleted tenants).';

create function slotbase.public_services(p_tenant_id uuid)
returns table (
  id uuid, slug text, name text, description text, kind text, duration_minutes integer, max_party_size integer,
  requires_approval boolean, price_cents integer, currency text
)
language sql
stable
security definer
set search_path = ''
as $$
  select s.id, s.slug, s.name, s.description, s.kind, s.duration_minutes, s.max_party_size, s.requires_approval,
         s.price_cents, s.currency
  from slotbase.services as s
  where s.tenant_id = p_tenant_id and s.is_public and s.deleted_at is null
  order by s.name, s.id
$$;
comment on function slotbase.public_services(uuid) is 'Public, non-deleted services of a tenant.';

create function slotbase.public_locations(p_tenant_id uuid)
returns table (id uuid, name text, time_zone text, address text)
language sql
stable
security definer
set search_path = ''
as $$
  select l.id, l.name, l.time_zone, l.address
  from slotbase.locations as l
  where l.tenant_id = p_tenant_id and l.deleted_at is null
  order by l.name, l.id
$$;
comment on function slotbase.public_locations(uuid) is 'Non-deleted locations of a tenant, for the booking page.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.public_tenant(text), slotbase.public_services(uuid), slotbase.public_locations(uuid)
  to anon, authenticated;
