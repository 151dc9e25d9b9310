-- Rate limits and failed-login counting shared by every API process (and every Edge Function
-- isolate): one small unlogged table of GCRA buckets, advanced by one upsert per request.
--
-- GCRA (the generic cell rate algorithm) keeps one timestamp per bucket, its "theoretical arrival
-- time" (tat): with `limit` requests per `window`, each request moves tat forward by
-- window / limit, and a request is admitted while tat - now stays within the window. That is a
-- token bucket of `limit` tokens refilled evenly over the window, stored as one column; a bucket
-- whose tat has passed is full, the same as no row, so rows with tat < now can be deleted at any
-- time (prune_rate_limits, every ten minutes from the worker's crontab).

-- why: the buckets have to be shared by every API process, or a client spreads its requests over
-- them and gets the budget once per process. Unlogged: no WAL per request (a crash empties the
-- table, which only hands every client a full bucket), and the row lock of the upsert is the only
-- lock taken. Keys are sha256 digests made by the API (of "ip:<address>", "user:<id>",
-- "login:account:<email>", …), so neither addresses nor emails are stored.
create unlogged table slotbase_private.rate_limits (
  key bytea not null,
  tat timestamptz not null,
  constraint rate_limits_pkey primary key (key),
  constraint rate_limits_key_check check (octet_length(key) = 32)
) with (fillfactor = 70);
alter table slotbase_private.rate_limits enable row level security;
alter table slotbase_private.rate_limits force row level security;
comment on table slotbase_private.rate_limits is 'GCRA rate-limit buckets and failed-login counters (key: sha256 of the bucket name; tat: theoretical arrival time, past = full bucket). Unlogged: emptied by a crash.';
comment on column slotbase_private.rate_limits.tat is 'When the bucket is full again; each admitted request moves it by window/limit. Rows in the past carry no information and are pruned.';

-- why: the request path's only call: admits or refuses one request against a bucket and says
-- where the bucket stands, in one statement (insert … on conflict do update … where admitted). A
-- refused request writes nothing, so a flood of refused requests adds no dead rows. p_now is for
-- tests (a clock they move); the API passes null and the database's clock is the one every
-- process shares.
create function slotbase_private.take_rate_limit(p_key bytea, p_limit integer, p_window_seconds double precision, p_now timestamptz default null)
returns table (allowed boolean, remaining integer, reset_seconds double precision, retry_after_seconds double precision)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := coalesce(p_now, pg_catalog.clock_timestamp());
  v_step interval;
  v_window interval;
  v_tat timestamptz;
  v_full double precision;
  v_step_s double precision;
begin
  if p_key is null or octet_length(p_key) <> 32 or p_limit is null or p_limit < 1
     or p_window_seconds is null or p_window_seconds <= 0 or p_window_seconds > 31622400 then
    raise exception 'a rate limit needs a 32-byte key, a limit of at least 1 and a window of up to a year'
      using errcode = 'SBVAL', hint = 'p_limit';
  end if;
  v_step_s := p_window_seconds / p_limit;
  v_step := pg_catalog.make_interval(secs => v_step_s);
  v_window := pg_catalog.make_interval(secs => p_window_seconds);
  insert into slotbase_private.rate_limits as r (key, tat)
  values (p_key, v_now + v_step)
  on conflict (key) do update
    set tat = greatest(r.tat, v_now) + v_step
    where greatest(r.tat, v_now) + v_step - v_window <= v_now
  returning r.tat into v_tat;
  allowed := found;
  if not allowed then
    -- The upsert found the row, locked it and left it: read where it stands.
    select r.tat into v_tat from slotbase_private.rate_limits as r where r.key = p_key;
  end if;
  v_full := greatest(0, extract(epoch from coalesce(v_tat, v_now) - v_now)::double precision);
  remaining := greatest(0, floor((p_window_seconds - v_full) / v_step_s + 1e-6))::integer;
  reset_seconds := v_full;
  retry_after_seconds := case when allowed then 0 else greatest(0, v_full + v_step_s - p_window_seconds) end;
  return next;
end
$$;
comment on function slotbase_private.take_rate_limit(bytea, integer, double precision, timestamptz) is 'Admits (and counts) or refuses one request against a GCRA bucket of p_limit per p_window_seconds; returns whether, the requests left, seconds until full, seconds until the next admission. SBVAL.';

-- why: the waiting time of one bucket without spending from it (the failed-login gate looks
-- before the password is checked).
create function slotbase_private.rate_limit_wait(p_key bytea, p_limit integer, p_window_seconds double precision, p_now timestamptz)
returns double precision
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select greatest(0, extract(epoch from r.tat - p_now)::double precision + p_window_seconds / p_limit - p_window_seconds)
     from slotbase_private.rate_limits as r where r.key = p_key),
    0)
$$;
comment on function slotbase_private.rate_limit_wait(bytea, integer, double precision, timestamptz) is 'Seconds until the bucket admits one more request (0: now), without spending from it.';

