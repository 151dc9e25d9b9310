-- Operations: what /ready and /metrics need from the database. The API logs in as slotbase_api,
-- which can read neither the migration ledger (slotbase_meta) nor graphile-worker's tables; these
-- two functions give it exactly the aggregate it needs, nothing row-level.

-- why: /ready answers 503 when this code ships a migration the database has not applied (a
-- deployment that skipped `slotbase migrate`). Names only: no checksums, no timestamps.
create function slotbase_private.applied_migrations()
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select m.name from slotbase_meta.migrations as m order by m.name
$$;
comment on function slotbase_private.applied_migrations() is
  'slotbase_api only (GET /ready): the names of the applied migration files, in order.';

-- why: /metrics reports the job queue (depth and failures) from any API process, including when
-- the worker runs elsewhere. Counts per task and state, never payloads. The jobs table only holds
-- unfinished jobs (graphile-worker deletes a job when it succeeds), so this stays small; the
-- statement timeout keeps a scrape from ever waiting on it.
create function slotbase_private.job_queue_stats()
returns table (task text, state text, jobs bigint)
language sql
stable
security definer
set search_path = ''
set statement_timeout = '2s'
as $$
  select t.identifier,
         case
           when j.attempts >= j.max_attempts then 'failed'
           when j.locked_at is not null then 'running'
           when j.run_at > now() and j.attempts > 0 then 'retrying'
           when j.run_at > now() then 'scheduled'
           else 'ready'
         end as state,
         count(*)
  from graphile_worker._private_jobs as j
  join graphile_worker._private_tasks as t on t.id = j.task_id
  group by 1, 2
$$;
comment on function slotbase_private.job_queue_stats() is
  'slotbase_api only (GET /metrics): unfinished jobs per task and state (ready, scheduled, retrying, running, failed = out of attempts).';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase_private.applied_migrations() to slotbase_api;
grant execute on function slotbase_private.job_queue_stats() to slotbase_api;
