import * as vscode from 'vscode';
import type { WebviewMessage } from '../../../shared/protocol';
import { FactoryPanel, createPanel, workspaceConfig, type PanelDeps } from '../panel-base';
import { buildCostDashboard } from './cost-data';

export const COST_PANEL_VIEW_TYPE = 'factory.costDashboard';

/** The Cost dashboard host: builds the figures from history and evidence and posts them on `ready`/`refresh`. */
export class CostPanel extends FactoryPanel {
  private static current: CostPanel | undefined;

  static show(deps: PanelDeps): CostPanel {
    if (CostPanel.current && !CostPanel.current.isDisposed) {
      CostPanel.current.panel.reveal();
      return CostPanel.current;
    }
    return CostPanel.attach(createPanel(COST_PANEL_VIEW_TYPE, 'Factory Cost', deps), deps);
  }

  static attach(panel: vscode.WebviewPanel, deps: PanelDeps): CostPanel {
    CostPanel.current?.dispose();
    const p = new CostPanel(panel, deps, 'cost', 'Factory Cost');
    CostPanel.current = p;
    return p;
  }

  override dispose(): void {
    if (CostPanel.current === this) CostPanel.current = undefined;
    super.dispose();
  }

  protected async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
      case 'refresh': {
        const ws = await workspaceConfig(this.deps);
        if (!ws) return;
        await this.channel.post({ type: 'cost.dashboard', dashboard: buildCostDashboard(ws.root, ws.config) });
        return;
      }
      case 'openRunPanel':
        await vscode.commands.executeCommand('factory.runPanel.open');
        return;
      case 'openEvidence':
        return;
      case 'error':
        this.deps.log.warn(`Cost dashboard: ${m.message}`);
        return;
    }
  }
}
