/**
 * Diskless full resync sends `$EOF:<40 random bytes>\r\n<rdb><same 40 bytes>` — the payload size is
 * unknown up front, so the end is found by the mark. The RDB may end exactly at a read boundary, or
 * the mark may straddle two reads: the last 39 bytes are held back until the next read tells whether
 * they are payload or the start of the mark (Redis' replica compares the last 40 bytes of each read).
 */
export const EOF_MARK_LENGTH = 40;

export interface EofScan {
  /** Payload bytes now known not to belong to the mark, in order. */
  payload: Buffer[];
  /** Bytes of the scanned view consumed (less than its length only once the mark is found). */
  consumed: number;
  done: boolean;
}

export class EofMarkScanner {
  private held: Buffer = Buffer.alloc(0);

  constructor(private readonly mark: Buffer) {
    if (mark.length !== EOF_MARK_LENGTH) throw new RangeError(`EOF mark must be ${EOF_MARK_LENGTH} bytes`);
  }

  scan(view: Buffer): EofScan {
    const mark = this.mark;
    const held = this.held;
    if (held.length > 0) {
      // A mark that starts in the held bytes and ends in this view.
      const joint = Buffer.concat([held, view.subarray(0, EOF_MARK_LENGTH)]);
      const at = joint.indexOf(mark);
      if (at >= 0 && at < held.length) {
        this.held = Buffer.alloc(0);
        return {
          payload: nonEmpty([held.subarray(0, at)]),
          consumed: at + EOF_MARK_LENGTH - held.length,
          done: true,
        };
      }
    }
    const at = view.indexOf(mark);
    if (at >= 0) {
      this.held = Buffer.alloc(0);
      return { payload: nonEmpty([held, view.subarray(0, at)]), consumed: at + EOF_MARK_LENGTH, done: true };
    }
    const keep = Math.min(EOF_MARK_LENGTH - 1, held.length + view.length);
    if (view.length >= keep) {
      // Copy the tail so holding it does not pin the whole read buffer.
      this.held = Buffer.from(view.subarray(view.length - keep));
      return {
        payload: nonEmpty([held, view.subarray(0, view.length - keep)]),
        consumed: view.length,
        done: false,
      };
    }
    const joint = Buffer.concat([held, view]);
    this.held = joint.subarray(joint.length - keep);
    return {
      payload: nonEmpty([joint.subarray(0, joint.length - keep)]),
      consumed: view.length,
      done: false,
    };
  }
}

function nonEmpty(parts: Buffer[]): Buffer[] {
  return parts.filter((part) => part.length > 0);
}
