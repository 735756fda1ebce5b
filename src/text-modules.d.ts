// wrangler.toml's [[rules]] bundles this file as a Text module: its default export is the file's text.
declare module '@scalar/api-reference/dist/browser/standalone.js' {
  const text: string;
  export default text;
}
