#ifndef CCRYPT_H
#define CCRYPT_H
#include <stddef.h>

/// crypt(3) through libxcrypt's reentrant crypt_rn: the hash of `phrase` for `setting` into `out`.
/// Returns 0 on success, -1 when the setting is unknown or invalid (libxcrypt returns NULL).
int tern_crypt(const char *phrase, const char *setting, char *out, size_t outlen);

/// crypt_gensalt_rn: a setting string for `prefix` ("$6$", "$2y$", ...) with `count` rounds (0: default)
/// from `nrbytes` random bytes. Returns 0 on success, -1 when the prefix or count is not supported.
int tern_crypt_gensalt(const char *prefix, unsigned long count, const char *rbytes, int nrbytes, char *out,
                       int outlen);

/// The encrypted password of a shadow(5) entry (getspnam_r). Returns 1 when found, 0 when there is no such
/// entry, -1 on an error (errno set; EACCES when not root).
int tern_getspnam(const char *name, char *hash, size_t hashlen);
#endif
