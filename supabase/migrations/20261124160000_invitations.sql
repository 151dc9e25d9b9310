-- Inviting staff by email. Adding someone who already has an account makes them a member at
-- once (as before); adding an email nobody has an account for creates an invitation instead: a
-- link with a secret token is emailed (task `staff_invitation`), and accepting it sets the
-- password, creates the account and the membership. Before this file such an email got a users row
-- without a password, an account nobody could sign in to.

-- why: the tokens of invitation links are keyed hashes of the invitation id (like manage tokens),
-- so the worker can put the link in the email without the token ever being stored; only its
-- sha256 is kept, to find the invitation it names.
insert into slotbase_private.secrets (name, value)
values ('invitation_token', sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())));

-- why: who was invited to which tenant, with which role and location scope, by whom, until when,
-- and what became of it. At most one open (not accepted, not revoked) invitation per email and
-- tenant; inviting the email again replaces it.
create table slotbase.invitations (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  email text not null,
  role text not null,
  location_id uuid,
  invited_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_user_id uuid,
  revoked_at timestamptz,
  revoked_by uuid,
  constraint invitations_pkey primary key (tenant_id, id),
  constraint invitations_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint invitations_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint invitations_invited_by_fkey foreign key (invited_by) references slotbase.users (id),
  constraint invitations_accepted_user_id_fkey foreign key (accepted_user_id) references slotbase.users (id),
  constraint invitations_revoked_by_fkey foreign key (revoked_by) references slotbase.users (id),
  constraint invitations_email_check check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
  constraint invitations_role_check check (role in ('owner', 'admin', 'receptionist', 'provider', 'viewer')),
  constraint invitations_owner_unscoped_check check (role <> 'owner' or location_id is null),
  constraint invitations_expires_at_check check (expires_at > created_at),
  constraint invitations_outcome_check check (num_nonnulls(accepted_at, revoked_at) <= 1 and (accepted_at is null) = (accepted_user_id is null))
);
alter table slotbase.invitations enable row level security;
alter table slotbase.invitations force row level security;
create unique index invitations_tenant_id_email_key on slotbase.invitations (tenant_id, lower(email))
  where accepted_at is null and revoked_at is null;
create index invitations_tenant_id_created_at_idx on slotbase.invitations (tenant_id, created_at, id);
create trigger _100_timestamps before update on slotbase.invitations
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.invitations is 'Invitations of people without an account to join a tenant; the link token is in no table (only its sha256, in slotbase_private.invitation_secrets).';
comment on column slotbase.invitations.expires_at is 'The link stops working at this time (7 days after it was sent).';

-- why: the token hashes stay out of any table a caller can be granted.
create table slotbase_private.invitation_secrets (
  tenant_id uuid not null,
  invitation_id uuid not null,
  token_hash bytea not null,
  constraint invitation_secrets_pkey primary key (tenant_id, invitation_id),
  constraint invitation_secrets_token_hash_key unique (token_hash),
  constraint invitation_secrets_invitation_id_fkey foreign key (tenant_id, invitation_id) references slotbase.invitations (tenant_id, id) on delete cascade,
  constraint invitation_secrets_token_hash_check check (octet_length(token_hash) = 32)
);
alter table slotbase_private.invitation_secrets enable row level security;
alter table slotbase_private.invitation_secrets force row level security;
comment on table slotbase_private.invitation_secrets is 'sha256 of each invitation link token; no caller has any privilege here.';

-- invitations: owners and admins see the invitations of their scope (a location-scoped admin only
-- those to their location). Nobody writes the table directly: add_member and revoke_invitation do.
create policy select_admin on slotbase.invitations for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy select_admin on slotbase.invitations is 'Owners and admins see invitations within their scope (tenant-wide ones only when tenant-wide).';
grant select on slotbase.invitations to authenticated;

-- The delivery log records invitation emails too (no booking); waitlist_offer is the waitlist's.
alter table slotbase.notifications drop constraint notifications_template_check;
alter table slotbase.notifications add constraint notifications_template_check
  check (template in ('confirmation', 'reminder', 'rescheduled', 'cancelled', 'rejected', 'approval_request', 'waitlist_offer', 'invitation'));

