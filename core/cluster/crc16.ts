/**
 * CRC16-CCITT (XMODEM): poly 0x1021, init 0, no reflection — the checksum Redis Cluster hashes keys
 * with (cluster.c `keyHashSlot` → crc16.c). Table-driven, over a Buffer range so no slice is copied.
 */
const POLY = 0x1021;

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ POLY) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}
