import Link from "next/link";

/** The way back to the form from a job or a group. */
export function MakeAnotherLink() {
  return (
    <Link
      href="/"
      className="text-sm font-medium text-brand-700 underline-offset-4 hover:underline dark:text-indigo-300"
    >
      Make another video
    </Link>
  );
}
