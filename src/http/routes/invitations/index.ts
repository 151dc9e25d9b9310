import type { z } from '@hono/zod-openapi';
import type postgres from 'postgres';
import { begin, withSession } from '#src/db/session.ts';
import { createRouter } from '../../create-router.ts';
import { getRow, listRows, type TableSpec } from '../../crud.ts';
import { ProblemError } from '../../problem.ts';
import { hashToken, invalidCredentials, issueSession, membershipsOf } from '../auth/sessions.ts';
import { acceptInvitation, getInvitation, listInvitations, previewInvitation, revokeInvitation, type Invitation } from './invitations.routes.ts';

type InvitationRow = z.infer<typeof Invitation>;

/** Invitations as owners and admins see them under RLS (select_admin); the token hash lives elsewhere. */
export const INVITATIONS: TableSpec = {
  table: 'slotbase.invitations',
  columns: `id, email, role, location_id, slotbase.invitation_status(invitations) as status, invited_by, created_at, expires_at,
    accepted_at, accepted_user_id, revoked_at`,
  softDelete: false,
};

/** Only owners and admins deal with invitations: others get 403, not an empty list. */
async function assertInviter(tx: postgres.TransactionSql): Promise<void> {
  const [me] = await tx<{ role: string | null }[]>`select slotbase.current_member_role() as role`;
  if (me?.role !== 'owner' && me?.role !== 'admin') throw new ProblemError(403, 'forbidden', 'Only owners and admins manage invitations');
}

/** The rows of one status (the same rule as slotbase.invitation_status). */
function statusFilter(tx: postgres.TransactionSql, status: InvitationRow['status']) {
  switch (status) {
    case 'accepted':
      return tx`accepted_at is not null`;
    case 'revoked':
      return tx`revoked_at is not null`;
    case 'expired':
      return tx`accepted_at is null and revoked_at is null and expires_at <= now()`;
    default:
      return tx`accepted_at is null and revoked_at is null and expires_at > now()`;
  }
}

interface InvitationByToken {
  invitation_id: string;
  tenant_id: string;
  tenant_slug: string;
  tenant_name: string;
  email: string;
  role: InvitationRow['role'];
  location_id: string | null;
  location_name: string | null;
  expires_at: Date;
  user_id: string | null;
  password_hash: string | null;
}

/** The open invitation a link token names (SBIVN/SBIVA/SBIVR/SBIVX → 404/410 problems), as slotbase_api. */
async function invitationByToken(sql: postgres.Sql, token: string): Promise<InvitationByToken> {
  const [row] = await sql<InvitationByToken[]>`select * from slotbase_private.invitation_by_token(${hashToken(token)})`;
  return row!;
}

export const invitationsRouter = createRouter()
  .openapi(listInvitations, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await assertInviter(tx);
      return listRows<InvitationRow>(tx, INVITATIONS, q, [statusFilter(tx, q.status ?? 'pending')]);
    });
    return c.json(page, 200);
  })
  .openapi(getInvitation, async (c) => {
    const { id } = c.req.valid('param');
    const row = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await assertInviter(tx);
      return getRow<InvitationRow>(tx, INVITATIONS, id, 'Invitation');
    });
    return c.json(row, 200);
  })
  .openapi(revokeInvitation, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await assertInviter(tx);
      await tx`select 1 from slotbase.revoke_invitation(${id})`;
    });
    return c.body(null, 204);
  })
  .openapi(previewInvitation, async (c) => {
    const { token } = c.req.valid('query');
    const inv = await invitationByToken(c.var.deps.sql, token);
    return c.json(
      {
        email: inv.email,
        role: inv.role,
        tenant: { id: inv.tenant_id, slug: inv.tenant_slug, name: inv.tenant_name },
        location: inv.location_id && inv.location_name ? { id: inv.location_id, name: inv.location_name } : null,
        expires_at: inv.expires_at.toISOString(),
        has_account: inv.password_hash !== null,
      },
      200,
    );
  })
  .openapi(acceptInvitation, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const inv = await invitationByToken(deps.sql, body.token);
    // An account with a password keeps it: accepting proves who you are with that password.
    let verifiedUserId: string | null = null;
    if (inv.password_hash !== null) {
      if (!(await deps.passwords.verify(body.password, inv.password_hash))) throw invalidCredentials();
      verifiedUserId = inv.user_id;
    }
    const passwordHash = verifiedUserId ? null : await deps.passwords.hash(body.password);
    const session = await begin(deps.sql, async (tx) => {
      const [accepted] = await tx<{ user_id: string; email: string; tenant_id: string }[]>`
        select user_id, email, tenant_id from slotbase_private.accept_invitation(
          ${hashToken(body.token)}, ${passwordHash}, ${body.display_name ?? null}, ${verifiedUserId}::uuid)`;
      const memberships = await membershipsOf(tx, accepted!.user_id);
      const tenant = memberships.find((m) => m.tenant_id === accepted!.tenant_id) ?? null;
      return issueSession(deps, tx, 'staff', { id: accepted!.user_id, email: accepted!.email }, tenant, memberships);
    });
    return c.json(session, 200);
  });
