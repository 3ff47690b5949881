// First: opening the device database starts before React and the screens are evaluated (UP-4).
import { opened, services, update$ } from './app/opening.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { platform } from './platform/bridge.ts';
import { registerServiceWorker } from './sw/register-service-worker.ts';

const root = createRoot(document.getElementById('root') as HTMLElement);

// The Field screen renders while the database opens (UP-6).
root.render(
  <StrictMode>
    <App services={services} />
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
