import { describe, expect, it } from 'vitest';
import { answerFor, countTokens } from './answer.js';

describe('answerFor', () => {
  it('gives the same answer to the same provider and question', () => {
    expect(answerFor('alpha', 'What is Weft?')).toBe(answerFor('alpha', 'What is Weft?'));
  });

  it('names the provider and ends with a reference to the question', () => {
    const answer = answerFor('gamma', 'Is it raining?');
    expect(answer).toMatch(/^Gamma says: .+\. \[ref [0-9a-f]{8}\]$/);
    expect(answerFor('alpha', 'Is it raining?').slice(-15)).toBe(answer.slice(-15));
  });

  it('answers different questions and different providers differently', () => {
    const answers = new Set<string>();
    for (let i = 0; i < 200; i++) answers.add(answerFor('alpha', `question ${i}`));
    expect(answers.size).toBe(200);
    expect(answerFor('alpha', 'q')).not.toBe(answerFor('beta', 'q'));
  });

  it('keeps answers stable across releases', () => {
    // A changed answer breaks every recorded cache fixture downstream: change this only on purpose.
    expect(answerFor('alpha', 'What is Weft?')).toMatchInlineSnapshot(`"Alpha says: On balance, the answer improves with the token count, when nothing else fails. Roughly speaking, the budget scales with the error budget, so measure it first. [ref 9aa9c896]"`);
  });
});

describe('countTokens', () => {
  it('counts one token per four characters, rounded up', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('a')).toBe(1);
    expect(countTokens('abcd')).toBe(1);
    expect(countTokens('abcde')).toBe(2);
    expect(countTokens('hello world')).toBe(3);
  });
});
