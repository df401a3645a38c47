/** Wire samples of every RESP2/RESP3 frame type with the value the decoder must produce. */
import {
  RespDouble,
  RespErrorReply,
  RespMap,
  RespPush,
  RespSet,
  RespSimpleString,
  type RespValue,
  RespVerbatim,
} from "../../core/resp/types.ts";

export interface FrameCase {
  name: string;
  wire: Buffer;
  value: RespValue;
  attributes?: RespMap;
}

const b = (text: string): Buffer => Buffer.from(text, "latin1");
const binary = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x0d]);

export const FRAME_CASES: FrameCase[] = [
  { name: "simple string", wire: b("+OK\r\n"), value: new RespSimpleString("OK") },
  { name: "error", wire: b("-ERR unknown command\r\n"), value: new RespErrorReply("ERR unknown command") },
  { name: "integer", wire: b(":1000\r\n"), value: 1000 },
  { name: "negative integer", wire: b(":-42\r\n"), value: -42 },
  { name: "64-bit integer", wire: b(":9223372036854775807\r\n"), value: 9223372036854775807n },
  { name: "bulk string", wire: b("$5\r\nhello\r\n"), value: b("hello") },
  {
    name: "binary bulk string",
    wire: Buffer.concat([b("$7\r\n"), binary, b("\r\n")]),
    value: binary,
  },
  { name: "empty bulk string", wire: b("$0\r\n\r\n"), value: b("") },
  { name: "null bulk (RESP2)", wire: b("$-1\r\n"), value: null },
  { name: "null array (RESP2)", wire: b("*-1\r\n"), value: null },
  { name: "empty array", wire: b("*0\r\n"), value: [] },
  {
    name: "array of bulks",
    wire: b("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n"),
    value: [b("SET"), b("k"), b("vv")],
  },
  {
    name: "nested array",
    wire: b("*2\r\n*2\r\n:1\r\n$1\r\na\r\n*0\r\n"),
    value: [[1, b("a")], []],
  },
  { name: "null (RESP3)", wire: b("_\r\n"), value: null },
  { name: "double", wire: b(",3.14\r\n"), value: new RespDouble(3.14) },
  { name: "double exponent", wire: b(",-1.5e3\r\n"), value: new RespDouble(-1500) },
  { name: "double inf", wire: b(",inf\r\n"), value: new RespDouble(Number.POSITIVE_INFINITY) },
  { name: "boolean true", wire: b("#t\r\n"), value: true },
  { name: "boolean false", wire: b("#f\r\n"), value: false },
  {
    name: "big number",
    wire: b("(3492890328409238509324850943850943825024385\r\n"),
    value: 3492890328409238509324850943850943825024385n,
  },
  {
    name: "blob error",
    wire: b("!21\r\nSYNTAX invalid syntax\r\n"),
    value: new RespErrorReply("SYNTAX invalid syntax"),
  },
  {
    name: "verbatim string",
    wire: b("=15\r\ntxt:Some string\r\n"),
    value: new RespVerbatim("txt", b("Some string")),
  },
  {
    name: "map",
    wire: b("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n"),
    value: new RespMap([
      [new RespSimpleString("first"), 1],
      [b("second"), false],
    ]),
  },
  { name: "set", wire: b("~2\r\n:1\r\n$1\r\nx\r\n"), value: new RespSet([1, b("x")]) },
  {
    name: "push",
    wire: b(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    value: new RespPush([b("message"), b("ch"), b("hi")]),
  },
  {
    name: "top-level attribute",
    wire: b("|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n"),
    value: b("val"),
    attributes: new RespMap([[new RespSimpleString("ttl"), 3600]]),
  },
  {
    name: "nested attribute is skipped",
    wire: b("*2\r\n:1\r\n|1\r\n+a\r\n:2\r\n:3\r\n"),
    value: [1, 3],
  },
];
