-- What a tenant offers and when: providers, resources, services, and availability
-- (weekly rules, date overrides, time off). Durations are whole minutes (see CONVENTIONS.md).

-- why: a person who is booked (doctor, stylist). A provider's bookings span locations, so one
-- person is never in two branches at once; location_id is only their home branch.
create table slotbase.providers (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  name text not null,
  email text,
  phone text,
  user_id uuid,
  location_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint providers_pkey primary key (tenant_id, id),
  constraint providers_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint providers_user_id_fkey foreign key (user_id) references slotbase.users (id),
  constraint providers_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint providers_name_check check (length(btrim(name)) between 1 and 200),
  constraint providers_email_check check (email is null or (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254)),
  constraint providers_phone_check check (phone is null or phone ~ '^\+?[0-9 ()./-]{3,32}$')
);
alter table slotbase.providers enable row level security;
alter table slotbase.providers force row level security;
create unique index providers_tenant_id_user_id_key on slotbase.providers (tenant_id, user_id) where user_id is not null and deleted_at is null;
create index providers_tenant_id_location_id_idx on slotbase.providers (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.providers
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.providers is 'A bookable person; user_id links the staff account that may manage its own hours.';

-- why: a room, chair or piece of equipment a service needs, at one location.
create table slotbase.resources (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_id uuid not null,
  name text not null,
  kind text not null default 'room',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint resources_pkey primary key (tenant_id, id),
  constraint resources_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint resources_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint resources_name_check check (length(btrim(name)) between 1 and 200),
  constraint resources_kind_check check (kind in ('room', 'equipment', 'other'))
);
alter table slotbase.resources enable row level security;
alter table slotbase.resources force row level security;
create index resources_tenant_id_location_id_idx on slotbase.resources (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.resources
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.resources is 'A room or piece of equipment; a booking claims it like a provider.';

-- why: what customers book. `appointment` = one booker with one provider; `group` = sessions
-- with seats. Buffers widen what a booking occupies; notice and advance bound when one may book.
create table slotbase.services (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  slug text not null,
  name text not null,
  description text,
  kind text not null default 'appointment',
  duration_minutes integer not null,
  buffer_before_minutes integer not null default 0,
  buffer_after_minutes integer not null default 0,
  slot_interval_minutes integer,
  min_notice_minutes integer not null default 0,
  max_advance_days integer not null default 90,
  max_party_size integer not null default 1,
  default_capacity integer,
  hold_minutes integer not null default 10,
  requires_approval boolean not null default false,
  price_cents integer,
  currency text,
  is_public boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint services_pkey primary key (tenant_id, id),
  constraint services_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint services_slug_check check (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  constraint services_name_check check (length(btrim(name)) between 1 and 200),
  constraint services_description_check check (description is null or length(description) <= 5000),
  constraint services_kind_check check (kind in ('appointment', 'group')),
  constraint services_duration_minutes_check check (duration_minutes between 1 and 1440),
  constraint services_buffer_before_minutes_check check (buffer_before_minutes between 0 and 1440),
  constraint services_buffer_after_minutes_check check (buffer_after_minutes between 0 and 1440),
  constraint services_slot_interval_minutes_check check (slot_interval_minutes is null or slot_interval_minutes between 1 and 1440),
  constraint services_min_notice_minutes_check check (min_notice_minutes between 0 and 525600),
  constraint services_max_advance_days_check check (max_advance_days between 1 and 730),
  constraint services_max_party_size_check check (max_party_size between 1 and 1000),
  constraint services_default_capacity_check check (default_capacity is null or default_capacity between 1 and 10000),
  constraint services_hold_minutes_check check (hold_minutes between 1 and 1440),
  constraint services_price_cents_check check (price_cents is null or price_cents >= 0),
  constraint services_currency_check check (currency is null or currency ~ '^[A-Z]{3}$'),
  constraint services_price_currency_check check ((price_cents is null) = (currency is null))
);
alter table slotbase.services enable row level security;
alter table slotbase.services force row level security;
create unique index services_tenant_id_slug_key on slotbase.services (tenant_id, slug) where deleted_at is null;
create trigger _100_timestamps before update on slotbase.services
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.services is 'A bookable service. Durations in minutes; slot_interval_minutes null = duration.';

-- why: which providers offer a service.
create table slotbase.service_providers (
  tenant_id uuid not null,
  service_id uuid not null,
  provider_id uuid not null,
  created_at timestamptz not null default now(),
  constraint service_providers_pkey primary key (tenant_id, service_id, provider_id),
  constraint service_providers_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id) on delete cascade,
  constraint service_providers_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id) on delete cascade
);
alter table slotbase.service_providers enable row level security;
alter table slotbase.service_providers force row level security;
create index service_providers_tenant_id_provider_id_idx on slotbase.service_providers (tenant_id, provider_id);
comment on table slotbase.service_providers is 'Providers who offer a service.';

-- why: which resources a service needs; a booking claims each of them.
create table slotbase.service_resources (
  tenant_id uuid not null,
  service_id uuid not null,
  resource_id uuid not null,
  created_at timestamptz not null default now(),
  constraint service_resources_pkey primary key (tenant_id, service_id, resource_id),
  constraint service_resources_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id) on delete cascade,
  constraint service_resources_resource_id_fkey foreign key (tenant_id, resource_id) references slotbase.resources (tenant_id, id) on delete cascade
);
alter table slotbase.service_resources enable row level security;
alter table slotbase.service_resources force row level security;
create index service_resources_tenant_id_resource_id_idx on slotbase.service_resources (tenant_id, resource_id);
comment on table slotbase.service_resources is 'Resources a service needs; all are claimed with the provider or none.';

