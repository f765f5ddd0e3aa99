import {describe, expect, it} from 'vitest';
import {inputMismatch} from './input-expectation.js';

const raw = {description: '(x/255 - 0)/1', mean: [0], std: [1]};
const mnist = {description: '(x/255 - 0.1307)/0.3081', mean: [0.1307], std: [0.3081]};

describe('inputMismatch', () => {
  it('accepts [0, 1] pixels for a model that normalises itself, and flags normalised ones', () => {
    const shipped = JSON.stringify({range: [0, 1], layout: 'NCHW'});
    expect(inputMismatch(shipped, raw)).toBeUndefined();
    expect(inputMismatch(shipped, {description: 'none'})).toBeUndefined();
    expect(inputMismatch(shipped, mnist)).toMatch(/expects pixels in \[0, 1\].*load it with transform \{mean: 0, std: 1\}/);
  });

  it('compares a trained model\'s recorded normalisation with the dataset\'s', () => {
    expect(inputMismatch(JSON.stringify(mnist), {...mnist, description: 'same'})).toBeUndefined();
    expect(inputMismatch(JSON.stringify(mnist), raw)).toMatch(/trained on data normalised with mean \[0.1307\] \/ std \[0.3081\]/);
  });

  it('stays quiet without (readable) metadata', () => {
    expect(inputMismatch(undefined, mnist)).toBeUndefined();
    expect(inputMismatch('{not json', mnist)).toBeUndefined();
  });
});
