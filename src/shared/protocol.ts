/** Messages between the webview and the extension host (discriminated unions, zod-validated). */
export {};
