/** @jsxRuntime automatic */
import { memo } from 'react';
import { useNow } from '../app/clock.js';
import { formatLatency, formatRelativeTime } from '../format/format.js';
import { Empty, Panel } from './ui.js';
import type { PanelView } from './view.js';

export const BuildPanel = memo(function BuildPanel({ view }: { view: PanelView }) {
  const nowMs = useNow(1000);
  if (view.allVariants.length === 0) {
    return (
      <Panel id="build" title="Build">
        <Empty>No variant has reported yet.</Empty>
      </Panel>
    );
  }
  return (
    <Panel id="build" title="Build" subtitle="per variant">
      <table className="breakdown build-table">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Version</th>
            <th scope="col">Commit</th>
            <th scope="col">Targets</th>
            <th scope="col">Last scrape</th>
          </tr>
        </thead>
        <tbody>
          {view.allVariants.map((v, i) => {
            const s = view.latest.get(v) ?? null;
            const b = s?.build ?? null;
            return (
              <tr key={v} data-build={v}>
                <th scope="row">
                  <span className={`variant-chip vi-${Math.min(i, 1)}`}>{v}</span>
                </th>
                <td>{b?.version ?? 'unknown'}</td>
                <td>
                  <code title={b?.build_time ? `built ${b.build_time}` : undefined}>{b?.commit ? b.commit.slice(0, 10) : 'unknown'}</code>
                </td>
                <td>{s ? `${s.scrape.targets_up}/${s.scrape.targets} up` : '-'}</td>
                <td>{s ? `${formatRelativeTime(s.ts, nowMs)} (${formatLatency(s.scrape.duration_ms)})` : '-'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
});
