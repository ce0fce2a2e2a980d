/** Webview front-end entry. Talks to the extension only through src/shared/protocol.ts. */
export {};
