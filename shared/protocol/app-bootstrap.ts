/**
 * What the central server hands its own web app at `/app/bootstrap.json` (SPEC AP-7): everything
 * the app needs to connect with no set-up. The key is a key-only input's: not a secret, every
 * browser holds it; each device then registers for a credential of its own.
 */
import { z } from 'zod';

export const AppBootstrapSchema = z.object({
  /** The URL devices use for the sync API: the server's public URL, else the origin asked. */
  serverUrl: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().min(1).max(256),
  workspace: z.object({ id: z.string(), name: z.string() }),
});
export type AppBootstrap = z.infer<typeof AppBootstrapSchema>;
