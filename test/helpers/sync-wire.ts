/**
 * The device sync API's wire pieces, for tests that call `/sync/v1` raw, without a device engine:
 * a device's credential headers, and request documents as a device's log holds and pushes them.
 */
import { call } from './server.ts';

export interface DeviceCredential {
  readonly device_id: string;
  readonly device_secret: string;
}

/** The `authorization` header of a registered device. */
export function deviceAuthorization(credential: DeviceCredential): { authorization: string } {
  return { authorization: `Device ${credential.device_id}:${credential.device_secret}` };
}

/** Registers device `id` with input `key`; the headers its sync calls send (key and credential). */
export async function registerDevice(base: string, key: string, id: string): Promise<Record<string, string>> {
  const answer = await call<DeviceCredential>(
    base,
    '/sync/v1/devices',
    { device_id: id, name: id, device_application_stamp: `das-${id}` },
    { key },
  );
  if (answer.status !== 201) throw new Error(`registering ${id} answered ${answer.status}`);
  return { 'x-mp-key': key, ...deviceAuthorization(answer.body) };
}

export interface PushedRequest {
  readonly deviceId: string;
  readonly seq: number;
  /** Default: `<deviceId>-<seq>`. */
  readonly requestId?: string;
  readonly kind?: 'identify' | 'login' | 'logout' | 'modify' | 'alias';
  /** The IDSync body; `environment` and `request_id` are added. */
  readonly body: Record<string, unknown>;
  /** The profile a modify names. */
  readonly modifyMpid?: string | null;
}

/** A request document as a device's log holds it, not yet answered by the server. */
export function requestDocument(request: PushedRequest) {
  const { deviceId, seq } = request;
  const requestId = request.requestId ?? `${deviceId}-${seq}`;
  return {
    id: `request|${requestId}`,
    kind: 'request',
    key: requestId,
    mpid: '',
    seq,
    due: 0,
    source: '',
    destination: '',
    data: {
      stored: null,
      sync: {
        requestId,
        deviceId,
        seq,
        kind: request.kind ?? 'login',
        environment: 'production',
        body: { environment: 'production', request_id: requestId, ...request.body },
        modifyMpid: request.modifyMpid ?? null,
        createdAt: 1,
        provisionalMpid: null,
        createdProvisional: false,
        server: null,
      },
    },
    _deleted: false,
  };
}

/** A row of `/sync/v1/requests/push`: the document as the device's new state. */
export function pushRow(request: PushedRequest) {
  return { newDocumentState: requestDocument(request) };
}

/** A push row logging in `customerid` with the device's application stamp. */
export function loginRow(deviceId: string, seq: number, requestId: string, customerid: string) {
  return pushRow({
    deviceId,
    seq,
    requestId,
    body: { known_identities: { customerid, device_application_stamp: `das-${deviceId}` } },
  });
}
