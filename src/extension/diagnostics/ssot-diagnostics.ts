import * as vscode from 'vscode';
import type { Diagnostic, Severity } from '../../core/ssot/model';
import type { SsotState, SsotStore } from '../ssot/ssot-store';
import { DisposableStore } from '../util/disposable-store';

/** The `source` shown next to each problem. */
export const DIAGNOSTIC_SOURCE = 'factory';

function severityOf(severity: Severity): vscode.DiagnosticSeverity {
  switch (severity) {
    case 'error':
      return vscode.DiagnosticSeverity.Error;
    case 'warning':
      return vscode.DiagnosticSeverity.Warning;
    case 'info':
      return vscode.DiagnosticSeverity.Information;
  }
}

/** Converts core diagnostics (1-based lines, root-relative files) to Problems-panel entries per file. */
export function toVscodeDiagnostics(root: vscode.Uri, diagnostics: readonly Diagnostic[]): Map<string, [vscode.Uri, vscode.Diagnostic[]]> {
  const byFile = new Map<string, [vscode.Uri, vscode.Diagnostic[]]>();
  for (const d of diagnostics) {
    const uri = vscode.Uri.joinPath(root, d.file);
    const line = Math.max(0, d.line - 1);
    // The whole line: the core reports rows, not columns; VS Code clamps the end to the line length.
    const diagnostic = new vscode.Diagnostic(new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER), d.message, severityOf(d.severity));
    diagnostic.source = DIAGNOSTIC_SOURCE;
    if (d.code) diagnostic.code = d.code;
    const key = uri.toString();
    const entry = byFile.get(key);
    if (entry) entry[1].push(diagnostic);
    else byFile.set(key, [uri, [diagnostic]]);
  }
  return byFile;
}

/** Mirrors the index's and the config's diagnostics into the Problems panel. */
export class SsotDiagnostics extends DisposableStore {
  private readonly collection = this.add(vscode.languages.createDiagnosticCollection('factory'));

  constructor(store: SsotStore) {
    super();
    this.add(store.onDidChange((state) => this.update(state)));
    this.update(store.state);
  }

  private update(state: SsotState): void {
    this.collection.clear();
    if (state.kind !== 'ready') return;
    const all = [...state.configDiagnostics, ...state.index.diagnostics];
    for (const [uri, list] of toVscodeDiagnostics(state.root, all).values()) this.collection.set(uri, list);
  }
}
