import Link from "next/link";
import { Button, buttonClasses } from "@/components/ui/button";

/** The way out of an error page: try again, or go back to the home page. */
export function RetryOrStart({ retry, label = "Try again" }: { retry: () => void; label?: string }) {
  return (
    <div className="flex flex-wrap justify-center gap-3">
      <Button onClick={() => retry()}>{label}</Button>
      <Link href="/" className={buttonClasses("secondary")}>
        Back to the start
      </Link>
    </div>
  );
}
