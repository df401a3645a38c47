/** URL parsing, client factory and topology discovery shared by every command that talks to Redis. */
export {
  type ConnectOptions,
  connectCluster,
  connectRedis,
  describeConnectError,
  redisOptions,
  withTls,
} from "./client.ts";
export {
  type ClusterMaster,
  detectTopology,
  parseClusterNodes,
  parseClusterShards,
  type Topology,
} from "./topology.ts";
export {
  type EndpointRole,
  formatAddress,
  type ParsedRedisUrl,
  type ParseUrlOptions,
  parseRedisUrl,
  redactUrl,
} from "./url.ts";
