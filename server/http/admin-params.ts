/**
 * What the admin routes share (SPEC OA-1): the path parameters they parse and the declaration
 * fields every admin route has (its tag and the admin token).
 */
import { z } from 'zod';
import { MpidSchema } from '../../shared/identity/mpid.ts';
import type { RouteDeclaration } from './route-table.ts';

export const WorkspaceParams = z.object({
  workspace: z.string().min(1).max(64).describe('Workspace (scope) id'),
});
export const ProfileParams = WorkspaceParams.extend({
  mpid: MpidSchema.describe('MPID, a signed 64-bit decimal string'),
});
export const InputParams = WorkspaceParams.extend({ key: z.string().min(1).max(128).describe('API key') });
export const DeviceParams = WorkspaceParams.extend({ id: z.string().min(1).max(128).describe('Device id') });

/** An admin route's declaration: tagged `admin`, authorised by an admin token. */
export const adminRoute = (declaration: Omit<RouteDeclaration, 'tags' | 'auth'>): RouteDeclaration => ({
  tags: ['admin'],
  auth: 'admin',
  ...declaration,
});