-- why: brute-force protection of sign-in, counted here so that it holds across processes. Before
-- a password is checked the API asks how long this attempt must wait: the failures of this
-- account from this address (p_pair), of this address on any account (p_address) and of this
-- account from anywhere (p_account) each have a budget per window. The account-wide budget stops
-- guessing spread over many addresses; so that it cannot lock the real user out, an address from
-- which this account signed in successfully lately (p_known is its marker) is exempt from it —
-- it still has its own pair and address budgets. Keys are null when the address is unknown.
create function slotbase_private.login_attempt_wait(
  p_account bytea, p_address bytea, p_pair bytea, p_known bytea,
  p_account_limit integer, p_address_limit integer, p_pair_limit integer,
  p_window_seconds double precision, p_now timestamptz default null)
returns double precision
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := coalesce(p_now, pg_catalog.clock_timestamp());
  v_known boolean := false;
  v_wait double precision := 0;
begin
  if p_known is not null then
    select exists (select 1 from slotbase_private.rate_limits as r where r.key = p_known and r.tat > v_now) into v_known;
  end if;
  if p_account is not null and not v_known then
    v_wait := greatest(v_wait, slotbase_private.rate_limit_wait(p_account, p_account_limit, p_window_seconds, v_now));
  end if;
  if p_address is not null then
    v_wait := greatest(v_wait, slotbase_private.rate_limit_wait(p_address, p_address_limit, p_window_seconds, v_now));
  end if;
  if p_pair is not null then
    v_wait := greatest(v_wait, slotbase_private.rate_limit_wait(p_pair, p_pair_limit, p_window_seconds, v_now));
  end if;
  return v_wait;
end
$$;
comment on function slotbase_private.login_attempt_wait(bytea, bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz) is 'Seconds a sign-in attempt must wait (0: go) given the failed-login buckets of the account, the address and the pair; a known address skips the account bucket.';

-- why: a failed sign-in spends one from each bucket it belongs to, unconditionally (the gate has
-- already let it through). A bucket's tat is capped at two windows ahead, so no burst of
-- concurrent failures can push a lock further than that.
create function slotbase_private.record_login_failure(
  p_account bytea, p_address bytea, p_pair bytea,
  p_account_limit integer, p_address_limit integer, p_pair_limit integer,
  p_window_seconds double precision, p_now timestamptz default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := coalesce(p_now, pg_catalog.clock_timestamp());
  v_window interval := pg_catalog.make_interval(secs => p_window_seconds);
begin
  if p_account_limit < 1 or p_address_limit < 1 or p_pair_limit < 1 or p_window_seconds is null or p_window_seconds <= 0 then
    raise exception 'failed-login budgets need limits of at least 1 and a positive window' using errcode = 'SBVAL', hint = 'p_window_seconds';
  end if;
  -- Sorted by key, so two concurrent failures never wait on each other's rows in opposite orders.
  insert into slotbase_private.rate_limits as r (key, tat)
  select b.key, v_now + pg_catalog.make_interval(secs => p_window_seconds / b.lim)
  from (values (p_account, p_account_limit), (p_address, p_address_limit), (p_pair, p_pair_limit)) as b (key, lim)
  where b.key is not null
  order by b.key
  on conflict (key) do update
    set tat = least(greatest(r.tat, v_now) + (excluded.tat - v_now), v_now + 2 * v_window);
end
$$;
comment on function slotbase_private.record_login_failure(bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz) is 'Counts one failed sign-in against the account, address and pair buckets (null keys skipped). SBVAL.';

-- why: a successful sign-in forgives this address's failures on the account and marks the address
-- as known to the account for p_known_days, so an attack on the account from elsewhere does not
-- lock its owner out (login_attempt_wait).
create function slotbase_private.record_login_success(p_pair bytea, p_known bytea, p_known_days integer, p_now timestamptz default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := coalesce(p_now, pg_catalog.clock_timestamp());
begin
  if p_pair is not null then
    delete from slotbase_private.rate_limits as r where r.key = p_pair;
  end if;
  if p_known is not null and p_known_days > 0 then
    insert into slotbase_private.rate_limits as r (key, tat)
    values (p_known, v_now + pg_catalog.make_interval(days => p_known_days))
    on conflict (key) do update set tat = excluded.tat;
  end if;
end
$$;
comment on function slotbase_private.record_login_success(bytea, bytea, integer, timestamptz) is 'After a successful sign-in: clears the pair''s failures and marks the address as known to the account for p_known_days.';

-- why: full buckets (tat in the past) carry no information; deleting them keeps the table as
-- small as the set of clients active within a window. Bounded batches, skip locked: never waits
-- on the request path's row locks.
create function slotbase_private.prune_rate_limits(p_limit integer default 10000)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  with doomed as (
    select r.key from slotbase_private.rate_limits as r
    where r.tat < pg_catalog.now()
    limit greatest(p_limit, 1)
    for update skip locked
  ), deleted as (
    delete from slotbase_private.rate_limits as r using doomed where r.key = doomed.key returning 1
  )
  select count(*)::integer into v_deleted from deleted;
  return v_deleted;
end
$$;
comment on function slotbase_private.prune_rate_limits(integer) is 'Cron: deletes up to p_limit full (expired) rate-limit buckets; returns how many.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase_private.take_rate_limit(bytea, integer, double precision, timestamptz),
  slotbase_private.login_attempt_wait(bytea, bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz),
  slotbase_private.record_login_failure(bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz),
  slotbase_private.record_login_success(bytea, bytea, integer, timestamptz)
  to slotbase_api;
