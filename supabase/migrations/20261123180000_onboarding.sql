-- What a business's booking page shows of its brand: its colour and logo, set by staff in
-- settings.brand_color and settings.logo_url (PATCH /v1/tenant). anon reads nothing else of settings.

-- why: the booking page is rendered as anon, which has no privilege on slotbase.tenants; only these
-- two keys are exposed, and only in their valid shapes (a #rrggbb colour, an https URL), so a
-- malformed value never reaches a page (the renderer validates again before use).
create function slotbase.public_branding(p_tenant_id uuid)
returns table (brand_color text, logo_url text)
language sql
stable
security definer
set search_path = ''
as $$
  select case when t.settings ->> 'brand_color' ~ '^#[0-9a-fA-F]{6}$' then t.settings ->> 'brand_color' end,
         case when t.settings ->> 'logo_url' ~ '^https://[^[:space:]"''<>]+$' and length(t.settings ->> 'logo_url') <= 2000
              then t.settings ->> 'logo_url' end
  from slotbase.tenants as t
  where t.id = p_tenant_id and t.deleted_at is null
$$;
comment on function slotbase.public_branding(uuid) is 'A tenant''s brand colour (#rrggbb) and https logo URL for its booking page (nulls when unset or malformed).';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.public_branding(uuid) to anon, authenticated;
