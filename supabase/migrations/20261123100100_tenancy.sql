-- Tenants, users, locations, memberships: who may see and change what.
-- Policies of these tables follow the membership helpers defined after the tables.

-- why: a business using Slotbase. Its slug names its public booking page (/b/{slug}).
create table slotbase.tenants (
  id uuid not null default gen_random_uuid(),
  slug text not null,
  name text not null,
  time_zone text not null default 'UTC',
  locale text not null default 'en',
  plan text not null default 'free',
  status text not null default 'active',
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint tenants_pkey primary key (id),
  constraint tenants_slug_key unique (slug),
  constraint tenants_slug_check check (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  constraint tenants_slug_reserved_check check (
    slug not in ('admin', 'api', 'app', 'assets', 'b', 'console', 'docs', 'embed', 'health', 'manage', 'public', 'signup', 'static', 'v1', 'www')
  ),
  constraint tenants_name_check check (length(btrim(name)) between 1 and 200),
  constraint tenants_time_zone_check check (slotbase.is_valid_time_zone(time_zone)),
  constraint tenants_locale_check check (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  constraint tenants_status_check check (status in ('active', 'past_due', 'paused', 'suspended')),
  constraint tenants_settings_check check (jsonb_typeof(settings) = 'object')
);
alter table slotbase.tenants enable row level security;
alter table slotbase.tenants force row level security;
create trigger _100_timestamps before update on slotbase.tenants
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.tenants is 'A business using Slotbase; every tenant-owned row carries its id.';
comment on column slotbase.tenants.time_zone is 'Default IANA time zone for new locations.';
comment on column slotbase.tenants.plan is 'Billing plan; set by billing, not by members.';

-- why: global identities (staff and registered customers); one person may belong to many
-- tenants. The password hash lives in slotbase_private.user_credentials, never here.
create table slotbase.users (
  id uuid not null default gen_random_uuid(),
  email text not null,
  display_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint users_pkey primary key (id),
  constraint users_email_check check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
  constraint users_display_name_check check (display_name is null or length(btrim(display_name)) between 1 and 200)
);
alter table slotbase.users enable row level security;
alter table slotbase.users force row level security;
create unique index users_email_key on slotbase.users (lower(email));
create trigger _100_timestamps before update on slotbase.users
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.users is 'Global identities; email is unique case-insensitively (users_email_key).';

-- why: secrets stay out of any table a caller can be granted.
create table slotbase_private.user_credentials (
  user_id uuid not null,
  password_hash text not null,
  updated_at timestamptz not null default now(),
  constraint user_credentials_pkey primary key (user_id),
  constraint user_credentials_user_id_fkey foreign key (user_id) references slotbase.users (id) on delete cascade
);
alter table slotbase_private.user_credentials enable row level security;
alter table slotbase_private.user_credentials force row level security;
comment on table slotbase_private.user_credentials is 'Password hashes (memory-hard KDF output); no caller has any privilege here.';

-- why: branches of a business (clinic chains). Local times of availability are interpreted
-- in the location's IANA zone, so daylight saving never shifts a slot.
create table slotbase.locations (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  name text not null,
  time_zone text not null,
  address text,
  phone text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint locations_pkey primary key (tenant_id, id),
  constraint locations_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint locations_name_check check (length(btrim(name)) between 1 and 200),
  constraint locations_time_zone_check check (slotbase.is_valid_time_zone(time_zone)),
  constraint locations_address_check check (address is null or length(address) <= 1000),
  constraint locations_phone_check check (phone is null or phone ~ '^\+?[0-9 ()./-]{3,32}$')
);
alter table slotbase.locations enable row level security;
alter table slotbase.locations force row level security;
create trigger _100_timestamps before update on slotbase.locations
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.locations is 'A branch of a tenant with its IANA time zone.';

-- why: a user's role in a tenant, optionally scoped to one location (a branch receptionist).
create table slotbase.memberships (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  role text not null,
  location_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint memberships_pkey primary key (tenant_id, id),
  constraint memberships_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint memberships_user_id_fkey foreign key (user_id) references slotbase.users (id),
  constraint memberships_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint memberships_role_check check (role in ('owner', 'admin', 'receptionist', 'provider', 'viewer')),
  constraint memberships_owner_unscoped_check check (role <> 'owner' or location_id is null)
);
alter table slotbase.memberships enable row level security;
alter table slotbase.memberships force row level security;
create unique index memberships_tenant_id_user_id_key on slotbase.memberships (tenant_id, user_id) where deleted_at is null;
create index memberships_user_id_idx on slotbase.memberships (user_id);
create index memberships_tenant_id_location_id_idx on slotbase.memberships (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.memberships
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.memberships is 'A user''s role in a tenant; location_id scopes it to one branch.';
comment on column slotbase.memberships.location_id is 'When set, the member sees and manages only this location''s rows.';

-- Membership helpers. security definer: they read memberships without recursing into its
-- policies. Each reads only the current request's own membership.

-- why: the caller's role in the tenant the request acts in; null when not an active member.
create function slotbase.current_member_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.role
  from slotbase.memberships as m
  join slotbase.tenants as t on t.id = m.tenant_id
  where m.tenant_id = slotbase.current_tenant_id()
    and m.user_id = slotbase.current_user_id()
    and m.deleted_at is null
    and t.deleted_at is null
$$;
comment on function slotbase.current_member_role() is 'Role of the current user in the current tenant (owner|admin|receptionist|provider|viewer), or null.';

-- why: the location a member is scoped to; null for tenant-wide members (and non-members).
create function slotbase.current_member_location_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.location_id
  from slotbase.memberships as m
  where m.tenant_id = slotbase.current_tenant_id()
    and m.user_id = slotbase.current_user_id()
    and m.deleted_at is null
$$;
comment on function slotbase.current_member_location_id() is 'Location the current member is scoped to, or null when tenant-wide.';

-- why: the row's location is within the caller's scope (always true for tenant-wide members).
-- Inlined by the planner; its sub-selects run once per statement.
create function slotbase.can_see_location(p_location_id uuid)
returns boolean
language sql
stable
as $$
  select (select slotbase.current_member_location_id()) is null
      or p_location_id = (select slotbase.current_member_location_id())
$$;
comment on function slotbase.can_see_location(uuid) is 'True when the current member is tenant-wide or scoped to this location.';

grant execute on function slotbase.current_member_role(), slotbase.current_member_location_id(),
  slotbase.can_see_location(uuid) to authenticated;

-- tenants: members read their tenant; owners and admins change its settings.
create policy select_member on slotbase.tenants for select to authenticated
  using (id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.tenants is 'Members see the tenant they act in.';
create policy update_admin on slotbase.tenants for update to authenticated
  using (id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) in ('owner', 'admin'))
  with check (id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) in ('owner', 'admin'));
comment on policy update_admin on slotbase.tenants is 'Owners and admins edit tenant settings (plan and status are not granted).';
grant select on slotbase.tenants to authenticated;
grant update (name, time_zone, locale, settings) on slotbase.tenants to authenticated;

-- users: everyone sees themselves and the members of the tenant they act in.
create policy select_self_or_colleague on slotbase.users for select to authenticated
  using (
    id = (select slotbase.current_user_id())
    or id in (select m.user_id from slotbase.memberships as m where m.tenant_id = (select slotbase.current_tenant_id()))
  );
comment on policy select_self_or_colleague on slotbase.users is 'A user sees their own row and the members visible to them in their current tenant.';
create policy update_self on slotbase.users for update to authenticated
  using (id = (select slotbase.current_user_id()))
  with check (id = (select slotbase.current_user_id()));
comment on policy update_self on slotbase.users is 'A user edits only their own profile.';
grant select (id, email, display_name, created_at, updated_at) on slotbase.users to authenticated;
grant update (display_name) on slotbase.users to authenticated;

-- locations: members see the locations in their scope; tenant-wide owners/admins create them.
create policy select_member on slotbase.locations for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and slotbase.can_see_location(id)
  );
comment on policy select_member on slotbase.locations is 'Members see locations within their scope.';
create policy insert_admin on slotbase.locations for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy insert_admin on slotbase.locations is 'Only tenant-wide owners and admins open new locations.';
create policy update_admin on slotbase.locations for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(id)
  );
