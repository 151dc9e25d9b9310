-- Retention of the delivery logs: notifications and webhook deliveries (with their attempts) older
-- than LOG_RETENTION_DAYS are deleted by the daily prune_logs job, a bounded batch per statement.

-- The sweep reads each log by age across tenants: an index range scan (notifications_created_at_idx
-- comes with the notifications migration).
create index webhook_deliveries_created_at_idx on slotbase.webhook_deliveries (created_at) where status <> 'pending';

-- why: the logs hold customer contacts and payload snapshots; keeping them forever is neither
-- needed nor kind. One call deletes at most p_limit rows of each log (short transactions, no long
-- locks) and returns what it deleted; the prune_logs task calls it until a call comes back short.
-- A webhook delivery still pending (its job may yet run, or staff may redeliver it) is kept
-- whatever its age; its attempts go with it through webhook_attempts_delivery_id_fkey's cascade.
create function slotbase_private.prune_logs(p_older_than interval, p_limit integer default 5000)
returns table (notifications_deleted integer, webhook_deliveries_deleted integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_cutoff timestamptz := pg_catalog.now() - p_older_than;
begin
  if p_older_than is null or p_older_than < interval '1 day' or p_limit is null or p_limit < 1 then
    raise exception 'prune_logs keeps at least one day of logs, in batches of at least one row'
      using errcode = 'SBVAL', hint = 'p_older_than';
  end if;
  with doomed as (
    select n.tenant_id, n.id from slotbase.notifications as n
    where n.created_at < v_cutoff
    order by n.created_at
    limit p_limit
    for update skip locked
  ), deleted as (
    delete from slotbase.notifications as n using doomed
    where n.tenant_id = doomed.tenant_id and n.id = doomed.id
    returning 1
  )
  select count(*)::integer into notifications_deleted from deleted;
  with doomed as (
    select d.tenant_id, d.id from slotbase.webhook_deliveries as d
    where d.created_at < v_cutoff and d.status <> 'pending'
    order by d.created_at
    limit p_limit
    for update skip locked
  ), deleted as (
    delete from slotbase.webhook_deliveries as d using doomed
    where d.tenant_id = doomed.tenant_id and d.id = doomed.id
    returning 1
  )
  select count(*)::integer into webhook_deliveries_deleted from deleted;
  return next;
end
$$;
comment on function slotbase_private.prune_logs(interval, integer) is 'Cron: deletes notifications and finished webhook deliveries (with their attempts) older than p_older_than, at most p_limit of each per call. SBVAL.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