-- why: weekly working hours of a provider or resource at a location, as local wall-clock
-- times. Turned into instants in the location's zone when slots are computed.
create table slotbase.availability_rules (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  provider_id uuid,
  resource_id uuid,
  location_id uuid not null,
  weekday smallint not null,
  start_time time not null,
  end_time time not null,
  valid_from date,
  valid_until date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint availability_rules_pkey primary key (tenant_id, id),
  constraint availability_rules_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id) on delete cascade,
  constraint availability_rules_resource_id_fkey foreign key (tenant_id, resource_id) references slotbase.resources (tenant_id, id) on delete cascade,
  constraint availability_rules_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint availability_rules_subject_check check (num_nonnulls(provider_id, resource_id) = 1),
  constraint availability_rules_weekday_check check (weekday between 1 and 7),
  constraint availability_rules_time_range_check check (end_time > start_time),
  constraint availability_rules_valid_range_check check (valid_until is null or valid_from is null or valid_until >= valid_from)
);
alter table slotbase.availability_rules enable row level security;
alter table slotbase.availability_rules force row level security;
create index availability_rules_tenant_id_provider_id_idx on slotbase.availability_rules (tenant_id, provider_id) where provider_id is not null;
create index availability_rules_tenant_id_resource_id_idx on slotbase.availability_rules (tenant_id, resource_id) where resource_id is not null;
create index availability_rules_tenant_id_location_id_idx on slotbase.availability_rules (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.availability_rules
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.availability_rules is 'Weekly hours: ISO weekday (1 = Monday), local start/end time (end may be 24:00) at a location.';

-- why: a day that differs from the weekly pattern. Any override on a date replaces that
-- subject's weekly rules at that location on that date; null times mean closed all day.
create table slotbase.date_overrides (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  provider_id uuid,
  resource_id uuid,
  location_id uuid not null,
  date date not null,
  start_time time,
  end_time time,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint date_overrides_pkey primary key (tenant_id, id),
  constraint date_overrides_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id) on delete cascade,
  constraint date_overrides_resource_id_fkey foreign key (tenant_id, resource_id) references slotbase.resources (tenant_id, id) on delete cascade,
  constraint date_overrides_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint date_overrides_subject_check check (num_nonnulls(provider_id, resource_id) = 1),
  constraint date_overrides_closed_check check ((start_time is null) = (end_time is null)),
  constraint date_overrides_time_range_check check (end_time > start_time)
);
alter table slotbase.date_overrides enable row level security;
alter table slotbase.date_overrides force row level security;
create index date_overrides_tenant_id_provider_id_date_idx on slotbase.date_overrides (tenant_id, provider_id, date) where provider_id is not null;
create index date_overrides_tenant_id_resource_id_date_idx on slotbase.date_overrides (tenant_id, resource_id, date) where resource_id is not null;
create index date_overrides_tenant_id_location_id_idx on slotbase.date_overrides (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.date_overrides
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.date_overrides is 'Hours for one date replacing the weekly rules; start_time/end_time null = closed.';

-- why: absences (holiday, sick day) as instants. Plain bounds, not a range column, so reads
-- use leakproof btree comparisons under RLS (DESIGN §12).
create table slotbase.time_off (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  provider_id uuid,
  resource_id uuid,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint time_off_pkey primary key (tenant_id, id),
  constraint time_off_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id) on delete cascade,
  constraint time_off_resource_id_fkey foreign key (tenant_id, resource_id) references slotbase.resources (tenant_id, id) on delete cascade,
  constraint time_off_subject_check check (num_nonnulls(provider_id, resource_id) = 1),
  constraint time_off_time_range_check check (ends_at > starts_at),
  constraint time_off_reason_check check (reason is null or length(reason) <= 1000)
);
alter table slotbase.time_off enable row level security;
alter table slotbase.time_off force row level security;
create index time_off_tenant_id_provider_id_ends_at_idx on slotbase.time_off (tenant_id, provider_id, ends_at) include (starts_at) where provider_id is not null;
create index time_off_tenant_id_resource_id_ends_at_idx on slotbase.time_off (tenant_id, resource_id, ends_at) include (starts_at) where resource_id is not null;
create trigger _100_timestamps before update on slotbase.time_off
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.time_off is 'A provider or resource is away during [starts_at, ends_at).';

