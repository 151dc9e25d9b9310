-- Sessions of group services are scheduled inside their provider's working time, like
-- appointments: a session that staff create outside the provider's weekly hours or date
-- overrides at that location, or during their time off, is refused with SBOUT (422
-- outside_availability) unless it is explicitly forced (`is_forced`, `force: true` in the API).
-- Only owners and admins create sessions at all (insert_admin), so only they can force one: a
-- one-off Saturday workshop is scheduled on purpose, and the row says so. Generated sessions
-- (generate_sessions) come from the providers' free slots and always pass. A session's time
-- cannot change after it is created (only capacity is updatable), so creation is the one path
-- to check. Forcing never overrides a conflict: the provider's claim is still exclusive.

alter table slotbase.sessions add column is_forced boolean not null default false;
comment on column slotbase.sessions.is_forced is 'Scheduled outside the provider''s working time (weekly hours, date overrides, time off) on purpose, by an owner or admin.';
grant insert (is_forced) on slotbase.sessions to authenticated;

-- why: a session must lie inside its provider's working time at its location, minus time off,
-- unless forced. An after-insert trigger (after RLS accepted the row, so a member of another
-- tenant learns nothing) that runs before _200_claim_provider; rows that trigger refuses (not a
-- group service, a provider who does not offer it) are left to it.
create function slotbase_private.tg_sessions__within_availability()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_zone text;
  v_during tstzrange := tstzrange(new.starts_at, new.ends_at);
begin
  if new.is_forced
     or not exists (select 1 from slotbase.services as s where s.tenant_id = new.tenant_id and s.id = new.service_id and s.kind = 'group')
     or not exists (
       select 1 from slotbase.service_providers as sp
       where sp.tenant_id = new.tenant_id and sp.service_id = new.service_id and sp.provider_id = new.provider_id
     ) then
    return null;
  end if;
  select l.time_zone into v_zone from slotbase.locations as l where l.tenant_id = new.tenant_id and l.id = new.location_id;
  if not (
    slotbase_private.working_time(new.tenant_id, new.provider_id, new.location_id, v_zone, new.starts_at, new.ends_at)
    - slotbase_private.blocked_time(new.tenant_id, new.provider_id, new.starts_at, new.ends_at, interval '0', interval '0', false)
  ) @> v_during then
    raise exception 'the provider does not work then at this location (weekly hours, date overrides, time off); owners and admins may schedule it anyway with force: true'
      using errcode = 'SBOUT', hint = 'starts_at';
  end if;
  return null;
end
$$;
comment on function slotbase_private.tg_sessions__within_availability() is 'Trigger: a session lies in its provider''s working time minus time off, unless is_forced (SBOUT).';
create trigger _150_within_availability after insert on slotbase.sessions
  for each row execute function slotbase_private.tg_sessions__within_availability();

revoke execute on all functions in schema slotbase, slotbase_private from public;
