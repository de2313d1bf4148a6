/**
 * The studio's gateway controls: where the gateway is and its token (from the
 * page's #gateway-token=… that `npm start` prints, or typed in), a status light
 * polled from its /healthz, and per node a switch "run on the gateway".
 */
import type { Manifest, RemoteConfig } from '../../index.ts';

/** Node types the gateway cannot run (SileroVAD needs onnxruntime-web: browser only). */
const BROWSER_ONLY = new Set(['SileroVAD']);

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

/** Polls /healthz and shows whether the gateway answers; returns a stop function. */
export function watchGateway(address: () => string, light: HTMLElement): () => void {
  const check = async () => {
    const { host, port } = remoteOf(address());
    try {
      const response = await fetch(`http://${host}:${port}/healthz`, { cache: 'no-store' });
      const health = (await response.json()) as { sessions: number; protocol: number };
      light.dataset.state = 'up';
      light.textContent = `● gateway up (protocol ${health.protocol}, ${health.sessions} sessions)`;
    } catch {
      light.dataset.state = 'down';
      light.textContent = `○ no gateway at ${host}:${port} (npm start runs one)`;
    }
  };
  void check();
  const timer = setInterval(() => void check(), 3000);
  return () => clearInterval(timer);
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
    box.checked = chosen.has(node.id);
    box.disabled = BROWSER_ONLY.has(node.node_type);
    if (box.disabled) label.title = `${node.node_type} runs in the browser only`;
    box.addEventListener('change', () => {
      const ids = new Set(
        [...container.querySelectorAll<HTMLInputElement>('input:checked')].map(
          (b) => b.dataset.node!,
        ),
      );
      onChange(ids);
    });
    label.append(box, ` ${node.id}`);
    container.append(label);
  }
}