-- why: the providers linked to the caller's user account in the current tenant, so a provider
-- may manage their own hours. security definer: reads providers without recursing into policies.
create function slotbase.current_provider_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id
  from slotbase.providers as p
  where p.tenant_id = slotbase.current_tenant_id()
    and p.user_id = slotbase.current_user_id()
    and p.deleted_at is null
    and slotbase.current_member_role() is not null
$$;
comment on function slotbase.current_provider_ids() is 'Providers of the current tenant linked to the current user.';
grant execute on function slotbase.current_provider_ids() to authenticated;

-- Policies. Reads: any member, within their location scope. Writes: owners and admins within
-- their scope; a provider also manages their own weekly rules, overrides and time off.

-- providers: visible when their home location is in scope or they work at a location in scope.
create policy select_member on slotbase.providers for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and (
      slotbase.can_see_location(location_id)
      or exists (select 1 from slotbase.availability_rules as r where r.tenant_id = providers.tenant_id and r.provider_id = providers.id)
    )
  );
comment on policy select_member on slotbase.providers is 'Members see providers based at, or working at, a location in their scope.';
create policy insert_admin on slotbase.providers for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy insert_admin on slotbase.providers is 'Owners and admins add providers based in their scope.';
create policy update_admin on slotbase.providers for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy update_admin on slotbase.providers is 'Owners and admins edit (and soft-delete) providers based in their scope.';
create policy delete_admin on slotbase.providers for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy delete_admin on slotbase.providers is 'Owners and admins hard-delete providers based in their scope.';
grant select, delete on slotbase.providers to authenticated;
grant insert (tenant_id, id, name, email, phone, user_id, location_id) on slotbase.providers to authenticated;
grant update (name, email, phone, user_id, location_id, deleted_at) on slotbase.providers to authenticated;

-- resources
create policy select_member on slotbase.resources for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and slotbase.can_see_location(location_id)
  );
comment on policy select_member on slotbase.resources is 'Members see resources at locations in their scope.';
create policy insert_admin on slotbase.resources for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy insert_admin on slotbase.resources is 'Owners and admins add resources in their scope.';
create policy update_admin on slotbase.resources for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy update_admin on slotbase.resources is 'Owners and admins edit (and soft-delete) resources in their scope.';
create policy delete_admin on slotbase.resources for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy delete_admin on slotbase.resources is 'Owners and admins hard-delete resources in their scope.';
grant select, delete on slotbase.resources to authenticated;
grant insert (tenant_id, id, location_id, name, kind) on slotbase.resources to authenticated;
grant update (location_id, name, kind, deleted_at) on slotbase.resources to authenticated;

