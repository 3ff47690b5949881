/** The device engine's views the screens show, from one place. */
export type { ActivityView, DecisionView, DeviceStatus, PersonView } from '../../../shared/device/engine.ts';
export type { Notice } from '../../../shared/device/reconcile.ts';
