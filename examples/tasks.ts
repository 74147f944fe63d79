// Tasks live in a module of their own, so that workers in threads, child
// processes and other machines can load them by name.
import { defineTask } from "omniq";

export const multiply = defineTask("multiply", async (x: number, y: number) => x * y);

export const greet = defineTask(
  { name: "greet", retries: 2, timeout: "5s" },
  (name: string) => `hello, ${name}`,
);
