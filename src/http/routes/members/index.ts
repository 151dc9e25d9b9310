import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, listRows, updateRow, type TableSpec } from '../../crud.ts';
import { INVITATIONS } from '../invitations/index.ts';
import type { Invitation } from '../invitations/invitations.routes.ts';
import { addMember, getMember, listMembers, removeMember, updateMember, type Member } from './members.routes.ts';

type MemberRow = z.infer<typeof Member>;
type InvitationRow = z.infer<typeof Invitation>;

/** Memberships with the person's email and name (users are visible to their colleagues under RLS). */
const MEMBERS: TableSpec = {
  table: 'slotbase.memberships',
  columns: `id, user_id,
    (select u.email from slotbase.users as u where u.id = memberships.user_id) as email,
    (select u.display_name from slotbase.users as u where u.id = memberships.user_id) as display_name,
    role, location_id, created_at, updated_at, deleted_at`,
  softDelete: true,
};

export const membersRouter = createRouter()
  .openapi(listMembers, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<MemberRow>(tx, MEMBERS, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(page, 200);
  })
  .openapi(getMember, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<MemberRow>(tx, MEMBERS, id, 'Member')), 200);
  })
  .openapi(addMember, async (c) => {
    const body = c.req.valid('json');
    const added = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      // add_member checks the caller's rights itself (42501 → 403); the row is then read as the caller.
      const [row] = await tx<{ membership_id: string | null; invitation_id: string | null }[]>`
        select membership_id, invitation_id from slotbase.add_member(${body.email}, ${body.role}, ${body.location_id ?? null})`;
      return row!.membership_id
        ? { member: await getRow<MemberRow>(tx, MEMBERS, row!.membership_id, 'Member') }
        : { invitation: await getRow<InvitationRow>(tx, INVITATIONS, row!.invitation_id!, 'Invitation') };
    });
    return 'member' in added ? c.json(added.member, 201) : c.json(added.invitation, 202);
  })
  .openapi(updateMember, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<MemberRow>(tx, MEMBERS, id, body, 'Member')), 200);
  })
  .openapi(removeMember, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, MEMBERS, id, 'Member'));
    return c.body(null, 204);
  });
