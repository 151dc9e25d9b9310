-- The worker's own bookkeeping: which worker processes are alive (so the jobs a killed process
-- had locked are released at once instead of after graphile-worker's 4-hour timeout), and the
-- recurring jobs' SQL (auto-completing past bookings).

-- why: each worker process holds a session advisory lock on `lock_key` for as long as it lives
-- and lists its graphile-worker ids here. Another process that can take that lock knows the
-- owner is gone (its connection closed) and force-unlocks the listed workers' jobs.
create table slotbase_private.worker_processes (
  id uuid not null default gen_random_uuid(),
  lock_key bigint not null,
  worker_ids text[] not null default '{}',
  hostname text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  constraint worker_processes_pkey primary key (id),
  constraint worker_processes_lock_key_key unique (lock_key)
);
alter table slotbase_private.worker_processes enable row level security;
alter table slotbase_private.worker_processes force row level security;
comment on table slotbase_private.worker_processes is 'Live worker processes and their graphile-worker ids; liveness is the session advisory lock on lock_key.';

-- why: a confirmed booking whose end is past is, for reporting and reminders, done. Staff can
-- still mark a no-show within the tenant's grace period (settings.auto_complete_after_minutes,
-- default 60; 0 or less turns auto-completion off). Rows another transaction holds are skipped
-- and picked up by the next run; the batch bound keeps one run short.
create index bookings_confirmed_ends_at_idx on slotbase.bookings (ends_at) where status = 'confirmed' and deleted_at is null;
create function slotbase_private.complete_past_bookings(p_limit integer default 1000)
returns integer
language sql
volatile
security definer
set search_path = ''
as $$
  with due as (
    select b.tenant_id, b.id
    from slotbase.bookings as b
    join slotbase.tenants as t on t.id = b.tenant_id
    where b.status = 'confirmed'
      and b.deleted_at is null
      and b.ends_at < pg_catalog.now()
      and coalesce((t.settings ->> 'auto_complete_after_minutes')::integer, 60) > 0
      and b.ends_at + pg_catalog.make_interval(mins => coalesce((t.settings ->> 'auto_complete_after_minutes')::integer, 60)) <= pg_catalog.now()
    order by b.ends_at
    limit p_limit
    for update of b skip locked
  ), completed as (
    update slotbase.bookings as b set status = 'completed', status_reason = 'completed automatically after it ended'
    from due
    where b.tenant_id = due.tenant_id and b.id = due.id
    returning 1
  )
  select count(*)::integer from completed
$$;
comment on function slotbase_private.complete_past_bookings(integer) is 'Cron: marks confirmed bookings completed once they ended more than the tenant''s grace period ago; returns how many.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
