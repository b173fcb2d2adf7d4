/**
 * The RPC call table of p11-kit 0.24.1 (p11-kit/rpc-message.h): each call's id,
 * name and the request and reply signatures both ends check. Calls this token
 * serves carry their signatures; every other id is answered
 * CKR_FUNCTION_NOT_SUPPORTED without reading its arguments. 0.26 appends calls
 * from id 66 (C_LoginUser, C_SessionCancel, the message-based calls, …): also
 * not supported.
 */

export interface CallSpec {
  readonly id: number;
  readonly name: string;
  /** Request signature (what follows call id and signature in the body). */
  readonly request: string;
  /** Reply signature. */
  readonly reply: string;
}

/** The error reply: call id 0, signature `u`, the CK_RV. */
export const ERROR_CALL: CallSpec = { id: 0, name: 'ERROR', request: '', reply: 'u' };

const SERVED: readonly CallSpec[] = [
  { id: 1, name: 'C_Initialize', request: 'ayyay', reply: '' },
  { id: 2, name: 'C_Finalize', request: '', reply: '' },
  { id: 3, name: 'C_GetInfo', request: '', reply: 'vsusv' },
  { id: 4, name: 'C_GetSlotList', request: 'yfu', reply: 'au' },
  { id: 5, name: 'C_GetSlotInfo', request: 'u', reply: 'ssuvv' },
  { id: 6, name: 'C_GetTokenInfo', request: 'u', reply: 'ssssuuuuuuuuuuuvvs' },
  { id: 7, name: 'C_GetMechanismList', request: 'ufu', reply: 'au' },
  { id: 8, name: 'C_GetMechanismInfo', request: 'uu', reply: 'uuu' },
  { id: 10, name: 'C_OpenSession', request: 'uu', reply: 'u' },
  { id: 11, name: 'C_CloseSession', request: 'u', reply: '' },
  { id: 12, name: 'C_CloseAllSessions', request: 'u', reply: '' },
  { id: 13, name: 'C_GetSessionInfo', request: 'u', reply: 'uuuu' },
  { id: 18, name: 'C_Login', request: 'uuay', reply: '' },
  { id: 19, name: 'C_Logout', request: 'u', reply: '' },
  { id: 24, name: 'C_GetAttributeValue', request: 'uufA', reply: 'aAu' },
  { id: 26, name: 'C_FindObjectsInit', request: 'uaA', reply: '' },
  { id: 27, name: 'C_FindObjects', request: 'ufu', reply: 'au' },
  { id: 28, name: 'C_FindObjectsFinal', request: 'u', reply: '' },
  { id: 33, name: 'C_DecryptInit', request: 'uMu', reply: '' },
  { id: 34, name: 'C_Decrypt', request: 'uayfy', reply: 'ay' },
  { id: 42, name: 'C_SignInit', request: 'uMu', reply: '' },
  { id: 43, name: 'C_Sign', request: 'uayfy', reply: 'ay' },
  { id: 44, name: 'C_SignUpdate', request: 'uay', reply: '' },
  { id: 45, name: 'C_SignFinal', request: 'ufy', reply: 'ay' },
  { id: 48, name: 'C_VerifyInit', request: 'uMu', reply: '' },
  { id: 49, name: 'C_Verify', request: 'uayay', reply: '' },
  { id: 63, name: 'C_SeedRandom', request: 'uay', reply: '' },
  { id: 64, name: 'C_GenerateRandom', request: 'ufy', reply: 'ay' },
];

/** Names of the 0.24.1 calls not served, by id (for logs and tests). */
const UNSERVED: Readonly<Record<number, string>> = {
  9: 'C_InitToken',
  14: 'C_InitPIN',
  15: 'C_SetPIN',
  16: 'C_GetOperationState',
  17: 'C_SetOperationState',
  20: 'C_CreateObject',
  21: 'C_CopyObject',
  22: 'C_DestroyObject',
  23: 'C_GetObjectSize',
  25: 'C_SetAttributeValue',
  29: 'C_EncryptInit',
  30: 'C_Encrypt',
  31: 'C_EncryptUpdate',
  32: 'C_EncryptFinal',
  35: 'C_DecryptUpdate',
  36: 'C_DecryptFinal',
  37: 'C_DigestInit',
  38: 'C_Digest',
  39: 'C_DigestUpdate',
  40: 'C_DigestKey',
  41: 'C_DigestFinal',
  46: 'C_SignRecoverInit',
  47: 'C_SignRecover',
  50: 'C_VerifyUpdate',
  51: 'C_VerifyFinal',
  52: 'C_VerifyRecoverInit',
  53: 'C_VerifyRecover',
  54: 'C_DigestEncryptUpdate',
  55: 'C_DecryptDigestUpdate',
  56: 'C_SignEncryptUpdate',
  57: 'C_DecryptVerifyUpdate',
  58: 'C_GenerateKey',
  59: 'C_GenerateKeyPair',
  60: 'C_WrapKey',
  61: 'C_UnwrapKey',
  62: 'C_DeriveKey',
  65: 'C_WaitForSlotEvent',
};

const BY_ID = new Map(SERVED.map((c) => [c.id, c]));

/** The served call with this id, or undefined (then: CKR_FUNCTION_NOT_SUPPORTED). */
export function servedCall(id: number): CallSpec | undefined {
  return BY_ID.get(id);
}

/** A call's name for logs: served, known-but-unserved, or `call <id>`. */
export function callName(id: number): string {
  return BY_ID.get(id)?.name ?? UNSERVED[id] ?? `call ${id}`;
}

/** Split a signature into its parts: `ay`, `fy`, `au`, `aA`, `fA`, `fu` are two characters, the rest one. */
export function signatureParts(signature: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < signature.length; i++) {
    const c = signature[i]!;
    if (c === 'a' || c === 'f') {
      parts.push(c + (signature[i + 1] ?? ''));
      i++;
    } else parts.push(c);
  }
  return parts;
}

export const SERVED_CALLS = SERVED;
