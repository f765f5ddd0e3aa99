/** A JSON value: what params, step values, memo entries and checkpoint states are made of. */
export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
