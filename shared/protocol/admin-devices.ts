/** The admin device detail's wire schemas (SPEC AA-5, AA-6). */
import { z } from 'zod';

const MAX_FAILED_SHOWN = 100;

export const DeviceDetailQuerySchema = z
  .object({ failed_limit: z.coerce.number().int().min(1).max(MAX_FAILED_SHOWN).default(20) })
  .strict();

/** A pushed request the server answered with an error (a failed resolution or a forbidden act). */
export const FailedDeviceRequestSchema = z.object({
  seq: z.number().int().positive(),
  requestId: z.string(),
  kind: z.string(),
  receivedAt: z.number().int(),
  code: z.string(),
  message: z.string(),
});
export type FailedDeviceRequest = z.infer<typeof FailedDeviceRequestSchema>;

export const DeviceDetailSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  name: z.string(),
  inputKey: z.string(),
  deviceApplicationStamp: z.string(),
  registeredAt: z.number().int(),
  lastSeenAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
  /** The sequence number the server expects next from this device. */
  nextSeq: z.number().int().positive(),
  requests: z.object({
    applied: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  /** The newest failed requests first. */
  lastFailed: z.array(FailedDeviceRequestSchema),
});
export type DeviceDetail = z.infer<typeof DeviceDetailSchema>;
