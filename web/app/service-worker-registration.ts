/**
 * Registers the demo's service worker (built apps only) and offers a new version
 * when one is waiting: taking it reloads the page, so it is the person's choice.
 */
import { Workbox } from 'workbox-window';

export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  const workbox = new Workbox(`${import.meta.env.BASE_URL}service-worker.js`, {
    scope: import.meta.env.BASE_URL,
  });
  workbox.addEventListener('waiting', () => {
    const banner = document.getElementById('update') as HTMLElement | null;
    if (!banner) return;
    banner.hidden = false;
    banner.querySelector('button')?.addEventListener('click', () => {
      workbox.addEventListener('controlling', () => window.location.reload());
      workbox.messageSkipWaiting();
    });
  });
  void workbox.register();
}
