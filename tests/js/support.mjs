// What every test file needs: the dev server's base URL (scripts/test sets DEV_BASE_URL) and the
// prompt pieces the emulator reads (README, "The Bedrock emulator"): `[[call:NAME {args}]]` makes
// the model call a tool; after the tool result it answers `Tool results: name=NAME -> RESULT`;
// a plain prompt is echoed as `You said: PROMPT`.
const url = process.env.DEV_BASE_URL;
if (!url) {
  throw new Error('DEV_BASE_URL is not set: run these tests through scripts/test, which starts the dev server');
}
export const BASE = url.replace(/\/+$/, '');

export const call = (name, args) => `[[call:${name} ${JSON.stringify(args)}]]`;
