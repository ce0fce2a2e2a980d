/**
 * The one HTML helper for every webview (SECURITY 21): CSP `default-src 'none'`, a fresh nonce from
 * the CSPRNG per render, scripts only with that nonce, styles and fonts only from the webview's
 * own resource origin, no images, no frames, no remote anything. Pure (types only from `vscode`)
 * so plain mocha checks the exact output.
 */
import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

/** Which front-end the shared bundle renders. */
export type WebviewKind = 'run' | 'cost';

export interface WebviewHtmlOptions {
  kind: WebviewKind;
  title: string;
  /** `webview.cspSource`: the origin webview resources are served from. */
  cspSource: string;
  /** URL of a file under the bundle folder (dist/webview), via `webview.asWebviewUri`. */
  asset(file: 'main.js' | 'main.css' | 'codicon.css'): string;
  /** For tests only; production always uses {@link makeNonce}. */
  nonce?: string;
}

/** 128 bits from the CSPRNG, base64 (a new one for every render). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Escapes text for an HTML attribute or text node (only host constants go here, but be safe). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** The Content-Security-Policy of a render with `nonce`. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    "img-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The full document for a webview render. Every call gets a fresh nonce. */
export function renderWebviewHtml(opts: WebviewHtmlOptions): string {
  const nonce = opts.nonce ?? makeNonce();
  const a = (f: 'main.js' | 'main.css' | 'codicon.css'): string => escapeHtml(opts.asset(f));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(opts.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a('codicon.css')}" id="vscode-codicon-stylesheet" nonce="${nonce}">
<link rel="stylesheet" href="${a('main.css')}" nonce="${nonce}">
<title>${escapeHtml(opts.title)}</title>
</head>
<body data-view="${escapeHtml(opts.kind)}">
<div id="app"></div>
<script nonce="${nonce}" src="${a('main.js')}"></script>
</body>
</html>`;
}

/**
 * Options for every Factory webview panel: scripts on, command URIs OFF, and the bundle folder as
 * the ONLY local resource root (not the extension folder, not the workspace).
 */
export function webviewPanelOptions(bundleDir: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [bundleDir],
    retainContextWhenHidden: false,
    enableFindWidget: false,
  };
}
