/**
 * How p11-kit encodes an attribute's value, by attribute type: the client's fixed
 * table (`map_attribute_to_value_type` in p11-kit/rpc-message.c). Both ends must
 * agree or the stream desynchronises, so this is that table, not our own choice:
 * booleans one byte, CK_ULONG-typed attributes a u64, templates nested arrays,
 * ALLOWED_MECHANISMS a list of u64s, dates a byte array, everything else a byte array.
 * Newer clients also list IBM vendor attributes (CKA_IBM_*); this token has none,
 * and they are not listed here: a template naming one fails to parse and closes
 * that connection.
 */

export type AttributeValueType = 'byte' | 'ulong' | 'attributes' | 'mechanisms' | 'date' | 'bytes';

const BYTE = [
  0x1, // TOKEN
  0x2, // PRIVATE
  0x86, // TRUSTED
  0x103, // SENSITIVE
  0x104, // ENCRYPT
  0x105, // DECRYPT
  0x106, // WRAP
  0x107, // UNWRAP
  0x108, // SIGN
  0x109, // SIGN_RECOVER
  0x10a, // VERIFY
  0x10b, // VERIFY_RECOVER
  0x10c, // DERIVE
  0x162, // EXTRACTABLE
  0x163, // LOCAL
  0x164, // NEVER_EXTRACTABLE
  0x165, // ALWAYS_SENSITIVE
  0x170, // MODIFIABLE
  0x171, // COPYABLE
  0x200, // SECONDARY_AUTH
  0x202, // ALWAYS_AUTHENTICATE
  0x210, // WRAP_WITH_TRUSTED
  0x301, // RESET_ON_INIT
  0x302, // HAS_RESET
  0x405, // COLOR
];

const ULONG = [
  0x0, // CLASS
  0x80, // CERTIFICATE_TYPE
  0x87, // CERTIFICATE_CATEGORY
  0x88, // JAVA_MIDP_SECURITY_DOMAIN
  0x100, // KEY_TYPE
  0x121, // MODULUS_BITS
  0x133, // PRIME_BITS
  0x134, // SUB_PRIME_BITS
  0x160, // VALUE_BITS
  0x161, // VALUE_LEN
  0x166, // KEY_GEN_MECHANISM
  0x201, // AUTH_PIN_FLAGS
  0x300, // HW_FEATURE_TYPE
  0x400, // PIXEL_X
  0x401, // PIXEL_Y
  0x402, // RESOLUTION
  0x403, // CHAR_ROWS
  0x404, // CHAR_COLUMNS
  0x406, // BITS_PER_PIXEL
  0x500, // MECHANISM_TYPE
];

const TABLE = new Map<number, AttributeValueType>([
  ...BYTE.map((t) => [t, 'byte'] as const),
  ...ULONG.map((t) => [t, 'ulong'] as const),
  [0x40000211, 'attributes'], // WRAP_TEMPLATE
  [0x40000212, 'attributes'], // UNWRAP_TEMPLATE
  [0x40000213, 'attributes'], // DERIVE_TEMPLATE
  [0x40000600, 'mechanisms'], // ALLOWED_MECHANISMS
  [0x110, 'date'], // START_DATE
  [0x111, 'date'], // END_DATE
]);

/** The value encoding of attribute `type` (default: byte array, as the client assumes). */
export function attributeValueType(type: number): AttributeValueType {
  return TABLE.get(type) ?? 'bytes';
}