-- services: tenant-wide; managed by tenant-wide owners and admins.
create policy select_member on slotbase.services for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.services is 'Members see every service of their tenant.';
create policy insert_admin on slotbase.services for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy insert_admin on slotbase.services is 'Tenant-wide owners and admins create services.';
create policy update_admin on slotbase.services for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy update_admin on slotbase.services is 'Tenant-wide owners and admins edit (and soft-delete) services.';
create policy delete_admin on slotbase.services for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy delete_admin on slotbase.services is 'Tenant-wide owners and admins hard-delete unused services.';
grant select, delete on slotbase.services to authenticated;
grant insert (
  tenant_id, id, slug, name, description, kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,
  slot_interval_minutes, min_notice_minutes, max_advance_days, max_party_size, default_capacity, hold_minutes,
  requires_approval, price_cents, currency, is_public
) on slotbase.services to authenticated;
grant update (
  slug, name, description, kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,
  slot_interval_minutes, min_notice_minutes, max_advance_days, max_party_size, default_capacity, hold_minutes,
  requires_approval, price_cents, currency, is_public, deleted_at
) on slotbase.services to authenticated;

-- service_providers / service_resources: owners and admins link what they can see.
create policy select_member on slotbase.service_providers for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.service_providers is 'Members see which providers offer which services.';
create policy insert_admin on slotbase.service_providers for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.providers as p where p.tenant_id = service_providers.tenant_id and p.id = service_providers.provider_id)
  );
comment on policy insert_admin on slotbase.service_providers is 'Owners and admins attach providers they can see to services.';
create policy delete_admin on slotbase.service_providers for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.providers as p where p.tenant_id = service_providers.tenant_id and p.id = service_providers.provider_id)
  );
comment on policy delete_admin on slotbase.service_providers is 'Owners and admins detach providers they can see.';
grant select, delete on slotbase.service_providers to authenticated;
grant insert (tenant_id, service_id, provider_id) on slotbase.service_providers to authenticated;

create policy select_member on slotbase.service_resources for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.service_resources is 'Members see which resources each service needs.';
create policy insert_admin on slotbase.service_resources for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.resources as r where r.tenant_id = service_resources.tenant_id and r.id = service_resources.resource_id)
  );
comment on policy insert_admin on slotbase.service_resources is 'Owners and admins attach resources they can see to services.';
create policy delete_admin on slotbase.service_resources for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.resources as r where r.tenant_id = service_resources.tenant_id and r.id = service_resources.resource_id)
  );
comment on policy delete_admin on slotbase.service_resources is 'Owners and admins detach resources they can see.';
grant select, delete on slotbase.service_resources to authenticated;
grant insert (tenant_id, service_id, resource_id) on slotbase.service_resources to authenticated;

-- availability_rules and date_overrides: scoped by their location. Writers: owners/admins in
-- scope, or the provider themselves.
create policy select_member on slotbase.availability_rules for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and slotbase.can_see_location(location_id)
  );
comment on policy select_member on slotbase.availability_rules is 'Members see hours at locations in their scope.';
create policy insert_staff on slotbase.availability_rules for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy insert_staff on slotbase.availability_rules is 'Owners/admins in scope, or the provider for their own hours.';
create policy update_staff on slotbase.availability_rules for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy update_staff on slotbase.availability_rules is 'Owners/admins in scope, or the provider for their own hours.';
create policy delete_staff on slotbase.availability_rules for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy delete_staff on slotbase.availability_rules is 'Owners/admins in scope, or the provider for their own hours.';
grant select, delete on slotbase.availability_rules to authenticated;
grant insert (tenant_id, id, provider_id, resource_id, location_id, weekday, start_time, end_time, valid_from, valid_until)
  on slotbase.availability_rules to authenticated;
grant update (location_id, weekday, start_time, end_time, valid_from, valid_until) on slotbase.availability_rules to authenticated;