-- why: the link token of an invitation: a keyed hash of its id, url-safe ('sbinv_' + 43 chars).
create function slotbase_private.invitation_token(p_invitation_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select 'sbinv_' || translate(rtrim(encode(pg_catalog.sha256(s.value || uuid_send(p_invitation_id)), 'base64'), '='), '+/', '-_')
  from slotbase_private.secrets as s where s.name = 'invitation_token'
$$;
comment on function slotbase_private.invitation_token(uuid) is 'The secret link token of an invitation (worker only; never stored).';

-- why: what a list shows: pending until accepted, revoked or past expires_at.
create function slotbase.invitation_status(p_invitation slotbase.invitations)
returns text
language sql
stable
set search_path = ''
as $$
  select case
    when p_invitation.accepted_at is not null then 'accepted'
    when p_invitation.revoked_at is not null then 'revoked'
    when p_invitation.expires_at <= pg_catalog.now() then 'expired'
    else 'pending'
  end
$$;
comment on function slotbase.invitation_status(slotbase.invitations) is 'pending, accepted, revoked or expired.';

-- The old add_member returned a membership and created password-less users for new emails.
drop function slotbase.add_member(text, text, uuid);

-- why: an owner or admin adds a colleague by email: a member at once when the email has an
-- account, otherwise an invitation (emailed by the worker). security definer (it reads users
-- past RLS and writes invitations, which no caller may insert into), so it repeats the
-- memberships insert policy itself: owners and admins only, only owners add owners, a
-- location-scoped admin only into their own location. An open invitation of the same email is
-- replaced (its link stops working) when the caller could have made it; otherwise 23505.
create function slotbase.add_member(p_email text, p_role text, p_location_id uuid default null)
returns table (membership_id uuid, invitation_id uuid)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_caller_role text := slotbase.current_member_role();
  v_tenant_id uuid := slotbase.current_tenant_id();
  v_email text := btrim(p_email);
  v_user_id uuid;
  v_open slotbase.invitations;
  v_id uuid;
begin
  if v_caller_role is null
     or v_caller_role not in ('owner', 'admin')
     or (p_role = 'owner' and v_caller_role <> 'owner')
     or not coalesce(slotbase.can_see_location(p_location_id), false) then
    raise exception 'only owners and admins add members, within their scope' using errcode = 'insufficient_privilege';
  end if;

  select u.id into v_user_id from slotbase.users as u where lower(u.email) = lower(v_email);
  if v_user_id is not null then
    insert into slotbase.memberships (tenant_id, user_id, role, location_id)
    values (v_tenant_id, v_user_id, p_role, p_location_id)
    returning id into v_id;
    return query select v_id, null::uuid;
    return;
  end if;

  -- Serializes invitations of one email in one tenant (the partial unique index would answer a
  -- concurrent second one with 23505 instead of replacing).
  perform pg_catalog.pg_advisory_xact_lock(hashtextextended('invitation:' || v_tenant_id::text || ':' || lower(v_email), 0));
  select * into v_open from slotbase.invitations as i
  where i.tenant_id = v_tenant_id and lower(i.email) = lower(v_email) and i.accepted_at is null and i.revoked_at is null
  for update;
  if found then
    if not coalesce(slotbase.can_see_location(v_open.location_id), false) or (v_open.role = 'owner' and v_caller_role <> 'owner') then
      raise exception 'this email already has an open invitation' using errcode = 'unique_violation', table = 'invitations', constraint = 'invitations_tenant_id_email_key';
    end if;
    update slotbase.invitations set revoked_at = pg_catalog.now(), revoked_by = slotbase.current_user_id()
    where tenant_id = v_open.tenant_id and id = v_open.id;
  end if;

  insert into slotbase.invitations (tenant_id, email, role, location_id, invited_by, expires_at)
  values (v_tenant_id, v_email, p_role, p_location_id, slotbase.current_user_id(), pg_catalog.now() + interval '7 days')
  returning id into v_id;
  insert into slotbase_private.invitation_secrets (tenant_id, invitation_id, token_hash)
  values (v_tenant_id, v_id, pg_catalog.sha256(convert_to(slotbase_private.invitation_token(v_id), 'UTF8')));
  perform graphile_worker.add_job('staff_invitation', json_build_object('tenant_id', v_tenant_id, 'invitation_id', v_id),
    job_key => 'invitation:' || v_id);
  return query select null::uuid, v_id;
end
$$;
comment on function slotbase.add_member(text, text, uuid) is 'Adds the user with this email to the current tenant (membership_id), or invites an email without an account (invitation_id; emailed). Raises 42501 outside the caller''s rights, 23505 memberships_tenant_id_user_id_key when already a member or invitations_tenant_id_email_key for another''s open invitation, 23514 on a bad email or role, 23503 for an unknown location.';

-- why: staff take back an invitation whose link must stop working. Open invitations only (an
-- accepted one is a membership: remove the member instead); expired ones may be revoked too.
create function slotbase.revoke_invitation(p_id uuid)
returns slotbase.invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_inv slotbase.invitations;
  v_caller_role text := slotbase.current_member_role();
begin
  select * into v_inv from slotbase.invitations
  where tenant_id = slotbase.current_tenant_id() and id = p_id and accepted_at is null and revoked_at is null
  for update;
  if not found or v_caller_role is null or v_caller_role not in ('owner', 'admin')
     or not coalesce(slotbase.can_see_location(v_inv.location_id), false) then
    raise exception 'no such open invitation' using errcode = 'SBNF1';
  end if;
  if v_inv.role = 'owner' and v_caller_role <> 'owner' then
    raise exception 'only owners revoke invitations of owners' using errcode = 'insufficient_privilege';
  end if;
  update slotbase.invitations set revoked_at = pg_catalog.now(), revoked_by = slotbase.current_user_id()
  where tenant_id = v_inv.tenant_id and id = v_inv.id
  returning * into v_inv;
  perform graphile_worker.remove_job('invitation:' || v_inv.id);
  return v_inv;
end
$$;
comment on function slotbase.revoke_invitation(uuid) is 'Revokes an open invitation of the current tenant: its link stops working. SBNF1 for an unknown, other tenant''s, accepted or already revoked one (or one outside the caller''s scope); 42501 when an admin revokes an owner''s invitation.';

-- why: the invitation a link token names, for the API to show and to accept (slotbase_api only:
-- it returns the password hash of an existing account, so the API can ask for that password).
-- An unknown token or a deleted tenant is SBIVN; a used, revoked or expired link SBIVA/SBIVR/SBIVX.
create function slotbase_private.invitation_by_token(p_token_hash bytea)
returns table (
  invitation_id uuid, tenant_id uuid, tenant_slug text, tenant_name text, email text, role text,
  location_id uuid, location_name text, expires_at timestamptz, user_id uuid, password_hash text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_inv slotbase.invitations;
begin
  select i.* into v_inv
  from slotbase_private.invitation_secrets as s
  join slotbase.invitations as i on i.tenant_id = s.tenant_id and i.id = s.invitation_id
  join slotbase.tenants as t on t.id = i.tenant_id and t.deleted_at is null
  where s.token_hash = p_token_hash;
  if not found then
    raise exception 'no such invitation' using errcode = 'SBIVN';
  elsif v_inv.accepted_at is not null then
    raise exception 'this invitation was already accepted' using errcode = 'SBIVA';
  elsif v_inv.revoked_at is not null then
    raise exception 'this invitation was revoked' using errcode = 'SBIVR';
  elsif v_inv.expires_at <= pg_catalog.now() then
    raise exception 'this invitation has expired' using errcode = 'SBIVX';
  end if;
  return query
  select v_inv.id, t.id, t.slug, t.name, v_inv.email, v_inv.role, v_inv.location_id, l.name, v_inv.expires_at, u.id, c.password_hash
  from slotbase.tenants as t
  left join slotbase.locations as l on l.tenant_id = v_inv.tenant_id and l.id = v_inv.location_id
  left join slotbase.users as u on lower(u.email) = lower(v_inv.email)
  left join slotbase_private.user_credentials as c on c.user_id = u.id
  where t.id = v_inv.tenant_id;
end
$$;
comment on function slotbase_private.invitation_by_token(bytea) is 'The open invitation of a link token, with the existing account''s password hash if any. SBIVN, SBIVA, SBIVR, SBIVX.';

-- why: accepting an invitation in one transaction: the account is created (or, when one without a
-- password exists, given this password; an account with a password must have been verified by
-- the API: p_verified_user_id), the membership added (kept as it is when they are already a
-- member), and the invitation marked accepted, all or nothing. The row lock makes a link
-- single-use even when two accepts race. slotbase_api only.
create function slotbase_private.accept_invitation(
  p_token_hash bytea, p_password_hash text, p_display_name text default null, p_verified_user_id uuid default null
)
returns table (user_id uuid, email text, tenant_id uuid)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_inv slotbase.invitations;
  v_user_id uuid;
  v_has_password boolean;
begin
  select i.* into v_inv
  from slotbase_private.invitation_secrets as s
  join slotbase.invitations as i on i.tenant_id = s.tenant_id and i.id = s.invitation_id
  join slotbase.tenants as t on t.id = i.tenant_id and t.deleted_at is null
  where s.token_hash = p_token_hash
  for update of i;
  if not found then
    raise exception 'no such invitation' using errcode = 'SBIVN';
  elsif v_inv.accepted_at is not null then
    raise exception 'this invitation was already accepted' using errcode = 'SBIVA';
  elsif v_inv.revoked_at is not null then
    raise exception 'this invitation was revoked' using errcode = 'SBIVR';
  elsif v_inv.expires_at <= pg_catalog.now() then
    raise exception 'this invitation has expired' using errcode = 'SBIVX';
  end if;

  select u.id, c.user_id is not null into v_user_id, v_has_password
  from slotbase.users as u left join slotbase_private.user_credentials as c on c.user_id = u.id
  where lower(u.email) = lower(v_inv.email);
  if v_user_id is null then
    insert into slotbase.users (email, display_name) values (v_inv.email, nullif(btrim(p_display_name), ''))
    returning id into v_user_id;
    insert into slotbase_private.user_credentials (user_id, password_hash) values (v_user_id, p_password_hash);
  elsif v_has_password then
    if p_verified_user_id is distinct from v_user_id then
      raise exception 'this email has an account: sign in with its password' using errcode = 'invalid_password';
    end if;
  else
    insert into slotbase_private.user_credentials (user_id, password_hash) values (v_user_id, p_password_hash);
    update slotbase.users as u set display_name = coalesce(u.display_name, nullif(btrim(p_display_name), '')) where u.id = v_user_id;
  end if;

  insert into slotbase.memberships (tenant_id, user_id, role, location_id)
  select v_inv.tenant_id, v_user_id, v_inv.role, v_inv.location_id
  where not exists (
    select 1 from slotbase.memberships as m where m.tenant_id = v_inv.tenant_id and m.user_id = v_user_id and m.deleted_at is null
  );
  update slotbase.invitations as i set accepted_at = pg_catalog.now(), accepted_user_id = v_user_id
  where i.tenant_id = v_inv.tenant_id and i.id = v_inv.id;
  return query select u.id, u.email, v_inv.tenant_id from slotbase.users as u where u.id = v_user_id;
end
$$;
comment on function slotbase_private.accept_invitation(bytea, text, text, uuid) is 'Accepts an open invitation: account (created or given a password), membership, accepted_at. SBIVN, SBIVA, SBIVR, SBIVX; 28P01 when the email has an account whose password was not verified.';

-- why: what the invitation email shows, re-read by the worker when it sends; nothing once the
-- invitation is no longer pending (the task then sends nothing).
create function slotbase_private.invitation_email_context(p_tenant_id uuid, p_invitation_id uuid)
returns table (
  tenant_id uuid, invitation_id uuid, email text, role text, status text, expires_at timestamptz, tenant_name text,
  locale text, time_zone text, location_name text, inviter_name text, token text
)
language sql
stable
security definer
set search_path = ''
as $$
  select i.tenant_id, i.id, i.email, i.role, slotbase.invitation_status(i), i.expires_at, t.name, t.locale, t.time_zone, l.name,
         coalesce(u.display_name, u.email), slotbase_private.invitation_token(i.id)
  from slotbase.invitations as i
  join slotbase.tenants as t on t.id = i.tenant_id and t.deleted_at is null
  left join slotbase.locations as l on l.tenant_id = i.tenant_id and l.id = i.location_id
  left join slotbase.users as u on u.id = i.invited_by
  where i.tenant_id = p_tenant_id and i.id = p_invitation_id
$$;
comment on function slotbase_private.invitation_email_context(uuid, uuid) is 'Worker: an invitation with everything its email needs, the link token included.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.add_member(text, text, uuid), slotbase.revoke_invitation(uuid),
  slotbase.invitation_status(slotbase.invitations) to authenticated;
grant execute on function slotbase_private.invitation_by_token(bytea), slotbase_private.accept_invitation(bytea, text, text, uuid)
  to slotbase_api;
