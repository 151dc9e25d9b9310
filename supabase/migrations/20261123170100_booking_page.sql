-- What the public booking page needs beyond the public catalog: bookable providers by name (so a
-- booker can pick one) and the origins allowed to embed the page (CSP frame-ancestors).

-- why: "pick a provider" needs names; only providers who offer a public service are shown, and
-- only their name and home location (never email, phone or account).
create function slotbase.public_providers(p_tenant_id uuid)
returns table (id uuid, name text, location_id uuid, service_ids uuid[])
language sql
stable
security definer
set search_path = ''
as $$
  select p.id, p.name, p.location_id, array_agg(s.id order by s.id)
  from slotbase.providers as p
  join slotbase.service_providers as sp on sp.tenant_id = p.tenant_id and sp.provider_id = p.id
  join slotbase.services as s on s.tenant_id = sp.tenant_id and s.id = sp.service_id
  where p.tenant_id = p_tenant_id and p.deleted_at is null and s.is_public and s.deleted_at is null
  group by p.id, p.name, p.location_id
  order by p.name, p.id
$$;
comment on function slotbase.public_providers(uuid) is 'Providers offering a public service of a tenant: id, name, home location and those services.';

-- why: a business decides which sites may frame its booking page (settings.embed_origins, a list
-- of origins such as "https://clinic.example"). Unset means any site may embed it.
create function slotbase.public_embed_origins(p_tenant_id uuid)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select case when jsonb_typeof(t.settings -> 'embed_origins') = 'array'
              then array(select jsonb_array_elements_text(t.settings -> 'embed_origins'))
         end
  from slotbase.tenants as t
  where t.id = p_tenant_id and t.deleted_at is null
$$;
comment on function slotbase.public_embed_origins(uuid) is 'Origins allowed to embed the tenant''s booking page (null: any).';

-- why: the manage page (/b/manage/{code}?token=…) names the business, service, provider and
-- place, and needs the business's slug to offer new times. Only code + manage token open it.
create function slotbase.public_booking_context(p_code text, p_manage_token text)
returns table (tenant_slug text, tenant_name text, service_name text, service_slug text, provider_name text,
               location_name text, location_time_zone text, location_address text)
language sql
stable
security definer
set search_path = ''
as $$
  select t.slug, t.name, s.name, s.slug, p.name, l.name, l.time_zone, l.address
  from slotbase.find_booking(p_code, p_manage_token) as b
  join slotbase.tenants as t on t.id = b.tenant_id
  join slotbase.services as s on s.tenant_id = b.tenant_id and s.id = b.service_id
  join slotbase.providers as p on p.tenant_id = b.tenant_id and p.id = b.provider_id
  join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = b.location_id
$$;
comment on function slotbase.public_booking_context(text, text) is 'Names around a booking for its manage page; SBNF1 for a wrong code or token.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.public_providers(uuid), slotbase.public_embed_origins(uuid), slotbase.public_booking_context(text, text)
  to anon, authenticated;
