/**
 * The URLs the CLI prints: the app, and the link another device opens to connect to this server
 * (the app's `#/connect` route; the admin console shows it as a QR code).
 */
import { networkInterfaces } from 'node:os';

export function appUrl(baseUrl: string): string {
  return `${baseUrl}/app/`;
}

export function connectUrl(baseUrl: string, apiKey: string): string {
  const query = `server=${encodeURIComponent(baseUrl)}&key=${encodeURIComponent(apiKey)}`;
  return `${appUrl(baseUrl)}#/connect?${query}`;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The base URL other devices can use: the configured public URL; for a server bound to every
 * address, its first LAN IPv4 address; otherwise the address it listens on.
 */
export function reachableBaseUrl(listening: string, host: string, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl;
  if (!WILDCARD_HOSTS.has(host)) return listening;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal);
  if (lan === undefined) return listening;
  const url = new URL(listening);
  url.hostname = lan.address;
  return url.origin;
}
