/** Big-endian conversions between bigint and bytes, as every device boundary needs them (they live in core/encoding). */

export { bigintToBytes, byteLength, bytesToBigint } from '../encoding/bytes.js';
