/**
 * Reusable slabs for the transaction buffers the writer builds (one per MULTI…EXEC, ~1 MiB each
 * during a snapshot). Allocated fresh, they were ferry's largest stream of ArrayBuffers: ~400 MiB
 * through malloc for a 400 MiB RDB. Each lives a few milliseconds, but its memory goes back to
 * glibc only at V8's next GC, and glibc keeps much of it: once a freed block of a few MB has raised
 * its mmap threshold, buffers of that size come from the heap, whose free middle is never returned
 * to the kernel. The peak RSS of the big-key benchmark grew with it (bench/memory-repeat.ts). A
 * slab is handed back when the socket has taken its bytes, so a batch writer in steady state
 * allocates nothing here.
 */
export class SlabPool {
  private readonly free: Buffer[] = [];
  /** Slabs handed out and not yet given back: a second give() of one must not pool it twice. */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /**
   * @param slabBytes size of every slab; a request bigger than that gets its own buffer.
   * @param keep slabs kept for reuse at most (the writer's in-flight transactions, plus one).
   */
  constructor(
    private readonly slabBytes: number,
    private readonly keep: number,
  ) {}

  /** A buffer of exactly `size` bytes, uninitialised: the start of a slab when one fits. */
  take(size: number): Buffer {
    if (size > this.slabBytes) return Buffer.allocUnsafe(size);
    const slab = this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
    this.lent.add(slab.buffer);
    return slab.subarray(0, size);
  }

  /**
   * Returns what take() gave, once nothing reads it any more. Buffers that are not lent slabs
   * (bigger requests, a second give) are left to the GC.
   */
  give(buffer: Buffer): void {
    const whole = buffer.buffer;
    if (!this.lent.delete(whole)) return;
    if (this.free.length < this.keep) this.free.push(Buffer.from(whole));
  }
}
