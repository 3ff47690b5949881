/**
 * The admin console's client for the admin API (`/admin/v1`). It only ever calls the server the
 * app was served from (the admin API allows no cross-origin call, AU-5), parses every answer with
 * the shared wire schemas, and gives expected failures as values the screens word.
 */
import type { z } from 'zod';
import type { IdentityType } from '../../../../shared/identity/identity-types.ts';
import type { ScopeConfig } from '../../../../shared/identity/scope-config.ts';
import { ConfigHistorySchema, WorkspaceConfigSchema } from '../../../../shared/protocol/admin-config.ts';
import {
  AliasUndoneSchema,
  DeviceListSchema,
  ProfileDeletedSchema,
  ProfileDetailSchema,
  ProfileListSchema,
  WorkspaceListSchema,
} from '../../../../shared/protocol/admin.ts';
import { DeviceDetailSchema } from '../../../../shared/protocol/admin-devices.ts';
import {
  CreatedInputSchema,
  InputListSchema,
  RotatedInputSchema,
} from '../../../../shared/protocol/admin-inputs.ts';
import { StatsSchema, type StatsBucket } from '../../../../shared/protocol/admin-stats.ts';
import { ProfileGraphSchema } from '../../../../shared/protocol/admin-graph.ts';
import { ErrorBodySchema } from '../../../../shared/protocol/errors.ts';
import type { LabRunRequest } from '../../../../shared/protocol/lab.ts';
import { LabJobSchema } from '../../../../shared/protocol/lab-jobs.ts';
import { WhatIfResponseSchema } from '../../../../shared/protocol/what-if.ts';
import { err, ok, type Result } from '../../../../shared/util/result.ts';

export type AdminFailure =
  /** The token is wrong or was revoked: the server answered 401. */
  | { readonly kind: 'unauthorized' }
  /** The thing asked for is not there (any more): 404. */
  | { readonly kind: 'not_found'; readonly message: string }
  /** The server refused the request with a catalogue error (400, 409…). */
  | { readonly kind: 'refused'; readonly message: string }
  /** Someone else saved first: the version this edit started from is no longer current (AA-10). */
  | { readonly kind: 'stale'; readonly message: string }
  /** No answer: the server is down or the network is. */
  | { readonly kind: 'unreachable' }
  /** An answer this console cannot read (another version of the server). */
  | { readonly kind: 'unreadable'; readonly status: number };

export type AdminResult<T> = Result<T, AdminFailure>;

/**
 * Where the admin API is, beside the app: `/app/` → `/admin/v1/`, behind any path prefix. Null
 * when the app was not served over HTTP (the desktop app), which cannot call the admin API.
 */
export function adminApiBase(pageUrl: string): string | null {
  const url = new URL(pageUrl);
  if (!/^https?:$/.test(url.protocol)) return null;
  return new URL('../admin/v1/', new URL('.', url)).href;
}

