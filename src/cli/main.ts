#!/usr/bin/env node
// The `omniq` command. Everything it does is in program.ts and the command
// modules; this file only runs it and sets the exit code.
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2));
process.exitCode = code;

// Whatever a backend's client may leave open must not keep a stopped worker alive.
setTimeout(() => process.exit(code), 2_000).unref();
