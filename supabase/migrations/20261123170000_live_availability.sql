-- Live availability: every change that can add or remove a bookable slot is announced on the
-- channel `slotbase_availability`, so booking pages update without a reload (DESIGN §7).
-- NOTIFY is transactional: a rolled-back booking announces nothing, a committed one exactly once
-- per subject and range (PostgreSQL folds identical payloads within a transaction).
--
-- Payload (JSON, short keys: the channel carries at most 8000 bytes):
--   {"t": tenant_id, "k": "claim" | "session" | "schedule", "s": subject or session id,
--    "f": from, "u": until}   (f/u null = "any time": a schedule rule changed)

-- why: one announcement per claim that starts or stops occupying time.
create function slotbase_private.tg_booking_claims__announce()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row slotbase.booking_claims := coalesce(new, old);
begin
  if tg_op = 'UPDATE' and new.is_active = old.is_active and new.busy = old.busy then
    return null;
  end if;
  perform pg_catalog.pg_notify('slotbase_availability', pg_catalog.json_build_object(
    't', v_row.tenant_id, 'k', 'claim', 's', v_row.subject_id,
    'f', pg_catalog.lower(v_row.busy), 'u', pg_catalog.upper(v_row.busy))::text);
  if tg_op = 'UPDATE' and new.busy <> old.busy then
    perform pg_catalog.pg_notify('slotbase_availability', pg_catalog.json_build_object(
      't', old.tenant_id, 'k', 'claim', 's', old.subject_id,
      'f', pg_catalog.lower(old.busy), 'u', pg_catalog.upper(old.busy))::text);
  end if;
  return null;
end
$$;
create trigger _500_announce after insert or update or delete on slotbase.booking_claims
  for each row execute function slotbase_private.tg_booking_claims__announce();

-- why: seats of a group session change without touching claims.
create function slotbase_private.tg_sessions__announce()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row slotbase.sessions := coalesce(new, old);
begin
  if tg_op = 'UPDATE' and new.seats_taken = old.seats_taken and new.capacity = old.capacity
     and new.status = old.status and new.starts_at = old.starts_at then
    return null;
  end if;
  perform pg_catalog.pg_notify('slotbase_availability', pg_catalog.json_build_object(
    't', v_row.tenant_id, 'k', 'session', 's', v_row.id, 'f', v_row.starts_at, 'u', v_row.ends_at)::text);
  return null;
end
$$;
create trigger _500_announce after insert or update or delete on slotbase.sessions
  for each row execute function slotbase_private.tg_sessions__announce();

-- why: weekly rules, date overrides and time off move working time; pages refetch what they show.
create function slotbase_private.tg_schedule__announce()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tenant_id uuid;
  v_subject_id uuid;
begin
  if tg_op = 'DELETE' then
    v_tenant_id := old.tenant_id;
    v_subject_id := coalesce(old.provider_id, old.resource_id);
  else
    v_tenant_id := new.tenant_id;
    v_subject_id := coalesce(new.provider_id, new.resource_id);
  end if;
  perform pg_catalog.pg_notify('slotbase_availability', pg_catalog.json_build_object(
    't', v_tenant_id, 'k', 'schedule', 's', v_subject_id, 'f', null, 'u', null)::text);
  return null;
end
$$;
create trigger _500_announce after insert or update or delete on slotbase.availability_rules
  for each row execute function slotbase_private.tg_schedule__announce();
create trigger _500_announce after insert or update or delete on slotbase.date_overrides
  for each row execute function slotbase_private.tg_schedule__announce();
create trigger _500_announce after insert or update or delete on slotbase.time_off
  for each row execute function slotbase_private.tg_schedule__announce();

revoke execute on all functions in schema slotbase, slotbase_private from public;
