import { createRoute, z } from '@hono/zod-openapi';
import { examples } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Uuid } from '../../openapi.ts';

export const Email = z.email().max(254).openapi({ example: 'owner@clinic.example' });
export const Password = z.string().min(10).max(200).openapi({ example: 'correct horse battery staple' });
const Slug = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and dashes')
  .openapi({ example: 'sunrise-clinic' });

export const TenantSummary = z
  .object({ id: Uuid, slug: Slug, name: z.string(), role: z.string().optional() })
  .openapi('TenantSummary', { example: examples.tenantSummary });

export const Session = z
  .object({
    token_type: z.literal('Bearer'),
    kind: z.enum(['staff', 'customer']).openapi({
      description: '`customer`: a customer account\'s session (its token never acts in a tenant; `tenant` is null and `tenants` empty)',
    }),
    access_token: z.string().openapi({ description: 'Short-lived JWT for the Authorization header' }),
    expires_in: z.number().int().openapi({ example: 900 }),
    refresh_token: z.string().openapi({ description: 'Single-use; exchange at /v1/auth/refresh for a new pair' }),
    user: z.object({ id: Uuid, email: Email }),
    tenant: TenantSummary.nullable(),
    tenants: z.array(TenantSummary),
  })
  .openapi('Session', { example: examples.staffSession });

export const SignupRequest = z
  .strictObject({
    email: Email,
    password: Password,
    name: z.string().trim().min(1).max(200).optional(),
    tenant: z.strictObject({
      slug: Slug,
      name: z.string().trim().min(1).max(200).openapi({ example: 'Sunrise Clinic' }),
      time_zone: z.string().min(1).max(64).openapi({ example: 'Europe/Berlin' }),
    }),
  })
  .openapi('SignupRequest', { example: examples.signupRequest });

export const LoginRequest = z
  .strictObject({ email: Email, password: z.string().min(1).max(200), tenant: Slug.optional() })
  .openapi('LoginRequest', { example: examples.loginRequest });

export const RefreshRequest = z.strictObject({ refresh_token: z.string().min(1).max(200) }).openapi('RefreshRequest', { example: examples.refreshRequest });

export const signup = createRoute({
  method: 'post',
  path: '/v1/signup',
  operationId: 'signup',
  tags: ['Auth'],
  summary: 'Sign up a business: creates the owner account and the tenant, returns a session',
  request: { body: jsonBody(SignupRequest) },
  responses: { 201: jsonContent(Session, 'Tenant and owner created'), ...problems(400, 409, 413, 415, 422) },
});

export const login = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  operationId: 'login',
  tags: ['Auth'],
  summary: 'Log in with email and password (optionally choosing the tenant to act in)',
  request: { body: jsonBody(LoginRequest) },
  responses: { 200: jsonContent(Session, 'Logged in'), ...problems(400, 401, 415, 422) },
});

export const refresh = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  operationId: 'refreshSession',
  tags: ['Auth'],
  summary: 'Exchange a refresh token for a new token pair (the old one stops working)',
  description: 'Presenting a refresh token that was already exchanged revokes every token of that login.',
  request: { body: jsonBody(RefreshRequest) },
  responses: { 200: jsonContent(Session, 'New token pair'), ...problems(400, 401, 415, 422) },
});

export const logout = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  operationId: 'logout',
  tags: ['Auth'],
  summary: 'Log out: revokes the refresh token and every token of the same login',
  request: { body: jsonBody(RefreshRequest) },
  responses: { 204: { description: 'Logged out' }, ...problems(400, 415, 422) },
});
