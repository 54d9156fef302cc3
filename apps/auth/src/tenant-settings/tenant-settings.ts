import { z } from 'zod';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * A tenant's settings, stored as JSON on the tenant and read through this schema, so a stored
 * document always yields every setting (absent ones take their defaults).
 */
export const tenantSettingsSchema = z.object({
  /** Only addresses of these domains may join (empty: any). */
  allowedEmailDomains: z.array(z.string().regex(DOMAIN)).max(50).default([]),
  /** Most members the tenant may have; null for no limit. */
  memberLimit: z.number().int().min(1).max(1_000_000).nullable().default(null),
  /** How long invitations stay valid; null for the installation's INVITATION_TTL_DAYS. */
  invitationTtlDays: z.number().int().min(1).max(90).nullable().default(null),
});

export type TenantSettingsValues = z.infer<typeof tenantSettingsSchema>;

export function readTenantSettings(stored: unknown): TenantSettingsValues {
  const parsed = tenantSettingsSchema.safeParse(stored ?? {});
  // A document that no longer validates (a setting's rules tightened) falls back to the defaults.
  return parsed.success ? parsed.data : tenantSettingsSchema.parse({});
}

export function emailDomainAllowed(settings: TenantSettingsValues, email: string): boolean {
  if (!settings.allowedEmailDomains.length) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return settings.allowedEmailDomains.includes(domain);
}
