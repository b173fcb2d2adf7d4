/**
 * Fixed test keys (test-only, never used for anything else) and messages chosen
 * on the host with node:crypto so that their PKCS#1 v1.5 signatures under these
 * keys begin with one or two zero bytes: the case QEMU 7.2 (nettle) returns
 * short and truncated (see drivers/virtio-crypto/short-output.ts). Found by
 * signing "pkaccel leading zero <bits> <hash> <i>" for i = 0, 1, … with
 * node:crypto until the signature had exactly that many leading zero bytes; the
 * tests that use them check that it still does, so a changed key cannot quietly
 * take the case away. No imports: the guest and the host unit tests both read it.
 */

export interface LeadingZeroCase {
  readonly bits: 1024 | 2048;
  readonly hash: 'SHA-1' | 'SHA-256' | 'SHA-512';
  /** How many zero bytes the signature starts with. */
  readonly zeros: number;
  readonly message: string;
}

/** PKCS#8 PEM private keys by modulus length. */
export const LEADING_ZERO_KEYS: Readonly<Record<1024 | 2048, string>> = {
  1024: '-----BEGIN PRIVATE KEY-----\nMIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAOqyodK4j79hN2Nq\ngTWzxhHOXLSlneESzys9kE283j3uK6dWubOlaitiFVi+vuHAVX4KuScSeRip0nxG\nY6/hqeiyeQV/RVML1yS4OXqB4Wj1jsXRvluacqdSv/KpAN3EUxgpRZarqU8c+QUX\nIEc9+daqNW2vGgLJuA1Tjr/IThxHAgMBAAECgYEA3bg+Ck1Td7BG3EOsp2gbcYzr\npblkSlIzpxz064vGxOjxEphqvR1DDJMPqZQhzjGeUoGc4x2fiz473C2/VVQx5xUE\n1a27KDJsjMPOctWhHY6K9TFVJT7H0SRi+uwFYoTRDYhDXDidEqaJ6VcuZhMCH8yT\nwYBmMqckUrs3f+bsCRkCQQD8j+EGw0TXx7Mm+QohWPRXlW28dH27EjvI++j0nw1z\n/9UMLaDSJeF9YPq0GbY7HMozC8pHPqVB/OsiRT46B2QDAkEA7eSAE13Um1qKKf7p\nXsrfY2CL52HYqbkHpvDPAao9y4p7PzGrMxB9uu5dL74MdYi1BwHRzEKbmdZoTw6W\nnNwtbQJALTk6KvLWJektTCI1zSjXf8NTBfa5+MBYEjIBUaQVTZsWs/qLnHWJ/eBa\no9sixUzva9qFmuI9xyYZmGZbsRpXrwJBAIUL76llJ9v/Bhi4rXJLiiY9P+GXcqJx\njlsKgOvQd6EXgRh1webcSUU7vLhP1Q4C+CPEG77eXcHrDQlyAkAWT/0CQFNzJ9Yg\n1FSKA8E0Jop6f/HpatI8o2i9Weuk8uGEVjxpik8AkljBUKenPEz24UvstHHO5icd\ngMuAyIUzDa9fo8c=\n-----END PRIVATE KEY-----\n',
  2048: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCdIH1QkKqX7Dt+\ngaNoKK/yQfoL44mr7BrvqI+9K3nH/UU9A5Snx1uEk0ysysYegluRpYw1bsV4xy5c\nD3K/BOao8H6OcBFXm1mrt8TNcGiknPKfbnz0ty/LXEPFWkVYP4WZrRTxUIbdF+8g\nJzg2uj91bgvPJ82ANW9v5L3WgSA6cBngX8Ml5KJ30AjUJ1PHhgyX0MHvmqvoRBwj\nKEqis2W+AXy0z0ICpcbl+G2+U+MmYxUSgTtY3ZrCDBz/Knu9ADkgM6iaqeWOFmby\nD5YnuKqCBnyzD3MjW5mlUJiaM5wJ5gXRbsoeqH/SSAe1EDCboW6pWgSmAeW/FqBG\nVNJumbu7AgMBAAECggEAJ0iVLAxPKlZ8dV9x/DuX6aiHHGvR4rLP9TUeYrw44UA4\nDE4V33CfN+Ef3V+A8uXCgQJzsHQ2WMDrnUabeJiAFqKx8WihXVbQr3btdDNzZhx7\nKFMWWJRoFZ7GrtOn3K1c+JPmVYK9hQ9T0KUdj8k2zmQp/avE3BX/+2ij8bos1Y8H\nDsAbRrdUxusC1Q3QMu6/+pg+QdRd5TTjwreDTmVXayIamRZcw8NQa/T9Sio9vam9\nrn6GB1RGUB7rY/z3O2ovOqeSbtBOpHp9xfDSOa+EtfOK6n1+m4qKHljRLdnpk5yt\nlqv6JLqFWyW7i9ohJHUDmcmL/JMkyfzrsf8MJimjyQKBgQDKb+ugZnxLwb2EGOms\naJZNlWPRtsy8kA6vulOj26ncfAAuOZKS0yMMCvC+LsmYm7O79E2heetfOQQKTkEF\nz4/yRUO1v024DKXoVyY6gz3EhS9OnfOFlcEI3wSvavR/4JVkzq/HI0FF6Nne6rmH\nlIuEVivNJncNHwEDot6SVxwcjQKBgQDGs3puiu66o4On9m4lmfsHL+tW1uj4BceS\nQdAqwVcIyh0XH1ZHYKGlokbtlfQRQ/aGoIy+Yvb05I22jriRz3sUHF+4wrmaOJkY\n9sWLibRXgTAZOU24YkqnYmW6rUzGPI9POp/gNR+qsP6vweQW1wYKV3mPOa9qmUbh\nIrlKdnz7ZwKBgQCEegmwxmDBEuB6+fKxqR/zVbglHYOOQpfZ2A20RaQ7bcqQdYy+\nGP3ue5pgWy4CeKJ+dbn32ll1z1IdjGhw7Qw+d6V/4tlxgJVyHtYdpJVfbekvgZ5D\n5WSV8ZyXT18B8G7TsY7GuwOURHWPs/wGBefnipzPfESciZWYU5VkHy1+YQKBgB/N\n9pjfEBs7tQUbgsHuBao+11KND7kzY6BbfHB7hezYPRPIZk0CgJ08flHlIK3qzPj7\nlcubl5/XPX+tFInyRecQK5otQPwYdxjx1ujg38bp3MMM0w3iXcSxEUtyFcndQ6sQ\n3SpMFoeB0SJczJ+DR2o8Wi68swFDC39ZyYLLuHGdAoGACD1SFHIQRp0aOEiPzGnf\n7PYC0hKPEpTgz4GB1y2vPtOEJb2/Hz3Bb+K8/eKXL7LxOCHe/+I7AEug6sOCkc0A\np0T1UWYOgCa5CVKISy6USgr6PV1P4E0U7X0wZxC9GsEB4eN22bPyyDAuwzA3tYfo\nkhXW9t7FgXxg1PE0Tg3+Bno=\n-----END PRIVATE KEY-----\n',
};

export const LEADING_ZERO_CASES: readonly LeadingZeroCase[] = [
  { bits: 1024, hash: 'SHA-512', zeros: 1, message: 'pkaccel leading zero 1024 sha512 118' },
  { bits: 1024, hash: 'SHA-256', zeros: 1, message: 'pkaccel leading zero 1024 sha256 463' },
  { bits: 1024, hash: 'SHA-1', zeros: 1, message: 'pkaccel leading zero 1024 sha1 233' },
  { bits: 1024, hash: 'SHA-512', zeros: 2, message: 'pkaccel leading zero 1024 sha512 35513' },
  { bits: 2048, hash: 'SHA-512', zeros: 1, message: 'pkaccel leading zero 2048 sha512 99' },
  { bits: 2048, hash: 'SHA-256', zeros: 1, message: 'pkaccel leading zero 2048 sha256 406' },
];
