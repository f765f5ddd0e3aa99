// Expected failures of dataset code (missing file, wrong magic number, mismatched counts). Library code
// knows no pipelines, so it names the file at fault and a hint; step kinds turn this into a StepError.

export class DataError extends Error {
  constructor(
    message: string,
    /** The file or directory at fault, when there is one. */
    readonly file?: string,
    readonly hint?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
    this.name = 'DataError';
  }
}
