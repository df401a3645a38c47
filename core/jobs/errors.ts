import { FerryError } from "../errors.ts";

/** No job with this id (never created, or deleted). The API answers 404. */
export class JobNotFoundError extends FerryError {
  override readonly name: string = "JobNotFoundError";
  constructor(id: string) {
    super(`no job "${id}"`, "list jobs with GET /v1/jobs (or `ferry jobs list`) to find its id");
  }
}
