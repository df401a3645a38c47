/**
 * The advice logged when the source answers +FULLRESYNC to a resume attempt, as a pure function of
 * observed numbers (the end-to-end cases with real servers are in backlog.test.ts).
 */
import { describe, expect, it } from "vitest";
import { explainFullResync, type FullResyncFacts } from "../../core/replication/resyncAdvice.ts";

const REPLID = "a".repeat(40);
const MB = 1024 * 1024;

function facts(overrides: Partial<FullResyncFacts> = {}): FullResyncFacts {
  return {
    asked: { replid: REPLID, offset: 1000 },
    answered: { replid: REPLID, offset: 1000 + 10 * MB },
    replid2: null,
    backlogBytes: MB,
    outputBufferLimit: { hard: 256 * MB, soft: 64 * MB, softSeconds: 60 },
    writeBytesPerSecond: 0,
    outageSeconds: 20,
    closedBySource: false,
    unreadAtLoss: null,
    ...overrides,
  };
}

describe("explainFullResync", () => {
  it("backlog too small: rate from the outage, size = max(300 s of writes, 2× missed)", () => {
    // 10 MiB in 20 s = 0.5 MiB/s → 300 s = 150 MiB (more than 2 × 10 MiB).
    const e = explainFullResync(facts());
    expect(e.reason).toBe(
      "the source's backlog (repl-backlog-size 1.0 MiB) no longer holds offset 1001: 10.0 MiB were written during the 20.0 s ferry was away (512.0 KiB/s)",
    );
    expect(e.backlogSize).toBe("150mb");
    expect(e.advice).toMatch(/^raise it on the source: CONFIG SET repl-backlog-size 150mb /);
    expect(e.outputBufferLimit).toBeUndefined();
  });

  it("a big gap in little time: twice what was missed wins over 300 s of a slow rate", () => {
    const e = explainFullResync(facts({ outageSeconds: 3000 })); // 10 MiB over 50 min
    expect(e.backlogSize).toBe("20mb");
  });

  it("after a process restart (outage unknown) uses the sampled write rate", () => {
    const e = explainFullResync(facts({ outageSeconds: null, writeBytesPerSecond: MB }));
    expect(e.reason).toMatch(/written since ferry's last applied offset \(1\.0 MiB\/s\)/);
    expect(e.backlogSize).toBe("300mb");
  });

  it("CONFIG refused: names the setting without its current value", () => {
    const e = explainFullResync(facts({ backlogBytes: null, outputBufferLimit: null, closedBySource: true }));
    expect(e.reason).toMatch(/^the source's backlog \(repl-backlog-size\) no longer holds/);
    expect(e.outputBufferLimit).toBeUndefined();
  });

  it("dropped by the source: also advises client-output-buffer-limit replica", () => {
    const e = explainFullResync(
      facts({
        closedBySource: true,
        outputBufferLimit: { hard: 512 * 1024, soft: 256 * 1024, softSeconds: 1 },
        unreadAtLoss: 100 * MB,
      }),
    );
    expect(e.outputBufferLimit).toBe("replica 400mb 200mb 60");
    expect(e.advice).toContain('CONFIG SET client-output-buffer-limit "replica 400mb 200mb 60"');
    expect(e.advice).toContain("client-output-buffer-limit replica 512.0 KiB 256.0 KiB 1");
  });

  it("replid matches replid2 (after a failover): still a backlog question", () => {
    const e = explainFullResync(
      facts({ answered: { replid: "b".repeat(40), offset: 1000 + MB }, replid2: REPLID }),
    );
    expect(e.backlogSize).toBeDefined();
  });

  it("another history: no backlog size helps", () => {
    const e = explainFullResync(facts({ answered: { replid: "c".repeat(40), offset: 0 } }));
    expect(e.reason).toMatch(/replication history changed/);
    expect(e.backlogSize).toBeUndefined();
    expect(e.advice).toMatch(/persistence/);
  });
});
