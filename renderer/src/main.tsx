// First: the app's start, before React and the screens are evaluated (UP-4, UP-9).
import { firstRenderCommitted, opened, services, update$ } from './app/opening.ts';
import { StrictMode, useLayoutEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { platform } from './platform/bridge.ts';
import { registerServiceWorker } from './sw/register-service-worker.ts';

const root = createRoot(document.getElementById('root') as HTMLElement);

// The Field screen renders before the device engine's code is evaluated and the database opens
// (UP-6, UP-9): its first commit lets them start.
root.render(
  <StrictMode>
    <App services={services} />
    <Committed onCommit={firstRenderCommitted} />
  </StrictMode>,
);

opened.then(
  () => {
    // The offline copy of the app is fetched once the app is open, not in the way of its first render.
    if (
      import.meta.env.PROD &&
      platform.kind === 'web' &&
      /^https?:$/.test(location.protocol) &&
      'serviceWorker' in navigator
    )
      registerServiceWorker(update$);
  },
  (error: unknown) => {
    console.error(error);
    root.render(
      <main style={{ fontFamily: 'system-ui, sans-serif', padding: '2rem', maxWidth: '40rem' }}>
        <h1>Identity Sync could not open its storage</h1>
        <p>
          This browser did not let the app open its database (private windows and some privacy settings block
          it). Open the app in a normal window, or allow site data for it, and reload.
        </p>
      </main>,
    );
  },
);

/** Renders nothing: calls `onCommit` when React commits it, in the same commit as the app beside it. */
function Committed({ onCommit }: { onCommit: () => void }) {
  useLayoutEffect(onCommit, [onCommit]);
  return null;
}
