import { fnv1a32, hex8 } from './internal/hash.js';
import { seededRandom } from '@weft/core';

const OPENERS = ['In short,', 'Put simply,', 'As far as I can tell,', 'On balance,', 'Briefly,', 'To be precise,', 'In practice,', 'Roughly speaking,'];
const SUBJECTS = ['the request', 'the workflow', 'the cache', 'the budget', 'the retry policy', 'the circuit', 'the queue', 'the answer'];
const VERBS = ['depends on', 'improves with', 'is bounded by', 'settles after', 'follows from', 'scales with', 'waits for', 'trades off against'];
const OBJECTS = ['a steady latency', 'the deadline', 'a warm cache', 'the error budget', 'careful backoff', 'the slowest step', 'a second opinion', 'the token count'];
const CLOSERS = ['and that is usually enough', 'unless the provider is down', 'when nothing else fails', 'within the usual limits', 'so measure it first', 'as the metrics will show'];

function pick(words: readonly string[], random: () => number): string {
  return words[Math.floor(random() * words.length)] ?? '';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The deterministic answer a simulated provider gives to a question: one to three sentences chosen
 * by a hash of the provider's name and the question, naming the provider and ending with the
 * question's hash as a reference. Same provider and question, same answer, in every process.
 *
 * @example
 * ```ts
 * answerFor('alpha', 'What is Weft?');
 * // 'Alpha says: On balance, the answer improves with the token count, when nothing else fails. Roughly speaking, the budget scales with the error budget, so measure it first. [ref 9aa9c896]'
 * ```
 */
export function answerFor(provider: string, question: string): string {
  const hash = fnv1a32(`${provider}\u0000${question}`);
  const random = seededRandom(hash);
  const count = 1 + Math.floor(random() * 3);
  const sentences: string[] = [];
  for (let i = 0; i < count; i++) {
    sentences.push(`${pick(OPENERS, random)} ${pick(SUBJECTS, random)} ${pick(VERBS, random)} ${pick(OBJECTS, random)}, ${pick(CLOSERS, random)}.`);
  }
  return `${capitalise(provider)} says: ${sentences.join(' ')} [ref ${hex8(fnv1a32(question))}]`;
}

/**
 * Simulated token count of a text: one token per four characters, rounded up (0 for empty text).
 * A chat completion's `prompt_tokens` is the sum over its messages' text, `completion_tokens` that
 * of the answer.
 *
 * @example
 * ```ts
 * countTokens('hello world'); // 3
 * ```
 */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
