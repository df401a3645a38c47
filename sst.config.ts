/// <reference path="./.sst/platform/config.d.ts" />
// The AWS shape of ferry (DESIGN.md). Components live in infra/; this file only wires them.
export default $config({
  app(input) {
    return {
      name: "redis-ferry",
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    return {};
  },
});
