// How a hint of the engine writes an axx command for the user to paste. The CLI passes one that repeats
// how the user invoked axx ("npx axx", "node bin/axx.js"), which the engine cannot know; without one, `axx`.
export type HintCommand = (args: readonly string[]) => string;

export const plainAxx: HintCommand = (args) => ['axx', ...args].join(' ');
