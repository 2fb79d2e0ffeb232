import { deleteJob } from "@/lib/jobs/adapters/actions";
import { ownerActionResponse } from "@/lib/jobs/adapters/owner-action-response";

export const dynamic = "force-dynamic";

// DELETE /api/jobs/[id] - delete a job of this browser with its files (a running job is canceled first); 204
export async function DELETE(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return ownerActionResponse(req, () => deleteJob(id));
}
