import { json } from '@sveltejs/kit';

/** Returns the health payload polled by liveness checks. */
export function GET() {
  return json({ status: 'ok', service: 'front' });
}
