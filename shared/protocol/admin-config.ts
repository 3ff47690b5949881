/**
 * The admin API's answers about a workspace's config (`GET`/`PUT …/config`, `GET …/config/history`),
 * parsed by the admin console with the same config schema the server stores them with.
 */
import { z } from 'zod';
import { ScopeConfigSchema } from '../identity/scope-config.ts';
import { ActorSchema } from '../resolver/records.ts';

export const WorkspaceConfigSchema = z.object({
  config: ScopeConfigSchema,
  version: z.number().int().positive(),
});
export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;

/**
 * `PUT …/config?expected_version=N` (AA-9): the version the admin read and edited. When given, a
 * save is taken only while it is still the current version; without it the save replaces whatever
 * is current (scripts and the CLI).
 */
export const ConfigSaveQuerySchema = z
  .object({
    expected_version: z
      .string()
      .regex(/^[1-9][0-9]{0,14}$/, 'expected_version must be a config version (a positive whole number)')
      .transform(Number)
      .optional(),
  })
  .strict();

export const ConfigVersionSchema = z.object({
  version: z.number().int().positive(),
  at: z.number(),
  actor: ActorSchema,
  config: ScopeConfigSchema,
});
export type ConfigVersion = z.infer<typeof ConfigVersionSchema>;

/** Newest version first. */
export const ConfigHistorySchema = z.object({ history: z.array(ConfigVersionSchema) });
