/**
 * Registers the service worker that keeps the app shell for offline use (web only: Electron loads
 * the app from its own scheme). A new version installs in the background and waits; the app offers
 * "Reload", which lets it take over and reloads once it has.
 */
import type { BehaviorSubject } from 'rxjs';

export function registerServiceWorker(update$: BehaviorSubject<(() => void) | null>): void {
  const container = navigator.serviceWorker;
  let updating = false;
  container.addEventListener('controllerchange', () => {
    if (updating) window.location.reload();
  });
  const offer = (worker: ServiceWorker) =>
    update$.next(() => {
      updating = true;
      worker.postMessage({ type: 'SKIP_WAITING' });
    });
  container.register('./sw.js', { scope: './' }).then(
    (registration) => {
      if (registration.waiting !== null && container.controller !== null) offer(registration.waiting);
      registration.addEventListener('updatefound', () => {
        const installing = registration.installing;
        installing?.addEventListener('statechange', () => {
          if (installing.state === 'installed' && container.controller !== null) offer(installing);
        });
      });
    },
    (error: unknown) => console.warn('The offline copy of the app could not be set up:', error),
  );
}