comment on policy update_admin on slotbase.locations is 'Owners and admins edit (and soft-delete) locations within their scope.';
create policy delete_admin on slotbase.locations for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy delete_admin on slotbase.locations is 'Tenant-wide owners and admins hard-delete unused locations (foreign keys protect used ones).';
grant select, delete on slotbase.locations to authenticated;
grant insert (tenant_id, id, name, time_zone, address, phone) on slotbase.locations to authenticated;
grant update (name, time_zone, address, phone, deleted_at) on slotbase.locations to authenticated;

-- memberships: members see colleagues in their scope; owners/admins manage them, and only
-- owners make owners. A scoped admin manages only members of their own location.
create policy select_member on slotbase.memberships for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and (location_id is null or slotbase.can_see_location(location_id))
  );
comment on policy select_member on slotbase.memberships is 'Members see tenant-wide colleagues and those of their location.';
create policy insert_admin on slotbase.memberships for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select slotbase.current_member_role()) = 'owner')
    and slotbase.can_see_location(location_id)
  );
comment on policy insert_admin on slotbase.memberships is 'Owners and admins add members in their scope; only owners add owners.';
create policy update_admin on slotbase.memberships for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select slotbase.current_member_role()) = 'owner')
    and slotbase.can_see_location(location_id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select slotbase.current_member_role()) = 'owner')
    and slotbase.can_see_location(location_id)
  );
