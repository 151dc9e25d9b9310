import { z } from '@hono/zod-openapi';

/**
 * The scheduling-rule settings of services and providers (round-robin, limits, anti-scalping),
 * shared by their routes. Ranges are the database's (`services_*_check`, `providers_*_check`):
 * out of range comes back as 422 with the field named.
 */

const Strategy = z.enum(['least_booked', 'weighted', 'priority']).openapi({
  description: 'How "any provider" is assigned: fewest bookings in `assignment_period`; by `weight` (shares of this service\'s bookings); lowest `priority` number that is free (ties: fewest bookings)',
});
const Period = z.enum(['day', 'week', 'month']).openapi({ description: 'The local day, ISO week or month round-robin counts bookings in' });
const CustomerPeriod = z.enum(['day', 'week', 'month', 'year']);
const AntiScalping = z.enum(['none', 'standard', 'strict']).openapi({
  description: 'none; standard: public bookers may hold at most `anti_scalping_max_per_contact` / `_per_device` upcoming bookings of the service; strict: also an issued device token (X-Device-Token) and one upcoming booking per device',
});
const Limit = z.number().int();

/** Response fields of a service. */
export const ServiceSchedulingFields = {
  assignment_strategy: Strategy,
  assignment_period: Period,
  max_bookings_per_day: Limit.nullable().openapi({ description: 'Active appointments of the service per local day, all providers; null = no limit' }),
  max_bookings_per_customer: Limit.nullable().openapi({ description: 'Bookings per customer (email, phone or account) per `customer_limit_period`; null = no limit' }),
  customer_limit_period: CustomerPeriod,
  customer_min_gap_minutes: Limit.nullable().openapi({ description: 'Minimum minutes between one customer\'s bookings of the service; null = none' }),
  anti_scalping: AntiScalping,
  anti_scalping_max_per_contact: Limit,
  anti_scalping_max_per_device: Limit,
  provider_pool: z
    .array(z.object({ provider_id: z.uuid(), weight: Limit, priority: Limit }))
    .openapi({ description: 'The providers offering it with their round-robin weight and priority' }),
};

/** Writable fields of a service (create and patch; all optional). */
export const ServiceSchedulingInput = {
  assignment_strategy: Strategy,
  assignment_period: Period,
  max_bookings_per_day: Limit.nullable(),
  max_bookings_per_customer: Limit.nullable(),
  customer_limit_period: CustomerPeriod,
  customer_min_gap_minutes: Limit.nullable(),
  anti_scalping: AntiScalping,
  anti_scalping_max_per_contact: Limit,
  anti_scalping_max_per_device: Limit,
};

/** The select list of those fields on `slotbase.services`. */
export const SERVICE_SCHEDULING_COLUMNS = `assignment_strategy, assignment_period, max_bookings_per_day, max_bookings_per_customer,
    customer_limit_period, customer_min_gap_minutes, anti_scalping, anti_scalping_max_per_contact, anti_scalping_max_per_device,
    coalesce((select json_agg(json_build_object('provider_id', sp.provider_id, 'weight', sp.weight, 'priority', sp.priority) order by sp.provider_id)
              from slotbase.service_providers as sp where sp.tenant_id = services.tenant_id and sp.service_id = services.id), '[]'::json) as provider_pool`;

/** Provider limits (response and input). */
export const ProviderSchedulingFields = {
  max_bookings_per_day: Limit.nullable().openapi({ description: 'Active appointments (all services) per local day; null = no limit' }),
  max_bookings_per_week: Limit.nullable().openapi({ description: 'Active appointments (all services) per local ISO week; null = no limit' }),
};
