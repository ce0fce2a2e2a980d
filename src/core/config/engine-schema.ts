import { z } from 'zod';

/**
 * Where the Worker and Gate containers run (issue 19): the local engine (default), or Docker
 * Swarm replicated jobs behind the run's relay service (docs/scale.md).
 */
export const engineSchema = z
  .strictObject({
    backend: z.enum(['local', 'swarm']).default('local'),
    swarm: z
      .strictObject({
        /** The manager's endpoint (unix://, tcp://, ssh://); default: DOCKER_HOST, else the local engine. */
        host: z.string().min(1).optional(),
        /** TLS for a tcp:// manager: the folder with ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH's layout). */
        certPath: z.string().min(1).optional(),
        tlsVerify: z.boolean().default(true),
        /** Placement constraints of the Worker and Gate jobs, e.g. `node.labels.factory==worker`. */
        constraints: z.array(z.string().min(1)).default([]),
        /** The relay's image; default: built from `worker.image` with the relay bundle (tag `agentic-factory/relay:<worker tag>`). */
        relayImage: z.string().min(1).optional(),
        /** Port the relay listens on inside the run's overlay network. */
        relayPort: z.number().int().min(1024).max(65535).default(8080),
        /** Cap of one transfer through the relay (staging bundle, result archive), MiB. */
        transferMb: z.number().int().min(1).default(512),
        /** How long a job may wait for a node with room before the cycle gives up (seconds). */
        scheduleTimeoutSeconds: z.number().int().min(5).default(300),
      })
      .prefault({}),
  })
  .prefault({})
  .describe('Where Worker and Gate containers run: the local Docker engine, or Docker Swarm jobs behind a relay (docs/scale.md).');
