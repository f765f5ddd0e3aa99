// Finetuning (or training) curves: loss and accuracy against epochs, or against optimiser steps when
// the history has them, plus the per-epoch numbers as a table.
import {decimal, percent, type Block} from '../document.js';
import type {FinetuneSection} from '../sections.js';
import {lineChartSvg, type LineSeries} from '../svg/line-chart.js';

function series(name: string, values: readonly (readonly [number, number | undefined])[]): LineSeries[] {
  const points = values.filter((v): v is readonly [number, number] => v[1] !== undefined).map(([x, y]) => ({x, y}));
  return points.length > 0 ? [{name, points}] : [];
}

export function finetuneBlocks(history: FinetuneSection): Block[] {
  const epochs = history.epochs ?? [];
  const steps = history.steps ?? [];
  // Loss is finest per step; accuracy is usually measured per epoch (train and eval).
  const lossByStep = steps.length > 0;
  const loss = lossByStep ? series('loss', steps.map((s) => [s.step, s.loss])) : series('loss', epochs.map((e) => [e.epoch, e.loss]));
  const epochAccuracy = [...series('train accuracy', epochs.map((e) => [e.epoch, e.trainAccuracy])), ...series('eval accuracy', epochs.map((e) => [e.epoch, e.evalAccuracy]))];
  const accuracyByStep = epochAccuracy.length === 0;
  const accuracy = accuracyByStep ? series('accuracy', steps.map((s) => [s.step, s.accuracy])) : epochAccuracy;
  const lossX = lossByStep ? 'step' : 'epoch';
  const accuracyX = accuracyByStep ? 'step' : 'epoch';
  const blocks: Block[] = [
    {kind: 'heading', level: 2, text: 'Finetuning'},
    {kind: 'figure', name: 'finetune-loss', caption: `Training loss per ${lossX}`, svg: lineChartSvg(loss, {title: 'training loss', xLabel: lossX, yLabel: 'loss'})},
  ];
  if (accuracy.length > 0) {
    blocks.push({kind: 'figure', name: 'finetune-accuracy', caption: `Accuracy per ${accuracyX}`, svg: lineChartSvg(accuracy, {title: 'accuracy', xLabel: accuracyX, yLabel: 'top-1'})});
  }
  if (epochs.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['epoch', 'loss', 'train top-1', 'eval top-1'],
      align: ['right', 'right', 'right', 'right'],
      rows: epochs.map((e) => [String(e.epoch), decimal(e.loss), e.trainAccuracy === undefined ? '–' : percent(e.trainAccuracy), e.evalAccuracy === undefined ? '–' : percent(e.evalAccuracy)]),
    });
  }
  return blocks;
}
