// Holds the current RunView for live renderers: events go in as fast as they come, views read a snapshot
// when they redraw (throttled), so a burst of progress events costs one frame, not one per event.
import type {AxxEvent} from '../engine/events.js';
import {emptyRunView, reduceRunView, type RunView} from './run-view.js';

export class RunViewStore {
  #view: RunView = emptyRunView();
  #version = 0;

  apply(event: AxxEvent): void {
    this.#view = reduceRunView(this.#view, event);
    this.#version++;
  }

  get view(): RunView {
    return this.#view;
  }

  /** Increments on every applied event; a renderer redraws only when it changed. */
  get version(): number {
    return this.#version;
  }
}
