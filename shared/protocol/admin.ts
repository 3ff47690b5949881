/**
 * The admin API's wire shapes (`/admin/v1`): what the server parses from admins, and what the
 * admin console parses from the server's answers. One set of schemas for both sides, so an answer
 * the server changes without the console following fails the console's parse, not its screens.
 */
import { z } from 'zod';
import { IdentityTypeSchema, MAX_IDENTITY_VALUE_LENGTH } from '../identity/identity-types.ts';
import { MpidSchema } from '../identity/mpid.ts';
import { EnvironmentSchema, StrategySchema } from '../identity/scope-config.ts';
import { storedText } from '../identity/text.ts';
import {
  AliasRecordSchema,
  HISTORY_KINDS,
  HistoryEntrySchema,
  ProfileRecordSchema,
  StoredRequestSchema,
} from '../resolver/records.ts';

// --- what admins send ------------------------------------------------------------------------

export const CreateInputSchema = z.object({
  name: storedText(100, 1),
  allowKeyOnly: z.boolean().default(false),
  /** The key opens the device sync API only (HT-9): for apps whose devices register. */
  syncOnly: z.boolean().default(false),
});
export const CreateAdminTokenSchema = z.object({ name: storedText(100, 1) });
export const ProfileSearchSchema = z.object({
  identity_type: IdentityTypeSchema,
  value: storedText(MAX_IDENTITY_VALUE_LENGTH, 1),
  environment: EnvironmentSchema.optional(),
});
export type ProfileSearch = z.infer<typeof ProfileSearchSchema>;
export const HistoryQuerySchema = z.object({
  mpid: MpidSchema.optional(),
  kind: z.enum(HISTORY_KINDS).optional(),
  before_seq: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

// --- what the server answers -----------------------------------------------------------------

export const WorkspaceSummarySchema = z.object({
  id: z.string(),
  strategy: StrategySchema,
  configVersion: z.number().int(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type WorkspaceSummary = z.infer<typeof WorkspaceSummarySchema>;
export const WorkspaceListSchema = z.object({ workspaces: z.array(WorkspaceSummarySchema) });

export const ProfileListSchema = z.object({ profiles: z.array(ProfileRecordSchema) });

/** An event or attribute a device recorded for the profile (or copied in by an alias). */
const ProfileEventSchema = z.object({
  type: z.string(),
  name: z.string(),
  at: z.number(),
  aliasedFrom: z.string().optional(),
});

export const ProfileDetailSchema = z.object({
  profile: ProfileRecordSchema,
  aliases: z.array(AliasRecordSchema),
  history: z.array(HistoryEntrySchema),
  requests: z.array(StoredRequestSchema),
  events: z.array(ProfileEventSchema),
  attributes: z.record(z.string(), z.unknown()),
});
export type ProfileDetailAnswer = z.infer<typeof ProfileDetailSchema>;

export const ProfileDeletedSchema = z.object({ deleted: MpidSchema });
export const AliasUndoneSchema = z.object({ alias: AliasRecordSchema });

export const DeviceSummarySchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  inputKey: z.string(),
  name: z.string(),
  das: z.string(),
  nextSeq: z.number().int(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  revoked: z.boolean(),
});
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;
export const DeviceListSchema = z.object({ devices: z.array(DeviceSummarySchema) });