comment on policy update_admin on slotbase.memberships is 'Owners and admins change roles and scopes in their scope; only owners touch owners.';
create policy delete_admin on slotbase.memberships for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (role <> 'owner' or (select slotbase.current_member_role()) = 'owner')
    and slotbase.can_see_location(location_id)
  );
comment on policy delete_admin on slotbase.memberships is 'Owners and admins remove members in their scope; only owners remove owners.';
grant select, delete on slotbase.memberships to authenticated;
grant insert (tenant_id, user_id, role, location_id) on slotbase.memberships to authenticated;
grant update (role, location_id, deleted_at) on slotbase.memberships to authenticated;

-- why: a tenant must always keep an active owner. The tenant row is locked first, so two
-- owners demoting each other at the same time cannot both succeed.
create function slotbase_private.tg_memberships__keep_an_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role = 'owner' and old.deleted_at is null
     and (tg_op = 'DELETE' or new.role <> 'owner' or new.deleted_at is not null) then
    perform 1 from slotbase.tenants where id = old.tenant_id for update;
    if not exists (
      select 1 from slotbase.memberships
      where tenant_id = old.tenant_id and id <> old.id and role = 'owner' and deleted_at is null
    ) then
      raise exception 'a tenant must keep at least one owner' using errcode = 'SBOWN';
    end if;
  end if;
  return coalesce(new, old);
end
$$;
create trigger _200_keep_an_owner before update or delete on slotbase.memberships
  for each row execute function slotbase_private.tg_memberships__keep_an_owner();

-- why: signing up a business creates its tenant and makes the caller its owner in one step.
create function slotbase.create_tenant(p_slug text, p_name text, p_time_zone text default 'UTC')
returns slotbase.tenants
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := slotbase.current_user_id();
  v_tenant slotbase.tenants;
begin
  if v_user_id is null or not exists (select 1 from slotbase.users where id = v_user_id) then
    raise exception 'sign in to create a tenant' using errcode = 'SBUNA';
  end if;
  insert into slotbase.tenants (slug, name, time_zone)
  values (p_slug, p_name, p_time_zone)
  returning * into v_tenant;
  insert into slotbase.memberships (tenant_id, user_id, role) values (v_tenant.id, v_user_id, 'owner');
  return v_tenant;
end
$$;
comment on function slotbase.create_tenant(text, text, text) is 'Creates a tenant with the current user as its owner. Raises SBUNA (not signed in), 23505 tenants_slug_key, 23514 on bad slug/name/zone.';
grant execute on function slotbase.create_tenant(text, text, text) to authenticated;

revoke execute on all functions in schema slotbase, slotbase_private from public;
