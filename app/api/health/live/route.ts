export const dynamic = "force-dynamic";

// GET /api/health/live - 204 while this process answers HTTP at all (a liveness probe): no store, no engine.
// /api/health is the readiness check. The benchmark also uses this as its empty route.
export function GET() {
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
