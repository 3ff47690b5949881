import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BehaviorSubject } from 'rxjs';
import { App } from './app/App.tsx';
import { startApp } from './app/start-app.ts';
import { platform } from './platform/bridge.ts';
import { registerServiceWorker } from './sw/register-service-worker.ts';

const root = createRoot(document.getElementById('root') as HTMLElement);
const update$ = new BehaviorSubject<(() => void) | null>(null);

if (
  import.meta.env.PROD &&
  platform.kind === 'web' &&
  /^https?:$/.test(location.protocol) &&
  'serviceWorker' in navigator
) {
  registerServiceWorker(update$);
}

startApp(update$).then(
  (services) =>
    root.render(
      <StrictMode>
        <App services={services} />
      </StrictMode>,
    ),
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
