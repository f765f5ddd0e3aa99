// The live dashboard: keyboard, selection and a throttled redraw loop around DashboardView.
import React, {useEffect, useState} from 'react';
import {useApp, useInput, useStdout} from 'ink';
import {DashboardView} from './dashboard-view.js';
import {rowKey, visibleRows} from './rows.js';
import type {RunViewStore} from './view-store.js';

export interface DashboardProps {
  store: RunViewStore;
  /** q: stop drawing; the run goes on. */
  onDetach: () => void;
  /** Ctrl-C: ask the run to stop cleanly (it checkpoints and prints the resume command). */
  onInterrupt: () => void;
  /** Redraw interval; ~10 frames per second at most. */
  frameMs?: number;
  clock?: () => number;
}

export function Dashboard({store, onDetach, onInterrupt, frameMs = 100, clock = Date.now}: DashboardProps): React.ReactElement {
  const {exit} = useApp();
  const {stdout} = useStdout();
  const [frame, setFrame] = useState({version: store.version, now: clock()});
  const [selectedKey, setSelectedKey] = useState<string | undefined>(undefined);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [showLog, setShowLog] = useState(false);
  const [detached, setDetached] = useState(false);
  const [size, setSize] = useState({columns: stdout.columns || 100, rows: stdout.rows || 30});

  useEffect(() => {
    // Redraw when events arrived, and once a second anyway so elapsed times and ETAs tick.
    let lastDraw = 0;
    const timer = setInterval(() => {
      const now = clock();
      if (store.version !== frame.version || now - lastDraw >= 1000) {
        lastDraw = now;
        setFrame({version: store.version, now});
      }
    }, frameMs);
    return () => clearInterval(timer);
  }, [store, frame.version, frameMs, clock]);

  // Leave only after the detached frame is on screen, so it stays visible with the reattach command.
  useEffect(() => {
    if (detached) exit();
  }, [detached, exit]);

  useEffect(() => {
    const onResize = () => setSize({columns: stdout.columns || 100, rows: stdout.rows || 30});
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  const view = store.view;
  const rows = visibleRows(view, expanded);
  const found = rows.findIndex((r) => rowKey(r) === selectedKey);
  const selected = found >= 0 ? found : 0;
  const select = (index: number) => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    if (row) setSelectedKey(rowKey(row));
  };
  const toggleGroup = (open?: boolean) => {
    const row = rows[selected];
    const id = row?.type === 'group' ? row.id : row?.type === 'step' && row.depth === 1 ? row.step.ref.id : undefined;
    if (id === undefined) return;
    const next = new Set(expanded);
    const shouldOpen = open ?? !next.has(id);
    if (shouldOpen) next.add(id);
    else {
      next.delete(id);
      setSelectedKey(`group:${id}`);
    }
    setExpanded(next);
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c') onInterrupt();
    else if (input === 'q') {
      setDetached(true);
      onDetach();
    } else if (key.upArrow || input === 'k') select(selected - 1);
    else if (key.downArrow || input === 'j') select(selected + 1);
    else if (key.pageUp) select(selected - 10);
    else if (key.pageDown) select(selected + 10);
    else if (key.return || input === ' ') toggleGroup();
    else if (key.rightArrow) toggleGroup(true);
    else if (key.leftArrow) toggleGroup(false);
    else if (input === 'l') setShowLog(!showLog);
  });

  return (
    <DashboardView
      view={view}
      rows={rows}
      selected={selected}
      now={view.outcome ? (view.endedAt ?? frame.now) : frame.now}
      columns={size.columns}
      height={size.rows}
      showLog={showLog}
      detached={detached}
    />
  );
}
