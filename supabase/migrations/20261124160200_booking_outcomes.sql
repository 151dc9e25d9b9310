-- A booking's outcome (completed or no-show) can only be recorded once the appointment has
-- started: before that nobody knows whether the booker will come. Enforced on the table, like the
-- rest of the lifecycle, so no path can record a future outcome; staff may still cancel. The
-- auto-complete cron (complete_past_bookings) only completes bookings that have ended, so it is
-- never refused.

-- why: completing or marking a no-show before the start is refused with SBNST (409
-- booking_not_started); the status rules themselves stay with _110_enforce_lifecycle, which runs
-- first, so an illegal transition is still SBTRN.
create function slotbase_private.tg_bookings__outcome_after_start()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status in ('completed', 'no_show') and new.status is distinct from old.status and old.starts_at > pg_catalog.now() then
    raise exception 'booking % starts at %: its outcome can be recorded once it has started', old.code, old.starts_at
      using errcode = 'SBNST';
  end if;
  return new;
end
$$;
comment on function slotbase_private.tg_bookings__outcome_after_start() is 'Trigger: completed/no_show only once the booking has started (SBNST).';
create trigger _120_outcome_after_start before update of status on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__outcome_after_start();

comment on function slotbase.complete_booking(uuid) is 'Staff or the booking''s provider: marks a confirmed booking completed once it has started. SBNF1, SBTRN, SBNST.';
comment on function slotbase.mark_no_show(uuid) is 'Staff or the booking''s provider: marks a confirmed booking as a no-show once it has started. SBNF1, SBTRN, SBNST.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
