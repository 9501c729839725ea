// test/browser/page.jsx: Grafana's Flame Graph component on pg_pprof rows.
//
// index.html?panel=<name> fetches data.json (written by test.mjs from the
// dashboard's queries), builds the frame with @grafana/data's createDataFrame
// and renders it the way Grafana's Flame Graph panel does: if checkFields()
// reports missing or mistyped fields the panel shows that message instead of
// the graph.  Results for the test are left on window.__pp.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { createDataFrame, createTheme, FieldType, getValueFormat, formattedValueToString } from '@grafana/data';
import { FlameGraph, checkFields, getMessageCheckFieldsResult } from '@grafana/flamegraph';

const pp = (window.__pp = { ready: false, errors: [] });
window.addEventListener('error', (e) => pp.errors.push(String(e.message || e)));
window.addEventListener('unhandledrejection', (e) => pp.errors.push(String(e.reason)));

// Format like the component does for a field with this unit.
pp.format = (unit, v) => formattedValueToString(getValueFormat(unit || 'none')(v));

class ErrorBoundary extends React.Component {
  constructor(props) {
    super(props);
    this.state = { error: null };
  }
  static getDerivedStateFromError(error) {
    return { error };
  }
  componentDidCatch(error) {
    pp.errors.push(String(error && error.message ? error.message : error));
  }
  render() {
    if (this.state.error) {
      return <div className="pp-error" data-testid="panel-error">{String(this.state.error.message || this.state.error)}</div>;
    }
    return this.props.children;
  }
}

async function main() {
  const name = new URLSearchParams(location.search).get('panel');
  const data = await (await fetch('data.json')).json();
  const panel = data.panels[name];
  document.title = panel.title;
  document.getElementById('title').textContent = panel.title;

  // One field per SQL column, typed as the PostgreSQL data source types them.
  // The panel's unit (fieldConfig.defaults.unit) goes on the number fields.
  const frame = createDataFrame({
    refId: 'A',
    fields: panel.frame.fields.map((f) => ({
      name: f.name,
      type: f.type === 'number' ? FieldType.number : FieldType.string,
      values: f.values,
      config: f.type === 'number' && panel.unit ? { unit: panel.unit } : {},
    })),
  });

  const wrong = checkFields(frame);
  pp.checkFields = wrong === undefined ? null : wrong;
  pp.fieldTypes = frame.fields.map((f) => [f.name, f.type]);
  pp.unit = panel.unit;

  const root = createRoot(document.getElementById('root'));
  root.render(
    <ErrorBoundary>
      {wrong ? (
        <div className="pp-error" data-testid="panel-error">{getMessageCheckFieldsResult(wrong)}</div>
      ) : (
        <FlameGraph data={frame} getTheme={() => createTheme({ colors: { mode: 'dark' } })} />
      )}
    </ErrorBoundary>
  );
  // Let React commit and the canvas draw.
  await new Promise((r) => setTimeout(r, 500));
  pp.ready = true;
}

main().catch((e) => {
  pp.errors.push(String(e && e.stack ? e.stack : e));
  pp.ready = true;
});
