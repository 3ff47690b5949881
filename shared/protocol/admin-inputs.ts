/** The admin input rotation's wire schema (SPEC AA-7). */
import { z } from 'zod';

/** The input's key (unchanged) and its new secret, shown this once. */
export const RotatedInputSchema = z.object({ key: z.string(), secret: z.string() });
export type RotatedInput = z.infer<typeof RotatedInputSchema>;
