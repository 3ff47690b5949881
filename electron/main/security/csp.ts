/**
 * The Content Security Policy of the desktop app. The text lives in `shared/ipc/csp.ts` (a
 * platform-free string) so tests and other hosts read the same policy; the app:// handler sends
 * it as a header on every response.
 */
export { CONTENT_SECURITY_POLICY } from '../../../shared/ipc/csp.ts';
