/**
 * The studio's gateway controls: where the gateway is and its token (from the
 * page's #gateway-token=… that `npm start` prints, or typed in), a status light
 * polled from its /healthz, and per node a switch "run on the gateway".
 */
import type { Manifest, RemoteConfig } from '../../index.ts';

/**
 * Node types the gateway cannot run (SileroVAD needs onnxruntime-web; Speaker is the
 * page's audio output), and those that run only there (none now: SpeechToText and
 * TextToSpeech have browser engines, PocketSphinx and flite, and run in either place).
 */
const BROWSER_ONLY = new Set(['SileroVAD', 'Speaker']);
const GATEWAY_ONLY = new Set<string>();

export interface GatewaySettings {
  address: string;
  token: string;
}

export function remoteOf(address: string): RemoteConfig {
  const [host, port] = address.trim().split(':');
  return { host: host || '127.0.0.1', port: Number(port) || 8765 };
}

/** The manifest with `remote` on the chosen nodes: the one field that moves a node. */
export function placeOnGateway(
  manifest: Manifest,
  nodeIds: ReadonlySet<string>,
  remote: RemoteConfig,
): Manifest {
  return {
    ...manifest,
    nodes: manifest.nodes.map((node) => (nodeIds.has(node.id) ? { ...node, remote } : node)),
  };
}

/** First poll interval; doubled after each failure up to MAX_POLL_MS, reset on success. */
const POLL_MS = 3000;
const MAX_POLL_MS = 60_000;

/**
 * Shows whether the gateway answers its /healthz; returns a function that re-checks
 * at once (call it when the address or token changes). Polls only while a gateway is
 * configured (a token is set: nothing can run there without one), and backs off while
 * it does not answer, so an offline page does not fail a request every 3 s.
 */
export function watchGateway(
  address: () => string,
  configured: () => boolean,
  light: HTMLElement,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let interval = POLL_MS;
  const check = async () => {
    clearTimeout(timer);
    if (!configured()) {
      light.dataset.state = 'off';
      light.textContent = '○ no gateway configured (paste its token to use one)';
      return;
    }
    const { host, port } = remoteOf(address());
    try {
      const response = await fetch(`http://${host}:${port}/healthz`, { cache: 'no-store' });
      const health = (await response.json()) as { sessions: number; protocol: number };
      light.dataset.state = 'up';
      light.textContent = `● gateway up (protocol ${health.protocol}, ${health.sessions} sessions)`;
      interval = POLL_MS;
    } catch {
      light.dataset.state = 'down';
      light.textContent = `○ no gateway at ${host}:${port} (npm start runs one; next try in ${Math.round(interval / 1000)} s)`;
      interval = Math.min(interval * 2, MAX_POLL_MS);
    }
    timer = setTimeout(() => void check(), interval);
  };
  void check();
  return () => {
    interval = POLL_MS;
    void check();
  };
}

/** One switch per node; `onChange` gets the ids switched to the gateway. */
export function renderPlacement(
  container: HTMLElement,
  manifest: Manifest,
  chosen: ReadonlySet<string>,
  onChange: (ids: Set<string>) => void,
): void {
  container.replaceChildren();
  const title = document.createElement('span');
  title.textContent = 'Run on the gateway:';
  container.append(title);
  for (const node of manifest.nodes) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.dataset.node = node.id;
    const gatewayOnly = GATEWAY_ONLY.has(node.node_type);
    box.checked = chosen.has(node.id) || gatewayOnly;
    box.disabled = BROWSER_ONLY.has(node.node_type) || gatewayOnly;
    if (box.disabled) {
      label.title = `${node.node_type} runs ${gatewayOnly ? 'on the gateway' : 'in the browser'} only`;
    }
    box.addEventListener('change', () => {
      const ids = new Set(
        [...container.querySelectorAll<HTMLInputElement>('input:checked:not(:disabled)')].map(
          (b) => b.dataset.node!,
        ),
      );
      onChange(ids);
    });
    label.append(box, ` ${node.id}`);
    container.append(label);
  }
}
