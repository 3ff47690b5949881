/**
 * The preload: exposes ONE object, `window.identitySync`, whose shape is the `AppBridge` of
 * `shared/ipc`. Every call goes through `invoke`, which sends only on allowlisted `app:` channels
 * and parses the answer with the channel's result schema. No Electron object, no `ipcRenderer`
 * and no callback crosses to the page; the exposed functions take and return plain data only
 * (contextBridge copies values, so getters or mutable state on this object would be traps).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { z } from 'zod';
import {
  APP_CHANNELS,
  BRIDGE_GLOBAL,
  IPC_CONTRACT,
  isAppChannel,
  isSealingAvailable,
  type AppBridge,
  type AppChannel,
  type IpcArgs,
  type IpcResult,
} from '../../shared/ipc/bridge.ts';

// zod would probe `new Function` for its fast path; the app's CSP forbids eval, so never try.
z.config({ jitless: true });

async function invoke<C extends AppChannel>(channel: C, ...args: IpcArgs<C>): Promise<IpcResult<C>> {
  if (!isAppChannel(channel)) throw new Error(`Unsupported IPC channel '${String(channel)}'`);
  const answer: unknown = await ipcRenderer.invoke(channel, ...args);
  return IPC_CONTRACT[channel].result.parse(answer) as IpcResult<C>;
}

const api = {
  sealingAvailable: isSealingAvailable(process.argv),
  async version() {
    const answer = await invoke(APP_CHANNELS.version);
    // The main process refuses only calls that do not come from the app's page.
    if (!answer.ok) throw new Error(`app:version refused: ${answer.error}`);
    return answer.value;
  },
  openExternal: (url: string) => invoke(APP_CHANNELS.openExternal, url),
  sealSecret: (plain: string) => invoke(APP_CHANNELS.sealSecret, plain),
  unsealSecret: (sealed: string) => invoke(APP_CHANNELS.unsealSecret, sealed),
} satisfies AppBridge;

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, api);
