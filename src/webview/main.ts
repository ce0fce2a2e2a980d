/**
 * Webview front-end entry (Run panel and Cost dashboard share one bundle; `<body data-view>` says
 * which). Talks to the extension only through src/shared/protocol.ts: it sends `ready` first, and
 * every message from the host is validated with zod before it touches the DOM.
 */
import './zod-jitless';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './main.css';
import { parseHostMessage, webviewStateSchema, type HostMessage, type WebviewMessage, type WebviewState } from '../shared/protocol';
import { CostView } from './cost/cost-view';
import { RunView } from './run/run-view';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: WebviewMessage): void => vscode.postMessage(m);
const view = document.body.dataset.view === 'cost' ? 'cost' : 'run';
const saved = webviewStateSchema.safeParse(vscode.getState());
const initial: WebviewState | undefined = saved.success && saved.data.view === view ? saved.data : undefined;

let saveTimer: ReturnType<typeof setTimeout> | undefined;
const app = document.getElementById('app') ?? document.body;

if (view === 'run') {
  const run: RunView = new RunView(post, () => {
    // Scrolling fires often; the state is written at most every 200 ms.
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => vscode.setState(run.state()), 200);
  }, initial);
  app.replaceChildren(run.element);
  listen((m) => {
    if (m.type === 'run.snapshot') run.renderSnapshot(m.run);
    else if (m.type === 'log.reset') run.resetLog(m.stream, m.title);
    else if (m.type === 'log.append') run.appendLog(m.stream, m.text);
    else if (m.type === 'run.cycles') run.renderCycles(m.cycles, m.followed);
  });
  vscode.setState(run.state());
} else {
  const cost = new CostView(post);
  app.replaceChildren(cost.element);
  listen((m) => {
    if (m.type === 'cost.dashboard') cost.render(m.dashboard);
  });
  vscode.setState({ view: 'cost' } satisfies WebviewState);
}
post({ type: 'ready' });

function listen(handle: (m: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const parsed = parseHostMessage(e.data);
    if (!parsed.ok) {
      // Dropped, and reported (by issue codes only, never the content).
      post({ type: 'error', message: `invalid host message dropped: ${parsed.error}`.slice(0, 500) });
      return;
    }
    try {
      handle(parsed.message);
    } catch (err) {
      post({ type: 'error', message: String(err instanceof Error ? err.message : err).slice(0, 500) });
    }
  });
}
