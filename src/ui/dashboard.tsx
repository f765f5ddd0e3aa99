// The live dashboard: keys go through the pure reducer in dashboard-state.ts, a throttled redraw loop
// draws DashboardView from the store's current view.
import React, {useCallback, useEffect, useReducer, useState} from 'react';
import {useApp, useInput, useStdout, type Key} from 'ink';
import {DashboardView} from './dashboard-view.js';
import {initialDashboardState, reduceDashboard, selectedIndex, type DashboardKey, type DashboardState} from './dashboard-state.js';
import {visibleRows} from './rows.js';
import type {RunViewStore} from './view-store.js';

export interface DashboardProps {
  store: RunViewStore;
  /** q: stop drawing; the run goes on. */
  onDetach: () => void;
  /** Ctrl-C: ask the run to stop cleanly (finished steps stay cached; the resume command is printed). */
  onInterrupt: () => void;
  /** Per step kind, what an interrupted run keeps of a running step (see DashboardViewProps). */
  interruptNotes?: Readonly<Record<string, string>>;
  /** Redraw interval; ~10 frames per second at most. */
  frameMs?: number;
  clock?: () => number;
}

/** The dashboard key an ink keypress stands for, if any (Ctrl-C and q are handled apart: they call out). */
export function dashboardKey(input: string, key: Key): DashboardKey | undefined {
  if (key.upArrow || input === 'k') return 'up';
  if (key.downArrow || input === 'j') return 'down';
  if (key.pageUp) return 'page-up';
  if (key.pageDown) return 'page-down';
  if (key.return || input === ' ') return 'toggle';
  if (key.rightArrow) return 'expand';
  if (key.leftArrow) return 'collapse';
  if (input === 'l') return 'log';
  if (input === 'f') return 'follow';
  return undefined;
}

export function Dashboard({store, onDetach, onInterrupt, interruptNotes, frameMs = 100, clock = Date.now}: DashboardProps): React.ReactElement {
  const {exit} = useApp();
  const {stdout} = useStdout();
  const [frame, setFrame] = useState({version: store.version, now: clock()});
  // Each key is reduced against the store's view at that moment, never against a stale frame's rows.
  const reducer = useCallback((state: DashboardState, key: DashboardKey) => reduceDashboard(state, key, store.view), [store]);
  const [state, dispatch] = useReducer(reducer, undefined, initialDashboardState);
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
    if (state.detached) exit();
  }, [state.detached, exit]);

  useEffect(() => {
    const onResize = () => setSize({columns: stdout.columns || 100, rows: stdout.rows || 30});
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  useInput((input, key) => {
    if (key.ctrl && input === 'c') onInterrupt();
    else if (input === 'q') {
      dispatch('detach');
      onDetach();
    } else {
      const action = dashboardKey(input, key);
      if (action !== undefined) dispatch(action);
    }
  });

  const view = store.view;
  const rows = visibleRows(view, state.expanded);
  return (
    <DashboardView
      view={view}
      rows={rows}
      selected={selectedIndex(view, rows, state)}
      now={view.outcome ? (view.endedAt ?? frame.now) : frame.now}
      columns={size.columns}
      height={size.rows}
      showLog={state.showLog}
      detached={state.detached}
      interruptNotes={interruptNotes}
    />
  );
}
