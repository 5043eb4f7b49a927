/** @jsxRuntime automatic */
import { Component, type ReactNode } from 'react';

/** One panel's rendering bug must not blank the page the operator is watching. */
export class PanelBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="panel panel-error" role="alert">
        <header className="panel-header">
          <h2>{this.props.name}</h2>
        </header>
        <p>This panel failed to render: {this.state.error.message}</p>
        <button type="button" className="icon-button" onClick={() => this.setState({ error: null })}>
          Retry
        </button>
      </section>
    );
  }
}
