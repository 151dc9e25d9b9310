-- Demo data for local Supabase runs: after `slotbase migrate`, `psql "$DATABASE_URL" -f supabase/seed.sql`. Tests never read this file.
-- A clinic with one branch. (`npm start` seeds a fuller demo business, slug `demo`, with doctors,
-- hours, services and yoga sessions: src/cli/demo.ts; `slotbase demo` adds it to any database.)
insert into slotbase.tenants (slug, name, time_zone)
values ('demo-clinic', 'Demo Clinic', 'Europe/Berlin')
on conflict (slug) do nothing;

insert into slotbase.locations (tenant_id, name, time_zone, address)
select id, 'Main branch', 'Europe/Berlin', 'Hauptstraße 1, Berlin'
from slotbase.tenants where slug = 'demo-clinic'
  and not exists (select 1 from slotbase.locations l join slotbase.tenants t on t.id = l.tenant_id where t.slug = 'demo-clinic');
