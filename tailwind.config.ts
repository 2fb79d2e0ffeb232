import type { Config } from "tailwindcss";

// Loaded by app/globals.css through Tailwind 4's `@config`; dark mode is a custom variant there.
const config: Config = {
  content: ["./app/**/*.{ts,tsx}", "./components/**/*.{ts,tsx}"],
  theme: {
    extend: {
      colors: {
        brand: { 50: "#eef2ff", 100: "#e0e7ff", 500: "#6366f1", 600: "#4f46e5", 700: "#4338ca", 800: "#3730a3" },
      },
    },
  },
};

export default config;
