#!/usr/bin/env node
// The `ferry` executable. The sources are TypeScript run through tsx's loader, so a clone works
// right after `npm ci` with no build step.
import { register } from "tsx/esm/api";

register();
await import("../functions/cli.ts");
