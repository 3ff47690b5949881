/** The admin input rotation's wire schema (SPEC AA-7). */
import { z } from 'zod';

/** The input's key (unchanged) and its new secret, shown this once. */
export const RotatedInputSchema = z.object({ key: z.string(), secret: z.string() });
export type RotatedInput = z.infer<typeof RotatedInputSchema>;

/** An input as the admin lists it (`GET …/inputs`); its secret is never listed. */
export const InputSummarySchema = z.object({
  key: z.string(),
  name: z.string(),
  allowKeyOnly: z.boolean(),
  syncOnly: z.boolean(),
  createdAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
});
export type InputSummary = z.infer<typeof InputSummarySchema>;
export const InputListSchema = z.object({ inputs: z.array(InputSummarySchema) });

/** A created input (`POST …/inputs`, 201): its key and secret, the secret shown this once. */
export const CreatedInputSchema = RotatedInputSchema;
