import { createRoute, z } from '@hono/zod-openapi';
import { examples, ids } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { IdParam, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Password, Session } from '../auth/auth.routes.ts';

const Role = z.enum(['owner', 'admin', 'receptionist', 'provider', 'viewer']);
const InvitationStatus = z
  .enum(['pending', 'accepted', 'revoked', 'expired'])
  .openapi('InvitationStatus', { description: '`pending` until accepted, revoked, or past `expires_at`' });

const exampleInvitation = {
  id: 'c4d5e6f7-a8b9-4c0d-8e1f-2a3b4c5d6e7f',
  email: 'reception@clinic.example',
  role: 'receptionist' as const,
  location_id: ids.location,
  status: 'pending' as const,
  invited_by: ids.owner,
  created_at: '2027-02-20T10:00:00.000Z',
  expires_at: '2027-02-27T10:00:00.000Z',
  accepted_at: null,
  accepted_user_id: null,
  revoked_at: null,
};
/** An example link token (`sbinv_` + 43 url-safe characters). */
const exampleToken = 'sbinv_N4q7Rm2Tn9Vb3Wc5Yd8Ze1Af6Bg0Ch4Dj2Ek5Fl7Gmx';

export const Invitation = z
  .object({
    id: Uuid,
    email: z.string().openapi({ example: 'reception@clinic.example' }),
    role: Role,
    location_id: Uuid.nullable().openapi({ description: 'When set, the member will see and manage only this location' }),
    status: InvitationStatus,
    invited_by: Uuid.nullable(),
    created_at: Timestamp,
    expires_at: Timestamp.openapi({ description: 'The link stops working at this time (7 days after it was sent)' }),
    accepted_at: Timestamp.nullable(),
    accepted_user_id: Uuid.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .openapi('Invitation', { example: exampleInvitation });

export const InvitationQuery = z.object({
  status: z
    .enum(['pending', 'accepted', 'revoked', 'expired'])
    .optional()
    .openapi({ param: { name: 'status', in: 'query' }, description: 'Which invitations (default: pending)', example: 'pending' }),
});

const Token = z
  .string()
  .regex(/^sbinv_[A-Za-z0-9_-]{43}$/, 'an invitation token (sbinv_…)')
  .openapi({ example: exampleToken, description: 'The token of the invitation link (`/invite?token=…`)' });

export const InvitationPreview = z
  .object({
    email: z.string().openapi({ example: 'reception@clinic.example' }),
    role: Role,
    tenant: z.object({ id: Uuid, slug: z.string(), name: z.string() }),
    location: z.object({ id: Uuid, name: z.string() }).nullable(),
    expires_at: Timestamp,
    has_account: z.boolean().openapi({
      description: 'The email already has a Slotbase account with a password: accepting asks for that password (it is never changed)',
    }),
  })
  .openapi('InvitationPreview', {
    example: {
      email: exampleInvitation.email,
      role: exampleInvitation.role,
      tenant: { id: ids.tenant, slug: examples.tenantSummary.slug, name: examples.tenantSummary.name },
      location: { id: ids.location, name: 'Mitte' },
      expires_at: exampleInvitation.expires_at,
      has_account: false,
    },
  });

export const AcceptInvitationRequest = z
  .strictObject({
    token: Token,
    password: Password.openapi({ description: 'The new account\'s password; for an email that already has an account, that account\'s password' }),
    display_name: z.string().trim().min(1).max(200).optional().openapi({ example: 'Rita Reception' }),
  })
  .openapi('AcceptInvitationRequest', { example: { token: exampleToken, password: 'correct horse battery staple', display_name: 'Rita Reception' } });

const tags = ['Members'];

export const listInvitations = createRoute({
  method: 'get',
  path: '/v1/invitations',
  operationId: 'listInvitations',
  tags,
  summary: 'Invitations of your scope (owners, admins): pending ones unless `status` says otherwise, oldest first',
  ...staffOnly,
  request: { query: PageQuery.extend(InvitationQuery.shape) },
  responses: { 200: jsonContent(pageOf(Invitation, 'Invitation', { data: [exampleInvitation], next_cursor: null }), 'A page of invitations'), ...problems(401, 403, 422) },
});

export const getInvitation = createRoute({
  method: 'get',
  path: '/v1/invitations/{id}',
  operationId: 'getInvitation',
  tags,
  summary: 'One invitation (owners, admins)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Invitation, 'The invitation'), ...problems(401, 403, 404, 422) },
});

export const revokeInvitation = createRoute({
  method: 'delete',
  path: '/v1/invitations/{id}',
  operationId: 'revokeInvitation',
  tags,
  summary: 'Revoke an open invitation: its link stops working (owners, admins)',
  description: 'Accepted invitations are memberships (remove the member instead): 404, like an unknown or already revoked one.',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404, 422) },
});

export const previewInvitation = createRoute({
  method: 'get',
  path: '/v1/auth/accept-invite',
  operationId: 'previewInvitation',
  tags: ['Auth'],
  summary: 'What an invitation link offers: the business, role and email (no account needed)',
  request: { query: z.object({ token: Token.openapi({ param: { name: 'token', in: 'query' } }) }) },
  responses: { 200: jsonContent(InvitationPreview, 'The open invitation'), ...problems(404, 410, 422) },
});

export const acceptInvitation = createRoute({
  method: 'post',
  path: '/v1/auth/accept-invite',
  operationId: 'acceptInvitation',
  tags: ['Auth'],
  summary: 'Accept an invitation: sets the password, creates the account and the membership, returns a session',
  description:
    'The link works once, until it expires or is revoked (410 `invitation_accepted`, `invitation_expired`, `invitation_revoked`; ' +
    '404 `invitation_not_found` for an unknown token). When the email already has an account with a password, `password` must be ' +
    'that password (401 `invalid_credentials`); an account without one gets this password.',
  request: { body: jsonBody(AcceptInvitationRequest) },
  responses: { 200: jsonContent(Session, 'Signed in, acting in the inviting business'), ...problems(400, 401, 404, 410, 413, 415, 422) },
});