create policy select_member on slotbase.date_overrides for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and slotbase.can_see_location(location_id)
  );
comment on policy select_member on slotbase.date_overrides is 'Members see date overrides at locations in their scope.';
create policy insert_staff on slotbase.date_overrides for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy insert_staff on slotbase.date_overrides is 'Owners/admins in scope, or the provider for their own days.';
create policy update_staff on slotbase.date_overrides for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy update_staff on slotbase.date_overrides is 'Owners/admins in scope, or the provider for their own days.';
create policy delete_staff on slotbase.date_overrides for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and slotbase.can_see_location(location_id)
    and ((select slotbase.current_member_role()) in ('owner', 'admin') or provider_id in (select slotbase.current_provider_ids()))
  );
comment on policy delete_staff on slotbase.date_overrides is 'Owners/admins in scope, or the provider for their own days.';
grant select, delete on slotbase.date_overrides to authenticated;
grant insert (tenant_id, id, provider_id, resource_id, location_id, date, start_time, end_time) on slotbase.date_overrides to authenticated;
grant update (location_id, date, start_time, end_time) on slotbase.date_overrides to authenticated;

-- time_off: visible with the provider or resource it belongs to.
create policy select_member on slotbase.time_off for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and (
      exists (select 1 from slotbase.providers as p where p.tenant_id = time_off.tenant_id and p.id = time_off.provider_id)
      or exists (select 1 from slotbase.resources as r where r.tenant_id = time_off.tenant_id and r.id = time_off.resource_id)
    )
  );
comment on policy select_member on slotbase.time_off is 'Members see time off of providers and resources they can see.';
create policy insert_staff on slotbase.time_off for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (
      ((select slotbase.current_member_role()) in ('owner', 'admin') and (
        exists (select 1 from slotbase.providers as p where p.tenant_id = time_off.tenant_id and p.id = time_off.provider_id)
        or exists (select 1 from slotbase.resources as r where r.tenant_id = time_off.tenant_id and r.id = time_off.resource_id)
      ))
      or provider_id in (select slotbase.current_provider_ids())
    )
  );
comment on policy insert_staff on slotbase.time_off is 'Owners/admins for what they can see, or the provider for their own time off.';
create policy update_staff on slotbase.time_off for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (
      ((select slotbase.current_member_role()) in ('owner', 'admin') and (
        exists (select 1 from slotbase.providers as p where p.tenant_id = time_off.tenant_id and p.id = time_off.provider_id)
        or exists (select 1 from slotbase.resources as r where r.tenant_id = time_off.tenant_id and r.id = time_off.resource_id)
      ))
      or provider_id in (select slotbase.current_provider_ids())
    )
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (
      ((select slotbase.current_member_role()) in ('owner', 'admin') and (
        exists (select 1 from slotbase.providers as p where p.tenant_id = time_off.tenant_id and p.id = time_off.provider_id)
        or exists (select 1 from slotbase.resources as r where r.tenant_id = time_off.tenant_id and r.id = time_off.resource_id)
      ))
      or provider_id in (select slotbase.current_provider_ids())
    )
  );
comment on policy update_staff on slotbase.time_off is 'Owners/admins for what they can see, or the provider for their own time off.';
create policy delete_staff on slotbase.time_off for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (
      ((select slotbase.current_member_role()) in ('owner', 'admin') and (
        exists (select 1 from slotbase.providers as p where p.tenant_id = time_off.tenant_id and p.id = time_off.provider_id)
        or exists (select 1 from slotbase.resources as r where r.tenant_id = time_off.tenant_id and r.id = time_off.resource_id)
      ))
      or provider_id in (select slotbase.current_provider_ids())
    )
  );
comment on policy delete_staff on slotbase.time_off is 'Owners/admins for what they can see, or the provider for their own time off.';
grant select, delete on slotbase.time_off to authenticated;
grant insert (tenant_id, id, provider_id, resource_id, starts_at, ends_at, reason) on slotbase.time_off to authenticated;
grant update (starts_at, ends_at, reason) on slotbase.time_off to authenticated;

revoke execute on all functions in schema slotbase, slotbase_private from public;
