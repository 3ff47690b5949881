/**
 * The security headers of everything served under /app/. The Content Security Policy is the
 * desktop app's (`shared/ipc/csp.ts`): one policy for the same renderer in Electron and in a
 * browser (its `default-src 'self'` also covers the manifest).
 */
import { CONTENT_SECURITY_POLICY } from '../../shared/ipc/csp.ts';

export const APP_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
