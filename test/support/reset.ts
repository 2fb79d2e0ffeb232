import { resetEnginesForTests } from "@/lib/engines";
import { resetLocalSecretForTests } from "@/lib/webhooks/local-secret";

/** Drops every cache built from the environment, for tests that change it. */
export function resetEngineCaches(): void {
  resetEnginesForTests();
  resetLocalSecretForTests();
}
