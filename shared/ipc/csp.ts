/**
 * The desktop app's Content Security Policy, sent by the `app://` protocol handler on every
 * response. Platform-free so tests and other hosts can import the same text.
 */
const DIRECTIVES: readonly (readonly [string, string])[] = [
  ['default-src', "'self'"],
  ['script-src', "'self'"],
  // Mantine's provider injects <style> elements for its CSS variables at runtime and its
  // components set style attributes, so inline styles must be allowed; scripts stay 'self'.
  ['style-src', "'self' 'unsafe-inline'"],
  ['img-src', "'self' data:"],
  // The central server's URL is chosen by the user at first run (any host, http on a LAN or
  // https), so the policy cannot name it; fetch and EventSource may reach any http(s) origin.
  ['connect-src', "'self' http: https:"],
  ['font-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
  ['worker-src', "'self'"],
];

export const CONTENT_SECURITY_POLICY = DIRECTIVES.map(([name, value]) => `${name} ${value}`).join('; ');
