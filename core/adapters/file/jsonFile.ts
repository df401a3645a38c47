/**
 * A JSON document on local disk, read fresh on every operation and replaced with write-to-temp +
 * fsync + rename, so a crash mid-write leaves either the old or the new document, never a torn one
 * (rename(2) is atomic within a filesystem). Operations in this process are serialised; two
 * processes sharing one directory are not supported (the embedded default runs one process).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { FatalError } from "../../errors.ts";

export class JsonFile<T> {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly empty: () => T,
  ) {}

  /** Runs `fn` on the current document; a returned `write` replaces it atomically. */
  transact<R>(fn: (doc: T) => { result: R; write?: T }): Promise<R> {
    const run = this.tail.then(async () => {
      const out = fn(await this.read());
      if (out.write !== undefined) await this.write(out.write);
      return out.result;
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private async read(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return this.empty();
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new FatalError(
        `state file ${this.path} is not valid JSON`,
        "restore it from a backup or delete it to start over (the job will resync)",
        { cause: err },
      );
    }
  }

  private async write(doc: T): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(JSON.stringify(doc));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
