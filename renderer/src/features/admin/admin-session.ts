/**
 * The admin's session (SPEC AC-1): the admin token lives here, in this page's memory only. It is
 * never written to the device database, localStorage, sessionStorage or IndexedDB, so closing or
 * reloading the page signs the admin out. A 401 from any call ends the session with a notice.
 */
import { BehaviorSubject } from 'rxjs';
import type { WorkspaceSummary } from '../../../../shared/protocol/admin.ts';
import { AdminApi, failureInWords, type AdminFailure } from './admin-api.ts';

export interface AdminSession {
  readonly api: AdminApi;
  readonly workspaces: readonly WorkspaceSummary[];
  /** The workspace the console shows. */
  readonly workspace: string;
}

export interface AdminSessionState {
  readonly session: AdminSession | null;
  /** Why the admin was signed out, when it was not their own doing. */
  readonly notice: string | null;
}

export class AdminSessions {
  readonly state$ = new BehaviorSubject<AdminSessionState>({ session: null, notice: null });

  constructor(private readonly base: string) {}

  get current(): AdminSessionState {
    return this.state$.value;
  }

  /** Checks the token by listing the workspaces; the session starts only if the server accepts it. */
  async signIn(token: string, preferredWorkspace: string | null): Promise<AdminFailure | null> {
    const api = new AdminApi(this.base, token);
    const listed = await api.workspaces();
    if (!listed.ok) return listed.error;
    const { workspaces } = listed.value;
    const first = workspaces.find((w) => w.id === preferredWorkspace) ?? workspaces[0];
    if (first === undefined) return { kind: 'not_found', message: 'the server has no workspace yet' };
    this.state$.next({ session: { api, workspaces, workspace: first.id }, notice: null });
    return null;
  }

  chooseWorkspace(id: string): void {
    const { session } = this.current;
    if (session !== null && session.workspaces.some((w) => w.id === id))
      this.state$.next({ session: { ...session, workspace: id }, notice: null });
  }

  signOut(notice: string | null = null): void {
    this.state$.next({ session: null, notice });
  }

  /** What a screen does with a failed call: a refused token ends the session; the rest is its to show. */
  refused(failure: AdminFailure): void {
    if (failure.kind === 'unauthorized') this.signOut(failureInWords(failure));
  }
}
