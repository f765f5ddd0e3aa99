// The expected failures of costing hardware — input the user can fix (a manifest, a template, a netlist,
// histograms), a tool that is not installed, or a tool rejecting the input — as one type, so a caller
// maps them to its own errors by type. Any other exception from src/hw is a bug.
export class HwError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HwError';
  }
}
