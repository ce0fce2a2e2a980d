/**
 * The only "key" an agent ever sees. CLIs refuse to start without one, so they get this; the
 * gateway drops it and injects the real key on the host side.
 */
export const PLACEHOLDER_KEY = 'factory-gateway-placeholder-key';
