/**
 * The main-process end of the IPC contract (`shared/ipc/bridge.ts`). One handler per channel;
 * arguments arrive as `unknown` and are parsed with the channel's schema before anything happens.
 * A call is refused with a `Result` error — `untrusted-sender` when it does not come from the
 * app's own page, `invalid-argument` when the arguments do not parse — and then no effect runs.
 */
import {
  APP_CHANNELS,
  IPC_CONTRACT,
  type AppChannel,
  type IpcArgs,
  type IpcResult,
} from '../../shared/ipc/bridge.ts';
import { err, ok } from '../../shared/util/result.ts';
import { isAppUrl } from './app-origin.ts';
import type { SecretSealer } from './secret-sealer.ts';

export interface IpcDependencies {
  readonly version: string;
  openExternal(url: string): Promise<void>;
  readonly sealer: SecretSealer;
}

type Handlers = { [C in AppChannel]: (...args: IpcArgs<C>) => Promise<IpcResult<C>> };

function createHandlers(deps: IpcDependencies): Handlers {
  return {
    [APP_CHANNELS.version]: () => Promise.resolve(ok(deps.version)),
    [APP_CHANNELS.openExternal]: async (url) => {
      try {
        await deps.openExternal(url);
        return ok(url);
      } catch {
        return err('failed');
      }
    },
    [APP_CHANNELS.sealSecret]: (plain) => deps.sealer.seal(plain),
    [APP_CHANNELS.unsealSecret]: (sealed) => deps.sealer.unseal(sealed),
  };
}

/** What Electron passes as the first handler argument, reduced to what the sender check reads. */
export interface IpcInvokeEvent {
  readonly senderFrame: { readonly url: string } | null;
}

export type IpcListener = (event: IpcInvokeEvent, ...args: unknown[]) => Promise<unknown>;

export interface IpcRegistry {
  handle(channel: string, listener: IpcListener): void;
}

function dispatch<C extends AppChannel>(channel: C, handlers: Handlers): IpcListener {
  const contract = IPC_CONTRACT[channel];
  const handler = handlers[channel] as (...args: unknown[]) => Promise<IpcResult<C>>;
  return async (event, ...args) => {
    const sender = event.senderFrame;
    if (sender === null || !isAppUrl(sender.url)) return err('untrusted-sender');
    const parsed = contract.args.safeParse(args);
    if (!parsed.success) return err('invalid-argument');
    return handler(...parsed.data);
  };
}

/** Registers one `ipcMain.handle` per channel of the contract. */
export function registerIpcHandlers(ipcMain: IpcRegistry, deps: IpcDependencies): void {
  const handlers = createHandlers(deps);
  for (const channel of Object.values(APP_CHANNELS)) {
    ipcMain.handle(channel, dispatch(channel, handlers));
  }
}
