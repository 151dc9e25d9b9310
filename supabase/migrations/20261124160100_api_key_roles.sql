-- An API key acts with at most its creator's CURRENT rights. A key's service membership is capped
-- to the lower of the key's role and its creator's role in the tenant (and to the creator's
-- location scope), recomputed whenever the creator's membership changes; when the creator's
-- membership ends (removed, soft or hard), their keys are revoked. The cap lives on the key's
-- membership row because that row is what every policy reads (current_member_role()), so a
-- demotion takes effect for the key's next request, with nothing to check at request time.

-- why: roles ordered by what they may do. A provider may do less than a receptionist and
-- more than a viewer; keys never act as providers (no provider row is theirs), so a key capped
-- by a provider creator acts as a viewer.
create function slotbase_private.role_rank(p_role text)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_role when 'owner' then 5 when 'admin' then 4 when 'receptionist' then 3 when 'provider' then 2 when 'viewer' then 1 else 0 end
$$;
comment on function slotbase_private.role_rank(text) is 'owner 5 > admin 4 > receptionist 3 > provider 2 > viewer 1; 0 for anything else.';

-- why: the role and scope a key's service member acts with: the key's own role, lowered to its
-- creator's active role; null when the creator is no active member (the key is dead).
create function slotbase_private.api_key_effective_role(p_key_role text, p_creator_role text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when p_creator_role is null then null
    when slotbase_private.role_rank(p_creator_role) >= slotbase_private.role_rank(p_key_role) then p_key_role
    when slotbase_private.role_rank(p_creator_role) >= slotbase_private.role_rank('receptionist') then 'receptionist'
    else 'viewer'
  end
$$;
comment on function slotbase_private.api_key_effective_role(text, text) is 'min(key role, creator role) among the key roles (admin, receptionist, viewer); null without a creator membership.';

-- why: whatever writes a key's service membership (create_api_key, an admin editing it through
-- /v1/members, the sync below), it never acts above its creator: role and scope are clamped
-- here. Runs after _150_no_owner_keys, which still refuses making a key an owner.
create function slotbase_private.tg_memberships__cap_api_keys()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key slotbase.api_keys;
  v_creator slotbase.memberships;
begin
  select * into v_key from slotbase.api_keys as k where k.service_user_id = new.user_id;
  if not found or v_key.created_by is null or new.deleted_at is not null then
    return new;
  end if;
  select * into v_creator from slotbase.memberships as m
  where m.tenant_id = new.tenant_id and m.user_id = v_key.created_by and m.deleted_at is null;
  if not found then
    -- The creator is gone: the key does not act at all.
    new.deleted_at := coalesce(new.deleted_at, pg_catalog.now());
    return new;
  end if;
  -- min(requested, key role, creator role), among the roles a key acts with (a provider key is a viewer).
  new.role := slotbase_private.api_key_effective_role(
    slotbase_private.api_key_effective_role(v_key.role, v_creator.role),
    case when new.role = 'owner' then 'owner' else slotbase_private.api_key_effective_role('admin', new.role) end);
  if v_creator.location_id is not null then
    new.location_id := v_creator.location_id;
  end if;
  return new;
end
$$;
create trigger _160_cap_api_keys before insert or update on slotbase.memberships
  for each row execute function slotbase_private.tg_memberships__cap_api_keys();

-- why: when a member's role or scope changes, the keys they created follow (restored up to each
-- key's own role after a promotion); when their membership ends, their keys are revoked, for good.
create function slotbase_private.tg_memberships__sync_api_keys()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row slotbase.memberships := case when tg_op = 'DELETE' then old else new end;
  v_ended boolean := tg_op = 'DELETE' or (new.deleted_at is not null and old.deleted_at is null);
begin
  if not exists (select 1 from slotbase.api_keys as k where k.tenant_id = v_row.tenant_id and k.created_by = v_row.user_id and k.revoked_at is null) then
    return null;
  end if;
  if v_ended then
    with revoked as (
      update slotbase.api_keys as k set revoked_at = pg_catalog.now()
      where k.tenant_id = v_row.tenant_id and k.created_by = v_row.user_id and k.revoked_at is null
      returning k.service_user_id
    )
    update slotbase.memberships as m set deleted_at = pg_catalog.now()
    where m.tenant_id = v_row.tenant_id and m.deleted_at is null and m.user_id in (select r.service_user_id from revoked as r);
  elsif new.deleted_at is null and (new.role is distinct from old.role or new.location_id is distinct from old.location_id) then
    -- Each key's membership is set back to the key's own role and no scope; _160_cap_api_keys lowers it again.
    update slotbase.memberships as m set role = k.role, location_id = null
    from slotbase.api_keys as k
    where k.tenant_id = v_row.tenant_id and k.created_by = v_row.user_id and k.revoked_at is null
      and m.tenant_id = k.tenant_id and m.user_id = k.service_user_id and m.deleted_at is null;
  end if;
  return null;
end
$$;
create trigger _310_sync_api_keys after update of role, location_id, deleted_at or delete on slotbase.memberships
  for each row execute function slotbase_private.tg_memberships__sync_api_keys();

comment on column slotbase.api_keys.role is 'The highest membership role the key acts with under RLS (admin, receptionist or viewer); its membership is lowered to its creator''s current role, and the key is revoked when the creator''s membership ends.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
