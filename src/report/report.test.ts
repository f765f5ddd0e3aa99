import {describe, expect, it} from 'vitest';
import {buildReport, type ReportInput} from './build-report.js';
import {loadSection} from './load-section.js';
import {renderHtml} from './render-html.js';
import {renderMarkdown} from './render-markdown.js';
import {sampleReportInput} from '../../test/support/report-sample-input.js';
import {checkSection, SectionError} from './sections.js';
import {countElements, markupProblems} from '../../test/support/markup.js';
import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

function svgsOf(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

describe('markupProblems (the check the other tests rely on)', () => {
  it('finds unbalanced tags, unquoted attributes and bad entities', () => {
    expect(markupProblems('<svg><g></svg>')).not.toEqual([]);
    expect(markupProblems('<svg><rect x=1/></svg>')).not.toEqual([]);
    expect(markupProblems('<svg><text>a & b</text></svg>')).not.toEqual([]);
    expect(markupProblems('<svg><text>a &#38; b</text><rect x="1"/></svg>')).toEqual([]);
  });
});

describe('report', () => {
  const input = sampleReportInput();
  const doc = buildReport(input);
  const html = renderHtml(doc);
  const md = renderMarkdown(doc);

  it('renders every section into one self-contained, well-formed HTML page', () => {
    expect(markupProblems(html, {html: true})).toEqual([]);
    for (const svg of svgsOf(html)) expect(markupProblems(svg)).toEqual([]);
    for (const heading of ['Accuracy', 'Sensitivity', 'Search', 'Finetuning', 'Accelerator', 'Approximated layers']) expect(html).toContain(`<h2>${heading}</h2>`);
    // Five figures: drop and proxy heatmaps, search plot, loss and accuracy curves.
    expect(countElements(html, 'figure')).toBe(5);
    expect(svgsOf(html)).toHaveLength(5);
    // Nothing to fetch: no scripts, stylesheets, images or links; the only URL is the SVG namespace.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    expect(html.match(/https?:\/\/[^"\s]*/g)?.every((url) => url === 'http://www.w3.org/2000/svg')).toBe(true);
    // The search plot shows every evaluated point, and each heatmap one cell per measured (layer, multiplier).
    expect(countElements(html, 'circle', 'point')).toBe(input.search!.points.length + input.finetune!.epochs!.length * 2 + input.finetune!.steps!.length);
    expect(countElements(html, 'rect', 'cell')).toBe(2 * input.sensitivity!.cells.length);
  });

  it('is deterministic', () => {
    expect(renderHtml(buildReport(sampleReportInput()))).toBe(html);
    expect(renderMarkdown(buildReport(sampleReportInput()))).toEqual(md);
  });

  it('shows the same numbers in Markdown as in HTML, with each figure as an SVG file it references', () => {
    for (const block of doc.blocks) {
      if (block.kind !== 'table') continue;
      for (const cell of block.rows.flat()) {
        expect(html).toContain(cell.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`));
        expect(md.markdown).toContain(cell.replace(/\|/g, '\\|'));
      }
    }
    expect(Object.keys(md.figures).sort()).toEqual(['finetune-accuracy.svg', 'finetune-loss.svg', 'search.svg', 'sensitivity-logitKl.svg', 'sensitivity.svg']);
    for (const [file, svg] of Object.entries(md.figures)) {
      expect(md.markdown).toContain(`](figures/${file})`);
      expect(markupProblems(svg)).toEqual([]);
    }
    for (const {label, value} of doc.summary) expect(md.markdown).toContain(`| ${label} | ${value} |`);
  });

  it('puts the baseline, the approximate result and the search outcome in the numbers', () => {
    const best = input.search!.best!;
    expect(md.markdown).toContain(`| approximate | ${(100 * input.accuracy!.approximate!.top1).toFixed(2)}%`);
    expect(md.markdown).toContain(`${(100 * best.accuracy).toFixed(2)}% top-1`);
    expect(doc.summary.map((s) => s.label)).toEqual([
      'float top-1 (95% interval)',
      'finetuned top-1 vs float',
      'power saving, whole model (mac-weighted)',
      'power saving, approximated layers only',
      'approximated layers',
    ]);
  });

  it('gives every accuracy its interval, pairs models scored on the same samples, and advises a sample size', () => {
    // 1000 samples: the first model is right on 0..979, the second on 20..989 (20 only-first, 10 only-second).
    const bits = (from: number, to: number) => {
      const bytes = new Uint8Array(125);
      for (let i = from; i < to; i++) bytes[i >> 3]! |= 1 << (i & 7);
      return {encoding: 'bitset-base64' as const, count: 1000, samples: 's', bits: Buffer.from(bytes).toString('base64')};
    };
    const text = renderMarkdown(
      buildReport({title: 't', accuracy: {int8: {top1: 0.98, count: 1000, correct: bits(0, 980)}, approximate: {top1: 0.97, count: 1000, correct: bits(20, 990)}}}),
    ).markdown;
    expect(text).toContain('| int8 | 98.00% | 96.93% – 98.70% | 1\u2009000 |');
    expect(text).toContain('| int8 → approximate | −1.00 pt | 20 | 10 | 0.099 | not distinguishable at p < 0.05 |');
    expect(text).toContain('Resolving ±0.5 pt needs about 3\u2009012 samples');
    expect(text).toContain('| approximate top-1 vs int8 | 97.00% (−1.00 pt, McNemar p = 0.099) |');
  });

  it('states power for the whole model first, with the approximated layers beside it', () => {
    const whole = doc.summary.find((s) => s.label.startsWith('power saving, whole model'))!.value;
    const layersOnly = doc.summary.find((s) => s.label === 'power saving, approximated layers only')!.value;
    expect(parseFloat(whole)).toBeLessThan(parseFloat(layersOnly));
    const m = input.manifest!.macs!;
    const s = input.synthesis!;
    expect(parseFloat(whole)).toBeCloseTo(100 * (1 - (s.relativePower * m.approximated + (m.total - m.approximated)) / m.total), 1);
    expect(md.markdown).toContain('Top-1 change vs the exact baseline per layer × multiplier, in points (negative = worse)');
  });

  it("shows the search answer's drop on the search images, on the hold-out with its interval, and on the test set, warning when they disagree", () => {
    const candidate = {relativePower: 0.4, searchDrop: 0.012, holdout: {drop: 0.008, samples: 1500, interval: {low: 0.001, high: 0.013}}, verdict: 'within'};
    const confirmation = {confidence: 0.9, maxAccuracyDrop: 0.015, candidates: [candidate], answer: candidate};
    const base: ReportInput = {
      title: 'confirmed',
      accuracy: {int8: {top1: 0.98, count: 10000}, approximate: {top1: 0.971, count: 10000}},
      search: {points: [{accuracy: 0.968, relativePower: 0.4, drop: 0.012, feasible: true}], baselineAccuracy: 0.98, maxAccuracyDrop: 0.015, confirmation},
      searchTestSet: {baseline: 'int8', model: 'approximate'},
    };
    const text = (input: ReportInput) => renderMarkdown(buildReport(input)).markdown;
    const agreeing = text(base);
    expect(agreeing).toContain('Confirmed answer (its drop is within 1.5 pt at the confidence the search was asked for; hold-out interval at 90%): −1.20 pt on the search images, −0.80 pt on 1500 hold-out images (−1.30 pt … −0.10 pt).');
    expect(agreeing).toContain('On the test set (int8 vs approximate, 10000 images): −0.90 pt.');
    expect(agreeing).not.toContain('Warning');
    const beyond = text({...base, accuracy: {int8: {top1: 0.98, count: 10000}, approximate: {top1: 0.962, count: 10000}}});
    expect(beyond).toContain('Warning: the test-set drop exceeds the threshold of 1.5 pt.');
    const outside = text({...base, accuracy: {int8: {top1: 0.98, count: 10000}, approximate: {top1: 0.9799, count: 10000}}});
    expect(outside).toContain('Warning: the test-set drop lies outside the hold-out interval');
    const none = text({...base, search: {...base.search!, confirmation: {...confirmation, answer: undefined, closest: candidate}}});
    expect(none).toContain('No configuration meets the threshold at the requested confidence on the hold-out; the closest: −1.20 pt on the search images');
  });

  it('leaves out absent sections: a report of two evaluations has one table and no figures', () => {
    const only: ReportInput = {title: 'just accuracy', accuracy: {float: {top1: 0.9}, approximate: {top1: 0.85}}};
    const small = buildReport(only);
    expect(small.blocks.filter((b) => b.kind === 'figure')).toEqual([]);
    // The accuracy table, and the paired comparison (not paired: no per-sample correctness).
    expect(small.blocks.filter((b) => b.kind === 'table')).toHaveLength(2);
    expect(renderMarkdown(small).markdown).toContain('| approximate | 85.00% | – | – | – | – | −5.00 pt |');
    expect(renderMarkdown(small).markdown).toContain('| float → approximate | −5.00 pt | – | – | – | not paired (different or unrecorded samples) |');
    expect(markupProblems(renderHtml(buildReport({title: 'empty'})), {html: true})).toEqual([]);
  });

  it('completes a search result without baseline, threshold, front or best from its points', () => {
    const points = [
      {accuracy: 0.97, relativePower: 0.6, drop: 0.01, feasible: true},
      {accuracy: 0.95, relativePower: 0.5, drop: 0.03, feasible: false},
      {accuracy: 0.96, relativePower: 0.8, drop: 0.02, feasible: true},
    ];
    const text = renderMarkdown(buildReport({title: 't', search: {points}})).markdown;
    expect(text).toContain('2 within the accuracy threshold (baseline 98.00% − 2 pt)');
    expect(text).toContain('Best: relative power 0.6');
    // The front: (0.5, 0.95) and (0.6, 0.97); (0.8, 0.96) is dominated.
    expect(text).toMatch(/\| 0\.5 \| 95\.00% [^\n]*\n\| 0\.6 \| 97\.00% [^\n]*\n$/);
  });
});

describe('section checks', () => {
  it('accepts the shapes the producers emit, extra fields included', () => {
    const input = sampleReportInput();
    expect(checkSection('accuracy', {...input.accuracy!.float, warnings: [], input: 'x', output: 'y'}, 'with.accuracy.float')).toBeDefined();
    expect(checkSection('finetune', {arch: 'vit', epochs: [{epoch: 0, loss: 1, trainAccuracy: 0.5, lr: 1e-3, seconds: 2}]}, 'with.finetune')).toBeDefined();
  });

  it('names the input, the file and the field that does not match', () => {
    expect(() => checkSection('accuracy', {top5: 0.9}, 'with.accuracy.float')).toThrow('with.accuracy.float: the value has no "top1"');
    expect(() => checkSection('search', {points: [{accuracy: 0.9, relativePower: 'low'}]}, 'with.search')).toThrow('with.search: field points.0.relativePower must be number');
    expect(() => checkSection('finetune', {loss: [1, 2]}, 'with.finetune')).toThrow(/with\.finetune: .*"epochs"/);
    try {
      checkSection('manifest', {layers: [{node: 'a'}]}, 'with.manifest');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SectionError);
      expect((error as SectionError).hint).toContain("approximate step's manifest");
    }
  });

  it('reads a section from a JSON file and says which file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-report-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify({top1: 0.5}));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({top1: '50%'}));
    writeFileSync(join(dir, 'broken.json'), '{"top1": ');
    mkdirSync(join(dir, 'folder'));
    expect(loadSection('accuracy', 'good.json', 'with.accuracy.a', dir)).toEqual({top1: 0.5});
    expect(() => loadSection('accuracy', 'bad.json', 'with.accuracy.a', dir)).toThrow(`with.accuracy.a (file ${join(dir, 'bad.json')}): field top1 must be number`);
    expect(() => loadSection('accuracy', 'broken.json', 'with.accuracy.a', dir)).toThrow(/not JSON/);
    expect(() => loadSection('accuracy', 'missing.json', 'with.accuracy.a', dir)).toThrow(`with.accuracy.a: cannot read ${join(dir, 'missing.json')}: ENOENT`);
    expect(() => loadSection('accuracy', 'folder', 'with.accuracy.a', dir)).toThrow(/is a directory/);
  });
});
