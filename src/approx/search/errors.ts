// Bad input to the search library, typed by what is wrong, so callers map it without reading messages.

/** What the input error is about: the problem, the sensitivity matrix, a search option, or a saved checkpoint. */
export type SearchInputSubject = 'problem' | 'sensitivity' | 'options' | 'checkpoint';

export class SearchInputError extends Error {
  constructor(
    readonly subject: SearchInputSubject,
    message: string,
  ) {
    super(message);
    this.name = 'SearchInputError';
  }
}
