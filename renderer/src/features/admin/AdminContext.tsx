import { createContext, useContext, type ReactNode } from 'react';
import type { AdminSession, AdminSessions } from './admin-session.ts';

interface AdminContextValue {
  readonly sessions: AdminSessions;
  /** Set inside the signed-in part of the console. */
  readonly session: AdminSession | null;
}

const AdminContext = createContext<AdminContextValue | null>(null);

export function AdminProvider({ value, children }: { value: AdminContextValue; children: ReactNode }) {
  return <AdminContext value={value}>{children}</AdminContext>;
}

export function useAdmin(): AdminContextValue {
  const value = useContext(AdminContext);
  if (value === null) throw new Error('useAdmin outside <AdminProvider>');
  return value;
}

/** The signed-in session; only for screens the console shows to a signed-in admin. */
export function useAdminSession(): AdminSession {
  const { session } = useAdmin();
  if (session === null) throw new Error('useAdminSession while signed out');
  return session;
}