export class AdminApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  workspaces() {
    return this.call('GET', 'workspaces', WorkspaceListSchema);
  }

  searchProfiles(workspace: string, type: IdentityType, value: string) {
    const query = new URLSearchParams({ identity_type: type, value });
    return this.call('GET', `workspaces/${enc(workspace)}/profiles?${query}`, ProfileListSchema);
  }

  profile(workspace: string, mpid: string) {
    return this.call('GET', `workspaces/${enc(workspace)}/profiles/${enc(mpid)}`, ProfileDetailSchema);
  }

  profileGraph(workspace: string, mpid: string, depth: number) {
    const query = new URLSearchParams({ depth: String(depth), max_nodes: '500' });
    const route = `workspaces/${enc(workspace)}/profiles/${enc(mpid)}/graph?${query}`;
    return this.call('GET', route, ProfileGraphSchema);
  }

  deleteProfile(workspace: string, mpid: string) {
    return this.call('DELETE', `workspaces/${enc(workspace)}/profiles/${enc(mpid)}`, ProfileDeletedSchema);
  }

  undoAlias(workspace: string, aliasId: string) {
    return this.call('POST', `workspaces/${enc(workspace)}/aliases/${enc(aliasId)}/undo`, AliasUndoneSchema);
  }

  devices(workspace: string) {
    return this.call('GET', `workspaces/${enc(workspace)}/devices`, DeviceListSchema);
  }

  revokeDevice(workspace: string, id: string) {
    return this.call('DELETE', `workspaces/${enc(workspace)}/devices/${enc(id)}`, null);
  }

  stats(workspace: string, window: { from: number; to: number; bucket: StatsBucket }) {
    const query = new URLSearchParams({
      from: String(window.from),
      to: String(window.to),
      bucket: window.bucket,
    });
    return this.call('GET', `workspaces/${enc(workspace)}/stats?${query}`, StatsSchema);
  }

  device(workspace: string, id: string, failedLimit: number) {
    const query = new URLSearchParams({ failed_limit: String(failedLimit) });
    return this.call('GET', `workspaces/${enc(workspace)}/devices/${enc(id)}?${query}`, DeviceDetailSchema);
  }

  inputs(workspace: string) {
    return this.call('GET', `workspaces/${enc(workspace)}/inputs`, InputListSchema);
  }

  createInput(workspace: string, input: { name: string; allowKeyOnly: boolean; syncOnly: boolean }) {
    return this.call('POST', `workspaces/${enc(workspace)}/inputs`, CreatedInputSchema, input);
  }

  rotateInput(workspace: string, key: string) {
    return this.call('POST', `workspaces/${enc(workspace)}/inputs/${enc(key)}/rotate`, RotatedInputSchema);
  }

  revokeInput(workspace: string, key: string) {
    return this.call('DELETE', `workspaces/${enc(workspace)}/inputs/${enc(key)}`, null);
  }

  config(workspace: string) {
    return this.call('GET', `workspaces/${enc(workspace)}/config`, WorkspaceConfigSchema);
  }

  configHistory(workspace: string) {
    return this.call('GET', `workspaces/${enc(workspace)}/config/history`, ConfigHistorySchema);
  }

  /** Replays the workspace's recorded requests under `config`; nothing is written (WI-1). */
  whatIf(workspace: string, config: ScopeConfig, maxDifferences: number) {
    return this.call('POST', `workspaces/${enc(workspace)}/what-if`, WhatIfResponseSchema, {
      config,
      maxDifferences,
    });
  }

  /** Saves `config` only while `expectedVersion`, the version the edit started from, is current (AA-9). */
  saveConfig(workspace: string, config: ScopeConfig, expectedVersion: number) {
    const query = new URLSearchParams({ expected_version: String(expectedVersion) });
    return this.call('PUT', `workspaces/${enc(workspace)}/config?${query}`, WorkspaceConfigSchema, config);
  }

  /** Starts a scenario's runs under each strategy as a job, answered at once (LB-11). */
  startLabJob(request: LabRunRequest) {
    return this.call('POST', 'lab/jobs', LabJobSchema, request);
  }

  /** A Lab job's progress, and its runs once ended (LB-12). */
  labJob(id: string) {
    return this.call('GET', `lab/jobs/${enc(id)}`, LabJobSchema);
  }

  /** Cancels a Lab job; its simulators are stopped (LB-13). */
  cancelLabJob(id: string) {
    return this.call('DELETE', `lab/jobs/${enc(id)}`, LabJobSchema);
  }

  private async call<S extends z.ZodType>(
    method: string,
    route: string,
    schema: S,
    body?: unknown,
  ): Promise<AdminResult<z.infer<S>>>;
  private async call(method: string, route: string, schema: null): Promise<AdminResult<null>>;
  private async call(
    method: string,
    route: string,
    schema: z.ZodType | null,
    body?: unknown,
  ): Promise<AdminResult<unknown>> {
    let response: Response;
    try {
      response = await this.fetchFn(new URL(route, this.base), {
        method,
        headers:
          body === undefined
            ? { authorization: `Bearer ${this.token}` }
            : { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      return err({ kind: 'unreachable' });
    }
    const answer = await readJson(response);
    if (response.status === 401) return err({ kind: 'unauthorized' });
    if (!response.ok) {
      const failure = ErrorBodySchema.safeParse(answer);
      if (!failure.success) return err({ kind: 'unreadable', status: response.status });
      const first = failure.data.errors[0];
      const message = first?.message ?? `the server answered ${response.status}`;
      if (response.status === 409 && first?.path === STALE_PATH) return err({ kind: 'stale', message });
      return err(response.status === 404 ? { kind: 'not_found', message } : { kind: 'refused', message });
    }
    if (schema === null) return ok(null);
    const parsed = schema.safeParse(answer);
    return parsed.success ? ok(parsed.data) : err({ kind: 'unreadable', status: response.status });
  }
}

/** The field a 409 names when the version an edit started from is no longer current (AA-10). */
const STALE_PATH = 'expected_version';

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A failure in one sentence an admin can act on. */
export function failureInWords(failure: AdminFailure): string {
  switch (failure.kind) {
    case 'unauthorized':
      return 'The server refused this admin token: it is wrong or has been revoked.';
    case 'not_found':
      return `Not found: ${failure.message}.`;
    case 'refused':
      return `The server refused: ${failure.message}.`;
    case 'stale':
      return 'This was changed by someone else since you opened it. Reload to see their change, then edit again.';
    case 'unreachable':
      return 'The server cannot be reached. Check that it is running and your network, then try again.';
    case 'unreadable':
      return `The server's answer (HTTP ${failure.status}) could not be read; is the server the same version as this app?`;
  }
}
